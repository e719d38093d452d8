// SessionList: vt_sessions_json (the open sessions, oldest first) and vt_session_find (an open
// session's handle by its id). Both run under the process lock, so the slots they read stay live.
import CVoiceTelemetry

extension ProcessState {
    func sessionsJSON() -> TextOutput {
        (try? locked { (_) -> TextOutput in
            var live: [SessionSlot] = []
            sessions.forEachLive { live.append($0) }
            live.sort { $0.meta.serial < $1.meta.serial }
            var out = TextOutput(reserving: 2 + 320 * live.count)
            out.append("[")
            for (i, slot) in live.enumerated() {
                if i > 0 { out.append(",") }
                SessionList.entry(&out, slot)
            }
            out.append("]")
            return out
        }) ?? TextOutput()
    }

    func findSession(_ id: String) throws(Failure) -> vt_session {
        try locked { (_) throws(Failure) -> vt_session in
            var newest: SessionSlot?
            sessions.forEachLive { slot in
                if slot.meta.sessionID == id && slot.meta.serial > (newest?.meta.serial ?? 0) { newest = slot }
            }
            guard let newest else { throw .notFound("no open session has the id '\(id)'") }
            return newest.sessionHandle
        }
    }
}

enum SessionList {
    /// {"session_id","labels","start_unix_ns","uptime_ns","turns_completed","turns_interrupted","last_e2e_ns","trace_id"}
    static func entry(_ out: inout TextOutput, _ slot: SessionSlot) {
        let meta = slot.meta
        let m = slot.turnMemory
        out.append("{")
        out.appendJSONKey("session_id", first: true)
        out.appendJSONString(meta.sessionID)
        out.appendJSONKey("labels")
        out.appendJSONLabels(meta.labels)
        out.appendJSONKey("start_unix_ns")
        out.append(meta.startUnixNs)
        out.appendJSONKey("uptime_ns")
        let now = meta.now()
        out.append(now >= meta.startNs ? now - meta.startNs : 0)
        out.appendJSONKey("turns_completed")
        out.append(m.base != nil ? m.control(TurnMemory.completedCount)[0].load(ordering: .relaxed) : 0)
        out.appendJSONKey("turns_interrupted")
        out.append(m.base != nil ? m.control(TurnMemory.interruptedCount)[0].load(ordering: .relaxed) : 0)
        out.appendJSONKey("last_e2e_ns")
        if let r = TurnJSON.records(m, max: 1).last, let e2e = TurnDerived({ r[$0] }).e2e {
            out.append(e2e)
        } else {
            out.append("null")
        }
        out.appendJSONKey("trace_id")
        out.appendJSONString(meta.traceID)
        out.append("}")
    }
}
