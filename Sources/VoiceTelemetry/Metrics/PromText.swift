// PromText: the registry in Prometheus text exposition format 0.0.4. Families sorted by name, one HELP
// and TYPE each; series sorted by their labels; label keys sorted (le and quantile included).
// A latency family is written as a histogram and then as a summary named <name>_quantiles.

enum PromText {
    static let quantileLabels = ["0.5", "0.9", "0.95", "0.99"]

    static func render(_ registry: Registry) -> TextOutput {
        var out = TextOutput(reserving: 16 * 1024)
        for family in registry.families.values.sorted(by: { $0.name < $1.name }) {
            let series = family.series.sorted { $0.renderedLabels < $1.renderedLabels }
            header(&out, name: family.name, help: family.help, type: family.kind.typeName)
            switch family.kind {
            case .counter, .gauge:
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
                histogram(&out, family, series)
                header(&out, name: family.name + "_quantiles",
                       help: family.help + " Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.",
                       type: "summary")
                summary(&out, family, series)
            }
        }
        return out
    }

    private static func header(_ out: inout TextOutput, name: String, help: String, type: StaticString) {
        out.append("# HELP ")
        out.append(name)
        out.append(" ")
        out.appendPromHelp(help)
        out.append("\n# TYPE ")
        out.append(name)
        out.append(" ")
        out.append(type)
        out.append("\n")
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

    private static func histogram(_ out: inout TextOutput, _ family: MetricFamily, _ series: [Series]) {
        for s in series {
            guard let h = s.histogram else { continue }
            let cumulative = h.cumulativeCounts()
            for (i, bound) in h.bounds.enumerated() {
                let le = Label(key: "le", value: TextOutput.promNumber(bound))
                sample(&out, family.name + "_bucket", Series.render(s.labels, extra: le))
                out.append(cumulative[i])
                out.append("\n")
            }
            let total = cumulative[h.bounds.count]
            sample(&out, family.name + "_bucket", Series.render(s.labels, extra: Label(key: "le", value: "+Inf")))
            out.append(total)
            out.append("\n")
            sample(&out, family.name + "_sum", s.renderedLabels)
            out.appendPromValue(h.sum)
            out.append("\n")
            sample(&out, family.name + "_count", s.renderedLabels)
            out.append(total)
            out.append("\n")
        }
    }

    private static func summary(_ out: inout TextOutput, _ family: MetricFamily, _ series: [Series]) {
        let name = family.name + "_quantiles"
        for s in series {
            guard let h = s.histogram else { continue }
            for (level, text) in zip(LatencySummary.quantileLevels, quantileLabels) {
                sample(&out, name, Series.render(s.labels, extra: Label(key: "quantile", value: text)))
                out.appendPromValue(h.quantile(level) ?? .nan)
                out.append("\n")
            }
            let cumulative = h.cumulativeCounts()
            sample(&out, name + "_sum", s.renderedLabels)
            out.appendPromValue(h.sum)
            out.append("\n")
            sample(&out, name + "_count", s.renderedLabels)
            out.append(cumulative[h.bounds.count])
            out.append("\n")
        }
    }
}
