// SeriesCache: the fast path of the by-name metric calls (vt_counter_add, vt_gauge_set/add,
// vt_observe). A call's raw arguments (kind, name, label keys and values as the caller passed them)
// are copied into a key of 8-byte words on the stack; a slot whose key is equal gives the call's
// metric handle without a lock. A miss takes the checked slow path under the process lock, which
// then remembers its answer here. Only answers of the slow path are remembered (a series, or the
// family's overflow), so an equal key means the same checks passed, with the same result.
//
// Slots are fixed runs of atomic words under a sequence word (a seqlock): the one writer (process
// lock held) makes the sequence odd while it rewrites a slot; a reader that sees an odd or changed
// sequence treats the slot as a miss. Nothing is ever freed, so a reader never follows a stale
// pointer. vt_register_labels changes what a call maps to: it bumps the epoch, and slots of an
// older epoch are misses (and free for reuse).
#if canImport(Glibc)
import Glibc
#endif
import CVoiceTelemetry
import Synchronization

struct CachedSeries {
    let handle: UInt64
    /// The family's help text: a call repeating it needs no new check.
    let help: UnsafePointer<CChar>
    /// voicetelemetry_metrics_unknown_label_total{metric=...}'s value word, when keys are dropped.
    let unknown: UnsafeMutablePointer<Atomic<UInt64>>?
    /// Label keys the registration drops from this call (counted again on every hit).
    let droppedKeys: UInt64
}

/// The slot table's address, published when the cache is made, and the epoch: global `let`s of
/// Atomics are initialised statically, so a lookup reads them without a lazy-global check.
private let publishedSlots = Atomic<UInt>(0)
private let cacheEpoch = Atomic<UInt64>(1)

final class SeriesCache: @unchecked Sendable {
    // Slot words: sequence, epoch, hash, handle, help, unknown, dropped keys, key bytes, key words.
    private static let head = 8
    static let keyWords = 24
    private static let slotWords = 32
    static let slotCount = 1 << 14
    private static let probes = 4

    private let words: UnsafeMutablePointer<Atomic<UInt64>>

    init() {
        // calloc: the table's pages are only touched as slots are used (all-zero words are Atomic(0)).
        let raw = calloc(Self.slotCount * Self.slotWords, MemoryLayout<UInt64>.stride)!
        words = raw.bindMemory(to: Atomic<UInt64>.self, capacity: Self.slotCount * Self.slotWords)
        publishedSlots.store(UInt(bitPattern: words), ordering: .releasing)
    }

    /// The key of a call, in `key` (up to keyWords words): the bytes kind, name, then per label its
    /// key, 1 and its value or 2 for a NULL value, each string ended by its 0 byte, packed into
    /// little-endian words (the last one zero-padded). The byte count, or nil when the call is unusual
    /// enough that only the slow path should judge it (NULL pointers, too many labels, a key longer
    /// than a slot holds).
    static func encode(_ kind: MetricKind, _ name: UnsafePointer<CChar>, _ labels: UnsafePointer<vt_label>?, _ n: Int,
                       into key: UnsafeMutablePointer<UInt64>) -> Int? {
        guard n >= 0, n <= Int(VT_MAX_LABELS), n == 0 || labels != nil else { return nil }
        var out = KeyWords(key)
        out.append(UInt64(MetricHandles.kindBits(kind)), bytes: 1)
        guard out.append(name) else { return nil }
        for i in 0..<n {
            guard let k = labels![i].key, out.append(k) else { return nil }
            if let v = labels![i].value {
                out.append(1, bytes: 1)
                guard out.append(v) else { return nil }
            } else {
                out.append(2, bytes: 1)
            }
        }
        return out.finish()
    }

    /// Two multiply chains over alternate words, folded at the end (half the latency of one chain).
    @inline(__always)
    static func hash(_ key: UnsafePointer<UInt64>, words: Int) -> UInt64 {
        var a: UInt64 = 0x2545_F491_4F6C_DD1D
        var b: UInt64 = 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 1 < words {
            a = (a ^ key[i]) &* 0xFF51_AFD7_ED55_8CCD
            b = (b ^ key[i + 1]) &* 0xC4CE_B9FE_1A85_EC53
            i += 2
        }
        if i < words { a = (a ^ key[i]) &* 0xFF51_AFD7_ED55_8CCD }
        var h = (a ^ (b >> 32 | b << 32)) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return h | 1   // never 0
    }

    private func slot(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + (index & (Self.slotCount - 1)) * Self.slotWords
    }

