// TickCalibrator: the line that turns counter ticks into CLOCK_MONOTONIC nanoseconds, driven by
// scripted samples (a 3 GHz counter, a clock that runs fast or jumps).
import Testing
@testable import VoiceTelemetry

/// A 3 GHz counter: ticks at `ns` nanoseconds of the counter's own time.
private func ticks(_ ns: UInt64) -> UInt64 { 1_000_000 + ns * 3 }

@Test func noLineUntilTwoSamplesTenMillisecondsApart() {
    var calibrator = TickCalibrator()
    #expect(calibrator.add(ticks: ticks(0), ns: 5_000_000_000) == nil)
    #expect(calibrator.add(ticks: ticks(9_999_999), ns: 5_009_999_999) == nil, "9.99 ms: too short a span")
    let line = calibrator.add(ticks: ticks(20_000_000), ns: 5_020_000_000)
    #expect(line != nil)
    // A third of a nanosecond per tick: the line reproduces the clock (to the rounding of 32.32).
    for ns: UInt64 in [20_000_000, 20_000_001, 30_000_000, 39_999_999] {
        let got = line!.ns(at: ticks(ns))
        #expect(got >= 5_000_000_000 + ns - 1 && got <= 5_000_000_000 + ns + 1, "at \(ns): \(got)")
    }
    #expect(calibrator.horizonTicks == 60_000_000, "20 ms of a 3 GHz counter")
}

@Test func redrawnLinesAreContinuousAndFollowAClockThatChangesRate() {
    // The clock keeps the counter's rate for 2 s, then runs 50 ppm fast (NTP starts slewing); a
    // sample every horizon (20 ms) for 6 s. Each redraw starts where the old line stood (continuous,
    // monotonic) and the error is slewed away instead of jumped over.
    var calibrator = TickCalibrator()
    func clock(_ ns: UInt64) -> UInt64 { 7_000_000_000 + (ns < 2_000_000_000 ? ns : ns + (ns - 2_000_000_000) / 20_000) }
    var worstWhileChanging: UInt64 = 0, worstAfter: UInt64 = 0
    for k in 0...300 {
        let at = UInt64(k) * 20_000_000
        let before = calibrator.line
        guard let line = calibrator.add(ticks: ticks(at), ns: clock(at)) else {
            #expect(k == 0, "only the first sample gives no line")
            continue
        }
        guard let before else { continue }
        #expect(line.baseNs == before.ns(at: ticks(at)), "redraw \(k) starts where the old line stood")
        #expect(line.ns(at: ticks(at + 1)) >= before.ns(at: ticks(at)), "redraw \(k) is monotonic")
        for step: UInt64 in [1, 5_000_000, 10_000_000, 19_999_999] {
            let got = line.ns(at: ticks(at + step)), want = clock(at + step)
            let error = got > want ? got - want : want - got
            if k < 200 { worstWhileChanging = max(worstWhileChanging, error) } else { worstAfter = max(worstAfter, error) }
        }
    }
    #expect(worstWhileChanging <= 1_010, "while the clock's rate changes (50 ppm of 20 ms, and rounding): \(worstWhileChanging) ns")
    #expect(worstWhileChanging >= 500, "the change is felt (the test drives what it means to)")
    #expect(worstAfter <= 100, "once the rate is steady again: \(worstAfter) ns")
}

@Test func smallErrorsAreSlewedAndACounterThatJumpsRestartsTheLine() {
    var calibrator = TickCalibrator()
    _ = calibrator.add(ticks: ticks(0), ns: 1_000_000_000)
    let first = calibrator.add(ticks: ticks(20_000_000), ns: 1_020_000_000)!
    // 30 µs off (under the 50 µs limit): slewed, the new line starts where the old one stood.
    let slewed = calibrator.add(ticks: ticks(40_000_000), ns: 1_040_030_000)!
    #expect(slewed.baseNs == first.ns(at: ticks(40_000_000)))
    #expect(slewed.baseNs != 1_040_030_000)
    // The VM was paused for 80 µs the clock saw but the counter did not: the line jumps to the clock.
    let jumped = calibrator.add(ticks: ticks(60_000_000), ns: 1_060_110_000)!
    #expect(jumped.baseNs == 1_060_110_000)
    // The counter going back (a restored snapshot): nothing measured holds any more.
    #expect(calibrator.add(ticks: ticks(50_000_000), ns: 1_300_000_000) == nil)
    #expect(calibrator.horizonTicks == 0)
}

@Test func implausibleRatesAreNotTrusted() {
    var calibrator = TickCalibrator()
    _ = calibrator.add(ticks: 1_000, ns: 1_000_000_000)
    #expect(calibrator.add(ticks: 1_001, ns: 1_020_000_000) == nil, "20 ms in one tick: not a counter")
    var slow = TickCalibrator()
    _ = slow.add(ticks: 1_000, ns: 1_000_000_000)
    #expect(slow.add(ticks: 1_000 + (1 << 62), ns: 1_020_000_000) == nil, "2^62 ticks in 20 ms: not a counter")
}

@Test func lineArithmeticHoldsForLongSpans() {
    // 2^40 ticks at 1/3 ns each: the 128-bit product keeps it exact to the fixed point's rounding.
    let line = TickLine(baseTicks: 5, baseNs: 10, nsPerTickQ32: 1_431_655_765)   // 1/3 * 2^32
    let got = line.ns(at: 5 + (1 << 40))
    let want = 10 + UInt64((Double(1 << 40) / 3).rounded(.down))
    #expect(got <= want && want - got <= 256, "\(got) vs \(want)")
}

@Test func tickClockAgreesWithTheClock() {
    // On this machine's real clock, for 300 ms (three redraws, if the counter is used at all): every
    // reading lies between clock_gettime just before and just after it, give or take 1 µs, and
    // readings never go back.
    let clock = TickClock()
    let start = Clock.nowNs()
    var last: UInt64 = 0
    var outside = 0, backwards = 0, readings = 0
    while Clock.nowNs() - start < 300_000_000 {
        let before = Clock.nowNs()
        let now = clock.nowNs()
        let after = Clock.nowNs()
        if now + 1_000 < before || now > after + 1_000 { outside += 1 }
        if now < last { backwards += 1 }
        last = now
        readings += 1
    }
    #expect(readings > 1_000)
    #expect(outside == 0)
    #expect(backwards == 0)
}
