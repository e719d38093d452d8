// PluginHost: the vt_host_api table handed to plugins (its read entries come from ABI/PluginABI.swift). Every entry is a non-capturing @convention(c)
// function; the host context is the Plugin (unretained: it outlives the plugin's shutdown).
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

enum PluginHost {
    static let maxLogBytes = 4096

    /// The table for one plugin: `readers`' read entries (prom_text, snapshot_json, prom_text_as,
    /// sessions_json, session_find, turn_history_json: the host's C functions, which the ABI layer
    /// gives), and this layer's log, clock and drop count.
    static func table(readers: vt_host_api) -> vt_host_api {
        var t = readers
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
        return t
    }

    static func plugin(_ context: UnsafeMutableRawPointer?) -> Plugin? {
        guard let context else { return nil }
        return Unmanaged<Plugin>.fromOpaque(context).takeUnretainedValue()
    }
}

/// What a plugin needs of the layers above Plugins, given at load by ABI/PluginABI.swift.
struct HostServices {
    /// The host table's read entries (the host's C functions).
    let readers: vt_host_api
    /// Renders the completed turns waiting in the event bus into turn.complete events (under the
    /// process lock); the plugin's thread calls it before it takes each batch.
    let drainTurnEvents: @Sendable () -> Void
}
