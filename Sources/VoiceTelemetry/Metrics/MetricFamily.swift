// MetricFamily and Series: the registry's data. A family has one name, help text and kind; a series
// is one label set of it. Families and series are created under the registry lock and never freed,
// so hot paths may keep references to series and update their atomics without the lock.
import CShims
import CVoiceTelemetry
import Synchronization

enum MetricKind: Sendable {
    case counter, gauge, histogram

    /// The kind of a vt_metric_kind value (VT_METRIC_COUNTER ...); nil for any other number.
    init?(handleKind: UInt32) {
        switch handleKind {
        case VT_METRIC_COUNTER.rawValue: self = .counter
        case VT_METRIC_GAUGE.rawValue: self = .gauge
        case VT_METRIC_HISTOGRAM.rawValue: self = .histogram
        default: return nil
        }
    }

    var typeName: StaticString {
        switch self {
        case .counter: return "counter"
        case .gauge: return "gauge"
        case .histogram: return "histogram"
        }
    }
}

/// Where a built-in family's values come from, when they are computed at scrape time from sessions.
/// A family another layer declares for the registry to make (name, help text, type).
struct FamilySpec {
    let name: String
    let help: String
    let kind: MetricKind
}

enum SessionMeasure: CaseIterable, Sendable {
    case sessionsActive, sessionsTotal, audioBytes, audioChunks, interruptions, turns
}

final class Series: @unchecked Sendable {
    let labels: [Label]
    /// `k="v",k2="v2"` with keys sorted and values escaped; "" for no labels.
    let renderedLabels: String
    /// Counter or gauge value, out of line so that a metric handle can point at it: word 0 holds
    /// Double bits, word 1 a whole number a counter handle adds with one atomic add (whole
    /// increments up to 2^53; a compare-exchange loop on a Double costs twice as much). The value
    /// is their sum; word 1 stays 0 for gauges.
    let cell: UnsafeMutablePointer<Atomic<UInt64>>
    let histogram: LatencyHistogram?
    /// Session-derived families: the totals of ended sessions (registry lock held).
    var retired: UInt64 = 0
    /// Session-derived families: the live sessions' part, summed during one scrape (registry lock held).
    var liveScratch: UInt64 = 0
    /// Its vt_metric handle once one was asked for (registry lock held); 0 before.
    var handle: UInt64 = 0
    /// Its sample names and labels, rendered by the first scrape (registry lock held).
    private var rendered: SeriesText?

    init(labels: [Label], histogramBounds: [Double]?, exemplars: Bool = false) {
        self.labels = labels
        renderedLabels = Self.render(labels)
        histogram = histogramBounds.map { LatencyHistogram(bounds: $0, exemplars: exemplars) }
        cell = .allocate(capacity: 2)
        cell.initialize(to: Atomic(0.0.bitPattern))
        (cell + 1).initialize(to: Atomic(0))
    }

    deinit { cell.deallocate() }   // only registries of tests go away; the process's never does

    /// Labels in exposition syntax, keys sorted; `extra` (le, quantile) is merged in at its sorted place.
    static func render(_ labels: [Label], extra: Label? = nil) -> String {
        var text = TextOutput(reserving: 64)
        var pendingExtra = extra
        var first = true
        func emit(_ label: Label) {
            if !first { text.append(",") }
            first = false
            text.append(label.key)
            text.append("=\"")
            text.appendPromLabelValue(label.value)
            text.append("\"")
        }
        for label in labels {
            if let e = pendingExtra, e.key < label.key { emit(e); pendingExtra = nil }
            emit(label)
        }
        if let e = pendingExtra { emit(e) }
        return String(decoding: text.bytes, as: UTF8.self)
    }

    func renderedText(_ family: MetricFamily) -> SeriesText {
        if let rendered { return rendered }
        let text = SeriesText(self, family: family)
        rendered = text
        return text
    }

    var value: Double {
        let whole = cell[1].load(ordering: .relaxed)
        let fraction = Double(bitPattern: cell[0].load(ordering: .relaxed))
        return whole == 0 ? fraction : fraction + Double(whole)
    }

    /// Add `v` (> 0, finite) to a counter's cell: whole numbers with one atomic add.
    @inline(__always)
    static func addToCounter(_ cell: UnsafeMutablePointer<Atomic<UInt64>>, _ v: Double) {
        if !addWholeToCounter(cell, v) { cell[0].addToDouble(v) }
    }

    /// Add `v` to word 1 if it is a whole number in 1...2^53 (true), else nothing (false: NaN, the
    /// infinities, fractions, negative numbers and 0 all land here).
    @inline(__always)
    static func addWholeToCounter(_ cell: UnsafeMutablePointer<Atomic<UInt64>>, _ v: Double) -> Bool {
        guard v > 0, v <= 0x1p53 else { return false }
        let whole = shim_whole(v)   // in range: checked above
        guard Double(whole) == v else { return false }
        cell[1].wrappingAdd(UInt64(truncatingIfNeeded: whole), ordering: .relaxed)
        return true
    }

    func add(_ delta: Double) { cell[0].addToDouble(delta) }

    func set(_ value: Double) { cell[0].store(value.bitPattern, ordering: .relaxed) }
}

final class MetricFamily: @unchecked Sendable {
    let name: String
    let help: String
    let kind: MetricKind
    /// Set for the built-in families computed from sessions.
    let measure: SessionMeasure?
    /// Histogram bounds; fixed once the family has a series.
    var bounds: [Double] { didSet { rendered = nil } }
    /// Its series keep an exemplar per bucket (the turn collector's latency histograms).
    let exemplars: Bool
    private(set) var seriesByKey: [String: Series] = [:]
    private(set) var series: [Series] = []
    /// Its lines that never change and its series in exposition order, made by scrapes (lock held).
    private var rendered: FamilyText?
    private var sorted: [Series] = []
    /// Its overflow handle (vt_metric_get at the series limit) once one was asked for; 0 before.
    var overflowHandle: UInt64 = 0
    /// The help text as a C string, for the by-name calls' check of a repeated help (SeriesCache).
    let helpCString: UnsafeMutablePointer<CChar>

    init(name: String, help: String, kind: MetricKind, measure: SessionMeasure? = nil, bounds: [Double],
         exemplars: Bool = false) {
        self.exemplars = exemplars
        self.name = name
        self.help = help
        self.kind = kind
        self.measure = measure
        self.bounds = bounds
        let utf8 = Array(help.utf8)
        helpCString = .allocate(capacity: utf8.count + 1)
        for (i, byte) in utf8.enumerated() { helpCString[i] = CChar(bitPattern: byte) }
        helpCString[utf8.count] = 0
    }

    deinit { helpCString.deallocate() }

    func existingSeries(_ key: String) -> Series? { seriesByKey[key] }

    func renderedText() -> FamilyText {
        if let rendered { return rendered }
        let text = FamilyText(self)
        rendered = text
        return text
    }

    /// Its series sorted by their rendered labels (sorted again only after a series was added).
    func sortedSeries() -> [Series] {
        if sorted.count != series.count { sorted = series.sorted { $0.renderedLabels < $1.renderedLabels } }
        return sorted
    }

    func addSeries(_ labels: [Label], key: String) -> Series {
        let created = Series(labels: labels, histogramBounds: kind == .histogram ? bounds : nil, exemplars: exemplars)
        seriesByKey[key] = created
        series.append(created)
        return created
    }
}
