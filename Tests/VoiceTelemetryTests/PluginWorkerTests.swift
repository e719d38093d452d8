// PluginWorker's nap: timed so that about a batch waits when it ends.
import Testing
@testable import VoiceTelemetry

@Test func napLastsAboutOneBatchAtTheRateSeen() {
    // 1,024 events in 1 ms: a batch of 256 arrives in 250 µs.
    #expect(PluginWorker.napNs(sinceLastNapNs: 1_000_000, taken: 1024, batch: 256) == 250_000)
    // 100 events in 500 µs: 256 take 1,280 µs.
    #expect(PluginWorker.napNs(sinceLastNapNs: 500_000, taken: 100, batch: 256) == 1_280_000)
}

@Test func napIsBoundedAndFullWhenNothingCame() {
    #expect(PluginWorker.napNs(sinceLastNapNs: 2_000_000, taken: 0, batch: 256) == PluginWorker.idleWaitNs)
    // A fast stream: 40,000 events in 1 ms would ask for 6.4 µs; the floor holds.
    #expect(PluginWorker.napNs(sinceLastNapNs: 1_000_000, taken: 40_000, batch: 256) == PluginWorker.minNapNs)
    // A trickle: 3 events in 2 ms would ask for 170 ms; events never wait longer than idleWaitNs.
    #expect(PluginWorker.napNs(sinceLastNapNs: 2_000_000, taken: 3, batch: 256) == PluginWorker.idleWaitNs)
    // A worker stuck for hours (a plugin's write hung) does not overflow.
    #expect(PluginWorker.napNs(sinceLastNapNs: UInt64.max, taken: 1, batch: 4096) == PluginWorker.idleWaitNs)
}
