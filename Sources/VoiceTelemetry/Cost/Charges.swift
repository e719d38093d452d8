// Charges: usage is priced when it is recorded, with the price and the provider/model current then:
// tokens at each vt_turn_usage report, STT audio and TTS characters when their turn completes,
// transport when the session ends. Each charge adds to the session's usage row of its (stage,
// provider, model), and to the turn's cost words (docs/cost.md). Lock-free, allocation-free.
import Synchronization

enum Charges {
    // MARK: - Tokens (vt_turn_usage; writer guard held)

    /// After the turn's token words were added: the report's row and its cost.
    @inline(__always)
    static func tokens(_ m: TurnMemory, _ bank: UnsafeMutablePointer<Atomic<UInt64>>, stage: UInt32, _ counts: TokenCounts) {
        guard let index = TurnStage.providerIndex(stage) else { return }
        let who = m.control(TurnMemory.providers + index)[0].load(ordering: .relaxed)
        let key = CostKey.pack(stage: stage, who: who)
        let usage = m.usage
        let row = UsageTable.row(usage, key: key)
        row.add(UsageRow.reports, 1)
        for i in 0..<TokenCounts.count {
            let v = counts[i]
            if v > 0 { row.add(UsageRow.tokens + i, UInt64(truncatingIfNeeded: v)) }
        }
        let quote = PriceBoard.quote(key, anyModel(key)) { CostMath.tokens($0, counts) }
        settle(quote, usage, row, stage: stage, key: key, turn: AtomicWords(bank))
    }

    // MARK: - STT audio and TTS characters (turn completion; `w` is the completing turn's words)

    static func turnEnds(_ m: TurnMemory, _ w: UnsafeMutableBufferPointer<UInt64>) {
        let reported = w[TurnWord.valueMask]
        func has(_ word: Int) -> Bool { reported & (1 << UInt64(word - TurnWord.valueBase)) != 0 }
        if has(TurnWord.sttAudioNs) {
            unit(m, w, stage: TurnStage.stt, who: w[TurnWord.providers + 0], quantity: w[TurnWord.sttAudioNs], UsageRow.audioNs)
        }
        if has(TurnWord.ttsChars) {
            unit(m, w, stage: TurnStage.tts, who: w[TurnWord.providers + 3], quantity: w[TurnWord.ttsChars], UsageRow.characters)
        }
        if PriceBoard.hasTable { w[TurnWord.costFlags] |= 1 }
    }

    private static func unit(_ m: TurnMemory, _ w: UnsafeMutableBufferPointer<UInt64>, stage: UInt32, who: UInt64,
                             quantity: UInt64, _ quantityWord: Int) {
        let key = CostKey.pack(stage: stage, who: who)
        let usage = m.usage
        let row = UsageTable.row(usage, key: key)
        row.add(UsageRow.turns, 1)
        row.add(quantityWord, quantity)
        let quote = PriceBoard.quote(key, anyModel(key)) { CostMath.unit($0, quantity) }
        settle(quote, usage, row, stage: stage, key: key, turn: PlainWords(w))
    }

    // MARK: - Transport (session end, process lock held)

    /// Charge the session's transport for its duration up to `endNs` on its clock.
    static func sessionEnds(_ slot: SessionSlot, endNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        if let pico = transport(slot.meta, now: endNs) {
            m.usage.setLast(UsageTable.transportPico, pico)
            m.usage.setLast(UsageTable.priced, 1)
        }
        m.usage.setLast(UsageTable.transportCharged, 1)
    }

    /// The transport cost of a session that has lasted until `now` at today's price; nil without a
    /// price table, a `transport` label or a price for it (process lock held: names are read).
    static func transport(_ meta: SessionMeta, now: UInt64) -> UInt64? {
        guard let name = meta.labels.first(where: { $0.key == "transport" })?.value,
              let id = TurnNames.existingID(name) else { return nil }
        let key = CostKey.pack(stage: CostStage.transport, provider: UInt64(id + 1), model: CostKey.anyModel)
        let duration = now >= meta.startNs ? now - meta.startNs : 0
        if case .priced(let pico) = PriceBoard.quote(key, key, { CostMath.unit($0, duration) }) { return pico }
        return nil
    }

