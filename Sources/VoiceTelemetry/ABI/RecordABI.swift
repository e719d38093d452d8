// C entry points: the record calls (the hot path) and their batch form.
import CVoiceTelemetry

@c @implementation
public func vt_record_audio_out(_ s: vt_session, _ bytes: Int, _ t_ns: UInt64) -> vt_status {
    Recorder.audioOut(s, bytes: bytes, tNs: t_ns)
}

@c @implementation
public func vt_record_vad_start(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.vadStart($0, t_ns) }
}

@c @implementation
public func vt_record_vad_end(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.vadEnd($0, t_ns) }
}

@c @implementation
public func vt_record_text_send(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.textSend($0, t_ns) }
}

@c @implementation
public func vt_record_text_out(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.textOut($0, t_ns) }
}

@c @implementation
public func vt_record_interruption(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.interruption($0, t_ns) }
}

@c @implementation
public func vt_record_turn_start(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.turnStart($0, t_ns) }
}

@c @implementation
public func vt_record_turn_complete(_ s: vt_session, _ t_ns: UInt64) -> vt_status {
    SessionTable.guarded(s) { Recorder.turnComplete($0, t_ns) }
}

/// Offsets of vt_usage: struct_size, then five int64 fields from byte 8 (checked by the C tests).
private let usageFirstFieldOffset = 8
/// Reported usage counts stay below 2^40, so 2^23 reports of the largest fit the Int64 totals.
private let usageFieldLimit: Int64 = 1 << 40

@c @implementation
public func vt_record_usage(_ s: vt_session, _ u: UnsafePointer<vt_usage>?) -> vt_status {
    vt_record_usage_at(s, u, 0)
}

@c @implementation
public func vt_record_usage_at(_ s: vt_session, _ u: UnsafePointer<vt_usage>?, _ t_ns: UInt64) -> vt_status {
    guard let u else { return fail(.invalid("u is NULL")) }
    let raw = UnsafeRawPointer(u)
    let size = Int(raw.load(as: UInt32.self))
    guard size >= usageFirstFieldOffset + 8 else {
        return fail(.invalid("u->struct_size is \(size); set it to sizeof(vt_usage)"))
    }
    func reported(_ field: UsageField) -> Int64 {
        let offset = usageFirstFieldOffset + 8 * field.rawValue
        return size >= offset + 8 ? raw.load(fromByteOffset: offset, as: Int64.self) : -1
    }
    for field in UsageField.allCases where reported(field) >= usageFieldLimit {
        return fail(.invalid("usage field \(field) is \(reported(field)): reported counts must be below 2^40"))
    }
    return SessionTable.guarded(s) { slot in Recorder.usage(slot, reported, tNs: t_ns) }
}

@c @implementation
public func vt_record_batch(_ s: vt_session, _ events: UnsafePointer<vt_event>?, _ n: Int, _ event_size: Int,
                            _ n_done: UnsafeMutablePointer<Int>?) -> vt_status {
    n_done?.pointee = 0
    guard n >= 0 else { return fail(.invalid("n is larger than the address space")) }
    if n == 0 { return VT_OK.rawValue }
    guard let events else { return fail(.invalid("events is NULL but n is \(n)")) }
    guard event_size >= MemoryLayout<vt_event>.size else {
        return fail(.invalid("event_size is \(event_size); pass sizeof(vt_event) (\(MemoryLayout<vt_event>.size))"))
    }
    // The array must fit in the address space: otherwise `i * event_size` overflows (a trap) or
    // the loop reads far past the caller's memory before it meets a bad event.
    guard n <= Int.max / event_size else {
        return fail(.invalid("n (\(n)) events of event_size \(event_size) bytes are larger than the address space"))
    }
    let base = UnsafeRawPointer(events)
    for i in 0..<n {
        // Unaligned: any event_size >= sizeof(vt_event) is allowed, so element i may sit anywhere.
        let event = (base + i * event_size).loadUnaligned(as: vt_event.self)
        let status: vt_status
        switch Int(event.kind) {
        case Int(VT_EV_AUDIO_OUT.rawValue):
            guard event.value <= TaggedCounter.maxIncrement else {
                n_done?.pointee = i
                return fail(.invalid("event \(i): audio bytes \(event.value) is larger than one chunk can be"))
            }
            status = Recorder.audioOut(s, bytes: Int(event.value), tNs: event.t_ns)
        case Int(VT_EV_VAD_START.rawValue): status = SessionTable.guarded(s) { Recorder.vadStart($0, event.t_ns) }
        case Int(VT_EV_VAD_END.rawValue): status = SessionTable.guarded(s) { Recorder.vadEnd($0, event.t_ns) }
        case Int(VT_EV_TEXT_SEND.rawValue): status = SessionTable.guarded(s) { Recorder.textSend($0, event.t_ns) }
        case Int(VT_EV_TEXT_OUT.rawValue): status = SessionTable.guarded(s) { Recorder.textOut($0, event.t_ns) }
        case Int(VT_EV_INTERRUPTION.rawValue): status = SessionTable.guarded(s) { Recorder.interruption($0, event.t_ns) }
        case Int(VT_EV_TURN_START.rawValue): status = SessionTable.guarded(s) { Recorder.turnStart($0, event.t_ns) }
        case Int(VT_EV_TURN_COMPLETE.rawValue): status = SessionTable.guarded(s) { Recorder.turnComplete($0, event.t_ns) }
        default:
            n_done?.pointee = i
            return fail(.invalid("event \(i): unknown kind \(event.kind)"))
        }
        guard status == VT_OK.rawValue else {
            n_done?.pointee = i
            return status
        }
    }
    n_done?.pointee = n
    return VT_OK.rawValue
}
