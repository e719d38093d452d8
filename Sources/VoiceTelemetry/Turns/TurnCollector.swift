// TurnCollector: the turn collector's turns (stage by stage, from user speech to agent speech) on a
// session slot; not the response turns of vt_record_turn_start/complete (docs/architecture.md, glossary).
//
// The open turn lives in a bank of atomic words (TurnWord). Stage events set words: START/FIRST keep
// the first time (compare-and-swap from 0), END/FINAL the last; values add or set. A second bank holds
// the user's speech that began while the agent was speaking: it becomes the next turn.
// Completion (one at a time, claimed with a compare-and-swap; a racing second completion is a no-op)
// swaps the bank's words out with atomic exchanges, so every event lands in exactly one turn, derives
// the latencies, writes a fixed-size record into the history ring under a sequence word (readers
// retry a record that changed under them) and feeds the process metrics. No lock, no allocation.
//
// All entry points except `prepare`, `sessionEnded` and the named calls run inside the slot's writer
// guard (SessionTable.guarded); those three run under the process lock.
import CVoiceTelemetry
import Synchronization

enum TurnCollector {
    // MARK: - Session life cycle (process lock held)

    static func prepare(_ slot: SessionSlot, meta: inout SessionMeta, registry: Registry) throws(Failure) {
        try slot.turnMemory.prepare(history: meta.turnHistory, policy: meta.textPolicy)
        meta.turnSeriesSet = TurnSeriesSet.resolve(registry, sessionLabels: meta.labels)
        slot.turnMemory.tokenCells = meta.turnSeriesSet?.tokenCells
    }

