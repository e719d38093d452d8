// The turn collector: the breakdown adds up exactly (property test over random timestamps), flags
// instead of clamping, and one cascaded turn through the C ABI with exact values.
import CVoiceTelemetry
import Testing
@testable import VoiceTelemetry

private func derive(_ words: [Int: UInt64]) -> TurnDerived { TurnDerived { words[$0] ?? 0 } }

@Test func breakdownAddsUpExactlyForAnyTimestamps() {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
        var w: [Int: UInt64] = [:]
        for word in [TurnWord.userEnd, TurnWord.sttFinal, TurnWord.eouEnd, TurnWord.llmFirst, TurnWord.ttsFirst,
                     TurnWord.rtFirst, TurnWord.agentStart] where Bool.random(using: &rng) || word == TurnWord.agentStart {
            w[word] = UInt64.random(in: 1...5_000_000_000, using: &rng)
        }
        let d = derive(w)
        if let e2e = d.e2e {
            var sum: UInt64 = 0
            for i in 0..<6 { sum += d.breakdown[i] }
            #expect(sum == e2e)
            #expect(d.flags & UInt32(VT_TQ_OUT_OF_ORDER.rawValue) == 0 || d.breakdown[5] <= e2e)
        }
    }
}

@Test func outOfOrderIsFlaggedNotClamped() {
    let d = derive([TurnWord.userEnd: 2_000, TurnWord.agentStart: 1_000, TurnWord.llmStart: 500, TurnWord.llmFirst: 400])
    #expect(d.e2e == nil)
    #expect(d.llmTTFT == nil)
    #expect(d.flags & UInt32(VT_TQ_OUT_OF_ORDER.rawValue) != 0)
}

@Test func anchorFallsBackWithoutVAD() {
    let d = derive([TurnWord.eouEnd: 1_000, TurnWord.agentStart: 1_500])
    #expect(d.anchor == .eouEnd)
    #expect(d.e2e == 500)
    #expect(d.flags & UInt32(VT_TQ_NO_VAD.rawValue) != 0)
}

@Test func cascadedTurnThroughTheABI() {
    var s: vt_session = 0
    #expect(vt_create_session(nil, &s) == VT_OK.rawValue)
    let marks: [(vt_turn_stage, vt_turn_mark, UInt64)] = [
        (VT_STAGE_USER_SPEECH, VT_MARK_START, 1_000_000_000), (VT_STAGE_USER_SPEECH, VT_MARK_END, 2_000_000_000),
        (VT_STAGE_STT, VT_MARK_START, 1_000_000_000), (VT_STAGE_STT, VT_MARK_FINAL, 2_100_000_000),
        (VT_STAGE_LLM, VT_MARK_START, 2_100_000_000), (VT_STAGE_LLM, VT_MARK_FIRST, 2_400_000_000),
        (VT_STAGE_AGENT_SPEECH, VT_MARK_START, 2_500_000_000), (VT_STAGE_AGENT_SPEECH, VT_MARK_END, 3_000_000_000),
    ]
    for (stage, mark, t) in marks {
        #expect(vt_turn_mark(s, UInt32(stage.rawValue), UInt32(mark.rawValue), t) == VT_OK.rawValue)
    }
    var len = 0
    #expect(vt_turn_last_json(s, nil, 0, &len) == VT_E_BUFFER_TOO_SMALL.rawValue)
    var buf = [CChar](repeating: 0, count: len + 1)
    #expect(vt_turn_last_json(s, &buf, len + 1, &len) == VT_OK.rawValue)
    let json = String(decoding: buf.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #expect(json.contains("\"e2e_latency_ns\":500000000,\"e2e_breakdown_ns\":{\"stt_ns\":100000000,\"eou_ns\":0,\"llm_ttft_ns\":300000000,\"tts_ttfb_ns\":0,\"realtime_ns\":0,\"remainder_ns\":100000000}"))
    #expect(vt_turn_mark(s, 0, 1, 1) == VT_E_INVALID_ARG.rawValue)
    #expect(vt_end_session(s) == VT_OK.rawValue)
}

@Test func tokenStageIndexIsTheOrderOfTokenStages() {
    for (i, stage) in TurnSeriesSet.tokenStages.enumerated() { #expect(TurnSeriesSet.tokenStageIndex(stage) == i) }
    for stage in UInt32(0)...TurnStage.last + 1 where !TurnSeriesSet.tokenStages.contains(stage) {
        #expect(TurnSeriesSet.tokenStageIndex(stage) == nil)
    }
}

@Test func theTurnHistogramListsAgree() {
    #expect(TurnFamilies.histogramSnapshotKeys.count == TurnFamilies.histogramNames.count)
    let d = TurnDerived { [TurnWord.userEnd: 1_000, TurnWord.sttFinal: 3_000, TurnWord.agentStart: 9_000][$0] ?? 0 }
    #expect(d.histogramValue(0) == d.sttLatency)
    #expect(d.histogramValue(5) == d.e2e)
    #expect(TurnSeriesSet.outcomeNames == ["completed", "interrupted", "discarded"])
}

@Test func turnWordRegionsFollowOneAnother() {
    #expect(TurnWord.providers + TurnWord.providerCount == TurnWord.errors)
    #expect(TurnWord.errors + TurnWord.errorSources == TurnWord.toolCount)
    #expect(TurnWord.tools + 3 * TurnWord.maxTools == TurnWord.fallbackCount)
    #expect(TurnWord.fallbacks + 2 * TurnWord.maxFallbacks == TurnWord.texts)
    #expect(TurnWord.texts + TurnWord.textKinds == TurnWord.costs)
    #expect(TurnWord.agentResponseText == TurnWord.textKinds - 1)
}

@Test func turnWordLayoutKeepsItsSize() {
    #expect(TurnWord.costStages.count == TurnWord.costStageCount)
    #expect(TurnWord.fiWords - TurnWord.valueBase + 1 == 9)   // the nine vt_turn_value keys
    #expect(TurnWord.bankCount == 121)   // a layout change that grows the memory per session shows here
    #expect(TurnWord.recordCount == 125)
}
