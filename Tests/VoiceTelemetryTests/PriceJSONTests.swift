// The price table's JSON reader, exact decimal prices, and the charging rules of CostMath.
import Synchronization
import Testing
@testable import VoiceTelemetry

private func parse(_ text: String) -> Result<JSONValue, PriceJSONError> {
    Array(text.utf8).withUnsafeBufferPointer { bytes in
        do throws(PriceJSONError) { return .success(try PriceJSONReader.parse(bytes)) } catch { return .failure(error) }
    }
}

private func message(_ text: String) -> String? {
    if case .failure(let e) = parse(text) { return e.message }
    return nil
}

@Test func acceptsStrictJSONAndKeepsNumbersAsWritten() throws {
    guard case .success(.object(let members)) = parse(#" {"a": [1, -0.5e+10, true, false, null], "b": "\u00e9\ud83d\ude00\n"} "#)
    else { Issue.record("should parse"); return }
    #expect(members.map(\.key) == ["a", "b"])
    guard case .array(let items) = members[0].value, case .number(let literal) = items[1], case .string(let s) = members[1].value
    else { Issue.record("shape"); return }
    #expect(items.count == 5)
    #expect(literal == "-0.5e+10", "the literal is kept as written")
    #expect(s == "é😀\n")
}

@Test func refusesWhatRFC8259Refuses() {
    let bad: [(String, String)] = [
        ("{\"a\":1,}", "expected a key (a string) at byte 7 (in $)"),
        ("{\"a\":01}", "invalid number (a leading zero?) at byte 6 (in $.a)"),
        ("{\"a\":1.}", "digits must follow '.'"),
        ("{\"a\":NaN}", "unexpected character 'N'"),
        ("{\"a\":\"\u{01}\"}", "raw control character in a string"),
        ("{\"a\":\"\\x\"}", "invalid escape '\\x'"),
        ("{\"a\":\"\\udc00\"}", "lone surrogate"),
        ("{\"a\":1}{}", "unexpected text after the JSON value at byte 7"),
        ("{\"a\":1,\"a\":2}", "duplicate key \"a\" at byte 7 (in $)"),
        ("[[[[[[[[[]]]]]]]]]", "nested deeper than 8 levels at byte 8"),
        ("{\"a\":tru}", "unexpected text"),
        ("", "the text ends where a value was expected"),
    ]
    for (text, expected) in bad {
        let got = message(text)
        #expect(got?.contains(expected) == true, "\(text): \(got ?? "accepted"), expected \(expected)")
    }
    #expect(message("[[[[[[[[]]]]]]]]") == nil, "eight levels are allowed")
}

@Test func pricesAreReadExactlyInPicoUnits() throws {
    let cases: [(String, UInt64)] = [
        ("0", 0), ("-0", 0), ("0.15", 150_000_000_000), ("2.50", 2_500_000_000_000), ("1e-12", 1),
        ("4E-3", 4_000_000_000), ("100", 100_000_000_000_000), ("0.000000000001", 1),
        ("10000000", 10_000_000_000_000_000_000), ("1.5e3", 1_500_000_000_000_000),
    ]
    for (literal, pico) in cases {
        #expect((try? Pico.parse(literal)) == pico, "\(literal) should be \(pico) pico-units")
    }
    #expect(throws: Pico.ParseError.negative) { try Pico.parse("-0.1") }
    #expect(throws: Pico.ParseError.tooPrecise) { try Pico.parse("0.0000000000001") }
    #expect(throws: Pico.ParseError.tooLarge) { try Pico.parse("10000000.000000000001") }
    #expect(throws: Pico.ParseError.tooLarge) { try Pico.parse("1e99999999999999999999") }
    #expect(throws: Pico.ParseError.tooPrecise) { try Pico.parse("1e-99999999999999999999") }
}

@Test func amountsPrintExactlyAndRoundHalfUp() {
    #expect(Pico.decimal(0) == "0")
    #expect(Pico.decimal(265_166_667) == "0.000265166667")
    #expect(Pico.decimal(172_500_000_000_000) == "172.5")
    #expect(Pico.decimal(UInt128(UInt64.max) * 10) == "184467440.73709551615")
    #expect(Pico.micros(499_999) == 0)
    #expect(Pico.micros(500_000) == 1)
    #expect(Pico.micros(UInt64.max) == 18_446_744_073_710)
    #expect(Pico.sum(.max, 1) == .max)
    #expect(Pico.scaled(2_500_000_000, 4_300_000_000, per: 60_000_000_000) == 179_166_667, "2.5 s at 0.0043/min")
}

/// A report's nine token fields (vt_token_usage order; -1: not reported).
private func counts(_ values: [Int64]) -> TokenCounts {
    var c = TokenCounts()
    withUnsafeMutableBytes(of: &c.fields) { raw in
        for (i, v) in values.enumerated() { raw.storeBytes(of: v, toByteOffset: 8 * i, as: Int64.self) }
    }
    return c
}

/// An entry's words as the board keeps them, for CostMath.
private func entry(_ e: PriceEntry) -> UnsafeMutablePointer<Atomic<UInt64>> {
    let words = [0] + CostMath.words(e)
    let p = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: words.count)
    for (i, w) in words.enumerated() { (p + i).initialize(to: Atomic(w)) }
    return p
}

@Test func tokensAreChargedByTypeAndModality() {
    // input 4, cached 0.4, output 16, input audio 32, output audio 64 per million (pico per million).
    var e = PriceEntry(stage: TurnStage.realtime, provider: "p", model: "*")
    let M: UInt64 = 1_000_000_000_000
    e.tokens = [4 * M, 4 * M / 10, 16 * M, nil, 32 * M, nil, 64 * M]
    let p = entry(e)
    defer { p.deallocate() }
    // input 5000 (audio 3800), cached 1000, output 2000 (audio 1500); reasoning not priced.
    let fields: [Int64] = [5000, 2000, 1000, 777, 1200, 3800, -1, 500, 1500]
    #expect(CostMath.tokens(p, counts(fields)) == 226_800 * 1_000_000, "226800 µ, as in tests/scenarios/costs")
    // Totals not reported: the modalities add up to them.
    let modal: [Int64] = [-1, -1, -1, -1, 1000, 0, -1, -1, 100]
    #expect(CostMath.tokens(p, counts(modal)) == (1000 * 4 + 100 * 64) * 1_000_000)
    // A price that is not a whole number of micro-units per million: summed exactly, rounded once.
    var odd = PriceEntry(stage: TurnStage.llm, provider: "p", model: "*")
    odd.tokens = [1, nil, 1, nil, nil, nil, nil]   // 1e-12 per million tokens
    let q = entry(odd)
    defer { q.deallocate() }
    let many: [Int64] = [1_500_000, 0, -1, -1, -1, -1, -1, -1, -1]
    #expect(CostMath.tokens(q, counts(many)) == 2, "1.5 pico rounds half up to 2")
}
