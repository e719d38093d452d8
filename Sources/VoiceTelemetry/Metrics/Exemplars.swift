// Exemplars: per bucket of a turn latency histogram, the latest turn that landed there (OpenMetrics
// exemplars). Written by the record call that completes a turn, read by scrapes; neither waits for
// the other. Each bucket's exemplar is a run of words under a sequence word (a seqlock): a writer that
// finds another writer in the slot skips its exemplar (the other one is as recent), a reader that sees
// the sequence move retries a few times and otherwise leaves the bucket's exemplar out of that scrape.
import Synchronization

/// The turn an exemplar names. The session id is kept as its bytes (at most VT_MAX_SESSION_ID_BYTES).
struct Exemplar: Equatable {
    var sessionID: [UInt8]
    var turnID: UInt64
    var traceHi: UInt64
    var traceLo: UInt64
    var value: Double
    var unixNs: UInt64
}

/// A session's exemplar identity, prepared once at session creation so that completing a turn only
/// copies words.
struct ExemplarKey {
    static let idWords = 16
    var idLength: UInt64 = 0
    var id = [UInt64](repeating: 0, count: ExemplarKey.idWords)
    var traceHi: UInt64 = 0
    var traceLo: UInt64 = 0

    init() {}

    init(sessionID: String, traceID: String) {
        let bytes = Array(sessionID.utf8.prefix(Self.idWords * 8))
        idLength = UInt64(bytes.count)
        for (i, byte) in bytes.enumerated() { id[i / 8] |= UInt64(byte) << UInt64(8 * (i % 8)) }
        let hex = Array(traceID.utf8)
        if hex.count == 32 {
            traceHi = Self.hexWord(hex[0..<16])
            traceLo = Self.hexWord(hex[16..<32])
        }
    }

    private static func hexWord(_ digits: ArraySlice<UInt8>) -> UInt64 {
        digits.reduce(0) { word, digit in (word << 4) | UInt64(digit <= 0x39 ? digit - 0x30 : digit - 0x57) }   // lowercase hex
    }
}

final class ExemplarSlots: @unchecked Sendable {
    // Word layout of one slot: sequence (odd while written), value bits, unix ns, turn id, trace hi,
    // trace lo, id length, id bytes.
    private static let head = 7
    private static let slotWords = head + ExemplarKey.idWords
    private let count: Int
    private let words: UnsafeMutablePointer<Atomic<UInt64>>

    init(buckets: Int) {
        count = buckets
        words = .allocate(capacity: buckets * Self.slotWords)
        for i in 0..<(buckets * Self.slotWords) { (words + i).initialize(to: Atomic(0)) }
    }

    deinit { words.deallocate() }

    /// Record `key`'s turn in `bucket`, unless another writer is in that slot right now.
    func offer(bucket: Int, key: borrowing ExemplarKey, turnID: UInt64, value: Double, unixNs: UInt64) {
        guard bucket >= 0 && bucket < count else { return }
        let w = words + bucket * Self.slotWords
        let seq = w[0].load(ordering: .relaxed)
        guard seq & 1 == 0, w[0].compareExchange(expected: seq, desired: seq &+ 1, ordering: .acquiring).exchanged
        else { return }
        w[1].store(value.bitPattern, ordering: .relaxed)
        w[2].store(unixNs, ordering: .relaxed)
        w[3].store(turnID, ordering: .relaxed)
        w[4].store(key.traceHi, ordering: .relaxed)
        w[5].store(key.traceLo, ordering: .relaxed)
        w[6].store(key.idLength, ordering: .relaxed)
        for i in 0..<Int((key.idLength + 7) / 8) { w[Self.head + i].store(key.id[i], ordering: .relaxed) }
        w[0].store(seq &+ 2, ordering: .releasing)
    }

