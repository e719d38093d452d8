// Registry: the process-wide metric families. Not thread-safe by itself: every method runs under the
// process lock (see ProcessState); only Series values are touched without it.
import CVoiceTelemetry

final class Registry: @unchecked Sendable {
    static let builtinPrefix = "voicetelemetry_"
    static let defaultBounds: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75,
        1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10,
    ]

    private(set) var families: [String: MetricFamily] = [:]
    /// The families sorted by name, for scrapes (sorted again only after a family was added).
    private var sorted: [MetricFamily] = []
    private var registeredKeys: [String: [String]] = [:]
    private var configuredBounds: [String: [Double]] = [:]
    /// Bumped by every vt_register_labels: caches of resolved session series check it.
    private(set) var labelEpoch: UInt64 = 0

    // The built-in families.
    let unknownLabels: MetricFamily
    let droppedSeries: MetricFamily
    let sessionFamilies: [MetricFamily]          // the counters and gauges computed from sessions
    let responseLatency: MetricFamily
    let textResponseLatency: MetricFamily
    let turnDuration: MetricFamily

    /// `builtIn`: families of other layers the registry makes at once (the turn collector's), each
    /// with exemplars when it is a histogram and labelled by transport until labels are registered.
    init(builtIn: [FamilySpec]) {
        func family(_ name: String, _ help: String, _ kind: MetricKind, _ measure: SessionMeasure? = nil) -> MetricFamily {
            MetricFamily(name: name, help: help, kind: kind, measure: measure, bounds: Self.defaultBounds)
        }
        unknownLabels = family("voicetelemetry_metrics_unknown_label_total",
                               "Label keys dropped because the metric's registered labels do not include them.", .counter)
        droppedSeries = family("voicetelemetry_metrics_series_dropped_total",
                               "Values dropped because their metric already had the maximum number of series.", .counter)
        sessionFamilies = [
            family("voicetelemetry_sessions_active", "Sessions open now.", .gauge, .sessionsActive),
            family("voicetelemetry_sessions_total", "Sessions created.", .counter, .sessionsTotal),
            family("voicetelemetry_audio_out_bytes_total", "Bytes of agent audio sent.", .counter, .audioBytes),
            family("voicetelemetry_audio_out_chunks_total", "Chunks of agent audio sent.", .counter, .audioChunks),
            family("voicetelemetry_interruptions_total", "Times the user interrupted the agent (barge-in).", .counter, .interruptions),
            family("voicetelemetry_turns_total", "Response turns completed (vt_record_turn_complete; not the turn collector's turns).", .counter, .turns),
        ]
        responseLatency = family("voicetelemetry_response_latency_seconds",
                                 "Time from the end of user speech (VAD end) to the first agent audio chunk.", .histogram)
        textResponseLatency = family("voicetelemetry_text_response_latency_seconds",
                                     "Time from a user text message to the first model text output.", .histogram)
        turnDuration = family("voicetelemetry_turn_duration_seconds",
                              "Response turn duration: from vt_record_turn_start to vt_record_turn_complete.", .histogram)
        for f in [unknownLabels, droppedSeries, responseLatency, textResponseLatency, turnDuration] + sessionFamilies {
            families[f.name] = f
        }
        for f in sessionFamilies + [responseLatency, textResponseLatency, turnDuration] {
            registeredKeys[f.name] = ["transport"]
        }
        for spec in builtIn {
            families[spec.name] = MetricFamily(name: spec.name, help: spec.help, kind: spec.kind, bounds: Self.defaultBounds,
                                               exemplars: spec.kind == .histogram)
            registeredKeys[spec.name] = ["transport"]
        }
    }

    func sortedFamilies() -> [MetricFamily] {
        if sorted.count != families.count { sorted = families.values.sorted { $0.name < $1.name } }
        return sorted
    }

    // MARK: - Writing values

    /// The series a user call writes to, creating family and series as needed; at the series limit
    /// the value is dropped, counted, and the call fails.
    func userSeries(kind: MetricKind, name: String, help: String?, labels: [Label]) throws(Failure) -> Series {
        let (family, series) = try userTarget(kind: kind, name: name, help: help, labels: labels)
        guard let series else {
            countInternal(droppedSeries, metric: family.name)
            throw Self.seriesLimit(family)
        }
        return series
    }

    /// The family and series of a user call (family and series created as needed; unknown label keys
    /// counted); the series is nil when the family is at its series limit.
    func userTarget(kind: MetricKind, name: String, help: String?, labels: [Label]) throws(Failure)
        -> (family: MetricFamily, series: Series?) {
        guard !name.hasPrefix(Self.builtinPrefix) else {
            throw .invalid("'\(name)': names starting with '\(Self.builtinPrefix)' belong to the library")
        }
        let family = try familyFor(kind: kind, name: name, help: help)
        let kept = filter(labels, for: name, countUnknown: true)
        let key = Series.render(kept)
        if let existing = family.existingSeries(key) { return (family, existing) }
        guard family.series.count < Int(VT_MAX_SERIES_PER_FAMILY) else { return (family, nil) }
        return (family, family.addSeries(kept, key: key))
    }

    static func seriesLimit(_ family: MetricFamily) -> Failure {
        .limit("'\(family.name)' already has \(VT_MAX_SERIES_PER_FAMILY) series; the value was dropped")
    }

    // MARK: - Handles

    /// The handle of a user call's series, or the family's overflow handle at its series limit;
    /// with the number of label keys the registration dropped.
    func resolveHandle(kind: MetricKind, name: String, help: String?, labels: [Label]) throws(Failure)
        -> (handle: UInt64, family: MetricFamily, droppedKeys: Int) {
        let (family, series) = try userTarget(kind: kind, name: name, help: help, labels: labels)
        let dropped = labels.count - filter(labels, for: name, countUnknown: false).count
        guard let series else { return (try overflowHandle(of: family), family, dropped) }
        return (try handle(of: series, kind: kind), family, dropped)
    }

    /// The vt_metric handle of a user series (made on first request).
    func handle(of series: Series, kind: MetricKind) throws(Failure) -> UInt64 {
        if series.handle == 0 {
            let target: HandleTarget = series.histogram.map { .histogram($0) } ?? .value(series.cell)
            series.handle = try MetricHandles.shared.make(kind: kind, target: target)
        }
        return series.handle
    }

    /// The handle of a full family's overflow: writes through it are counted as dropped.
    func overflowHandle(of family: MetricFamily) throws(Failure) -> UInt64 {
        if family.overflowHandle == 0 {
            let dropped = internalSeries(droppedSeries, metric: family.name)
            let overflow = SeriesOverflow(dropped: dropped.cell, message: Self.seriesLimit(family).message)
            family.overflowHandle = try MetricHandles.shared.make(kind: family.kind, target: .overflow(overflow))
        }
        return family.overflowHandle
    }

    /// The series of voicetelemetry_metrics_unknown_label_total for `metric`, if a key was dropped.
    func unknownLabelSeries(metric: String) -> Series? {
        unknownLabels.existingSeries(Series.render([Label(key: "metric", value: metric)]))
    }

    private func familyFor(kind: MetricKind, name: String, help: String?) throws(Failure) -> MetricFamily {
        if let existing = families[name] {
            guard existing.kind == kind else {
                throw .invalid("'\(name)' is a \(existing.kind.typeName), not a \(kind.typeName)")
            }
            return existing
        }
        try Self.checkSuffix(name, kind: kind)
        guard let help, !help.isEmpty else { throw .invalid("'\(name)' is new: its help text is required") }
        guard families.count < Int(VT_MAX_FAMILIES) else {
            throw .limit("there are already \(VT_MAX_FAMILIES) metric families")
        }
        let family = MetricFamily(name: name, help: help, kind: kind,
                                  bounds: configuredBounds[name] ?? Self.defaultBounds)
        families[name] = family
        return family
    }

    static func checkSuffix(_ name: String, kind: MetricKind) throws(Failure) {
        if kind == .counter {
            guard name.hasSuffix("_total") else { throw .invalid("counter '\(name)' must end in _total") }
            return
        }
        for suffix in ["_total", "_count", "_sum", "_bucket", "_quantiles"] where name.hasSuffix(suffix) {
            throw .invalid("'\(name)': only counters may end in _total, and no name may end in \(suffix)")
        }
    }

    /// Keep the labels the metric accepts; count each dropped key.
    func filter(_ labels: [Label], for name: String, countUnknown: Bool) -> [Label] {
        guard let allowed = registeredKeys[name] else { return labels }
        var kept: [Label] = []
        for label in labels {
            if allowed.contains(label.key) {
                kept.append(label)
            } else if countUnknown {
                countInternal(unknownLabels, metric: name)
            }
        }
        return kept
    }

    /// The series of `family` for `labels` (already filtered), within the series limit.
    func series(of family: MetricFamily, labels: [Label]) throws(Failure) -> Series {
        let key = Series.render(labels)
        if let existing = family.existingSeries(key) { return existing }
        guard family.series.count < Int(VT_MAX_SERIES_PER_FAMILY) else {
            countInternal(droppedSeries, metric: family.name)
            throw Self.seriesLimit(family)
        }
        return family.addSeries(labels, key: key)
    }

    func countUnknownLabels(metric: String, times: Int) {
        for _ in 0..<max(times, 0) { countInternal(unknownLabels, metric: metric) }
    }

    private func countInternal(_ family: MetricFamily, metric: String) {
        internalSeries(family, metric: metric).add(1)
    }

    /// The series of one of the registry's own counters for `metric` (no series limit: one per family).
    private func internalSeries(_ family: MetricFamily, metric: String) -> Series {
        let labels = [Label(key: "metric", value: metric)]
        let key = Series.render(labels)
        return family.existingSeries(key) ?? family.addSeries(labels, key: key)
    }

    // MARK: - Configuration

    func registerLabels(name: String, keys: [String]) throws(Failure) {
        if families[name] == nil && registeredKeys[name] == nil && families.count >= Int(VT_MAX_FAMILIES) {
            throw .limit("there are already \(VT_MAX_FAMILIES) metric families")
        }
        registeredKeys[name] = keys
        labelEpoch &+= 1
    }

    func setBuckets(name: String, bounds: [Double]) throws(Failure) {
        if let family = families[name] {
            guard family.kind == .histogram else { throw .invalid("'\(name)' is a \(family.kind.typeName), not a histogram") }
            guard family.series.isEmpty else {
                throw .order("'\(name)' already has observations (or sessions): buckets are fixed")
            }
            family.bounds = bounds
            return
        }
        guard !name.hasPrefix(Self.builtinPrefix) else { throw .invalid("'\(name)' is not a built-in histogram") }
        guard configuredBounds.count < Int(VT_MAX_FAMILIES) else { throw .limit("too many pending bucket settings") }
        configuredBounds[name] = bounds
    }

    // MARK: - Sessions

    /// The series of a built-in session family for a session with `labels`; nil past the series limit.
    func sessionSeries(_ family: MetricFamily, sessionLabels: [Label]) -> Series? {
        try? series(of: family, labels: filter(sessionLabels, for: family.name, countUnknown: false))
    }
}
