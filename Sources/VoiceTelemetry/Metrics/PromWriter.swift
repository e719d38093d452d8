// PromWriter: exposition text written straight into the caller's buffer under the BUFFERS contract.
// Every append counts its bytes; bytes are written only while the whole text so far fits (with room
// for the NUL), so one pass gives both the text and, when it does not fit, its length. Nothing here
// allocates: numbers are formatted in place (DoubleText, Number), strings copied from their UTF-8.

struct PromWriter: PromSink {
    private let base: UnsafeMutablePointer<UInt8>?
    /// The last byte index text may use (capacity - 2: the NUL follows it), or -1 once text no longer fits.
    private var limit: Int
    /// Bytes of text so far, written or not.
    private(set) var count = 0

    /// A writer into `capacity` bytes at `buffer` (NULL / 0: only count).
    init(buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
        base = buffer.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
        limit = buffer == nil ? -1 : capacity - 2
    }

    /// Whether the text fits: then it is in the buffer, NUL-terminated.
    mutating func finish() -> Bool {
        guard let base, count - 1 <= limit else { return false }
        base[count] = 0
        return true
    }

    /// Room for `n` more bytes at the end of the text: where to write them, or nil (they do not fit;
    /// the caller still calls `advance`).
    @inline(__always)
    private mutating func room(_ n: Int) -> UnsafeMutablePointer<UInt8>? {
        guard count + n - 1 <= limit, let base else {
            limit = -1
            return nil
        }
        return base + count
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawPointer, _ n: Int) {
        if n > 0, let at = room(n) { at.update(from: bytes.assumingMemoryBound(to: UInt8.self), count: n) }
        count += n
    }

    @inline(__always)
    mutating func append(_ run: ByteRun) { append(run.start, run.count) }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { if let p = $0.baseAddress { append(p, $0.count) } }
    }

    @inline(__always)
    mutating func appendByte(_ byte: UInt8) {
        if let at = room(1) { at[0] = byte }
        count += 1
    }

    mutating func append(_ text: StaticString) { append(text.utf8Start, text.utf8CodeUnitCount) }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { if let p = $0.baseAddress { append(p, $0.count) } }
    }

    mutating func append(_ text: String, utf8Prefix: Int) {
        var text = text
        text.withUTF8 { if let p = $0.baseAddress { append(p, min(utf8Prefix, $0.count)) } }
    }

    /// A number written by `body` into at most `maxLength` bytes: in place when they fit, else
    /// through a stack buffer (so the count is exact either way).
    @inline(__always)
    private mutating func appendFormatted(maxLength: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maxLength - 1 <= limit, let base {
            count += body(base + count)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxLength) { scratch in
            let n = body(scratch.baseAddress!)
            append(scratch.baseAddress!, n)
        }
    }

    mutating func append(_ value: UInt64) {
        appendFormatted(maxLength: 20) { Number.writeDecimal(value, to: $0) }
    }

    /// A sample value: as TextOutput.promNumber writes it (NaN, +Inf, -Inf, integers below 1e15
    /// without ".0", otherwise the shortest text that reads back as the same Double).
    mutating func appendPromValue(_ value: Double) {
        appendFormatted(maxLength: DoubleText.maxLength) { PromNumber.write(value, to: $0) }
    }

    /// Label value escaping of the text format: backslash, double quote and line feed.
    mutating func appendPromLabelValue(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\" as StaticString)
            case UInt8(ascii: "\""): append("\\\"" as StaticString)
            case 0x0A: append("\\n" as StaticString)
            default: appendByte(byte)
            }
        }
    }

    /// HELP text escaping: backslash and line feed.
    mutating func appendPromHelp(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\" as StaticString)
            case 0x0A: append("\\n" as StaticString)
            default: appendByte(byte)
            }
        }
    }
}

