// DoubleText: the text of a Double exactly as Swift's `description` writes it (the shortest digits that
// read back as the same Double; of those, the closest; an exact tie goes to the even digit), written
// into the caller's memory without allocating. Integer arithmetic only: the value and its rounding
// interval are scaled by 5^k and a power of two, so every comparison is exact in 128 bits.
// Magnitudes from 1e-10 up to 2^53 are done here (every fraction a metric holds, and integers up
// to 2^53); others (and NaN, infinities) fall back to `description`.

enum DoubleText {
    /// The most bytes `write` produces: "-1.2345678901234567e-100" and the like.
    static let maxLength = 32

    /// `value` as Swift's `description` writes it (NaN and the infinities as "nan", "inf", "-inf").
    /// Returns the byte count written at `out` (room for maxLength bytes).
    static func write(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let magnitude = value.magnitude
        guard magnitude >= 1e-10, magnitude < 0x1p53 else { return fallback(value, to: out) }
        let (digits, exponent) = shortestDigits(magnitude)
        var at = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            at = 1
        }
        return at + format(digits, exponent, to: out + at)
    }

    private static func fallback(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var text = value.description
        return text.withUTF8 { utf8 in
            let n = min(utf8.count, maxLength)
            for i in 0..<n { out[i] = utf8[i] }
            return n
        }
    }

    /// The shortest, closest decimal of a normal `v` in [1e-10, 2^53): v ~ digits x 10^exponent.
    static func shortestDigits(_ v: Double) -> (digits: UInt64, exponent: Int) {
        let m = v.significandBitPattern | (1 << 52)
        let e = Int(v.exponentBitPattern) - 1075   // v = m * 2^e
        let even = m & 1 == 0                       // the interval's ends read back as v too
        // v and the ends of its rounding interval, times 4: v = 4m * 2^(e-2).
        let mid = 4 * m
        let upper = mid + 2
        let lower = v.significandBitPattern == 0 ? mid - 1 : mid - 2   // a power of two: a closer neighbour below
        // 17 or 18 significant digits: scale by 10^k = 5^k * 2^k, then shift right by r.
        let log10Floor = ((Int(v.exponentBitPattern) - 1023) * 78913) >> 18   // floor(log2(v) * log10(2))
        let k = 16 - log10Floor                                             // 1...27
        let r = 2 - e - k                                                   // 2...62
        let five = powersOfFive[k]
        let (t, _) = scaled(mid, five, r)
        var (lo, loExact) = scaled(lower, five, r)
        if !loExact || !even { lo += 1 }   // ceiling; an excluded end is not a candidate
        var (hi, hiExact) = scaled(upper, five, r)
        if hiExact && !even { hi -= 1 }
        // The fewest digits: the largest power of ten 10^dropped with a multiple inside [lo, hi].
        // lo, hi and t are kept divided by it (ceiling, floor, floor), in steps of constant divisors.
        var dropped = 0
        var below = t
        func drop(_ power: UInt64, _ digits: Int) -> Bool {
            let loQ = lo / power + (lo % power == 0 ? 0 : 1)
            guard hi / power >= loQ else { return false }
            lo = loQ
            hi /= power
            below /= power
            dropped += digits
            return true
        }
        while drop(100_000_000, 8) {}
        _ = drop(10_000, 4)
        _ = drop(100, 2)
        _ = drop(10, 1)
        // Of the (at most two) multiples around v, the one inside and closest; a tie goes to even.
        let belowInside = below >= lo
        let aboveInside = below + 1 <= hi
        var chosen = belowInside ? below : below + 1
        if belowInside && aboveInside {
            // 2v against the midpoint (2 below + 1) * 10^dropped, both times 10^k * 2^(r+1) / 10^k.
            let (vHigh, vLow) = mid.multipliedFullWidth(by: five)
            let twiceV = (UInt128(vHigh) << 64 | UInt128(vLow)) << 1
            let midpoint = UInt128((2 * below + 1) * powersOfTen[dropped]) << UInt128(r)
            if twiceV > midpoint || (twiceV == midpoint && below & 1 == 1) { chosen = below + 1 }
        }
        return (chosen, dropped - k)
    }

    /// floor(x * five / 2^r) (it fits 64 bits here) and whether that division was exact. r: 1...63.
    @inline(__always)
    private static func scaled(_ x: UInt64, _ five: UInt64, _ r: Int) -> (UInt64, Bool) {
        let (high, low) = x.multipliedFullWidth(by: five)
        let quotient = high << UInt64(64 - r) | low >> UInt64(r)
        return (quotient, low & ((1 << UInt64(r)) - 1) == 0)
    }

    private static let powersOfFive: [UInt64] = (0...27).map { (0..<$0).reduce(UInt64(1)) { p, _ in p * 5 } }
    private static let powersOfTen: [UInt64] = (0...18).map { (0..<$0).reduce(UInt64(1)) { p, _ in p * 10 } }

    /// digits x 10^exponent in Swift's layout: "1.5e-07", "0.0025", "123.45", "1000000000000000.0".
    private static func format(_ digits: UInt64, _ exponent: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)   // the digits, most significant first
        let count = withUnsafeMutableBytes(of: &text) { raw in
            Number.writeDecimal(digits, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        let leading = exponent + count - 1   // the power of ten of the first digit
        return withUnsafeBytes(of: &text) { raw -> Int in
            let d = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var at = 0
            func put(_ byte: UInt8) { out[at] = byte; at += 1 }
            if leading < -4 {
                put(d[0])
                if count > 1 {
                    put(UInt8(ascii: "."))
                    for i in 1..<count { put(d[i]) }
                }
                put(UInt8(ascii: "e"))
                put(UInt8(ascii: "-"))
                let power = -leading
                if power >= 100 { put(UInt8(ascii: "0") + UInt8(power / 100)) }
                put(UInt8(ascii: "0") + UInt8(power / 10 % 10))
                put(UInt8(ascii: "0") + UInt8(power % 10))
            } else if leading < 0 {
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "."))
                for _ in 0..<(-leading - 1) { put(UInt8(ascii: "0")) }
                for i in 0..<count { put(d[i]) }
            } else if leading + 1 < count {
                for i in 0...leading { put(d[i]) }
                put(UInt8(ascii: "."))
                for i in (leading + 1)..<count { put(d[i]) }
            } else {
                for i in 0..<count { put(d[i]) }
                for _ in 0..<(leading + 1 - count) { put(UInt8(ascii: "0")) }
                put(UInt8(ascii: "."))
                put(UInt8(ascii: "0"))
            }
            return at
        }
    }
}

