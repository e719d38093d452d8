// UsageTable: a session's usage and cost by (stage, provider, model), in a fixed region of its turn
// memory (TurnMemory.usage): `namedRows` rows claimed lock-free by the first charge of their key, one
// overflow row per usage stage for charges that find every row taken, and a few session words.
// Each row is 16 relaxed atomic words, so record calls update it without a lock or an allocation.
import Synchronization

enum UsageRow {
    static let key = 0, reports = 1, turns = 2, tokens = 3, audioNs = 12, characters = 13, costPico = 14, unpriced = 15
    static let words = 16
}

enum UsageTable {
    static let namedRows = 8
    /// Stages whose usage is charged per report or per turn, in overflow-row order.
    static let stages = TurnWord.costStages
    static let rows = namedRows + stages.count

    // Session words after the rows.
    static let overflowCharges = rows * UsageRow.words
    /// Transport cost, charged at the session's end (pico-units); `transportCharged` is 1 from then on.
    static let transportPico = overflowCharges + 1
    static let transportCharged = overflowCharges + 2
    /// 1 once a charge ran while a price table was active.
    static let priced = overflowCharges + 3
    static let words = overflowCharges + 8

    /// The overflow rows' key: provider and model "other".
    static let otherName: UInt64 = 0xFF_FFFE

    static func row(_ base: UnsafeMutablePointer<Atomic<UInt64>>, _ i: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        base + i * UsageRow.words
    }

    /// The row of `key` (claimed if new), or the overflow row of its stage when all rows are taken.
    @inline(__always)
    static func row(_ base: UnsafeMutablePointer<Atomic<UInt64>>, key: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        for i in 0..<namedRows {
            let r = row(base, i)
            let k = r[UsageRow.key].load(ordering: .relaxed)
            if k == key { return r }
            if k == 0 {
                let (claimed, seen) = r[UsageRow.key].compareExchange(expected: 0, desired: key, ordering: .relaxed)
                if claimed || seen == key { return r }
            }
        }
        return overflow(base, key)
    }

    @inline(never)
    private static func overflow(_ base: UnsafeMutablePointer<Atomic<UInt64>>, _ key: UInt64) -> UnsafeMutablePointer<Atomic<UInt64>> {
        let stage = CostKey.stage(key)
        let r = row(base, namedRows + (stages.firstIndex(of: stage) ?? 1))
        r.setFirst(UsageRow.key, CostKey.pack(stage: stage, provider: otherName, model: otherName))
        base.add(overflowCharges, 1)
        return r
    }

    /// Rows in use, in claim order (named rows first).
    static func usedRows(_ base: UnsafeMutablePointer<Atomic<UInt64>>) -> [UnsafeMutablePointer<Atomic<UInt64>>] {
        (0..<rows).map { row(base, $0) }.filter { $0.word(UsageRow.key) != 0 }
    }
}

/// (stage, provider, model) in one word: stage << 48 | provider << 24 | model, where provider and
/// model are TurnNames ids + 1 (0: none) and `anyModel` stands for the "*" model of a price entry.
enum CostKey {
    static let anyModel: UInt64 = 0xFF_FFFF

    @inline(__always)
    static func pack(stage: UInt32, provider: UInt64, model: UInt64) -> UInt64 {
        UInt64(stage) << 48 | (provider & 0xFF_FFFF) << 24 | (model & 0xFF_FFFF)
    }

    /// From a turn provider word (ProviderWord).
    @inline(__always)
    static func pack(stage: UInt32, who: UInt64) -> UInt64 {
        let p = ProviderWord(word: who)
        return pack(stage: stage, provider: p.provider, model: p.model)
    }

    static func stage(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key >> 48) }
    static func provider(_ key: UInt64) -> UInt64 { (key >> 24) & 0xFF_FFFF }
    static func model(_ key: UInt64) -> UInt64 { key & 0xFF_FFFF }
}
