// C entry points: steps, messages and rewards (header section "Traces"). Each checks its arguments,
// then, under the process lock, updates the session's steps (Sessions/SessionTrace.swift) and emits its
// event (Process/TraceEvents.swift), judged for size even when no plugin is loaded.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

private let maxContentBytes = 1 << 20

/// An id or key: 1...VT_MAX_EVENT_ID_BYTES bytes of UTF-8.
private func checkedID(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(Failure) -> String {
    let text = try Inputs.string(pointer, what: what, maxBytes: EventBus.maxIDBytes)
    guard !text.isEmpty else { throw .invalid("\(what) is empty") }
    return text
}

private func optionalText(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(Failure) -> String? {
    guard let pointer else { return nil }
    return try Inputs.string(pointer, what: what, maxBytes: EventBus.maxIDBytes)
}

private func optionalJSON(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(Failure) -> String? {
    guard let pointer else { return nil }
    return try Inputs.jsonObject(pointer, what: what, maxBytes: Int(VT_MAX_EVENT_BYTES))
}

private func finiteValue(_ value: Double, _ what: String) throws(Failure) -> Double {
    guard let value = Inputs.finite(value) else { throw .invalid("\(what) \(value) is not a finite number") }
    return value
}

/// Emit a trace event of the live session `s` (process lock held by the caller); a refusal (the
/// event too long) becomes the call's failure.
private func emit(_ slot: SessionSlot, _ type: StaticString, _ json: String, tNs: UInt64) throws(Failure) {
    let status = EventBus.shared.emitCore(sessionID: slot.meta.sessionID, type: type, json: json,
                                          tNs: slot.resolve(tNs), unixOffsetNs: slot.meta.unixOffsetNs, checked: true)
    if status != VT_OK.rawValue { throw .reported(status) }
}

@c @implementation
public func vt_step_start(_ s: vt_session, _ step_id: UnsafePointer<CChar>?, _ metadata_json: UnsafePointer<CChar>?,
                          _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let id = try checkedID(step_id, "step_id")
        guard !isTurnStepID(id) else { throw .invalid("step_id '\(id)' has the form of a turn's step (turn-N)") }
        let metadata = try optionalJSON(metadata_json, "metadata_json")
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            guard !slot.trace.openSteps.contains(id) else { throw .invalid("step '\(id)' is open already") }
            guard slot.trace.openSteps.count < Int(VT_MAX_OPEN_STEPS) else {
                throw .limit("\(VT_MAX_OPEN_STEPS) steps are open (VT_MAX_OPEN_STEPS); end one first")
            }
            try emit(slot, EventTypes.stepStart, TraceEvents.stepStart(id: id, turnNumber: nil, metadata: metadata), tNs: t_ns)
            slot.trace.openSteps.append(id)
            slot.trace.stepsStarted += 1
        }
    }
}

/// "turn-" followed by digits: the id of a turn's step.
private func isTurnStepID(_ id: String) -> Bool {
    guard id.hasPrefix("turn-") else { return false }
    let digits = id.utf8.dropFirst(5)
    return !digits.isEmpty && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
}

@c @implementation
public func vt_step_end(_ s: vt_session, _ step_id: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let id = try checkedID(step_id, "step_id")
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            guard let index = slot.trace.openSteps.lastIndex(of: id) else { throw .notFound("no open step has id '\(id)'") }
            let t = slot.resolve(t_ns)
            while slot.trace.openSteps.count > index {
                let closing = slot.trace.openSteps.removeLast()
                try emit(slot, EventTypes.stepEnd, TraceEvents.stepEnd(id: closing), tNs: t)
            }
        }
    }
}

private let roles = ["user", "assistant", "system", "tool"]

@c @implementation
public func vt_record_message(_ s: vt_session, _ role: UnsafePointer<CChar>?, _ content: UnsafePointer<CChar>?,
                              _ metadata_json: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let roleText = try Inputs.string(role, what: "role", maxBytes: 16)
        guard roles.contains(roleText) else { throw .invalid("role '\(roleText)' is not one of \(roles.joined(separator: ", "))") }
        let text = try Inputs.string(content, what: "content", maxBytes: maxContentBytes)
        let json = content.flatMap { try? Inputs.jsonObject($0, what: "content", maxBytes: Int(VT_MAX_EVENT_BYTES)) }
        let metadata = try optionalJSON(metadata_json, "metadata_json")
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            let payload = TraceEvents.message(
                role: roleText, step: slot.trace.currentStep(slot),
                content: TraceEvents.Content(text: json ?? text, isJSON: json != nil),
                chars: text.unicodeScalars.count, truncated: false, policy: slot.meta.textPolicy, metadata: metadata)
            try emit(slot, EventTypes.message, payload, tNs: t_ns)
        }
    }
}

