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
        stageSpans(w)
        flagToolCallsOutOfOrder(w)
        // STT latency: what the user waits for the final transcript after they stop speaking. A final
        // before the speech end (streaming STT) is normal: no latency, no flag.
        let userEnd = w(TurnWord.userEnd), sttFinal = w(TurnWord.sttFinal)
        if userEnd != 0, sttFinal >= userEnd { sttLatency = sttFinal - userEnd }
        interruption(w)
        chooseAnchor(w)
        endToEnd(w)
    }

    /// The time from word `s` to word `e`; nil (and a flag) when it cannot be measured.
    private mutating func span(_ w: (Int) -> UInt64, _ s: Int, _ e: Int) -> UInt64? {
        let a = w(s), b = w(e)
        guard b != 0 else { return nil }
        guard a != 0 else { flags |= UInt32(VT_TQ_MISSING_START.rawValue); return nil }
        guard b >= a else { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue); return nil }
        if b - a > Self.implausibleNs { flags |= UInt32(VT_TQ_IMPLAUSIBLE.rawValue) }
        return b - a
    }

    /// Each stage's duration and time to its first output.
    private mutating func stageSpans(_ w: (Int) -> UInt64) {
        userSpeech = span(w, TurnWord.userStart, TurnWord.userEnd)
        sttDuration = span(w, TurnWord.sttStart, TurnWord.sttFinal)
        eouDelay = span(w, TurnWord.eouStart, TurnWord.eouEnd)
        llmTTFT = span(w, TurnWord.llmStart, TurnWord.llmFirst)
        llmDuration = span(w, TurnWord.llmStart, TurnWord.llmEnd)
        ttsTTFB = span(w, TurnWord.ttsStart, TurnWord.ttsFirst)
        ttsDuration = span(w, TurnWord.ttsStart, TurnWord.ttsEnd)
        realtimeTTFA = span(w, TurnWord.rtStart, TurnWord.rtFirst)
        realtimeDuration = span(w, TurnWord.rtStart, TurnWord.rtEnd)
        agentSpeech = span(w, TurnWord.agentStart, TurnWord.agentEnd)
        kbDuration = span(w, TurnWord.kbStart, TurnWord.kbEnd)
        backgroundAudio = span(w, TurnWord.bgStart, TurnWord.bgEnd)
        thinkingAudio = span(w, TurnWord.thinkStart, TurnWord.thinkEnd)
        let fiEnd = w(TurnWord.fiResumed) != 0 ? TurnWord.fiResumed : TurnWord.fiEscalated
        falseInterruption = span(w, TurnWord.fiStart, fiEnd)
    }

    /// A tool call whose end is before its start is flagged like any other span (the record's
    /// duration_ns stays null).
    private mutating func flagToolCallsOutOfOrder(_ w: (Int) -> UInt64) {
        for i in 0..<Int(min(w(TurnWord.toolCount), UInt64(TurnWord.maxTools))) {
            let e = TurnWord.tools + i * 3
            if w(e + 1) != 0, w(e + 2) != 0, w(e + 2) < w(e + 1) { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue) }
        }
    }

    /// Whether the turn was interrupted, and the barge-in latency: from the overlapping speech (or
    /// the interruption) to the end of the agent's speech.
    private mutating func interruption(_ w: (Int) -> UInt64) {
        interrupted = w(TurnWord.interrupt) != 0 || w(TurnWord.fiEscalated) != 0
        guard interrupted, w(TurnWord.agentEnd) != 0 else { return }
        let from = w(TurnWord.overlapStart) != 0 ? w(TurnWord.overlapStart) : w(TurnWord.interrupt)
        let end = w(TurnWord.agentEnd)
        guard from != 0 else { return }
        if end >= from { bargeIn = end - from } else { flags |= UInt32(VT_TQ_OUT_OF_ORDER.rawValue) }
    }

    /// The anchor of the end-to-end latency: the end of user speech, else the final transcript, else
    /// the end of the EOU.
    private mutating func chooseAnchor(_ w: (Int) -> UInt64) {
        let userEnd = w(TurnWord.userEnd), sttFinal = w(TurnWord.sttFinal)
        if userEnd != 0 {
            anchor = .userSpeechEnd; anchorNs = userEnd
        } else {
            flags |= UInt32(VT_TQ_NO_VAD.rawValue)
            if sttFinal != 0 { anchor = .sttFinal; anchorNs = sttFinal }
            else if w(TurnWord.eouEnd) != 0 { anchor = .eouEnd; anchorNs = w(TurnWord.eouEnd) }
            else { flags |= UInt32(VT_TQ_NO_ANCHOR.rawValue) }
        }
    }

    /// The end-to-end latency (anchor to first agent audio) and its breakdown along the critical path.
    private mutating func endToEnd(_ w: (Int) -> UInt64) {
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

    /// Histogram `i`'s figure (in TurnFamilies.histogramNames order), in nanoseconds (nil: not
    /// measured). A switch: no closures or key paths on the completing record call.
    @inline(__always)
    func histogramValue(_ i: Int) -> UInt64? {
        switch i {
        case 0: return sttLatency
        case 1: return eouDelay
        case 2: return llmTTFT
        case 3: return llmDuration
        case 4: return ttsTTFB
        case 5: return e2e
        default: return bargeIn
        }
    }
}
