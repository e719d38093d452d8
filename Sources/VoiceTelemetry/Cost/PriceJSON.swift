// PriceJSON: a small strict JSON reader (RFC 8259) for the price table. It builds a tree of values
// whose numbers stay the literal text (a price is read from its decimal digits exactly, never through
// a Double), refuses duplicate keys, bounds the nesting, and names the path of the value it was
// reading in every error ($.prices[2].input). Not a hot path: it runs in vt_set_prices only.

indirect enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// The number literal as written (grammar checked).
    case number(String)
    case bool(Bool)
    case null

    var typeName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// Where a value sits in a document: "$", "$.prices", "$.prices[2].input".
struct JSONPath: CustomStringConvertible {
    enum Part { case key(String), index(Int) }
    var parts: [Part] = []

    func appending(_ part: Part) -> JSONPath { JSONPath(parts: parts + [part]) }

    var description: String {
        var text = "$"
        for part in parts {
            switch part {
            case .key(let k): text += "." + k
            case .index(let i): text += "[\(i)]"
            }
        }
        return text
    }
}

struct PriceJSONError: Error {
    let message: String
}

struct PriceJSONReader {
    /// Containers nest at most this deep (the price table needs three).
    static let maxDepth = 8

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var path = JSONPath()

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The one value of a document (whitespace around it allowed, nothing else).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(PriceJSONError) -> JSONValue {
        var reader = PriceJSONReader(bytes)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.i == bytes.count else { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ what: String) -> PriceJSONError {
        PriceJSONError(message: "\(what) at byte \(i) (in \(path))")
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws(PriceJSONError) {
        guard peek == c else { throw error(peek == nil ? "the text ends where \(what) was expected" : "expected \(what)") }
        i += 1
    }

    private mutating func value(depth: Int) throws(PriceJSONError) -> JSONValue {
        guard let c = peek else { throw error("the text ends where a value was expected") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character '\(Self.printable(c))' (NaN, Infinity and comments are not JSON)")
        }
    }

    private static func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    private mutating func literal(_ word: StaticString) throws(PriceJSONError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected text") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw error("unexpected text") }
        i += n
    }

    private mutating func object(depth: Int) throws(PriceJSONError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a key (a string)") }
            let keyStart = i
            let key = try string()
            guard seen.insert(key).inserted else {
                i = keyStart
                throw error("duplicate key \"\(key)\"")
            }
            skipSpace()
            try expect(UInt8(ascii: ":"), "':'")
            skipSpace()
            let saved = path
            path = path.appending(.key(key))
            let v = try value(depth: depth)
            path = saved
            members.append((key, v))
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return .object(members)
        }
    }

    private mutating func array(depth: Int) throws(PriceJSONError) -> JSONValue {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            let saved = path
            path = path.appending(.index(items.count))
            let v = try value(depth: depth)
            path = saved
            items.append(v)
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .array(items)
        }
    }

    /// A string at bytes[i] == '"': escapes decoded, UTF-8 checked, no raw control characters.
    private mutating func string() throws(PriceJSONError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw error("raw control character in a string") }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
                continue
            }
            let n = UTF8Check.sequenceLength(bytes.baseAddress.unsafelyUnwrapped, i, bytes.count)
            guard n > 0 else { throw error("invalid UTF-8") }
            out.append(contentsOf: bytes[i..<(i + n)])
            i += n
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func escape(into out: inout [UInt8]) throws(PriceJSONError) {
        guard i + 1 < bytes.count else { throw error("unterminated string") }
        let e = bytes[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {   // a high surrogate: its low half must follow
                guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                    throw error("lone surrogate in \\u escape")
                }
                i += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw error("lone surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw error("lone surrogate in \\u escape")
            }
            guard let u = UnicodeScalar(scalar) else { throw error("invalid \\u escape") }
            out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
            i -= 1
            throw error("invalid escape '\\\(Self.printable(e))'")
        }
    }

    private mutating func hex4() throws(PriceJSONError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, returned as written.
    private mutating func number() throws(PriceJSONError) -> String {
        let start = i
        func digits(_ r: inout PriceJSONReader) -> Int {
            let s = r.i
            while let c = r.peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { r.i += 1 }
            return r.i - s
        }
        if peek == UInt8(ascii: "-") { i += 1 }
        if peek == UInt8(ascii: "0") {
            i += 1
        } else {
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if peek == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw error("invalid number: digits must follow '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw error("invalid number: digits must follow the exponent") }
        }
        if let c = peek, c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") || c == UInt8(ascii: ".") {
            throw error("invalid number (a leading zero?)")
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }
}
