// CostMath: the price of one charge, from a price entry's words (PriceBoard) and the quantities.
// How each token count is charged is stated in docs/cost.md ("How usage is charged"); this is it.
// Entry words may be torn when a table is being replaced (PriceBoard.quote then discards the result):
// nothing here traps on any value.
import Synchronization

enum CostMath {
    /// Pico-units for one vt_turn_usage report (`field` < 0: not reported); 0 when the entry has no
    /// token prices.
    @inline(__always)
    static func tokens(_ e: UnsafeMutablePointer<Atomic<UInt64>>, _ field: TokenCounts) -> UInt64 {
        let flags = e[PriceWord.flags].load(ordering: .relaxed)
        guard flags & 1 != 0 else { return 0 }   // no input price: the entry prices no tokens
        @inline(__always) func n(_ i: Int) -> UInt64 { let v = field[i]; return v > 0 ? UInt64(truncatingIfNeeded: v) : 0 }
        @inline(__always) func has(_ p: TokenPrice) -> Bool { flags & (1 << UInt64(p.rawValue)) != 0 }
        // Totals when reported, else the sum of their reported modalities.
        let input = field[0] >= 0 ? n(0) : n(4) &+ n(5) &+ n(6)
        let output = field[1] >= 0 ? n(1) : n(7) &+ n(8)
        let cached = min(n(2), input)
        var rest = input - cached
        let audioIn = has(.inputAudio) ? min(n(5), rest) : 0
        rest -= audioIn
        let imageIn = has(.inputImage) ? min(n(6), rest) : 0
        rest -= imageIn
        let audioOut = has(.outputAudio) ? min(n(8), output) : 0
        // Quantities in TokenPrice order (no array: this runs on the record path).
        let q0 = has(.cachedInput) ? rest : rest &+ cached, q1 = has(.cachedInput) ? cached : 0
        let q2 = output - audioOut, q3 = has(.reasoning) ? n(3) : 0
        @inline(__always) func p(_ i: Int) -> UInt64 { e[PriceWord.tokens + i].load(ordering: .relaxed) }
        if flags & PriceWord.exact != 0 {   // words are pico-units per token
            var total: UInt64 = 0
            @inline(__always) func add(_ i: Int, _ quantity: UInt64) {
                guard quantity != 0 else { return }
                let (product, overflow) = quantity.multipliedReportingOverflow(by: p(i))
                total = Pico.sum(total, overflow ? .max : product)
            }
            add(0, q0); add(1, q1); add(2, q2); add(3, q3); add(4, audioIn); add(5, imageIn); add(6, audioOut)
            return total
        }
        var total: UInt128 = 0   // words are pico-units per million tokens
        @inline(__always) func add(_ i: Int, _ quantity: UInt64) {
            if quantity != 0 { total &+= UInt128(quantity) * UInt128(p(i)) }
        }
        add(0, q0); add(1, q1); add(2, q2); add(3, q3); add(4, audioIn); add(5, imageIn); add(6, audioOut)
        let picos = (total + 500_000) / 1_000_000
        return picos > UInt128(UInt64.max) ? .max : UInt64(picos)
    }

    /// Pico-units for `quantity` (ns of audio or session, characters) at the entry's unit price; 0 when
    /// the entry has none.
    @inline(__always)
    static func unit(_ e: UnsafeMutablePointer<Atomic<UInt64>>, _ quantity: UInt64) -> UInt64 {
        let flags = e[PriceWord.flags].load(ordering: .relaxed)
        guard let kind = UnitPrice(rawValue: (flags >> PriceWord.unitShift) & 0xF) else { return 0 }
        return Pico.scaled(quantity, e[PriceWord.unit].load(ordering: .relaxed), per: kind.divisor)
    }

    /// An entry's words after its key, as PriceBoard keeps them.
    static func words(_ entry: PriceEntry) -> [UInt64] {
        let exact = entry.tokens.allSatisfy { $0.map { $0 % 1_000_000 == 0 } ?? true }
        var flags: UInt64 = exact ? PriceWord.exact : 0
        var tokenWords = [UInt64](repeating: 0, count: TokenPrice.allCases.count)
        for (i, price) in entry.tokens.enumerated() {
            guard let price else { continue }
            flags |= 1 << UInt64(i)
            tokenWords[i] = exact ? price / 1_000_000 : price
        }
        var unitWord: UInt64 = 0
        if let unit = entry.unit {
            flags |= unit.kind.rawValue << PriceWord.unitShift
            unitWord = unit.price
        }
        return [flags] + tokenWords + [unitWord]
    }
}
