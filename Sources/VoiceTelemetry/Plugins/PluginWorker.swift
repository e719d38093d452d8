// PluginWorker: the loop of a plugin's own thread. It is the only caller of the plugin's write, flush
// and shutdown: it takes batches out of the queue, hands them over, retries with backoff, honours
// flush requests and the stop deadline, and sends telemetry.health events while drops happen.
import CShims
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct PluginWorker {
    static let firstBackoffNs: UInt64 = 1_000_000
    static let maxBackoffNs: UInt64 = 1_000_000_000
    static let idleWaitNs: UInt64 = 2_000_000
    static let minNapNs: UInt64 = 20_000
    static let timerSlackNs: UInt64 = 2_000
    static let healthLineBytes = 1024

    let plugin: Plugin
    private let buffer: UnsafeMutablePointer<UInt8>
    private let bufferCapacity: Int
    private var length = 0
    private var events = 0          // emitted events in the batch (health lines not included)
    private var lines = 0
    private var sequence: UInt64 = 0
    private var attempt: UInt32 = 0
    private var droppedBefore: UInt64 = 0
    private var producerDropsSeen: UInt64 = 0
    private var healthDropsSeen: UInt64 = 0
    private var nextHealthNs: UInt64
    private var backoffNs = firstBackoffNs
    private var napStartNs: UInt64 = 0
    private var takenSinceNap = 0

    /// Start the thread; false if the system refused.
    static func start(_ plugin: Plugin) -> Bool {
        let context = Unmanaged.passRetained(plugin).toOpaque()
        let result = pthread_create(&plugin.thread, nil, { raw in
            guard let raw else { return nil }
            let plugin = Unmanaged<Plugin>.fromOpaque(raw).takeRetainedValue()
            var worker = PluginWorker(plugin: plugin)
            worker.run()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<Plugin>.fromOpaque(context).release()
            return false
        }
        return true
    }

    private init(plugin: Plugin) {
        self.plugin = plugin
        bufferCapacity = PluginSettings.maxBatchBytes + EventBus.maxEventBytes + Self.healthLineBytes
        buffer = .allocate(capacity: bufferCapacity)
        nextHealthNs = Clock.nowNs() &+ plugin.settings.healthIntervalNs
    }

    private mutating func run() {
        let counters = plugin.counters
        // Naps are timed to a batch's worth of events (idle()); the default 50 µs timer slack would
        // stretch a 20 µs nap to 70 and let the queue reach urgentDepth, where emitters must wake
        // the thread with a system call.
        _ = shim_set_timer_slack(UInt(Self.timerSlackNs))
        // Batches are taken whole: after a delivery the thread takes the next batch only once the
        // wake threshold's worth waits (or a flush or stop asks); else it sleeps, and a timer bounds
        // how long events wait. So it runs in bursts, seldom beside the emitting threads, instead
        // of chasing them one or two events at a time.
        var takeAny = true
        while true {
            let stopping = plugin.stopRequested.load(ordering: .acquiring)
            if stopping && Clock.nowNs() >= plugin.stopDeadline.load(ordering: .relaxed) { break }
            plugin.drainTurnEvents()   // completed turns become turn.complete events
            if lines == 0, takeAny || stopping || flushPending || plugin.ring.depth >= plugin.wakeThreshold {
                fillBatch()
            }
            if lines > 0 {
                deliver()
                takeAny = false
                continue
            }
            // Nothing to send (now).
            if completeFlushIfDrained() { continue }
            if stopping { break }
            idle()
            takeAny = true
        }
        // Stopped: whatever is left could not be delivered before the deadline.
        if events > 0 {
            counters.disabledTaken.wrappingAdd(UInt64(events), ordering: .relaxed)
            counters.inBatch.wrappingSubtract(UInt64(events), ordering: .relaxed)
        }
        while plugin.ring.discardOldest() {
            counters.taken.wrappingAdd(1, ordering: .relaxed)
            counters.disabledTaken.wrappingAdd(1, ordering: .relaxed)
        }
        let deadline = plugin.stopDeadline.load(ordering: .relaxed)
        if !plugin.disabled.load(ordering: .relaxed), let flush = plugin.flush {
            let result = flush(plugin.state, deadline)
            if result != 0 { plugin.log(level: Int32(VT_LOG_WARN.rawValue), "flush returned \(result) at unload") }
        }
        plugin.shutdown?(plugin.state, deadline)
        buffer.deallocate()
        pthread_mutex_lock(plugin.mutex)
        plugin.exited.store(true, ordering: .releasing)
        pthread_cond_broadcast(plugin.condition)
        pthread_mutex_unlock(plugin.mutex)
    }

    // MARK: - Batches

    private mutating func fillBatch() {
        let counters = plugin.counters
        let ring = plugin.ring
        let maxEvents = plugin.settings.maxBatchEvents
        let base = buffer
        // Runs of records, each taken in one claim, until the batch is full or the queue empty. The
        // run stops once its lines reach maxBatchBytes (each record weighs its line's length), and
        // the buffer keeps room for one whole line past that: a record's line is at most
        // VT_MAX_EVENT_BYTES (the emitter checked), so any event fits.
        var length = self.length
        while events < maxEvents, length < PluginSettings.maxBatchBytes {
            let taken = ring.dequeueRun(maxRecords: maxEvents - events, budget: PluginSettings.maxBatchBytes - length) { record, _ in
                var out = ByteWriter(base: base + length, capacity: bufferCapacity - length)
                EventRecord.render(record, into: &out)
                length += out.count
            }
            if taken == 0 { break }
            events += taken
        }
        self.length = length
        takenSinceNap += events
        if events > 0 {
            counters.inBatch.wrappingAdd(UInt64(events), ordering: .relaxed)
            counters.taken.wrappingAdd(UInt64(events), ordering: .relaxed)
        }
        if plugin.disabled.load(ordering: .relaxed) {
            // A disabled plugin gets nothing: its events are counted and discarded.
            counters.disabledTaken.wrappingAdd(UInt64(events), ordering: .relaxed)
            counters.inBatch.wrappingSubtract(UInt64(events), ordering: .relaxed)
            clearBatch()
            return
        }
        lines = events
        appendHealthIfDue()
        if lines > 0 {
            sequence &+= 1
            attempt = 0
            let producerDrops = counters.totals().producerDrops
            droppedBefore = producerDrops &- producerDropsSeen
            producerDropsSeen = producerDrops
        }
    }

    private mutating func clearBatch() {
        length = 0
        events = 0
        lines = 0
        backoffNs = Self.firstBackoffNs
    }

    private mutating func deliver() {
        let counters = plugin.counters
        attempt &+= 1
        var batch = vt_sink_batch()
        batch.struct_size = UInt32(MemoryLayout<vt_sink_batch>.size)
        batch.n_events = UInt32(lines)
        batch.len = length
        batch.sequence = sequence
        batch.dropped_before = droppedBefore
        batch.attempt = attempt
        let result = buffer.withMemoryRebound(to: CChar.self, capacity: length) { data -> Int32 in
            batch.data = UnsafePointer(data)
            return plugin.write(plugin.state, &batch)
        }
        let n = UInt64(events)
        switch result {
        case Int32(VT_SINK_OK.rawValue):
            counters.delivered.wrappingAdd(n, ordering: .relaxed)
            counters.batches.wrappingAdd(1, ordering: .relaxed)
        case Int32(VT_SINK_DROP.rawValue):
            counters.droppedPlugin.wrappingAdd(n, ordering: .relaxed)
        case Int32(VT_SINK_RETRY.rawValue):
            counters.retries.wrappingAdd(1, ordering: .relaxed)
            let wait = backoffNs
            backoffNs = min(backoffNs * 2, Self.maxBackoffNs)
            sleep(untilNs: Clock.nowNs() &+ wait, waitingForEvents: false)
            return
        default:
            let what = result == Int32(VT_SINK_FATAL.rawValue) ? "write returned FATAL" : "write returned \(result) (not a vt_sink_result)"
            plugin.disable("\(what): plugin disabled; its events are dropped from now on")
            counters.disabledTaken.wrappingAdd(n, ordering: .relaxed)
        }
        counters.inBatch.wrappingSubtract(n, ordering: .relaxed)
        clearBatch()
    }

    // MARK: - Health

    private mutating func appendHealthIfDue() {
        let now = Clock.nowNs()
        guard now >= nextHealthNs else { return }
        nextHealthNs = now &+ plugin.settings.healthIntervalNs
        let totals = plugin.counters.totals()
        let drops = totals.allDrops
        guard drops != healthDropsSeen else { return }
        let since = drops &- healthDropsSeen
        healthDropsSeen = drops
        var out = ByteWriter(base: buffer + length, capacity: bufferCapacity - length)
        EventRecord.processEventHead(&out, type: EventTypes.health, tNs: now, unixOffsetNs: Clock.processUnixOffsetNs)
        out.ascii("{\"plugin\":")
        out.jsonString(plugin.name)
        out.ascii(",\"dropped_since_last\":")
        out.decimal(since)
        out.ascii(",\"dropped\":{\"queue_full\":")
        out.decimal(totals.queueFull)
        out.ascii(",\"rate_limited\":")
        out.decimal(totals.rateLimited)
        out.ascii(",\"too_large\":")
        out.decimal(totals.tooLarge)
        out.ascii(",\"plugin\":")
        out.decimal(totals.plugin)
        out.ascii(",\"disabled\":")
        out.decimal(totals.disabled)
        out.ascii("},\"delivered\":")
        out.decimal(totals.delivered)
        out.ascii("}")
        EventRecord.endLine(&out)
        guard !out.overflowed else { return }
        length += out.count
        lines += 1
        plugin.counters.healthEvents.wrappingAdd(1, ordering: .relaxed)
    }

    // MARK: - Flush and idling

    private var flushPending: Bool {
        plugin.flushRequested.load(ordering: .relaxed) != plugin.flushCompleted.load(ordering: .relaxed)
    }

    /// With the batch empty: if a flush waits and the queue holds nothing from before it, flush the
    /// plugin and report completion. Returns true if it did.
    private mutating func completeFlushIfDrained() -> Bool {
        let requested = plugin.flushRequested.load(ordering: .acquiring)
        guard requested != plugin.flushCompleted.load(ordering: .relaxed) else { return false }
        let target = plugin.flushTarget.load(ordering: .relaxed)
        guard Int64(bitPattern: plugin.ring.dequeueMark &- target) >= 0 else { return false }
        let deadline = plugin.flushDeadline.load(ordering: .relaxed)
        if !plugin.disabled.load(ordering: .relaxed), let flush = plugin.flush, Clock.nowNs() < deadline {
            let result = flush(plugin.state, deadline)
            if result != 0 { plugin.log(level: Int32(VT_LOG_WARN.rawValue), "flush returned \(result)") }
        }
        pthread_mutex_lock(plugin.mutex)
        plugin.flushCompleted.store(requested, ordering: .releasing)
        pthread_cond_broadcast(plugin.condition)
        pthread_mutex_unlock(plugin.mutex)
        return true
    }

    private mutating func idle() {
        // No spinning: a thread polling the queue pulls its cache lines away from the emitting
        // threads on every event (measured: vt_emit p50 x3.5 with a spinning consumer). Nor does an
        // emitting thread wake it for every batch: that is a system call (microseconds) on the
        // emitting thread. The worker naps for about as long as a batch took to arrive since its
        // last nap began (at least minNapNs, at most idleWaitNs: events wait at most that long); an
        // emitting thread wakes it early only when the queue is half full (a burst), and a flush or
        // stop wakes it too.
        let now = Clock.nowNs()
        let napNs = Self.napNs(sinceLastNapNs: now &- napStartNs, taken: takenSinceNap, batch: plugin.wakeThreshold)
        napStartNs = now
        takenSinceNap = 0
        sleep(untilNs: min(now &+ napNs, max(nextHealthNs, now)), waitingForEvents: true)
    }

    /// How long to nap so that about `batch` events wait when it ends, given that `taken` arrived
    /// in the `sinceLastNapNs` since the last nap began: minNapNs...idleWaitNs; idleWaitNs if none.
    static func napNs(sinceLastNapNs: UInt64, taken: Int, batch: Int) -> UInt64 {
        guard taken > 0 else { return idleWaitNs }
        let perBatch = Double(sinceLastNapNs) * Double(batch) / Double(taken)
        return perBatch <= Double(minNapNs) ? minNapNs : perBatch >= Double(idleWaitNs) ? idleWaitNs : UInt64(perBatch)
    }

    /// Wait on the plugin's condition until `untilNs`, or a stop; `waitingForEvents` (not a retry's
    /// backoff): also until a flush asks or a batch waits, and emitting threads wake it at urgentDepth.
    private func sleep(untilNs: UInt64, waitingForEvents: Bool) {
        let deadline = plugin.stopRequested.load(ordering: .relaxed)
            ? min(untilNs, plugin.stopDeadline.load(ordering: .relaxed)) : untilNs
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(plugin.mutex)
        if waitingForEvents { plugin.wakeDepth.store(plugin.urgentDepth, ordering: .relaxed) }
        while Clock.nowNs() < deadline {
            if waitingForEvents {
                if plugin.ring.depth >= plugin.wakeThreshold { break }
                if flushPending { break }
            }
            if plugin.stopRequested.load(ordering: .relaxed) && (waitingForEvents || Clock.nowNs() >= plugin.stopDeadline.load(ordering: .relaxed)) { break }
            if pthread_cond_timedwait(plugin.condition, plugin.mutex, &ts) == ETIMEDOUT { break }
        }
        plugin.wakeDepth.store(Int.max, ordering: .relaxed)
        pthread_mutex_unlock(plugin.mutex)
    }
}
