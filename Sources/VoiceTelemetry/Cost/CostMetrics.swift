// CostMetrics: the process's cost counters, rendered at scrape time like the session-derived families:
// ended sessions' usage rows folded into totals when they end, plus the live sessions' rows read at the
// scrape (process lock held throughout). Families:
//   voicetelemetry_cost_total{stage,provider,model,currency}  counter, in currency units
//   voicetelemetry_usage_unpriced_total{stage,provider,model} counter, charges with no price
// Transport is counted when its session ends (its cost is known then), so the counter never goes down.
import CVoiceTelemetry
import Synchronization

enum CostMetrics {
    struct Key: Hashable, Comparable {
        var stage: String
        var provider: String?
        var model: String?
        var currency: String?

        static func < (a: Key, b: Key) -> Bool {
            (a.stage, a.provider ?? "", a.model ?? "", a.currency ?? "") < (b.stage, b.provider ?? "", b.model ?? "", b.currency ?? "")
        }

        /// `currency="…",model="…",provider="…",stage="…"`: keys sorted, absent ones left out.
        var labels: [Label] {
            var l: [Label] = []
            if let currency { l.append(Label(key: "currency", value: currency)) }
            if let model { l.append(Label(key: "model", value: model)) }
            if let provider { l.append(Label(key: "provider", value: provider)) }
            l.append(Label(key: "stage", value: stage))
            return l
        }
    }

    nonisolated(unsafe) private static var folded: [Key: UInt128] = [:]
    nonisolated(unsafe) private static var foldedUnpriced: [Key: UInt64] = [:]

    /// A session ends (its charges are final): fold its rows and its transport.
    static func fold(_ slot: SessionSlot) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        add(m.usage, to: &folded, &foldedUnpriced, currency: Prices.currency)
        let transport = m.usage.word(UsageTable.transportPico)
        if transport != 0, let name = slot.meta.labels.first(where: { $0.key == "transport" })?.value {
            add(&folded, Key(stage: "transport", provider: name, model: nil, currency: Prices.currency), UInt128(transport))
        }
    }

    private static func add(_ usage: UnsafeMutablePointer<Atomic<UInt64>>, to cost: inout [Key: UInt128],
                            _ unpriced: inout [Key: UInt64], currency: String?) {
        for row in UsageTable.usedRows(usage) {
            let n = CostJSON.names(row.word(UsageRow.key))
            let key = Key(stage: n.stage, provider: n.provider, model: n.model, currency: nil)
            let pico = row.word(UsageRow.costPico), missing = row.word(UsageRow.unpriced)
            if pico != 0, let currency {
                var priced = key
                priced.currency = currency
                add(&cost, priced, UInt128(pico))
            }
            if missing != 0 { add(&unpriced, key, missing) }
        }
    }

    /// Add to a series, within the family's series limit (beyond it: provider and model "other", one
    /// series per stage and currency).
    private static func add<V: FixedWidthInteger>(_ dict: inout [Key: V], _ key: Key, _ v: V) {
        var key = key
        if dict[key] == nil && dict.count >= Int(VT_MAX_SERIES_PER_FAMILY) {
            key.provider = "other"
            key.model = "other"
        }
        dict[key, default: 0] &+= v
    }

    static func render<Sink: PromSink>(into out: inout Sink, format: ExpositionFormat, sessions: SessionTable) {
        var cost = folded, unpriced = foldedUnpriced
        sessions.forEachLive { slot in
            guard slot.turnMemory.base != nil else { return }
            add(slot.turnMemory.usage, to: &cost, &unpriced, currency: Prices.currency)
        }
        if !cost.isEmpty {
            PromText.header(&out, name: "voicetelemetry_cost_total",
                            help: "Cost of usage priced by the price table (vt_set_prices), in units of its currency.",
                            type: .counter, format: format)
            for key in cost.keys.sorted() { sample(&out, "voicetelemetry_cost_total", key, Pico.decimal(cost[key] ?? 0)) }
        }
        if !unpriced.isEmpty {
            PromText.header(&out, name: "voicetelemetry_usage_unpriced_total",
                            help: "Usage charges (token reports, turns' STT audio or TTS characters) with no price in the price table.",
                            type: .counter, format: format)
            for key in unpriced.keys.sorted() { sample(&out, "voicetelemetry_usage_unpriced_total", key, String(unpriced[key] ?? 0)) }
        }
    }

    private static func sample<Sink: PromSink>(_ out: inout Sink, _ name: String, _ key: Key, _ value: String) {
        out.append(name)
        out.append("{")
        out.append(Series.render(key.labels))
        out.append("} ")
        out.append(value)
        out.append("\n")
    }
}
