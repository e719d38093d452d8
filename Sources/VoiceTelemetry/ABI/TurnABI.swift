// C entry points: the turn collector (header section "Turn collector").
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

@c @implementation
public func vt_turn_mark(_ s: vt_session, _ stage: UInt32, _ mark: UInt32, _ t_ns: UInt64) -> vt_status {
    guard TurnCollector.validMark(stage, mark) else {
        return fail(.invalid("stage \(stage) has no mark \(mark) (see enum vt_turn_stage)"))
    }
    // A barge-in is one thing however it is reported: INTERRUPTION START is vt_record_interruption
    // (counted, sent to plugins, marked on the turn).
    if stage == TurnStage.interruption && mark == TurnStage.start {
        return SessionTable.guarded(s) { Recorder.interruption($0, t_ns) }
    }
    return SessionTable.guarded(s) { TurnCollector.mark($0, stage, mark, t_ns) }
}

@c @implementation
public func vt_turn_value(_ s: vt_session, _ key: UInt32, _ value: Double, _ t_ns: UInt64) -> vt_status {
    guard key >= 1, key <= UInt32(VT_TV_FALSE_INTERRUPTION_WORDS.rawValue) else {
        return fail(.invalid("unknown turn value key \(key)"))
    }
    guard let value = Inputs.finite(value), value >= 0 else {
        return fail(.invalid("value \(value) must be finite and >= 0"))
    }
    switch Int32(key) {
    case Int32(VT_TV_STT_CONFIDENCE.rawValue), Int32(VT_TV_EOU_PROBABILITY.rawValue):
        guard value <= 1 else { return fail(.invalid("value \(value) is a probability: at most 1")) }
    case Int32(VT_TV_STT_AUDIO_SECONDS.rawValue), Int32(VT_TV_EOU_WAIT_SECONDS.rawValue),
         Int32(VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS.rawValue):
        guard value <= 1e6 else { return fail(.invalid("value \(value) seconds is above 1e6")) }
    default:
        guard value < 1_099_511_627_776, value == value.rounded(.towardZero) else {
            return fail(.invalid("value \(value) must be a whole count below 2^40"))
        }
    }
    return SessionTable.guarded(s) { TurnCollector.value($0, key, value, t_ns) }
}

/// Longest text vt_turn_text accepts, in bytes.
private let maxTextBytes = 1 << 20

@c @implementation
public func vt_turn_text(_ s: vt_session, _ kind: UInt32, _ text: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    guard kind >= 1, kind <= UInt32(VT_TT_AGENT_RESPONSE.rawValue) else { return fail(.invalid("unknown text kind \(kind)")) }
    guard let text else { return fail(.invalid("text is NULL")) }
    let length = strnlen(text, maxTextBytes + 1)
    guard length <= maxTextBytes else { return fail(.invalid("text is longer than \(maxTextBytes) bytes")) }
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: length)
    guard let base = bytes.baseAddress, let chars = UTF8Check.characters(base, bytes.count) else {
        return fail(.invalid("text is not valid UTF-8"))
    }
    return SessionTable.guarded(s) { TurnCollector.text($0, kind: Int(kind) - 1, bytes, chars: chars, t_ns) }
}

@c @implementation
public func vt_turn_usage(_ s: vt_session, _ stage: UInt32, _ u: UnsafePointer<vt_token_usage>?, _ t_ns: UInt64) -> vt_status {
    guard let u else { return fail(.invalid("u is NULL")) }
    guard TurnSeriesSet.tokenStageIndex(stage) != nil else {
        return fail(.invalid("stage \(stage): usage belongs to VT_STAGE_LLM, REALTIME, STT or TTS"))
    }
    let raw = UnsafeRawPointer(u)
    let size = Int(raw.load(as: UInt32.self))
    guard size >= TokenCounts.minimumSize else { return fail(.invalid("u->struct_size is \(size); set it to sizeof(vt_token_usage)")) }
    let counts = TokenCounts(raw, size: size)
    for i in 0..<TokenCounts.count where counts[i] >= 1 << 40 {
        return fail(.invalid("token field \(i) is \(counts[i]): at most 2^40"))
    }
    return SessionTable.guarded(s) { TurnCollector.usage($0, stage: stage, counts, t_ns) }
}

@c @implementation
public func vt_turn_error(_ s: vt_session, _ source: UInt32, _ t_ns: UInt64) -> vt_status {
    guard source >= 1, source <= TurnStage.last else { return fail(.invalid("unknown error source stage \(source)")) }
    return SessionTable.guarded(s) { TurnCollector.error($0, source: source, t_ns) }
}

/// A name argument: non-empty unless optional, at most VT_TURN_MAX_NAME_BYTES, UTF-8.
private func turnName(_ p: UnsafePointer<CChar>?, _ what: String, optional: Bool) throws(Failure) -> String? {
    if optional && (p == nil || p?.pointee == 0) { return nil }
    let name = try Inputs.string(p, what: what, maxBytes: Int(VT_TURN_MAX_NAME_BYTES))
    guard !name.isEmpty else { throw .invalid("\(what) is empty") }
    return name
}

