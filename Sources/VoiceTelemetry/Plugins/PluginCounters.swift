// PluginCounters: the accounting of one plugin.
//
// Counting an event costs an emitting thread nothing in the common case: an event placed in the
// queue is counted by the queue position it claimed. Everything else is a relaxed atomic, on two
// cache lines: one written only by emitting threads (drops), one only by the plugin's thread, so
// the two sides never write the same line. The totals:
//
//   emitted    = placed + notPlaced + rateLimited + tooLarge + lost + disabledAtOffer
//   queue_full = pushedOut + notPlaced + lost
//   disabled   = disabledAtOffer + disabledTaken
//   queued     = placed - dequeued + inBatch
//   where placed = the queue's enqueue position and dequeued = its dequeue position.
//
// Every event the plugin's thread takes is in its batch until delivered, dropped by the plugin or
// dropped as disabled, so emitted = delivered + dropped + queued holds whenever no emit is in
// progress and the plugin's thread is not between a dequeue and its count (e.g. after
// vt_flush_events). Each counter only grows (what Prometheus requires of them); queued is a gauge.
import Synchronization

final class PluginCounters: @unchecked Sendable {
    let ring: EventRing

    // Emitting threads.
    /// Oldest events an emitting thread pushed out of the full queue (queue_full).
    let pushedOut = Atomic<UInt64>(0)
    /// The queue stayed full after pushing one event out: this one was dropped (queue_full).
    let notPlaced = Atomic<UInt64>(0)
    let rateLimited = Atomic<UInt64>(0)
    let tooLarge = Atomic<UInt64>(0)
    /// turn.complete events lost before they could be offered (counted as queue_full).
    let lost = Atomic<UInt64>(0)
    /// Offered while the plugin was disabled.
    let disabledAtOffer = Atomic<UInt64>(0)
    private let producerPad: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    // The plugin's thread (and, for pluginReportedDrops, the plugin through the host table).
    let delivered = Atomic<UInt64>(0)
    let droppedPlugin = Atomic<UInt64>(0)
    /// Taken while or after the plugin was disabled, or left over at stop.
    let disabledTaken = Atomic<UInt64>(0)
    let inBatch = Atomic<UInt64>(0)
    let retries = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let healthEvents = Atomic<UInt64>(0)
    let pluginReportedDrops = Atomic<UInt64>(0)

    init(ring: EventRing) { self.ring = ring }

    /// One reading of every total. Read in pipeline order (the plugin's side, the queue, then the
    /// emitting side) so an event moving meanwhile is seen late rather than lost from the sum.
    struct Totals {
        var emitted: UInt64 = 0
        var delivered: UInt64 = 0
        var queueFull: UInt64 = 0
        var rateLimited: UInt64 = 0
        var tooLarge: UInt64 = 0
        var plugin: UInt64 = 0
        var disabled: UInt64 = 0
        var queued: UInt64 = 0

        /// Drops decided before the plugin's thread saw the event (what dropped_before reports).
        var producerDrops: UInt64 { queueFull &+ rateLimited &+ tooLarge }
        var allDrops: UInt64 { producerDrops &+ plugin &+ disabled }
    }

    func totals() -> Totals {
        var t = Totals()
        t.delivered = delivered.load(ordering: .relaxed)
        t.plugin = droppedPlugin.load(ordering: .relaxed)
        let disabledTaken = self.disabledTaken.load(ordering: .relaxed)
        let inBatch = self.inBatch.load(ordering: .relaxed)
        let dequeued = ring.dequeueMark
        let placed = ring.enqueueMark
        let pushedOut = self.pushedOut.load(ordering: .relaxed)
        let notPlaced = self.notPlaced.load(ordering: .relaxed)
        let lost = self.lost.load(ordering: .relaxed)
        let disabledAtOffer = self.disabledAtOffer.load(ordering: .relaxed)
        t.rateLimited = rateLimited.load(ordering: .relaxed)
        t.tooLarge = tooLarge.load(ordering: .relaxed)
        t.queueFull = pushedOut &+ notPlaced &+ lost
        t.disabled = disabledAtOffer &+ disabledTaken
        t.queued = (placed &- dequeued) &+ inBatch   // read in this order, placed >= dequeued
        t.emitted = placed &+ notPlaced &+ t.rateLimited &+ t.tooLarge &+ lost &+ disabledAtOffer
        return t
    }
}
