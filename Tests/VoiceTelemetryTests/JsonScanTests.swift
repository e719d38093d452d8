// JSONScan must never call a document verbatim that JSONRewriter would reject or change.
import Testing
@testable import VoiceTelemetry

private func verbatim(_ bytes: [UInt8], transcripts: Bool = false) -> Bool {
    bytes.withUnsafeBufferPointer { JSONScan.isVerbatim($0.baseAddress!, $0.count, transcripts: transcripts) }
}

/// JSONRewriter's output for a document, or nil when it rejects it.
private func rewritten(_ bytes: [UInt8], policy: TextPolicy?) -> [UInt8]? {
    var input = bytes
    var output = [UInt8](repeating: 0, count: 8192)
    return input.withUnsafeMutableBufferPointer { inBuf -> [UInt8]? in
        output.withUnsafeMutableBufferPointer { outBuf -> [UInt8]? in
            var r = JSONRewriter(input: inBuf.baseAddress!, count: inBuf.count,
                                 into: ByteWriter(base: outBuf.baseAddress!, capacity: outBuf.count), policy: policy)
            do { try r.rewriteObject() } catch { return nil }
            return Array(UnsafeBufferPointer(start: outBuf.baseAddress, count: r.out.count))
        }
    }
}

private let compactValid: [String] = [
    "{}", #"{"a":1}"#, #"{"a":-0.5e+10,"b":[1,2,[3,{}]],"c":{"d":null,"e":true,"f":false}}"#,
    #"{"s":"h\u00e9llo \"q\" \\ \/ \b\f\n\r\t","t":"\ud83d\ude00","u":"é😀"}"#,
    #"{"latency_ms":842,"output_chars":456,"model":"gemini-2.0-flash"}"#, #"{"a":[]}"#, #"{"a":[{}]}"#,
    "{\"deep\":" + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}",
]

@Test func compactValidDocumentsAreVerbatim() {
    for doc in compactValid {
        let bytes = Array(doc.utf8)
        #expect(verbatim(bytes), "\(doc) should take the fast path")
        #expect(rewritten(bytes, policy: nil) == bytes, "\(doc): the rewriter agrees it is unchanged")
    }
}

@Test func everythingElseTakesTheSlowPath() {
    let slow = [
        "", "[]", "{", "{ }", "{\"a\": 1}", "{\"a\":1} ", "{\"a\":01}", "{\"a\":1,}", "{\"a\":\"\u{01}\"}",
        "{\"a\":\"\\q\"}", "{\"a\":NaN}", "{\"a\":[1,2}", "{\"a\":\"x}", "{\"a\":tru}", "{\"a\":1}x", "{\"a\":1}}",
        "{\"a\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}",
        "{\"a\":\"\\u12g4\"}", "{\"a\":1.}", "{\"a\":1e}", "{\"a\":-}", "{1:2}", "{\"a\"1}", "{\"a\":[1 2]}",
    ]
    for doc in slow { #expect(!verbatim(Array(doc.utf8)), "\(doc) must not be verbatim") }
    #expect(!verbatim([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D]))   // {"a":"<C3>"}: bad UTF-8
    #expect(!verbatim(Array(#"{"text":"secret"}"#.utf8), transcripts: true))
    #expect(!verbatim(Array(#"{"n":{"user_transcript":"x"}}"#.utf8), transcripts: true))
    #expect(!verbatim(Array(#"{"te\u0078t":"secret"}"#.utf8), transcripts: true), "an escaped transcript key")
    #expect(!verbatim(Array(#"{"a":[{"b":{"c":[{"my_text":"x"}]}}]}"#.utf8), transcripts: true), "a nested one")
    #expect(verbatim(Array(#"{"text":"secret"}"#.utf8), transcripts: false))
}

/// Deterministic xorshift so failures reproduce.
private struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Test func mutatedDocumentsNeverDisagree() {
    var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
    let alphabet = Array("{}[]\":,-+.0123456789eEtrufalsn \\u/\u{1}é".utf8) + [0xC3, 0xFF, 0x80]
    var verbatimSeen = 0
    for round in 0..<30_000 {
        var doc = Array(compactValid[round % compactValid.count].utf8)
        for _ in 0..<(1 + Int(rng.next() % 3)) where !doc.isEmpty {
            let at = Int(rng.next() % UInt64(doc.count))
            switch rng.next() % 3 {
            case 0: doc[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            case 1: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
            default: doc.remove(at: at)
            }
        }
        let transcripts = round % 2 == 0
        if verbatim(doc, transcripts: transcripts) {
            verbatimSeen += 1
            let policy: TextPolicy? = transcripts ? TextPolicy() : nil
            #expect(rewritten(doc, policy: policy) == doc, "verbatim but the rewriter differs: \(String(decoding: doc, as: UTF8.self))")
        }
    }
    #expect(verbatimSeen > 1000, "the mutations should leave many documents valid (\(verbatimSeen))")
}
