// C entry points: prices and costs (header section "Prices and costs").
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

@c @implementation
public func vt_set_prices(_ json: UnsafePointer<CChar>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let json else {
            try ProcessState.shared.locked { (_) throws(Failure) in Prices.clear() }
            return
        }
        let maxBytes = Int(VT_MAX_PRICES_JSON_BYTES)
        let n = strnlen(json, maxBytes + 1)
        guard n <= maxBytes else { throw .invalid("price table is longer than \(maxBytes) bytes (VT_MAX_PRICES_JSON_BYTES)") }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(json).assumingMemoryBound(to: UInt8.self), count: n)
        let document: JSONValue
        do throws(PriceJSONError) {
            document = try PriceJSONReader.parse(bytes)
        } catch {
            throw .invalid("price table is not valid JSON: \(error.message)")
        }
        let table = try PriceTable(document)
        try ProcessState.shared.locked { (_) throws(Failure) in
            try Prices.activate(table, openSessions: ProcessState.shared.sessions.openCount)
        }
    }
}

@c @implementation
public func vt_prices_json(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        let text = try ProcessState.shared.locked { (_) throws(Failure) -> TextOutput in
            guard let table = Prices.table else {
                var none = TextOutput(reserving: 4)
                none.append("null")
                return none
            }
            return table.json()
        }
        try text.deliver(to: buf, capacity: cap, length: len_out)
    }
}
