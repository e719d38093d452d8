// TurnJSON: completed turns as JSON (schema_version 1, docs/turn-schema.md), rendered only when read
// (process lock held). Records are read from the ring under their sequence words: a record that is
// being rewritten while we read it is retried, then skipped.
import CVoiceTelemetry
import Synchronization

enum TurnJSON {
    static let schemaVersion: UInt64 = 1

    struct Record {
        var words: [UInt64]
        var texts: [[UInt8]]
        subscript(_ i: Int) -> UInt64 { words[i] }
    }

    /// Up to `max` (0 = all) of the newest records, oldest first.
    static func records(_ m: TurnMemory, max: Int) -> [Record] {
        ringPositions(m, max: max).compactMap { read(m, $0) }
    }

    /// The ring positions of up to `max` (0 = all) of the newest records, oldest first.
    private static func ringPositions(_ m: TurnMemory, max: Int) -> Range<UInt64> {
        guard m.base != nil, m.capacity > 0 else { return 0..<0 }
        let total = m.control(TurnMemory.ringCount)[0].load(ordering: .acquiring)
        var n = Swift.min(total, UInt64(m.capacity))
        if max > 0 { n = Swift.min(n, UInt64(max)) }
        return (total - n)..<total
    }

    private static func read(_ m: TurnMemory, _ k: UInt64) -> Record? {
        var words = [UInt64](repeating: 0, count: TurnWord.recordCount)
        var texts: [[UInt8]] = []
        let stable = words.withUnsafeMutableBufferPointer { w in
            stableRead(m, k, into: w) { index in texts = readTexts(m, index, w) }
        }
        return stable ? Record(words: words, texts: texts) : nil
    }

    /// The seqlock read of ring position `k`: its words into `w` (TurnWord.recordCount of them), then
    /// `also` (given the entry index) under the same check. False once a newer turn overwrote it, or
    /// if it never held still.
    private static func stableRead(_ m: TurnMemory, _ k: UInt64, into w: UnsafeMutableBufferPointer<UInt64>,
                                   also: (Int) -> Void = { _ in }) -> Bool {
        let index = Int(k % UInt64(m.capacity))
        let e = m.entry(index)
        for _ in 0..<4 {
            let s1 = e[0].load(ordering: .acquiring)
            guard s1 == 2 &* k &+ 2 else {
                if s1 > 2 &* k &+ 2 { return false }   // already overwritten by a newer turn
                continue
            }
            for i in 0..<TurnWord.recordCount { w[i] = e[1 + i].load(ordering: .relaxed) }
            also(index)
            atomicMemoryFence(ordering: .acquiring)
            if e[0].load(ordering: .relaxed) == s1 { return true }
        }
        return false
    }

    /// The texts of the entry at `index` whose words are `w` (empty where redacted).
    private static func readTexts(_ m: TurnMemory, _ index: Int, _ w: UnsafeMutableBufferPointer<UInt64>) -> [[UInt8]] {
        (0..<TurnWord.textKinds).map { kind in
            let bytes = Swift.min(TextMeta(word: w[TurnWord.texts + kind]).storedBytes, m.textWords * 8)
            guard m.includeText && bytes > 0 else { return [] }
            let src = m.text(2 + index, kind)
            return (0..<bytes).map { j in UInt8(truncatingIfNeeded: src[j / 8].load(ordering: .relaxed) >> UInt64(8 * (j % 8))) }
        }
    }

