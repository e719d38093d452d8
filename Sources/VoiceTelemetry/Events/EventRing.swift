// EventRing: a plugin's bounded queue of event records: a multi-producer queue of 256-byte slots
// (D. Vyukov's bounded MPMC queue: one sequence number per slot, positions claimed by
// compare-exchange), preallocated once, where a record takes as many consecutive slots as it needs.
//
// Memory follows the events: a typical record (about 150 bytes) takes one slot, so consecutive
// events sit in consecutive cache lines (the hardware prefetches them for the emitting thread and
// the plugin's thread alike) and a queue of 1024 slots is 272 KiB, not 1024 pages. The plugin's
// thread read those lines last, so an emitting thread also asks for the slots a few places ahead in
// a writable state (measured: the writes of a record otherwise stall on the plugin thread's copies,
// and vt_emit's p99 beside a busy no-op plugin was 221-270 ns instead of 140-210). A record that
// starts near the end runs on past it into a spill area (never wraps), so it is always contiguous.
//
// Slot states, for the slot of position p in the lap starting at p - p % capacity: sequence p: free;
// p + 1: holds the start of a committed record (its length beside the sequence); p + capacity:
// released for the next lap. A record of k slots is claimed by checking that all k are free and
// moving the enqueue position by k in one compare-exchange, so each slot has one writer at a time;
// only its first slot is committed; all k are released after it was read.
//
// Producers are the emitting threads; the consumer is the plugin's thread. When the ring is full, a
// producer pushes out the oldest record itself (it dequeues and discards it, as a second consumer
// may) and tries again, as often as its record has slots; if there is still no room (the consumer is
// copying out of a slot needed), the new event is dropped instead. Every record lost either way is
// reported to the caller, so the accounting stays exact. Nothing here blocks or allocates.
import CShims
import CVoiceTelemetry
import Synchronization

final class EventRing: @unchecked Sendable {
    static let slotBytes = Int(VT_PLUGIN_QUEUE_SLOT_BYTES)
    /// Longest record: an event's record is never longer than its envelope line.
    static let maxRecordBytes = Int(VT_MAX_EVENT_BYTES)
    static let maxSlotsPerRecord = (maxRecordBytes + slotBytes - 1) / slotBytes
    /// Per slot: its sequence number and, in a record's first slot, the record's length (low 32
    /// bits) and weight (high 32 bits: what the consumer budgets by, e.g. its rendered bytes).
    private static let entryBytes = 16
    /// How far ahead (slots) a producer asks for the lines it will write.
    private static let prefetchSlots: UInt64 = 4

    /// Slots.
    let capacity: Int
    private let mask: UInt64
    private let data: UnsafeMutableRawPointer
    private let entries: UnsafeMutableRawPointer
    /// [0]: enqueue position, [8]: dequeue position (a cache line apart).
    private let positions: UnsafeMutablePointer<Atomic<UInt64>>

    /// `capacity` (slots) must be a power of two, at least maxSlotsPerRecord.
    init(capacity: Int) {
        self.capacity = capacity
        mask = UInt64(capacity - 1)
        let dataBytes = (capacity + Self.maxSlotsPerRecord - 1) * Self.slotBytes
        data = .allocate(byteCount: dataBytes, alignment: 64)
        // Touch every page now: the first lap of emits must not pay the page faults (measured: a
        // fault per 16 events of the first lap, over a microsecond each).
        data.initializeMemory(as: UInt8.self, repeating: 0, count: dataBytes)
        entries = .allocate(byteCount: capacity * Self.entryBytes, alignment: 64)
        for i in 0..<capacity {
            (entries + i * Self.entryBytes).bindMemory(to: Atomic<UInt64>.self, capacity: 1).initialize(to: Atomic(UInt64(i)))
            (entries + i * Self.entryBytes + 8).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        }
        positions = .allocate(capacity: 16)
        for i in 0..<16 { (positions + i).initialize(to: Atomic(0)) }
    }

    deinit {
        data.deallocate()
        entries.deallocate()
        positions.deallocate()
    }

