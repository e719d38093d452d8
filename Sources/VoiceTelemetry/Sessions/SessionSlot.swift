// SessionSlot: the memory of one session, reused by later sessions (never freed).
//
// Liveness protocol (see TaggedCounter):
// - `generation` is even while a session lives in the slot, odd while the slot is free. A handle
//   carries the generation it was created with, so ended and made-up handles fail a plain load.
// - Per-chunk audio counters are TaggedCounters: one relaxed add counts and checks ownership.
// - Everything else (latencies, pending timestamps, usage) is written inside the writer guard:
//   a TaggedCounter counting writers in flight. Ending a session retags the guard, waits for the
//   writers inside to leave, then folds and retags the counters; reuse resets the rest.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Immutable facts of a live session; written only while the slot is not live (process lock held).
struct SessionMeta {
    var sessionID = ""
    var labels: [Label] = []
    /// The session's start on its own clock.
    var startNs: UInt64 = 0
    /// The session's clock minus CLOCK_MONOTONIC (0 on the monotonic clock; wrapping arithmetic).
    var clockOffsetNs: UInt64 = 0
    /// The wall clock (Unix epoch ns) minus the session's clock: wall time = t &+ unixOffsetNs.
    var unixOffsetNs: UInt64 = 0
    var mediaClock = false
    /// The compact metadata JSON object of the session's config, if any.
    var metadataJSON: String?
    /// 32 lowercase hex digits; the caller's span (16 hex digits) when a traceparent joined a trace.
    var traceID = ""
    var parentSpanID: String?
    /// The session id and trace id as the exemplars of its turns carry them (Metrics/Exemplars.swift).
    var exemplarKey = ExemplarKey()
    /// Creation order among sessions (vt_sessions_json lists oldest first; vt_session_find takes the newest).
    var serial: UInt64 = 0
    var textPolicy = TextPolicy()
    var turnHistory = Int(VT_DEFAULT_TURN_HISTORY)
    /// The built-in series this session feeds, resolved at creation.
    var measureSeries: [SessionMeasure: Series] = [:]
    var responseSeries: Series?
    var textResponseSeries: Series?
    var turnSeries: Series?
    /// The series the turn collector feeds (TurnState/TurnSeriesSet.swift).
    var turnSeriesSet: TurnSeriesSet?
}

extension SessionMeta {
    /// Now on the session's clock.
    @inline(__always)
    func now() -> UInt64 { Clock.nowNs() &+ clockOffsetNs }

    /// A caller's timestamp on the session's clock, with 0 standing for now.
    @inline(__always)
    func resolve(_ tNs: UInt64) -> UInt64 { tNs == 0 ? now() : tNs }

    var startUnixNs: UInt64 { startNs &+ unixOffsetNs }

    /// Put the session on its clock, now: `start` is the session's start on that clock (on the
    /// monotonic clock 0 means now; a media clock reads `start`, whatever it is, at this moment).
    mutating func setClock(start: UInt64, media: Bool) {
        let monotonic = Clock.nowNs(), wall = Clock.wallNs()
        mediaClock = media
        startNs = media || start != 0 ? start : monotonic
        clockOffsetNs = media ? start &- monotonic : 0
        unixOffsetNs = wall &- (monotonic &+ clockOffsetNs)
    }
}

/// The usage fields of vt_usage, in order.
enum UsageField: Int, CaseIterable {
    case total, prompt, response, cached, thoughts

    /// Its key in the usage event's data.
    var key: StaticString {
        switch self {
        case .total: return "total"
        case .prompt: return "prompt"
        case .response: return "response"
        case .cached: return "cached"
        case .thoughts: return "thoughts"
        }
    }
}

final class SessionSlot: @unchecked Sendable {
    // Layout (stored properties of a final class are laid out in declaration order): what every
    // audio chunk reads but rarely changes (generation, pending response) lies a cache line away
    // from the two counters every chunk writes, so threads recording on one session contend only on
    // the counters' line, as two plain atomic adds would.
    let index: Int
    let generation = Atomic<UInt64>(1)
    /// Written inside the writer guard (once per turn); read by every audio chunk. 0 = none pending.
    let pendingResponseNs = Atomic<UInt64>(0)
    private let padRead: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let audioChunks = TaggedCounter(tag: 1)
    let audioBytes = TaggedCounter(tag: 1)
    private let padWrite: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let writers = TaggedCounter(tag: 1)

    // Counters (TaggedCounters: exact across end and reuse).
    let interruptions = TaggedCounter(tag: 1)
    let turns = TaggedCounter(tag: 1)
    let vadStarts = TaggedCounter(tag: 1)
    let vadEnds = TaggedCounter(tag: 1)
    let textSends = TaggedCounter(tag: 1)
    let usageReports = TaggedCounter(tag: 1)
    let outOfOrder = TaggedCounter(tag: 1)

    // Written inside the writer guard. 0 = nothing pending (resolved timestamps are never 0).
    let pendingTextNs = Atomic<UInt64>(0)
    let openTurnNs = Atomic<UInt64>(0)
    let response = SessionLatency()
    let textResponse = SessionLatency()
    let turnDuration = SessionLatency()
    let usageLatest: UnsafeMutablePointer<Atomic<Int64>>
    let usageTotals: UnsafeMutablePointer<Atomic<Int64>>

