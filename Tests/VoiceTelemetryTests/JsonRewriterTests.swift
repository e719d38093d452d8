// JSONRewriter: strict validation, one-pass copy, transcript redaction and truncation.
import Testing
@testable import VoiceTelemetry

private func rewrite(_ text: String, policy: TextPolicy? = nil) -> String? {
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: 4096)
    return input.withUnsafeMutableBufferPointer { inBuf -> String? in
        output.withUnsafeMutableBufferPointer { outBuf -> String? in
            var r = JSONRewriter(input: inBuf.baseAddress!, count: inBuf.count,
                                 into: ByteWriter(base: outBuf.baseAddress!, capacity: outBuf.count), policy: policy)
            do { try r.rewriteObject() } catch { return nil }
            return String(decoding: UnsafeBufferPointer(start: outBuf.baseAddress, count: r.out.count), as: UTF8.self)
        }
    }
}

@Test func validObjectsAreCopiedWithoutWhitespace() {
    #expect(rewrite(" { \"a\" : [ 1 , -2.5e+3 , true , null ] } ") == "{\"a\":[1,-2.5e+3,true,null]}")
    #expect(rewrite("{}") == "{}")
}

@Test func invalidDocumentsAreRejected() {
    for bad in ["", "[]", "{", "{\"a\":01}", "{\"a\":1,}", "{\"a\":\"\u{01}\"}", "{\"a\":1} x", "{\"a\":\"\\q\"}", "{\"a\":NaN}"] {
        #expect(rewrite(bad) == nil, "\(bad) should be rejected")
    }
}

@Test func transcriptsAreRedactedByDefault() {
    #expect(rewrite("{\"text\":\"héllo\",\"user_transcript\":\"x\",\"other\":\"kept\"}", policy: TextPolicy())
        == "{\"text\":\"[redacted 5 chars]\",\"user_transcript\":\"[redacted 1 chars]\",\"other\":\"kept\"}")
}

@Test func transcriptsAreTruncatedWhenIncluded() {
    let policy = TextPolicy(include: true, maxChars: 3)
    #expect(rewrite("{\"text\":\"héllo\",\"n\":{\"text\":\"ab\"}}", policy: policy) == "{\"text\":\"hél\",\"n\":{\"text\":\"ab\"}}")
}

@Test func nestingDeeperThan64IsRejected() {
    let ok = "{\"a\":" + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
    let deep = "{\"a\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
    #expect(rewrite(ok) != nil)
    #expect(rewrite(deep) == nil)
}

@Test func escapedTranscriptKeysAreStillTranscriptKeys() {
    // "te\u0078t" is the key "text"; "user\u005ftranscript" is "user_transcript".
    #expect(rewrite(#"{"te\u0078t":"secret","user\u005ftranscript":"ab","t\u00e9xt":"kept"}"#, policy: TextPolicy())
        == #"{"te\u0078t":"[redacted 6 chars]","user\u005ftranscript":"[redacted 2 chars]","t\u00e9xt":"kept"}"#)
}

@Test func surrogatePairEscapesAreOneCharacterAndNeverSplit() {
    let emoji = #"\ud83d\ude00"#
    #expect(rewrite("{\"text\":\"\(emoji)\(emoji)a\"}", policy: TextPolicy()) == #"{"text":"[redacted 3 chars]"}"#)
    let policy = TextPolicy(include: true, maxChars: 1)
    #expect(rewrite("{\"text\":\"\(emoji)\(emoji)\"}", policy: policy) == "{\"text\":\"\(emoji)\"}")
}

@Test func eightByteASCIIScanAgreesWithTheByteRule() {
    // Every byte value in every position of a word of 'a's: plain iff printable ASCII but '"' and '\'.
    for position in 0..<8 {
        for b in 0...255 {
            var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
            bytes[position] = UInt8(b)
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let expected = b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C
            #expect(JSONRewriter.isPlainASCII(word) == expected, "byte \(b) at \(position)")
        }
    }
}

@Test func firstSpecialByteOfAWordIsExact() {
    // Random words mixing plain and special bytes: the lowest flagged byte is the first special one.
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    let pool: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xC3, 0xFF, 0x61]
    for _ in 0..<50_000 {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        let bytes = (0..<8).map { k in pool[Int((x >> (UInt64(k) * 4)) & 15)] }
        let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        let first = bytes.firstIndex { $0 < 0x20 || $0 >= 0x80 || $0 == 0x22 || $0 == 0x5C }
        let special = JSONRewriter.specialBytes(word)
        #expect(special == 0 ? first == nil : first == special.trailingZeroBitCount / 8, "\(bytes)")
    }
}

@Test func longStringsAreValidatedAcrossTheFastPath() {
    let long = String(repeating: "abcdefgh", count: 40)
    #expect(rewrite("{\"a\":\"\(long)\"}") == "{\"a\":\"\(long)\"}")
    #expect(rewrite("{\"a\":\"\(long)\u{01}\(long)\"}") == nil)   // a control character after 320 plain bytes
    #expect(rewrite("{\"text\":\"\(long)é\(long)\"}", policy: TextPolicy()) == "{\"text\":\"[redacted 641 chars]\"}")
}
