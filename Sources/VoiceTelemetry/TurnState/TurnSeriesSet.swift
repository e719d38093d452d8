// TurnSeriesSet: the series one session's turns feed, resolved at session creation (process lock held)
// from the session labels filtered by each family's registered keys. Sessions with the same labels
// share one set (cached until vt_register_labels changes the keys).
import Synchronization

final class TurnSeriesSet: @unchecked Sendable {
    /// In the order of TurnFamilies.histogramNames.
    let histograms: [Series?]
    /// completed, interrupted, discarded.
    let outcomes: [Series?]
    /// resumed, escalated.
    let falseInterruptions: [Series?]
    /// Indexed by source stage 1...13 (index 0 unused).
    let errors: [Series?]
    /// input, output, cached_input, reasoning: [stage index: llm 0, realtime 1, stt 2, tts 3][type].
    let tokens: [[Series?]]
    /// input_text, input_audio, input_image, output_text, output_audio.
    let modalityTokens: [Series?]
    /// The cells of `tokens` (stage index x 4 + type) then of `modalityTokens` (16 + modality), nil
    /// where a series is missing: what vt_turn_usage adds to, with no reference counting (series live
    /// as long as the process; the table as long as this set, which its sessions hold).
    let tokenCells: UnsafeMutablePointer<UnsafeMutablePointer<Atomic<UInt64>>?>
    static let tokenCellCount = 16 + 5
    let sessionLabels: [Label]

    /// In TurnOutcome order (raw values 1, 2, 3): `outcome(_:)` indexes `outcomes` by it.
    static let outcomeNames = [TurnOutcome.completed, .interrupted, .discarded].map { "\($0.name)" }
    /// In the order `falseInterruption(resumed:)` indexes them.
    static let falseInterruptionOutcomes = ["resumed", "escalated"]
    static let tokenTypes = ["input", "output", "cached_input", "reasoning"]
    /// The stages that report tokens, in the order of their index (llm 0, realtime 1, stt 2, tts 3).
    static let tokenStages: [UInt32] = [TurnStage.llm, TurnStage.realtime, TurnStage.stt, TurnStage.tts]
    static let modalities: [(String, String)] = [
        ("input", "text"), ("input", "audio"), ("input", "image"), ("output", "text"), ("output", "audio"),
    ]

    nonisolated(unsafe) private static var cache: [String: TurnSeriesSet] = [:]
    nonisolated(unsafe) private static var cacheEpoch: UInt64 = .max

    /// The set for a new session (process lock held).
    static func resolve(_ registry: Registry, sessionLabels: [Label]) -> TurnSeriesSet {
        if cacheEpoch != registry.labelEpoch {
            cache = [:]
            cacheEpoch = registry.labelEpoch
        }
        let key = Series.render(sessionLabels)
        if let hit = cache[key] { return hit }
        let set = TurnSeriesSet(registry, sessionLabels)
        if cache.count < 4096 { cache[key] = set }
        return set
    }

    private init(_ registry: Registry, _ labels: [Label]) {
        sessionLabels = labels
        func series(_ name: String, _ extra: [Label] = []) -> Series? {
            Self.series(registry, name, labels, extra)
        }
        histograms = TurnFamilies.histogramNames.map { series($0) }
        outcomes = Self.outcomeNames.map { series(TurnFamilies.outcomes, [Label(key: "outcome", value: $0)]) }
        falseInterruptions = Self.falseInterruptionOutcomes.map {
            series(TurnFamilies.falseInterruptions, [Label(key: "outcome", value: $0)])
        }
        errors = [nil] + (1...TurnStage.last).map { (stage: UInt32) -> Series? in
            series(TurnFamilies.errors, [Label(key: "source", value: TurnStage.name(stage))])
        }
        tokens = Self.tokenStages.map { stage in
            Self.tokenTypes.map { series(TurnFamilies.tokens, [Label(key: "type", value: $0), Label(key: "stage", value: TurnStage.name(stage))]) }
        }
        modalityTokens = Self.modalities.map {
            series(TurnFamilies.modalityTokens, [Label(key: "direction", value: $0.0), Label(key: "modality", value: $0.1)])
        }
        tokenCells = .allocate(capacity: Self.tokenCellCount)
        for (i, series) in (tokens.joined() + modalityTokens).enumerated() { tokenCells[i] = series?.cell }
    }

    deinit { tokenCells.deallocate() }

    /// The false-interruption counter's series of an outcome (resumed: the agent went on; escalated:
    /// it became an interruption).
    func falseInterruption(resumed: Bool) -> Series? { falseInterruptions[resumed ? 0 : 1] }

    /// The outcome counter's series of `outcome`.
    func outcome(_ outcome: TurnOutcome) -> Series? { outcomes[Int(outcome.rawValue) - 1] }

    /// The index of `stage` in tokenStages, nil for a stage that reports no tokens: a switch, so the
    /// record path reads no array (a Swift test checks it against tokenStages).
    @inline(__always)
    static func tokenStageIndex(_ stage: UInt32) -> Int? {
        switch stage {
        case TurnStage.llm: return 0
        case TurnStage.realtime: return 1
        case TurnStage.stt: return 2
        case TurnStage.tts: return 3
        default: return nil
        }
    }

    /// A series of a turn family: the session labels its registered keys allow, plus the family's own
    /// dimensions (which win over a session label of the same key), sorted by key.
    static func series(_ registry: Registry, _ name: String, _ sessionLabels: [Label], _ extra: [Label]) -> Series? {
        guard let family = registry.families[name] else { return nil }
        var labels = registry.filter(sessionLabels, for: name, countUnknown: false)
        labels.removeAll { label in extra.contains { $0.key == label.key } }
        labels += extra
        labels.sort { $0.key < $1.key }
        return try? registry.series(of: family, labels: labels)
    }
}