@c @implementation
public func vt_record_outcome_reward(_ s: vt_session, _ objective_key: UnsafePointer<CChar>?, _ total_reward: Double,
                                     _ achievements_count: UInt32, _ annotation_json: UnsafePointer<CChar>?,
                                     _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let key = try checkedID(objective_key, "objective_key")
        let total = try finiteValue(total_reward, "total_reward")
        let annotation = try optionalJSON(annotation_json, "annotation_json")
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            let payload = TraceEvents.outcomeReward(key: key, total: total, achievements: achievements_count,
                                                    totalSteps: slot.trace.totalSteps(slot), annotation: annotation)
            try emit(slot, EventTypes.rewardOutcome, payload, tNs: t_ns)
        }
    }
}

@c @implementation
public func vt_record_event_reward(_ s: vt_session, _ objective_key: UnsafePointer<CChar>?, _ value: Double,
                                   _ reward_type: UnsafePointer<CChar>?, _ source: UnsafePointer<CChar>?,
                                   _ annotation_json: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let key = try checkedID(objective_key, "objective_key")
        let checked = try finiteValue(value, "value")
        let type = try optionalText(reward_type, "reward_type"), from = try optionalText(source, "source")
        let annotation = try optionalJSON(annotation_json, "annotation_json")
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            let payload = TraceEvents.eventReward(key: key, value: checked, rewardType: type, source: from,
                                                  step: slot.trace.currentStep(slot), annotation: annotation)
            try emit(slot, EventTypes.rewardEvent, payload, tNs: t_ns)
        }
    }
}

/// Emit a reward of a session known by id (no handle): on CLOCK_MONOTONIC, through the process anchor.
private func emitFor(_ sessionID: UnsafePointer<CChar>?, _ type: StaticString, _ json: String, tNs: UInt64) throws(Failure) {
    let id = try Inputs.string(sessionID, what: "session_id", maxBytes: Int(VT_MAX_SESSION_ID_BYTES))
    guard !id.isEmpty else { throw .invalid("session_id is empty") }
    let status = EventBus.shared.emitCore(sessionID: id, type: type, json: json, tNs: Clock.resolve(tNs),
                                          unixOffsetNs: Clock.processUnixOffsetNs, checked: true)
    if status != VT_OK.rawValue { throw .reported(status) }
}

@c @implementation
public func vt_record_outcome_reward_for(_ session_id: UnsafePointer<CChar>?, _ objective_key: UnsafePointer<CChar>?,
                                         _ total_reward: Double, _ achievements_count: UInt32,
                                         _ annotation_json: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let key = try checkedID(objective_key, "objective_key")
        let total = try finiteValue(total_reward, "total_reward")
        let annotation = try optionalJSON(annotation_json, "annotation_json")
        try emitFor(session_id, EventTypes.rewardOutcome, TraceEvents.outcomeReward(
            key: key, total: total, achievements: achievements_count, totalSteps: nil, annotation: annotation), tNs: t_ns)
    }
}

@c @implementation
public func vt_record_event_reward_for(_ session_id: UnsafePointer<CChar>?, _ step_id: UnsafePointer<CChar>?,
                                       _ objective_key: UnsafePointer<CChar>?, _ value: Double,
                                       _ reward_type: UnsafePointer<CChar>?, _ source: UnsafePointer<CChar>?,
                                       _ annotation_json: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        let step = try optionalText(step_id, "step_id")
        let key = try checkedID(objective_key, "objective_key")
        let checked = try finiteValue(value, "value")
        let type = try optionalText(reward_type, "reward_type"), from = try optionalText(source, "source")
        let annotation = try optionalJSON(annotation_json, "annotation_json")
        try emitFor(session_id, EventTypes.rewardEvent, TraceEvents.eventReward(
            key: key, value: checked, rewardType: type, source: from, step: step, annotation: annotation), tNs: t_ns)
    }
}
