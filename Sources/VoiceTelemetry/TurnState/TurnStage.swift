// TurnStage: the stage and mark numbers of the C ABI, their names, and which marks a stage has.
import CVoiceTelemetry

enum TurnStage {
    static let names: [StaticString] = [
        "none", "user_speech", "stt", "eou", "llm", "tts", "agent_speech", "knowledge_base", "realtime",
        "interruption", "false_interruption", "background_audio", "thinking_audio", "tool",
    ]

    static func name(_ stage: UInt32) -> String {
        stage < names.count ? names[Int(stage)].description : "unknown"
    }

    static let userSpeech = UInt32(VT_STAGE_USER_SPEECH.rawValue)
    static let stt = UInt32(VT_STAGE_STT.rawValue)
    static let eou = UInt32(VT_STAGE_EOU.rawValue)
    static let llm = UInt32(VT_STAGE_LLM.rawValue)
    static let tts = UInt32(VT_STAGE_TTS.rawValue)
    static let agentSpeech = UInt32(VT_STAGE_AGENT_SPEECH.rawValue)
    static let kb = UInt32(VT_STAGE_KNOWLEDGE_BASE.rawValue)
    static let realtime = UInt32(VT_STAGE_REALTIME.rawValue)
    static let interruption = UInt32(VT_STAGE_INTERRUPTION.rawValue)
    static let falseInterruption = UInt32(VT_STAGE_FALSE_INTERRUPTION.rawValue)
    static let background = UInt32(VT_STAGE_BACKGROUND_AUDIO.rawValue)
    static let thinking = UInt32(VT_STAGE_THINKING_AUDIO.rawValue)
    static let tool = UInt32(VT_STAGE_TOOL.rawValue)
    static let last = tool

    static let start = UInt32(VT_MARK_START.rawValue)
    static let end = UInt32(VT_MARK_END.rawValue)
    static let first = UInt32(VT_MARK_FIRST.rawValue)
    static let interim = UInt32(VT_MARK_INTERIM.rawValue)
    static let preflight = UInt32(VT_MARK_PREFLIGHT.rawValue)
    static let final = UInt32(VT_MARK_FINAL.rawValue)
    static let resumed = UInt32(VT_MARK_RESUMED.rawValue)
    static let escalated = UInt32(VT_MARK_ESCALATED.rawValue)

    /// Is the stage's side the user's (its events of interrupting speech belong to the next turn)?
    static func isUserSide(_ stage: UInt32) -> Bool { stage == userSpeech || stage == stt || stage == eou }

    /// Index of the provider word of a stage (stt, eou, llm, tts, realtime), or nil.
    static func providerIndex(_ stage: UInt32) -> Int? {
        switch stage {
        case stt: return 0
        case eou: return 1
        case llm: return 2
        case tts: return 3
        case realtime: return 4
        default: return nil
        }
    }
}
