// EventRing and RateLimiter: drop-oldest accounting and per-second windows.
import Testing
@testable import VoiceTelemetry

@Test func fullRingPushesOutTheOldest() {
    let ring = EventRing(capacity: 4)
    var lost = 0
    for i in 0..<10 {
        let (placed, pushed) = ring.enqueue(1) { cell in cell.storeBytes(of: UInt8(i), as: UInt8.self) }
        lost += pushed + (placed ? 0 : 1)
    }
    #expect(lost == 6, "10 events into 4 cells lose 6")
    var seen: [UInt8] = []
    while let _ = ring.dequeue({ bytes, _ in seen.append(bytes.load(as: UInt8.self)) }) {}
    #expect(seen == [6, 7, 8, 9], "the newest four survive, oldest first")
}

@Test func rateLimiterCountsPerTypePerSecond() {
    let limiter = RateLimiter(limit: 3)
    let a: UInt64 = 11, b: UInt64 = 22
    let first = (0..<5).map { _ in limiter.admit(key: a, tNs: 1_000_000_000) }
    #expect(first == [true, true, true, false, false])
    #expect(limiter.admit(key: b, tNs: 1_000_000_000), "another type has its own budget")
    #expect(limiter.admit(key: a, tNs: 2_000_000_000), "a new second resets the window")
    limiter.limit.store(0, ordering: .relaxed)
    #expect((0..<100).allSatisfy { _ in limiter.admit(key: a, tNs: 2_000_000_000) }, "0 means unlimited")
}
