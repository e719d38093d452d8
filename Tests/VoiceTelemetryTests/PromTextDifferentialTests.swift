// The zero-allocation renderer (PromText, PromWriter) against the renderer it replaced
// (LegacyPromText): random registries, both formats, byte for byte. VT_DIFF_SEEDS sets how many
// registries (default 150; the rewrite was checked with 20,000).
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import VoiceTelemetry

/// SplitMix64: a reproducible stream for a seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The new renderer's text: its length asked first (no buffer), then written into a buffer of exactly
/// that length plus the NUL.
func renderedBytes(_ registry: Registry, _ format: ExpositionFormat) -> [UInt8] {
    var probe = PromWriter(buffer: nil, capacity: 0)
    PromText.render(registry, format: format, into: &probe)
    let probeFits = probe.finish()
    #expect(!probeFits, "a NULL buffer never fits")
    var buffer = [CChar](repeating: 0x55, count: probe.count + 1)
    let fits = buffer.withUnsafeMutableBufferPointer { b -> Bool in
        var out = PromWriter(buffer: b.baseAddress, capacity: b.count)
        PromText.render(registry, format: format, into: &out)
        return out.finish() && out.count == probe.count
    }
    #expect(fits, "the text fits in its length plus one")
    #expect(buffer.last == 0, "NUL-terminated")
    return buffer.dropLast().map { UInt8(bitPattern: $0) }
}

/// A registry with random families, labels, values, bounds, observations and exemplars.
enum RandomRegistry {
    static let labelKeys = ["a", "k", "le_x", "model", "quantile_y", "transport", "zz"]
    static let texts = ["", "sip", "a\"q", "back\\slash", "line\nfeed", "é", "日本語", "x y", "0.5", "+Inf", "le"]
    static let numbers: [Double] = [0, 1, 2.5, 0.1, 0.30000000000000004, 1e-5, 1e-12, 123456.789, 1e15, 1e16,
                                    9.007199254740993e15, 1e20, 1e300, .leastNonzeroMagnitude, 0.499122176, 7, 0.005]

    static func make(seed: UInt64) -> Registry {
        var rng = SeededRandom(state: seed)
        let registry = Registry(builtIn: TurnFamilies.specs)
        for f in 0..<Int.random(in: 1...10, using: &rng) { family(registry, f, &rng) }
        sessionSeries(registry, &rng)
        turnSeries(registry, &rng)
        return registry
    }

    static func text(_ rng: inout SeededRandom) -> String {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in texts.randomElement(using: &rng)! }.joined()
    }

    static func number(_ rng: inout SeededRandom) -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return numbers.randomElement(using: &rng)!
        case 1: return Double(Int.random(in: 0...100_000, using: &rng)) / 1000
        case 2: return Double.random(in: 0..<10, using: &rng)
        default: return Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)   // any finite >= 0
        }
    }

    /// Labels as Inputs.labels gives them: distinct keys, non-empty values, sorted by key.
    static func labels(_ rng: inout SeededRandom) -> [Label] {
        var keys = Array(labelKeys.shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng)))
        keys.sort()
        return keys.compactMap { key in
            let value = text(&rng)
            return value.isEmpty ? nil : Label(key: key, value: value)
        }
    }

    static func family(_ registry: Registry, _ f: Int, _ rng: inout SeededRandom) {
        let kind = [MetricKind.counter, .gauge, .histogram].randomElement(using: &rng)!
        let unit = ["", "_seconds", "_bytes", "_ratio"].randomElement(using: &rng)!
        let name = "t\(f)_\(["requests", "latency", "size", "_"].randomElement(using: &rng)!)\(unit)"
            + (kind == .counter ? "_total" : "")
        let help = "Help " + text(&rng) + (Bool.random(using: &rng) ? " \\ \" \n" : "")
        if kind == .histogram && Bool.random(using: &rng) {
            let bounds = Set((0..<Int.random(in: 1...12, using: &rng)).map { _ in number(&rng) }).sorted()
            try? registry.setBuckets(name: name, bounds: bounds)
        }
        if Int.random(in: 0..<4, using: &rng) == 0 {
            try? registry.registerLabels(name: name, keys: Array(labelKeys.shuffled(using: &rng).prefix(2)))
        }
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            guard let series = try? registry.userSeries(kind: kind, name: name, help: help, labels: labels(&rng))
            else { continue }
            for _ in 0..<Int.random(in: 0...5, using: &rng) { write(series, kind, &rng) }
        }
    }

    static func write(_ series: Series, _ kind: MetricKind, _ rng: inout SeededRandom) {
        let v = number(&rng)
        switch kind {
        case .counter: Bool.random(using: &rng) ? Series.addToCounter(series.cell, max(v, 1e-300)) : series.add(v)
        case .gauge: Bool.random(using: &rng) ? series.set(Bool.random(using: &rng) ? -v : v) : series.add(-v)
        case .histogram:
            let value = Bool.random(using: &rng) ? v : Double(Int.random(in: 0...3_000_000, using: &rng)) / 1e9
            series.histogram?.observe(value, nanoUnits: LatencyHistogram.nanoUnits(value))
        }
    }

    static func sessionSeries(_ registry: Registry, _ rng: inout SeededRandom) {
        for family in registry.sessionFamilies where Bool.random(using: &rng) {
            let l = [Label(key: "transport", value: text(&rng) + "t")]
            guard let s = registry.sessionSeries(family, sessionLabels: l) else { continue }
            s.retired = rng.next() >> UInt64.random(in: 0...63, using: &rng)
            s.liveScratch = rng.next() >> UInt64.random(in: 0...63, using: &rng)
        }
    }

    /// Turn histograms carry exemplars in OpenMetrics: random turns offered to random buckets.
    static func turnSeries(_ registry: Registry, _ rng: inout SeededRandom) {
        for spec in TurnFamilies.specs where spec.kind == .histogram && Bool.random(using: &rng) {
            guard let family = registry.families[spec.name],
                  let s = try? registry.series(of: family, labels: [Label(key: "transport", value: text(&rng) + "x")]),
                  let h = s.histogram, let slots = h.exemplars else { continue }
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let ns = UInt64.random(in: 0...20_000_000_000, using: &rng)
                let bucket = h.observe(Double(ns) / 1e9, nanoUnits: ns)
                var id = String(repeating: text(&rng) + "s", count: Int.random(in: 1...30, using: &rng))
                while id.utf8.count > 128 { id.removeLast() }   // (a session id is at most 128 bytes)
                let trace = (0..<32).map { _ in "0123456789abcdef".randomElement(using: &rng)! }
                let key = ExemplarKey(sessionID: id, traceID: String(trace))
                slots.offer(bucket: bucket, key: key, turnID: rng.next() >> UInt64.random(in: 0...63, using: &rng),
                            value: Double(ns) / 1e9, unixNs: rng.next() >> 1)
            }
        }
    }
}

