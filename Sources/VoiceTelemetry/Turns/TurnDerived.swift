// TurnDerived: what a turn's words mean: stage latencies, the e2e anchor, the exact breakdown and the
// quality flags. A pure function of the words, used at completion (histograms, discard rule) and when
// a record is rendered, so both always agree.
import CVoiceTelemetry

struct TurnDerived {
    static let implausibleNs: UInt64 = 120_000_000_000

    enum Anchor: UInt8 {
        case none = 0, userSpeechEnd, sttFinal, eouEnd
        var name: StaticString {
            switch self {
            case .none: return "none"
            case .userSpeechEnd: return "user_speech_end"
            case .sttFinal: return "stt_final"
            case .eouEnd: return "eou_end"
            }
        }
    }

    var flags: UInt32 = 0
    var userSpeech: UInt64?
    var sttLatency: UInt64?      // user speech end -> STT final
    var sttDuration: UInt64?     // STT start -> final
    var eouDelay: UInt64?
    var llmTTFT: UInt64?
    var llmDuration: UInt64?
    var ttsTTFB: UInt64?
    var ttsDuration: UInt64?
    var realtimeTTFA: UInt64?
    var realtimeDuration: UInt64?
    var agentSpeech: UInt64?
    var kbDuration: UInt64?
    var bargeIn: UInt64?
    var falseInterruption: UInt64?
    var backgroundAudio: UInt64?
    var thinkingAudio: UInt64?
    var anchor = Anchor.none
    var anchorNs: UInt64 = 0
    var e2e: UInt64?
    /// stt, eou, llm_ttft, tts_ttfb, realtime, remainder (valid when e2e is): sums to e2e exactly.
    var breakdown = Breakdown()

    struct Breakdown {
        var parts: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        subscript(i: Int) -> UInt64 {
            get {
                switch i {
                case 0: return parts.0
                case 1: return parts.1
                case 2: return parts.2
                case 3: return parts.3
                case 4: return parts.4
                default: return parts.5
                }
            }
            set {
                switch i {
                case 0: parts.0 = newValue
                case 1: parts.1 = newValue
                case 2: parts.2 = newValue
                case 3: parts.3 = newValue
                case 4: parts.4 = newValue
                default: parts.5 = newValue
                }
            }
        }
    }
    var interrupted = false

    static let breakdownNames: [StaticString] = ["stt_ns", "eou_ns", "llm_ttft_ns", "tts_ttfb_ns", "realtime_ns", "remainder_ns"]

