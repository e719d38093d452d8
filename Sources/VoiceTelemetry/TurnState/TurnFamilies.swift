// TurnFamilies: the process metric families the turn collector feeds (created with the registry, so
// vt_set_buckets and vt_register_labels work on them before the first session).
enum TurnFamilies {
    static let sttLatency = "voicetelemetry_turn_stt_latency_seconds"
    static let eouDelay = "voicetelemetry_turn_eou_delay_seconds"
    static let llmTTFT = "voicetelemetry_turn_llm_ttft_seconds"
    static let llmDuration = "voicetelemetry_turn_llm_duration_seconds"
    static let ttsTTFB = "voicetelemetry_turn_tts_ttfb_seconds"
    static let e2e = "voicetelemetry_turn_e2e_latency_seconds"
    static let bargeIn = "voicetelemetry_turn_barge_in_latency_seconds"
    static let outcomes = "voicetelemetry_turn_outcomes_total"
    static let falseInterruptions = "voicetelemetry_turn_false_interruptions_total"
    static let toolCalls = "voicetelemetry_turn_tool_calls_total"
    static let errors = "voicetelemetry_turn_errors_total"
    static let fallbacks = "voicetelemetry_turn_fallbacks_total"
    static let tokens = "voicetelemetry_turn_tokens_total"
    static let modalityTokens = "voicetelemetry_turn_modality_tokens_total"

    /// Histograms in the order of TurnSeriesSet.histograms; histogramSnapshotKeys names the same
    /// figures in the snapshot's `turns.stages`, and TurnDerived.histogramValue reads them from a turn.
    static let histogramNames = [sttLatency, eouDelay, llmTTFT, llmDuration, ttsTTFB, e2e, bargeIn]
    static let histogramSnapshotKeys: [StaticString] = ["stt_latency_ns", "eou_delay_ns", "llm_ttft_ns", "llm_duration_ns",
                                                        "tts_ttfb_ns", "e2e_latency_ns", "barge_in_latency_ns"]

    static let specs: [FamilySpec] = [
        FamilySpec(name: sttLatency, help: "Turn STT latency: from the end of user speech to the final transcript.", kind: .histogram),
        FamilySpec(name: eouDelay, help: "Turn end-of-utterance detection delay (EOU start to end).", kind: .histogram),
        FamilySpec(name: llmTTFT, help: "Turn LLM time to first token.", kind: .histogram),
        FamilySpec(name: llmDuration, help: "Turn LLM call duration (start to end).", kind: .histogram),
        FamilySpec(name: ttsTTFB, help: "Turn TTS time to first audio byte.", kind: .histogram),
        FamilySpec(name: e2e, help: "Turn end-to-end latency: from the end of user speech (the anchor) to the agent's first audio.", kind: .histogram),
        FamilySpec(name: bargeIn, help: "Barge-in latency: from user speech during agent speech to the end of agent speech.", kind: .histogram),
        FamilySpec(name: outcomes, help: "Turns by outcome (completed, interrupted, discarded).", kind: .counter),
        FamilySpec(name: falseInterruptions, help: "False interruptions by outcome (resumed, escalated).", kind: .counter),
        FamilySpec(name: toolCalls, help: "Tool calls by tool, kind and outcome.", kind: .counter),
        FamilySpec(name: errors, help: "Turn errors by source stage.", kind: .counter),
        FamilySpec(name: fallbacks, help: "Provider fallbacks and recoveries by stage, kind, from and to.", kind: .counter),
        FamilySpec(name: tokens, help: "Model tokens by type (input, output, cached_input, reasoning) and stage.", kind: .counter),
        FamilySpec(name: modalityTokens, help: "Model tokens by direction (input, output) and modality (text, audio, image).", kind: .counter),
    ]
}
