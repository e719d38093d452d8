// Inputs: turning borrowed C arguments (strings, label arrays) into checked Swift values, with a clear
// Failure for everything a caller can get wrong. Nothing here trusts a pointer beyond what the header
// promises (NUL-terminated strings), and even then reads at most one byte past the documented limit.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

enum Inputs {
    /// A number from the caller: nil for NaN and the infinities; -0.0 is read as 0 (its sign bit
    /// would otherwise order above every positive value in the bit-pattern minimum and maximum of a
    /// histogram, and print as "-0").
    @inline(__always)
    static func finite(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        return value == 0 ? 0 : value
    }

    /// A help text: NULL (none), or NUL-terminated UTF-8 of at most `maxHelpBytes` bytes. Checked on
    /// every call, also when the family exists already (its first help text is the one shown).
    static func checkHelp(_ pointer: UnsafePointer<CChar>?) throws(Failure) {
        guard let pointer else { return }
        let length = strnlen(pointer, maxHelpBytes + 1)
        guard length <= maxHelpBytes else { throw .invalid("help is longer than \(maxHelpBytes) bytes") }
        let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        guard ByteWriter.escapeExtra(bytes, length) != nil else { throw .invalid("help is not valid UTF-8") }
    }

    static let maxHelpBytes = 4096

    /// A JSON object given as a C string, checked (as vt_emit checks payloads) and made compact;
    /// the compact text may be at most `maxBytes`.
    static func jsonObject(_ pointer: UnsafePointer<CChar>, what: String, maxBytes: Int) throws(Failure) -> String {
        let n = strnlen(pointer, Int(VT_MAX_EVENT_PAYLOAD_BYTES) + 1)
        guard n <= Int(VT_MAX_EVENT_PAYLOAD_BYTES) else { throw .invalid("\(what) is longer than \(VT_MAX_EVENT_PAYLOAD_BYTES) bytes") }
        let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: maxBytes)
        defer { buffer.deallocate() }
        var rewriter = JSONRewriter(input: bytes, count: n, into: ByteWriter(base: buffer, capacity: maxBytes), policy: nil)
        do throws(JSONRewriter.Problem) {
            try rewriter.rewriteObject()
        } catch {
            throw .invalid("\(what) is not a valid JSON object: \(error.reason) (at byte \(error.offset))")
        }
        guard !rewriter.out.overflowed else { throw .invalid("\(what) is longer than \(maxBytes) bytes once compact") }
        return String(decoding: UnsafeBufferPointer(start: buffer, count: rewriter.out.count), as: UTF8.self)
    }

    /// A NUL-terminated UTF-8 string of at most `maxBytes` bytes.
    static func string(_ pointer: UnsafePointer<CChar>?, what: String, maxBytes: Int) throws(Failure) -> String {
        guard let pointer else { throw .invalid("\(what) is NULL") }
        let length = strnlen(pointer, maxBytes + 1)
        guard length <= maxBytes else { throw .invalid("\(what) is longer than \(maxBytes) bytes") }
        guard let value = String(validatingCString: pointer) else { throw .invalid("\(what) is not valid UTF-8") }
        return value
    }

    /// Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetterOrUnderscore(first) || first == UInt8(ascii: ":") else { return false }
        return name.utf8.allSatisfy { isLetterOrUnderscore($0) || isDigit($0) || $0 == UInt8(ascii: ":") }
    }

    /// Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not reserved (`__*`, `le`, `quantile`).
    static func isLabelKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, isLetterOrUnderscore(first) else { return false }
        guard key.utf8.allSatisfy({ isLetterOrUnderscore($0) || isDigit($0) }) else { return false }
        return !key.hasPrefix("__") && key != "le" && key != "quantile"
    }

    private static func isLetterOrUnderscore(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    static func metricName(_ pointer: UnsafePointer<CChar>?) throws(Failure) -> String {
        let name = try string(pointer, what: "metric name", maxBytes: Int(VT_MAX_NAME_BYTES))
        guard isMetricName(name) else { throw .invalid("metric name '\(name)' is not a valid Prometheus name") }
        return name
    }

    static func labelKey(_ pointer: UnsafePointer<CChar>?, index: Int) throws(Failure) -> String {
        let key = try string(pointer, what: "label \(index) key", maxBytes: Int(VT_MAX_NAME_BYTES))
        guard isLabelKey(key) else {
            throw .invalid("label key '\(key)' is not a valid label name (or is reserved: le, quantile, __*)")
        }
        return key
    }

    /// Checked labels, sorted by key, absent values (NULL or "") left out; duplicate keys rejected.
    static func labels(_ labels: UnsafePointer<vt_label>?, count: Int) throws(Failure) -> [Label] {
        guard count >= 0, count <= Int(VT_MAX_LABELS) else {
            throw .invalid("\(count) labels: at most \(VT_MAX_LABELS) are allowed")
        }
        if count == 0 { return [] }
        guard let labels else { throw .invalid("labels is NULL but n_labels is \(count)") }
        var result: [Label] = []
        result.reserveCapacity(count)
        var keys: [String] = []
        for i in 0..<count {
            let key = try labelKey(labels[i].key, index: i)
            guard !keys.contains(key) else { throw .invalid("label key '\(key)' is given twice") }
            keys.append(key)
            guard let rawValue = labels[i].value else { continue }
            let value = try string(rawValue, what: "value of label '\(key)'", maxBytes: Int(VT_MAX_LABEL_VALUE_BYTES))
            if !value.isEmpty { result.append(Label(key: key, value: value)) }
        }
        result.sort { $0.key < $1.key }
        return result
    }
}

struct Label: Equatable, Sendable {
    let key: String
    let value: String
}
