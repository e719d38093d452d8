// TextOutput: the bytes of a JSON document or a Prometheus page, and the snprintf-like hand-over to a
// caller's buffer that every text-producing ABI function shares.
import CVoiceTelemetry

struct TextOutput {
    var bytes: [UInt8] = []

    init(reserving capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
    mutating func append(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            let n = Number.writeDecimal(value, to: digits.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[..<n]))
        }
    }

    // MARK: - JSON

    /// A JSON string literal, escaped (the input is valid UTF-8: it was validated on the way in), by
    /// the same rules as every other JSON the library writes (ByteWriter.jsonString).
    mutating func appendJSONString(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            guard let source = utf8.baseAddress else { return append("\"\"") }
            // Exactly the room the escaped string takes (escapeExtra counts what escaping adds).
            let room = utf8.count + (ByteWriter.escapeExtra(source, utf8.count) ?? 5 * utf8.count) + 2
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: room))
            let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                var out = ByteWriter(base: base + start, capacity: room)
                out.jsonString(source, utf8.count)
                return out.count
            }
            bytes.removeLast(room - written)
        }
    }

    /// A JSON object of labels: {"key":"value",...} in the labels' order.
    mutating func appendJSONLabels(_ labels: [Label]) {
        bytes.append(UInt8(ascii: "{"))
        for (i, label) in labels.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            appendJSONString(label.key)
            bytes.append(UInt8(ascii: ":"))
            appendJSONString(label.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A JSON number, or null for nil / NaN / infinity: the text of `shortest`, written without a String.
    mutating func appendJSONNumber(_ value: Double?) {
        guard let value, value.isFinite else { append("null"); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DoubleText.maxLength) { text in
            let n = PromNumber.write(value, to: text.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<n]))
        }
    }

    mutating func appendJSONKey(_ key: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        append(key)
        append("\":")
    }

    // MARK: - Prometheus text

    /// A sample value in exposition format: shortest round-trip text, +Inf, -Inf or NaN.
    mutating func appendPromValue(_ value: Double) { append(Self.promNumber(value)) }

    static func promNumber(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        return shortest(value)
    }

    /// Label value escaping of the text format: backslash, double quote and line feed.
    mutating func appendPromLabelValue(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\""): append("\\\"")
            case 0x0A: append("\\n")
            default: bytes.append(byte)
            }
        }
    }

    /// HELP text escaping: backslash and line feed.
    mutating func appendPromHelp(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            default: bytes.append(byte)
            }
        }
    }

    /// Shortest text that reads back as the same double; integral values without a trailing ".0".
    static func shortest(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    // MARK: - Hand-over

    /// Copy into the caller's buffer under the contract of the header's BUFFERS section.
    func deliver(to buffer: UnsafeMutablePointer<CChar>?, capacity: Int, length: UnsafeMutablePointer<Int>?) throws(Failure) {
        guard let length else { throw .invalid("len_out is NULL") }
        guard capacity >= 0 else { throw .invalid("cap is larger than the address space") }
        if buffer == nil && capacity > 0 { throw .invalid("buf is NULL but cap is \(capacity)") }
        length.pointee = bytes.count
        guard let buffer, bytes.count < capacity else {
            throw .bufferTooSmall("the text needs \(bytes.count + 1) bytes (with its NUL); cap is \(capacity)")
        }
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: source.count)
            }
        }
        buffer[bytes.count] = 0
    }
}

/// What the exposition writers append to: the caller's buffer (PromWriter) or a growing array
/// (TextOutput, for pre-rendering).
protocol PromSink {
    mutating func append(_ text: StaticString)
    mutating func append(_ text: String)
    /// The first `utf8Prefix` bytes of `text`.
    mutating func append(_ text: String, utf8Prefix: Int)
    mutating func append(_ value: UInt64)
    mutating func appendPromLabelValue(_ text: String)
    mutating func appendPromHelp(_ text: String)
}

extension TextOutput: PromSink {
    mutating func append(_ text: String, utf8Prefix: Int) { bytes.append(contentsOf: text.utf8.prefix(utf8Prefix)) }
}
