// Snapshot: one session as JSON (schema_version 1). The top level holds the session counters of the
// record calls (audio, response latency, response turns, tokens: their field names are published and
// kept); the turn collector, usage and cost sections sit beside them (docs/architecture.md, glossary).
// Units are in the field names; a value that does not exist yet is null.

enum Snapshot {
    static let schemaVersion = 1

    /// Render a live slot (process lock held, so its meta is stable). `usageRows`: at most that many
    /// rows of usage_by_model (session.end, to fit an event).
    static func render(_ slot: SessionSlot, nowNs: UInt64, usageRows: Int = .max) -> TextOutput {
        var out = TextOutput(reserving: 2048)
        let meta = slot.meta
        out.append("{")
        out.appendJSONKey("schema_version", first: true)
        out.append(UInt64(schemaVersion))
        out.appendJSONKey("session_id")
        out.appendJSONString(meta.sessionID)
        out.appendJSONKey("labels")
        out.appendJSONLabels(meta.labels)
        let response = slot.response.read(), turn = slot.turnDuration.read()
        recordCallCounters(&out, slot, response: response, turn: turn,
                           uptime: nowNs >= meta.startNs ? Double(nowNs - meta.startNs) / 1e9 : nil)
        laterCounters(&out, slot, response: response, turn: turn)
        tokenTotals(&out, slot)
        out.appendJSONKey("out_of_order_events")
        out.append(slot.outOfOrder.value())
        out.appendJSONKey("turns")
        TurnJSON.snapshotSection(&out, slot)   // Turns/TurnJSON.swift
        CostJSON.session(&out, slot, nowNs: nowNs, maxRows: usageRows)   // Cost/CostJSON.swift
        anchor(&out, meta)
        out.append("}")
        return out
    }

    /// The record calls' counters under their published names: audio, response latency, response
    /// turns, the latest usage report.
    private static func recordCallCounters(_ out: inout TextOutput, _ slot: SessionSlot, response: LatencySummary,
                                           turn: LatencySummary, uptime: Double?) {
        let bytes = slot.audioBytes.value()
        out.appendJSONKey("uptime_secs")
        out.appendJSONNumber(uptime)
        out.appendJSONKey("audio_chunks_out")
        out.append(slot.audioChunks.value())
        out.appendJSONKey("audio_bytes_out")
        out.append(bytes)
        out.appendJSONKey("audio_throughput_kbps")
        out.appendJSONNumber(uptime.flatMap { $0 > 0 ? Double(bytes) * 8 / 1000 / $0 : nil })
        out.appendJSONKey("interruptions")
        out.append(slot.interruptions.value())
        out.appendJSONKey("last_response_latency_ms")
        out.appendJSONNumber(ms(response.count > 0 ? response.last : nil))
        out.appendJSONKey("avg_response_latency_ms")
        out.appendJSONNumber(ms(response.average))
        out.appendJSONKey("min_response_latency_ms")
        out.appendJSONNumber(ms(response.count > 0 ? response.min : nil))
        out.appendJSONKey("max_response_latency_ms")
        out.appendJSONNumber(ms(response.count > 0 ? response.max : nil))
        out.appendJSONKey("response_count")
        out.append(response.count)
        out.appendJSONKey("avg_turn_duration_ms")
        out.appendJSONNumber(ms(turn.average))
        let tokenKeys: [(UsageField, StaticString)] = [
            (.total, "total_token_count"), (.prompt, "prompt_token_count"), (.response, "response_token_count"),
            (.cached, "cached_content_token_count"), (.thoughts, "thoughts_token_count"),
        ]
        for (field, key) in tokenKeys {
            out.appendJSONKey(key)
            let latest = slot.usageLatest[field.rawValue].load(ordering: .relaxed)
            out.appendJSONNumber(latest >= 0 ? Double(latest) : nil)
        }
    }

    /// The counters added in schema 1: latency summaries, response turns, VAD, text and usage counts.
    private static func laterCounters(_ out: inout TextOutput, _ slot: SessionSlot, response: LatencySummary,
                                      turn: LatencySummary) {
        out.appendJSONKey("response_latency_ms")
        latencyObject(&out, response)
        out.appendJSONKey("text_response_latency_ms")
        latencyObject(&out, slot.textResponse.read())
        out.appendJSONKey("turn_duration_ms")
        latencyObject(&out, turn)
        out.appendJSONKey("turns_completed")
        out.append(slot.turns.value())
        out.appendJSONKey("turn_open")
        out.append(slot.openTurnNs.load(ordering: .relaxed) != 0 ? "true" : "false")
        out.appendJSONKey("vad_starts")
        out.append(slot.vadStarts.value())
        out.appendJSONKey("vad_ends")
        out.append(slot.vadEnds.value())
        out.appendJSONKey("text_sends")
        out.append(slot.textSends.value())
        out.appendJSONKey("usage_reports")
        out.append(slot.usageReports.value())
    }

    /// `token_totals` (running totals of the usage reports) and whether one stopped at Int64.max.
    private static func tokenTotals(_ out: inout TextOutput, _ slot: SessionSlot) {
        out.appendJSONKey("token_totals")
        out.append("{")
        let totalKeys: [(UsageField, StaticString)] = [
            (.total, "total"), (.prompt, "prompt"), (.response, "response"), (.cached, "cached_content"),
            (.thoughts, "thoughts"),
        ]
        var saturated = false
        for (i, (field, key)) in totalKeys.enumerated() {
            let total = slot.usageTotals[field.rawValue].load(ordering: .relaxed)
            saturated = saturated || total == .max
            out.appendJSONKey(key, first: i == 0)
            out.append(String(total))
        }
        out.append("}")
        out.appendJSONKey("token_totals_saturated")
        out.append(saturated ? "true" : "false")
    }

    /// The session's anchors, `"start_ns":…,"start_unix_ns":…,"trace_id":"…"` after a comma: in the
    /// snapshot and in session.start.
    static func anchor(_ out: inout TextOutput, _ meta: SessionMeta) {
        out.appendJSONKey("start_ns")
        out.append(meta.startNs)
        out.appendJSONKey("start_unix_ns")
        out.append(meta.startUnixNs)
        out.appendJSONKey("trace_id")
        out.appendJSONString(meta.traceID)
    }

    private static func ms(_ ns: Double?) -> Double? { ns.map { $0 / 1e6 } }

    private static func latencyObject(_ out: inout TextOutput, _ s: LatencySummary) {
        let has = s.count > 0
        out.append("{")
        out.appendJSONKey("count", first: true)
        out.append(s.count)
        out.appendJSONKey("sum")
        out.appendJSONNumber(has ? s.sum / 1e6 : 0)
        out.appendJSONKey("min")
        out.appendJSONNumber(has ? s.min / 1e6 : nil)
        out.appendJSONKey("max")
        out.appendJSONNumber(has ? s.max / 1e6 : nil)
        out.appendJSONKey("last")
        out.appendJSONNumber(has ? s.last / 1e6 : nil)
        out.appendJSONKey("avg")
        out.appendJSONNumber(ms(s.average))
        let keys: [StaticString] = ["p50", "p90", "p95", "p99"]
        for (i, key) in keys.enumerated() {
            out.appendJSONKey(key)
            out.appendJSONNumber(has && i < s.quantiles.count ? s.quantiles[i].map { $0 / 1e6 } : nil)
        }
        out.append("}")
    }
}