@c @implementation
public func vt_turn_provider(_ s: vt_session, _ stage: UInt32, _ provider: UnsafePointer<CChar>?,
                             _ model: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        guard TurnStage.providerIndex(stage) != nil else {
            throw .invalid("stage \(stage): providers belong to STT, EOU, LLM, TTS or REALTIME")
        }
        let p = try turnName(provider, "provider", optional: false) ?? ""
        let mo = try turnName(model, "model", optional: true)
        try ProcessState.shared.locked { (_) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            TurnCollector.provider(slot, stage: stage, provider: TurnNames.id(p), model: mo.map(TurnNames.id), t_ns)
        }
    }
}

@c @implementation
public func vt_turn_fallback(_ s: vt_session, _ stage: UInt32, _ kind: UInt32, _ from: UnsafePointer<CChar>?,
                             _ to: UnsafePointer<CChar>?, _ reason: UnsafePointer<CChar>?, _ t_ns: UInt64) -> vt_status {
    abiCall { () throws(Failure) in
        guard stage >= 1, stage <= TurnStage.last else { throw .invalid("unknown stage \(stage)") }
        guard kind == UInt32(VT_FALLBACK_SWITCH.rawValue) || kind == UInt32(VT_FALLBACK_RECOVERY.rawValue) else {
            throw .invalid("unknown fallback kind \(kind)")
        }
        let f = try turnName(from, "from", optional: false) ?? ""
        let t = try turnName(to, "to", optional: false) ?? ""
        let r = try turnName(reason, "reason", optional: true)
        try ProcessState.shared.locked { (registry) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            TurnCollector.fallback(slot, stage: stage, kind: kind, from: TurnNames.id(f), to: TurnNames.id(t),
                                   reason: r.map(TurnNames.id), t_ns)
            let labels = [Label(key: "stage", value: TurnStage.name(stage)),
                          Label(key: "kind", value: kind == 1 ? "switch" : "recovery"),
                          Label(key: "from", value: f), Label(key: "to", value: t)]
            guard let series = TurnSeriesSet.series(registry, TurnFamilies.fallbacks,
                                                    slot.meta.turnSeriesSet?.sessionLabels ?? [], labels)
            else { throw .limit("\(TurnFamilies.fallbacks) has no room for another series; the turn still has it") }
            series.add(1)
        }
    }
}

@c @implementation
public func vt_turn_tool_call(_ s: vt_session, _ kind: UInt32, _ name: UnsafePointer<CChar>?, _ start_t_ns: UInt64,
                              _ end_t_ns: UInt64, _ ok: Int32) -> vt_status {
    abiCall { () throws(Failure) in
        guard kind == UInt32(VT_TOOL_FUNCTION.rawValue) || kind == UInt32(VT_TOOL_MCP.rawValue) else {
            throw .invalid("unknown tool kind \(kind)")
        }
        guard ok == 0 || ok == 1 else { throw .invalid("ok is \(ok): pass 1 (success) or 0 (error)") }
        let n = try turnName(name, "tool name", optional: false) ?? ""
        try ProcessState.shared.locked { (registry) throws(Failure) in
            let slot = try ProcessState.shared.liveSlot(s)
            let start = slot.resolve(start_t_ns), end = slot.resolve(end_t_ns)
            TurnCollector.toolCall(slot, kind: kind, name: TurnNames.id(n), start: start, end: end, ok: ok == 1)
            let labels = [Label(key: "tool", value: n), Label(key: "kind", value: kind == 1 ? "function" : "mcp"),
                          Label(key: "outcome", value: ok == 1 ? "ok" : "error")]
            guard let series = TurnSeriesSet.series(registry, TurnFamilies.toolCalls,
                                                    slot.meta.turnSeriesSet?.sessionLabels ?? [], labels)
            else { throw .limit("\(TurnFamilies.toolCalls) has no room for another series; the turn still has it") }
            series.add(1)
        }
    }
}

@c @implementation
public func vt_turn_last_json(_ s: vt_session, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                              _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    turnJSON(s, last: true, max: 1, buf, cap, len_out)
}

@c @implementation
public func vt_turn_history_json(_ s: vt_session, _ max_turns: Int, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                 _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    turnJSON(s, last: false, max: max_turns, buf, cap, len_out)
}

private func turnJSON(_ s: vt_session, last: Bool, max: Int, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                      _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        let text = try ProcessState.shared.locked { (_) throws(Failure) -> TextOutput in
            let slot = try ProcessState.shared.liveSlot(s)
            return last ? TurnJSON.last(slot) : TurnJSON.history(slot, max: max)
        }
        try text.deliver(to: buf, capacity: cap, length: len_out)
    }
}
