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
    // Values. `valueMask` has bit (1 << (word - valueBase)) for each value word that was reported.
    static let valueMask = 32
    static let valueBase = 33
    static let sttConfidence = 33, sttAudioNs = 34, eouProbability = 35, eouWaitNs = 36
    static let ttsChars = 37, ttsCharsPlayed = 38, ttsAudioBytes = 39, fiPauseNs = 40, fiWords = 41
    static let sttInterimCount = 42
    /// vt_token_usage fields in struct order: input, output, cached_input, reasoning, input_text,
    /// input_audio, input_image, output_text, output_audio.
    static let tokens = 43
    static let tokenFields = 9
    static let tokensMask = 52
    /// Session audio byte counter + 1 at the agent's first audio / at the end of its speech.
    static let audioBytesAtStart = 53, audioBytesAtStop = 54
    /// Bit 1: user-speech start carried from a discarded turn; bit 2: interrupting speech carried.
    static let carried = 55
    /// Provider per stage (stt, eou, llm, tts, realtime): a ProviderWord each (TurnPacked.swift).
    static let providers = 56
    static let providerCount = 5
    /// Error counts by source stage 1...TurnStage.last.
    static let errors = 61
    static let errorSources = Int(TurnStage.last)
    static let toolCount = 74
    /// Tool calls: 3 words each: a ToolCallWord, start, end.
    static let tools = 75
    static let fallbackCount = 99
    /// Fallbacks: 2 words each: a FallbackWord, its time.
    static let fallbacks = 100
    /// Texts (user transcript, preflight, agent response): a TextMeta each.
    static let texts = 108
    /// Cost of the turn's usage in pico-units of the price table's currency, by stage in the order of
    /// `costStages`: stt, llm, tts, realtime (Cost/Charges.swift).
    static let costs = 111
    static let costStages: [UInt32] = [2, 4, 5, 8]
    /// Bit 1: a price table was active at one of the turn's charges (the record then has a cost).
    static let costFlags = 115
    /// Charges of the turn that found no price, and up to `maxUnpriced` of their distinct keys (CostKey).
    static let unpricedCount = 116
    static let unpriced = 117
    static let maxUnpriced = 4
    static let bankCount = 121

    // Record-only words.
    static let turnID = 121, outcome = 122, completedBy = 123, endNs = 124
    static let recordCount = 125

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
