// Pico: amounts of money as integers of pico-units (1e-12 of the price table's currency). Prices are
// read from their decimal text exactly; amounts are added as integers (so a million additions drift
// by nothing) and shown as micro-units (1e-6) rounded half up, or as an exact decimal in Prometheus.

enum Pico {
    static let perUnit: UInt64 = 1_000_000_000_000
    static let perMicro: UInt64 = 1_000_000
    /// The largest unit price accepted: 10 million currency units (per million tokens, per minute, per
    /// million characters); larger prices are taken for a mistake.
    static let maxPrice: UInt64 = 10_000_000 * perUnit

    enum ParseError: Error {
        case negative, tooPrecise, tooLarge
    }

    /// A JSON number literal (grammar already checked) as pico-units: exact, or an error when the
    /// value is negative, has more than 12 decimal places or is above `maxPrice`.
    static func parse(_ literal: String) throws(ParseError) -> UInt64 {
        var digits: [UInt8] = []
        var fraction = 0, exponent = 0, negative = false
        var inFraction = false, inExponent = false, exponentNegative = false
        for c in literal.utf8 {
            switch c {
            case UInt8(ascii: "-"): if inExponent { exponentNegative = true } else { negative = true }
            case UInt8(ascii: "+"): break
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            default:
                let d = c &- UInt8(ascii: "0")
                if inExponent {
                    exponent = Swift.min(exponent * 10 + Int(d), 100_000)   // beyond any price's range either way
                } else {
                    if !(digits.isEmpty && d == 0) { digits.append(d) }   // leading zeros dropped
                    if inFraction { fraction += 1 }
                }
            }
        }
        if exponentNegative { exponent = -exponent }
        while let last = digits.last, last == 0 { digits.removeLast(); fraction -= 1 }   // trailing zeros
        if digits.isEmpty { return 0 }   // zero, whatever its sign
        if negative { throw .negative }
        // value = digits * 10^(exponent - fraction); in pico-units: digits * 10^(shift).
        let shift = exponent - fraction + 12
        if shift < 0 { throw .tooPrecise }
        guard digits.count + shift <= 20 else { throw .tooLarge }
        var value: UInt64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { throw .tooLarge }
            value = a
        }
        for _ in 0..<shift {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            if o { throw .tooLarge }
            value = m
        }
        guard value <= maxPrice else { throw .tooLarge }
        return value
    }

    /// `amount` as a decimal number of currency units: the integer part, then up to 12 decimals
    /// without trailing zeros ("0", "2.5", "0.000000000001").
    static func decimal(_ amount: UInt128) -> String {
        let whole = amount / UInt128(perUnit)
        var fraction = UInt64(amount % UInt128(perUnit))
        guard fraction != 0 else { return String(whole) }
        var places = 12
        while fraction % 10 == 0 { fraction /= 10; places -= 1 }
        let text = String(fraction)
        return String(whole) + "." + String(repeating: "0", count: places - text.count) + text
    }

    /// Micro-units, rounded half up.
    static func micros(_ amount: UInt64) -> UInt64 {
        amount / perMicro + (amount % perMicro >= perMicro / 2 ? 1 : 0)
    }

    /// a + b, stopping at UInt64.max.
    @inline(__always)
    static func sum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? .max : s
    }

    /// quantity * price / divisor, rounded half up, stopping at UInt64.max.
    @inline(__always)
    static func scaled(_ quantity: UInt64, _ price: UInt64, per divisor: UInt64) -> UInt64 {
        let product = UInt128(quantity) * UInt128(price)
        let q = (product + UInt128(divisor / 2)) / UInt128(divisor)
        return q > UInt128(UInt64.max) ? .max : UInt64(q)
    }
}
