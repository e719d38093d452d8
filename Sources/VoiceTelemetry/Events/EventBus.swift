// EventBus: checks events and fans them out to the loaded plugins' queues.
//
// The path of one event (vt_emit or a core event): check the strings, prove the payload a valid
// compact JSON object (JSONScan; or rewrite it into this thread's scratch buffer when it has
// whitespace or transcripts, JSONRewriter), check the length its envelope line will have, apply the
// per-type rate limit, then copy the event's parts (EventRecord) into the queue of every live
// plugin slot; each plugin's thread renders the envelope. No lock, no allocation, no plugin call;
// the only shared writes are the rate-limit word and the queue positions and cells.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class EventBus: @unchecked Sendable {
    static let shared = EventBus()

    static let maxEventBytes = Int(VT_MAX_EVENT_BYTES)
    static let maxPayloadBytes = Int(VT_MAX_EVENT_PAYLOAD_BYTES)
    static let maxTypeBytes = Int(VT_MAX_EVENT_TYPE_BYTES)
    static let maxIDBytes = Int(VT_MAX_EVENT_ID_BYTES)

    let slots: [PluginSlot] = (0..<Int(VT_MAX_PLUGINS)).map { PluginSlot(index: $0) }
    /// The same slots, reachable without retaining them (`slots` keeps them alive for good).
    private let slotRefs: UnsafeMutablePointer<Unmanaged<PluginSlot>>
    /// Live plugins: the core's hooks check this with one relaxed load and do nothing when it is 0.
    let sinkCount = Atomic<Int>(0)
    /// Bit i set: slot i holds a live plugin (set and cleared under the plugin registry's lock). The
    /// fan-out visits only these slots; each visit still checks the slot's own liveness.
    let liveSlots = Atomic<UInt64>(0)

    init() {
        slotRefs = .allocate(capacity: slots.count)
        for (i, slot) in slots.enumerated() { (slotRefs + i).initialize(to: Unmanaged.passUnretained(slot)) }
    }
    let rateLimiter = RateLimiter(limit: UInt32(VT_DEFAULT_EVENT_RATE_LIMIT))
    /// "Now" for events emitted with t_ns = 0.
    let tickClock = TickClock()
    /// Completed turns waiting to be rendered as turn.complete events (see TurnEventQueue).
    let turnEvents = TurnEventQueue()

    @inline(__always)
    var hasSinks: Bool { sinkCount.load(ordering: .relaxed) != 0 }

    /// A borrowed run of bytes (a C string's or a Swift string's).
    struct Bytes {
        var base: UnsafePointer<UInt8>
        var count: Int
    }

    /// In a child after fork: no plugin is live (PluginRegistry forgets them), turns queued for the
    /// parent's plugins are dropped, and a clock redraw another thread was making is abandoned.
    func forgetOtherThreads() {
        sinkCount.store(0, ordering: .relaxed)
        liveSlots.store(0, ordering: .relaxed)
        for slot in slots { slot.forgetAfterFork() }
        turnEvents.forgetAfterFork()
        tickClock.forgetAfterFork()
    }

    // MARK: - vt_emit

    func emit(session: vt_session, eventType: UnsafePointer<CChar>?, payload: UnsafePointer<CChar>?,
              correlationID: UnsafePointer<CChar>?, turnID: UnsafePointer<CChar>?, tNs: UInt64) -> vt_status {
        guard let eventType else { return fail(.invalid("event_type is NULL")) }
        guard let typeCount = Self.eventTypeLength(eventType) else {
            return fail(.invalid("event_type must be 1-\(Self.maxTypeBytes) bytes of [A-Za-z0-9_.:/-]"))
        }
        let type = Bytes(base: UnsafeRawPointer(eventType).assumingMemoryBound(to: UInt8.self), count: typeCount)
        var escapeExtra = 0
        var correlation: Bytes?
        var turn: Bytes?
        if let correlationID {
            guard let checked = Self.idBytes(correlationID, escapeExtra: &escapeExtra) else {
                return fail(.invalid("correlation_id is longer than \(Self.maxIDBytes) bytes or not valid UTF-8"))
            }
            correlation = checked
        }
        if let turnID {
            guard let checked = Self.idBytes(turnID, escapeExtra: &escapeExtra) else {
                return fail(.invalid("turn_id is longer than \(Self.maxIDBytes) bytes or not valid UTF-8"))
            }
            turn = checked
        }
        let empty: StaticString = "{}"
        let raw = payload.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) } ?? empty.utf8Start
        let payloadCount = payload.map { strnlen($0, Self.maxPayloadBytes + 1) } ?? 2
        var parts = EventParts(tNs: tNs, unixOffsetNs: Clock.processUnixOffsetNs, session: nil, type: type,
                               correlation: correlation, turn: turn, payload: Bytes(base: raw, count: payloadCount),
                               escapeExtra: escapeExtra)
        if session == 0 {
            if tNs == 0 { parts.tNs = tickClock.nowNs() }
            return publish(&parts, policy: TextPolicy())
        }
        var status = VT_OK.rawValue
        let guardStatus = SessionTable.guarded(session) { slot in
            // The slot's copy of the id: stable while inside the guard, read without retaining.
            parts.session = Bytes(base: slot.idBytes, count: slot.idCount)
            parts.escapeExtra += slot.idEscapeExtra
            if tNs == 0 { parts.tNs = tickClock.nowNs() &+ slot.meta.clockOffsetNs }
            parts.unixOffsetNs = slot.meta.unixOffsetNs
            status = publish(&parts, policy: slot.meta.textPolicy)
        }
        return guardStatus != VT_OK.rawValue ? guardStatus : status
    }

    // MARK: - Core events (internal Swift API)

    /// Emit one of the library's own events for the session in `slot` (live, or being ended under the
    /// process lock), at `tNs` on its clock (0 = now). `json` must be a JSON object whose transcripts
    /// the caller has already treated per the session's TextPolicy (EventText.appendText does it).
    /// Core events are not rate limited (their rate is bounded by the sessions'). Cheap no-op when no
    /// plugin is loaded. Safe from any thread, inside or outside the process lock and inside a
    /// session's writer guard.
    func emitCore(_ slot: SessionSlot, type: StaticString, json: String, turnID: String? = nil, tNs: UInt64) {
        guard hasSinks else { return }
        var json = json
        var turnText = turnID ?? ""
        json.withUTF8 { payload in
            turnText.withUTF8 { turn in
                emitCore(slot, type: type, payload: payload, turn: turnID == nil ? nil : turn, tNs: tNs)
            }
        }
    }

    /// As above, with the data (and the turn id, if any) as bytes: what the record calls use, writing
    /// their data on the stack (CoreEvents). The session id is the slot's bytes. No allocation (a
    /// failure, which only a bug could cause, is logged).
    func emitCore(_ slot: SessionSlot, type: StaticString, payload: UnsafeBufferPointer<UInt8>,
                  turn: UnsafeBufferPointer<UInt8>? = nil, tNs: UInt64) {
        guard hasSinks else { return }
        let anchor: StaticString = ""
        let turnBytes = turn.map { Bytes(base: $0.baseAddress ?? anchor.utf8Start, count: min($0.count, Self.maxIDBytes)) }
        var parts = EventParts(
            tNs: slot.resolve(tNs), unixOffsetNs: slot.meta.unixOffsetNs,
            session: Bytes(base: slot.idBytes, count: slot.idCount),
            type: Bytes(base: type.utf8Start, count: type.utf8CodeUnitCount), correlation: nil, turn: turnBytes,
            payload: Bytes(base: payload.baseAddress ?? anchor.utf8Start, count: payload.count),
            // The slot's id and a Swift string are valid UTF-8: escapeExtra never answers nil for them.
            escapeExtra: slot.idEscapeExtra + (turnBytes.flatMap { ByteWriter.escapeExtra($0.base, $0.count) } ?? 0))
        let status = publish(&parts, policy: nil, rateLimited: false)
        if status != VT_OK.rawValue { logNotEmitted(type) }
    }

    /// As above, for a session id known without a live handle (a session that has ended), or none:
    /// `tNs` (0 = now) and `unixOffsetNs` are the event's time and anchor. `checked`: the event is
    /// judged (its size) even with no plugin loaded, and a failure is returned to the caller instead of
    /// being logged (the trace calls, whose caller chose the event's content).
    @discardableResult
    func emitCore(sessionID: String?, type: StaticString, json: String, turnID: String? = nil, tNs: UInt64,
                  unixOffsetNs: UInt64, checked: Bool = false) -> vt_status {
        guard hasSinks || checked else { return VT_OK.rawValue }
        var json = json
        var id = sessionID ?? ""
        var turnText = turnID ?? ""
        let status = json.withUTF8 { payload in
            id.withUTF8 { idBytes in
                turnText.withUTF8 { turnBytes in
                    let anchor: StaticString = ""
                    func part(_ utf8: UnsafeBufferPointer<UInt8>, present: Bool, max: Int) -> Bytes? {
                        present ? Bytes(base: utf8.baseAddress ?? anchor.utf8Start, count: min(utf8.count, max)) : nil
                    }
                    let session = part(idBytes, present: sessionID != nil, max: Int(VT_MAX_SESSION_ID_BYTES))
                    let turn = part(turnBytes, present: turnID != nil, max: Self.maxIDBytes)
                    var parts = EventParts(
                        tNs: tNs == 0 ? tickClock.nowNs() : tNs, unixOffsetNs: unixOffsetNs, session: session,
                        type: Bytes(base: type.utf8Start, count: type.utf8CodeUnitCount), correlation: nil, turn: turn,
                        payload: Bytes(base: payload.baseAddress ?? anchor.utf8Start, count: payload.count),
                        // Swift strings are valid UTF-8: escapeExtra never answers nil for them.
                        escapeExtra: (session.flatMap { ByteWriter.escapeExtra($0.base, $0.count) } ?? 0)
                            + (turn.flatMap { ByteWriter.escapeExtra($0.base, $0.count) } ?? 0))
                    return publish(&parts, policy: nil, rateLimited: false)
                }
            }
        }
        if status != VT_OK.rawValue && !checked { logNotEmitted(type) }
        return status
    }

    private func logNotEmitted(_ type: StaticString) {
        let line = "voicetelemetry: internal event '\(type)' was not emitted: \(String(cString: LastError.get()))\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in _ = Glibc.write(2, raw.baseAddress, raw.count) }
    }

    /// A turn completed (record path: lock-free, no allocation). A full queue loses the event: it is
    /// counted for every plugin as emitted and dropped (queue_full), so the accounting stays exact.
    func queueTurnComplete(handle: UInt64, position: UInt64) {
        guard hasSinks else { return }
        if !turnEvents.push(handle: handle, position: position) { forEachPlugin { $0.countLostQueueFull() } }
    }

    // MARK: - Checking and fan-out

    /// Check the payload of an event (rewriting it if needed), then hand the event's parts to every
    /// live plugin's queue; the plugin's thread wraps them in the envelope (EventRecord). `policy` nil:
    /// the payload is validated but transcripts are not rewritten (core events treat theirs themselves).
    func publish(_ parts: inout EventParts, policy: TextPolicy?, rateLimited: Bool = true) -> vt_status {
        let payload = parts.payload
        guard payload.count <= Self.maxPayloadBytes else {
            forEachPlugin { $0.countRefused(rateLimited: false) }
            return fail(.limit("json_payload is longer than VT_MAX_EVENT_PAYLOAD_BYTES (\(Self.maxPayloadBytes)); not forwarded"))
        }
        // What is judged is the event as delivered: a payload with whitespace or a transcript to treat
        // (or one too long as it stands) is rewritten first.
        if payload.count > Self.maxEventBytes || !JSONScan.isVerbatim(payload.base, payload.count, transcripts: policy != nil) {
            // The rewriter writes the compact payload into this thread's scratch buffer (never
            // re-entered: plugins run on their own threads, never inside an emit). Past its capacity
            // it goes on validating and only counts.
            guard let scratch = ThreadScratch.cell() else { return fail(.internalError("no memory for the event buffer")) }
            var rewriter = JSONRewriter(input: payload.base, count: payload.count,
                                        into: ByteWriter(base: scratch, capacity: Self.maxEventBytes), policy: policy)
            do throws(JSONRewriter.Problem) {
                try rewriter.rewriteObject()
            } catch {
                return fail(.invalid("json_payload is not a valid JSON object: \(error.reason) (at byte \(error.offset))"))
            }
            parts.payload = Bytes(base: scratch, count: rewriter.out.overflowed ? Self.maxEventBytes + 1 : rewriter.out.count)
        }
        let lineLength = EventRecord.lineLength(parts)
        if lineLength > Self.maxEventBytes {
            forEachPlugin { $0.countRefused(rateLimited: false) }
            return fail(.limit("the event is longer than VT_MAX_EVENT_BYTES (\(Self.maxEventBytes)) with its envelope; not forwarded"))
        }
        guard hasSinks else { return VT_OK.rawValue }
        if rateLimited, rateLimiter.isLimiting,
           !rateLimiter.admit(key: RateLimiter.hash(parts.type.base, parts.type.count), tNs: parts.tNs) {
            forEachPlugin { $0.countRefused(rateLimited: true) }
            return VT_OK.rawValue
        }
        let recordLength = EventRecord.recordLength(parts)
        forEachPlugin { [parts] in $0.offer(parts, recordLength: recordLength, lineLength: lineLength) }
        return VT_OK.rawValue
    }

    @inline(__always)
    func forEachPlugin(_ body: (PluginInbox) -> Void) {
        var live = liveSlots.load(ordering: .acquiring)
        while live != 0 {
            let i = live.trailingZeroBitCount
            live &= live &- 1
            _ = slotRefs[i]._withUnsafeGuaranteedRef { $0.withPlugin(body) }
        }
    }

    // MARK: - Argument checks

    /// The length of a NUL-terminated event type if it is 1...maxTypeBytes bytes of
    /// [A-Za-z0-9_.:/-], else nil.
    @inline(__always)
    static func eventTypeLength(_ text: UnsafePointer<CChar>) -> Int? {
        let n = strnlen(text, maxTypeBytes + 1)
        guard n >= 1, n <= maxTypeBytes else { return nil }
        let bytes = UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self)
        return anyFlagged(bytes, n) { ~allowedTypeBytes($0) & 0x8080_8080_8080_8080 } ? nil : n
    }

    /// Whether `flagged` marks any of the `n` bytes at `bytes` (it marks the high bit of a flagged byte
    /// of a little-endian word, exactly for the lowest one; a byte above a flagged one may be marked
    /// wrongly, which does not change the answer). Eight bytes at a time, reading only those `n`
    /// bytes: the last few are the word that ends at `n` (overlapping bytes already checked), or, in a
    /// string shorter than a word, gathered over a word of 'a's, which no check flags. (The caller's
    /// string may end anywhere: a word read past its NUL is a read outside the caller's buffer, which
    /// AddressSanitizer reports in hosts built with it.)
    @inline(__always)
    private static func anyFlagged(_ bytes: UnsafePointer<UInt8>, _ n: Int, _ flagged: (UInt64) -> UInt64) -> Bool {
        var i = 0
        while i + 8 <= n {
            if flagged(UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self)) != 0 { return true }
            i += 8
        }
        guard i < n else { return false }
        if n >= 8 { return flagged(UnsafeRawPointer(bytes + n - 8).loadUnaligned(as: UInt64.self)) != 0 }
        var word: UInt64 = 0x6161_6161_6161_6161
        for k in 0..<n { word = word & ~(0xFF << UInt64(8 * k)) | UInt64(bytes[k]) << UInt64(8 * k) }
        return flagged(word) != 0
    }

    /// The high bit of every byte of `x` (memory order, little-endian) in [A-Za-z0-9_.:/-]. Exact up
    /// to and including the lowest byte not allowed: a byte >= 0x80 is refused by its own high bit,
    /// and only its carry can disturb the bytes above it.
    @inline(__always)
    static func allowedTypeBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        // For a byte b < 0x80: b + (0x80 - lo) has its high bit set iff b >= lo (no carry out).
        func inRange(_ lo: UInt64, _ hi: UInt64) -> UInt64 { (x &+ ones &* (0x80 - lo)) & ~(x &+ ones &* (0x7F - hi)) }
        let v = x ^ (ones &* 0x5F)
        let underscore = ~(((v & ~highs) &+ ~highs) | v)   // high bit iff the byte is '_'
        return (inRange(0x2D, 0x3A) | inRange(0x41, 0x5A) | inRange(0x61, 0x7A) | underscore) & ~x & highs
    }

    /// A correlation or turn id: its bytes if it is valid UTF-8 of at most maxIDBytes; adds the bytes
    /// its JSON escaping will add to `escapeExtra`.
    @inline(__always)
    static func idBytes(_ text: UnsafePointer<CChar>, escapeExtra: inout Int) -> Bytes? {
        let n = strnlen(text, maxIDBytes + 1)
        guard n <= maxIDBytes else { return nil }
        let bytes = UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self)
        // The common id, plain ASCII with nothing to escape, needs no more; others are checked and
        // their escaping counted byte by byte.
        guard anyFlagged(bytes, n, JSONRewriter.specialBytes) else { return Bytes(base: bytes, count: n) }
        guard let extra = ByteWriter.escapeExtra(bytes, n) else { return nil }
        escapeExtra += extra
        return Bytes(base: bytes, count: n)
    }
}
