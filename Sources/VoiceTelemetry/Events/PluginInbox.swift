// PluginInbox: the part of a loaded plugin that emitting threads reach through its PluginSlot: its
// queue, its counters, whether it is disabled, and the wake-up of its thread. The rest of a plugin
// (callbacks, thread, host table, settings) is Plugins/Plugin.swift, a subclass, so that the event
// bus needs nothing of the Plugins layer.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

class PluginInbox: @unchecked Sendable {
    let id: vt_plugin_id
    let ring: EventRing
    let counters = PluginCounters()
    let disabled = Atomic<Bool>(false)
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let condition: UnsafeMutablePointer<pthread_cond_t>
    /// While the thread sleeps waiting for events: the queue depth (slots) at which an emitting
    /// thread must wake it; Int.max while it runs or must not be woken for events.
    let wakeDepth = Atomic<Int>(Int.max)

    init(id: vt_plugin_id, queueCapacity: Int) {
        self.id = id
        ring = EventRing(capacity: queueCapacity)
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
    }

    // MARK: - Producer side (any emitting thread; lock-free)

    /// Offer one event (its checked parts; `recordLength` = EventRecord.recordLength(parts) and
    /// `lineLength` = EventRecord.lineLength(parts): the batch budget counts rendered bytes).
    @inline(__always)
    final func offer(_ parts: EventParts, recordLength: Int, lineLength: Int) {
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
    final func countLostQueueFull() {
        counters.lost.wrappingAdd(1, ordering: .relaxed)
    }

    /// Count an event that never reaches the queue.
    @inline(__always)
    final func countRefused(rateLimited: Bool) {
        if rateLimited {
            counters.rateLimited.wrappingAdd(1, ordering: .relaxed)
        } else {
            counters.tooLarge.wrappingAdd(1, ordering: .relaxed)
        }
    }

    @inline(never)
    final func wake() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
