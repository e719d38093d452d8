// TraceEvents: the payloads of the trace calls' events (step.start, step.end, message,
// reward.outcome, reward.event) and the messages a completed turn's transcripts become
// (docs/event-schema.md). Built under the process lock; texts follow the session's TextPolicy.

enum TraceEvents {
    /// A message's content: text, or a JSON object kept as such.
    struct Content {
        var text: String
        var isJSON: Bool
    }

    static func stepStart(id: String, turnNumber: UInt64?, metadata: String?) -> String {
        var out = TextOutput(reserving: 128)
        out.append("{\"step_id\":")
        out.appendJSONString(id)
        out.appendJSONKey("turn_number")
        out.append(turnNumber.map(String.init) ?? "null")
        out.appendJSONKey("metadata")
        out.append(metadata ?? "null")
        out.append("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    static func stepEnd(id: String) -> String {
        var out = TextOutput(reserving: 64)
        out.append("{\"step_id\":")
        out.appendJSONString(id)
        out.append("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// A message: its content as the policy allows (redacted: null; included: cut to maxChars
    /// characters, and JSON content that would be cut becomes text), with its length and flags.
    static func message(role: String, step: String?, content: Content, chars: Int, truncated: Bool,
                        policy: TextPolicy, metadata: String?) -> String {
        var out = TextOutput(reserving: 256)
        out.append("{\"role\":")
        out.appendJSONString(role)
        out.appendJSONKey("step_id")
        if let step { out.appendJSONString(step) } else { out.append("null") }
        let cut = truncated || chars > policy.maxChars
        let asJSON = content.isJSON && !cut
        out.appendJSONKey("content_type")
        out.append(asJSON ? "\"json\"" : "\"text\"")
        out.appendJSONKey("content")
        if !policy.include {
            out.append("null")
        } else if asJSON {
            out.append(content.text)
        } else {
            var kept = String.UnicodeScalarView()
            kept.append(contentsOf: content.text.unicodeScalars.prefix(policy.maxChars))
            out.appendJSONString(String(kept))
        }
        out.appendJSONKey("chars")
        out.append(UInt64(chars))
        out.appendJSONKey("redacted")
        out.append(policy.include ? "false" : "true")
        out.appendJSONKey("truncated")
        out.append(policy.include && cut ? "true" : "false")
        out.appendJSONKey("metadata")
        out.append(metadata ?? "null")
        out.append("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    static func outcomeReward(key: String, total: Double, achievements: UInt32, totalSteps: UInt64?,
                              annotation: String?) -> String {
        var out = TextOutput(reserving: 160)
        out.append("{\"objective_key\":")
        out.appendJSONString(key)
        out.appendJSONKey("total_reward")
        out.appendJSONNumber(total)
        out.appendJSONKey("achievements_count")
        out.append(UInt64(achievements))
        out.appendJSONKey("total_steps")
        out.append(totalSteps.map(String.init) ?? "null")
        out.appendJSONKey("annotation")
        out.append(annotation ?? "null")
        out.append("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    static func eventReward(key: String, value: Double, rewardType: String?, source: String?, step: String?,
                            annotation: String?) -> String {
        var out = TextOutput(reserving: 192)
        out.append("{\"objective_key\":")
        out.appendJSONString(key)
        out.appendJSONKey("value")
        out.appendJSONNumber(value)
        for (name, text) in [("reward_type", rewardType), ("source", source), ("step_id", step)] {
            out.append(",")
            out.appendJSONString(name)
            out.append(":")
            if let text { out.appendJSONString(text) } else { out.append("null") }
        }
        out.appendJSONKey("annotation")
        out.append(annotation ?? "null")
        out.append("}")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// After a turn's turn.complete (process lock held): its user transcript (at the user's speech
    /// end, else the turn's start) and agent response (at the agent's first audio, else the turn's
    /// end) as messages of step "turn-N". The preflight transcript is no message.
    static func transcripts(_ slot: SessionSlot, _ record: TurnJSON.Record) {
        let step = "turn-\(record[TurnWord.turnID])"
        let kinds: [(index: Int, role: String, time: UInt64)] = [
            (0, "user", record[TurnWord.userEnd] != 0 ? record[TurnWord.userEnd] : record[TurnWord.firstEvent]),
            (2, "assistant", record[TurnWord.agentStart] != 0 ? record[TurnWord.agentStart] : record[TurnWord.endNs]),
        ]
        for kind in kinds {
            let meta = TextMeta(word: record[TurnWord.texts + kind.index])
            guard meta.present else { continue }
            let text = String(decoding: record.texts[kind.index], as: UTF8.self)
            let json = message(role: kind.role, step: step, content: Content(text: text, isJSON: false),
                               chars: meta.characters, truncated: meta.truncated,
                               policy: slot.meta.textPolicy, metadata: nil)
            EventBus.shared.emitCore(slot, type: EventTypes.message, json: json, turnID: String(record[TurnWord.turnID]), tNs: kind.time)
        }
    }
}
