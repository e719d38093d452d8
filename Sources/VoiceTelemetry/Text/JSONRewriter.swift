// JSONRewriter: a strict RFC 8259 validator that copies the document it validates into a ByteWriter,
// rewriting transcript strings per a session's TextPolicy on the way (one pass, no allocation).
//
// Strict means: UTF-8 checked byte by byte (no overlongs, no surrogates, nothing above U+10FFFF), no
// control characters in strings, only the escapes of the RFC, numbers per the RFC grammar (no leading
// zeros, no bare '.', no NaN/Infinity), no trailing commas, nothing after the value but whitespace,
// nesting at most `maxDepth`. Whitespace outside strings is not copied.
//
// Transcript keys: "text", "transcript" and keys ending in "_text" or "_transcript" (compared on the
// raw key bytes). Their string values are replaced by "[redacted N chars]" or truncated to
// TextPolicy.maxChars characters (an escape sequence counts as one character).

#if canImport(Glibc)
import Glibc
#endif

struct JSONRewriter {
    static let maxDepth = 64

    struct Problem: Error {
        let reason: StaticString
        let offset: Int
    }

    private let input: UnsafePointer<UInt8>
    private let end: Int
    private var pos = 0
    private var depth = 0
    var out: ByteWriter
    /// nil: copy strings unchanged.
    private let policy: TextPolicy?
    /// When set, the top-level members (key, value byte range in the input) are collected here.
    var members: [(key: String, value: Range<Int>)]?

    init(input: UnsafePointer<UInt8>, count: Int, into out: ByteWriter, policy: TextPolicy?) {
        self.input = input
        self.end = count
        self.out = out
        self.policy = policy
    }

    /// Validate (and copy) a document whose top-level value must be an object.
    mutating func rewriteObject() throws(Problem) {
        skipSpace()
        guard pos < end, input[pos] == UInt8(ascii: "{") else { throw Problem(reason: "the top-level value is not an object", offset: pos) }
        try value(textKey: false)
        skipSpace()
        guard pos == end else { throw Problem(reason: "unexpected data after the value", offset: pos) }
    }

    // MARK: - Grammar

