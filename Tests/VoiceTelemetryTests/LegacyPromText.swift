// LegacyPromText: the exposition renderer as it was before the zero-allocation rewrite (Sources at
// 3204739, moved here unchanged apart from names), kept only to prove the new one writes the same
// bytes (PromTextDifferentialTests). Not part of the library.
@testable import VoiceTelemetry

extension LatencyHistogram {
    /// Cumulative counts per bound, then the +Inf count (which is the series' _count).
    func legacyCumulativeCounts() -> [UInt64] {
        var running: UInt64 = 0
        var result: [UInt64] = []
        for i in 0...bounds.count {
            running &+= bucketCount(i)
            result.append(running)
        }
        return result
    }

    /// Quantile in the family's unit, or nil while empty.
    func legacyQuantile(_ q: Double) -> Double? {
        let lo = minimum
        let hi = maximum
        let estimate = Self.layout.quantile(q, counts: { fineCount($0) }, minimum: lo * 1e9, maximum: hi * 1e9)
        return estimate.map { Swift.min(Swift.max($0 / 1e9, lo), hi) }
    }
}

enum LegacyPromText {
    static let quantileLabels = ["0.5", "0.9", "0.95", "0.99"]

    static func render(_ registry: Registry, format: ExpositionFormat) -> TextOutput {
        var out = TextOutput(reserving: 16 * 1024)
        for family in registry.families.values.sorted(by: { $0.name < $1.name }) {
            let series = family.series.sorted { $0.renderedLabels < $1.renderedLabels }
            switch family.kind {
            case .counter, .gauge:
                header(&out, name: family.name, help: family.help, type: family.kind == .counter ? .counter : .gauge,
                       format: format)
                for s in series {
                    sample(&out, family.name, s.renderedLabels)
                    if let measure = family.measure {
                        let live = s.liveScratch
                        out.append(measure == .sessionsActive ? live : s.retired &+ live)
                    } else {
                        out.appendPromValue(s.value)
                    }
                    out.append("\n")
                }
            case .histogram:
                header(&out, name: family.name, help: family.help, type: .histogram, format: format)
                histogram(&out, family, series, exemplars: format == .openMetrics)
                header(&out, name: family.name + "_quantiles",
                       help: family.help + " Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.",
                       type: .summary, format: format)
                summary(&out, family, series)
            }
        }
        return out
    }

    /// HELP and TYPE (and in OpenMetrics UNIT) of a family.
    static func header(_ out: inout TextOutput, name: String, help: String, type: ExpositionType,
                       format: ExpositionFormat) {
        var family = name
        if format == .openMetrics && type == .counter && family.hasSuffix("_total") { family.removeLast(6) }
        out.append("# HELP ")
        out.append(family)
        out.append(" ")
        if format == .openMetrics { out.appendPromLabelValue(help) } else { out.appendPromHelp(help) }
        out.append("\n# TYPE ")
        out.append(family)
        out.append(" ")
        out.append(type.rawValue)
        out.append("\n")
        if format == .openMetrics, let unit = ["seconds", "bytes"].first(where: { family.hasSuffix("_" + $0) }) {
            out.append("# UNIT ")
            out.append(family)
            out.append(" ")
            out.append(unit)
            out.append("\n")
        }
    }

    private static func sample(_ out: inout TextOutput, _ name: String, _ labels: String) {
        out.append(name)
        if !labels.isEmpty {
            out.append("{")
            out.append(labels)
            out.append("}")
        }
        out.append(" ")
    }

    private static func histogram(_ out: inout TextOutput, _ family: MetricFamily, _ series: [Series], exemplars: Bool) {
        for s in series {
            guard let h = s.histogram else { continue }
            let cumulative = h.legacyCumulativeCounts()
            let slots = exemplars ? h.exemplars : nil
            for i in 0...h.bounds.count {
                let le = Label(key: "le", value: i < h.bounds.count ? TextOutput.promNumber(h.bounds[i]) : "+Inf")
                sample(&out, family.name + "_bucket", Series.render(s.labels, extra: le))
                out.append(cumulative[i])
                if let e = slots?.read(bucket: i) { exemplar(&out, e) }
                out.append("\n")
            }
            let total = cumulative[h.bounds.count]
            sample(&out, family.name + "_sum", s.renderedLabels)
            out.appendPromValue(h.sum)
            out.append("\n")
            sample(&out, family.name + "_count", s.renderedLabels)
            out.append(total)
            out.append("\n")
        }
    }

    /// ` # {session_id="…",turn_id="N",trace_id="…"} value timestamp`. The labels may hold 128
    /// characters in all: a session id that does not fit is left out.
    private static func exemplar(_ out: inout TextOutput, _ e: Exemplar) {
        let id = String(decoding: e.sessionID, as: UTF8.self)
        let turn = String(e.turnID)
        let trace = hex16(e.traceHi) + hex16(e.traceLo)
        let fixed = "turn_id".count + turn.count + "trace_id".count + trace.count
        out.append(" # {")
        if fixed + "session_id".count + id.unicodeScalars.count <= 128 {
            out.append("session_id=\"")
            out.appendPromLabelValue(id)
            out.append("\",")
        }
        out.append("turn_id=\"")
        out.append(turn)
        out.append("\",trace_id=\"")
        out.append(trace)
        out.append("\"} ")
        out.appendPromValue(e.value)
        out.append(" ")
        out.append(e.unixNs / 1_000_000_000)
        out.append(".")
        let millis = String(e.unixNs / 1_000_000 % 1000)
        out.append(String(repeating: "0", count: 3 - millis.count) + millis)
    }

    private static func hex16(_ word: UInt64) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func summary(_ out: inout TextOutput, _ family: MetricFamily, _ series: [Series]) {
        let name = family.name + "_quantiles"
        for s in series {
            guard let h = s.histogram else { continue }
            for (level, text) in zip(LatencySummary.quantileLevels, quantileLabels) {
                sample(&out, name, Series.render(s.labels, extra: Label(key: "quantile", value: text)))
                out.appendPromValue(h.legacyQuantile(level) ?? .nan)
                out.append("\n")
            }
            let cumulative = h.legacyCumulativeCounts()
            sample(&out, name + "_sum", s.renderedLabels)
            out.appendPromValue(h.sum)
            out.append("\n")
            sample(&out, name + "_count", s.renderedLabels)
            out.append(cumulative[h.bounds.count])
            out.append("\n")
        }
    }
}
