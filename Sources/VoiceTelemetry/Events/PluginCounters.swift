// PluginCounters: the accounting of one plugin.
//
// Relaxed atomics on two cache lines: one written only by emitting threads, one only by the
// plugin's thread, so the two sides never write the same line. An emitting thread adds 1 to
// `placed` per event (a line its own queue claims keep local); the rest are rare. The totals:
//
//   emitted    = placed + notPlaced + rateLimited + tooLarge + lost + disabledAtOffer
//   queue_full = pushedOut + notPlaced + lost
//   disabled   = disabledAtOffer + disabledTaken
//   queued     = placed - pushedOut - taken + inBatch
//
// Every event the plugin's thread takes is in its batch until delivered, dropped by the plugin or
// dropped as disabled, so emitted = delivered + dropped + queued holds whenever no emit is in
// progress and the plugin's thread is between batches (e.g. after vt_flush_events). Each counter
// only grows (what Prometheus requires of them); queued is a gauge (never below 0 while events
// move between the counts).
import Synchronization

final class PluginCounters: @unchecked Sendable {
    // Emitting threads.
    /// Events placed in the queue.
    let placed = Atomic<UInt64>(0)
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
    /// Events it took out of the queue (into a batch, or discarded at stop).
    let taken = Atomic<UInt64>(0)
    let delivered = Atomic<UInt64>(0)
    let droppedPlugin = Atomic<UInt64>(0)
    /// Taken while or after the plugin was disabled, or left over at stop.
    let disabledTaken = Atomic<UInt64>(0)
    let inBatch = Atomic<UInt64>(0)
    let retries = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let healthEvents = Atomic<UInt64>(0)
    let pluginReportedDrops = Atomic<UInt64>(0)

    /// One reading of every total. Each is read on its own: while events move, the sum can be off
    /// by the events in motion; once nothing moves it is exact.
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
        let taken = self.taken.load(ordering: .relaxed)
        let pushedOut = self.pushedOut.load(ordering: .relaxed)
        let notPlaced = self.notPlaced.load(ordering: .relaxed)
        let lost = self.lost.load(ordering: .relaxed)
        let disabledAtOffer = self.disabledAtOffer.load(ordering: .relaxed)
        t.rateLimited = rateLimited.load(ordering: .relaxed)
        t.tooLarge = tooLarge.load(ordering: .relaxed)
        let placed = self.placed.load(ordering: .relaxed)
        t.queueFull = pushedOut &+ notPlaced &+ lost
        t.disabled = disabledAtOffer &+ disabledTaken
        // An event is counted as placed just after it is in the queue: a plugin thread may take it first.
        let out = pushedOut &+ taken
        t.queued = (placed >= out ? placed &- out : 0) &+ inBatch
        t.emitted = placed &+ notPlaced &+ t.rateLimited &+ t.tooLarge &+ lost &+ disabledAtOffer
        return t
    }
}
