// TurnFamilies: the process metric families the turn collector feeds (created with the registry, so
// vt_set_buckets and vt_register_labels work on them before the first session).
enum TurnFamilies {
    struct Spec {
        let name: String
        let help: String
        let kind: MetricKind
    }

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
    /// figures in the snapshot's `turns.stages`, and histogramValue reads them from a turn.
    static let histogramNames = [sttLatency, eouDelay, llmTTFT, llmDuration, ttsTTFB, e2e, bargeIn]
    static let histogramSnapshotKeys: [StaticString] = ["stt_latency_ns", "eou_delay_ns", "llm_ttft_ns", "llm_duration_ns",
                                                        "tts_ttfb_ns", "e2e_latency_ns", "barge_in_latency_ns"]

    /// Histogram `i`'s figure of a turn, in nanoseconds (nil: not measured). A switch: no closures or
    /// key paths on the completing record call.
    @inline(__always)
    static func histogramValue(_ i: Int, _ d: TurnDerived) -> UInt64? {
        switch i {
        case 0: return d.sttLatency
        case 1: return d.eouDelay
        case 2: return d.llmTTFT
        case 3: return d.llmDuration
        case 4: return d.ttsTTFB
        case 5: return d.e2e
        default: return d.bargeIn
        }
    }

    static let specs: [Spec] = [
        Spec(name: sttLatency, help: "Turn STT latency: from the end of user speech to the final transcript.", kind: .histogram),
        Spec(name: eouDelay, help: "Turn end-of-utterance detection delay (EOU start to end).", kind: .histogram),
        Spec(name: llmTTFT, help: "Turn LLM time to first token.", kind: .histogram),
        Spec(name: llmDuration, help: "Turn LLM call duration (start to end).", kind: .histogram),
        Spec(name: ttsTTFB, help: "Turn TTS time to first audio byte.", kind: .histogram),
        Spec(name: e2e, help: "Turn end-to-end latency: from the end of user speech (the anchor) to the agent's first audio.", kind: .histogram),
        Spec(name: bargeIn, help: "Barge-in latency: from user speech during agent speech to the end of agent speech.", kind: .histogram),
        Spec(name: outcomes, help: "Turns by outcome (completed, interrupted, discarded).", kind: .counter),
        Spec(name: falseInterruptions, help: "False interruptions by outcome (resumed, escalated).", kind: .counter),
        Spec(name: toolCalls, help: "Tool calls by tool, kind and outcome.", kind: .counter),
        Spec(name: errors, help: "Turn errors by source stage.", kind: .counter),
        Spec(name: fallbacks, help: "Provider fallbacks and recoveries by stage, kind, from and to.", kind: .counter),
        Spec(name: tokens, help: "Model tokens by type (input, output, cached_input, reasoning) and stage.", kind: .counter),
        Spec(name: modalityTokens, help: "Model tokens by direction (input, output) and modality (text, audio, image).", kind: .counter),
    ]
}
