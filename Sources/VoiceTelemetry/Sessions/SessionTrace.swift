// SessionTrace: what a session keeps for the trace calls (steps, messages, rewards): its open engine
// steps, innermost last, and how many it has started. Read and written under the process lock only.

struct SessionTrace {
    var openSteps: [String] = []
    var stepsStarted = 0

    /// The step id of "now": the innermost open engine step, else the turn being assembled
    /// ("turn-N", N = turns recorded so far + 1), else nil between turns.
    func currentStep(_ slot: SessionSlot) -> String? {
        if let step = openSteps.last { return step }
        let m = slot.turnMemory
        guard m.base != nil, m.bank(m.curIndex).word(TurnWord.lastEvent) != 0 else { return nil }
        return "turn-\(m.control(TurnMemory.turnSeq)[0].load(ordering: .relaxed) + 1)"
    }

    /// Steps so far: turns recorded and engine steps started.
    func totalSteps(_ slot: SessionSlot) -> UInt64 {
        let m = slot.turnMemory
        let turns = m.base != nil ? m.control(TurnMemory.turnSeq)[0].load(ordering: .relaxed) : 0
        return turns + UInt64(stepsStarted)
    }
}
