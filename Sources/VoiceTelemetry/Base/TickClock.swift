// TickClock: "now" on CLOCK_MONOTONIC for event timestamps (vt_emit with t_ns = 0), read from the
// CPU's time-stamp counter and converted on a line calibrated against clock_gettime.
//
// Why: clock_gettime costs about 25 ns here (the vDSO orders its counter read with a fence); the
// counter alone about 10 ns, and vt_emit's whole budget is about 100 ns. Tracers that stamp every
// event (LTTng, Quill, NanoLog) do the same.
//
// Only where the kernel keeps CLOCK_MONOTONIC on that same counter (x86-64 with clocksource "tsc":
// constant rate, synchronised across CPUs). Anywhere else nowNs() is Clock.nowNs().
//
// The line: ns = baseNs + (ticks - baseTicks) * nsPerTick. It is valid for one horizon (20 ms) of
// ticks; the first caller past that reads the clock and redraws it (TickCalibrator): from the old
// line's value at that instant, so readings stay continuous and monotonic, with a slope that meets
// the true clock one horizon later (the error is slewed away, as the kernel slews for NTP). The rate
// comes from the oldest of the last 16 samples (up to 320 ms apart): while the clock's rate is steady
// the line stays within tens of nanoseconds of clock_gettime (timestamps are rendered in
// microseconds); if NTP changed it by 50 ppm at once, the line is up to 1 µs off for a few horizons
// (tested). An error over 50 µs (the counter jumped: a VM restored or migrated) restarts the
// line at the true clock.
//
// The line is published under a sequence lock: readers never wait; a reader that meets a redraw in
// progress, or a line out of date, reads the clock itself.
import CShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// ns = baseNs + (ticks - baseTicks) * nsPerTickQ32 / 2^32.
struct TickLine: Equatable {
    var baseTicks: UInt64
    var baseNs: UInt64
    /// Nanoseconds per tick, 32.32 fixed point.
    var nsPerTickQ32: UInt64

    /// The time at `ticks` (at or after baseTicks: callers check).
    @inline(__always)
    func ns(at ticks: UInt64) -> UInt64 {
        let (high, low) = (ticks &- baseTicks).multipliedFullWidth(by: nsPerTickQ32)
        return baseNs &+ (high << 32 | low >> 32)
    }
}

/// The calibration: samples of the counter and the clock taken together, and the line they give.
/// A pure value (the tests drive it with made-up clocks).
struct TickCalibrator {
    static let horizonNs: UInt64 = 20_000_000
    /// Samples closer than this give no rate yet.
    static let minSpanNs: UInt64 = 10_000_000
    /// Past this error the line restarts at the true clock instead of slewing.
    static let resetErrorNs: Int64 = 50_000
    static let history = 16

    private(set) var line: TickLine?
    /// Ticks the line stays valid for (one horizon).
    private(set) var horizonTicks: UInt64 = 0
    /// At most history + 1 (reserved up front: adding a sample never allocates).
    private var samples: [(ticks: UInt64, ns: UInt64)]

    init() {
        samples = []
        samples.reserveCapacity(Self.history + 1)
    }

    /// Add a sample taken at `ticks` (the counter) and `ns` (clock_gettime); returns the line.
    mutating func add(ticks: UInt64, ns: UInt64) -> TickLine? {
        if let last = samples.last, ticks <= last.ticks || ns <= last.ns {
            // The counter (or the clock) went back: nothing measured so far holds.
            samples.removeAll(keepingCapacity: true)
            line = nil
            horizonTicks = 0
        }
        samples.append((ticks, ns))
        if samples.count > Self.history { samples.removeFirst() }
        let oldest = samples[0]
        guard ns &- oldest.ns >= Self.minSpanNs else { return line }
        let nsPerTick = Double(ns &- oldest.ns) / Double(ticks &- oldest.ticks)
        guard nsPerTick >= 0.01 && nsPerTick <= 100 else {
            // Not a counter of 10 MHz...100 GHz: do not trust it (readers take the clock).
            line = nil
            horizonTicks = 0
            return nil
        }
        let horizon = Double(Self.horizonNs) / nsPerTick
        horizonTicks = UInt64(horizon)
        if let old = line, ticks &- old.baseTicks <= 4 &* horizonTicks {
            let now = old.ns(at: ticks)
            let error = Int64(bitPattern: ns &- now)
            if error.magnitude <= Self.resetErrorNs.magnitude {
                // From the old line's value, aimed at the clock one horizon from now.
                let slope = (Double(Self.horizonNs) + Double(error)) / horizon
                line = TickLine(baseTicks: ticks, baseNs: now, nsPerTickQ32: Self.q32(slope))
                return line
            }
        }
        line = TickLine(baseTicks: ticks, baseNs: ns, nsPerTickQ32: Self.q32(nsPerTick))
        return line
    }

