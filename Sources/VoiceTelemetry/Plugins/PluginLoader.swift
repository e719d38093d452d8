// PluginLoader: everything between a path and a validated plugin table: file checks (exists, regular,
// not world-writable, owned by us or root, inside the allowed directory), dlopen, the entry symbol and
// the table's handshake. Every refusal is a Failure whose message says why.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

typealias PluginInitFn = @convention(c) (UnsafePointer<vt_host_api>?, UnsafeMutableRawPointer?, UnsafePointer<CChar>?,
                                          UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<CChar>?, Int) -> Int32

/// What a valid plugin table offers.
struct PluginTable {
    let name: String
    let version: String
    let initialize: PluginInitFn
    let write: PluginWriteFn
    let flush: PluginFlushFn?
    let shutdown: PluginShutdownFn?
}

enum PluginLoader {
    static let maxPathBytes = 4095
    static let maxNameBytes = 63

    static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The file checks, before anything is mapped.
    static func checkFile(_ path: String, allowedDirectory: String?) throws(Failure) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound("plugin file '\(path)' does not exist") }
            throw .permission("plugin file '\(path)' cannot be examined: \(String(cString: strerror(code)))")
        }
        guard info.st_mode & 0o170000 == 0o100000 else {
            throw .plugin("'\(path)' is not a regular file, so it is not a shared object")
        }
        if info.st_mode & 0o002 != 0 {
            throw .permission("plugin file '\(path)' is world-writable: anyone could replace its code; refusing it (chmod o-w)")
        }
        let me = geteuid()
        if info.st_uid != me && info.st_uid != 0 {
            throw .permission("plugin file '\(path)' is owned by uid \(info.st_uid), not by this user (uid \(me)) or root; refusing it")
        }
        if let allowedDirectory {
            guard let resolved = resolvedPath(path) else { throw .notFound("plugin file '\(path)' cannot be resolved") }
            let prefix = allowedDirectory.hasSuffix("/") ? allowedDirectory : allowedDirectory + "/"
            guard resolved.hasPrefix(prefix) else {
                throw .permission("plugin file '\(path)' (resolved: '\(resolved)') is outside the plugin directory '\(allowedDirectory)'")
            }
        }
    }

    static func dlerrorText() -> String {
        guard let text = dlerror() else { return "unknown dlopen error" }
        return String(cString: text)
    }

    /// dlopen the file; the caller dlcloses it on any later failure.
    static func open(_ path: String) throws(Failure) -> UnsafeMutableRawPointer {
        _ = dlerror()
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw .plugin("'\(path)' is not a loadable shared object: \(dlerrorText())")
        }
        return library
    }

    /// Find the entry point, call it and check the table it returns.
    static func table(of library: UnsafeMutableRawPointer, path: String) throws(Failure) -> PluginTable {
        _ = dlerror()
        guard let symbol = dlsym(library, VT_PLUGIN_ENTRY_SYMBOL) else {
            throw .notFound("'\(path)' has no entry symbol '\(VT_PLUGIN_ENTRY_SYMBOL)': not a voicetelemetry sink plugin (or not exported: build with visibility default on the entry point)")
        }
        let entry = unsafeBitCast(symbol, to: vt_plugin_entry_fn.self)
        guard let pointer = entry() else { throw .plugin("'\(path)': the entry point returned NULL") }
        return try table(pointer, path: path)
    }

    /// Check a plugin table (from a .so's entry point, or given in-process: `path` names its origin).
    static func table(_ pointer: UnsafePointer<vt_plugin_table>, path: String) throws(Failure) -> PluginTable {
        let reader = StructReader(pointer)
        guard reader.covers(\vt_plugin_table.abi_major) else {
            throw .plugin("'\(path)': the plugin table is too small (struct_size \(reader.size))")
        }
        let major = reader.field(\vt_plugin_table.abi_major, as: UInt32.self) ?? 0
        let minor = reader.field(\vt_plugin_table.abi_minor, as: UInt32.self) ?? 0
        guard major == UInt32(VT_PLUGIN_ABI_MAJOR) else {
            throw .plugin("'\(path)': plugin ABI \(major).\(minor) does not match the host's ABI major \(VT_PLUGIN_ABI_MAJOR) (host ABI \(VT_PLUGIN_ABI_MAJOR).\(VT_PLUGIN_ABI_MINOR))")
        }
        guard reader.covers(\vt_plugin_table.write) else {
            throw .plugin("'\(path)': the plugin table is too small (struct_size \(reader.size), at least \(MemoryLayout<vt_plugin_table>.offset(of: \vt_plugin_table.write).map { $0 + 8 } ?? 0) needed)")
        }
        let name = try pluginName(reader.field(\vt_plugin_table.name, as: UnsafePointer<CChar>?.self) ?? nil, path: path)
        var version = ""
        if let raw = reader.field(\vt_plugin_table.version, as: UnsafePointer<CChar>?.self) ?? nil {
            let n = strnlen(raw, 31)
            version = raw.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            }
        }
        guard let initialize = reader.field(\vt_plugin_table.`init`, as: PluginInitFn?.self) ?? nil else {
            throw .plugin("plugin '\(name)' (\(path)): the required callback init is NULL")
        }
        guard let write = reader.field(\vt_plugin_table.write, as: PluginWriteFn?.self) ?? nil else {
            throw .plugin("plugin '\(name)' (\(path)): the required callback write is NULL")
        }
        let flush = reader.field(\vt_plugin_table.flush, as: PluginFlushFn?.self) ?? nil
        let shutdown = reader.field(\vt_plugin_table.shutdown, as: PluginShutdownFn?.self) ?? nil
        return PluginTable(name: name, version: version, initialize: initialize, write: write, flush: flush, shutdown: shutdown)
    }

    private static func pluginName(_ raw: UnsafePointer<CChar>?, path: String) throws(Failure) -> String {
        guard let raw else { throw .plugin("'\(path)': the plugin has no name (NULL)") }
        let n = strnlen(raw, maxNameBytes + 1)
        let bytes = raw.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
        let valid = !bytes.isEmpty && n <= maxNameBytes && bytes.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "-")
        }
        guard valid else {
            throw .plugin("'\(path)': the plugin name must be 1-\(maxNameBytes) bytes of [A-Za-z0-9_.-]")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