    init(_ w: (Int) -> UInt64) {
        func span(_ s: Int, _ e: Int) -> UInt64? {
            let a = w(s), b = w(e)
            guard b != 0 else { return nil }
            guard a != 0 else { flags |= UInt32(VT_TQ_MISSING_START.rawValue); return nil }
            guard b >= a else { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue); return nil }
            if b - a > Self.implausibleNs { flags |= UInt32(VT_TQ_IMPLAUSIBLE.rawValue) }
            return b - a
        }
        userSpeech = span(TurnWord.userStart, TurnWord.userEnd)
        sttDuration = span(TurnWord.sttStart, TurnWord.sttFinal)
        eouDelay = span(TurnWord.eouStart, TurnWord.eouEnd)
        llmTTFT = span(TurnWord.llmStart, TurnWord.llmFirst)
        llmDuration = span(TurnWord.llmStart, TurnWord.llmEnd)
        ttsTTFB = span(TurnWord.ttsStart, TurnWord.ttsFirst)
        ttsDuration = span(TurnWord.ttsStart, TurnWord.ttsEnd)
        realtimeTTFA = span(TurnWord.rtStart, TurnWord.rtFirst)
        realtimeDuration = span(TurnWord.rtStart, TurnWord.rtEnd)
        agentSpeech = span(TurnWord.agentStart, TurnWord.agentEnd)
        kbDuration = span(TurnWord.kbStart, TurnWord.kbEnd)
        backgroundAudio = span(TurnWord.bgStart, TurnWord.bgEnd)
        thinkingAudio = span(TurnWord.thinkStart, TurnWord.thinkEnd)
        let fiEnd = w(TurnWord.fiResumed) != 0 ? TurnWord.fiResumed : TurnWord.fiEscalated
        falseInterruption = span(TurnWord.fiStart, fiEnd)
        // Tool calls: an end before its start is flagged like any other span (the record's
        // duration_ns stays null).
        for i in 0..<Int(min(w(TurnWord.toolCount), UInt64(TurnWord.maxTools))) {
            let e = TurnWord.tools + i * 3
            if w(e + 1) != 0, w(e + 2) != 0, w(e + 2) < w(e + 1) { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue) }
        }
        // STT latency: what the user waits for the final transcript after they stop speaking. A final
        // before the speech end (streaming STT) is normal: no latency, no flag.
        let userEnd = w(TurnWord.userEnd), sttFinal = w(TurnWord.sttFinal)
        if userEnd != 0, sttFinal >= userEnd { sttLatency = sttFinal - userEnd }

        interrupted = w(TurnWord.interrupt) != 0 || w(TurnWord.fiEscalated) != 0
        if interrupted, w(TurnWord.agentEnd) != 0 {
            let from = w(TurnWord.overlapStart) != 0 ? w(TurnWord.overlapStart) : w(TurnWord.interrupt)
            let end = w(TurnWord.agentEnd)
            if from != 0 {
                if end >= from { bargeIn = end - from } else { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue) }
            }
        }

        // The anchor of the end-to-end latency.
        if userEnd != 0 {
            anchor = .userSpeechEnd; anchorNs = userEnd
        } else {
            flags |= UInt32(VT_TQ_NO_VAD.rawValue)
            if sttFinal != 0 { anchor = .sttFinal; anchorNs = sttFinal }
            else if w(TurnWord.eouEnd) != 0 { anchor = .eouEnd; anchorNs = w(TurnWord.eouEnd) }
            else { flags |= UInt32(VT_TQ_NO_ANCHOR.rawValue) }
        }
        let firstAudio = w(TurnWord.agentStart)
        if firstAudio == 0 { flags |= UInt32(VT_TQ_NO_AGENT_AUDIO.rawValue) }
        guard anchor != .none, firstAudio != 0 else { return }
        guard firstAudio >= anchorNs else { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue); return }
        let total = firstAudio - anchorNs
        if total > Self.implausibleNs { flags |= UInt32(VT_TQ_IMPLAUSIBLE.rawValue) }
        e2e = total
        // Walk the critical path: each stage's point after the previous one takes the time up to it.
        var cursor = anchorNs
        let points = (TurnWord.sttFinal, TurnWord.eouEnd, TurnWord.llmFirst, TurnWord.ttsFirst, TurnWord.rtFirst)
        for i in 0..<5 {
            let word = i == 0 ? points.0 : i == 1 ? points.1 : i == 2 ? points.2 : i == 3 ? points.3 : points.4
            let point = w(word)
            if point == 0 || point <= anchorNs { continue }
            if point > firstAudio {
                flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue)   // after the audio it should have preceded
                continue
            }
            if point < cursor {
                flags |= UInt32(VT_TQ_OVERLAP.rawValue)   // ran beside the previous stage: part 0
                continue
            }
            breakdown[i] = point - cursor
            cursor = point
        }
        breakdown[5] = firstAudio - cursor
    }

    /// A turn with none of these latencies is discarded.
    var meaningful: Bool {
        sttLatency != nil || sttDuration != nil || eouDelay != nil || llmTTFT != nil || ttsTTFB != nil
            || realtimeTTFA != nil || realtimeDuration != nil || e2e != nil
    }

    static let flagNames: [(UInt32, StaticString)] = [
        (UInt32(VT_TQ_NO_VAD.rawValue), "no_vad"), (UInt32(VT_TQ_NO_ANCHOR.rawValue), "no_anchor"),
        (UInt32(VT_TQ_NO_AGENT_AUDIO.rawValue), "no_agent_audio"), (UInt32(VT_TQ_OUT_OF_ORDER.rawValue), "out_of_order"),
        (UInt32(VT_TQ_IMPLAUSIBLE.rawValue), "implausible"), (UInt32(VT_TQ_MISSING_START.rawValue), "missing_start"),
        (UInt32(VT_TQ_OVERLAP.rawValue), "overlap"),
    ]
}
