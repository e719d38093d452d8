// ProcessState: the library's one global: the session table and the metric registry, and the one lock
// that serialises everything that is not a record call (create, end, snapshot, metrics, scrape).
import CVoiceTelemetry
import Synchronization

final class ProcessState: @unchecked Sendable {
    static let shared = ProcessState()

    let sessions = SessionTable()
    private let lock = Lock<Void>(())
    private let registry = Registry(builtIn: TurnFamilies.specs)
    private var idSerial: UInt64 = 0
    private var openSerial: UInt64 = 0
    private let idKey: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    func locked<T>(_ body: (Registry) throws(Failure) -> T) throws(Failure) -> T {
        try lock.withLock { (_: inout Void) throws(Failure) -> T in try body(registry) }
    }

    // MARK: - Fork (ForkSafety)

    func lockForFork() { lock.lockForFork() }
    func unlockAfterFork() { lock.unlockAfterFork() }

    /// In a child after fork (process lock held): record calls that other threads of the parent
    /// were making are over; their writer guards would otherwise never drain.
    func forgetOtherThreads() { sessions.forEachCreated { $0.writers.forgetInFlight() } }

    // MARK: - Sessions

    func createSession(_ config: SessionConfig) throws(Failure) -> vt_session {
        try locked { (registry) throws(Failure) -> vt_session in
            let slot = try sessions.acquireSlot()
            let labels = config.labels
            var meta = SessionMeta(sessionID: config.sessionID ?? nextSessionID(), labels: labels,
                                   textPolicy: config.textPolicy, turnHistory: config.turnHistory)
            meta.setClock(start: config.startNs, media: config.mediaClock)
            meta.metadataJSON = config.metadataJSON
            let trace = config.trace ?? TraceContext()
            meta.traceID = trace.traceID
            meta.parentSpanID = trace.parentSpanID
            meta.exemplarKey = ExemplarKey(sessionID: meta.sessionID, traceID: meta.traceID)
            openSerial &+= 1
            meta.serial = openSerial
            for family in registry.sessionFamilies {
                if let measure = family.measure {
                    meta.measureSeries[measure] = registry.sessionSeries(family, sessionLabels: labels)
                }
            }
            meta.responseSeries = registry.sessionSeries(registry.responseLatency, sessionLabels: labels)
            meta.textResponseSeries = registry.sessionSeries(registry.textResponseLatency, sessionLabels: labels)
            meta.turnSeries = registry.sessionSeries(registry.turnDuration, sessionLabels: labels)
            do throws(Failure) { try TurnCollector.prepare(slot, meta: &meta, registry: registry) } catch {
                sessions.releaseSlot(slot)
                throw error
            }
            let generation = slot.open(meta: meta)
            if EventBus.shared.hasSinks { CoreEvents.sessionStarted(slot) }
            return (generation << SessionSlot.handleIndexBits) | UInt64(slot.index)
        }
    }

    /// End a session at `atNs` on its clock (0 = now).
    func endSession(_ handle: vt_session, atNs: UInt64) throws(Failure) {
        try locked { (_) throws(Failure) in
            let slot = try liveSlot(handle)
            guard slot.close(expected: handle >> SessionSlot.handleIndexBits) else {
                throw .badHandle("session handle \(handle) is unknown or has ended")
            }
            let endNs = slot.resolve(atNs)
            TurnCollector.sessionEnded(slot)   // completes the open turn
            Charges.sessionEnds(slot, endNs: endNs)   // its transport cost (Cost/Charges.swift)
            if EventBus.shared.hasSinks {
                CoreEvents.drainTurnEvents(self)   // its turn.complete events, while the slot still exists
                CoreEvents.sessionEnded(slot, atNs: endNs)   // final snapshot (last turn included), before the fold
            }
            CostMetrics.fold(slot)
            var finals = slot.drainCounters()
            finals[.sessionsTotal] = 1
            for (measure, series) in slot.meta.measureSeries {
                series.retired &+= finals[measure] ?? 0
            }
            slot.meta = SessionMeta()
            sessions.releaseSlot(slot)
        }
    }

    /// The slot of a live session (process lock held, so it stays live until the lock is released).
    /// `allowClosing`: also the session vt_end_session is ending right now (closed, not yet released).
    func liveSlot(_ handle: vt_session, allowClosing: Bool = false) throws(Failure) -> SessionSlot {
        guard let found = SessionTable.lookup(handle) else {
            throw .badHandle("session handle \(handle) is unknown")
        }
        let slot = found.slot.takeUnretainedValue()
        let current = slot.generation.load(ordering: .acquiring)
        let closing = allowClosing && current == found.generation &+ 1 && !slot.meta.sessionID.isEmpty
        guard handle != 0, found.generation & 1 == 0, current == found.generation || closing
        else { throw .badHandle("session handle \(handle) is unknown or has ended") }
        return slot
    }

    /// Emit the queued turn.complete events (plugin threads call this; see TurnEventQueue).
    func drainTurnEvents() {
        guard !EventBus.shared.turnEvents.isEmpty else { return }
        try? locked { (_) in CoreEvents.drainTurnEvents(self) }
    }

    private func nextSessionID() -> String {
        idSerial &+= 1
        // splitmix64's finaliser is a bijection: distinct serials give distinct ids.
        var z = idSerial &+ idKey
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        z ^= z >> 31
        let hex = String(z, radix: 16)
        return "vt-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: - Exposition

    /// The exposition in `format`, written straight into `capacity` bytes at `buffer` (BUFFERS): its
    /// length, and whether it fit (then it is NUL-terminated there).
    func promText(_ format: ExpositionFormat, into buffer: UnsafeMutablePointer<CChar>?, capacity: Int)
        -> (length: Int, fits: Bool) {
        (try? locked { (registry) -> (length: Int, fits: Bool) in
            for family in registry.sessionFamilies { for series in family.series { series.liveScratch = 0 } }
            sessions.forEachLive { slot in
                for (measure, series) in slot.meta.measureSeries {
                    series.liveScratch &+= slot.counterValue(measure)
                }
            }
            var out = PromWriter(buffer: buffer, capacity: capacity)
            PromText.render(registry, format: format, into: &out)
            CostMetrics.render(into: &out, format: format, sessions: sessions)
            PluginMetrics.render(into: &out, format: format)
            if format == .openMetrics { out.append("# EOF\n" as StaticString) }
            let fits = out.finish()
            return (out.count, fits)
        }) ?? (0, false)
    }
}
