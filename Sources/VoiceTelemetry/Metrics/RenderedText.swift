// RenderedText: the parts of the exposition that never change once a family or a series exists --
// HELP/TYPE/UNIT lines, sample names with their label sets, the `le` and `quantile` label texts --
// rendered once (at the first scrape that needs them) so that a scrape only copies bytes and writes
// numbers. Made under the process lock, like everything a scrape reads.

/// Bytes inside a FamilyText's or SeriesText's block (valid while that object lives): copying them
/// costs no reference counting.
struct ByteRun: @unchecked Sendable {
    let start: UnsafePointer<UInt8>
    let count: Int
}

/// One block holding several byte strings, each handed out as a ByteRun; it never moves or changes.
struct ByteBlock: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let runs: [ByteRun]

    init(_ parts: [[UInt8]]) {
        base = .allocate(capacity: max(parts.reduce(0) { $0 + $1.count }, 1))
        var at = 0
        var runs: [ByteRun] = []
        for part in parts {
            (base + at).initialize(from: part, count: part.count)
            runs.append(ByteRun(start: UnsafePointer(base + at), count: part.count))
            at += part.count
        }
        self.runs = runs
    }
}

/// A family's lines in both formats, and a histogram's bucket bound texts.
final class FamilyText {
    /// HELP, TYPE (and UNIT) lines, by ExpositionFormat raw value.
    let header: (ByteRun, ByteRun)
    /// The same for a latency family's <name>_quantiles summary.
    let quantileHeader: (ByteRun, ByteRun)
    /// `le` values of a histogram family's buckets ("+Inf" last).
    let bounds: [ByteRun]
    private let block: ByteBlock

    init(_ family: MetricFamily) {
        let type: ExpositionType = family.kind == .counter ? .counter : family.kind == .gauge ? .gauge : .histogram
        var parts = Self.headers(family.name, family.help, type)
        if family.kind == .histogram {
            parts += Self.headers(family.name + "_quantiles",
                                  family.help + " Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.", .summary)
            parts += family.bounds.map { Array(TextOutput.promNumber($0).utf8) } + [Array("+Inf".utf8)]
        }
        block = ByteBlock(parts)
        let runs = block.runs
        header = (runs[0], runs[1])
        quantileHeader = runs.count > 2 ? (runs[2], runs[3]) : (runs[0], runs[1])
        bounds = runs.count > 4 ? Array(runs[4...]) : []
    }

    deinit { block.base.deallocate() }

    func header(_ format: ExpositionFormat) -> ByteRun { format == .prometheus ? header.0 : header.1 }
    func quantileHeader(_ format: ExpositionFormat) -> ByteRun {
        format == .prometheus ? quantileHeader.0 : quantileHeader.1
    }

    private static func headers(_ name: String, _ help: String, _ type: ExpositionType) -> [[UInt8]] {
        [ExpositionFormat.prometheus, .openMetrics].map { format in
            var text = TextOutput(reserving: 160)
            PromText.header(&text, name: name, help: help, type: type, format: format)
            return text.bytes
        }
    }
}

/// A series' sample names with its labels: `name{labels} ` and, for a latency series, the pieces
/// around the `le` and `quantile` values, in the order Series.render(_:extra:) puts labels.
final class SeriesText {
    /// Counter, gauge: `name{labels} `. Histogram: `name_sum{labels} `.
    let sample: ByteRun
    let count: ByteRun            // `name_count{labels} `
    let bucketHead: ByteRun       // `name_bucket{<labels before le>,le="`
    let bucketTail: ByteRun       // `",<labels after le>} `
    let quantileHead: ByteRun     // `name_quantiles{<labels before quantile>,quantile="`
    let quantileTail: ByteRun
    let quantileSum: ByteRun      // `name_quantiles_sum{labels} `
    let quantileCount: ByteRun
    private let block: ByteBlock

    init(_ series: Series, family: MetricFamily) {
        let name = family.name
        let labels = series.renderedLabels
        if family.kind == .histogram {
            let bucket = Self.around(name + "_bucket", series.labels, extra: "le")
            let quantile = Self.around(name + "_quantiles", series.labels, extra: "quantile")
            block = ByteBlock([Self.line(name + "_sum", labels), Self.line(name + "_count", labels), bucket.0, bucket.1,
                               quantile.0, quantile.1, Self.line(name + "_quantiles_sum", labels),
                               Self.line(name + "_quantiles_count", labels)])
        } else {
            block = ByteBlock(Array(repeating: Self.line(name, labels), count: 1) + Array(repeating: [], count: 7))
        }
        let r = block.runs
        (sample, count, bucketHead, bucketTail, quantileHead, quantileTail, quantileSum, quantileCount) =
            (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
    }

    deinit { block.base.deallocate() }

    private static func line(_ name: String, _ labels: String) -> [UInt8] {
        Array((labels.isEmpty ? name + " " : name + "{" + labels + "} ").utf8)
    }

    /// The text before and after the value of label `extra`, placed where Series.render places it:
    /// before the first label whose key sorts after it.
    private static func around(_ name: String, _ labels: [Label], extra: String) -> ([UInt8], [UInt8]) {
        let split = labels.firstIndex { extra < $0.key } ?? labels.count
        let before = Series.render(Array(labels[..<split]))
        let after = Series.render(Array(labels[split...]))
        let head = name + "{" + before + (before.isEmpty ? "" : ",") + extra + "=\""
        let tail = "\"" + (after.isEmpty ? "" : "," + after) + "} "
        return (Array(head.utf8), Array(tail.utf8))
    }
}
