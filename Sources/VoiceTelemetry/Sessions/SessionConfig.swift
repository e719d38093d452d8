// SessionConfig: a vt_session_config as the library keeps it, and TraceContext, a session's place in a
// distributed trace.
import CVoiceTelemetry

/// A vt_session_config read field by field, only as far as the caller's struct_size reaches
/// (an older caller's struct is shorter; the fields it lacks are taken as zero).
struct SessionConfig {
    var sessionID: String?
    var labels: [Label] = []
    var startNs: UInt64 = 0
    var textPolicy = TextPolicy()
    var turnHistory = Int(VT_DEFAULT_TURN_HISTORY)
    var mediaClock = false
    var metadataJSON: String?
    var trace: TraceContext?

    init(_ cfg: UnsafePointer<vt_session_config>?) throws(Failure) {
        guard let cfg else { return }
        let reader = StructReader(cfg)
        guard reader.covers(\vt_session_config.session_id) else {
            throw .invalid("cfg->struct_size is \(reader.size); set it to sizeof(vt_session_config)")
        }
        if let id = reader.field(\vt_session_config.session_id, as: UnsafePointer<CChar>?.self) ?? nil {
            let text = try Inputs.string(id, what: "session_id", maxBytes: Int(VT_MAX_SESSION_ID_BYTES))
            guard !text.isEmpty else { throw .invalid("session_id is empty (pass NULL for a generated id)") }
            sessionID = text
        }
        if let count = reader.field(\vt_session_config.n_labels, as: Int.self) {
            let labels = reader.field(\vt_session_config.labels, as: UnsafePointer<vt_label>?.self) ?? nil
            self.labels = try Inputs.labels(labels, count: count)
        }
        startNs = reader.field(\vt_session_config.start_t_ns, as: UInt64.self) ?? 0
        let policy = reader.field(\vt_session_config.text_policy, as: UInt32.self) ?? 0
        guard policy == VT_TEXT_REDACT.rawValue || policy == VT_TEXT_INCLUDE.rawValue else {
            throw .invalid("text_policy \(policy) is not VT_TEXT_REDACT or VT_TEXT_INCLUDE")
        }
        textPolicy.include = policy == VT_TEXT_INCLUDE.rawValue
        if let maxChars = reader.field(\vt_session_config.max_text_chars, as: UInt32.self), maxChars > 0 {
            textPolicy.maxChars = Int(maxChars)
        }
        if let history = reader.field(\vt_session_config.turn_history, as: UInt32.self), history > 0 {
            guard history <= VT_MAX_TURN_HISTORY else {
                throw .invalid("turn_history \(history) is above VT_MAX_TURN_HISTORY (\(VT_MAX_TURN_HISTORY))")
            }
            turnHistory = Int(history)
        }
        let clock = reader.field(\vt_session_config.clock, as: UInt32.self) ?? 0
        guard clock == VT_CLOCK_MONOTONIC.rawValue || clock == VT_CLOCK_MEDIA.rawValue else {
            throw .invalid("clock \(clock) is not VT_CLOCK_MONOTONIC or VT_CLOCK_MEDIA")
        }
        mediaClock = clock == VT_CLOCK_MEDIA.rawValue
        if let metadata = reader.field(\vt_session_config.metadata_json, as: UnsafePointer<CChar>?.self) ?? nil {
            metadataJSON = try Inputs.jsonObject(metadata, what: "metadata_json", maxBytes: Int(VT_MAX_METADATA_BYTES))
        }
        if let parent = reader.field(\vt_session_config.traceparent, as: UnsafePointer<CChar>?.self) ?? nil {
            trace = try TraceContext(traceparent: parent)
        }
    }
}

/// A session's place in a distributed trace: its trace id and the caller's span, if it joined one.
struct TraceContext {
    var traceID: String
    var parentSpanID: String?

    /// A new trace (128 random bits).
    init() {
        var generator = SystemRandomNumberGenerator()
        traceID = Self.hex(generator.next(), 16) + Self.hex(generator.next(), 16)
    }

    /// The caller's trace, from a W3C traceparent: "00-" 32 hex "-" 16 hex "-" 2 hex, lowercase, ids
    /// not all zeros.
    init(traceparent pointer: UnsafePointer<CChar>) throws(Failure) {
        let text = try Inputs.string(pointer, what: "traceparent", maxBytes: 55)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        func isHex(_ part: String, _ count: Int) -> Bool {
            part.utf8.count == count && part.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        }
        guard parts.count == 4, parts[0] == "00", isHex(parts[1], 32), isHex(parts[2], 16), isHex(parts[3], 2),
              parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16) else {
            throw .invalid("traceparent '\(text)' is not 00-<32 hex>-<16 hex>-<2 hex> (lowercase, ids not all zeros)")
        }
        traceID = parts[1]
        parentSpanID = parts[2]
    }

    private static func hex(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
