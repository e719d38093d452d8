// Compare-exchange loops shared by the statistics: running minimum, running maximum, and a Double
// kept as its bit pattern (relaxed: each is one statistic, read on its own).
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
