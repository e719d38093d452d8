// C entry points: session life cycle and snapshots.
import CVoiceTelemetry

@c @implementation
public func vt_create_session(_ cfg: UnsafePointer<vt_session_config>?, _ out: UnsafeMutablePointer<vt_session>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let out else { throw .invalid("out is NULL") }
        let config = try SessionConfig(cfg)
        out.pointee = try ProcessState.shared.createSession(config)
    }
}

@c @implementation
public func vt_end_session(_ s: vt_session) -> vt_status {
    vt_end_session_at(s, 0)
}

@c @implementation
public func vt_session_now_ns(_ s: vt_session, _ now_out: UnsafeMutablePointer<UInt64>?) -> vt_status {
    guard let now_out else { return fail(.invalid("now_out is NULL")) }
    return SessionTable.guarded(s) { now_out.pointee = $0.resolve(0) }
}

@c @implementation
public func vt_end_session_at(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    if s == 0 { return VT_OK.rawValue }
    return abiCall { () throws(Failure) in try ProcessState.shared.endSession(s, atNs: t_ns) }
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
        let text = try ProcessState.shared.locked { (_) throws(Failure) -> TextOutput in
            let slot = try ProcessState.shared.liveSlot(s)
            return Snapshot.render(slot, nowNs: slot.resolve(now_t_ns))
        }
        try text.deliver(to: buf, capacity: cap, length: len_out)
    }
}

@c @implementation
public func vt_sessions_json(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        try ProcessState.shared.sessionsJSON().deliver(to: buf, capacity: cap, length: len_out)
    }
}

@c @implementation
public func vt_session_find(_ session_id: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<vt_session>?) -> vt_status {
    abiCall { () throws(Failure) in
        let id = try Inputs.string(session_id, what: "session_id", maxBytes: Int(VT_MAX_SESSION_ID_BYTES))
        guard !id.isEmpty else { throw .invalid("session_id is empty") }
        guard let out else { throw .invalid("out is NULL") }
        out.pointee = try ProcessState.shared.findSession(id)
    }
}
