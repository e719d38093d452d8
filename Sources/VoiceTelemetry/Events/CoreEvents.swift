// CoreEvents: the library's own events (session.start, session.end, interruption, usage). Each hook is
// called by the core only after a relaxed check that at least one plugin is loaded.
import CVoiceTelemetry

enum CoreEvents {
    /// After a session's slot went live (process lock held).
    static func sessionStarted(_ slot: SessionSlot) {
        let meta = slot.meta
        var out = TextOutput(reserving: 256)
        out.append("{\"labels\":")
        out.appendJSONLabels(meta.labels)
        out.append(",\"text_policy\":")
        out.append(meta.textPolicy.include ? "\"include\"" : "\"redact\"")
        out.append("}")
        EventBus.shared.emitCore(sessionID: meta.sessionID, type: "session.start", json: String(decoding: out.bytes, as: UTF8.self),
                                 tNs: meta.startNs)
    }

    /// Render and emit the queued turn.complete events (process lock held). A record already
    /// overwritten in its session's ring (more completed turns than turn_history since it was queued)
    /// is counted as lost.
    static func drainTurnEvents(_ state: ProcessState) {
        let bus = EventBus.shared
        while let (handle, position) = bus.turnEvents.pop() {
            guard let slot = try? state.liveSlot(handle, allowClosing: true),
                  let (json, turnID, endNs) = TurnJSON.record(slot, position: position) else {
                bus.forEachPlugin { $0.countLostQueueFull() }
                continue
            }
            bus.emitCore(sessionID: slot.meta.sessionID, type: "turn.complete",
                         json: String(decoding: json.bytes, as: UTF8.self), turnID: String(turnID), tNs: endNs)
        }
    }

    /// After the session was closed and before its counters are folded: data is its final snapshot.
    static func sessionEnded(_ slot: SessionSlot) {
        let now = Clock.nowNs()
        let snapshot = Snapshot.render(slot, nowNs: now)
        EventBus.shared.emitCore(sessionID: slot.meta.sessionID, type: "session.end",
                                 json: String(decoding: snapshot.bytes, as: UTF8.self), tNs: now)
    }

    /// Inside the writer guard, after the interruption was counted.
    static func interruption(_ slot: SessionSlot, _ tNs: UInt64) {
        var out = TextOutput(reserving: 48)
        out.append("{\"interruptions\":")
        out.append(slot.interruptions.value())
        out.append("}")
        EventBus.shared.emitCore(sessionID: slot.meta.sessionID, type: "interruption",
                                 json: String(decoding: out.bytes, as: UTF8.self), tNs: tNs)
    }

    /// Inside the writer guard: the reported fields of one usage report (< 0: not reported).
    static func usage(_ slot: SessionSlot, _ value: (UsageField) -> Int64) {
        let keys: [(UsageField, StaticString)] = [
            (.total, "total"), (.prompt, "prompt"), (.response, "response"), (.cached, "cached"), (.thoughts, "thoughts"),
        ]
        var out = TextOutput(reserving: 128)
        out.append("{")
        for (i, (field, key)) in keys.enumerated() {
            out.appendJSONKey(key, first: i == 0)
            let reported = value(field)
            out.append(reported >= 0 ? String(reported) : "null")
        }
        out.append("}")
        EventBus.shared.emitCore(sessionID: slot.meta.sessionID, type: "usage", json: String(decoding: out.bytes, as: UTF8.self),
                                 tNs: 0)
    }
}