    @inline(__always)
    private mutating func skipSpace() {
        while pos < end {
            switch input[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func value(textKey: Bool) throws(Problem) {
        skipSpace()
        guard pos < end else { throw Problem(reason: "a value is missing", offset: pos) }
        switch input[pos] {
        case UInt8(ascii: "{"): try object()
        case UInt8(ascii: "["): try array()
        case UInt8(ascii: "\""):
            if textKey, let policy { try transcript(policy) } else { _ = try string(copy: true) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    @inline(__always)
    private mutating func enter() throws(Problem) {
        depth += 1
        guard depth <= Self.maxDepth else { throw Problem(reason: "nesting is deeper than 64", offset: pos) }
    }

    private mutating func object() throws(Problem) {
        try enter()
        out.byte(input[pos])
        pos += 1
        skipSpace()
        if pos < end, input[pos] == UInt8(ascii: "}") {
            out.byte(input[pos]); pos += 1; depth -= 1
            return
        }
        while true {
            skipSpace()
            guard pos < end, input[pos] == UInt8(ascii: "\"") else { throw Problem(reason: "an object key must be a string", offset: pos) }
            let keyStart = pos + 1
            _ = try string(copy: true)
            let keyEnd = pos - 1
            let isText = policy != nil && Self.isTranscriptKey(rawKey: input + keyStart, keyEnd - keyStart)
            skipSpace()
            guard pos < end, input[pos] == UInt8(ascii: ":") else { throw Problem(reason: "':' expected after an object key", offset: pos) }
            out.byte(input[pos])
            pos += 1
            skipSpace()
            let valueStart = pos
            try value(textKey: isText)
            if depth == 1, members != nil {
                let key = String(decoding: UnsafeBufferPointer(start: input + keyStart, count: keyEnd - keyStart), as: UTF8.self)
                members?.append((key, valueStart..<pos))
            }
            skipSpace()
            guard pos < end else { throw Problem(reason: "unterminated object", offset: pos) }
            if input[pos] == UInt8(ascii: ",") { out.byte(input[pos]); pos += 1; continue }
            if input[pos] == UInt8(ascii: "}") { out.byte(input[pos]); pos += 1; depth -= 1; return }
            throw Problem(reason: "',' or '}' expected in an object", offset: pos)
        }
    }

    private mutating func array() throws(Problem) {
        try enter()
        out.byte(input[pos])
        pos += 1
        skipSpace()
        if pos < end, input[pos] == UInt8(ascii: "]") {
            out.byte(input[pos]); pos += 1; depth -= 1
            return
        }
        while true {
            try value(textKey: false)
            skipSpace()
            guard pos < end else { throw Problem(reason: "unterminated array", offset: pos) }
            if input[pos] == UInt8(ascii: ",") { out.byte(input[pos]); pos += 1; continue }
            if input[pos] == UInt8(ascii: "]") { out.byte(input[pos]); pos += 1; depth -= 1; return }
            throw Problem(reason: "',' or ']' expected in an array", offset: pos)
        }
    }

    @inline(__always)
    private mutating func literal(_ word: StaticString) throws(Problem) {
        let n = word.utf8CodeUnitCount
        guard end - pos >= n else { throw Problem(reason: "invalid literal", offset: pos) }
        for i in 0..<n where input[pos + i] != word.utf8Start[i] {
            throw Problem(reason: "invalid literal", offset: pos)
        }
        out.bytes(input + pos, n)
        pos += n
    }

    private func isDigit(_ i: Int) -> Bool { i < end && input[i] >= UInt8(ascii: "0") && input[i] <= UInt8(ascii: "9") }

    @inline(__always)
    private mutating func number() throws(Problem) {
        let start = pos
        var i = pos
        if i < end, input[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw Problem(reason: "invalid value", offset: start) }
        if input[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw Problem(reason: "a number has a leading zero", offset: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < end, input[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw Problem(reason: "a digit must follow the decimal point", offset: i) }
            while isDigit(i) { i += 1 }
        }
        if i < end, input[i] == UInt8(ascii: "e") || input[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw Problem(reason: "a digit must follow the exponent", offset: i) }
            while isDigit(i) { i += 1 }
        }
        out.bytes(input + start, i - start)
        pos = i
    }

    /// True when none of the eight bytes of `x` is a control character, non-ASCII, '"' or '\\'.
    @inline(__always)
    static func isPlainASCII(_ x: UInt64) -> Bool { specialBytes(x) == 0 }

    /// The high bit of every byte of `x` (in memory order, little-endian) that is a control
    /// character, non-ASCII, '"' or '\\'; 0 if there is none. Exact for the lowest byte flagged, so
    /// `trailingZeroBitCount / 8` is the offset of the first such byte. (A byte above a flagged one
    /// may be flagged wrongly: the subtractions borrow across bytes.)
    @inline(__always)
    static func specialBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let below0x20 = (x &- ones &* 0x20) & ~x & highs   // exact for bytes < 0x80
        return (x & highs) | below0x20 | zeroBytes(x ^ (ones &* 0x22)) | zeroBytes(x ^ (ones &* 0x5C))
    }

    /// The value of four hex digits at `i`, or nil.
    private func hex4(at i: Int) -> UInt32? {
        guard i + 3 < end else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            let c = input[i + k]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
            || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    /// Length in bytes of the one (escaped or UTF-8) character at `i` inside a string; 0 at the
    /// closing quote. Throws on anything invalid.
    @inline(__always)
    private func character(at i: Int) throws(Problem) -> Int {
        guard i < end else { throw Problem(reason: "unterminated string", offset: i) }
        let c = input[i]
        if c == UInt8(ascii: "\"") { return 0 }
        if c < 0x20 { throw Problem(reason: "a control character in a string must be escaped", offset: i) }
        if c == UInt8(ascii: "\\") {
            guard i + 1 < end else { throw Problem(reason: "unterminated escape", offset: i) }
            switch input[i + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return 2
            case UInt8(ascii: "u"):
                guard let unit = hex4(at: i + 2) else { throw Problem(reason: "\\u needs four hex digits", offset: i) }
                // A surrogate pair written as two escapes is one character (never split, counted once).
                if unit >= 0xD800, unit < 0xDC00, i + 11 < end, input[i + 6] == UInt8(ascii: "\\"),
                   input[i + 7] == UInt8(ascii: "u"), let low = hex4(at: i + 8), low >= 0xDC00, low < 0xE000 {
                    return 12
                }
                return 6
            default:
                throw Problem(reason: "invalid escape in a string", offset: i)
            }
        }
        let n = UTF8Check.sequenceLength(input, i, end)
        guard n > 0 else { throw Problem(reason: "invalid UTF-8", offset: i) }
        return n
    }

    /// A string at `pos` (the opening quote); returns its length in characters.
    @inline(__always)
    private mutating func string(copy: Bool) throws(Problem) -> Int {
        let start = pos
        var i = pos + 1
        var chars = 0
        let input = self.input, end = self.end
        while true {
            // Fast paths: a run of plain printable ASCII needs no per-character checks; eight bytes
            // are tested at a time (SWAR) while they all are.
            while i + 8 <= end, Self.isPlainASCII(UnsafeRawPointer(input + i).loadUnaligned(as: UInt64.self)) {
                i += 8
                chars += 8
            }
            while i < end {
                let c = input[i]
                guard c &- 0x20 < 0x60, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") else { break }
                i += 1
                chars += 1
            }
            let n = try character(at: i)
            if n == 0 { break }
            i += n
            chars += 1
        }
        i += 1   // closing quote
        if copy { out.bytes(input + start, i - start) }
        pos = i
        return chars
    }

    private mutating func transcript(_ policy: TextPolicy) throws(Problem) {
        let start = pos
        if !policy.include {
            let chars = try string(copy: false)
            out.ascii("\"[redacted ")
            out.decimal(UInt64(chars))
            out.ascii(" chars]\"")
            return
        }
        var i = pos + 1
        var chars = 0
        var cut = -1
        while true {
            let n = try character(at: i)
            if n == 0 { break }
            if chars == policy.maxChars { cut = i }
            i += n
            chars += 1
        }
        i += 1
        if cut < 0 {
            out.bytes(input + start, i - start)
        } else {
            out.bytes(input + start, cut - start)
            out.byte(UInt8(ascii: "\""))
        }
        pos = i
    }

    /// As isTranscriptKey, for a key as written in the document: escapes (e.g. "te\\u0078t") are
    /// decoded first, so no spelling of a transcript key gets past the policy.
    static func isTranscriptKey(rawKey key: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard n >= 4 else { return false }   // "text" is the shortest, and escapes only lengthen
        guard memchr(key, Int32(UInt8(ascii: "\\")), n) != nil else {
            // Every transcript key ends in 't': most keys are settled by one byte.
            return key[n - 1] == UInt8(ascii: "t") && isTranscriptKey(key, n)
        }
        // Decode into a buffer; a transcript key is ASCII, so a non-ASCII escape can only be part of
        // a name that is no transcript key, and its exact bytes do not matter.
        var decoded = [UInt8]()
        decoded.reserveCapacity(n)
        var i = 0
        while i < n {
            if key[i] == UInt8(ascii: "\\"), i + 1 < n {
                switch key[i + 1] {
                case UInt8(ascii: "u"):
                    var value: UInt32 = 0
                    var ok = i + 5 < n
                    if ok {
                        for k in 2..<6 {
                            let c = key[i + k]
                            let digit: UInt32
                            switch c {
                            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                            default: ok = false; digit = 0
                            }
                            value = value << 4 | digit
                        }
                    }
                    decoded.append(ok && value < 0x80 ? UInt8(value) : 0xFF)
                    i += 6
                case UInt8(ascii: "b"): decoded.append(0x08); i += 2
                case UInt8(ascii: "f"): decoded.append(0x0C); i += 2
                case UInt8(ascii: "n"): decoded.append(0x0A); i += 2
                case UInt8(ascii: "r"): decoded.append(0x0D); i += 2
                case UInt8(ascii: "t"): decoded.append(0x09); i += 2
                default: decoded.append(key[i + 1]); i += 2
                }
            } else {
                decoded.append(key[i])
                i += 1
            }
        }
        return decoded.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return isTranscriptKey(base, buffer.count)
        }
    }

    static func isTranscriptKey(_ key: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        func equals(_ word: StaticString, at offset: Int) -> Bool {
            let m = word.utf8CodeUnitCount
            guard offset >= 0, offset + m == n else { return false }
            for i in 0..<m where key[offset + i] != word.utf8Start[i] { return false }
            return true
        }
        return equals("text", at: 0) || equals("transcript", at: 0) || equals("_text", at: n - 5)
            || equals("_transcript", at: n - 11)
    }
}
