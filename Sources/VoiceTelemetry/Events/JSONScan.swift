// JSONScan: the fast path of event validation. One tight, non-recursive pass over a payload answers
// "is this a valid JSON object that can be forwarded byte for byte?" — true only when the document is
// valid under JSONRewriter's strict rules, has no whitespace outside strings and (when a text policy
// applies) no transcript key with a string value. Anything else (invalid, whitespace, a transcript to
// rewrite) answers false, and the caller takes JSONRewriter's slow path, which validates again,
// rewrites and explains any problem. So a false "false" costs time, never correctness; a "true" must
// be exact (tested against JSONRewriter on generated documents).

enum JSONScan {
    /// Containers nest at most this deep (JSONRewriter.maxDepth).
    static let maxDepth = 64

    private enum Expect {
        case firstKeyOrEnd, key, colon, value, commaOrEnd, firstValueOrEnd
    }

    /// True when `input` is a valid JSON object to be forwarded verbatim (see above).
    static func isVerbatim(_ input: UnsafePointer<UInt8>, _ end: Int, transcripts: Bool) -> Bool {
        guard end >= 2, input[0] == UInt8(ascii: "{") else { return false }
        var i = 1
        var depth = 1
        var objects: UInt64 = 1          // bit d: the container at depth d + 1 is an object
        var expect = Expect.firstKeyOrEnd
        while true {
            guard i < end else { return false }
            let c = input[i]
            switch expect {
            case .firstKeyOrEnd, .key:
                if c == UInt8(ascii: "}") && expect == .firstKeyOrEnd {
                    guard closeContainer(&i, &depth, &expect, objects) else { return i == end }
                    continue
                }
                guard c == UInt8(ascii: "\"") else { return false }
                let start = i + 1
                var escaped = false
                guard let after = string(input, i, end, &escaped) else { return false }
                if transcripts {
                    // Every transcript key ends in 't'; a key written with escapes is decoded first.
                    let n = after - 1 - start
                    let maybe = escaped ? JSONRewriter.isTranscriptKey(rawKey: input + start, n)
                        : n >= 4 && input[after - 2] == UInt8(ascii: "t") && JSONRewriter.isTranscriptKey(input + start, n)
                    if maybe { return false }   // its value may need rewriting: the slow path decides
                }
                i = after
                expect = .colon
            case .colon:
                guard c == UInt8(ascii: ":") else { return false }
                i += 1
                expect = .value
            case .value, .firstValueOrEnd:
                if c == UInt8(ascii: "]") && expect == .firstValueOrEnd {
                    guard closeContainer(&i, &depth, &expect, objects) else { return i == end }
                    continue
                }
                switch c {
                case UInt8(ascii: "\""):
                    var escaped = false
                    guard let after = string(input, i, end, &escaped) else { return false }
                    i = after
                    expect = .commaOrEnd
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth < maxDepth else { return false }
                    let isObject = c == UInt8(ascii: "{")
                    if isObject { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
                    depth += 1
                    i += 1
                    expect = isObject ? .firstKeyOrEnd : .firstValueOrEnd
                case UInt8(ascii: "t"):
                    guard literal(input, i, end, "true") else { return false }
                    i += 4
                    expect = .commaOrEnd
                case UInt8(ascii: "f"):
                    guard literal(input, i, end, "false") else { return false }
                    i += 5
                    expect = .commaOrEnd
                case UInt8(ascii: "n"):
                    guard literal(input, i, end, "null") else { return false }
                    i += 4
                    expect = .commaOrEnd
                default:
                    guard let after = number(input, i, end) else { return false }
                    i = after
                    expect = .commaOrEnd
                }
            case .commaOrEnd:
                let inObject = objects & (1 << UInt64(depth - 1)) != 0
                if c == UInt8(ascii: ",") {
                    i += 1
                    expect = inObject ? .key : .value
                } else if c == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    guard closeContainer(&i, &depth, &expect, objects) else { return i == end }
                } else {
                    return false
                }
            }
        }
    }

    /// Consume a closing bracket; false when it closed the top-level object.
    @inline(__always)
    private static func closeContainer(_ i: inout Int, _ depth: inout Int, _ expect: inout Expect, _ objects: UInt64) -> Bool {
        i += 1
        depth -= 1
        expect = .commaOrEnd
        return depth > 0
    }

    /// A string at input[i] == '"': the index after its closing quote, or nil. Sets `escaped` if it
    /// holds an escape sequence.
    @inline(__always)
    private static func string(_ input: UnsafePointer<UInt8>, _ quote: Int, _ end: Int, _ escaped: inout Bool) -> Int? {
        var i = quote + 1
        while true {
            while i + 8 <= end, JSONRewriter.isPlainASCII(UnsafeRawPointer(input + i).loadUnaligned(as: UInt64.self)) {
                i += 8
            }
            guard i < end else { return nil }
            let c = input[i]
            if c == UInt8(ascii: "\"") { return i + 1 }
            if c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\\") { i += 1; continue }
            if c < 0x20 { return nil }
            if c == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < end else { return nil }
                switch input[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 5 < end, isHex(input[i + 2]), isHex(input[i + 3]), isHex(input[i + 4]), isHex(input[i + 5])
                    else { return nil }
                    i += 6
                default:
                    return nil
                }
                continue
            }
            let n = UTF8Check.sequenceLength(input, i, end)
            guard n > 0 else { return nil }
            i += n
        }
    }

    @inline(__always)
    private static func isHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
    }

    @inline(__always)
    private static func isDigit(_ input: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Bool {
        i < end && input[i] >= UInt8(ascii: "0") && input[i] <= UInt8(ascii: "9")
    }

    /// A number per RFC 8259 at input[i]: the index after it, or nil.
    @inline(__always)
    private static func number(_ input: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start
        if i < end, input[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(input, i, end) else { return nil }
        if input[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(input, i, end) { return nil }
        } else {
            while isDigit(input, i, end) { i += 1 }
        }
        if i < end, input[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(input, i, end) else { return nil }
            while isDigit(input, i, end) { i += 1 }
        }
        if i < end, input[i] == UInt8(ascii: "e") || input[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(input, i, end) else { return nil }
            while isDigit(input, i, end) { i += 1 }
        }
        return i
    }

    @inline(__always)
    private static func literal(_ input: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - i >= n else { return false }
        for k in 0..<n where input[i + k] != word.utf8Start[k] { return false }
        return true
    }
}