/// Decimal integers into memory.
enum Number {
    /// The decimal digits of `value` at `out` (room for 20 bytes); returns their count.
    @inline(__always)
    static func writeDecimal(_ value: UInt64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let count = digitCount(value)
        var rest = value
        var i = count
        while i > 0 {
            i -= 1
            out[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        return count
    }

    @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        var count = 1
        var limit: UInt64 = 10
        while count < 20 && value >= limit {
            count += 1
            limit = count < 20 ? limit * 10 : limit
        }
        return count
    }
}

/// Sample values in exposition text, written into memory.
enum PromNumber {
    /// `value` as TextOutput.promNumber gives it, at `out` (room for DoubleText.maxLength bytes).
    static func write(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        if value.isNaN { return copy("NaN", to: out) }
        if value == .infinity { return copy("+Inf", to: out) }
        if value == -.infinity { return copy("-Inf", to: out) }
        if value.magnitude < 1e15, Double(Int64(value)) == value {   // integral: no ".0"
            let whole = Int64(value)
            if whole < 0 {
                out[0] = UInt8(ascii: "-")
                return 1 + Number.writeDecimal(whole.magnitude, to: out + 1)
            }
            return Number.writeDecimal(UInt64(whole), to: out)
        }
        return DoubleText.write(value, to: out)
    }

    private static func copy(_ text: StaticString, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        return text.utf8CodeUnitCount
    }
}
