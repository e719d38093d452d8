// EventRecord: the emitting side's length of an envelope line must be the exact length the plugin
// thread's rendering has (the VT_MAX_EVENT_BYTES check depends on it), and the rendering must be the
// documented envelope.
import Glibc
import Testing
@testable import VoiceTelemetry

/// Write the record of the given parts, render it, and return (line, lineLength's prediction).
private func roundTrip(session: String?, type: String, correlation: String?, turn: String?, payload: String,
                       tNs: UInt64, unixOffsetNs: UInt64 = 1_700_000_000_000_000_000) -> (line: String, predicted: Int) {
    // The five texts one after the other in one allocation, each borrowed as EventBus.Bytes.
    let texts = [session, type, correlation, turn, payload]
    let all = texts.flatMap { Array(($0 ?? "").utf8) }
    let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(all.count, 1))
    defer { storage.deallocate() }
    storage.initialize(from: all, count: all.count)
    var offset = 0
    let parts: [EventBus.Bytes?] = texts.map { text in
        let n = text?.utf8.count ?? 0
        defer { offset += n }
        return text.map { _ in EventBus.Bytes(base: UnsafePointer(storage + offset), count: n) }
    }
    let ids = [parts[0], parts[2], parts[3]].compactMap { $0 }
    let event = EventParts(tNs: tNs, unixOffsetNs: unixOffsetNs, session: parts[0], type: parts[1]!, correlation: parts[2], turn: parts[3],
                           payload: parts[4]!, escapeExtra: ids.map { ByteWriter.escapeExtra($0.base, $0.count)! }.reduce(0, +))
    let record = UnsafeMutableRawPointer.allocate(byteCount: EventRecord.recordLength(event), alignment: 8)
    defer { record.deallocate() }
    EventRecord.write(event, to: record)
    var buffer = [UInt8](repeating: 0, count: 8192)
    let line = buffer.withUnsafeMutableBufferPointer { raw -> String in
        var out = ByteWriter(base: raw.baseAddress!, capacity: raw.count)
        EventRecord.render(record, into: &out)
        return String(decoding: UnsafeBufferPointer(start: raw.baseAddress, count: out.count), as: UTF8.self)
    }
    return (line, EventRecord.lineLength(event))
}

@Test func recordRendersTheEnvelope() {
    let (line, predicted) = roundTrip(session: "call-\"7\"", type: "llm.response", correlation: "turn-1", turn: nil,
                                      payload: #"{"latency_ms":842}"#, tNs: 123_456_789_012)
    #expect(line == #"{"type_id":"core::telemetry/event@1","session_id":"call-\"7\"","event_type":"llm.response","correlation_id":"turn-1","turn_id":null,"timestamp_us":123456789,"timestamp_unix_us":1700000123456789,"data":{"latency_ms":842}}"# + "\n")
    #expect(predicted == line.utf8.count)
}

@Test func predictedLineLengthIsExact() {
    // Ids with every kind of escape (two-character, \u00XX, multi-byte UTF-8), absent ids, and
    // timestamps of every digit count.
    let ids: [String?] = [nil, "", "a", "turn-42", "quote\"back\\slash", "tab\tnl\ncr\r", "\u{01}\u{1F}ctl",
                          "é😀ü", String(repeating: "x", count: 128), String(repeating: "\"", count: 128)]
    var x: UInt64 = 0x2545_F491_4F6C_DD1D
    for session in ids {
        for correlation in ids {
            for turn in ids {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                let tNs = x >> (x % 64)
                let (line, predicted) = roundTrip(session: session, type: "t.x", correlation: correlation, turn: turn,
                                                  payload: "{}", tNs: tNs, unixOffsetNs: x &* 0x9E37_79B9_7F4A_7C15)
                #expect(predicted == line.utf8.count, "\(String(describing: session)) \(String(describing: correlation)) \(String(describing: turn)) \(tNs)")
            }
        }
    }
}

@Test func decimalDigitsCountsEveryPowerOfTen() {
    var cases: [UInt64] = [0, UInt64.max]
    var p: UInt64 = 1
    for _ in 0..<19 {
        p *= 10
        cases += [p - 1, p, p + 1]
    }
    for v in cases { #expect(ByteWriter.decimalDigits(v) == String(v).count, "\(v)") }
}

@Test func escapeExtraMatchesJSONString() {
    for c in 0..<128 {
        var one = [UInt8(c)]
        let extra = one.withUnsafeMutableBufferPointer { ByteWriter.escapeExtra(UnsafePointer($0.baseAddress!), 1)! }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = buffer.withUnsafeMutableBufferPointer { raw -> Int in
            var out = ByteWriter(base: raw.baseAddress!, capacity: raw.count)
            one.withUnsafeBufferPointer { out.jsonString($0.baseAddress!, 1) }
            return out.count
        }
        #expect(n == 3 + extra, "byte \(c)")
    }
}

@Test func eventTypeLengthAcceptsExactlyTheDocumentedBytes() {
    func length(_ bytes: [UInt8]) -> Int? {
        (bytes + [0]).withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { EventBus.eventTypeLength($0) }
        }
    }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-".utf8)
    for b in 1...255 {
        let expected = allowed.contains(UInt8(b)) ? 3 : nil
        #expect(length([UInt8(ascii: "a"), UInt8(b), UInt8(ascii: "z")]) == expected, "byte \(b)")
    }
    #expect(length([]) == nil, "empty")
    #expect(length([UInt8](repeating: UInt8(ascii: "x"), count: 64)) == 64)
    #expect(length([UInt8](repeating: UInt8(ascii: "x"), count: 65)) == nil, "longer than VT_MAX_EVENT_TYPE_BYTES")
}

@Test func idBytesValidatesUTF8AndCountsEscapes() {
    func check(_ bytes: [UInt8]) -> (count: Int, extra: Int)? {
        (bytes + [0]).withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { text in
                var extra = 0
                return EventBus.idBytes(text, escapeExtra: &extra).map { ($0.count, extra) }
            }
        }
    }
    // Every length up to 20 around every kind of byte, at every position: valid ids report their
    // length and exactly the escaping ByteWriter will do; invalid UTF-8 is refused.
    let specials: [[UInt8]] = [[0x22], [0x5C], [0x0A], [0x01], [0x1F], [0x7F], Array("é".utf8), Array("😀".utf8),
                               [0xC3], [0xFF], [0xED, 0xA0, 0x80]]
    for length in 0..<20 {
        for special in specials {
            for at in 0...length {
                var id = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                id.insert(contentsOf: special, at: at)
                let valid = String(validating: id, as: UTF8.self) != nil
                let expected = id.map { ByteWriter.escapeExtra($0) }.reduce(0, +)
                let got = check(id)
                #expect(valid ? got?.count == id.count && got?.extra == expected : got == nil, "\(id)")
            }
        }
    }
    #expect(check([UInt8](repeating: UInt8(ascii: "x"), count: 128))?.count == 128)
    #expect(check([UInt8](repeating: UInt8(ascii: "x"), count: 129)) == nil, "longer than VT_MAX_EVENT_ID_BYTES")
}

