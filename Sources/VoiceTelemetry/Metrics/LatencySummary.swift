// LatencySummary: what a snapshot shows of one latency distribution (a session's latency kind or a
// histogram series).

/// What a snapshot shows of one latency kind (values in the unit the producer chose).
struct LatencySummary {
    static let quantileLevels: [Double] = [0.5, 0.9, 0.95, 0.99]
    static let quantileNames = ["p50", "p90", "p95", "p99"]

    var count: UInt64
    var sum: Double = 0
    var min: Double = 0
    var max: Double = 0
    var last: Double = 0
    var quantiles: [Double?] = []

    var average: Double? { count > 0 ? sum / Double(count) : nil }
}
