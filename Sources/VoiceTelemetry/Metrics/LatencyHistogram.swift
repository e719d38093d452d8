// LatencyHistogram: one series of a latency family. Exact cumulative counts for the family's `le`
// bounds (the Prometheus histogram) plus a fine log-linear histogram for quantiles with at most
// 1/64 (~1.6%) relative error (the `_quantiles` summary). Lock-free: relaxed atomics only.
import CShims
import Synchronization

final class LatencyHistogram: @unchecked Sendable {
    /// 32 sub-buckets per octave over the whole UInt64 range of nano-units: 1920 buckets.
    static let layout = LogLinearLayout(subBits: 5, unitShift: 0, maxValueBits: 64)

    let bounds: [Double]
    /// A copy of `bounds` (and its count) the observe path searches without an array's checks.
    private let boundValues: UnsafeMutablePointer<Double>
    private let boundCount: Int
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
        boundValues = .allocate(capacity: max(bounds.count, 1))
        boundValues.initialize(from: bounds, count: bounds.count)
        boundCount = bounds.count
        self.exemplars = exemplars ? ExemplarSlots(buckets: bounds.count + 1) : nil
        boundCounts = .allocate(capacity: bounds.count + 1)
        for i in 0...bounds.count { (boundCounts + i).initialize(to: Atomic(0)) }
        fine = .allocate(capacity: Self.layout.bucketCount)
        for i in 0..<Self.layout.bucketCount { (fine + i).initialize(to: Atomic(0)) }
    }

    deinit {
        boundValues.deallocate()
        boundCounts.deallocate()
        fine.deallocate()
    }

    /// One sample: `value` in the family's unit (>= 0, finite), `nanoUnits` = value * 1e9 for the
    /// quantile histogram (callers with integer nanoseconds pass them directly). Returns the index of
    /// the `le` bucket it landed in (bounds.count for +Inf).
    @discardableResult
    func observe(_ value: Double, nanoUnits: UInt64) -> Int {
        // The sum first: its compare-and-swap waits for the load before it, which then overlaps the
        // bucket search instead of following the two increments.
        sumBits.addToDouble(value)
        minBits.storeMinimum(value.bitPattern)
        maxBits.storeMaximum(value.bitPattern)
        var lo = 0
        var hi = boundCount
        while lo < hi {   // first bound >= value ("le"); lo <= mid < hi <= boundCount
            let mid = (lo &+ hi) &>> 1
            if boundValues[mid] >= value { hi = mid } else { lo = mid &+ 1 }
        }
        boundCounts[lo].wrappingAdd(1, ordering: .relaxed)
        fine[Self.layout.index(nanoUnits)].wrappingAdd(1, ordering: .relaxed)
        return lo
    }

    /// value * 1e9 rounded to the nearest integer, halves away from zero (as `rounded()`, without its
    /// libm call: below 2^52 the fraction is exact, above it every double is an integer), UInt64.max
    /// from 1.8e19 up. value >= 0.
    @inline(__always)
    static func nanoUnits(_ value: Double) -> UInt64 {
        let scaled = value * 1e9
        guard scaled < 0x1p63 else { return scaled < 1.8e19 ? UInt64(scaled) : UInt64.max }
        let whole = shim_whole(scaled)   // 0 <= scaled < 2^63: one signed conversion each way
        return UInt64(truncatingIfNeeded: scaled - Double(whole) >= 0.5 ? whole &+ 1 : whole)
    }

    var sum: Double { Double(bitPattern: sumBits.load(ordering: .relaxed)) }

    /// The count of `le` bucket `i` alone (bounds.count: +Inf), not cumulative.
    @inline(__always)
    func bucketCount(_ i: Int) -> UInt64 { boundCounts[i].load(ordering: .relaxed) }

    /// The count of fine bucket `i` (for the legacy renderer of the tests).
    func fineCount(_ i: Int) -> UInt64 { fine[i].load(ordering: .relaxed) }

    /// The smallest and largest sample (+Inf and 0 while empty).
    var minimum: Double { Double(bitPattern: minBits.load(ordering: .relaxed)) }
    var maximum: Double { Double(bitPattern: maxBits.load(ordering: .relaxed)) }

    /// The four summary quantiles (LatencySummary.quantileLevels) into `out`, NaN while empty: the
    /// values the legacy renderer's quantile(_:) gives (nearest rank over the fine buckets, the
    /// bucket's midpoint clamped to [min, max]), in one pass that starts at the smallest sample's
    /// bucket. The rank total is the `le` buckets' count: observe adds to one `le` bucket and one fine
    /// bucket, so both totals agree whenever no sample is being recorded at that moment.
    func quantiles(into out: UnsafeMutablePointer<Double>) {
        var total: UInt64 = 0
        for i in 0...bounds.count { total &+= boundCounts[i].load(ordering: .relaxed) }
        let lo = minimum
        let hi = maximum
        guard total > 0, lo <= hi else {
            for i in 0..<4 { out[i] = .nan }
            return
        }
        let layout = Self.layout
        // Every sample's fine bucket is within one of its value's (observers pass nanoUnits(value) or
        // the integer nanoseconds the value came from).
        var i = max(layout.index(Self.nanoUnits(lo)) - 1, 0)
        var seen: UInt64 = 0
        for (j, q) in LatencySummary.quantileLevels.enumerated() {
            let rank = min(max(UInt64((q * Double(total)).rounded(.up)), 1), total)
            while seen < rank && i < layout.bucketCount {
                seen &+= fine[i].load(ordering: .relaxed)
                i += 1
            }
            guard seen >= rank else {   // (counts moved under the scan) the legacy fallback: the maximum
                out[j] = hi
                continue
            }
            let (lower, width) = layout.bounds(i - 1)
            let estimate = Swift.min(Swift.max(lower + width / 2, lo * 1e9), hi * 1e9)
            out[j] = Swift.min(Swift.max(estimate / 1e9, lo), hi)
        }
    }
}