/// Calls `body` with `bytes` + NUL placed so that the NUL is the last byte before an unreadable
/// page: a check that read past the NUL across the page end would crash the test.
private func atPageEnd<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let raw = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
    defer { munmap(raw, 2 * page) }
    mprotect(raw + page, page, PROT_NONE)
    let start = (raw + page - bytes.count - 1).assumingMemoryBound(to: UInt8.self)
    for (i, b) in bytes.enumerated() { start[i] = b }
    start[bytes.count] = 0
    return start.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) { body(UnsafePointer($0)) }
}

@Test func typeAndIdChecksStopAtTheNulBeforeAPageEnd() {
    // Every length near the word size, ending exactly at a page end: the same answers as anywhere,
    // and no read beyond the NUL (an unreadable page follows it).
    for length in 0...40 {
        let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        #expect(atPageEnd(plain) { EventBus.eventTypeLength($0) } == (length >= 1 ? length : nil), "type of \(length)")
        let id = atPageEnd(plain) { text -> Int? in
            var extra = 0
            return EventBus.idBytes(text, escapeExtra: &extra)?.count
        }
        #expect(id == length, "id of \(length)")
        var escaped = plain
        escaped.insert(UInt8(ascii: "\""), at: length / 2)
        let extra = atPageEnd(escaped) { text -> Int? in
            var extra = 0
            return EventBus.idBytes(text, escapeExtra: &extra).map { _ in extra }
        }
        #expect(extra == 1, "escaped id of \(length + 1)")
    }
}

@Test func eventTypeLengthRefusesEveryByteAtEveryPosition() {
    // The word-at-a-time check against the byte-by-byte rule: each byte value at each position of
    // types of 1...20 bytes (and a too-long type whose 65th byte is the NUL's neighbour).
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-".utf8)
    for length in 1...20 {
        for at in 0..<length {
            for b in 1...255 {
                var type = [UInt8](repeating: UInt8(ascii: "k"), count: length)
                type[at] = UInt8(b)
                let got = (type + [0]).withUnsafeBufferPointer { p in
                    p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { EventBus.eventTypeLength($0) }
                }
                #expect(got == (allowed.contains(UInt8(b)) ? length : nil), "byte \(b) at \(at) of \(length)")
            }
        }
    }
    let long = [UInt8](repeating: UInt8(ascii: "x"), count: 72) + [0]
    #expect(long.withUnsafeBufferPointer { p in
        p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { EventBus.eventTypeLength($0) }
    } == nil, "72 bytes: too long even when the words end exactly at the NUL")
}
