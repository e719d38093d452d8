// ByteWriter: appends bytes into a fixed buffer it does not own (a stack buffer while an event is
// built). Never allocates; writing past the end sets `overflowed` and drops the bytes.

struct ByteWriter {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0
    private(set) var overflowed = false

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        guard count < capacity else { overflowed = true; return }
        base[count] = b
        count += 1
    }

    @inline(__always)
    mutating func bytes(_ source: UnsafePointer<UInt8>, _ n: Int) {
        guard n <= capacity - count else { overflowed = true; return }
        Self.copy(to: base + count, from: source, n)
        count += n
    }

    /// Copy `n` bytes (the regions do not overlap). Up to 128 bytes (keys, ids, most payloads) with
    /// inline, overlapping word moves instead of a call to memmove, which costs more than the copy;
    /// never touches a byte outside either region.
    @inline(__always)
    static func copy(to target: UnsafeMutableRawPointer, from source: UnsafeRawPointer, _ n: Int) {
        typealias Chunk = SIMD16<UInt8>
        if n >= 16 {
            guard n <= 128 else {
                target.copyMemory(from: source, byteCount: n)
                return
            }
            var i = 0
            while i + 16 < n {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: Chunk.self), toByteOffset: i, as: Chunk.self)
                i += 16
            }
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n - 16, as: Chunk.self), toByteOffset: n - 16, as: Chunk.self)
        } else if n >= 8 {
            let head = source.loadUnaligned(as: UInt64.self), last = source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: last, toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            let head = source.loadUnaligned(as: UInt32.self), last = source.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: last, toByteOffset: n - 4, as: UInt32.self)
        } else if n > 0 {
            let first = source.load(as: UInt8.self), middle = source.load(fromByteOffset: n >> 1, as: UInt8.self)
            let last = source.load(fromByteOffset: n - 1, as: UInt8.self)
            target.storeBytes(of: first, as: UInt8.self)
            target.storeBytes(of: middle, toByteOffset: n >> 1, as: UInt8.self)
            target.storeBytes(of: last, toByteOffset: n - 1, as: UInt8.self)
        }
    }

    @inline(__always)
    mutating func ascii(_ text: StaticString) {
        bytes(text.utf8Start, text.utf8CodeUnitCount)
    }

    /// "00" "01" ... "99": two digits per division (a timestamp has 16).
    private static let digitPairs: StaticString = """
        0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """

    /// Decimal digits of `value`.
    mutating func decimal(_ value: UInt64) {
        if value < 10_000_000_000_000_000, decimal16(value) { return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch, enough for 20 digits
        let pairs = Self.digitPairs.utf8Start
        withUnsafeMutableBytes(of: &digits) { scratch in
            var v = value
            var i = scratch.count
            while v >= 100 {
                let pair = Int(v % 100) * 2
                v /= 100
                i -= 2
                scratch[i] = pairs[pair]
                scratch[i + 1] = pairs[pair + 1]
            }
            if v >= 10 {
                i -= 2
                scratch[i] = pairs[Int(v) * 2]
                scratch[i + 1] = pairs[Int(v) * 2 + 1]
            } else {
                i -= 1
                scratch[i] = UInt8(ascii: "0") &+ UInt8(v)
            }
            if let start = scratch.baseAddress {
                bytes(start.assumingMemoryBound(to: UInt8.self) + i, scratch.count - i)
            }
        }
    }

    /// `decimal` for value < 10^16 (every timestamp in microseconds): the sixteen zero-padded digits
    /// built in registers from four independent groups of four (short chains of divisions instead
    /// of eight in a row), shifted past the leading zeros and stored in one 16-byte write (which
    /// needs 16 bytes of room; the bytes past the digits are not counted).
    @inline(__always)
    private mutating func decimal16(_ value: UInt64) -> Bool {
        guard capacity - count >= 16 else { return false }
        let pairs = UnsafeRawPointer(Self.digitPairs.utf8Start)
        func four(_ v: UInt32) -> UInt64 {
            UInt64(pairs.loadUnaligned(fromByteOffset: Int(v / 100) * 2, as: UInt16.self))
                | UInt64(pairs.loadUnaligned(fromByteOffset: Int(v % 100) * 2, as: UInt16.self)) << 16
        }
        let high = UInt32(truncatingIfNeeded: value / 100_000_000), low = UInt32(truncatingIfNeeded: value % 100_000_000)
        let first = four(high / 10_000) | four(high % 10_000) << 32     // digits 1-8, in memory order
        let second = four(low / 10_000) | four(low % 10_000) << 32      // digits 9-16
        let n = Self.decimalDigits(value)
        let digits = (UInt128(second) << 64 | UInt128(first)) >> UInt128(8 * (16 - n))
        UnsafeMutableRawPointer(base + count).storeBytes(of: digits, as: UInt128.self)
        count += n
        return true
    }

    /// Decimal digits of `v` (1 for 0).
    @inline(__always)
    static func decimalDigits(_ v: UInt64) -> Int {
        // floor(log10(2^bits)) + 1 is the digit count of the largest value with that many bits; one
        // comparison corrects it for smaller ones. 1233 / 4096 approximates log10(2).
        let bits = UInt64.bitWidth - v.leadingZeroBitCount
        let guess = (bits * 1233) >> 12 + 1
        return guess > 1 && v < powersOfTen[guess - 1] ? guess - 1 : guess
    }

    /// 10^0 ... 10^19, as literals: a constant table (initialised statically, no lazy-init check per use).
    private static let powersOfTen: [UInt64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ]

    /// A JSON string literal of `n` bytes of valid UTF-8, escaped.
    mutating func jsonString(_ source: UnsafePointer<UInt8>, _ n: Int) {
        byte(UInt8(ascii: "\""))
        var i = 0
        while i < n {
            // Copy each run that needs no escaping in one go (UTF-8 was validated on the way in).
            let start = i
            while i < n, source[i] >= 0x20, source[i] != UInt8(ascii: "\""), source[i] != UInt8(ascii: "\\") { i += 1 }
            if i > start { bytes(source + start, i - start) }
            guard i < n else { break }
            let c = source[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""): ascii("\\\"")
            case UInt8(ascii: "\\"): ascii("\\\\")
            case 0x0A: ascii("\\n")
            case 0x0D: ascii("\\r")
            case 0x09: ascii("\\t")
            case 0..<0x20:
                ascii("\\u00")
                byte(Self.hex(c >> 4))
                byte(Self.hex(c & 0xF))
            default: byte(c)
            }
        }
        byte(UInt8(ascii: "\""))
    }

    /// How many bytes `jsonString` adds to `n` bytes of text by escaping (the quotes not counted), or
    /// nil if the bytes are not valid UTF-8 (one pass does both: event ids are checked with it).
    @inline(__always)
    static func escapeExtra(_ source: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var extra = 0
        var i = 0
        while i < n {
            // Eight bytes at a time (the last few gathered into a word): skip plain ones.
            var special: UInt64
            if i + 8 <= n {
                special = JSONRewriter.specialBytes(UnsafeRawPointer(source + i).loadUnaligned(as: UInt64.self))
                if special == 0 {
                    i += 8
                    continue
                }
            } else {
                var word: UInt64 = 0
                for k in 0..<(n - i) { word |= UInt64(source[i + k]) << UInt64(k * 8) }
                special = JSONRewriter.specialBytes(word) & ((1 << UInt64((n - i) * 8)) - 1)
                if special == 0 { break }
            }
            i += special.trailingZeroBitCount >> 3
            let c = source[i]
            if c < 0x80 {
                extra += escapeExtra(c)
                i += 1
                continue
            }
            let length = UTF8Check.sequenceLength(source, i, n)
            guard length > 0 else { return nil }
            i += length
        }
        return extra
    }

    /// Bytes `jsonString` adds for one byte: 1 for a two-character escape, 5 for \u00XX.
    @inline(__always)
    static func escapeExtra(_ c: UInt8) -> Int {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: return 1
        case 0..<0x20: return 5
        default: return 0
        }
    }

    mutating func jsonString(_ text: String) {
        var copy = text
        copy.withUTF8 { utf8 in
            if let start = utf8.baseAddress { jsonString(start, utf8.count) } else { ascii("\"\"") }
        }
    }

    @inline(__always)
    static func hex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
    }
}
