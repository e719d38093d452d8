// TurnMemory: one session slot's turn state in one anonymous mapping of 64-bit atomic words:
//   [control][usage][bank 0][bank 1][ring: capacity x (sequence word + record)][texts of banks and ring]
// (usage: the session's usage and cost by model, TurnState/UsageTable.swift)
// The mapping is made (or its pages dropped) at session creation, under the process lock, so record
// calls never allocate. Pages stay untouched (no RSS) until a turn event writes them.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct TurnMemory {
    // Control words.
    static let cur = 0            // index of the bank of the current turn (0 or 1)
    static let pending = 1        // 1: user-side events go to the other bank (speech during agent speech)
    static let completing = 2     // 1 while a completion runs (one at a time)
    static let turnSeq = 3        // turn ids handed out
    static let ringCount = 4      // records written to the ring, ever
    static let completedCount = 5, interruptedCount = 6, discardedCount = 7
    static let providers = 8      // TurnWord.providerCount words: current provider per stage (as TurnWord.providers)
    static let controlCount = 16
    /// Control and usage words: where the banks start.
    static let headerCount = controlCount + UsageTable.words
    static let entryWords = TurnWord.recordCount + 1

    var base: UnsafeMutablePointer<Atomic<UInt64>>? = nil
    var mappedBytes = 0
    var capacity = 0
    /// Words per text buffer (0 when texts are redacted: only their lengths are kept).
    var textWords = 0
    var textMaxChars = 0
    var includeText = false
    /// The session's TurnSeriesSet.tokenCells (nil without a set).
    var tokenCells: UnsafeMutablePointer<UnsafeMutablePointer<Atomic<UInt64>>?>? = nil

    static func wordsNeeded(capacity: Int, textWords: Int) -> Int {
        headerCount + 2 * TurnWord.bankCount + capacity * entryWords + (2 + capacity) * TurnWord.textKinds * textWords
    }

    /// Make the memory ready for a new session (process lock held, slot not live).
    mutating func prepare(history: Int, policy: TextPolicy) throws(Failure) {
        let maxChars = min(policy.maxChars, Int(VT_TURN_MAX_TEXT_CHARS))
        let words = policy.include ? (maxChars * 4 + 7) / 8 : 0
        let bytes = Self.wordsNeeded(capacity: history, textWords: words) * 8
        if let base, mappedBytes >= bytes {
            // Reused slot: drop the old pages; they read as zero again on next touch.
            _ = madvise(UnsafeMutableRawPointer(base), mappedBytes, MADV_DONTNEED)
        } else {
            if let base { _ = munmap(UnsafeMutableRawPointer(base), mappedBytes) }
            base = nil
            mappedBytes = 0
            let page = 4096
            let size = (bytes + page - 1) / page * page
            guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  raw != MAP_FAILED
            else { throw .internalError("turn memory: mmap of \(size) bytes failed") }
            // Zero bits are a valid Atomic<UInt64>(0).
            base = raw.bindMemory(to: Atomic<UInt64>.self, capacity: size / 8)
            mappedBytes = size
        }
        capacity = history
        textWords = words
        textMaxChars = maxChars
        includeText = policy.include
    }

    @inline(__always) func control(_ i: Int) -> UnsafeMutablePointer<Atomic<UInt64>> { base.unsafelyUnwrapped + i }
    /// The session's usage table (UsageTable's layout).
    @inline(__always) var usage: UnsafeMutablePointer<Atomic<UInt64>> { base.unsafelyUnwrapped + Self.controlCount }
    @inline(__always) func bank(_ b: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        base.unsafelyUnwrapped + Self.headerCount + Int(b & 1) * TurnWord.bankCount
    }
    @inline(__always) func entry(_ i: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        base.unsafelyUnwrapped + Self.headerCount + 2 * TurnWord.bankCount + i * Self.entryWords
    }
    private var textBase: UnsafeMutablePointer<Atomic<UInt64>> {
        base.unsafelyUnwrapped + Self.headerCount + 2 * TurnWord.bankCount + capacity * Self.entryWords
    }
    /// Text buffer of a bank (b = 0, 1) or a ring entry (b = 2 + i), kind 0..2.
    @inline(__always) func text(_ b: Int, _ kind: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        textBase + (b * TurnWord.textKinds + kind) * textWords
    }

    /// The current bank index, and the bank user-side events go to.
    @inline(__always) var curIndex: UInt64 { control(Self.cur)[0].load(ordering: .relaxed) & 1 }
    @inline(__always) var userIndex: UInt64 {
        let c = curIndex
        return control(Self.pending)[0].load(ordering: .relaxed) != 0 ? c ^ 1 : c
    }
}

/// Small helpers on words.
extension UnsafeMutablePointer where Pointee == Atomic<UInt64> {
    @inline(__always) func word(_ i: Int) -> UInt64 { self[i].load(ordering: .relaxed) }
    @inline(__always) func setFirst(_ i: Int, _ v: UInt64) {
        _ = self[i].compareExchange(expected: 0, desired: v, ordering: .relaxed)
    }
    @inline(__always) func setLast(_ i: Int, _ v: UInt64) { self[i].store(v, ordering: .relaxed) }
    @inline(__always) func add(_ i: Int, _ v: UInt64) { self[i].wrappingAdd(v, ordering: .relaxed) }
    @inline(__always) func orBits(_ i: Int, _ v: UInt64) { self[i].bitwiseOr(v, ordering: .relaxed) }
    @inline(__always) func storeMin(_ i: Int, _ v: UInt64) {
        var cur = self[i].load(ordering: .relaxed)
        while cur == 0 || v < cur {
            let (done, seen) = self[i].weakCompareExchange(expected: cur, desired: v, ordering: .relaxed)
            if done { return }
            cur = seen
        }
    }
    @inline(__always) func storeMax(_ i: Int, _ v: UInt64) {
        var cur = self[i].load(ordering: .relaxed)
        while v > cur {
            let (done, seen) = self[i].weakCompareExchange(expected: cur, desired: v, ordering: .relaxed)
            if done { return }
            cur = seen
        }
    }
    /// Note an event at t: the bank is open, first/last event times follow.
    @inline(__always) func touch(_ t: UInt64) {
        storeMin(TurnWord.firstEvent, t)
        storeMax(TurnWord.lastEvent, t)
    }
}