@Test func newRendererWritesTheLegacyBytesForRandomRegistries() {
    let seeds = getenv("VT_DIFF_SEEDS").flatMap { UInt64(String(cString: $0)) } ?? 150
    var mismatches = 0
    var seen: [String: Int] = [:]   // what the registries exercised, so that the comparison means something
    for seed in 1...seeds {
        let registry = RandomRegistry.make(seed: seed)
        for format in [ExpositionFormat.prometheus, .openMetrics] {
            let legacy = LegacyPromText.render(registry, format: format).bytes
            let new = renderedBytes(registry, format)
            let text = String(decoding: new, as: UTF8.self)
            for needle in [" # {session_id=", " # {turn_id=", "quantile=\"0.99\"} NaN", "e-", "e+", "le=\"+Inf\"",
                           "\\\"", "\\n", "日本語", "# UNIT ", "_total{"] where text.contains(needle) {
                seen[needle, default: 0] += 1
            }
            if legacy != new {
                mismatches += 1
                if mismatches <= 3 {
                    let at = (0..<min(legacy.count, new.count)).first { legacy[$0] != new[$0] } ?? min(legacy.count, new.count)
                    Issue.record("""
                        seed \(seed), \(format): first difference at byte \(at):
                        legacy: \(String(decoding: legacy[max(at - 80, 0)..<min(at + 80, legacy.count)], as: UTF8.self))
                        new:    \(String(decoding: new[max(at - 80, 0)..<min(at + 80, new.count)], as: UTF8.self))
                        """)
                }
            }
        }
    }
    #expect(mismatches == 0, "\(mismatches) of \(2 * seeds) renders differ")
    #expect(seen.count == 11 && seen.values.allSatisfy { $0 >= 3 }, "every feature was exercised: \(seen)")
}

@Test func aBufferOneByteShortGetsNothingButTheLength() {
    let registry = RandomRegistry.make(seed: 7)
    let full = renderedBytes(registry, .prometheus)
    for cap in [0, 1, full.count / 2, full.count - 1, full.count] {
        var buffer = [CChar](repeating: 0, count: max(cap, 1))
        let (fits, count) = buffer.withUnsafeMutableBufferPointer { b -> (Bool, Int) in
            var out = PromWriter(buffer: b.baseAddress, capacity: cap)
            PromText.render(registry, format: .prometheus, into: &out)
            return (out.finish(), out.count)
        }
        #expect(count == full.count, "cap \(cap): the length is known in one pass")
        #expect(fits == false, "cap \(cap) < length + 1 does not fit")
    }
}
