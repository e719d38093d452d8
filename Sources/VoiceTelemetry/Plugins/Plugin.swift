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

final class Plugin: @unchecked Sendable {
    private static let loads = Atomic<UInt64>(0)

    let id: vt_plugin_id
    /// Increases with every load: orders vt_list_plugins.
    let loadOrder = Plugin.loads.wrappingAdd(1, ordering: .relaxed).newValue
    let name: String
    let version: String
    let settings: PluginSettings
    let ring: EventRing
    let counters = PluginCounters()
    /// dlopen handle; closed by the registry after the thread has stopped.
    /// nil for a plugin given as a table in the host process (vt_load_plugin_table).
    let library: UnsafeMutableRawPointer?
    let write: PluginWriteFn
    let flush: PluginFlushFn?
    let shutdown: PluginShutdownFn?
    /// The plugin's state from init; used only by the plugin's thread after init.
    var state: UnsafeMutableRawPointer?
    /// The host table handed to init; freed after shutdown.
    let hostTable: UnsafeMutablePointer<vt_host_api>

    let disabled = Atomic<Bool>(false)
    private let lastErrorText = Lock<String>("")

    // Thread control.
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let condition: UnsafeMutablePointer<pthread_cond_t>
    /// While the thread sleeps waiting for events: the queue depth (slots) at which an emitting
    /// thread must wake it; Int.max while it runs or must not be woken for events.
    let wakeDepth = Atomic<Int>(Int.max)
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
         write: PluginWriteFn, flush: PluginFlushFn?, shutdown: PluginShutdownFn?) {
        self.id = id
        self.name = name
        self.version = version
        self.settings = settings
        self.library = library
        self.write = write
        self.flush = flush
        self.shutdown = shutdown
        ring = EventRing(capacity: settings.queueCapacity)
        wakeThreshold = max(1, min(settings.queueCapacity / 4, settings.maxBatchEvents))
        urgentDepth = max(wakeThreshold, settings.queueCapacity / 2)
        hostTable = .allocate(capacity: 1)
        hostTable.initialize(to: PluginHost.table())
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        hostTable.deallocate()
    }

    var hostContext: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    // MARK: - Producer side (any emitting thread; lock-free)

    /// Offer one event (its checked parts; `recordLength` = EventRecord.recordLength(parts) and
    /// `lineLength` = EventRecord.lineLength(parts): the batch budget counts rendered bytes).
    @inline(__always)
    func offer(_ parts: EventParts, recordLength: Int, lineLength: Int) {
        if disabled.load(ordering: .relaxed) {
            counters.disabledAtOffer.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let (placed, pushedOut) = ring.enqueue(recordLength, weight: lineLength) { cell in EventRecord.write(parts, to: cell) }
        if placed { counters.placed.wrappingAdd(1, ordering: .relaxed) }
        if pushedOut > 0 { counters.pushedOut.wrappingAdd(UInt64(pushedOut), ordering: .relaxed) }
        if !placed { counters.notPlaced.wrappingAdd(1, ordering: .relaxed) }
        let wakeAt = wakeDepth.load(ordering: .relaxed)
        if wakeAt != Int.max, ring.depth >= wakeAt { wake() }
    }

    /// Count an event lost before it could be offered (the pending turn.complete queue was full, or
    /// the turn record was overwritten before it could be rendered).
    func countLostQueueFull() {
        counters.lost.wrappingAdd(1, ordering: .relaxed)
    }

    /// Count an event that never reaches the queue.
    @inline(__always)
    func countRefused(rateLimited: Bool) {
        if rateLimited {
            counters.rateLimited.wrappingAdd(1, ordering: .relaxed)
        } else {
            counters.tooLarge.wrappingAdd(1, ordering: .relaxed)
        }
    }

    @inline(never)
    func wake() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

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
