// SessionLatency: count, sum, min, max, last and a small log-linear histogram of one latency kind of
// one session, all in relaxed atomics. Written only under the session's writer guard (so a slot reuse
// never sees a half-written sample); read by snapshots at any time.
import Synchronization

struct SessionLatency: ~Copyable {
    /// 8 sub-buckets per octave on ~1 us units up to ~71 minutes: 240 buckets of 4 bytes.
    static let layout = LogLinearLayout(subBits: 3, unitShift: 10, maxValueBits: 42)

    let count = Atomic<UInt64>(0)
    /// The sum of the samples, a Double's bit pattern: a sample may be up to 2^64 - 1 ns, so a UInt64
    /// sum would wrap after two extreme ones; a Double is exact up to 2^53 ns (104 days) and never
    /// wraps.
    let sumBits = Atomic<UInt64>(0.0.bitPattern)
    let minNs = Atomic<UInt64>(UInt64.max)
    let maxNs = Atomic<UInt64>(0)
    let lastNs = Atomic<UInt64>(0)
    let buckets: UnsafeMutablePointer<Atomic<UInt32>>

    init() {
        buckets = .allocate(capacity: Self.layout.bucketCount)
        for i in 0..<Self.layout.bucketCount { (buckets + i).initialize(to: Atomic(0)) }
    }

    deinit { buckets.deallocate() }

    borrowing func record(_ ns: UInt64) {
        buckets[Self.layout.index(ns)].wrappingAdd(1, ordering: .relaxed)
        sumBits.addToDouble(Double(ns))
        lastNs.store(ns, ordering: .relaxed)
        minNs.storeMinimum(ns)
        maxNs.storeMaximum(ns)
        count.wrappingAdd(1, ordering: .relaxed)
    }

    /// Back to empty; only while no writer can be inside (slot closed, guard drained).
    borrowing func reset() {
        count.store(0, ordering: .relaxed)
        sumBits.store(0.0.bitPattern, ordering: .relaxed)
        minNs.store(UInt64.max, ordering: .relaxed)
        maxNs.store(0, ordering: .relaxed)
        lastNs.store(0, ordering: .relaxed)
        for i in 0..<Self.layout.bucketCount { buckets[i].store(0, ordering: .relaxed) }
    }

    /// A plain copy of the statistics, in nanoseconds.
    borrowing func read() -> LatencySummary {
        let n = count.load(ordering: .relaxed)
        guard n > 0 else { return LatencySummary(count: 0) }
        let lo = Double(minNs.load(ordering: .relaxed))
        let hi = Double(maxNs.load(ordering: .relaxed))
        var quantiles: [Double?] = []
        for q in LatencySummary.quantileLevels {
            quantiles.append(Self.layout.quantile(
                q, counts: { UInt64(buckets[$0].load(ordering: .relaxed)) }, minimum: lo, maximum: hi))
        }
        return LatencySummary(
            count: n, sum: Double(bitPattern: sumBits.load(ordering: .relaxed)), min: lo, max: hi,
            last: Double(lastNs.load(ordering: .relaxed)), quantiles: quantiles)
    }
}

