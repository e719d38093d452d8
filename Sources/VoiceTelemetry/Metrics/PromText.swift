// PromText: the registry as exposition text, in Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
// Families sorted by name, one HELP and TYPE each; series sorted by their labels; label keys sorted
// (le and quantile included). A latency family is written as a histogram and then as a summary named
// <name>_quantiles. OpenMetrics differs only in: counter families named without `_total` (their
// samples keep it), `# UNIT` for *_seconds and *_bytes families, HELP escaping of `"`, exemplars on
// the turn histograms' buckets, and the closing `# EOF` (written by ProcessState after every part).
//
// A scrape copies pre-rendered bytes (RenderedText) and writes numbers in place (PromWriter): no
// allocation per family, series or bucket once the families and series have been scraped before.

enum ExpositionFormat: UInt32 {
    case prometheus = 0, openMetrics = 1
}

enum ExpositionType: String {
    case counter, gauge, histogram, summary
}

enum PromText {
    static let quantileLabels = ["0.5", "0.9", "0.95", "0.99"]
    private static let quantileTexts = ByteBlock(quantileLabels.map { Array($0.utf8) })   // never freed

    /// Every family of the registry, in `format` (process lock held).
    static func render(_ registry: Registry, format: ExpositionFormat, into out: inout PromWriter) {
        for family in registry.sortedFamilies() {
            let text = family.renderedText()
            out.append(text.header(format))
            let series = family.sortedSeries()
            switch family.kind {
            case .counter, .gauge:
                values(&out, family, series)
            case .histogram:
                histograms(&out, family, series, bounds: text.bounds, exemplars: format == .openMetrics)
                out.append(text.quantileHeader(format))
                summaries(&out, family, series)
            }
        }
    }

    /// HELP and TYPE (and in OpenMetrics UNIT) of a family. Allocates nothing (PluginMetrics writes
    /// its headers at every scrape).
    static func header<Sink: PromSink>(_ out: inout Sink, name: String, help: String, type: ExpositionType,
                                       format: ExpositionFormat) {
        let strip = format == .openMetrics && type == .counter && name.hasSuffix("_total")
        let length = name.utf8.count - (strip ? 6 : 0)   // the family's name in this format
        out.append("# HELP ")
        out.append(name, utf8Prefix: length)
        out.append(" ")
        if format == .openMetrics { out.appendPromLabelValue(help) } else { out.appendPromHelp(help) }
        out.append("\n# TYPE ")
        out.append(name, utf8Prefix: length)
        out.append(" ")
        out.append(type.rawValue)
        out.append("\n")
        if format == .openMetrics, let unit = unit(name, length) {
            out.append("# UNIT ")
            out.append(name, utf8Prefix: length)
            out.append(" ")
            out.append(unit)
            out.append("\n")
        }
    }

    /// "seconds" or "bytes" when the first `length` bytes of `name` end in _seconds or _bytes.
    private static func unit(_ name: String, _ length: Int) -> StaticString? {
        let family = name.utf8.prefix(length)
        if family.count >= 8, family.suffix(8).elementsEqual("_seconds".utf8) { return "seconds" }
        if family.count >= 6, family.suffix(6).elementsEqual("_bytes".utf8) { return "bytes" }
        return nil
    }

    private static func values(_ out: inout PromWriter, _ family: MetricFamily, _ series: [Series]) {
        for s in series {
            out.append(s.renderedText(family).sample)
            if let measure = family.measure {
                let live = s.liveScratch
                out.append(measure == .sessionsActive ? live : s.retired &+ live)
            } else {
                out.appendPromValue(s.value)
            }
            out.appendByte(UInt8(ascii: "\n"))
        }
    }

    private static func histograms(_ out: inout PromWriter, _ family: MetricFamily, _ series: [Series],
                                   bounds: [ByteRun], exemplars: Bool) {
        for s in series {
            guard let h = s.histogram else { continue }
            let text = s.renderedText(family)
            let slots = exemplars ? h.exemplars : nil
            var cumulative: UInt64 = 0
            for i in 0..<bounds.count {
                cumulative &+= h.bucketCount(i)
                out.append(text.bucketHead)
                out.append(bounds[i])
                out.append(text.bucketTail)
                out.append(cumulative)
                if let slots { ExemplarText.write(&out, slots, bucket: i) }
                out.appendByte(UInt8(ascii: "\n"))
            }
            out.append(text.sample)
            out.appendPromValue(h.sum)
            out.appendByte(UInt8(ascii: "\n"))
            out.append(text.count)
            out.append(cumulative)
            out.appendByte(UInt8(ascii: "\n"))
        }
    }

    private static func summaries(_ out: inout PromWriter, _ family: MetricFamily, _ series: [Series]) {
        var values: (Double, Double, Double, Double) = (0, 0, 0, 0)
        let quantileTexts = Self.quantileTexts.runs
        for s in series {
            guard let h = s.histogram else { continue }
            let text = s.renderedText(family)
            withUnsafeMutableBytes(of: &values) { raw in
                let q = raw.baseAddress!.assumingMemoryBound(to: Double.self)
                h.quantiles(into: q)
                for i in 0..<4 {
                    out.append(text.quantileHead)
                    out.append(quantileTexts[i])
                    out.append(text.quantileTail)
                    out.appendPromValue(q[i])
                    out.appendByte(UInt8(ascii: "\n"))
                }
            }
            var total: UInt64 = 0
            for i in 0...h.bounds.count { total &+= h.bucketCount(i) }
            out.append(text.quantileSum)
            out.appendPromValue(h.sum)
            out.appendByte(UInt8(ascii: "\n"))
            out.append(text.quantileCount)
            out.append(total)
            out.appendByte(UInt8(ascii: "\n"))
        }
    }
}
