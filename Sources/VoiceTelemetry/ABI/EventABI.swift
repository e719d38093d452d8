// C entry points: emitting events and the rate limit.
import CVoiceTelemetry

@c @implementation
public func vt_emit(_ s: vt_session, _ event_type: UnsafePointer<CChar>?, _ json_payload: UnsafePointer<CChar>?,
                    _ correlation_id: UnsafePointer<CChar>?, _ turn_id: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    EventBus.shared.emit(session: s, eventType: event_type, payload: json_payload, correlationID: correlation_id,
                         turnID: turn_id, tNs: t_ns)
}

@c @implementation
public func vt_set_event_rate_limit(_ per_second: UInt32) -> vt_status {
    guard per_second <= RateLimiter.maxLimit else {
        return fail(.invalid("rate limit \(per_second) is above \(RateLimiter.maxLimit) events per second"))
    }
    EventBus.shared.rateLimiter.limit.store(per_second, ordering: .relaxed)
    return VT_OK.rawValue
}