    /// The derived figures of the records in the ring, oldest first, and the newest one's turn id:
    /// read through one stack buffer, texts left out (what the snapshot needs, without record copies).
    static func derivedRecords(_ m: TurnMemory) -> (derived: [TurnDerived], lastTurnID: UInt64) {
        let positions = ringPositions(m, max: 0)
        var derived: [TurnDerived] = []
        derived.reserveCapacity(positions.count)
        var lastTurnID: UInt64 = 0
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: TurnWord.recordCount) { w in
            for k in positions where stableRead(m, k, into: w) {
                derived.append(TurnDerived { w[$0] })
                lastTurnID = w[TurnWord.turnID]
            }
        }
        return (derived, lastTurnID)
    }

    /// The record at ring position `k` as JSON, with its words and texts; nil once a newer turn has
    /// overwritten it (process lock held).
    static func record(_ slot: SessionSlot, position k: UInt64) -> (json: TextOutput, record: Record)? {
        guard slot.turnMemory.base != nil, slot.turnMemory.capacity > 0, let r = read(slot.turnMemory, k) else { return nil }
        var out = TextOutput(reserving: 2048)
        render(&out, r, slot)
        return (out, r)
    }

    static func last(_ slot: SessionSlot) -> TextOutput {
        var out = TextOutput(reserving: 2048)
        if let r = records(slot.turnMemory, max: 1).last {
            render(&out, r, slot)
        } else {
            out.append("null")
        }
        return out
    }

    static func history(_ slot: SessionSlot, max: Int) -> TextOutput {
        var out = TextOutput(reserving: 4096)
        out.append("[")
        for (i, r) in records(slot.turnMemory, max: max).enumerated() {
            if i > 0 { out.append(",") }
            render(&out, r, slot)
        }
        out.append("]")
        return out
    }

    // MARK: - One record

    private static func ns(_ out: inout TextOutput, _ key: StaticString, _ v: UInt64?, first: Bool = false) {
        out.appendJSONKey(key, first: first)
        if let v { out.append(v) } else { out.append("null") }
    }

    private static func ts(_ out: inout TextOutput, _ key: StaticString, _ r: Record, _ word: Int, first: Bool = false) {
        ns(&out, key, r[word] != 0 ? r[word] : nil, first: first)
    }

    private static func value(_ r: Record, _ word: Int) -> Bool {
        r[TurnWord.valueMask] & (1 << UInt64(word - TurnWord.valueBase)) != 0
    }

    static func render(_ out: inout TextOutput, _ r: Record, _ slot: SessionSlot) {
        let d = TurnDerived { r[$0] }
        out.append("{")
        identity(&out, r, d, sessionID: slot.meta.sessionID)
        userSpeech(&out, r, d)
        stt(&out, r, d)
        eou(&out, r, d)
        stage(&out, "llm", r, 2, TurnWord.llmStart, TurnWord.llmFirst, TurnWord.llmEnd, "first_token_ns", "ttft_ns", d.llmTTFT, d.llmDuration)
        stage(&out, "tts", r, 3, TurnWord.ttsStart, TurnWord.ttsFirst, TurnWord.ttsEnd, "first_byte_ns", "ttfb_ns", d.ttsTTFB, d.ttsDuration)
        stage(&out, "realtime", r, 4, TurnWord.rtStart, TurnWord.rtFirst, TurnWord.rtEnd, "first_audio_ns", "ttfa_ns", d.realtimeTTFA, d.realtimeDuration)
        interval(&out, "agent_speech", r, TurnWord.agentStart, TurnWord.agentEnd, d.agentSpeech)
        interval(&out, "knowledge_base", r, TurnWord.kbStart, TurnWord.kbEnd, d.kbDuration)
        interval(&out, "background_audio", r, TurnWord.bgStart, TurnWord.bgEnd, d.backgroundAudio)
        interval(&out, "thinking_audio", r, TurnWord.thinkStart, TurnWord.thinkEnd, d.thinkingAudio)
        interruption(&out, r, d)
        playback(&out, r)
        tokens(&out, r)
        CostJSON.turn(&out) { r[$0] }   // Cost/CostJSON.swift
        toolCalls(&out, r)
        fallbacks(&out, r)
        errors(&out, r)
        texts(&out, r, includeText: slot.turnMemory.includeText)
        out.append("}")
    }

    /// The record's first keys: schema, ids, outcome, times, anchor, end to end, breakdown, quality.
    private static func identity(_ out: inout TextOutput, _ r: Record, _ d: TurnDerived, sessionID: String) {
        out.appendJSONKey("schema_version", first: true)
        out.append(schemaVersion)
        out.appendJSONKey("session_id")
        out.appendJSONString(sessionID)
        ns(&out, "turn_id", r[TurnWord.turnID])
        out.appendJSONKey("outcome")
        out.append("\"")
        out.append((TurnOutcome(rawValue: r[TurnWord.outcome]) ?? .completed).name)
        out.append("\"")
        out.appendJSONKey("completed_by")
        out.append("\"")
        out.append((CompletedBy(rawValue: r[TurnWord.completedBy]) ?? .turnComplete).name)
        out.append("\"")
        ts(&out, "start_ns", r, TurnWord.firstEvent)
        ts(&out, "end_ns", r, TurnWord.endNs)
        out.appendJSONKey("anchor")
        if d.anchor == .none { out.append("null") } else { out.append("\""); out.append(d.anchor.name); out.append("\"") }
        ns(&out, "anchor_ns", d.anchor == .none ? nil : d.anchorNs)
        ns(&out, "e2e_latency_ns", d.e2e)
        breakdownAndFlags(&out, d)
        out.appendJSONKey("quality")
        out.append("[")
        var firstFlag = true
        for (bit, name) in TurnDerived.flagNames where d.flags & bit != 0 {
            if !firstFlag { out.append(",") }
            firstFlag = false
            out.append("\""); out.append(name); out.append("\"")
        }
        out.append("]")
    }

    /// `user_speech`.
    private static func userSpeech(_ out: inout TextOutput, _ r: Record, _ d: TurnDerived) {
        out.appendJSONKey("user_speech")
        out.append("{")
        ts(&out, "start_ns", r, TurnWord.userStart, first: true)
        ts(&out, "end_ns", r, TurnWord.userEnd)
        ns(&out, "duration_ns", d.userSpeech)
        out.appendJSONKey("start_carried_over")
        out.append(r[TurnWord.carried] & 1 != 0 ? "true" : "false")
        out.appendJSONKey("from_interrupting_speech")
        out.append(r[TurnWord.carried] & 2 != 0 ? "true" : "false")
        out.append("}")
    }

    /// `stt`.
    private static func stt(_ out: inout TextOutput, _ r: Record, _ d: TurnDerived) {
        out.appendJSONKey("stt")
        out.append("{")
        provider(&out, r, 0, first: true)
        ts(&out, "start_ns", r, TurnWord.sttStart)
        ts(&out, "first_interim_ns", r, TurnWord.sttInterim)
        ns(&out, "interim_count", r[TurnWord.sttInterimCount])
        ts(&out, "preflight_ns", r, TurnWord.sttPreflight)
        ts(&out, "final_ns", r, TurnWord.sttFinal)
        ns(&out, "latency_ns", d.sttLatency)
        ns(&out, "duration_ns", d.sttDuration)
        out.appendJSONKey("confidence")
        out.appendJSONNumber(value(r, TurnWord.sttConfidence) ? Double(bitPattern: r[TurnWord.sttConfidence]) : nil)
        ns(&out, "audio_duration_ns", value(r, TurnWord.sttAudioNs) ? r[TurnWord.sttAudioNs] : nil)
        out.append("}")
    }

    /// `eou`.
    private static func eou(_ out: inout TextOutput, _ r: Record, _ d: TurnDerived) {
        out.appendJSONKey("eou")
        out.append("{")
        provider(&out, r, 1, first: true)
        ts(&out, "start_ns", r, TurnWord.eouStart)
        ts(&out, "end_ns", r, TurnWord.eouEnd)
        ns(&out, "delay_ns", d.eouDelay)
        out.appendJSONKey("probability")
        out.appendJSONNumber(value(r, TurnWord.eouProbability) ? Double(bitPattern: r[TurnWord.eouProbability]) : nil)
        ns(&out, "wait_for_speech_ns", value(r, TurnWord.eouWaitNs) ? r[TurnWord.eouWaitNs] : nil)
        out.append("}")
    }

    /// `interruption`, with its false interruption.
    private static func interruption(_ out: inout TextOutput, _ r: Record, _ d: TurnDerived) {
        out.appendJSONKey("interruption")
        out.append("{")
        out.appendJSONKey("interrupted", first: true)
        out.append(d.interrupted ? "true" : "false")
        ts(&out, "barge_in_ns", r, TurnWord.interrupt)
        ts(&out, "overlap_start_ns", r, TurnWord.overlapStart)
        ns(&out, "barge_in_latency_ns", d.bargeIn)
        out.appendJSONKey("false_interruption")
        if r[TurnWord.fiStart] != 0 {
            out.append("{")
            ts(&out, "start_ns", r, TurnWord.fiStart, first: true)
            out.appendJSONKey("outcome")
            out.append(r[TurnWord.fiResumed] != 0 ? "\"resumed\"" : r[TurnWord.fiEscalated] != 0 ? "\"escalated\"" : "null")
            ns(&out, "duration_ns", d.falseInterruption)
            ns(&out, "pause_ns", value(r, TurnWord.fiPauseNs) ? r[TurnWord.fiPauseNs] : nil)
            ns(&out, "words", value(r, TurnWord.fiWords) ? r[TurnWord.fiWords] : nil)
            out.append("}")
        } else {
            out.append("null")
        }
        out.append("}")
    }

    /// `playback`.
    private static func playback(_ out: inout TextOutput, _ r: Record) {
        out.appendJSONKey("playback")
        out.append("{")
        ns(&out, "tts_characters_generated", value(r, TurnWord.ttsChars) ? r[TurnWord.ttsChars] : nil, first: true)
        ns(&out, "tts_characters_played", value(r, TurnWord.ttsCharsPlayed) ? r[TurnWord.ttsCharsPlayed] : nil)
        ns(&out, "audio_bytes_generated", value(r, TurnWord.ttsAudioBytes) ? r[TurnWord.ttsAudioBytes] : nil)
        let a = r[TurnWord.audioBytesAtStart], b = r[TurnWord.audioBytesAtStop]
        ns(&out, "audio_bytes_sent", a != 0 && b >= a ? b - a : nil)
        out.append("}")
    }

    /// `tokens`, in vt_token_usage order.
    private static func tokens(_ out: inout TextOutput, _ r: Record) {
        out.appendJSONKey("tokens")
        out.append("{")
        let tokenNames: [StaticString] = ["input", "output", "cached_input", "reasoning", "input_text", "input_audio",
                                          "input_image", "output_text", "output_audio"]
        for (i, name) in tokenNames.enumerated() {
            ns(&out, name, r[TurnWord.tokensMask] & (1 << UInt64(i)) != 0 ? r[TurnWord.tokens + i] : nil, first: i == 0)
        }
        out.append("}")
    }

    /// `tool_calls` (the first TurnWord.maxTools) and `tool_calls_total`.
    private static func toolCalls(_ out: inout TextOutput, _ r: Record) {
        out.appendJSONKey("tool_calls")
        out.append("[")
        let tools = Int(Swift.min(r[TurnWord.toolCount], UInt64(TurnWord.maxTools)))
        for i in 0..<tools {
            let e = TurnWord.tools + i * 3
            let call = ToolCallWord(word: r[e])
            if i > 0 { out.append(",") }
            out.append("{")
            out.appendJSONKey("name", first: true)
            out.appendJSONString(TurnNames.name(stored: call.name) ?? "")
            out.appendJSONKey("kind")
            out.append(call.kind == UInt64(VT_TOOL_MCP.rawValue) ? "\"mcp\"" : "\"function\"")
            out.appendJSONKey("ok")
            out.append(call.ok ? "true" : "false")
            ns(&out, "start_ns", r[e + 1])
            ns(&out, "end_ns", r[e + 2])
            ns(&out, "duration_ns", r[e + 2] >= r[e + 1] ? r[e + 2] - r[e + 1] : nil)
            out.append("}")
        }
        out.append("]")
        ns(&out, "tool_calls_total", r[TurnWord.toolCount])
    }

    /// `fallbacks` (the first TurnWord.maxFallbacks) and `fallbacks_total`.
    private static func fallbacks(_ out: inout TextOutput, _ r: Record) {
        out.appendJSONKey("fallbacks")
        out.append("[")
        let fallbacks = Int(Swift.min(r[TurnWord.fallbackCount], UInt64(TurnWord.maxFallbacks)))
        for i in 0..<fallbacks {
            let f = FallbackWord(word: r[TurnWord.fallbacks + i * 2])
            if i > 0 { out.append(",") }
            out.append("{")
            out.appendJSONKey("stage", first: true)
            out.appendJSONString(TurnStage.name(f.stage))
            out.appendJSONKey("kind")
            out.append(f.kind == UInt64(VT_FALLBACK_RECOVERY.rawValue) ? "\"recovery\"" : "\"switch\"")
            out.appendJSONKey("from")
            out.appendJSONString(TurnNames.name(stored: f.from) ?? "")
            out.appendJSONKey("to")
            out.appendJSONString(TurnNames.name(stored: f.to) ?? "")
            out.appendJSONKey("reason")
            if let reason = TurnNames.name(stored: f.reason) { out.appendJSONString(reason) } else { out.append("null") }
            ns(&out, "t_ns", r[TurnWord.fallbacks + i * 2 + 1])
            out.append("}")
        }
        out.append("]")
        ns(&out, "fallbacks_total", r[TurnWord.fallbackCount])
    }

    /// `errors`: counts by source stage, the non-zero ones.
    private static func errors(_ out: inout TextOutput, _ r: Record) {
        out.appendJSONKey("errors")
        out.append("{")
        var firstError = true
        for i in 0..<TurnWord.errorSources where r[TurnWord.errors + i] != 0 {
            if !firstError { out.append(",") }
            firstError = false
            out.appendJSONString(TurnStage.name(UInt32(i + 1)))
            out.append(":")
            out.append(r[TurnWord.errors + i])
        }
        out.append("}")
    }

    /// `texts`: each kept text, its length and whether it was redacted or cut.
    private static func texts(_ out: inout TextOutput, _ r: Record, includeText: Bool) {
        out.appendJSONKey("texts")
        out.append("{")
        let textNames: [StaticString] = ["user_transcript", "stt_preflight", "agent_response"]
        for (i, name) in textNames.enumerated() {
            out.appendJSONKey(name, first: i == 0)
            let meta = TextMeta(word: r[TurnWord.texts + i])
            guard meta.present else { out.append("null"); continue }
            out.append("{")
            ns(&out, "chars", UInt64(meta.characters), first: true)
            out.appendJSONKey("redacted")
            out.append(includeText ? "false" : "true")
            out.appendJSONKey("truncated")
            out.append(meta.truncated ? "true" : "false")
            if includeText {
                out.appendJSONKey("text")
                out.appendJSONString(String(decoding: r.texts[i], as: UTF8.self))
            }
            out.append("}")
        }
        out.append("}")
    }

    private static func provider(_ out: inout TextOutput, _ r: Record, _ index: Int, first: Bool = false) {
        let p = ProviderWord(word: r[TurnWord.providers + index])
        out.appendJSONKey("provider", first: first)
        if let name = TurnNames.name(stored: p.provider) { out.appendJSONString(name) } else { out.append("null") }
        out.appendJSONKey("model")
        if let name = TurnNames.name(stored: p.model) { out.appendJSONString(name) } else { out.append("null") }
    }

    private static func stage(_ out: inout TextOutput, _ key: StaticString, _ r: Record, _ providerIndex: Int,
                              _ s: Int, _ f: Int, _ e: Int, _ firstKey: StaticString, _ latencyKey: StaticString,
                              _ latency: UInt64?, _ duration: UInt64?) {
        out.appendJSONKey(key)
        out.append("{")
        provider(&out, r, providerIndex, first: true)
        ts(&out, "start_ns", r, s)
        ts(&out, firstKey, r, f)
        ts(&out, "end_ns", r, e)
        ns(&out, latencyKey, latency)
        ns(&out, "duration_ns", duration)
        out.append("}")
    }

    private static func interval(_ out: inout TextOutput, _ key: StaticString, _ r: Record, _ s: Int, _ e: Int, _ duration: UInt64?) {
        out.appendJSONKey(key)
        out.append("{")
        ts(&out, "start_ns", r, s, first: true)
        ts(&out, "end_ns", r, e)
        ns(&out, "duration_ns", duration)
        out.append("}")
    }

    /// "e2e_breakdown_ns": the parts that add up to the e2e latency (null without one), then
    /// "quality_flags": the VT_TQ_* bits. Shared by the record and the snapshot's last turn.
    private static func breakdownAndFlags(_ out: inout TextOutput, _ d: TurnDerived) {
        out.appendJSONKey("e2e_breakdown_ns")
        if d.e2e != nil {
            out.append("{")
            for (i, name) in TurnDerived.breakdownNames.enumerated() { ns(&out, name, d.breakdown[i], first: i == 0) }
            out.append("}")
        } else {
            out.append("null")
        }
        out.appendJSONKey("quality_flags")
        out.append(UInt64(d.flags))
    }

    // MARK: - The snapshot's "turns" section

    static func snapshotSection(_ out: inout TextOutput, _ slot: SessionSlot) {
        let m = slot.turnMemory
        out.append("{")
        let counts: [(StaticString, Int)] = [("completed", TurnMemory.completedCount), ("interrupted", TurnMemory.interruptedCount),
                                             ("discarded", TurnMemory.discardedCount)]
        for (i, (name, word)) in counts.enumerated() {
            out.appendJSONKey(name, first: i == 0)
            out.append(m.base != nil ? m.control(word)[0].load(ordering: .relaxed) : 0)
        }
        out.appendJSONKey("open")
        out.append(m.base != nil && m.bank(m.curIndex).word(TurnWord.firstEvent) != 0 ? "true" : "false")
        let (derived, lastTurnID) = derivedRecords(m)
        out.appendJSONKey("last")
        if let d = derived.last {
            out.append("{")
            ns(&out, "turn_id", lastTurnID, first: true)
            ns(&out, "e2e_latency_ns", d.e2e)
            breakdownAndFlags(&out, d)
            out.append("}")
        } else {
            out.append("null")
        }
        out.appendJSONKey("window_turns")
        out.append(UInt64(derived.count))
        out.appendJSONKey("stages")
        out.append("{")
        var values: [UInt64] = []
        values.reserveCapacity(derived.count)
        for (i, name) in TurnFamilies.histogramSnapshotKeys.enumerated() {
            values.removeAll(keepingCapacity: true)
            for d in derived { if let v = d.histogramValue(i) { values.append(v) } }
            values.sort()
            out.appendJSONKey(name, first: i == 0)
            out.append("{")
            ns(&out, "count", UInt64(values.count), first: true)
            ns(&out, "p50", rank(values, 0.5))
            ns(&out, "p95", rank(values, 0.95))
            out.append("}")
        }
        out.append("}")
        out.append("}")
    }

    /// Nearest-rank quantile of sorted values (exact: a value that was measured).
    static func rank(_ sorted: [UInt64], _ q: Double) -> UInt64? {
        guard !sorted.isEmpty else { return nil }
        let r = Swift.max(1, Int((q * Double(sorted.count)).rounded(.up)))
        return sorted[Swift.min(r, sorted.count) - 1]
    }
}
