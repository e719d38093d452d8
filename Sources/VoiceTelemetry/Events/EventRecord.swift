// EventRecord: one event as it waits in a plugin's queue, in parts, not yet wrapped in its envelope.
//
// The emitting thread checks an event and copies its parts into each plugin's queue (EventBus); the
// plugin's thread wraps them in the envelope line (`render`) while it builds a batch. So the fixed
// text of the envelope, the escaping of ids and the timestamp's digits cost the emitting thread
// nothing: it only computes the length the line will have (`lineLength`), to refuse an event that
// would not fit VT_MAX_EVENT_BYTES, exactly as if it had built the line itself.
//
// Record layout (native byte order; the record never leaves the process):
//   0  t_ns                 UInt64
//   8  payload bytes        UInt32
//   12 session id bytes     UInt16 (absent: 0xFFFF, rendered null)
//   14 event type bytes     UInt16
//   16 correlation id bytes UInt16 (absent: 0xFFFF)
//   18 turn id bytes        UInt16 (absent: 0xFFFF)
//   20 escapes              UInt32 (1: some id has a byte to escape; 0: the ids go in verbatim)
//   24 unix offset          UInt64 (the wall clock minus the event's clock: timestamp_unix_us)
//   32 session id, event type, correlation id, turn id, payload: raw bytes, one after the other.
// Ids are valid UTF-8 (escaped when rendered); the payload is the final, compact `data` object.

/// The checked parts of one event, borrowed from the caller for the duration of the emit.
struct EventParts {
    var tNs: UInt64
    /// Wall clock (Unix epoch ns) minus the clock of tNs, wrapping: the event's anchor.
    var unixOffsetNs: UInt64
    var session: EventBus.Bytes?
    var type: EventBus.Bytes
    var correlation: EventBus.Bytes?
    var turn: EventBus.Bytes?
    var payload: EventBus.Bytes
    /// Bytes the JSON escaping of the three ids adds to the line (ByteWriter.escapeExtra).
    var escapeExtra: Int
}

enum EventRecord {
    static let headerBytes = 32
    private static let absent: UInt16 = 0xFFFF

    private static let head: StaticString = "{\"type_id\":\"core::telemetry/event@1\",\"session_id\":"
    private static let typeKey: StaticString = ",\"event_type\":\""
    private static let correlationKey: StaticString = "\",\"correlation_id\":"
    private static let turnKey: StaticString = ",\"turn_id\":"
    private static let timestampKey: StaticString = ",\"timestamp_us\":"
    private static let unixKey: StaticString = ",\"timestamp_unix_us\":"
    private static let dataKey: StaticString = ",\"data\":"
    private static let tail: StaticString = "}\n"
    private static let fixedBytes = head.utf8CodeUnitCount + typeKey.utf8CodeUnitCount
        + correlationKey.utf8CodeUnitCount + turnKey.utf8CodeUnitCount + timestampKey.utf8CodeUnitCount
        + unixKey.utf8CodeUnitCount + dataKey.utf8CodeUnitCount + tail.utf8CodeUnitCount

    // MARK: - Emitting thread

    /// Bytes of the envelope line `render` makes of these parts, trailing newline included.
    @inline(__always)
    static func lineLength(_ p: EventParts) -> Int {
        fixedBytes + idLength(p.session) + p.type.count + idLength(p.correlation) + idLength(p.turn)
            + ByteWriter.decimalDigits(p.tNs / 1000) + ByteWriter.decimalDigits((p.tNs &+ p.unixOffsetNs) / 1000)
            + p.payload.count + p.escapeExtra
    }

    /// Bytes of the record `write` makes of these parts.
    @inline(__always)
    static func recordLength(_ p: EventParts) -> Int {
        headerBytes + (p.session?.count ?? 0) + p.type.count + (p.correlation?.count ?? 0) + (p.turn?.count ?? 0)
            + p.payload.count
    }