    @inline(__always) static func slots(_ n: Int) -> Int { max(1, (n + slotBytes - 1) / slotBytes) }

    @inline(__always) private func sequence(_ position: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (entries + Int(position & mask) * Self.entryBytes).assumingMemoryBound(to: Atomic<UInt64>.self)
    }
    /// Length and weight. Atomic (relaxed) although ordered by the sequence: a consumer reads it
    /// before it knows the record is still its to take, while the next lap's producer may already
    /// be writing it.
    @inline(__always) private func length(_ position: UInt64) -> UnsafeMutablePointer<Atomic<Int>> {
        (entries + Int(position & mask) * Self.entryBytes + 8).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inline(__always) private func bytes(_ position: UInt64) -> UnsafeMutableRawPointer {
        data + Int(position & mask) * Self.slotBytes
    }

    @inline(__always) private var enqueuePosition: UnsafeMutablePointer<Atomic<UInt64>> { positions }
    @inline(__always) private var dequeuePosition: UnsafeMutablePointer<Atomic<UInt64>> { positions + 8 }

    /// Slots in use (exact when no producer is mid-enqueue and no consumer mid-dequeue).
    var depth: Int {
        let d = dequeuePosition.pointee.load(ordering: .relaxed)
        let e = enqueuePosition.pointee.load(ordering: .relaxed)
        return e >= d ? Int(truncatingIfNeeded: e - d) : 0
    }

    /// The position the next record will get: everything before it was enqueued (or is being).
    var enqueueMark: UInt64 { enqueuePosition.pointee.load(ordering: .acquiring) }
    var dequeueMark: UInt64 { dequeuePosition.pointee.load(ordering: .acquiring) }

    /// Put one record of `n` bytes (1...maxRecordBytes) and `weight` (0...UInt32.max) in: `fill`
    /// writes the bytes, contiguously, into the claimed slots. Returns whether it was placed and how
    /// many records were pushed out making room (the oldest).
    @inline(__always)
    func enqueue(_ n: Int, weight: Int = 0, _ fill: (UnsafeMutableRawPointer) -> Void) -> (placed: Bool, pushedOut: Int) {
        let k = UInt64(Self.slots(n))
        var pushedOut = 0
        var pos = enqueuePosition.pointee.load(ordering: .relaxed)
        while true {
            // 0: all k slots free in this lap; < 0: one still holds an older lap's record (full);
            // > 0: `pos` is stale (another producer claimed it meanwhile).
            var dif: Int64 = 0
            var j: UInt64 = 0
            while j < k {
                dif = Int64(bitPattern: sequence(pos &+ j).pointee.load(ordering: .acquiring) &- (pos &+ j))
                if dif != 0 { break }
                j &+= 1
            }
            if dif == 0 {
                let (won, seen) = enqueuePosition.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ k, ordering: .relaxed)
                if won {
                    // Ask for the lines the next records will take, so that their writes find them
                    // writable instead of waiting on the plugin thread's copies.
                    let ahead = bytes(pos &+ Self.prefetchSlots)
                    shim_prefetch_for_write(ahead)
                    shim_prefetch_for_write(ahead + 64)
                    shim_prefetch_for_write(ahead + 128)
                    shim_prefetch_for_write(ahead + 192)
                    shim_prefetch_for_write(sequence(pos &+ 2 &* Self.prefetchSlots))
                    fill(bytes(pos))
                    length(pos).pointee.store(weight << 32 | n, ordering: .relaxed)
                    sequence(pos).pointee.store(pos &+ 1, ordering: .releasing)
                    return (true, pushedOut)
                }
                pos = seen
            } else if dif < 0 {
                // Full: push the oldest out (once per slot needed), then try again; else drop this one.
                if pushedOut >= Int(k) { return (false, pushedOut) }
                if discardOldest() { pushedOut += 1 } else { return (false, pushedOut) }
                pos = enqueuePosition.pointee.load(ordering: .relaxed)
            } else {
                pos = enqueuePosition.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Hand the `k` slots of the record at `position`, read, back to the producers for the next lap.
    @inline(__always)
    private func release(_ position: UInt64, slots k: UInt64) {
        var j: UInt64 = 0
        while j < k {
            sequence(position &+ j).pointee.store(position &+ j &+ UInt64(capacity), ordering: .releasing)
            j &+= 1
        }
    }

    /// Dequeue and drop the oldest record; false if none is ready.
    func discardOldest() -> Bool {
        dequeue { _, _ in } != nil
    }

    /// Dequeue the oldest record, handing its bytes to `consume` (which copies what it needs);
    /// returns its length, or nil when the ring is empty or the oldest is still being written.
    @inline(__always)
    func dequeue(_ consume: (UnsafeRawPointer, Int) -> Void) -> Int? {
        var pos = dequeuePosition.pointee.load(ordering: .relaxed)
        while true {
            let dif = Int64(bitPattern: sequence(pos).pointee.load(ordering: .acquiring) &- (pos &+ 1))
            if dif == 0 {
                // Committed: its length is valid for this lap. If another consumer takes the record
                // first, the exchange below fails and the length is not used.
                let n = min(length(pos).pointee.load(ordering: .relaxed) & 0xFFFF_FFFF, Self.maxRecordBytes)
                let k = UInt64(Self.slots(n))
                let (won, seen) = dequeuePosition.pointee.weakCompareExchange(
                    expected: pos, desired: pos &+ k, ordering: .relaxed)
                if won {
                    // Ours now: no producer touches these slots until they are released below.
                    consume(UnsafeRawPointer(bytes(pos)), n)
                    release(pos, slots: k)
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

    /// Take the run of committed records at the head in one claim: records while fewer than
    /// `maxRecords` were taken and their weights sum to less than `budget` (so the last one may go
    /// past it). Hands each to `consume` in order and releases its slots right after, so producers
    /// wait for at most the record being consumed. Returns how many were taken (0: none ready).
    ///
    /// One compare-exchange for the whole run, not one per record: a locked instruction also stops
    /// the plugin's thread from loading the next records while it waits, and they come from the
    /// emitting thread's cache.
    @inline(__always)
    func dequeueRun(maxRecords: Int, budget: Int, _ consume: (UnsafeRawPointer, Int) -> Void) -> Int {
        var pos = dequeuePosition.pointee.load(ordering: .relaxed)
        while true {
            var end = pos
            var taken = 0
            var weight = 0
            while taken < maxRecords, weight < budget {
                guard sequence(end).pointee.load(ordering: .acquiring) == end &+ 1 else { break }
                let word = length(end).pointee.load(ordering: .relaxed)
                if taken > 0 {
                    // The records after the first come from the emitting thread's cache: ask for
                    // their lines while claiming (the first is read at once anyway).
                    let first = bytes(end)
                    var line = 0
                    while line < min(word & 0xFFFF_FFFF, Self.slotBytes) {
                        shim_prefetch_for_read(first + line)
                        line += 64
                    }
                }
                end &+= UInt64(Self.slots(min(word & 0xFFFF_FFFF, Self.maxRecordBytes)))
                weight += word >> 32
                taken += 1
            }
            if taken == 0 {
                // Empty, or the head record is still being written; or another consumer took it
                // meanwhile (its sequence moved past): look again from the new head.
                let dif = Int64(bitPattern: sequence(pos).pointee.load(ordering: .acquiring) &- (pos &+ 1))
                if dif <= 0 { return 0 }
                pos = dequeuePosition.pointee.load(ordering: .relaxed)
                continue
            }
            let (won, seen) = dequeuePosition.pointee.weakCompareExchange(
                expected: pos, desired: end, ordering: .relaxed)
            guard won else {
                pos = seen
                continue
            }
            // Ours now: no producer touches these slots until each record's are released.
            var at = pos
            while at != end {
                let n = min(length(at).pointee.load(ordering: .relaxed) & 0xFFFF_FFFF, Self.maxRecordBytes)
                let k = UInt64(Self.slots(n))
                consume(UnsafeRawPointer(bytes(at)), n)
                release(at, slots: k)
                at &+= k
            }
            return taken
        }
    }
}
