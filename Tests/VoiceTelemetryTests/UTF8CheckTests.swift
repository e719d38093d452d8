// UTF8Check: the one rule for cutting text to a byte limit.
import Testing
@testable import VoiceTelemetry

@Test func utf8PrefixCutsBeforeACharacterNeverInsideOne() {
    let text = "a\u{e9}\u{20ac}\u{1F600}"   // 1 + 2 + 3 + 4 bytes
    let cuts = [0: 0, 1: 1, 2: 1, 3: 3, 4: 3, 5: 3, 6: 6, 7: 6, 8: 6, 9: 6, 10: 10, 11: 10]
    for (maxBytes, kept) in cuts.sorted(by: { $0.key < $1.key }) {
        #expect(UTF8Check.prefix(text, maxBytes: maxBytes) == Array(text.utf8.prefix(kept)), "maxBytes \(maxBytes)")
    }
}
