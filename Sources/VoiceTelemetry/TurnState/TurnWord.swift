// TurnWord: the word layout of one turn's state. A turn is kept as a fixed array of 64-bit words
// (relaxed atomics): the same layout serves the open turn (a "bank") and a completed turn in the
// history ring (a "record": the bank's words plus a few words written at completion).
import CVoiceTelemetry

enum TurnWord {
    // Timestamps (ns on the session clock; 0 = not seen).
    static let userStart = 0, userEnd = 1, sttStart = 2, sttInterim = 3, sttPreflight = 4, sttFinal = 5
    static let eouStart = 6, eouEnd = 7, llmStart = 8, llmFirst = 9, llmEnd = 10
    static let ttsStart = 11, ttsFirst = 12, ttsEnd = 13, agentStart = 14, agentEnd = 15
    static let kbStart = 16, kbEnd = 17, rtStart = 18, rtFirst = 19, rtEnd = 20
    static let fiStart = 21, fiResumed = 22, fiEscalated = 23, interrupt = 24
    static let bgStart = 25, bgEnd = 26, thinkStart = 27, thinkEnd = 28
    static let firstEvent = 29, lastEvent = 30, overlapStart = 31
    // Each region below starts where the one before ends (a Swift test checks the sizes).
    // Values. `valueMask` has bit (1 << (word - valueBase)) for each value word that was reported.
    static let valueMask = overlapStart + 1
    static let valueBase = valueMask + 1
    /// In the order of the vt_turn_value keys (TurnCollector.valueWord).
    static let sttConfidence = valueBase, sttAudioNs = valueBase + 1, eouProbability = valueBase + 2
    static let eouWaitNs = valueBase + 3, ttsChars = valueBase + 4, ttsCharsPlayed = valueBase + 5
    static let ttsAudioBytes = valueBase + 6, fiPauseNs = valueBase + 7, fiWords = valueBase + 8
    static let sttInterimCount = fiWords + 1
    /// vt_token_usage fields in struct order: input, output, cached_input, reasoning, input_text,
    /// input_audio, input_image, output_text, output_audio.
    static let tokens = sttInterimCount + 1
    static let tokenFields = 9
    static let tokensMask = tokens + tokenFields
    /// Session audio byte counter + 1 at the agent's first audio / at the end of its speech.
    static let audioBytesAtStart = tokensMask + 1, audioBytesAtStop = audioBytesAtStart + 1
    /// Bit 1: user-speech start carried from a discarded turn; bit 2: interrupting speech carried.
    static let carried = audioBytesAtStop + 1
    /// Provider per stage (stt, eou, llm, tts, realtime): a ProviderWord each (TurnPacked.swift).
    static let providers = carried + 1
    static let providerCount = 5
    /// Error counts by source stage 1...TurnStage.last.
    static let errors = providers + providerCount
    static let errorSources = Int(TurnStage.last)
    static let toolCount = errors + errorSources
    /// Tool calls: 3 words each: a ToolCallWord, start, end.
    static let tools = toolCount + 1
    static let fallbackCount = tools + 3 * maxTools
    /// Fallbacks: 2 words each: a FallbackWord, its time.
    static let fallbacks = fallbackCount + 1
    /// Texts (user transcript, preflight, agent response): a TextMeta each.
    static let texts = fallbacks + 2 * maxFallbacks
    /// Cost of the turn's usage in pico-units of the price table's currency, by stage in the order of
    /// `costStages`: stt, llm, tts, realtime (Cost/Charges.swift).
    static let costs = texts + textKinds
    static let costStages: [UInt32] = [TurnStage.stt, TurnStage.llm, TurnStage.tts, TurnStage.realtime]
    static let costStageCount = 4
    /// Bit 1: a price table was active at one of the turn's charges (the record then has a cost).
    static let costFlags = costs + costStageCount
    /// Charges of the turn that found no price, and up to `maxUnpriced` of their distinct keys (CostKey).
    static let unpricedCount = costFlags + 1
    static let unpriced = unpricedCount + 1
    static let maxUnpriced = 4
    static let bankCount = unpriced + maxUnpriced

    // Record-only words.
    static let turnID = bankCount, outcome = turnID + 1, completedBy = turnID + 2, endNs = turnID + 3
    static let recordCount = endNs + 1

    static let maxTools = 8
    static let maxFallbacks = 4
    static let textKinds = 3
    /// The agent's response among the texts (VT_TT_AGENT_RESPONSE less 1); the others are the user's.
    static let agentResponseText = Int(VT_TT_AGENT_RESPONSE.rawValue) - 1
}

enum TurnOutcome: UInt64 {
    case completed = 1, interrupted = 2, discarded = 3
    var name: StaticString {
        switch self {
        case .completed: return "completed"
        case .interrupted: return "interrupted"
        case .discarded: return "discarded"
        }
    }
}

enum CompletedBy: UInt64 {
    case agentSpeechEnd = 1, nextUserTurn = 2, turnComplete = 3, sessionEnd = 4
    var name: StaticString {
        switch self {
        case .agentSpeechEnd: return "agent_speech_end"
        case .nextUserTurn: return "next_user_turn"
        case .turnComplete: return "turn_complete"
        case .sessionEnd: return "session_end"
        }
    }
}
