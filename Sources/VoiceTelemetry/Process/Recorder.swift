// Recorder: the semantics of the record calls (audio, response latency, response turns, usage), on a
// session slot.
//
// Two ways in, both lock-free and allocation-free:
// - audioOut, the per-chunk call: a generation load and two tagged adds; it enters the writer guard
//   only when a response latency is waiting to be closed.
// - everything else goes through `SessionTable.guarded`, which holds the slot's writer guard while it
//   runs, so that ending the session waits for it and a reused slot never sees its writes.
import CVoiceTelemetry

enum Recorder {
    @inline(__always)
    static func audioOut(_ handle: vt_session, bytes: Int, tNs: UInt64) -> vt_status {
        guard let found = SessionTable.lookup(handle) else { return SessionTable.failUnknown(handle) }
        let generation = found.generation
        return found.slot._withUnsafeGuaranteedRef { slot -> vt_status in
            guard slot.generation.load(ordering: .relaxed) == generation, generation & 1 == 0 else {
                return SessionTable.failUnknown(handle)
            }
            guard bytes >= 0, UInt64(bytes) <= TaggedCounter.maxIncrement else { return failChunkTooLarge(bytes) }
            let tag = TaggedCounter.tag(ofGeneration: generation)
            guard slot.audioChunks.add(1, tag: tag),
                  let before = slot.audioBytes.addReturningPrevious(UInt64(bytes), tag: tag)
            else { return SessionTable.failUnknown(handle) }
            // The byte counter has 44 value bits: past them an add would carry into the tag (the live
            // session would answer VT_E_BAD_HANDLE and lose its count). Stop at half, so that chunks
            // racing this check still fit. Checked on the value the add returned: a load before it
            // would cost a second cache-line transfer when threads share a session.
            if before &+ UInt64(bytes) > maxSessionAudioBytes { return refuseSessionAudioFull(slot, bytes, tag) }
            if slot.pendingResponseNs.load(ordering: .relaxed) != 0 {
                return closeResponse(slot, generation: generation, handle: handle, bytes: bytes, tNs: tNs)
            }
            return VT_OK.rawValue
        }
    }

    @inline(never)
    private static func closeResponse(_ slot: SessionSlot, generation: UInt64, handle: vt_session, bytes: Int, tNs: UInt64) -> vt_status {
        let tag = TaggedCounter.tag(ofGeneration: generation)
        // The chunk and its bytes are counted; if the session is ending right now the latency is
        // not closed any more, but the call still succeeded (VT_OK means "the bytes were counted").
        guard slot.writers.add(1, tag: tag) else { return VT_OK.rawValue }
        let start = slot.pendingResponseNs.exchange(0, ordering: .relaxed)
        if start != 0 {
            recordLatency(slot, slot.response, slot.meta.responseSeries, start: start, end: slot.resolve(tNs))
            TurnCollector.firstAudioChunk(slot, bytes: bytes, tNs: tNs)   // the turn's first agent audio
        }
        slot.writers.leaveGuard()
        return VT_OK.rawValue
    }

    @inline(never)
    static func failChunkTooLarge(_ bytes: Int) -> vt_status {
        fail(.invalid("bytes \(UInt(bitPattern: bytes)) is larger than one chunk can be (1 TiB)"))
    }

    /// Most audio bytes one session counts (8 TiB; the counter holds 16 TiB).
    static let maxSessionAudioBytes: UInt64 = 1 << 43

    /// Take a chunk back that went past the session's limit. If the session ended meanwhile, its
    /// count was already folded (with this chunk): then the chunk stays counted and the call succeeded.
    @inline(never)
    static func refuseSessionAudioFull(_ slot: SessionSlot, _ bytes: Int, _ tag: UInt64) -> vt_status {
        guard slot.audioBytes.takeBack(UInt64(bytes), addedUnder: tag) else { return VT_OK.rawValue }
        slot.audioChunks.takeBack(1, addedUnder: tag)
        return fail(.limit("a chunk of \(bytes) bytes would take the session past 2^43 audio bytes (8 TiB); not counted"))
    }

    // MARK: - Event semantics (writer guard held)

    static func vadStart(_ slot: SessionSlot, _ tNs: UInt64) {
        slot.vadStarts.addGuarded(1)
        slot.pendingResponseNs.store(0, ordering: .relaxed)   // the user is talking again
        TurnCollector.mark(slot, TurnStage.userSpeech, TurnStage.start, tNs)
    }

    static func vadEnd(_ slot: SessionSlot, _ tNs: UInt64) {
        slot.vadEnds.addGuarded(1)
        slot.pendingResponseNs.store(slot.resolve(tNs), ordering: .relaxed)
        TurnCollector.mark(slot, TurnStage.userSpeech, TurnStage.end, tNs)
    }

    static func textSend(_ slot: SessionSlot, _ tNs: UInt64) {
        slot.textSends.addGuarded(1)
        slot.pendingTextNs.store(slot.resolve(tNs), ordering: .relaxed)
    }

    static func textOut(_ slot: SessionSlot, _ tNs: UInt64) {
        let start = slot.pendingTextNs.exchange(0, ordering: .relaxed)
        if start != 0 {
            recordLatency(slot, slot.textResponse, slot.meta.textResponseSeries, start: start, end: slot.resolve(tNs))
        }
    }

    static func interruption(_ slot: SessionSlot, _ tNs: UInt64) {
        slot.interruptions.addGuarded(1)
        if EventBus.shared.hasSinks { CoreEvents.interruption(slot, tNs) }
        TurnCollector.mark(slot, TurnStage.interruption, TurnStage.start, tNs)
    }

    static func turnStart(_ slot: SessionSlot, _ tNs: UInt64) {
        _ = slot.openTurnNs.compareExchange(expected: 0, desired: slot.resolve(tNs), ordering: .relaxed)
    }

    static func turnComplete(_ slot: SessionSlot, _ tNs: UInt64) {
        if slot.turnMemory.base != nil {
            TurnCollector.complete(slot, slot.turnMemory, by: .turnComplete, t: slot.resolve(tNs))
        }
        let start = slot.openTurnNs.exchange(0, ordering: .relaxed)
        guard start != 0 else { return }
        slot.turns.addGuarded(1)
        recordLatency(slot, slot.turnDuration, slot.meta.turnSeries, start: start, end: slot.resolve(tNs))
    }

    /// Reported fields (>= 0) replace the latest value and add to the running total, which stops at
    /// Int64.max (the snapshot then says the totals are saturated) rather than wrap.
    static func usage(_ slot: SessionSlot, _ value: (UsageField) -> Int64, tNs: UInt64) {
        slot.usageReports.addGuarded(1)
        for field in UsageField.allCases {
            let reported = value(field)
            guard reported >= 0 else { continue }
            slot.usageLatest[field.rawValue].store(reported, ordering: .relaxed)
            slot.usageTotals[field.rawValue].saturatingAdd(reported)
        }
        if EventBus.shared.hasSinks { CoreEvents.usage(slot, value, tNs: tNs) }
    }

    /// One latency from `start` to `end`; an end before its start is counted, never clamped.
    private static func recordLatency(_ slot: SessionSlot, _ latency: borrowing SessionLatency, _ series: Series?,
                                      start: UInt64, end: UInt64) {
        guard end >= start else {
            slot.outOfOrder.addGuarded(1)
            return
        }
        let ns = end - start
        latency.record(ns)
        series?.histogram?.observe(Double(ns) / 1e9, nanoUnits: ns)
    }
}
