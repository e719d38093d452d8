// CoreEvents: the library's own events of a session's life (session.start, session.end, interruption,
// usage, turn.complete and its transcripts as messages). Each hook is called by the core only after
// a relaxed check that at least one plugin is loaded. Every event of a session is on its clock
// (docs/event-schema.md lists the data of each).
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
        out.append(",\"clock\":")
        out.append(meta.mediaClock ? "\"media\"" : "\"monotonic\"")
        Snapshot.anchor(&out, meta)
        out.appendJSONKey("parent_span_id")
        if let parent = meta.parentSpanID { out.appendJSONString(parent) } else { out.append("null") }
        out.appendJSONKey("metadata")
        out.append(meta.metadataJSON ?? "null")
        out.append("}")
        EventBus.shared.emitCore(slot, type: EventTypes.sessionStart, json: String(decoding: out.bytes, as: UTF8.self),
                                 tNs: meta.startNs)
    }

    /// Render and emit the queued turn.complete events, each followed by its transcripts as messages
    /// (process lock held). A record already overwritten in its session's ring (more completed turns
    /// than turn_history since it was queued) is counted as lost.
    static func drainTurnEvents(_ state: ProcessState) {
        let bus = EventBus.shared
        while let (handle, position) = bus.turnEvents.pop() {
            guard let slot = try? state.liveSlot(handle, allowClosing: true),
                  let (json, record) = TurnJSON.record(slot, position: position) else {
                bus.forEachPlugin { $0.countLostQueueFull() }
                continue
            }
            let turnID = record[TurnWord.turnID]
            bus.emitCore(slot, type: EventTypes.turnComplete, json: String(decoding: json.bytes, as: UTF8.self),
                         turnID: String(turnID), tNs: record[TurnWord.endNs])
            TraceEvents.transcripts(slot, record)
        }
    }

    /// After the session was closed and before its counters are folded: data is its final snapshot
    /// as of `atNs` on its clock. A snapshot too long for an event (many usage_by_model rows) loses
    /// its last rows (`usage_by_model_omitted` counts them) rather than the whole event.
    static func sessionEnded(_ slot: SessionSlot, atNs: UInt64) {
        // Room for the payload: the event's limit less its envelope (fixed text, type, ids, times:
        // under 256 bytes besides the session id).
        let room = Int(VT_MAX_EVENT_BYTES) - 256 - slot.idCount - slot.idEscapeExtra
        var snapshot = Snapshot.render(slot, nowNs: atNs)
        var rows = CostJSON.rowCount(slot)
        while snapshot.bytes.count > room && rows > 0 {
            rows -= 1
            snapshot = Snapshot.render(slot, nowNs: atNs, usageRows: rows)
        }
        EventBus.shared.emitCore(slot, type: EventTypes.sessionEnd, json: String(decoding: snapshot.bytes, as: UTF8.self),
                                 tNs: atNs)
    }

    /// Inside the writer guard, after the interruption was counted. No allocation: the data is
    /// written on the stack.
    static func interruption(_ slot: SessionSlot, _ tNs: UInt64) {
        withRecordCallData(slot, type: EventTypes.interruption, tNs: tNs) { out in
            out.ascii("{\"interruptions\":")
            out.decimal(slot.interruptions.value())
            out.ascii("}")
        }
    }

    /// Inside the writer guard: the reported fields of one usage report (< 0: not reported), at tNs on
    /// the session's clock (0 = now). No allocation: the data is written on the stack.
    static func usage(_ slot: SessionSlot, _ value: (UsageField) -> Int64, tNs: UInt64) {
        withRecordCallData(slot, type: EventTypes.usage, tNs: tNs) { out in
            for field in UsageField.allCases {
                out.ascii(field == .total ? "{\"" : ",\"")
                out.ascii(field.key)
                out.ascii("\":")
                let reported = value(field)
                if reported >= 0 { out.decimal(UInt64(reported)) } else { out.ascii("null") }
            }
            out.ascii("}")
        }
    }

    /// Emit the data `write` puts in a stack buffer of `recordCallDataBytes` (ample for the record
    /// calls' events: fixed keys and at most five 19-digit numbers).
    @inline(__always)
    private static func withRecordCallData(_ slot: SessionSlot, type: StaticString, tNs: UInt64, _ write: (inout ByteWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: recordCallDataBytes) { buffer in
            var out = ByteWriter(base: buffer.baseAddress!, capacity: buffer.count)
            write(&out)
            guard !out.overflowed else { return }   // cannot happen: the largest (usage) is under 170 bytes
            EventBus.shared.emitCore(slot, type: type, payload: UnsafeBufferPointer(start: buffer.baseAddress, count: out.count), tNs: tNs)
        }
    }

    private static let recordCallDataBytes = 256
}
