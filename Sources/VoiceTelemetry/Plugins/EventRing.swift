// EventRing: a bounded multi-producer queue of fixed-size event cells (D. Vyukov's bounded MPMC
// queue: one sequence number per cell, positions claimed by compare-exchange), preallocated once.
//
// Producers are the emitting threads; the consumer is the plugin's thread. When the ring is full, a
// producer pushes out the oldest event itself (it dequeues and discards it, as a second consumer
// may) and tries again; if the ring is still full (the consumer is copying out of the very cell
// needed), the new event is dropped instead. Either way exactly one event per failed slot is lost
// and reported to the caller, so the accounting stays exact. Nothing here blocks or allocates.
import Synchronization

final class EventRing: @unchecked Sendable {
    static let cellBytes = 4064   // VT_MAX_EVENT_BYTES

    /// A cell: its sequence number and length in the first cache line, then the event bytes. Keeping
    /// each cell's bookkeeping in its own line (rather than in arrays of 8-byte entries, 8 cells to a
    /// line) means an emitter and the plugin's thread working on neighbouring cells never write the
    /// same cache line.
    static let headerBytes = 32
    static let stride = headerBytes + cellBytes   // 4096

    let capacity: Int
    private let mask: UInt64
    private let cells: UnsafeMutableRawPointer
    /// [0]: enqueue position, [8]: dequeue position (a cache line apart).
    private let positions: UnsafeMutablePointer<Atomic<UInt64>>

    /// `capacity` must be a power of two (>= 2).
    init(capacity: Int) {
        self.capacity = capacity
        mask = UInt64(capacity - 1)
        cells = .allocate(byteCount: capacity * Self.stride, alignment: 64)
        for i in 0..<capacity {
            (cells + i * Self.stride).bindMemory(to: Atomic<UInt64>.self, capacity: 1).initialize(to: Atomic(UInt64(i)))
            (cells + i * Self.stride + 8).storeBytes(of: 0, as: Int.self)
        }
        positions = .allocate(capacity: 16)
        for i in 0..<16 { (positions + i).initialize(to: Atomic(0)) }
    }

    deinit {
        cells.deallocate()
        positions.deallocate()
    }

    @inline(__always) private func sequence(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (cells + index * Self.stride).assumingMemoryBound(to: Atomic<UInt64>.self)
    }
    @inline(__always) private func length(_ index: Int) -> UnsafeMutablePointer<Int> {
        (cells + index * Self.stride + 8).assumingMemoryBound(to: Int.self)
    }
    @inline(__always) private func bytes(_ index: Int) -> UnsafeMutableRawPointer {
        cells + index * Self.stride + Self.headerBytes
    }

    @inline(__always) private var enqueuePosition: UnsafeMutablePointer<Atomic<UInt64>> { positions }
    @inline(__always) private var dequeuePosition: UnsafeMutablePointer<Atomic<UInt64>> { positions + 8 }

    /// Events in the ring (exact when no producer is mid-enqueue and no consumer mid-dequeue).
    var depth: Int {
        let d = dequeuePosition.pointee.load(ordering: .relaxed)
        let e = enqueuePosition.pointee.load(ordering: .relaxed)
        return e >= d ? Int(truncatingIfNeeded: e - d) : 0
    }

    /// The position the next event will get: everything before it was enqueued (or is being).
    var enqueueMark: UInt64 { enqueuePosition.pointee.load(ordering: .acquiring) }
    var dequeueMark: UInt64 { dequeuePosition.pointee.load(ordering: .acquiring) }

    /// Put one event of `n` bytes (n <= cellBytes) in: `fill` writes them into the claimed cell.
    /// Returns whether it was placed and how many events were pushed out making room (the oldest).
    @inline(__always)
    func enqueue(_ n: Int, _ fill: (UnsafeMutableRawPointer) -> Void) -> (placed: Bool, pushedOut: Int) {
        var pushedOut = 0
        var pos = enqueuePosition.pointee.load(ordering: .relaxed)
        while true {
            let index = Int(pos & mask)
            let seq = sequence(index).pointee.load(ordering: .acquiring)
            let dif = Int64(bitPattern: seq &- pos)
            if dif == 0 {
                let (won, seen) = enqueuePosition.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ 1, ordering: .relaxed)
                if won {
                    fill(bytes(index))
                    length(index).pointee = n
                    sequence(index).pointee.store(pos &+ 1, ordering: .releasing)
                    return (true, pushedOut)
                }
                pos = seen
            } else if dif < 0 {
                // Full: push the oldest out (once), then try again; else give up on this event.
                if pushedOut >= 1 { return (false, pushedOut) }
                if discardOldest() { pushedOut += 1 } else { return (false, pushedOut) }
                pos = enqueuePosition.pointee.load(ordering: .relaxed)
            } else {
                pos = enqueuePosition.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Dequeue and drop the oldest event; false if none is ready.
    func discardOldest() -> Bool {
        dequeue { _, _ in } != nil
    }

    /// Dequeue the oldest event, handing its bytes to `consume` (which copies what it needs);
    /// returns its length, or nil when the ring is empty or the oldest is still being written.
    @inline(__always)
    func dequeue(_ consume: (UnsafeRawPointer, Int) -> Void) -> Int? {
        var pos = dequeuePosition.pointee.load(ordering: .relaxed)
        while true {
            let index = Int(pos & mask)
            let seq = sequence(index).pointee.load(ordering: .acquiring)
            let dif = Int64(bitPattern: seq &- (pos &+ 1))
            if dif == 0 {
                let (won, seen) = dequeuePosition.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ 1, ordering: .relaxed)
                if won {
                    // Ours now: no producer touches the cell until the sequence below is stored.
                    let n = length(index).pointee
                    consume(UnsafeRawPointer(bytes(index)), n)
                    sequence(index).pointee.store(pos &+ mask &+ 1, ordering: .releasing)
                    return n
                }
                pos = seen
            } else if dif < 0 {
                return nil
            } else {
                pos = dequeuePosition.pointee.load(ordering: .relaxed)
            }
        }
    }
}
