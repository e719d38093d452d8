// CostJSON: costs in the turn record (`cost`) and in the snapshot (`cost`, `usage_by_model`), rendered
// when read (process lock held: names are looked up). Amounts are integer micro-units of the currency,
// each rounded half up from the exact pico-unit sum (docs/cost.md).
import Synchronization

enum CostJSON {
    static let stageKeys: [StaticString] = ["stt_micros", "llm_micros", "tts_micros", "realtime_micros"]

    /// The names of a CostKey: stage, then provider and model (nil: none reported).
    static func names(_ key: UInt64) -> (stage: String, provider: String?, model: String?) {
        func name(_ stored: UInt64) -> String? { stored == UsageTable.otherName ? "other" : TurnNames.name(stored: stored) }
        return (CostStage.name(CostKey.stage(key)), name(CostKey.provider(key)), name(CostKey.model(key)))
    }

    /// "stage:provider/model", parts that were not reported left out ("llm", "llm:acme").
    static func label(_ key: UInt64) -> String {
        let n = names(key)
        guard let provider = n.provider else { return n.stage }
        return n.stage + ":" + provider + (n.model.map { "/" + $0 } ?? "")
    }

    // MARK: - Turn record

    /// `"cost":{...}` of a turn record (null when no price table was active at any of its charges).
    static func turn(_ out: inout TextOutput, _ word: (Int) -> UInt64) {
        out.appendJSONKey("cost")
        guard word(TurnWord.costFlags) & 1 != 0, let currency = Prices.currency else { out.append("null"); return }
        out.append("{\"currency\":")
        out.appendJSONString(currency)
        var total: UInt64 = 0
        for (i, key) in stageKeys.enumerated() {
            let pico = word(TurnWord.costs + i)
            total = Pico.sum(total, pico)
            out.appendJSONKey(key)
            out.append(Pico.micros(pico))
        }
        out.appendJSONKey("total_micros")
        out.append(Pico.micros(total))
        out.appendJSONKey("unpriced_charges")
        out.append(word(TurnWord.unpricedCount))
        out.appendJSONKey("unpriced")
        out.append("[")
        var first = true
        for i in 0..<TurnWord.maxUnpriced where word(TurnWord.unpriced + i) != 0 {
            if !first { out.append(",") }
            first = false
            out.appendJSONString(label(word(TurnWord.unpriced + i)))
        }
        out.append("]}")
    }

    // MARK: - Snapshot

    /// `,"cost":{...},"usage_by_model":[...],"usage_by_model_overflow":N` of a session as of `nowNs`;
    /// past `maxRows` rows, the rest are left out and `"usage_by_model_omitted":K` says how many.
    static func session(_ out: inout TextOutput, _ slot: SessionSlot, nowNs: UInt64, maxRows: Int = .max) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let usage = m.usage
        let rows = UsageTable.usedRows(usage)
        out.appendJSONKey("cost")
        if let currency = Prices.currency, PriceBoard.hasTable || usage.word(UsageTable.priced) != 0 {
            sessionCost(&out, slot, rows, currency: currency, nowNs: nowNs)
        } else {
            out.append("null")
        }
        out.appendJSONKey("usage_by_model")
        out.append("[")
        for (i, row) in rows.prefix(max(0, maxRows)).enumerated() {
            if i > 0 { out.append(",") }
            usageRow(&out, row)
        }
        out.append("]")
        out.appendJSONKey("usage_by_model_overflow")
        out.append(usage.word(UsageTable.overflowCharges))
        if rows.count > maxRows {
            out.appendJSONKey("usage_by_model_omitted")
            out.append(UInt64(rows.count - max(0, maxRows)))
        }
    }

    /// How many usage rows a session has (session.end sizes its snapshot with it).
    static func rowCount(_ slot: SessionSlot) -> Int {
        slot.turnMemory.base == nil ? 0 : UsageTable.usedRows(slot.turnMemory.usage).count
    }

    private static func sessionCost(_ out: inout TextOutput, _ slot: SessionSlot, _ rows: [UnsafeMutablePointer<Atomic<UInt64>>],
                                    currency: String, nowNs: UInt64) {
        let usage = slot.turnMemory.usage
        var byStage = [UInt64](repeating: 0, count: TurnWord.costStages.count)
        var unpriced: UInt64 = 0
        for row in rows {
            let i = Charges.costIndex(CostKey.stage(row.word(UsageRow.key)))
            byStage[i] = Pico.sum(byStage[i], row.word(UsageRow.costPico))
            unpriced &+= row.word(UsageRow.unpriced)
        }
        let transport = usage.word(UsageTable.transportCharged) != 0 ? usage.word(UsageTable.transportPico)
            : Charges.transport(slot.meta, now: nowNs) ?? 0
        out.append("{\"currency\":")
        out.appendJSONString(currency)
        var total = transport
        for (i, key) in stageKeys.enumerated() {
            total = Pico.sum(total, byStage[i])
            out.appendJSONKey(key)
            out.append(Pico.micros(byStage[i]))
        }
        out.appendJSONKey("transport_micros")
        out.append(Pico.micros(transport))
        out.appendJSONKey("total_micros")
        out.append(Pico.micros(total))
        out.appendJSONKey("unpriced_charges")
        out.append(unpriced)
        out.append("}")
    }

    static let tokenNames: [StaticString] = ["input", "output", "cached_input", "reasoning", "input_text", "input_audio",
                                             "input_image", "output_text", "output_audio"]

    private static func usageRow(_ out: inout TextOutput, _ row: UnsafeMutablePointer<Atomic<UInt64>>) {
        let n = names(row.word(UsageRow.key))
        out.append("{\"stage\":")
        out.appendJSONString(n.stage)
        out.appendJSONKey("provider")
        if let p = n.provider { out.appendJSONString(p) } else { out.append("null") }
        out.appendJSONKey("model")
        if let mo = n.model { out.appendJSONString(mo) } else { out.append("null") }
        out.appendJSONKey("reports")
        out.append(row.word(UsageRow.reports))
        out.appendJSONKey("turns")
        out.append(row.word(UsageRow.turns))
        out.appendJSONKey("tokens")
        out.append("{")
        var first = true
        for (i, name) in tokenNames.enumerated() where row.word(UsageRow.tokens + i) != 0 {
            out.appendJSONKey(name, first: first)
            first = false
            out.append(row.word(UsageRow.tokens + i))
        }
        out.append("}")
        out.appendJSONKey("audio_duration_ns")
        out.append(row.word(UsageRow.audioNs))
        out.appendJSONKey("characters")
        out.append(row.word(UsageRow.characters))
        out.appendJSONKey("cost_micros")
        out.append(Pico.micros(row.word(UsageRow.costPico)))
        out.appendJSONKey("unpriced_charges")
        out.append(row.word(UsageRow.unpriced))
        out.append("}")
    }
}
