// PluginMetrics: the plugins' self-metrics in Prometheus text, rendered from their counters at scrape
// time (appended after the registry's families; names are the library's own, so they cannot clash).
import CVoiceTelemetry

enum PluginMetrics {
    private struct Row {
        let name: String
        let stats: vt_plugin_statistics
    }

    static func render(into out: inout PromWriter, format: ExpositionFormat) {
        var rows: [Row] = []
        for slot in EventBus.shared.slots {
            if let row = slot.withLoaded({ Row(name: $0.name, stats: PluginStatsReader.read($0)) }) { rows.append(row) }
        }
        guard !rows.isEmpty else { return }
        rows.sort { $0.name < $1.name }
        family(&out, format, "voicetelemetry_plugin_events_emitted_total", "Events offered to a sink plugin.", .counter, rows) { $0.emitted }
        family(&out, format, "voicetelemetry_plugin_events_delivered_total", "Events a sink plugin accepted.", .counter, rows) { $0.delivered }
        PromText.header(&out, name: "voicetelemetry_plugin_events_dropped_total",
                        help: "Events of a sink plugin dropped, by reason.", type: .counter, format: format)
        for row in rows {
            for (reason, value) in reasons {
                out.append("voicetelemetry_plugin_events_dropped_total{plugin=\"")
                out.appendPromLabelValue(row.name)
                out.append("\",reason=\"")
                out.append(reason)
                out.append("\"} ")
                out.append(value(row.stats))
                out.append("\n")
            }
        }
        family(&out, format, "voicetelemetry_plugin_retries_total", "RETRY answers of a sink plugin.", .counter, rows) { $0.retries }
        family(&out, format, "voicetelemetry_plugin_queue_depth", "Events waiting for a sink plugin (queue and batch in flight).",
               .gauge, rows) { $0.queued }
        family(&out, format, "voicetelemetry_plugin_disabled", "1 if the sink plugin was disabled by a FATAL answer.", .gauge,
               rows) { UInt64($0.disabled) }
    }

    private static let reasons: [(StaticString, @Sendable (vt_plugin_statistics) -> UInt64)] = [
        ("disabled", { $0.dropped_disabled }), ("plugin", { $0.dropped_plugin }),
        ("queue_full", { $0.dropped_queue_full }), ("rate_limited", { $0.dropped_rate_limited }),
        ("too_large", { $0.dropped_too_large }),
    ]

    private static func family(_ out: inout PromWriter, _ format: ExpositionFormat, _ name: String, _ help: String,
                               _ type: ExpositionType, _ rows: [Row], _ value: (vt_plugin_statistics) -> UInt64) {
        PromText.header(&out, name: name, help: help, type: type, format: format)
        for row in rows {
            out.append(name)
            out.append("{plugin=\"")
            out.appendPromLabelValue(row.name)
            out.append("\"} ")
            out.append(value(row.stats))
            out.append("\n")
        }
    }
}
