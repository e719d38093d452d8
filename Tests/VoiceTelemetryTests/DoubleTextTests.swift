// DoubleText writes what Double.description writes, without allocating: specific values, powers of two
// and their neighbours, decimal fractions and random values of every magnitude the fast path takes.
import Testing
@testable import VoiceTelemetry

private func written(_ v: Double) -> String {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DoubleText.maxLength) { buffer in
        String(decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: DoubleText.write(v, to: buffer.baseAddress!)),
               as: UTF8.self)
    }
}

@Test func doubleTextOfChosenValuesIsTheirDescription() {
    let values: [Double] = [0.1, 0.2, 0.1 + 0.2, 1e-5, 1e-4, 0.00011, 1e15, 1e15 + 0.5, 0x1p52, 0x1p52 + 1, 0x1p53 - 1,
                            0x1p53, 0.499122176, 2.55, 1.5e-7, 1e-10, 9.999999999e-11, 1.0000000000000002,
                            123456789012.34567, 9.999999999999999, 0.009999999999999998, 100.5, 5e-324, 1e300,
                            .infinity, -.infinity, .nan, 0, -0.0]
    for v in values + values.map({ -$0 }) {
        #expect(written(v) == v.description, "\(v.bitPattern)")
    }
    #expect(written(1.5e-7) == "1.5e-07" && written(0.0025) == "0.0025" && written(1e15) == "1000000000000000.0")
}

@Test func doubleTextOfPowersOfTwoAndNeighboursIsTheirDescription() {
    for e in -34...53 {
        let p = Double(sign: .plus, exponent: e, significand: 1)
        for v in [p, p.nextUp, p.nextDown, p.nextUp.nextUp, 3 * p / 2] {
            #expect(written(v) == v.description, "\(v.bitPattern)")
        }
    }
}

@Test func doubleTextOfRandomValuesIsTheirDescription() {
    var rng = SeededRandom(state: 20261202)
    var mismatches = 0
    for i in 0..<300_000 {
        let v: Double
        switch i % 5 {
        case 0: v = Double(bitPattern: rng.next())
        case 1: v = Double.random(in: 1e-10..<1e-3, using: &rng)
        case 2: v = Double.random(in: 0..<1e15, using: &rng)
        case 3: v = Double(Int.random(in: 0..<1_000_000, using: &rng)) / 1000 + Double(Int.random(in: 0..<1000, using: &rng)) / 1e6
        default: v = Double(sign: .plus, exponent: Int.random(in: -34...52, using: &rng),
                            significand: 1 + Double(Int.random(in: 0..<16, using: &rng)) / 16)
        }
        if written(v) != v.description { mismatches += 1 }
    }
    #expect(mismatches == 0)
}
