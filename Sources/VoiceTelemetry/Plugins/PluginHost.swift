// PluginHost: the vt_host_api table handed to plugins. Every entry is a non-capturing @convention(c)
// function; the host context is the Plugin (unretained: it outlives the plugin's shutdown).
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

enum PluginHost {
    static let maxLogBytes = 4096

    static func table() -> vt_host_api {
        var t = vt_host_api()
        t.struct_size = UInt32(MemoryLayout<vt_host_api>.size)
        t.abi_major = UInt32(VT_PLUGIN_ABI_MAJOR)
        t.abi_minor = UInt32(VT_PLUGIN_ABI_MINOR)
        t.log = { context, level, message in
            guard let plugin = PluginHost.plugin(context), let message else { return }
            let n = strnlen(message, PluginHost.maxLogBytes)
            let text = message.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            }
            plugin.log(level: level, text)
        }
        t.now_ns = { _ in Clock.nowNs() }
        t.count_drop = { context, n in
            PluginHost.plugin(context)?.counters.pluginReportedDrops.wrappingAdd(n, ordering: .relaxed)
        }
        t.prom_text = { _, buf, cap, len in vt_prom_text(buf, cap, len) }
        t.snapshot_json = { _, session, buf, cap, len in vt_snapshot_json(session, buf, cap, len) }
        t.prom_text_as = { _, format, buf, cap, len in vt_prom_text_as(format, buf, cap, len) }
        t.sessions_json = { _, buf, cap, len in vt_sessions_json(buf, cap, len) }
        t.session_find = { _, id, out in vt_session_find(id, out) }
        t.turn_history_json = { _, session, max, buf, cap, len in vt_turn_history_json(session, max, buf, cap, len) }
        return t
    }

    static func plugin(_ context: UnsafeMutableRawPointer?) -> Plugin? {
        guard let context else { return nil }
        return Unmanaged<Plugin>.fromOpaque(context).takeUnretainedValue()
    }
}
