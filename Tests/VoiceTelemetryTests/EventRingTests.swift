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

/// Records of `n` bytes all equal to `tag`, through a ring of 16 slots (4 KiB).
private func put(_ ring: EventRing, _ n: Int, _ tag: UInt8) -> (placed: Bool, pushedOut: Int) {
    ring.enqueue(n) { cell in cell.initializeMemory(as: UInt8.self, repeating: tag, count: n) }
}

private func placed(_ result: (placed: Bool, pushedOut: Int), pushedOut: Int) -> Bool {
    result.placed && result.pushedOut == pushedOut
}

private func takeAll(_ ring: EventRing) -> [(n: Int, tag: UInt8, intact: Bool)] {
    var seen: [(Int, UInt8, Bool)] = []
    while let _ = ring.dequeue({ bytes, n in
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        seen.append((n, b[0], (0..<n).allSatisfy { b[$0] == b[0] }))
    }) {}
    return seen
}

@Test func recordsTakeConsecutiveSlotsAndStayContiguousAcrossTheEnd() {
    let ring = EventRing(capacity: 16)
    // 5 records of 3 slots each (700 bytes) then one of 4: the sixth starts at slot 15, the last,
    // and runs on past the end; its other 3 slots are the first record's, which is pushed out.
    for tag in UInt8(1)...5 { #expect(put(ring, 700, tag) == (true, 0)) }
    #expect(ring.depth == 15)
    #expect(placed(put(ring, 1000, 6), pushedOut: 1), "4 slots needed, 1 free: the oldest (3 slots) goes")
    #expect(placed(put(ring, 600, 7), pushedOut: 1), "3 slots needed, none free: the next oldest goes")
    let seen = takeAll(ring)
    #expect(seen.map { $0.tag } == [3, 4, 5, 6, 7])
    #expect(seen.map { $0.n } == [700, 700, 700, 1000, 600])
    #expect(seen.allSatisfy { $0.intact }, "every record comes back whole, the one across the end too")
    #expect(ring.depth == 0)
}

@Test func largestRecordFillsTheSmallestRing() {
    let ring = EventRing(capacity: 16)
    for tag in UInt8(1)...16 { #expect(put(ring, 1, tag) == (true, 0)) }
    #expect(placed(put(ring, EventRing.maxRecordBytes, 99), pushedOut: 16), "all 16 one-slot records pushed out")
    let seen = takeAll(ring)
    #expect(seen.count == 1 && seen[0].tag == 99 && seen[0].n == EventRing.maxRecordBytes && seen[0].intact)
    // Many laps of mixed sizes: always the newest records survive, whole and in order.
    var expected: [UInt8] = []
    for i in 0..<2000 {
        let tag = UInt8(truncatingIfNeeded: i)
        let n = [1, 255, 256, 257, 900, 4000][i % 6]
        _ = put(ring, n, tag)
        expected.append(tag)
    }
    let last = takeAll(ring)
    #expect(last.allSatisfy { $0.intact })
    #expect(last.map { $0.tag } == Array(expected.suffix(last.count)), "the survivors are the newest, in order")
}

@Test func runsStopAtTheRecordLimitAndOnceTheirWeightReachesTheBudget() {
    let ring = EventRing(capacity: 16)
    for tag in UInt8(1)...8 {   // two slots each: the ring is full, nothing pushed out
        #expect(ring.enqueue(300, weight: 100) { cell in cell.initializeMemory(as: UInt8.self, repeating: tag, count: 300) } == (true, 0))
    }
    var tags: [UInt8] = []
    func run(_ maxRecords: Int, _ budget: Int) -> Int {
        ring.dequeueRun(maxRecords: maxRecords, budget: budget) { bytes, n in
            let b = bytes.assumingMemoryBound(to: UInt8.self)
            #expect(n == 300 && (0..<n).allSatisfy { b[$0] == b[0] }, "whole record")
            tags.append(b[0])
        }
    }
    #expect(run(4, 10_000) == 4, "the record limit")
    #expect(run(100, 250) == 3, "weights 0, 100, 200 are below 250 before each: the third goes past it")
    #expect(run(100, 0) == 0, "no budget: nothing")
    #expect(run(100, 10_000) == 1, "the rest")
    #expect(run(100, 10_000) == 0, "empty")
    #expect(tags == Array(1...8), "in order, each once")
    #expect(ring.depth == 0)
    // Every slot was released: a full lap fits again without pushing anything out.
    for tag in UInt8(1)...8 { #expect(put(ring, 300, tag) == (true, 0)) }
}

@Test func runsAndPushedOutRecordsAccountForEveryRecordOverManyLaps() {
    // Mixed sizes, a consumer taking runs of various lengths between bursts that overflow the ring:
    // every record is either taken (whole, in order) or pushed out / not placed, exactly once.
    let ring = EventRing(capacity: 16)
    var taken: [Int] = []
    var lost = 0
    var next = 0
    func take(_ maxRecords: Int) {
        _ = ring.dequeueRun(maxRecords: maxRecords, budget: .max) { bytes, n in
            let index = bytes.loadUnaligned(as: Int.self)
            let rest = (bytes + 8).assumingMemoryBound(to: UInt8.self)
            #expect((0..<(n - 8)).allSatisfy { rest[$0] == UInt8(truncatingIfNeeded: index) }, "record \(index) whole")
            taken.append(index)
        }
    }
    for round in 0..<300 {
        for _ in 0..<(round % 7 + 1) {
            let n = [8, 255, 256, 257, 900, 4000, 40][next % 7]
            let index = next
            let result = ring.enqueue(n) { cell in
                cell.storeBytes(of: index, as: Int.self)
                (cell + 8).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: index), count: n - 8)
            }
            lost += result.pushedOut + (result.placed ? 0 : 1)
            next += 1
        }
        take(round % 5 + 1)
    }
    take(.max)
    #expect(taken.count + lost == next, "taken + lost = put")
    #expect(zip(taken, taken.dropFirst()).allSatisfy { $0 < $1 }, "in put order")
    #expect(taken.last == next - 1, "the newest survives")
}
