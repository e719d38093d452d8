// PluginCounters: the accounting of one plugin, relaxed atomics. Producers (emitting threads) add to
// emitted and the producer-side drops; the plugin's thread adds the rest.
import Synchronization

final class PluginCounters: @unchecked Sendable {
    let emitted = Atomic<UInt64>(0)
    let droppedQueueFull = Atomic<UInt64>(0)
    let droppedRateLimited = Atomic<UInt64>(0)
    let droppedTooLarge = Atomic<UInt64>(0)
    // Written by the plugin's thread.
    let delivered = Atomic<UInt64>(0)
    let droppedPlugin = Atomic<UInt64>(0)
    let droppedDisabled = Atomic<UInt64>(0)
    let inBatch = Atomic<UInt64>(0)
    let retries = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let healthEvents = Atomic<UInt64>(0)
    let pluginReportedDrops = Atomic<UInt64>(0)

    /// Drops decided on the emitting side (what vt_sink_batch.dropped_before reports).
    func producerDrops() -> UInt64 {
        droppedQueueFull.load(ordering: .relaxed) &+ droppedRateLimited.load(ordering: .relaxed)
            &+ droppedTooLarge.load(ordering: .relaxed)
    }

    func allDrops() -> UInt64 {
        producerDrops() &+ droppedPlugin.load(ordering: .relaxed) &+ droppedDisabled.load(ordering: .relaxed)
    }
}