    /// The bucket's exemplar, or nil when none was recorded (or a writer kept the slot busy).
    func read(bucket: Int) -> Exemplar? {
        var id = [UInt8](repeating: 0, count: ExemplarKey.idWords * 8)
        guard let e = id.withUnsafeMutableBufferPointer({ read(bucket: bucket, id: $0.baseAddress!) }) else { return nil }
        return Exemplar(sessionID: Array(id.prefix(e.idLength)), turnID: e.turnID, traceHi: e.traceHi,
                        traceLo: e.traceLo, value: e.value, unixNs: e.unixNs)
    }
}

/// The fields of one exemplar as read(bucket:id:) gives them; the session id is in the caller's memory.
struct ExemplarFields {
    var idLength: Int
    var turnID: UInt64
    var traceHi: UInt64
    var traceLo: UInt64
    var value: Double
    var unixNs: UInt64
}

extension ExemplarSlots {
    /// read(bucket:) without allocating: the session id's bytes go to `id` (room for
    /// ExemplarKey.idWords * 8 bytes).
    func read(bucket: Int, id: UnsafeMutablePointer<UInt8>) -> ExemplarFields? {
        guard bucket >= 0 && bucket < count else { return nil }
        let w = words + bucket * Self.slotWords
        for _ in 0..<4 {
            let before = w[0].load(ordering: .acquiring)
            guard before != 0 else { return nil }
            if before & 1 == 1 { continue }
            let length = Int(min(w[6].load(ordering: .relaxed), UInt64(ExemplarKey.idWords * 8)))
            for i in 0..<length { id[i] = UInt8(truncatingIfNeeded: w[Self.head + i / 8].load(ordering: .relaxed) >> UInt64(8 * (i % 8))) }
            let e = ExemplarFields(idLength: length, turnID: w[3].load(ordering: .relaxed), traceHi: w[4].load(ordering: .relaxed),
                                   traceLo: w[5].load(ordering: .relaxed), value: Double(bitPattern: w[1].load(ordering: .relaxed)),
                                   unixNs: w[2].load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            if w[0].load(ordering: .relaxed) == before { return e }
        }
        return nil
    }
}

/// An exemplar after its bucket's sample: ` # {session_id="…",turn_id="N",trace_id="…"} value
/// timestamp`. The labels may hold 128 characters in all: a session id that does not fit is left out.
enum ExemplarText {
    static func write(_ out: inout PromWriter, _ slots: ExemplarSlots, bucket: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ExemplarKey.idWords * 8) { buffer in
            let id = buffer.baseAddress!
            guard let e = slots.read(bucket: bucket, id: id) else { return }
            var characters = 0
            for i in 0..<e.idLength where id[i] & 0xC0 != 0x80 { characters += 1 }
            let fixed = 7 + Number.digitCount(e.turnID) + 8 + 32   // turn_id, its digits, trace_id, 32 hex digits
            out.append(" # {" as StaticString)
            if fixed + 10 + characters <= 128 {   // session_id and its characters
                out.append("session_id=\"" as StaticString)
                for i in 0..<e.idLength { escaped(&out, id[i]) }
                out.append("\"," as StaticString)
            }
            out.append("turn_id=\"" as StaticString)
            out.append(e.turnID)
            out.append("\",trace_id=\"" as StaticString)
            hex16(&out, e.traceHi)
            hex16(&out, e.traceLo)
            out.append("\"} " as StaticString)
            out.appendPromValue(e.value)
            out.appendByte(UInt8(ascii: " "))
            out.append(e.unixNs / 1_000_000_000)
            out.appendByte(UInt8(ascii: "."))
            let millis = e.unixNs / 1_000_000 % 1000
            out.appendByte(UInt8(ascii: "0") + UInt8(millis / 100))
            out.appendByte(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
            out.appendByte(UInt8(ascii: "0") + UInt8(millis % 10))
        }
    }

    private static func escaped(_ out: inout PromWriter, _ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\\"): out.append("\\\\" as StaticString)
        case UInt8(ascii: "\""): out.append("\\\"" as StaticString)
        case 0x0A: out.append("\\n" as StaticString)
        default: out.appendByte(byte)
        }
    }

    private static func hex16(_ out: inout PromWriter, _ word: UInt64) {
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
            out.appendByte(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }
}
