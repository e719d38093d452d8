// MetricHandles: the table behind vt_metric handles. A handle is a number the library checks, never
// a pointer: its low bits index a table entry whose first word holds the whole handle; a value that
// is not exactly that word (made up, 0, from another run) is refused. Entries are written once,
// under the process lock, before their handle is handed out, and never change or go away, so
// writers through a handle read the table without a lock. The kind and the overflow flag are bits
// of the handle, checked with it.
//
// Handle bits: 0-21 entry index (index 0 is never used), 22-23 kind (1 counter, 2 gauge,
// 3 histogram), 24 overflow, 32-63 a check word derived from the index with its top bit set.
import Synchronization

/// The address of the chunk table, published when the table is made (before any handle exists). A
/// global `let` of an Atomic is initialised statically: a write through a handle reads it with one
/// load (no lazy-global check).
private let publishedChunks = Atomic<UInt>(0)

/// What a handle's entry points at: the series' value word (counter, gauge), its histogram, or the
/// family's overflow.
enum HandleTarget {
    case value(UnsafeMutablePointer<Atomic<UInt64>>)
    case histogram(LatencyHistogram)
    case overflow(SeriesOverflow)
}

/// The overflow of a family at its series limit: where its dropped values are counted, and the
/// message they answer with (kept as bytes, so that a drop allocates nothing).
final class SeriesOverflow: @unchecked Sendable {
    let dropped: UnsafeMutablePointer<Atomic<UInt64>>
    let message: [UInt8]

    init(dropped: UnsafeMutablePointer<Atomic<UInt64>>, message: String) {
        self.dropped = dropped
        self.message = Array(message.utf8)
    }
}

final class MetricHandles: @unchecked Sendable {
    static let shared = MetricHandles()

    static let indexBits = 22
    private static let chunkBits = 10
    private static let indexMask: UInt64 = (1 << UInt64(indexBits)) - 1
    private static let chunkMask = (1 << chunkBits) - 1
    static let kindShift: UInt64 = 22
    static let overflowBit: UInt64 = 1 << 24

    /// Chunk base addresses (0: not allocated yet); each chunk holds 2^chunkBits entries of two
    /// words: the handle, then the target's address.
    private let chunks: UnsafeMutablePointer<Atomic<UInt>>
    private let chunkCount = 1 << (indexBits - chunkBits)
    /// The next free index (process lock held).
    private var nextIndex = 1
    /// Keeps the histograms and overflows that entries point at alive (they are never freed anyway).
    private var owned: [AnyObject] = []

    init() {
        chunks = .allocate(capacity: chunkCount)
        for i in 0..<chunkCount { (chunks + i).initialize(to: Atomic(0)) }
        publishedChunks.store(UInt(bitPattern: chunks), ordering: .releasing)
    }

    static func kindBits(_ kind: MetricKind) -> UInt64 {
        switch kind {
        case .counter: return 1
        case .gauge: return 2
        case .histogram: return 3
        }
    }

    /// A new handle for `target` (process lock held).
    func make(kind: MetricKind, target: HandleTarget) throws(Failure) -> UInt64 {
        let index = nextIndex
        guard index <= Int(Self.indexMask) else { throw .limit("no more metric handles can be made") }
        let chunkIndex = index >> Self.chunkBits
        var base = chunks[chunkIndex].load(ordering: .acquiring)
        if base == 0 {
            let fresh = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: 2 << Self.chunkBits)
            for i in 0..<(2 << Self.chunkBits) { (fresh + i).initialize(to: Atomic(0)) }
            base = UInt(bitPattern: fresh)
            chunks[chunkIndex].store(base, ordering: .releasing)
        }
        var handle = UInt64(index) | Self.kindBits(kind) << Self.kindShift
        let address: UInt
        switch target {
        case .value(let cell): address = UInt(bitPattern: cell)
        case .histogram(let h): owned.append(h); address = UInt(bitPattern: Unmanaged.passUnretained(h).toOpaque())
        case .overflow(let o): owned.append(o); address = UInt(bitPattern: Unmanaged.passUnretained(o).toOpaque())
                               handle |= Self.overflowBit
        }
        handle |= Self.check(index) << 32
        let entry = UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: base)! + 2 * (index & Self.chunkMask)
        entry[1].store(UInt64(address), ordering: .relaxed)
        entry[0].store(handle, ordering: .releasing)
        nextIndex += 1
        return handle
    }

    private static func check(_ index: Int) -> UInt64 {
        ((UInt64(index) &* 0x9E37_79B9_7F4A_7C15) >> 32) | 0x8000_0000
    }

    /// The target address of a valid handle, or nil. Lock-free.
    @inline(__always)
    static func address(_ handle: UInt64) -> UnsafeMutableRawPointer? {
        guard let chunks = UnsafeMutablePointer<Atomic<UInt>>(bitPattern: publishedChunks.load(ordering: .acquiring))
        else { return nil }
        let index = Int(handle & indexMask)
        let base = chunks[index >> chunkBits].load(ordering: .acquiring)
        guard base != 0, let chunk = UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: base) else { return nil }
        let entry = chunk + 2 * (index & chunkMask)
        guard handle != 0, entry[0].load(ordering: .acquiring) == handle else { return nil }
        return UnsafeMutableRawPointer(bitPattern: UInt(entry[1].load(ordering: .relaxed)))
    }
}
