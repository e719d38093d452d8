// PriceBoard: the active price table where record calls read it, in preallocated words: two buffers
// of an open-addressing hash table keyed by (stage, provider id, model id). vt_set_prices (process
// lock held) writes the buffer not in use under its sequence word, then makes it the active one;
// a reader takes the active buffer, reads an entry and checks that the buffer's sequence word did not
// move meanwhile (else it reads again). A reader never waits for a writer: the buffer it reads is
// rewritten only after two more publications. No lock, no allocation on the read side.
import Synchronization

/// Words of one entry: key, flags, the seven token prices, the unit price.
enum PriceWord {
    static let key = 0, flags = 1, tokens = 2, unit = 9
    static let count = 10
    /// flags: bit i (0...6) token price i given; `exact`: the token words hold pico-units per token
    /// (every given token price is a whole number of micro-units per million), else per million tokens;
    /// bits 12...15: the UnitPrice kind (0: none).
    static let exact: UInt64 = 1 << 7
    static let unitShift: UInt64 = 12
}

enum PriceQuote<R> {
    case noTable, unpriced, priced(R)
}

/// Static storage (no instance: a record call reaches the words without a retain).
enum PriceBoard {
    static let slots = 512   // twice VT_MAX_PRICE_ENTRIES: probes stay short
    private static let bufferWords = slots * PriceWord.count

    /// [active generation][sequence of buffer 0][sequence of buffer 1] then the two buffers; never freed.
    nonisolated(unsafe) private static let words: UnsafeMutablePointer<Atomic<UInt64>> = {
        let n = 3 + 2 * bufferWords
        let p = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: n)
        for i in 0..<n { (p + i).initialize(to: Atomic(0)) }
        return p
    }()
    nonisolated(unsafe) private static var generation: UInt64 = 0   // process lock

    private static var active: UnsafeMutablePointer<Atomic<UInt64>> { words }
    private static func sequence(_ b: Int) -> UnsafeMutablePointer<Atomic<UInt64>> { words + 1 + b }
    private static func buffer(_ b: Int) -> UnsafeMutablePointer<Atomic<UInt64>> { words + 3 + b * bufferWords }

    /// Is a price table active? (relaxed: a hint for "should costs be shown")
    static var hasTable: Bool { active[0].load(ordering: .relaxed) != 0 }

    // MARK: - Readers (any thread, lock-free)

    /// The entry for `key` (or, failing that, `fallback`) handed to `price` (whose result counts only
    /// if the buffer did not change while it ran: it must not trap on torn values).
    @inline(__always)
    static func quote<R>(_ key: UInt64, _ fallback: UInt64, _ price: (UnsafeMutablePointer<Atomic<UInt64>>) -> R) -> PriceQuote<R> {
        while true {
            let g = active[0].load(ordering: .acquiring)
            if g == 0 { return .noTable }
            let b = Int(g & 1)
            let s1 = sequence(b)[0].load(ordering: .acquiring)
            if s1 & 1 == 0 {
                let base = buffer(b)
                var result = PriceQuote<R>.unpriced
                if let e = find(base, key) ?? find(base, fallback) { result = .priced(price(e)) }
                atomicMemoryFence(ordering: .acquiring)
                if sequence(b)[0].load(ordering: .relaxed) == s1 { return result }
            }
        }
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 55) }   // 9 bits

    @inline(__always)
    private static func find(_ base: UnsafeMutablePointer<Atomic<UInt64>>, _ key: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>>? {
        var i = slot(key)
        for _ in 0..<slots {
            let e = base + i * PriceWord.count
            let k = e[PriceWord.key].load(ordering: .relaxed)
            if k == key { return e }
            if k == 0 { return nil }
            i = (i + 1) & (slots - 1)
        }
        return nil
    }

    // MARK: - Writer (process lock held)

    /// Make `entries` (key and the words after it) the active table.
    static func publish(_ entries: [(key: UInt64, words: [UInt64])]) {
        generation &+= 1
        let b = Int(generation & 1)
        let seq = sequence(b)
        seq[0].store(seq[0].load(ordering: .relaxed) &+ 1, ordering: .relaxed)   // odd: being written
        atomicMemoryFence(ordering: .releasing)
        let base = buffer(b)
        for i in 0..<bufferWords { base[i].store(0, ordering: .relaxed) }
        for entry in entries {
            var i = slot(entry.key)
            while base[i * PriceWord.count].load(ordering: .relaxed) != 0 { i = (i + 1) & (slots - 1) }
            let e = base + i * PriceWord.count
            for (k, w) in entry.words.enumerated() { e[1 + k].store(w, ordering: .relaxed) }
            e[PriceWord.key].store(entry.key, ordering: .relaxed)
        }
        seq[0].store(seq[0].load(ordering: .relaxed) &+ 1, ordering: .releasing)
        active[0].store(generation, ordering: .releasing)
    }

    static func clear() { active[0].store(0, ordering: .releasing) }
}