    /// Write the record of `p` at `cell` (room for recordLength(p) bytes). Id lengths are at most
    /// VT_MAX_SESSION_ID_BYTES / VT_MAX_EVENT_ID_BYTES and the payload at most VT_MAX_EVENT_BYTES, so
    /// every length fits its field.
    @inline(__always)
    static func write(_ p: EventParts, to cell: UnsafeMutableRawPointer) {
        cell.storeBytes(of: p.tNs, as: UInt64.self)
        cell.storeBytes(of: UInt32(truncatingIfNeeded: p.payload.count), toByteOffset: 8, as: UInt32.self)
        cell.storeBytes(of: lengthField(p.session), toByteOffset: 12, as: UInt16.self)
        cell.storeBytes(of: UInt16(truncatingIfNeeded: p.type.count), toByteOffset: 14, as: UInt16.self)
        cell.storeBytes(of: lengthField(p.correlation), toByteOffset: 16, as: UInt16.self)
        cell.storeBytes(of: lengthField(p.turn), toByteOffset: 18, as: UInt16.self)
        cell.storeBytes(of: p.escapeExtra == 0 ? 0 : 1, toByteOffset: 20, as: UInt32.self)
        cell.storeBytes(of: p.unixOffsetNs, toByteOffset: 24, as: UInt64.self)
        var at = cell + headerBytes
        copy(p.session, &at)
        copy(p.type, &at)
        copy(p.correlation, &at)
        copy(p.turn, &at)
        copy(p.payload, &at)
    }

    @inline(__always)
    private static func copy(_ part: EventBus.Bytes?, _ at: inout UnsafeMutableRawPointer) {
        guard let part else { return }
        ByteWriter.copy(to: at, from: part.base, part.count)
        at += part.count
    }

    @inline(__always)
    private static func lengthField(_ part: EventBus.Bytes?) -> UInt16 {
        part.map { UInt16(truncatingIfNeeded: $0.count) } ?? absent
    }

    /// An id's bytes in the line before escaping: "null", or the text in quotes.
    @inline(__always)
    private static func idLength(_ part: EventBus.Bytes?) -> Int { part.map { $0.count + 2 } ?? 4 }

    // MARK: - Plugin thread

    /// Append the envelope line of the record at `record` (as `write` left it) to `out`.
    static func render(_ record: UnsafeRawPointer, into out: inout ByteWriter) {
        let tNs = record.loadUnaligned(as: UInt64.self)
        let payloadCount = Int(record.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let sessionCount = record.loadUnaligned(fromByteOffset: 12, as: UInt16.self)
        let typeCount = Int(record.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
        let correlationCount = record.loadUnaligned(fromByteOffset: 16, as: UInt16.self)
        let turnCount = record.loadUnaligned(fromByteOffset: 18, as: UInt16.self)
        let escapes = record.loadUnaligned(fromByteOffset: 20, as: UInt32.self) != 0
        let unixOffsetNs = record.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        var at = (record + headerBytes).assumingMemoryBound(to: UInt8.self)
        out.ascii(head)
        id(&out, &at, sessionCount, escapes: escapes)
        out.ascii(typeKey)
        out.bytes(at, typeCount)
        at += typeCount
        out.ascii(correlationKey)
        id(&out, &at, correlationCount, escapes: escapes)
        out.ascii(turnKey)
        id(&out, &at, turnCount, escapes: escapes)
        timesAndDataKey(&out, tNs: tNs, unixOffsetNs: unixOffsetNs)
        out.bytes(at, payloadCount)
        out.ascii(tail)
    }

    /// The envelope of an event the library makes itself for no session (ids null), up to its data:
    /// the caller appends the data object, then `endLine`.
    static func processEventHead(_ out: inout ByteWriter, type: StaticString, tNs: UInt64, unixOffsetNs: UInt64) {
        out.ascii(head)
        out.ascii("null")
        out.ascii(typeKey)
        out.ascii(type)
        out.ascii(correlationKey)
        out.ascii("null")
        out.ascii(turnKey)
        out.ascii("null")
        timesAndDataKey(&out, tNs: tNs, unixOffsetNs: unixOffsetNs)
    }

    /// Close the envelope line after its data.
    static func endLine(_ out: inout ByteWriter) { out.ascii(tail) }

    @inline(__always)
    private static func timesAndDataKey(_ out: inout ByteWriter, tNs: UInt64, unixOffsetNs: UInt64) {
        out.ascii(timestampKey)
        out.decimal(tNs / 1000)
        out.ascii(unixKey)
        out.decimal((tNs &+ unixOffsetNs) / 1000)
        out.ascii(dataKey)
    }

    @inline(__always)
    private static func id(_ out: inout ByteWriter, _ at: inout UnsafePointer<UInt8>, _ count: UInt16, escapes: Bool) {
        if count == absent {
            out.ascii("null")
        } else if escapes {
            out.jsonString(at, Int(count))
            at += Int(count)
        } else {
            // Nothing to escape (the emitter counted): the bytes between quotes.
            out.byte(UInt8(ascii: "\""))
            out.bytes(at, Int(count))
            out.byte(UInt8(ascii: "\""))
            at += Int(count)
        }
    }
}
