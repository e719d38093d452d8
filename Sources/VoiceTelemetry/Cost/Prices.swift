// Prices: the process's price table and cost currency (process lock held throughout). Activating a
// table interns its names and publishes its entries on the PriceBoard, which record calls read.

enum Prices {
    nonisolated(unsafe) private(set) static var table: PriceTable?
    /// The currency of every cost recorded so far: the last table's, kept when the table is cleared.
    nonisolated(unsafe) private(set) static var currency: String?

    /// Make `table` the active table. A session's costs are all in one currency, so the currency can
    /// change only while no session is open.
    static func activate(_ table: PriceTable, openSessions: Int) throws(Failure) {
        if let current = currency, current != table.currency, openSessions > 0 {
            throw .order("price table: its currency \(table.currency) differs from \(current), the currency of the costs "
                         + "of the \(openSessions) open session(s); change the currency when no session is open")
        }
        var published: [(key: UInt64, words: [UInt64])] = []
        for entry in table.entries {
            guard let provider = TurnNames.idIfRoom(entry.provider),
                  let model = entry.model == PriceTable.wildcard ? Int(CostKey.anyModel) - 1 : TurnNames.idIfRoom(entry.model)
            else {
                throw .limit("price table: no room for the name \"\(entry.provider)\" / \"\(entry.model)\": "
                             + "the process already keeps \(TurnNames.capacity) provider, model and tool names")
            }
            let key = CostKey.pack(stage: entry.stage, provider: UInt64(provider + 1), model: UInt64(model + 1))
            published.append((key, CostMath.words(entry)))
        }
        PriceBoard.publish(published)
        Self.table = table
        currency = table.currency
    }

    static func clear() {
        PriceBoard.clear()
        table = nil
    }
}