    /// The session ended (slot closed, writers drained): the open turn, and a carried next one, complete.
    static func sessionEnded(_ slot: SessionSlot) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        for _ in 0..<2 { complete(slot, m, by: .sessionEnd, t: 0) }
    }

    // MARK: - Validation (before entering the guard)

    static func validMark(_ stage: UInt32, _ mark: UInt32) -> Bool {
        switch stage {
        case TurnStage.userSpeech, TurnStage.eou, TurnStage.agentSpeech, TurnStage.kb, TurnStage.background,
             TurnStage.thinking:
            return mark == TurnStage.start || mark == TurnStage.end
        case TurnStage.stt:
            return mark == TurnStage.start || mark == TurnStage.interim || mark == TurnStage.preflight
                || mark == TurnStage.final
        case TurnStage.llm, TurnStage.tts, TurnStage.realtime:
            return mark == TurnStage.start || mark == TurnStage.first || mark == TurnStage.end
        case TurnStage.interruption:
            return mark == TurnStage.start
        case TurnStage.falseInterruption:
            return mark == TurnStage.start || mark == TurnStage.resumed || mark == TurnStage.escalated
        default:
            return false
        }
    }

    // MARK: - Stage marks (writer guard held)

    static func mark(_ slot: SessionSlot, _ stage: UInt32, _ mark: UInt32, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        switch stage {
        case TurnStage.userSpeech: userSpeech(m, t, mark)
        case TurnStage.stt: stt(m, t, mark)
        case TurnStage.eou: interval(m.bank(m.userIndex), t, mark, TurnWord.eouStart, TurnWord.eouEnd)
        case TurnStage.llm: agentSide(slot, m, t, mark, TurnWord.llmStart, TurnWord.llmFirst, TurnWord.llmEnd)
        case TurnStage.tts: agentSide(slot, m, t, mark, TurnWord.ttsStart, TurnWord.ttsFirst, TurnWord.ttsEnd)
        case TurnStage.realtime: agentSide(slot, m, t, mark, TurnWord.rtStart, TurnWord.rtFirst, TurnWord.rtEnd)
        case TurnStage.agentSpeech: agentSpeech(slot, m, t, mark)
        case TurnStage.kb: interval(m.bank(m.curIndex), t, mark, TurnWord.kbStart, TurnWord.kbEnd)
        case TurnStage.interruption: interruption(slot, m, t)
        case TurnStage.falseInterruption: falseInterruption(slot, m, t, mark)
        case TurnStage.background: interval(m.bank(m.curIndex), t, mark, TurnWord.bgStart, TurnWord.bgEnd)
        case TurnStage.thinking: interval(m.bank(m.curIndex), t, mark, TurnWord.thinkStart, TurnWord.thinkEnd)
        default: return
        }
    }

    /// A stage that only starts and ends, in bank `b`: the first START and the last END count.
    @inline(__always)
    private static func interval(_ b: UnsafeMutablePointer<Atomic<UInt64>>, _ t: UInt64, _ mark: UInt32,
                                 _ startWord: Int, _ endWord: Int) {
        if mark == TurnStage.start { b.setFirst(startWord, t) } else { b.setLast(endWord, t) }
        b.touch(t)
    }

    /// User speech START (also: the user speaks while the agent speaks, so the speech belongs to the
    /// next turn) and END.
    private static func userSpeech(_ m: TurnMemory, _ t: UInt64, _ mark: UInt32) {
        if mark == TurnStage.start {
            let c = m.bank(m.curIndex)
            if c.word(TurnWord.agentStart) != 0 && c.word(TurnWord.agentEnd) == 0 {
                c.setFirst(TurnWord.overlapStart, t)
                m.control(TurnMemory.pending)[0].store(1, ordering: .relaxed)
            }
        }
        interval(m.bank(m.userIndex), t, mark, TurnWord.userStart, TurnWord.userEnd)
    }

    /// STT START, INTERIM (counted), PREFLIGHT and FINAL (the last one counts).
    private static func stt(_ m: TurnMemory, _ t: UInt64, _ mark: UInt32) {
        let u = m.bank(m.userIndex)
        switch mark {
        case TurnStage.start: u.setFirst(TurnWord.sttStart, t)
        case TurnStage.interim:
            u.setFirst(TurnWord.sttInterim, t)
            u.add(TurnWord.sttInterimCount, 1)
        case TurnStage.preflight: u.setFirst(TurnWord.sttPreflight, t)
        default: u.setLast(TurnWord.sttFinal, t)
        }
        u.touch(t)
    }

    /// Agent speech START (its first audio) and END (which completes the turn).
    private static func agentSpeech(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64, _ mark: UInt32) {
        guard mark != TurnStage.start else { return firstAudio(slot, m, t, bytesBefore: slot.audioBytes.value()) }
        let c = m.bank(m.curIndex)
        c.setLast(TurnWord.agentEnd, t)
        c.setFirst(TurnWord.audioBytesAtStop, slot.audioBytes.value() &+ 1)
        c.touch(t)
        complete(slot, m, by: .agentSpeechEnd, t: t)
    }

    /// LLM, TTS and realtime marks. A START while the current turn was interrupted and the next
    /// user's speech is waiting means the answer to that speech begins: the interrupted turn completes.
    private static func agentSide(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64, _ mark: UInt32,
                                  _ startWord: Int, _ firstWord: Int, _ endWord: Int) {
        if mark == TurnStage.start { answerBegins(slot, m, t) }
        let c = m.bank(m.curIndex)
        switch mark {
        case TurnStage.start: c.setFirst(startWord, t)
        case TurnStage.first: c.setFirst(firstWord, t)
        default: c.setLast(endWord, t)
        }
        c.touch(t)
    }

    @inline(__always)
    private static func answerBegins(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64) {
        guard m.control(TurnMemory.pending)[0].load(ordering: .relaxed) != 0 else { return }
        let c = m.bank(m.curIndex)
        if c.word(TurnWord.interrupt) != 0 || c.word(TurnWord.fiEscalated) != 0 {
            complete(slot, m, by: .nextUserTurn, t: t)
        }
    }

    /// The agent's first audio of the turn (AGENT_SPEECH START, or the first audio_out after vad_end).
    static func firstAudio(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64, bytesBefore: UInt64) {
        answerBegins(slot, m, t)
        let c = m.bank(m.curIndex)
        if c.word(TurnWord.agentStart) == 0 {
            c.setFirst(TurnWord.audioBytesAtStart, bytesBefore &+ 1)
            c.setFirst(TurnWord.agentStart, t)
        }
        c.touch(t)
    }

    /// From Recorder's response-latency path: the first audio chunk after a vad_end.
    static func firstAudioChunk(_ slot: SessionSlot, bytes: Int, tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        firstAudio(slot, m, slot.resolve(tNs), bytesBefore: slot.audioBytes.value() &- UInt64(bytes))
    }

    private static func interruption(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64) {
        let c = m.bank(m.curIndex)
        guard c.word(TurnWord.agentStart) != 0 && c.word(TurnWord.agentEnd) == 0 else { return }   // not speaking
        c.setFirst(TurnWord.interrupt, t)
        c.setFirst(TurnWord.audioBytesAtStop, slot.audioBytes.value() &+ 1)
        m.control(TurnMemory.pending)[0].store(1, ordering: .relaxed)
        c.touch(t)
    }

    private static func falseInterruption(_ slot: SessionSlot, _ m: TurnMemory, _ t: UInt64, _ mark: UInt32) {
        let c = m.bank(m.curIndex)
        let series = slot.meta.turnSeriesSet
        switch mark {
        case TurnStage.start:
            c.setFirst(TurnWord.fiStart, t)
        case TurnStage.resumed:
            c.setFirst(TurnWord.fiResumed, t)
            // The agent went on: the speech that paused it was no user turn, and no interruption.
            if m.control(TurnMemory.pending)[0].exchange(0, ordering: .relaxed) != 0 {
                let other = m.bank(m.curIndex ^ 1)
                for i in 0..<TurnWord.bankCount { other[i].store(0, ordering: .relaxed) }
            }
            c.setLast(TurnWord.overlapStart, 0)
            c.setLast(TurnWord.interrupt, 0)
            c.setLast(TurnWord.audioBytesAtStop, 0)
            series?.falseInterruption(resumed: true)?.add(1)
        default:
            c.setFirst(TurnWord.fiEscalated, t)
            let from = c.word(TurnWord.fiStart)
            c.setFirst(TurnWord.interrupt, from != 0 ? from : t)
            c.setFirst(TurnWord.audioBytesAtStop, slot.audioBytes.value() &+ 1)
            m.control(TurnMemory.pending)[0].store(1, ordering: .relaxed)
            series?.falseInterruption(resumed: false)?.add(1)
        }
        c.touch(t)
    }

    // MARK: - Values, usage, errors (writer guard held; arguments already checked)

    static func value(_ slot: SessionSlot, _ key: UInt32, _ v: Double, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        let userSide = key <= UInt32(VT_TV_EOU_WAIT_SECONDS.rawValue)
        let b = m.bank(userSide ? m.userIndex : m.curIndex)
        // The ABI bounds each key (seconds <= 1e6, counts < 2^40), but convert only the way a key is
        // read: a count of 2^40 in nanoseconds would not fit a UInt64.
        var ns: UInt64 { UInt64(exactly: (v * 1e9).rounded()) ?? UInt64.max }
        var count: UInt64 { UInt64(exactly: v.rounded(.towardZero)) ?? UInt64.max }
        switch Int32(key) {
        case Int32(VT_TV_STT_CONFIDENCE.rawValue): b.setLast(TurnWord.sttConfidence, v.bitPattern)
        case Int32(VT_TV_STT_AUDIO_SECONDS.rawValue): b.setLast(TurnWord.sttAudioNs, ns)
        case Int32(VT_TV_EOU_PROBABILITY.rawValue): b.setLast(TurnWord.eouProbability, v.bitPattern)
        case Int32(VT_TV_EOU_WAIT_SECONDS.rawValue): b.add(TurnWord.eouWaitNs, ns)
        case Int32(VT_TV_TTS_CHARACTERS.rawValue): b.add(TurnWord.ttsChars, count)
        case Int32(VT_TV_TTS_CHARACTERS_PLAYED.rawValue): b.setLast(TurnWord.ttsCharsPlayed, count)
        case Int32(VT_TV_TTS_AUDIO_BYTES.rawValue): b.add(TurnWord.ttsAudioBytes, count)
        case Int32(VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS.rawValue): b.setLast(TurnWord.fiPauseNs, ns)
        default: b.setLast(TurnWord.fiWords, count)
        }
        b.orBits(TurnWord.valueMask, 1 << UInt64(valueWord(key) - TurnWord.valueBase))
        b.touch(t)
    }

    /// Value keys 1...9 map to the value words in order.
    static func valueWord(_ key: UInt32) -> Int { TurnWord.sttConfidence + Int(key) - 1 }

    /// `counts`: the report's vt_token_usage fields (< 0: not reported; the ABI checked < 2^40).
    /// Each reported count is one atomic add to the turn and, when non-zero, one to its process
    /// counter (a whole-number add: TurnSeriesSet.tokenCells); the fields' bits are set at once.
    static func usage(_ slot: SessionSlot, stage: UInt32, _ counts: TokenCounts, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        let c = m.bank(m.curIndex)
        let typeBase = 4 * (TurnSeriesSet.tokenStageIndex(stage) ?? 0)
        var reported: UInt64 = 0
        for i in 0..<TurnWord.tokenFields {
            let v = counts[i]
            guard v >= 0 else { continue }
            reported |= 1 << UInt64(i)
            guard v > 0 else { continue }
            c.add(TurnWord.tokens + i, UInt64(v))
            if let cells = m.tokenCells, let cell = cells[i < 4 ? typeBase + i : 16 + i - 4] {
                cell[1].wrappingAdd(UInt64(v), ordering: .relaxed)
            }
        }
        if reported != 0 { c.orBits(TurnWord.tokensMask, reported) }
        Charges.tokens(m, c, stage: stage, counts)   // usage by model, and its cost (Cost/Charges.swift)
        c.touch(t)
    }

    static func error(_ slot: SessionSlot, source: UInt32, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        let c = m.bank(TurnStage.isUserSide(source) ? m.userIndex : m.curIndex)
        c.add(TurnWord.errors + Int(source) - 1, 1)
        c.touch(t)
        slot.meta.turnSeriesSet?.errors[Int(source)]?.add(1)
    }

    // MARK: - Texts (writer guard held; `bytes` valid UTF-8)

    /// `kind`: the text's index in the turn's texts (its vt_turn_text_kind less 1).
    static func text(_ slot: SessionSlot, kind: Int, _ bytes: UnsafeBufferPointer<UInt8>, chars: Int, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        let bankIndex = kind == TurnWord.agentResponseText ? m.curIndex : m.userIndex   // the agent's text: this turn
        let b = m.bank(bankIndex)
        var kept = 0
        var keptChars = 0
        if m.includeText {
            // Keep whole characters up to the limit.
            var i = 0
            while i < bytes.count && keptChars < m.textMaxChars {
                let lead = bytes[i]
                let len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                i += len
                keptChars += 1
            }
            kept = min(i, bytes.count, m.textWords * 8)
            let dest = m.text(Int(bankIndex), kind)
            var w = 0
            while w * 8 < kept {
                var word: UInt64 = 0
                for j in 0..<8 where w * 8 + j < kept { word |= UInt64(bytes[w * 8 + j]) << UInt64(8 * j) }
                dest[w].store(word, ordering: .relaxed)
                w += 1
            }
        }
        let meta = TextMeta(truncated: keptChars < chars && m.includeText, storedBytes: kept, characters: chars)
        b.setLast(TurnWord.texts + kind, meta.word)
        b.touch(t)
    }

    // MARK: - Named events (process lock held, slot live)

    static func provider(_ slot: SessionSlot, stage: UInt32, provider: Int, model: Int?, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil, let index = TurnStage.providerIndex(stage) else { return }
        let word = ProviderWord(provider: UInt64(provider + 1), model: UInt64(model.map { $0 + 1 } ?? 0)).word
        m.control(TurnMemory.providers + index)[0].store(word, ordering: .relaxed)
    }

    static func fallback(_ slot: SessionSlot, stage: UInt32, kind: UInt32, from: Int, to: Int, reason: Int?, _ tNs: UInt64) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let t = slot.resolve(tNs)
        let c = m.bank(m.curIndex)
        let n = c[TurnWord.fallbackCount].wrappingAdd(1, ordering: .relaxed).oldValue
        if n < UInt64(TurnWord.maxFallbacks) {
            let e = TurnWord.fallbacks + Int(n) * 2
            let word = FallbackWord(stage: stage, kind: UInt64(kind), from: UInt64(from + 1), to: UInt64(to + 1),
                                    reason: UInt64(reason.map { $0 + 1 } ?? 0)).word
            c.setLast(e, word)
            c.setLast(e + 1, t)
        }
        if let index = TurnStage.providerIndex(stage) {
            m.control(TurnMemory.providers + index)[0].store(ProviderWord(provider: UInt64(to + 1), model: 0).word, ordering: .relaxed)
        }
        c.touch(t)
    }

    static func toolCall(_ slot: SessionSlot, kind: UInt32, name: Int, start: UInt64, end: UInt64, ok: Bool) {
        let m = slot.turnMemory
        guard m.base != nil else { return }
        let c = m.bank(m.curIndex)
        let n = c[TurnWord.toolCount].wrappingAdd(1, ordering: .relaxed).oldValue
        if n < UInt64(TurnWord.maxTools) {
            let e = TurnWord.tools + Int(n) * 3
            c.setLast(e, ToolCallWord(name: UInt64(name + 1), kind: UInt64(kind), ok: ok).word)
            c.setLast(e + 1, start)
            c.setLast(e + 2, end)
        }
        c.touch(start)
        c.touch(end)
    }

    // MARK: - Completion

    /// Complete the current turn (if one is open and no other completion runs).
    static func complete(_ slot: SessionSlot, _ m: TurnMemory, by: CompletedBy, t: UInt64) {
        let claim = m.control(TurnMemory.completing)
        guard claim[0].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged else { return }
        let ci = m.curIndex
        let bank = m.bank(ci)
        if bank.word(TurnWord.firstEvent) != 0 {
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: TurnWord.recordCount) { w in
                finish(slot, m, ci, bank, w, by: by, t: t)
            }
        }
        claim[0].store(0, ordering: .releasing)
    }

    private static func finish(_ slot: SessionSlot, _ m: TurnMemory, _ ci: UInt64, _ bank: UnsafeMutablePointer<Atomic<UInt64>>,
                               _ w: UnsafeMutableBufferPointer<UInt64>, by: CompletedBy, t: UInt64) {
        let carried = take(m, ci, bank, into: w)
        let next = m.bank(m.curIndex)
        Charges.turnEnds(m, w)   // STT audio and TTS characters, also of a turn discarded below
        let d = TurnDerived { w[$0] }
        let series = slot.meta.turnSeriesSet
        guard d.meaningful else { return discard(m, w, next: next, series) }
        if carried { next.orBits(TurnWord.carried, 2) }
        let outcome: TurnOutcome = d.interrupted ? .interrupted : .completed
        w[TurnWord.turnID] = m.control(TurnMemory.turnSeq)[0].wrappingAdd(1, ordering: .relaxed).newValue
        w[TurnWord.outcome] = outcome.rawValue
        w[TurnWord.completedBy] = by.rawValue
        w[TurnWord.endNs] = (by == .agentSpeechEnd || by == .turnComplete) && t != 0 ? max(t, w[TurnWord.lastEvent]) : w[TurnWord.lastEvent]
        if w[TurnWord.audioBytesAtStop] == 0 && w[TurnWord.audioBytesAtStart] != 0 {
            w[TurnWord.audioBytesAtStop] = slot.audioBytes.value() &+ 1
        }
        let k = writeRecord(m, ci, w)
        EventBus.shared.queueTurnComplete(handle: slot.sessionHandle, position: k)   // turn.complete, rendered later
        m.control(outcome == .interrupted ? TurnMemory.interruptedCount : TurnMemory.completedCount)
            .pointee.wrappingAdd(1, ordering: .relaxed)
        guard let series else { return }
        series.outcome(outcome)?.add(1)
        observe(slot, series, d, w)
    }

    /// Move the completing bank's words into `w` (the bank is left zeroed), with the providers current
    /// now; when speech was pending for the next turn, the other bank becomes current. Returns that.
    private static func take(_ m: TurnMemory, _ ci: UInt64, _ bank: UnsafeMutablePointer<Atomic<UInt64>>,
                             into w: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        for i in 0..<TurnWord.bankCount { w[i] = bank[i].exchange(0, ordering: .relaxed) }
        for i in TurnWord.bankCount..<TurnWord.recordCount { w[i] = 0 }
        let carried = m.control(TurnMemory.pending)[0].exchange(0, ordering: .relaxed) != 0
        if carried { m.control(TurnMemory.cur)[0].store(ci ^ 1, ordering: .relaxed) }
        for i in 0..<TurnWord.providerCount {
            w[TurnWord.providers + i] = m.control(TurnMemory.providers + i)[0].load(ordering: .relaxed)
        }
        return carried
    }

    /// A turn with nothing to show is counted as discarded; the user's speech in it (with its STT
    /// stream's start) carries into the next turn.
    private static func discard(_ m: TurnMemory, _ w: UnsafeMutableBufferPointer<UInt64>,
                                next: UnsafeMutablePointer<Atomic<UInt64>>, _ series: TurnSeriesSet?) {
        m.control(TurnMemory.discardedCount)[0].wrappingAdd(1, ordering: .relaxed)
        series?.outcome(.discarded)?.add(1)
        let start = w[TurnWord.userStart]
        guard start != 0 else { return }
        for word in [TurnWord.userStart, TurnWord.sttStart, TurnWord.sttInterim] where w[word] != 0 {
            next.storeMin(word, w[word])
        }
        next.orBits(TurnWord.carried, 1 | (w[TurnWord.carried] & 2))
        next.touch(start)
    }

    /// Write the record `w` (and the texts of bank `ci`) into the ring under its sequence word;
    /// returns its ring position.
    private static func writeRecord(_ m: TurnMemory, _ ci: UInt64, _ w: UnsafeMutableBufferPointer<UInt64>) -> UInt64 {
        let k = m.control(TurnMemory.ringCount)[0].load(ordering: .relaxed)
        let index = Int(k % UInt64(m.capacity))
        let e = m.entry(index)
        e[0].store(2 &* k &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        for i in 0..<TurnWord.recordCount { e[1 + i].store(w[i], ordering: .relaxed) }
        if m.includeText {
            for kind in 0..<TurnWord.textKinds {
                let bytes = TextMeta(word: w[TurnWord.texts + kind]).storedBytes
                let src = m.text(Int(ci), kind), dst = m.text(2 + index, kind)
                for j in 0..<min((bytes + 7) / 8, m.textWords) { dst[j].store(src[j].load(ordering: .relaxed), ordering: .relaxed) }
            }
        }
        e[0].store(2 &* k &+ 2, ordering: .releasing)
        m.control(TurnMemory.ringCount)[0].store(k &+ 1, ordering: .releasing)
        return k
    }

    /// The turn's figures into the latency histograms (implausible ones left out), with the turn as
    /// the exemplar of each bucket it lands in.
    private static func observe(_ slot: SessionSlot, _ series: TurnSeriesSet, _ d: TurnDerived, _ w: UnsafeMutableBufferPointer<UInt64>) {
        for i in 0..<TurnFamilies.histogramNames.count {
            guard let ns = d.histogramValue(i), ns <= TurnDerived.implausibleNs,
                  let h = series.histograms[i]?.histogram else { continue }
            let bucket = h.observe(Double(ns) / 1e9, nanoUnits: ns)
            h.exemplars?.offer(bucket: bucket, key: slot.meta.exemplarKey, turnID: w[TurnWord.turnID],
                               value: Double(ns) / 1e9, unixNs: w[TurnWord.endNs] &+ slot.meta.unixOffsetNs)
        }
    }
}