    /// Read by the guarded paths after an acquiring generation load, and by snapshots under the lock.
    var meta = SessionMeta()
    /// Steps of the trace calls (process lock).
    var trace = SessionTrace()
    /// The turn collector's memory (TurnState/TurnMemory.swift): set up at creation, like meta.
    var turnMemory = TurnMemory()
    /// The session id's UTF-8 bytes and how many bytes its JSON escaping adds, for events: vt_emit
    /// reads them inside the writer guard without touching (retaining) the String. Set by open().
    let idBytes: UnsafeMutablePointer<UInt8>
    private(set) var idCount = 0
    private(set) var idEscapeExtra = 0

    init(index: Int) {
        self.index = index
        idBytes = .allocate(capacity: Int(VT_MAX_SESSION_ID_BYTES))
        let n = UsageField.allCases.count
        usageLatest = .allocate(capacity: n)
        usageTotals = .allocate(capacity: n)
        for i in 0..<n {
            (usageLatest + i).initialize(to: Atomic(-1))
            (usageTotals + i).initialize(to: Atomic(0))
        }
    }

    deinit {
        idBytes.deallocate()
        usageLatest.deallocate()
        usageTotals.deallocate()
    }

    static let handleIndexBits: UInt64 = 20
    static let handleIndexMask: UInt64 = (1 << handleIndexBits) - 1

    /// The handle of the session in the slot, also while vt_end_session is closing it.
    var sessionHandle: vt_session {
        let g = generation.load(ordering: .relaxed)
        return ((g & 1 == 0 ? g : g &- 1) << Self.handleIndexBits) | UInt64(index)
    }

    /// `meta.resolve(tNs)` without a copy of `meta`: a method called on a class's struct property
    /// copies the whole struct first (retaining every string, array and series in it, then releasing
    /// them: an outlined copy and a memmove in vt_turn_usage); a single field is read in place.
    @inline(__always)
    func resolve(_ tNs: UInt64) -> UInt64 { tNs == 0 ? Clock.nowNs() &+ meta.clockOffsetNs : tNs }

    // MARK: - Counted values (folded into process counters at end)

    func counterValue(_ measure: SessionMeasure) -> UInt64 {
        switch measure {
        case .sessionsActive, .sessionsTotal: return 1
        case .audioBytes: return audioBytes.value()
        case .audioChunks: return audioChunks.value()
        case .interruptions: return interruptions.value()
        case .turns: return turns.value()
        }
    }

    // MARK: - Life cycle (process lock held)

    /// Make the slot live for a new session; returns its generation. The slot must be free.
    func open(meta newMeta: SessionMeta) -> UInt64 {
        let newGeneration = generation.load(ordering: .relaxed) &+ 1   // odd -> even
        let tag = TaggedCounter.tag(ofGeneration: newGeneration)
        _ = audioChunks.retagResetting(to: tag)
        _ = audioBytes.retagResetting(to: tag)
        _ = interruptions.retagResetting(to: tag)
        _ = turns.retagResetting(to: tag)
        _ = vadStarts.retagResetting(to: tag)
        _ = vadEnds.retagResetting(to: tag)
        _ = textSends.retagResetting(to: tag)
        _ = usageReports.retagResetting(to: tag)
        _ = outOfOrder.retagResetting(to: tag)
        pendingResponseNs.store(0, ordering: .relaxed)
        pendingTextNs.store(0, ordering: .relaxed)
        openTurnNs.store(0, ordering: .relaxed)
        response.reset()
        textResponse.reset()
        turnDuration.reset()
        for i in 0..<UsageField.allCases.count {
            usageLatest[i].store(-1, ordering: .relaxed)
            usageTotals[i].store(0, ordering: .relaxed)
        }
        meta = newMeta
        trace = SessionTrace()
        var id = newMeta.sessionID
        id.withUTF8 { utf8 in
            idCount = min(utf8.count, Int(VT_MAX_SESSION_ID_BYTES))
            if let source = utf8.baseAddress { idBytes.update(from: source, count: idCount) }
        }
        idEscapeExtra = ByteWriter.escapeExtra(idBytes, idCount) ?? 0   // a String: valid UTF-8
        writers.retagKeeping(to: tag)
        generation.store(newGeneration, ordering: .releasing)
        return newGeneration
    }

    /// End the live session of `expected` generation: returns false if it is not that session.
    /// Afterwards no record call can change the slot; the caller folds counters, then frees it.
    func close(expected: UInt64) -> Bool {
        let (done, _) = generation.compareExchange(
            expected: expected, desired: expected &+ 1, ordering: .acquiringAndReleasing)
        guard done else { return false }
        let closedTag = TaggedCounter.tag(ofGeneration: expected &+ 1)
        writers.retagKeeping(to: closedTag)
        while writers.value() != 0 { sched_yield() }
        return true
    }

    /// Final counter values of the just-closed session; the counters then carry the closed tag.
    func drainCounters() -> [SessionMeasure: UInt64] {
        let tag = TaggedCounter.tag(ofGeneration: generation.load(ordering: .relaxed))
        return [
            .audioBytes: audioBytes.retagResetting(to: tag),
            .audioChunks: audioChunks.retagResetting(to: tag),
            .interruptions: interruptions.retagResetting(to: tag),
            .turns: turns.retagResetting(to: tag),
        ]
    }
}