    private static func q32(_ nsPerTick: Double) -> UInt64 {
        let q = nsPerTick * 4_294_967_296
        return q >= 1 && q < 1.8e19 ? UInt64(q) : 1
    }
}

/// The process's tick clock (EventBus.shared.tickClock).
final class TickClock: @unchecked Sendable {
    /// The counter is usable at all (see the file's header).
    let enabled: Bool
    // The published line: even version = stable, odd = being redrawn.
    private let version = Atomic<UInt64>(0)
    private let baseTicks = Atomic<UInt64>(0)
    private let baseNs = Atomic<UInt64>(0)
    private let nsPerTickQ32 = Atomic<UInt64>(0)
    private let validTicks = Atomic<UInt64>(0)   // 0: no line (every read takes the clock)
    /// The clock reading of the last sample (the next one is due minSpanNs later while no line exists).
    private let lastSampleNs = Atomic<UInt64>(0)
    /// Written only by the thread holding an odd version.
    private var calibrator = TickCalibrator()

    init() {
        enabled = Self.kernelClockIsTheCounter()
    }

    /// CLOCK_MONOTONIC now, in nanoseconds (within tens of nanoseconds of Clock.nowNs()).
    @inline(__always)
    func nowNs() -> UInt64 {
        guard enabled else { return Clock.nowNs() }
        let v = version.load(ordering: .acquiring)
        let line = TickLine(baseTicks: baseTicks.load(ordering: .relaxed), baseNs: baseNs.load(ordering: .relaxed),
                            nsPerTickQ32: nsPerTickQ32.load(ordering: .relaxed))
        let valid = validTicks.load(ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiring)
        let ticks = shim_ticks()
        let stable = v & 1 == 0 && version.load(ordering: .relaxed) == v
        if stable, ticks &- line.baseTicks < valid { return line.ns(at: ticks) }
        return redraw(from: stable && valid != 0 ? line : nil, validTicks: valid, version: v)
    }

    /// The line `current` (nil: none, or it was being redrawn) is out of date: read the clock and
    /// redraw the line, unless another thread is at it.
    @inline(never)
    private func redraw(from current: TickLine?, validTicks valid: UInt64, version v: UInt64) -> UInt64 {
        let before = shim_ticks()
        let ns = Clock.nowNs()
        let after = shim_ticks()
        // No redraw now: stay on the current line while it is only a few horizons old (readings
        // stay continuous), else the clock.
        func withoutRedraw() -> UInt64 {
            if let current, after &- current.baseTicks < 4 &* valid { return current.ns(at: after) }
            return ns
        }
        // A sample is good only if nothing came between its two counter reads (an interrupt, a
        // preemption): clock_gettime itself takes well under 2,000 ticks.
        guard after &- before < 2_000 else { return withoutRedraw() }
        if current == nil, ns &- lastSampleNs.load(ordering: .relaxed) < TickCalibrator.minSpanNs { return ns }
        guard v & 1 == 0, version.compareExchange(expected: v, desired: v &+ 1, ordering: .acquiring).exchanged else {
            return withoutRedraw()
        }
        let ticks = before &+ (after &- before) / 2
        let line = calibrator.add(ticks: ticks, ns: ns)
        lastSampleNs.store(ns, ordering: .relaxed)
        if let line {
            baseTicks.store(line.baseTicks, ordering: .relaxed)
            baseNs.store(line.baseNs, ordering: .relaxed)
            nsPerTickQ32.store(line.nsPerTickQ32, ordering: .relaxed)
            validTicks.store(calibrator.horizonTicks, ordering: .relaxed)
        } else {
            validTicks.store(0, ordering: .relaxed)
        }
        version.store(v &+ 2, ordering: .releasing)
        // The new line starts at the old one's value: continuous with what readers saw before.
        return line.map { $0.ns(at: ticks) } ?? ns
    }

    /// In a child after fork: a redraw another thread held (odd version) is abandoned, with its line.
    func forgetAfterFork() {
        let v = version.load(ordering: .relaxed)
        guard v & 1 == 1 else { return }
        validTicks.store(0, ordering: .relaxed)
        version.store(v &+ 1, ordering: .releasing)
    }

    /// True on x86-64 when the kernel's clocksource is "tsc" (so the counter is the clock's own).
    private static func kernelClockIsTheCounter() -> Bool {
        guard shim_ticks() != 0 else { return false }   // no counter on this architecture
        let fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = (UInt64(0), UInt64(0))
        let n = withUnsafeMutableBytes(of: &buffer) { read(fd, $0.baseAddress, $0.count) }
        guard n == 4 else { return false }
        return withUnsafeBytes(of: &buffer) { Array($0.prefix(4)) } == Array("tsc\n".utf8)
    }
}
