// LogLinearLayout: the bucket arithmetic of a fixed-memory log-linear histogram (HdrHistogram style).
//
// Values are unsigned integers. After dropping `unitShift` low bits, values below M = 2^subBits have a
// bucket each; above that every power-of-two octave [2^k, 2^(k+1)) is cut into M equal buckets. A
// bucket's midpoint is within 1/(2M) of any value in it (relative), for values of at least M units.
// Octaves beyond `octaves` fold into the last bucket; callers keep an exact max to clamp estimates.

struct LogLinearLayout: Sendable {
    let subBits: Int
    let unitShift: Int
    let bucketCount: Int

    init(subBits: Int, unitShift: Int, maxValueBits: Int) {
        self.subBits = subBits
        self.unitShift = unitShift
        let m = 1 << subBits
        bucketCount = m + (maxValueBits - unitShift - subBits) * m
    }

    /// The relative error bound of an estimate: 1 / (2 * 2^subBits).
    var relativeErrorBound: Double { 1.0 / Double(2 << subBits) }

    @inline(__always)
    func index(_ value: UInt64) -> Int {
        let units = value >> UInt64(unitShift)
        let m = UInt64(1) << UInt64(subBits)
        if units < m { return Int(units) }
        // units >= m > 0, so subBits <= k <= 63 and every step below stays in range (wrapping
        // operators: no overflow checks on the observe path).
        let k = 63 &- units.leadingZeroBitCount
        let sub = Int(truncatingIfNeeded: units &>> UInt64(k &- subBits)) &- Int(m)
        let idx = Int(m) &+ (k &- subBits) &* Int(m) &+ sub
        return idx < bucketCount ? idx : bucketCount &- 1
    }

    /// Lower bound and width of bucket `idx`, in value units (not shifted units).
    func bounds(_ idx: Int) -> (lower: Double, width: Double) {
        let m = 1 << subBits
        let scale = Double(UInt64(1) << UInt64(unitShift))
        if idx < m { return (Double(idx) * scale, scale) }
        let j = idx - m
        let shift = j / m
        let sub = j % m
        let width = Double(UInt64(1) << UInt64(shift)) * scale
        return (Double(m + sub) * width, width)
    }

    /// Nearest-rank quantile `q` from bucket counts: the midpoint of the bucket holding rank
    /// ceil(q * total), clamped to the exact [minimum, maximum]. nil when there are no samples.
    func quantile(_ q: Double, counts: (Int) -> UInt64, minimum: Double, maximum: Double) -> Double? {
        var total: UInt64 = 0
        for i in 0..<bucketCount { total &+= counts(i) }
        guard total > 0 else { return nil }
        var rank = UInt64((q * Double(total)).rounded(.up))
        if rank < 1 { rank = 1 }
        if rank > total { rank = total }
        var seen: UInt64 = 0
        for i in 0..<bucketCount {
            seen &+= counts(i)
            if seen >= rank {
                let (lower, width) = bounds(i)
                let estimate = lower + width / 2
                return Swift.min(Swift.max(estimate, minimum), maximum)
            }
        }
        return maximum
    }
}
