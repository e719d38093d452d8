// C entry points: loading, unloading, listing, inspecting and flushing sink plugins.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// What a plugin receives of the layers above Plugins: the host table's read entries (these entry
/// points themselves) and the rendering of completed turns into events.
private func hostServices() -> HostServices {
    var t = vt_host_api()
    t.prom_text = { _, buf, cap, len in vt_prom_text(buf, cap, len) }
    t.snapshot_json = { _, session, buf, cap, len in vt_snapshot_json(session, buf, cap, len) }
    t.prom_text_as = { _, format, buf, cap, len in vt_prom_text_as(format, buf, cap, len) }
    t.sessions_json = { _, buf, cap, len in vt_sessions_json(buf, cap, len) }
    t.session_find = { _, id, out in vt_session_find(id, out) }
    t.turn_history_json = { _, session, max, buf, cap, len in vt_turn_history_json(session, max, buf, cap, len) }
    return HostServices(readers: t, drainTurnEvents: { ProcessState.shared.drainTurnEvents() })
}

@c @implementation
public func vt_load_plugin(_ path: UnsafePointer<CChar>?, _ config_json: UnsafePointer<CChar>?,
                           _ id_out: UnsafeMutablePointer<vt_plugin_id>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let id_out else { throw .invalid("id_out is NULL") }
        let file = try Inputs.string(path, what: "path", maxBytes: PluginLoader.maxPathBytes)
        guard !file.isEmpty else { throw .invalid("path is empty") }
        id_out.pointee = try PluginRegistry.shared.load(path: file, config: config_json, host: hostServices())
    }
}

@c @implementation
public func vt_load_plugin_table(_ table: UnsafePointer<vt_plugin_table>?, _ config_json: UnsafePointer<CChar>?,
                                 _ id_out: UnsafeMutablePointer<vt_plugin_id>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let id_out else { throw .invalid("id_out is NULL") }
        guard let table else { throw .invalid("table is NULL") }
        id_out.pointee = try PluginRegistry.shared.load(table: table, config: config_json, host: hostServices())
    }
}

@c @implementation
public func vt_unload_plugin(_ id: vt_plugin_id) -> vt_status {
    if id == 0 { return VT_OK.rawValue }
    return abiCall { () throws(Failure) in try PluginRegistry.shared.unload(id) }
}

@c @implementation
public func vt_list_plugins(_ ids: UnsafeMutablePointer<vt_plugin_id>?, _ cap: Int,
                            _ n_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let n_out else { throw .invalid("n_out is NULL") }
        guard cap >= 0 else { throw .invalid("cap is larger than the address space") }
        if ids == nil && cap > 0 { throw .invalid("ids is NULL but cap is \(cap)") }
        let all = PluginRegistry.shared.ids()
        n_out.pointee = all.count
        if let ids {
            for (i, id) in all.prefix(cap).enumerated() { ids[i] = id }
        }
        if all.count > cap { throw .bufferTooSmall("\(all.count) plugins are loaded; cap is \(cap)") }
    }
}

@c @implementation
public func vt_plugin_stats(_ id: vt_plugin_id, _ out: UnsafeMutablePointer<vt_plugin_statistics>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let out else { throw .invalid("out is NULL") }
        let size = Int(UnsafeRawPointer(out).load(as: UInt32.self))
        let needed = (MemoryLayout<vt_plugin_statistics>.offset(of: \vt_plugin_statistics.id) ?? 8) + 8
        guard size >= needed else { throw .invalid("out->struct_size is \(size); set it to sizeof(vt_plugin_statistics)") }
        var stats = try PluginRegistry.shared.withPlugin(id) { plugin in PluginStatsReader.read(plugin) }
        stats.struct_size = UInt32(truncatingIfNeeded: size)
        withUnsafeBytes(of: &stats) { source in
            UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: min(size, source.count))
        }
    }
}

@c @implementation
public func vt_set_plugin_dir(_ dir: UnsafePointer<CChar>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let dir else { try PluginRegistry.shared.setAllowedDirectory(nil); return }
        let path = try Inputs.string(dir, what: "dir", maxBytes: PluginLoader.maxPathBytes)
        guard !path.isEmpty else { throw .invalid("dir is empty (pass NULL to allow any directory)") }
        try PluginRegistry.shared.setAllowedDirectory(path)
    }
}

@c @implementation
public func vt_flush_events(_ timeout_ms: UInt32) -> vt_status {
    abiCall { () throws(Failure) in
        ProcessState.shared.drainTurnEvents()   // completed turns are events to flush too
        try PluginRegistry.shared.flush(timeoutNs: UInt64(timeout_ms) * 1_000_000)
    }
}
