// ByteWriter: decimal digits (two at a time) and JSON string escaping into a fixed buffer.
import Testing
@testable import VoiceTelemetry

private func written(_ body: (inout ByteWriter) -> Void) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    return buffer.withUnsafeMutableBufferPointer { raw -> String in
        var out = ByteWriter(base: raw.baseAddress!, capacity: raw.count)
        body(&out)
        return String(decoding: UnsafeBufferPointer(start: raw.baseAddress, count: out.count), as: UTF8.self)
    }
}

@Test func decimalMatchesTheStandardLibrary() {
    var values: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 1_700_000_000_000_000, UInt64.max, UInt64.max - 1]
    var power: UInt64 = 10
    for _ in 1...19 {   // every power of ten and its neighbours (the 16-digit fast path ends at 10^16)
        values += [power - 1, power, power + 1]
        power = power &* 10
    }
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for _ in 0..<2000 {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        values.append(x >> (x % 64))
    }
    for v in values {
        #expect(written { $0.decimal(v) } == String(v), "decimal(\(v))")
    }
}

@Test func jsonStringEscapesOnlyWhatItMust() {
    let text = "plain é \"q\" \\ \n\t\u{01}end"
    let utf8 = Array(text.utf8)
    let out = utf8.withUnsafeBufferPointer { b in written { $0.jsonString(b.baseAddress!, b.count) } }
    #expect(out == #""plain é \"q\" \\ \n\t\u0001end""#)
}

@Test func copyMovesExactlyTheBytesAskedFor() {
    // Every length through the inline sizes and past them, at odd offsets: the target holds the
    // source's bytes and nothing around it changed.
    let source = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    for n in 0...200 {
        var target = [UInt8](repeating: 0xEE, count: n + 6)
        source.withUnsafeBytes { s in
            target.withUnsafeMutableBytes { t in ByteWriter.copy(to: t.baseAddress! + 3, from: s.baseAddress! + 5, n) }
        }
        #expect(Array(target[3..<(3 + n)]) == Array(source[5..<(5 + n)]), "\(n) bytes")
        #expect(target[0..<3].allSatisfy { $0 == 0xEE } && target[(3 + n)...].allSatisfy { $0 == 0xEE }, "\(n): outside untouched")
    }
}
