// Plugin: one loaded sink plugin instance: its callbacks and state, its queue, its accounting and
// the control words its thread (PluginWorker) watches.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

typealias PluginWriteFn = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<vt_sink_batch>?) -> Int32
typealias PluginFlushFn = @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Int32
typealias PluginShutdownFn = @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Void

final class Plugin: PluginInbox, @unchecked Sendable {
    private static let loads = Atomic<UInt64>(0)

    /// Increases with every load: orders vt_list_plugins.
    let loadOrder = Plugin.loads.wrappingAdd(1, ordering: .relaxed).newValue
    let name: String
    let version: String
    let settings: PluginSettings
    /// dlopen handle; closed by the registry after the thread has stopped.
    /// nil for a plugin given as a table in the host process (vt_load_plugin_table).
    let library: UnsafeMutableRawPointer?
    let write: PluginWriteFn
    let flush: PluginFlushFn?
    let shutdown: PluginShutdownFn?
    /// The plugin's state from init; used only by the plugin's thread after init.
    var state: UnsafeMutableRawPointer?
    /// Renders completed turns into turn.complete events (HostServices).
    let drainTurnEvents: @Sendable () -> Void
    /// The host table handed to init; freed after shutdown.
    let hostTable: UnsafeMutablePointer<vt_host_api>

    private let lastErrorText = Lock<String>("")

    // Thread control (the wake-up is the inbox's).
    let stopRequested = Atomic<Bool>(false)
    let stopDeadline = Atomic<UInt64>(0)
    let exited = Atomic<Bool>(false)
    let flushRequested = Atomic<UInt64>(0)
    let flushCompleted = Atomic<UInt64>(0)
    let flushTarget = Atomic<UInt64>(0)
    let flushDeadline = Atomic<UInt64>(0)
    var thread = pthread_t()
    /// A whole batch, in slots (about as many events): after a delivery the thread takes the next
    /// batch only once this many wait (else it naps), and it times its naps to find about this many.
    let wakeThreshold: Int
    /// The depth at which emitting threads wake the sleeping thread: half the queue, so an event
    /// rate that outruns the thread's nap costs a wake-up (a system call on the emitting thread)
    /// well before the queue is full, and a steady stream costs none.
    let urgentDepth: Int

    init(id: vt_plugin_id, name: String, version: String, settings: PluginSettings, library: UnsafeMutableRawPointer?,
         write: PluginWriteFn, flush: PluginFlushFn?, shutdown: PluginShutdownFn?, host: HostServices) {
        self.name = name
        drainTurnEvents = host.drainTurnEvents
        self.version = version
        self.settings = settings
        self.library = library
        self.write = write
        self.flush = flush
        self.shutdown = shutdown
        wakeThreshold = max(1, min(settings.queueCapacity / 4, settings.maxBatchEvents))
        urgentDepth = max(wakeThreshold, settings.queueCapacity / 2)
        hostTable = .allocate(capacity: 1)
        super.init(id: id, queueCapacity: settings.queueCapacity)
        hostTable.initialize(to: PluginHost.table(readers: host.readers))
    }

    deinit {
        hostTable.deallocate()
    }

    var hostContext: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Events in the queue or in the batch being delivered.
    var queued: UInt64 { counters.totals().queued }

    // MARK: - Errors

    func log(level: Int32, _ message: String) {
        if level <= Int32(VT_LOG_ERROR.rawValue) { lastErrorText.withLock { $0 = message } }
        guard level <= Int32(VT_LOG_WARN.rawValue) else { return }
        let line = "voicetelemetry: plugin '\(name)': \(level == Int32(VT_LOG_ERROR.rawValue) ? "error" : "warning"): \(message)\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in _ = Glibc.write(2, raw.baseAddress, raw.count) }
    }

    var lastError: String { lastErrorText.withLock { $0 } }

    /// FATAL (or a broken answer): stop delivering, count everything from now on as disabled.
    func disable(_ message: String) {
        disabled.store(true, ordering: .relaxed)
        log(level: Int32(VT_LOG_ERROR.rawValue), message)
    }
}

extension PluginSlot {
    /// `withPlugin` for the Plugins layer: the inbox a slot holds is always a Plugin's
    /// (PluginRegistry opens slots with plugins only).
    @inline(__always)
    func withLoaded<R>(_ body: (Plugin) -> R) -> R? {
        withPlugin { body(unsafeDowncast($0, to: Plugin.self)) }
    }

    @inline(__always)
    func withLoaded<R>(id: vt_plugin_id, _ body: (Plugin) -> R) -> R? {
        withPlugin(id: id) { body(unsafeDowncast($0, to: Plugin.self)) }
    }
}
