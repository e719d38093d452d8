// RateLimiter: at most `limit` events per event type per whole second of event time, lock-free.
//
// A fixed open-addressing table keyed by the 64-bit FNV-1a hash of the event type. An entry's state
// word packs [ second : 40 bits ][ count : 24 bits ]: one compare-exchange moves it into a new second
// (count 1) or counts one more event in the current one. When the table is full, further types share
// one overflow entry (they are then limited together: a documented approximation for programs that
// invent thousands of event types).
import Synchronization

final class RateLimiter: @unchecked Sendable {
    static let slots = 512
    static let maxLimit: UInt32 = 1_000_000
    private static let countBits: UInt64 = 24
    private static let countMask: UInt64 = (1 << countBits) - 1

    /// Events per second per type; 0 = unlimited.
    let limit: Atomic<UInt32>
    private let keys: UnsafeMutablePointer<Atomic<UInt64>>
    private let states: UnsafeMutablePointer<Atomic<UInt64>>
    private let overflow = Atomic<UInt64>(0)

    init(limit: UInt32) {
        self.limit = Atomic(limit)
        keys = .allocate(capacity: Self.slots)
        states = .allocate(capacity: Self.slots)
        for i in 0..<Self.slots {
            (keys + i).initialize(to: Atomic(0))
            (states + i).initialize(to: Atomic(0))
        }
    }

    deinit {
        keys.deallocate()
        states.deallocate()
    }

    static func hash(_ bytes: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for i in 0..<n {
            h ^= UInt64(bytes[i])
            h = h &* 0x100000001b3
        }
        return h == 0 ? 1 : h
    }

    /// False when the limit is off (0).
    @inline(__always)
    var isLimiting: Bool { limit.load(ordering: .relaxed) != 0 }

    /// Count one event of the type with hash `key` at `tNs`; false when it is over the limit.
    func admit(key: UInt64, tNs: UInt64) -> Bool {
        let limit = UInt64(self.limit.load(ordering: .relaxed))
        if limit == 0 { return true }
        let second = (tNs / 1_000_000_000) & ((1 << (64 - Self.countBits)) - 1)
        return withState(key: key) { state in
            var current = state.load(ordering: .relaxed)
            while true {
                let desired: UInt64
                if current >> Self.countBits != second {
                    desired = second << Self.countBits | 1
                } else {
                    let count = current & Self.countMask
                    if count >= limit { return false }
                    desired = current &+ 1
                }
                let (done, seen) = state.weakCompareExchange(expected: current, desired: desired, ordering: .relaxed)
                if done { return true }
                current = seen
            }
        }
    }

    private func withState(key: UInt64, _ body: (borrowing Atomic<UInt64>) -> Bool) -> Bool {
        var i = Int(key % UInt64(Self.slots))
        for _ in 0..<Self.slots {
            let seen = keys[i].load(ordering: .acquiring)
            if seen == key { return body(states[i]) }
            if seen == 0 {
                let (claimed, other) = keys[i].compareExchange(expected: 0, desired: key, ordering: .acquiringAndReleasing)
                if claimed || other == key { return body(states[i]) }
            }
            i = (i + 1) % Self.slots
        }
        return body(overflow)
    }
}