    // MARK: - Shared

    /// The index of a stage in TurnWord.costStages (a switch: no array on the record path).
    @inline(__always)
    static func costIndex(_ stage: UInt32) -> Int {
        switch stage {
        case TurnStage.stt: return 0
        case TurnStage.tts: return 2
        case TurnStage.realtime: return 3
        default: return 1
        }
    }

    @inline(__always)
    static func anyModel(_ key: UInt64) -> UInt64 {
        CostKey.pack(stage: CostKey.stage(key), provider: CostKey.provider(key), model: CostKey.anyModel)
    }

    /// Book a charge (a table is active): its cost, or that it found no price.
    @inline(__always)
    private static func settle<Turn: TurnCostWords>(_ quote: PriceQuote<UInt64>, _ usage: UnsafeMutablePointer<Atomic<UInt64>>,
                                                    _ row: UnsafeMutablePointer<Atomic<UInt64>>, stage: UInt32, key: UInt64,
                                                    turn: Turn) {
        switch quote {
        case .noTable:
            return
        case .unpriced:
            row.add(UsageRow.unpriced, 1)
            turn.noteUnpriced(key)
        case .priced(let pico):
            if pico != 0 {
                row.addSaturating(UsageRow.costPico, pico)
                turn.addCost(TurnWord.costs + costIndex(stage), pico)
            }
        }
        if usage.word(UsageTable.priced) == 0 { usage.setLast(UsageTable.priced, 1) }
        turn.markPriced()
    }
}

/// The cost words of a turn: in its bank (atomics, on the record path) or in the words of a turn
/// being completed (plain, owned by the completion).
protocol TurnCostWords {
    func addCost(_ word: Int, _ pico: UInt64)
    func noteUnpriced(_ key: UInt64)
    func markPriced()
}

struct AtomicWords: TurnCostWords {
    let p: UnsafeMutablePointer<Atomic<UInt64>>
    init(_ p: UnsafeMutablePointer<Atomic<UInt64>>) { self.p = p }

    func addCost(_ word: Int, _ pico: UInt64) { p.addSaturating(word, pico) }

    func noteUnpriced(_ key: UInt64) {
        p.add(TurnWord.unpricedCount, 1)
        for i in 0..<TurnWord.maxUnpriced {
            let k = p.word(TurnWord.unpriced + i)
            if k == key { return }
            if k == 0 {
                let (stored, seen) = p[TurnWord.unpriced + i].compareExchange(expected: 0, desired: key, ordering: .relaxed)
                if stored || seen == key { return }
            }
        }
    }

    func markPriced() { if p.word(TurnWord.costFlags) & 1 == 0 { p.orBits(TurnWord.costFlags, 1) } }
}

struct PlainWords: TurnCostWords {
    let w: UnsafeMutableBufferPointer<UInt64>
    init(_ w: UnsafeMutableBufferPointer<UInt64>) { self.w = w }

    func addCost(_ word: Int, _ pico: UInt64) { w[word] = Pico.sum(w[word], pico) }

    func noteUnpriced(_ key: UInt64) {
        w[TurnWord.unpricedCount] &+= 1
        for i in 0..<TurnWord.maxUnpriced {
            if w[TurnWord.unpriced + i] == key { return }
            if w[TurnWord.unpriced + i] == 0 { w[TurnWord.unpriced + i] = key; return }
        }
    }

    func markPriced() { w[TurnWord.costFlags] |= 1 }
}

extension UnsafeMutablePointer where Pointee == Atomic<UInt64> {
    /// Add, stopping at UInt64.max (a cost never wraps): one atomic add; only an add that carried past
    /// the top (some 18 million currency units in one word) pins the word at the maximum.
    @inline(__always) func addSaturating(_ i: Int, _ v: UInt64) {
        let old = self[i].wrappingAdd(v, ordering: .relaxed).oldValue
        if old > UInt64.max - v { pinAtMax(i) }
    }

    @inline(never) func pinAtMax(_ i: Int) { self[i].store(.max, ordering: .relaxed) }
}