    /// The remembered answer for the call whose key is `key` (`length` bytes). Lock-free.
    static func lookup(_ key: UnsafePointer<UInt64>, length: Int) -> CachedSeries? {
        guard let words = UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: publishedSlots.load(ordering: .acquiring))
        else { return nil }
        let n = (length + 7) / 8
        let h = hash(key, words: n)
        let current = cacheEpoch.load(ordering: .relaxed)
        for p in 0..<probes {
            let w = words + ((Int(truncatingIfNeeded: h) &+ p) & (slotCount - 1)) * slotWords
            let seq = w[0].load(ordering: .acquiring)
            guard seq & 1 == 0, seq != 0, w[2].load(ordering: .relaxed) == h,
                  w[1].load(ordering: .relaxed) == current, w[7].load(ordering: .relaxed) == UInt64(length)
            else { continue }
            var equal = true
            for i in 0..<n where w[head + i].load(ordering: .relaxed) != key[i] { equal = false; break }
            guard equal else { continue }
            let found = CachedSeries(
                handle: w[3].load(ordering: .relaxed),
                help: UnsafePointer(bitPattern: UInt(w[4].load(ordering: .relaxed)))!,
                unknown: UnsafeMutablePointer(bitPattern: UInt(w[5].load(ordering: .relaxed))),
                droppedKeys: w[6].load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            if w[0].load(ordering: .relaxed) == seq { return found }
        }
        return nil
    }

    /// Remember the slow path's answer for `key` (process lock held: the only writer).
    func remember(_ key: UnsafePointer<UInt64>, length: Int, _ entry: CachedSeries) {
        let n = (length + 7) / 8
        let h = Self.hash(key, words: n)
        let current = cacheEpoch.load(ordering: .relaxed)
        var target = slot(Int(truncatingIfNeeded: h))   // all probes in use: replace the first
        for p in 0..<Self.probes {
            let w = slot(Int(truncatingIfNeeded: h) &+ p)
            if w[0].load(ordering: .relaxed) == 0 || w[1].load(ordering: .relaxed) != current { target = w; break }
        }
        let seq = target[0].load(ordering: .relaxed)
        target[0].store(seq | 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        target[1].store(current, ordering: .relaxed)
        target[2].store(h, ordering: .relaxed)
        target[3].store(entry.handle, ordering: .relaxed)
        target[4].store(UInt64(UInt(bitPattern: entry.help)), ordering: .relaxed)
        target[5].store(UInt64(UInt(bitPattern: entry.unknown)), ordering: .relaxed)
        target[6].store(entry.droppedKeys, ordering: .relaxed)
        target[7].store(UInt64(length), ordering: .relaxed)
        for i in 0..<n { target[Self.head + i].store(key[i], ordering: .relaxed) }
        target[0].store((seq | 1) &+ 1, ordering: .releasing)
    }

    /// Forget everything (label registrations changed what a call maps to). Process lock held.
    func clear() { cacheEpoch.wrappingAdd(1, ordering: .relaxed) }
}

/// Builds a key word by word in a register (a word is stored once, whole: no byte stores for the
/// hash to wait on). Strings are read in 8-byte loads that stay inside the string and its NUL.
struct KeyWords {
    private let key: UnsafeMutablePointer<UInt64>
    private var words = 0
    private var pending: UInt64 = 0
    private var pendingBits = 0
    private var full = false

    init(_ key: UnsafeMutablePointer<UInt64>) { self.key = key }

    /// Append the low `bytes` bytes of `value` (its higher bytes are 0).
    @inline(__always)
    mutating func append(_ value: UInt64, bytes: Int) {
        pending |= value << UInt64(pendingBits)
        let bits = pendingBits + 8 * bytes
        if bits < 64 {
            pendingBits = bits
            return
        }
        guard words < SeriesCache.keyWords else { full = true; return }
        key[words] = pending
        words += 1
        pending = pendingBits == 0 ? 0 : value >> UInt64(64 - pendingBits)
        pendingBits = bits - 64
    }

    /// Append a C string and its NUL; false when the key would not fit.
    @inline(__always)
    mutating func append(_ text: UnsafePointer<CChar>) -> Bool {
        let room = SeriesCache.keyWords * 8 - (words * 8 + pendingBits / 8)
        let length = strnlen(text, room)
        guard length < room else { return false }
        let raw = UnsafeRawPointer(text)
        var at = 0
        while at + 8 <= length {
            append(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self), bytes: 8)
            at += 8
        }
        let rest = length - at + 1   // the tail and the NUL: 1...8 bytes
        if length >= 7 {
            // The 8 bytes that end at the NUL: the tail is their top `rest` bytes.
            let last = raw.loadUnaligned(fromByteOffset: length - 7, as: UInt64.self)
            append(last >> UInt64(8 * (8 - rest)), bytes: rest)
        } else {
            var tail: UInt64 = 0
            for i in 0..<(rest - 1) { tail |= UInt64(raw.load(fromByteOffset: at + i, as: UInt8.self)) << UInt64(8 * i) }
            append(tail, bytes: rest)
        }
        return !full
    }

    /// The byte count, with the last partial word stored; nil if the key did not fit.
    mutating func finish() -> Int? {
        guard !full else { return nil }
        if pendingBits > 0 {
            guard words < SeriesCache.keyWords else { return nil }
            key[words] = pending
            return words * 8 + pendingBits / 8
        }
        return words * 8
    }
}

/// The by-name calls' fast path (see SeriesCache).
let seriesCache = SeriesCache()
