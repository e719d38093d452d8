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

    /// True when `input` is a valid JSON object to be forwarded verbatim (see above).
    ///
    /// Straight-line code per token rather than a state variable to switch on: the branches then
    /// follow the document's shape, which repeats from event to event and predicts well.
    static func isVerbatim(_ input: UnsafePointer<UInt8>, _ end: Int, transcripts: Bool) -> Bool {
        guard end >= 2, input[0] == UInt8(ascii: "{") else { return false }
        if input[1] == UInt8(ascii: "}") { return end == 2 }
        var i = 1
        var depth = 0               // containers open below the top-level object
        var objects: UInt64 = 1     // bit d: the container at depth d is an object (bit 0: the top)
        var inObject = true
        while true {
            // At a member (its key first) or an element.
            if inObject {
                i = memberKey(input, i, end, transcripts: transcripts)
                guard i > 0 else { return false }
            }
            guard i < end else { return false }
            let c = input[i]
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                guard depth + 2 <= maxDepth else { return false }
                depth += 1
                inObject = c == UInt8(ascii: "{")
                if inObject { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
                i += 1
                guard i < end else { return false }
                if input[i] != (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) { continue }
                // Empty: it closes at once.
                i += 1
                depth -= 1
                inObject = objects >> UInt64(depth) & 1 != 0
            } else {
                i = scalar(input, i, end)
                guard i > 0 else { return false }
            }
            // After a value: a comma, or closing brackets.
            while true {
                guard i < end else { return false }
                let c = input[i]
                if c == UInt8(ascii: ",") {
                    i += 1
                    break
                }
                guard c == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return false }
                i += 1
                if depth == 0 { return i == end }   // the top-level object closed
                depth -= 1
                inObject = objects >> UInt64(depth) & 1 != 0
            }
        }
    }

    /// A member's key and its colon, from `i` (the key's opening quote): the index after the colon,
    /// or 0 when they are not valid, or when (with `transcripts`) the key may name a transcript.
    @inline(__always)
    private static func memberKey(_ input: UnsafePointer<UInt8>, _ i: Int, _ end: Int, transcripts: Bool) -> Int {
        guard i < end, input[i] == UInt8(ascii: "\"") else { return 0 }
        let start = i + 1
        var escaped = false
        let after = string(input, i, end, &escaped)
        guard after > 0 else { return 0 }
        if transcripts {
            // Every transcript key ends in 't'; a key written with escapes is decoded first.
            let n = after - 1 - start
            let maybe = escaped ? JSONRewriter.isTranscriptKey(rawKey: input + start, n)
                : n >= 4 && input[after - 2] == UInt8(ascii: "t") && JSONRewriter.isTranscriptKey(input + start, n)
            if maybe { return 0 }   // its value may need rewriting: the slow path decides
        }
        guard after < end, input[after] == UInt8(ascii: ":") else { return 0 }
        return after + 1
    }

    /// A string, true, false, null or number at `i` (< end): the index after it, or 0 when it is
    /// not valid.
    @inline(__always)
    private static func scalar(_ input: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        switch input[i] {
        case UInt8(ascii: "\""):
            var escaped = false
            return max(string(input, i, end, &escaped), 0)
        case UInt8(ascii: "t"): return literal(input, i, end, "true") ? i + 4 : 0
        case UInt8(ascii: "f"): return literal(input, i, end, "false") ? i + 5 : 0
        case UInt8(ascii: "n"): return literal(input, i, end, "null") ? i + 4 : 0
        default: return number(input, i, end) ?? 0
        }
    }

    /// A string at input[i] == '"': the index after its closing quote, or -1 if it is not valid.
    /// Sets `escaped` if it holds an escape sequence.
    @inline(__always)
    private static func string(_ input: UnsafePointer<UInt8>, _ quote: Int, _ end: Int, _ escaped: inout Bool) -> Int {
        var i = quote + 1
        while true {
            if i + 8 <= end {
                // Eight bytes at a time: skip plain ones, land on the first special byte.
                let special = JSONRewriter.specialBytes(UnsafeRawPointer(input + i).loadUnaligned(as: UInt64.self))
                if special == 0 {
                    i += 8
                    continue
                }
                i += special.trailingZeroBitCount >> 3
            } else {
                guard i < end else { return -1 }
            }
            let c = input[i]
            if c == UInt8(ascii: "\"") { return i + 1 }
            if c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\\") { i += 1; continue }   // (the last few bytes)
            i = escapeOrUTF8(input, i, end, &escaped)
            if i < 0 { return -1 }
        }
    }

    /// `string` at a control byte, a backslash or a non-ASCII byte: the index after its escape or
    /// UTF-8 sequence, or -1 if it is not valid. Out of line: most strings never get here, and
    /// `string` stays small enough to inline.
    @inline(never)
    private static func escapeOrUTF8(_ input: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ escaped: inout Bool) -> Int {
        let c = input[i]
        if c < 0x20 { return -1 }
        if c == UInt8(ascii: "\\") {
            escaped = true
            guard i + 1 < end else { return -1 }
            switch input[i + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return i + 2
            case UInt8(ascii: "u"):
                guard i + 5 < end, isHex(input[i + 2]), isHex(input[i + 3]), isHex(input[i + 4]), isHex(input[i + 5])
                else { return -1 }
                return i + 6
            default:
                return -1
            }
        }
        let n = UTF8Check.sequenceLength(input, i, end)
        return n > 0 ? i + n : -1
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
