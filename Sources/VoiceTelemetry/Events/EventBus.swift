// EventBus: builds event envelopes and fans them out to the loaded plugins' queues.
//
// The path of one event (vt_emit or a core event): check the strings, build the envelope line in a
// stack buffer of one cell (validating the payload and rewriting transcripts on the way), apply the
// per-type rate limit, then copy the line into the queue of every live plugin slot. No lock, no
// allocation, no plugin call; the only shared writes are the rate-limit word, the queue positions
// and the plugin's counters.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class EventBus: @unchecked Sendable {
    static let shared = EventBus()

    static let cellBytes = Int(VT_MAX_EVENT_BYTES)
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
    /// Completed turns waiting to be rendered as turn.complete events (see TurnEventQueue).
    let turnEvents = TurnEventQueue()

    @inline(__always)
    var hasSinks: Bool { sinkCount.load(ordering: .relaxed) != 0 }

    /// A borrowed run of bytes (a C string's or a Swift string's).
    struct Bytes {
        var base: UnsafePointer<UInt8>
        var count: Int
    }

    // MARK: - vt_emit

    func emit(session: vt_session, eventType: UnsafePointer<CChar>?, payload: UnsafePointer<CChar>?,
              correlationID: UnsafePointer<CChar>?, turnID: UnsafePointer<CChar>?, tNs: UInt64) -> vt_status {
        guard let eventType else { return fail(.invalid("event_type is NULL")) }
        let typeCount = strnlen(eventType, Self.maxTypeBytes + 1)
        let type = Bytes(base: UnsafeRawPointer(eventType).assumingMemoryBound(to: UInt8.self), count: typeCount)
        guard typeCount >= 1, typeCount <= Self.maxTypeBytes, Self.isEventType(type) else {
            return fail(.invalid("event_type must be 1-\(Self.maxTypeBytes) bytes of [A-Za-z0-9_.:/-]"))
        }
        var correlation: Bytes?
        var turn: Bytes?
        if let correlationID {
            guard let checked = Self.idBytes(correlationID) else {
                return fail(.invalid("correlation_id is longer than \(Self.maxIDBytes) bytes or not valid UTF-8"))
            }
            correlation = checked
        }
        if let turnID {
            guard let checked = Self.idBytes(turnID) else {
                return fail(.invalid("turn_id is longer than \(Self.maxIDBytes) bytes or not valid UTF-8"))
            }
            turn = checked
        }
        let empty: StaticString = "{}"
        let raw = payload.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) } ?? empty.utf8Start
        let payloadCount = payload.map { strnlen($0, Self.cellBytes + 1) } ?? 2
        let body = Bytes(base: raw, count: payloadCount)
        let t = Clock.resolve(tNs)
        if session == 0 {
            return publish(sessionID: nil, policy: TextPolicy(), type: type, payload: body, correlation: correlation,
                           turn: turn, tNs: t)
        }
        var status = VT_OK.rawValue
        let guardStatus = Recorder.guarded(session) { slot in
            var id = slot.meta.sessionID
            let policy = slot.meta.textPolicy
            status = id.withUTF8 { utf8 in
                publish(sessionID: Bytes(base: utf8.baseAddress ?? empty.utf8Start, count: utf8.count), policy: policy,
                        type: type, payload: body, correlation: correlation, turn: turn, tNs: t)
            }
        }
        return guardStatus != VT_OK.rawValue ? guardStatus : status
    }

    // MARK: - Core events (internal Swift API)

    /// Emit one of the library's own events for a live session. `json` must be a JSON object whose
    /// transcripts the caller has already treated per the session's TextPolicy (EventText.appendText
    /// does it). Core events are not rate limited (their rate is bounded by the sessions').
    /// Cheap no-op when no plugin is loaded. Safe from any thread, inside or outside the process lock
    /// and inside a session's writer guard.
    func emitCore(session: vt_session, type: StaticString, json: String, turnID: String? = nil, tNs: UInt64) {
        guard hasSinks else { return }
        _ = Recorder.guarded(session) { slot in
            emitCore(sessionID: slot.meta.sessionID, type: type, json: json, turnID: turnID, tNs: tNs)
        }
    }

    /// As above, for a session id known without a live handle (e.g. a session that just ended).
    func emitCore(sessionID: String?, type: StaticString, json: String, turnID: String? = nil, tNs: UInt64) {
        guard hasSinks else { return }
        let typeBytes = Bytes(base: type.utf8Start, count: type.utf8CodeUnitCount)
        var json = json
        var id = sessionID ?? ""
        var turnText = turnID ?? ""
        let status = json.withUTF8 { payload in
            id.withUTF8 { idBytes in
                turnText.withUTF8 { turnBytes in
                    let anchor: StaticString = ""
                    let idPart = sessionID == nil ? nil : Bytes(base: idBytes.baseAddress ?? anchor.utf8Start, count: idBytes.count)
                    let turnPart = turnID == nil ? nil : Bytes(base: turnBytes.baseAddress ?? anchor.utf8Start, count: min(turnBytes.count, Self.maxIDBytes))
                    return publish(sessionID: idPart, policy: nil, type: typeBytes,
                                   payload: Bytes(base: payload.baseAddress ?? anchor.utf8Start, count: payload.count),
                                   correlation: nil, turn: turnPart, tNs: Clock.resolve(tNs), rateLimited: false)
                }
            }
        }
        if status != VT_OK.rawValue {
            let line = "voicetelemetry: internal event '\(type)' was not emitted: \(String(cString: LastError.get()))\n"
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { raw in _ = Glibc.write(2, raw.baseAddress, raw.count) }
        }
    }

    /// A turn completed (record path: lock-free, no allocation). A full queue loses the event: it is
    /// counted for every plugin as emitted and dropped (queue_full), so the accounting stays exact.
    func queueTurnComplete(handle: UInt64, position: UInt64) {
        guard hasSinks else { return }
        if !turnEvents.push(handle: handle, position: position) { forEachPlugin { $0.countLostQueueFull() } }
    }

    // MARK: - Building and fan-out

    /// Build the envelope of one event and hand it to every live plugin. `policy` nil: the payload is
    /// validated but transcripts are not rewritten (core events treat theirs themselves).
    func publish(sessionID: Bytes?, policy: TextPolicy?, type: Bytes, payload: Bytes, correlation: Bytes?,
                 turn: Bytes?, tNs: UInt64, rateLimited: Bool = true) -> vt_status {
        do {
            // Not re-entered on one thread: plugins run on their own threads, never inside an emit.
            guard let base = ThreadScratch.cell() else { return fail(.internalError("no memory for the event buffer")) }
            var out = ByteWriter(base: base, capacity: Self.cellBytes)
            out.ascii("{\"type_id\":\"core::telemetry/event@1\",\"session_id\":")
            if let sessionID { out.jsonString(sessionID.base, sessionID.count) } else { out.ascii("null") }
            out.ascii(",\"event_type\":\"")
            out.bytes(type.base, type.count)
            out.ascii("\",\"correlation_id\":")
            if let correlation { out.jsonString(correlation.base, correlation.count) } else { out.ascii("null") }
            out.ascii(",\"turn_id\":")
            if let turn { out.jsonString(turn.base, turn.count) } else { out.ascii("null") }
            out.ascii(",\"timestamp_us\":")
            out.decimal(tNs / 1000)
            out.ascii(",\"data\":")
            let tooLong = payload.count > Self.cellBytes
            if !tooLong && JSONScan.isVerbatim(payload.base, payload.count, transcripts: policy != nil) {
                out.bytes(payload.base, payload.count)   // valid, compact, nothing to rewrite: one copy
            } else {
                var rewriter = JSONRewriter(input: payload.base, count: min(payload.count, Self.cellBytes), into: out, policy: policy)
                if !tooLong {
                    do throws(JSONRewriter.Problem) {
                        try rewriter.rewriteObject()
                    } catch {
                        return fail(.invalid("json_payload is not a valid JSON object: \(error.reason) (at byte \(error.offset))"))
                    }
                }
                out = rewriter.out
            }
            out.ascii("}\n")
            if tooLong || out.overflowed {
                forEachPlugin { $0.countRefused(rateLimited: false) }
                return fail(.limit("the event is longer than VT_MAX_EVENT_BYTES (\(Self.cellBytes)) with its envelope; not forwarded"))
            }
            guard hasSinks else { return VT_OK.rawValue }
            if rateLimited, !rateLimiter.admit(key: RateLimiter.hash(type.base, type.count), tNs: tNs) {
                forEachPlugin { $0.countRefused(rateLimited: true) }
                return VT_OK.rawValue
            }
            let line = UnsafeRawPointer(base)
            let n = out.count
            forEachPlugin { $0.offer(line, n) }
            return VT_OK.rawValue
        }
    }

    @inline(__always)
    func forEachPlugin(_ body: (Plugin) -> Void) {
        var live = liveSlots.load(ordering: .acquiring)
        while live != 0 {
            let i = live.trailingZeroBitCount
            live &= live &- 1
            _ = slotRefs[i]._withUnsafeGuaranteedRef { $0.withPlugin(body) }
        }
    }

    // MARK: - Argument checks

    static func isEventType(_ type: Bytes) -> Bool {
        for i in 0..<type.count {
            let c = type.base[i]
            let ok = (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") || c == UInt8(ascii: "-")
            if !ok { return false }
        }
        return true
    }

    static func idBytes(_ text: UnsafePointer<CChar>) -> Bytes? {
        let n = strnlen(text, maxIDBytes + 1)
        guard n <= maxIDBytes else { return nil }
        let bytes = UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self)
        guard UTF8Check.isValid(bytes, n) else { return nil }
        return Bytes(base: bytes, count: n)
    }
}
