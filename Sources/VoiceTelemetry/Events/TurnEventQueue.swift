// TurnEventQueue: completed turns waiting to become `turn.complete` events.
//
// A turn completes inside a lock-free record call, where its JSON record cannot be rendered (that
// needs the process lock and memory). The call only queues (session handle, ring position) here;
// a plugin thread (or vt_flush_events, or vt_end_session before the slot is freed) takes the queue
// under the process lock, renders each record from the session's turn ring and emits it.
// A bounded multi-producer queue (Vyukov); the consumer side runs under the process lock.
import Synchronization

final class TurnEventQueue: @unchecked Sendable {
    static let capacity = 4096
    private let mask = UInt64(capacity - 1)
    private let sequences: UnsafeMutablePointer<Atomic<UInt64>>
    private let entries: UnsafeMutablePointer<(handle: UInt64, position: UInt64)>
    private let enqueuePosition = Atomic<UInt64>(0)
    private let dequeuePosition = Atomic<UInt64>(0)

    init() {
        sequences = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity { (sequences + i).initialize(to: Atomic(UInt64(i))) }
        entries = .allocate(capacity: Self.capacity)
        entries.initialize(repeating: (0, 0), count: Self.capacity)
    }

    var isEmpty: Bool {
        enqueuePosition.load(ordering: .relaxed) == dequeuePosition.load(ordering: .relaxed)
    }

    /// Empty again, in a child after fork (a push another thread had claimed would block the queue).
    func forgetAfterFork() {
        for i in 0..<Self.capacity { sequences[i].store(UInt64(i), ordering: .relaxed) }
        enqueuePosition.store(0, ordering: .relaxed)
        dequeuePosition.store(0, ordering: .relaxed)
    }

    /// Queue one completed turn; false when the queue is full (the caller counts the loss).
    func push(handle: UInt64, position: UInt64) -> Bool {
        var pos = enqueuePosition.load(ordering: .relaxed)
        while true {
            let index = Int(pos & mask)
            let dif = Int64(bitPattern: sequences[index].load(ordering: .acquiring) &- pos)
            if dif == 0 {
                let (won, seen) = enqueuePosition.weakCompareExchange(expected: pos, desired: pos &+ 1, ordering: .relaxed)
                if won {
                    entries[index] = (handle, position)
                    sequences[index].store(pos &+ 1, ordering: .releasing)
                    return true
                }
                pos = seen
            } else if dif < 0 {
                return false
            } else {
                pos = enqueuePosition.load(ordering: .relaxed)
            }
        }
    }

    /// The oldest queued turn, or nil (process lock held: one consumer at a time).
    func pop() -> (handle: UInt64, position: UInt64)? {
        let pos = dequeuePosition.load(ordering: .relaxed)
        let index = Int(pos & mask)
        guard sequences[index].load(ordering: .acquiring) == pos &+ 1 else { return nil }
        let entry = entries[index]
        dequeuePosition.store(pos &+ 1, ordering: .relaxed)
        sequences[index].store(pos &+ mask &+ 1, ordering: .releasing)
        return entry
    }
}
