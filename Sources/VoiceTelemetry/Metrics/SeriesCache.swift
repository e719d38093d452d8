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

final class SeriesCache: @unchecked Sendable {
    // Slot words: sequence, epoch, hash, handle, help, unknown, dropped keys, key bytes, key words.
    private static let head = 8
    static let keyWords = 24
    private static let slotWords = 32
    static let slotCount = 1 << 14
    private static let probes = 4

    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let epoch = Atomic<UInt64>(1)

    init() {
        // calloc: the table's pages are only touched as slots are used (all-zero words are Atomic(0)).
        let raw = calloc(Self.slotCount * Self.slotWords, MemoryLayout<UInt64>.stride)!
        words = raw.bindMemory(to: Atomic<UInt64>.self, capacity: Self.slotCount * Self.slotWords)
    }

    /// The key of a call, in `key` (keyWords words; the unused tail zeroed): kind, name, then per label
    /// its key, 1 and its value or 2 for a NULL value, each string ended by a 0 byte. The byte count,
    /// or nil when the call is unusual enough that only the slow path should judge it (NULL pointers,
    /// too many labels, a key longer than a slot holds).
    static func encode(_ kind: MetricKind, _ name: UnsafePointer<CChar>, _ labels: UnsafePointer<vt_label>?, _ n: Int,
                       into key: UnsafeMutablePointer<UInt64>) -> Int? {
        let capacity = keyWords * 8
        let bytes = UnsafeMutableRawPointer(key)
        var at = 1
        bytes.storeBytes(of: UInt8(MetricHandles.kindBits(kind)), as: UInt8.self)
        func append(_ text: UnsafePointer<CChar>) -> Bool {
            let length = strnlen(text, capacity - at)
            guard at + length < capacity else { return false }
            (bytes + at).copyMemory(from: text, byteCount: length)
            bytes.storeBytes(of: 0, toByteOffset: at + length, as: UInt8.self)
            at += length + 1
            return true
        }
        func mark(_ byte: UInt8) -> Bool {
            guard at < capacity else { return false }
            bytes.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
            at += 1
            return true
        }
        guard append(name), n >= 0, n <= Int(VT_MAX_LABELS) else { return nil }
        if n > 0 {
            guard let labels else { return nil }
            for i in 0..<n {
                guard let k = labels[i].key, append(k) else { return nil }
                if let v = labels[i].value {
                    guard mark(1), append(v) else { return nil }
                } else {
                    guard mark(2) else { return nil }
                }
            }
        }
        let used = (at + 7) / 8
        // Zero the last word's unused bytes and the words after it: keys compare as whole words.
        for i in at..<(used * 8) { bytes.storeBytes(of: 0, toByteOffset: i, as: UInt8.self) }
        for i in used..<keyWords { key[i] = 0 }
        return at
    }

    @inline(__always)
    static func hash(_ key: UnsafePointer<UInt64>, words: Int) -> UInt64 {
        var h: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in 0..<words {
            h = (h ^ key[i]) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        return h | 1   // never 0
    }

    private func slot(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + (index & (Self.slotCount - 1)) * Self.slotWords
    }

    /// The remembered answer for the call whose key is `key` (`length` bytes). Lock-free.
    func lookup(_ key: UnsafePointer<UInt64>, length: Int) -> CachedSeries? {
        let n = (length + 7) / 8
        let h = Self.hash(key, words: n)
        let current = epoch.load(ordering: .relaxed)
        for p in 0..<Self.probes {
            let w = slot(Int(truncatingIfNeeded: h) &+ p)
            let seq = w[0].load(ordering: .acquiring)
            guard seq & 1 == 0, seq != 0, w[2].load(ordering: .relaxed) == h,
                  w[1].load(ordering: .relaxed) == current, w[7].load(ordering: .relaxed) == UInt64(length)
            else { continue }
            var equal = true
            for i in 0..<n where w[Self.head + i].load(ordering: .relaxed) != key[i] { equal = false; break }
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
        let current = epoch.load(ordering: .relaxed)
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
        for i in 0..<Self.keyWords { target[Self.head + i].store(key[i], ordering: .relaxed) }
        target[0].store((seq | 1) &+ 1, ordering: .releasing)
    }

    /// Forget everything (label registrations changed what a call maps to). Process lock held.
    func clear() { epoch.wrappingAdd(1, ordering: .relaxed) }
}
