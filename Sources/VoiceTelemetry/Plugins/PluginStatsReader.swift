// PluginStatsReader: one plugin's counters as a vt_plugin_statistics (read one by one, relaxed).
import CVoiceTelemetry

enum PluginStatsReader {
    static func read(_ plugin: Plugin) -> vt_plugin_statistics {
        var s = vt_plugin_statistics()
        let c = plugin.counters
        s.struct_size = UInt32(MemoryLayout<vt_plugin_statistics>.size)
        s.disabled = plugin.disabled.load(ordering: .relaxed) ? 1 : 0
        s.id = plugin.id
        copy(plugin.name, into: &s.name)
        copy(plugin.version, into: &s.version)
        let t = c.totals()
        s.emitted = t.emitted
        s.delivered = t.delivered
        s.dropped_queue_full = t.queueFull
        s.dropped_rate_limited = t.rateLimited
        s.dropped_too_large = t.tooLarge
        s.dropped_plugin = t.plugin
        s.dropped_disabled = t.disabled
        s.queued = t.queued
        s.retries = c.retries.load(ordering: .relaxed)
        s.batches = c.batches.load(ordering: .relaxed)
        s.health_events = c.healthEvents.load(ordering: .relaxed)
        s.plugin_reported_drops = c.pluginReportedDrops.load(ordering: .relaxed)
        s.queue_capacity = UInt32(plugin.ring.capacity)
        copy(plugin.lastError, into: &s.last_error)
        return s
    }

    /// Copy UTF-8 text into a fixed C char array, NUL-terminated, cut on a character boundary.
    static func copy<T>(_ text: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { raw in
            guard raw.count > 0 else { return }
            let utf8 = UTF8Check.prefix(text, maxBytes: raw.count - 1)
            for (i, b) in utf8.enumerated() { raw[i] = b }
            raw[utf8.count] = 0
        }
    }
}
