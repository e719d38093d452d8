// C entry points: session life cycle and snapshots.
import CVoiceTelemetry

@c @implementation
public func vt_create_session(_ cfg: UnsafePointer<vt_session_config>?, _ out: UnsafeMutablePointer<vt_session>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let out else { throw .invalid("out is NULL") }
        let config = try SessionConfig(cfg)
        out.pointee = try ProcessState.shared.createSession(config, startNs: Clock.resolve(config.startNs))
    }
}

@c @implementation
public func vt_end_session(_ s: vt_session) -> vt_status {
    if s == 0 { return VT_OK.rawValue }
    return abiCall { () throws(Failure) in try ProcessState.shared.endSession(s) }
}

@c @implementation
public func vt_snapshot_json(_ s: vt_session, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                             _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    vt_snapshot_json_at(s, 0, buf, cap, len_out)
}

@c @implementation
public func vt_snapshot_json_at(_ s: vt_session, _ now_t_ns: UInt64, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        let now = Clock.resolve(now_t_ns)
        let text = try ProcessState.shared.locked { (_) throws(Failure) -> TextOutput in
            Snapshot.render(try ProcessState.shared.liveSlot(s), nowNs: now)
        }
        try text.deliver(to: buf, capacity: cap, length: len_out)
    }
}

/// A vt_session_config read field by field, only as far as the caller's struct_size reaches
/// (an older caller's struct is shorter; the fields it lacks are taken as zero).
struct SessionConfig {
    var sessionID: String?
    var labels: [Label] = []
    var startNs: UInt64 = 0
    var textPolicy = TextPolicy()
    var turnHistory = Int(VT_DEFAULT_TURN_HISTORY)

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
    }
}
