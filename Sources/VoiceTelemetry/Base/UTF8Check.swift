// UTF8Check: strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF) over borrowed bytes, without
// allocating. One sequence rule, used by every caller that validates text: C strings (ids, turn
// texts) and JSON strings (the event validator).

enum UTF8Check {
    /// Length (1-4) of the valid UTF-8 sequence at bytes[i] (i < n), or 0 if it is not valid.
    @inline(__always)
    static func sequenceLength(_ bytes: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
        let c = bytes[i]
        if c < 0x80 { return 1 }
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0          // no overlongs
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED: length = 3; high = 0x9F         // no surrogates
        case 0xF0: length = 4; low = 0x90          // no overlongs
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F         // nothing above U+10FFFF
        default: return 0
        }
        guard i + length <= n, bytes[i + 1] >= low, bytes[i + 1] <= high else { return 0 }
        var k = 2
        while k < length {
            if bytes[i + k] & 0xC0 != 0x80 { return 0 }
            k += 1
        }
        return length
    }

    /// The number of Unicode scalars in the n bytes, or nil if they are not valid UTF-8.
    static func characters(_ bytes: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 0, chars = 0
        while i < n {
            let length = sequenceLength(bytes, i, n)
            if length == 0 { return nil }
            i += length
            chars += 1
        }
        return chars
    }

    /// The UTF-8 bytes of `text`, at most `maxBytes` of them, cut before a character and never inside
    /// one: the one cutting rule of every fixed-size text the library writes.
    static func prefix(_ text: String, maxBytes: Int) -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count > maxBytes else { return utf8 }
        var end = Swift.max(maxBytes, 0)
        while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }   // a continuation byte: inside a character
        return Array(utf8[..<end])
    }
}
