// Quantile accuracy of the log-linear histograms against exact quantiles of random samples.
import Testing
@testable import VoiceTelemetry

/// Exact nearest-rank quantile of sorted samples.
private func exactQuantile(_ sorted: [UInt64], _ q: Double) -> Double {
    var rank = Int((q * Double(sorted.count)).rounded(.up))
    rank = min(max(rank, 1), sorted.count)
    return Double(sorted[rank - 1])
}

/// Deterministic xorshift so failures reproduce.
private struct XorShift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

private func check(layout: LogLinearLayout, bound: Double, seed: UInt64, samples n: Int,
                   draw: (inout XorShift) -> UInt64) -> Double {
    var rng = XorShift(state: seed)
    var counts = [UInt64](repeating: 0, count: layout.bucketCount)
    var values: [UInt64] = []
    for _ in 0..<n {
        let v = draw(&rng)
        values.append(v)
        counts[layout.index(v)] += 1
    }
    values.sort()
    var worst = 0.0
    for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
        let estimate = layout.quantile(q, counts: { counts[$0] }, minimum: Double(values.first!),
                                       maximum: Double(values.last!))!
        let exact = exactQuantile(values, q)
        let error = abs(estimate - exact) / exact
        worst = max(worst, error)
        #expect(error <= bound, "q\(q): estimate \(estimate) vs exact \(exact), error \(error) > \(bound)")
    }
    return worst
}

@Test func processHistogramQuantilesStayWithinTwoPercent() {
    let layout = LatencyHistogram.layout
    #expect(layout.relativeErrorBound == 1.0 / 64)
    for seed in 1...20 as ClosedRange<UInt64> {
        // Log-uniform latencies from 1 ms to 100 s, in nanoseconds.
        _ = check(layout: layout, bound: 0.02, seed: seed, samples: 5000) { rng in
            let exponent = Double.random(in: 6...11, using: &rng)
            return UInt64(pow10(exponent))
        }
        // Voice-like: 300-900 ms uniform.
        _ = check(layout: layout, bound: 0.02, seed: seed &+ 100, samples: 2000) { rng in
            UInt64.random(in: 300_000_000...900_000_000, using: &rng)
        }
    }
}

@Test func sessionHistogramQuantilesStayWithinTheStatedBound() {
    let layout = SessionLatency.layout
    #expect(layout.relativeErrorBound == 1.0 / 16)   // the 6.25% the header states
    #expect(layout.bucketCount == 240)
    for seed in 1...20 as ClosedRange<UInt64> {
        _ = check(layout: layout, bound: 0.0625, seed: seed, samples: 500) { rng in
            UInt64(pow10(Double.random(in: 4...12, using: &rng)))   // 10 us to 1000 s
        }
    }
}

@Test func bucketBoundsContainTheirValues() {
    for layout in [LatencyHistogram.layout, SessionLatency.layout] {
        var rng = XorShift(state: 7)
        for _ in 0..<10_000 {
            let v = rng.next() >> UInt64.random(in: 0...63, using: &rng)
            let idx = layout.index(v)
            #expect(idx >= 0 && idx < layout.bucketCount)
            let (lower, width) = layout.bounds(idx)
            let lastBucket = idx == layout.bucketCount - 1
            #expect(Double(v) >= lower && (lastBucket || Double(v) < lower + width),
                    "value \(v) outside bucket \(idx) [\(lower), \(lower + width))")
        }
    }
}

@Test func emptyHistogramHasNoQuantile() {
    let layout = SessionLatency.layout
    #expect(layout.quantile(0.5, counts: { _ in 0 }, minimum: 0, maximum: 0) == nil)
}

private func pow10(_ x: Double) -> Double {
    // exp(x ln 10) without Foundation.
    var result = 1.0
    var base = 10.0
    var n = Int(x)
    let frac = x - Double(n)
    while n > 0 {
        if n & 1 == 1 { result *= base }
        base *= base
        n >>= 1
    }
    // 10^frac by a short series of 2^(frac*log2(10)) is overkill: interpolate on a fine grid instead.
    return result * exp10Fraction(frac)
}

private func exp10Fraction(_ f: Double) -> Double {
    // Taylor series of e^(f ln 10), converges quickly for f in [0, 1).
    let y = f * 2.302585092994046
    var term = 1.0
    var sum = 1.0
    for k in 1..<30 {
        term *= y / Double(k)
        sum += term
    }
    return sum
}

/// The bucket of `value` computed the slow way: its octave from a loop, no wrapping operators.
private func referenceIndex(_ layout: LogLinearLayout, _ value: UInt64) -> Int {
    let units = value >> UInt64(layout.unitShift)
    let m = UInt64(1) << UInt64(layout.subBits)
    if units < m { return Int(units) }
    var k = layout.subBits
    while k < 63 && units >> UInt64(k + 1) != 0 { k += 1 }
    let sub = Int(units >> UInt64(k - layout.subBits)) - Int(m)
    return min(Int(m) + (k - layout.subBits) * Int(m) + sub, layout.bucketCount - 1)
}

@Test func bucketIndexAgreesWithTheSlowWayAtEveryOctaveEdge() {
    let layouts = [LatencyHistogram.layout, LogLinearLayout(subBits: 4, unitShift: 10, maxValueBits: 50)]
    for layout in layouts {
        var values: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1]
        for bit in 0..<64 {
            let edge = UInt64(1) << UInt64(bit)
            values += [edge, edge - 1, edge + 1, edge | (edge >> 1)]
        }
        var rng = XorShift(state: 7)
        for _ in 0..<10_000 { values.append(rng.next() >> (rng.next() % 64)) }
        for v in values {
            #expect(layout.index(v) == referenceIndex(layout, v), "value \(v)")
        }
    }
}

@Test func nanoUnitsRoundsHalvesAwayFromZeroAndSaturates() {
    var rng = XorShift(state: 11)
    var values: [Double] = [0, 0.5e-9, 1.5e-9, 2.5e-9, 0.25, 1, 9.2e9, 9.3e9, 1.79e10, 1.8e10, 2e10, 1e300,
                            .leastNonzeroMagnitude, .greatestFiniteMagnitude]
    for _ in 0..<10_000 {
        values.append(Double(bitPattern: rng.next() % 0x4330_0000_0000_0000))   // 0 up to 2^52
    }
    for v in values {
        let scaled = v * 1e9
        let expected = scaled >= 1.8e19 ? UInt64.max : UInt64(scaled.rounded())
        #expect(LatencyHistogram.nanoUnits(v) == expected, "value \(v)")
    }
}
