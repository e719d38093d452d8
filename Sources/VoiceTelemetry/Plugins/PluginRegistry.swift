// PluginRegistry: load, unload, list, statistics and flush of sink plugins. Load, unload and flush
// are serialised by one lock (never taken by emitters, the record path or the Prometheus scrape);
// lookups by id go through the slots' guards and take no lock.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class PluginRegistry: @unchecked Sendable {
    static let shared = PluginRegistry()

    private let lock = Lock<Void>(())
    // Under the lock:
    private var loaded: [Plugin] = []
    private var allowedDirectory: String?
    private var abandoned: [Plugin] = []   // threads that would not stop: kept (and their code mapped)
    private let directoryLock = Lock<String?>(nil)

    private var bus: EventBus { EventBus.shared }

    // MARK: - Settings

    func setAllowedDirectory(_ path: String?) throws(Failure) {
        guard let path else { directoryLock.withLock { $0 = nil }; return }
        guard let resolved = PluginLoader.resolvedPath(path) else {
            throw .notFound("plugin directory '\(path)' does not exist")
        }
        directoryLock.withLock { $0 = resolved }
    }

    // MARK: - Load

    /// `host`: what the plugin needs of the layers above (HostServices).
    func load(path: String, config: UnsafePointer<CChar>?, host: HostServices) throws(Failure) -> vt_plugin_id {
        let configText = Self.configText(config)
        let settings = try Self.settings(configText)
        let directory = directoryLock.withLock { $0 }
        try PluginLoader.checkFile(path, allowedDirectory: directory)
        return try lock.withLock { (_: inout Void) throws(Failure) -> vt_plugin_id in
            let slot = try freeSlot()
            let library = try PluginLoader.open(path)
            do throws(Failure) {
                let table = try PluginLoader.table(of: library, path: path)
                return try start(table, library: library, settings: settings, config: configText, host: host, in: slot)
            } catch {
                dlclose(library)
                throw error
            }
        }
    }

    /// A plugin given as a table by the host process itself (no shared object to open or close).
    func load(table pointer: UnsafePointer<vt_plugin_table>, config: UnsafePointer<CChar>?,
              host: HostServices) throws(Failure) -> vt_plugin_id {
        let configText = Self.configText(config)
        let settings = try Self.settings(configText)
        return try lock.withLock { (_: inout Void) throws(Failure) -> vt_plugin_id in
            let slot = try freeSlot()
            let table = try PluginLoader.table(pointer, path: "(in-process table)")
            return try start(table, library: nil, settings: settings, config: configText, host: host, in: slot)
        }
    }

    private static func configText(_ config: UnsafePointer<CChar>?) -> UnsafePointer<CChar> {
        let empty: StaticString = "{}"
        return config ?? UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    /// A free plugin slot (registry lock held).
    private func freeSlot() throws(Failure) -> PluginSlot {
        guard let slot = bus.slots.first(where: { $0.generation.load(ordering: .relaxed) & 1 == 1 }) else {
            throw .limit("\(VT_MAX_PLUGINS) plugins are loaded (VT_MAX_PLUGINS); unload one first")
        }
        return slot
    }

    /// Initialise a checked table's plugin, start its thread and make it live in `slot` (registry
    /// lock held). On failure nothing is left running; the caller closes the library.
    private func start(_ table: PluginTable, library: UnsafeMutableRawPointer?, settings: PluginSettings,
                       config: UnsafePointer<CChar>, host: HostServices, in slot: PluginSlot) throws(Failure)
        -> vt_plugin_id {
        if let other = loaded.first(where: { $0.name == table.name }) {
            throw .plugin("a plugin named '\(table.name)' is already loaded (id \(other.id)); names must be unique")
        }
        let generation = slot.generation.load(ordering: .relaxed) &+ 1
        let id = generation << PluginSlot.indexBits | UInt64(slot.index)
        let plugin = Plugin(id: id, name: table.name, version: table.version, settings: settings, library: library,
                            write: table.write, flush: table.flush, shutdown: table.shutdown, host: host)
        var state: UnsafeMutableRawPointer?
        let errorCapacity = 512
        var errorText = [CChar](repeating: 0, count: errorCapacity)
        let result = errorText.withUnsafeMutableBufferPointer { buffer in
            table.initialize(plugin.hostTable, plugin.hostContext, config, &state, buffer.baseAddress, errorCapacity)
        }
        if result != 0 {
            errorText[errorCapacity - 1] = 0
            let reason = errorText.withUnsafeBufferPointer { $0.baseAddress.flatMap { String(validatingCString: $0) } }
                ?? "(not UTF-8)"
            throw .plugin("plugin '\(table.name)' failed to initialise (init returned \(result)): \(reason.isEmpty ? "no reason given" : reason)")
        }
        plugin.state = state
        guard PluginWorker.start(plugin) else {
            table.shutdown?(state, Clock.nowNs())
            throw .internalError("could not start a thread for plugin '\(table.name)'")
        }
        loaded.append(plugin)
        slot.open(plugin, generation: generation)
        bus.sinkCount.wrappingAdd(1, ordering: .relaxed)
        bus.liveSlots.bitwiseOr(UInt64(1) << UInt64(slot.index), ordering: .releasing)
        return id
    }

    private static func settings(_ config: UnsafePointer<CChar>) throws(Failure) -> PluginSettings {
        let maxConfigBytes = 65536
        let n = strnlen(config, maxConfigBytes + 1)
        guard n <= maxConfigBytes else { throw .invalid("config_json is longer than \(maxConfigBytes) bytes") }
        let bytes = UnsafeRawPointer(config).assumingMemoryBound(to: UInt8.self)
        // Validate without keeping a copy: the writer has no room and drops everything.
        var sink: UInt8 = 0
        return try withUnsafeMutablePointer(to: &sink) { (pointer) throws(Failure) -> PluginSettings in
            var rewriter = JSONRewriter(input: bytes, count: n, into: ByteWriter(base: pointer, capacity: 0), policy: nil)
            rewriter.members = []
            do throws(JSONRewriter.Problem) {
                try rewriter.rewriteObject()
            } catch {
                throw .invalid("config_json is not a valid JSON object: \(error.reason) (at byte \(error.offset))")
            }
            return try PluginSettings(config: bytes, members: rewriter.members ?? [])
        }
    }

    // MARK: - Unload

    func unload(_ id: vt_plugin_id) throws(Failure) {
        try lock.withLock { (_: inout Void) throws(Failure) in
            guard let index = loaded.firstIndex(where: { $0.id == id }) else {
                throw .notFound("no loaded plugin has id \(id)")
            }
            let plugin = loaded.remove(at: index)
            let slot = bus.slots[Int(id & PluginSlot.indexMask)]
            slot.close()
            bus.sinkCount.wrappingSubtract(1, ordering: .relaxed)
            bus.liveSlots.bitwiseAnd(~(UInt64(1) << UInt64(slot.index)), ordering: .releasing)
            let deadline = Clock.nowNs() &+ plugin.settings.drainTimeoutNs
            plugin.stopDeadline.store(deadline, ordering: .relaxed)
            plugin.stopRequested.store(true, ordering: .releasing)
            plugin.wake()
            if wait(plugin, until: deadline &+ plugin.settings.unloadGraceNs, for: { plugin.exited.load(ordering: .acquiring) }) {
                pthread_join(plugin.thread, nil)
                if let library = plugin.library { dlclose(library) }
                return
            }
            pthread_detach(plugin.thread)
            abandoned.append(plugin)
            let graceMs = plugin.settings.unloadGraceNs / 1_000_000
            throw .plugin("plugin '\(plugin.name)' did not stop within its drain deadline plus \(graceMs) ms; its thread is left running detached")
        }
    }

    /// Wait on the plugin's condition until `done()` or the deadline; returns done().
    private func wait(_ plugin: Plugin, until deadline: UInt64, for done: () -> Bool) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(plugin.mutex)
        while !done() && Clock.nowNs() < deadline {
            if pthread_cond_timedwait(plugin.condition, plugin.mutex, &ts) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(plugin.mutex)
        return done()
    }

    // MARK: - Flush

    func flush(timeoutNs: UInt64) throws(Failure) {
        try lock.withLock { (_: inout Void) throws(Failure) in
            let deadline = Clock.nowNs() &+ timeoutNs
            var requests: [(Plugin, UInt64)] = []
            for plugin in loaded {
                plugin.flushTarget.store(plugin.ring.enqueueMark, ordering: .relaxed)
                plugin.flushDeadline.store(deadline, ordering: .relaxed)
                let request = plugin.flushRequested.load(ordering: .relaxed) &+ 1
                plugin.flushRequested.store(request, ordering: .releasing)
                plugin.wake()
                requests.append((plugin, request))
            }
            for (plugin, request) in requests {
                let done = wait(plugin, until: deadline) {
                    Int64(bitPattern: plugin.flushCompleted.load(ordering: .acquiring) &- request) >= 0
                }
                if !done {
                    throw .limit("flush timed out: plugin '\(plugin.name)' still has \(plugin.queued) events queued")
                }
            }
        }
    }

    // MARK: - Fork (ForkSafety)

    /// Plugins of the parent, in a child after fork: never called, never freed.
    private var inheritedAcrossFork: [Plugin] = []

    func lockForFork() {
        lock.lockForFork()
        directoryLock.lockForFork()
    }

    func unlockAfterFork() {
        directoryLock.unlockAfterFork()
        lock.unlockAfterFork()
    }

    /// In a child after fork (registry lock held; EventBus has freed the slots): no plugin is loaded.
    func forgetPluginsAfterFork() {
        inheritedAcrossFork += loaded + abandoned
        loaded.removeAll()
        abandoned.removeAll()
    }

    // MARK: - Reading

    /// Ids of the live plugins, oldest first.
    func ids() -> [vt_plugin_id] {
        var found: [(order: UInt64, id: vt_plugin_id)] = []
        for slot in bus.slots {
            if let entry = slot.withLoaded({ ($0.loadOrder, $0.id) }) { found.append(entry) }
        }
        return found.sorted { $0.order < $1.order }.map(\.id)
    }

    func withPlugin<R>(_ id: vt_plugin_id, _ body: (Plugin) -> R) throws(Failure) -> R {
        let index = Int(id & PluginSlot.indexMask)
        guard id != 0, index < bus.slots.count, let result = bus.slots[index].withLoaded(id: id, body) else {
            throw .notFound("no loaded plugin has id \(id)")
        }
        return result
    }
}
