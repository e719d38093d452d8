// Compare-exchange loops shared by the statistics: running minimum, running maximum, a Double kept
// as its bit pattern, and a saturating total (relaxed: each is one statistic, read on its own).
import Synchronization

extension Atomic where Value == UInt64 {
    /// Lower the value to `candidate` if that is smaller.
    @inline(__always)
    func storeMinimum(_ candidate: UInt64) {
        var current = load(ordering: .relaxed)
        while candidate < current {
            let (done, seen) = weakCompareExchange(expected: current, desired: candidate, ordering: .relaxed)
            if done { return }
            current = seen
        }
    }

    /// Raise the value to `candidate` if that is larger.
    @inline(__always)
    func storeMaximum(_ candidate: UInt64) {
        var current = load(ordering: .relaxed)
        while candidate > current {
            let (done, seen) = weakCompareExchange(expected: current, desired: candidate, ordering: .relaxed)
            if done { return }
            current = seen
        }
    }

    /// Add `delta` to the Double whose bit pattern the value holds.
    @inline(__always)
    func addToDouble(_ delta: Double) {
        var current = load(ordering: .relaxed)
        while true {
            let desired = (Double(bitPattern: current) + delta).bitPattern
            let (done, seen) = weakCompareExchange(expected: current, desired: desired, ordering: .relaxed)
            if done { return }
            current = seen
        }
    }
}

extension Atomic where Value == Int64 {
    /// Add `delta` (>= 0), stopping at Int64.max instead of wrapping.
    @inline(__always)
    func saturatingAdd(_ delta: Int64) {
        var current = load(ordering: .relaxed)
        while true {
            let (sum, overflow) = current.addingReportingOverflow(delta)
            let (done, seen) = weakCompareExchange(expected: current, desired: overflow ? .max : sum, ordering: .relaxed)
            if done { return }
            current = seen
        }
    }
}
