// TaggedCounter: a relaxed atomic counter whose word also carries the generation tag of the session
// that owns it, so that one atomic add both counts and proves the session was still the same one.
//
// Word layout: [ tag : 20 bits ][ value : 44 bits ]. A session slot retags all its counters when the
// session ends (to the slot's "ended" tag) and again when the slot is reused. A record call that
// raced the end or a reuse sees a foreign tag in the value its add returned and takes its add back,
// but only while the word still carries that foreign tag: if a retag has happened since, the retag
// already discarded the add. So every add is either counted for its own session or not at all.
import Synchronization

struct TaggedCounter: ~Copyable {
    static let valueBits: UInt64 = 44
    static let valueMask: UInt64 = (1 << valueBits) - 1
    static let tagMask: UInt64 = (1 << (64 - valueBits)) - 1
    /// The largest amount one add may carry (1 TiB); larger adds are refused by the caller.
    static let maxIncrement: UInt64 = 1 << 40

    let word: Atomic<UInt64>

    init(tag: UInt64) { word = Atomic(tag << Self.valueBits) }

    @inline(__always)
    static func tag(ofGeneration generation: UInt64) -> UInt64 { generation & tagMask }

    /// Add `n` if the counter belongs to `tag`; returns false (and leaves no trace) otherwise.
    @inline(__always)
    borrowing func add(_ n: UInt64, tag: UInt64) -> Bool { addReturningPrevious(n, tag: tag) != nil }

    /// As add, returning the value before the add (nil, and no trace, under a foreign tag).
    @inline(__always)
    borrowing func addReturningPrevious(_ n: UInt64, tag: UInt64) -> UInt64? {
        let old = word.wrappingAdd(n, ordering: .relaxed).oldValue
        if old >> Self.valueBits == tag { return old & Self.valueMask }
        takeBack(n, addedUnder: old >> Self.valueBits)
        return nil
    }

    /// Subtract an add of `n` made under `tag`, if the word still carries that tag (a retag since
    /// has already discarded or folded it). Returns whether it did.
    @inline(never) @discardableResult
    borrowing func takeBack(_ n: UInt64, addedUnder tag: UInt64) -> Bool {
        var current = word.load(ordering: .relaxed)
        while current >> Self.valueBits == tag {
            let (done, seen) = word.weakCompareExchange(
                expected: current, desired: current &- n, ordering: .relaxed)
            if done { return true }
            current = seen
        }
        return false
    }

    /// Plain add for callers that hold the slot's writer guard (the tag cannot change meanwhile).
    @inline(__always)
    borrowing func addGuarded(_ n: UInt64) { word.wrappingAdd(n, ordering: .relaxed) }

    /// Leave the writer guard: publishes the writes made inside to whoever sees the count drop.
    @inline(__always)
    borrowing func leaveGuard() { word.wrappingSubtract(1, ordering: .releasing) }

    borrowing func value() -> UInt64 { word.load(ordering: .acquiring) & Self.valueMask }

    /// Give the counter a new tag and value 0; returns the value it had.
    borrowing func retagResetting(to tag: UInt64) -> UInt64 {
        let old = word.exchange(tag << Self.valueBits, ordering: .acquiringAndReleasing)
        return old & Self.valueMask
    }

    /// A guard's in-flight count back to 0, tag kept: only in a child after fork, whose other
    /// threads (the writers counted) do not exist.
    borrowing func forgetInFlight() {
        word.store(word.load(ordering: .relaxed) & ~Self.valueMask, ordering: .relaxed)
    }

    /// Give the counter a new tag and keep its value (the writer guard's in-flight count).
    borrowing func retagKeeping(to tag: UInt64) {
        var current = word.load(ordering: .relaxed)
        while true {
            let desired = (tag << Self.valueBits) | (current & Self.valueMask)
            let (done, seen) = word.weakCompareExchange(
                expected: current, desired: desired, ordering: .acquiringAndReleasing)
            if done { return }
            current = seen
        }
    }
}
