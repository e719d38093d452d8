// LatencyHistogram: one series of a latency family. Exact cumulative counts for the family's `le`
// bounds (the Prometheus histogram) plus a fine log-linear histogram for quantiles with at most
// 1/64 (~1.6%) relative error (the `_quantiles` summary). Lock-free: relaxed atomics only.
import Synchronization

final class LatencyHistogram: @unchecked Sendable {
    /// 32 sub-buckets per octave over the whole UInt64 range of nano-units: 1920 buckets.
    static let layout = LogLinearLayout(subBits: 5, unitShift: 0, maxValueBits: 64)

    let bounds: [Double]
    /// The latest turn per bucket (bounds.count + 1 slots), for the turn collector's families only.
    let exemplars: ExemplarSlots?
    private let boundCounts: UnsafeMutablePointer<Atomic<UInt64>>   // bounds.count + 1 (last: +Inf)
    private let fine: UnsafeMutablePointer<Atomic<UInt64>>
    private let sumBits = Atomic<UInt64>(0.0.bitPattern)
    // Non-negative doubles order like their bit patterns, so min/max are integer CAS loops.
    private let minBits = Atomic<UInt64>(Double.infinity.bitPattern)
    private let maxBits = Atomic<UInt64>(0.0.bitPattern)

    init(bounds: [Double], exemplars: Bool = false) {
        self.bounds = bounds
        self.exemplars = exemplars ? ExemplarSlots(buckets: bounds.count + 1) : nil
        boundCounts = .allocate(capacity: bounds.count + 1)
        for i in 0...bounds.count { (boundCounts + i).initialize(to: Atomic(0)) }
        fine = .allocate(capacity: Self.layout.bucketCount)
        for i in 0..<Self.layout.bucketCount { (fine + i).initialize(to: Atomic(0)) }
    }

    deinit {
        boundCounts.deallocate()
        fine.deallocate()
    }

    /// One sample: `value` in the family's unit (>= 0, finite), `nanoUnits` = value * 1e9 for the
    /// quantile histogram (callers with integer nanoseconds pass them directly). Returns the index of
    /// the `le` bucket it landed in (bounds.count for +Inf).
    @discardableResult
    func observe(_ value: Double, nanoUnits: UInt64) -> Int {
        var lo = 0
        var hi = bounds.count
        while lo < hi {   // first bound >= value ("le")
            let mid = (lo + hi) / 2
            if bounds[mid] >= value { hi = mid } else { lo = mid + 1 }
        }
        boundCounts[lo].wrappingAdd(1, ordering: .relaxed)
        fine[Self.layout.index(nanoUnits)].wrappingAdd(1, ordering: .relaxed)
        sumBits.addToDouble(value)
        minBits.storeMinimum(value.bitPattern)
        maxBits.storeMaximum(value.bitPattern)
        return lo
    }

    static func nanoUnits(_ value: Double) -> UInt64 {
        let scaled = value * 1e9
        return scaled >= 1.8e19 ? UInt64.max : UInt64(scaled.rounded())
    }

    /// Cumulative counts per bound, then the +Inf count (which is the series' _count).
    func cumulativeCounts() -> [UInt64] {
        var running: UInt64 = 0
        var result: [UInt64] = []
        result.reserveCapacity(bounds.count + 1)
        for i in 0...bounds.count {
            running &+= boundCounts[i].load(ordering: .relaxed)
            result.append(running)
        }
        return result
    }

    var sum: Double { Double(bitPattern: sumBits.load(ordering: .relaxed)) }

    /// Quantile in the family's unit, or nil while empty.
    func quantile(_ q: Double) -> Double? {
        let lo = Double(bitPattern: minBits.load(ordering: .relaxed))
        let hi = Double(bitPattern: maxBits.load(ordering: .relaxed))
        let estimate = Self.layout.quantile(
            q, counts: { fine[$0].load(ordering: .relaxed) }, minimum: lo * 1e9, maximum: hi * 1e9)
        return estimate.map { Swift.min(Swift.max($0 / 1e9, lo), hi) }
    }
}
