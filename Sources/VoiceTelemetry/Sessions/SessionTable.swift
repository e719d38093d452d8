// SessionTable: handle -> slot, lock-free for lookups. Slots are created on first use and never freed;
// a freed slot waits in a FIFO queue and is reused oldest-first once `quarantine` others are queued,
// so a slot comes back to life as late as possible after its previous session ended.
import CVoiceTelemetry
import Synchronization

/// The address of the slot table, published once when the process state is created. A global `let`
/// of an Atomic is initialised statically, so a record call reads it with one load (no lazy-global
/// check, no pointer chase through the process state).
private let publishedSlots = Atomic<UInt>(0)

final class SessionTable: @unchecked Sendable {
    static let capacity = Int(VT_MAX_SESSIONS)
    static let quarantine = 1024

    /// Slot object addresses (0 = slot never created). Published with release, read with acquire.
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    // Under the process lock:
    private var created: [SessionSlot] = []
    private var freeQueue: [Int] = []
    private var freeHead = 0
    private(set) var openCount = 0

    init() {
        slots = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity { (slots + i).initialize(to: Atomic(0)) }
        publishedSlots.store(UInt(bitPattern: slots), ordering: .releasing)
    }

    /// The slot a handle names and the generation it claims; nil for an impossible handle.
    /// Whether that session is still live is for the caller to check against the generation.
    @inline(__always)
    static func lookup(_ handle: vt_session) -> (slot: Unmanaged<SessionSlot>, generation: UInt64)? {
        let index = Int(handle & SessionSlot.handleIndexMask)
        guard index < capacity,
              let slots = UnsafeMutablePointer<Atomic<UInt>>(bitPattern: publishedSlots.load(ordering: .acquiring)),
              let address = UnsafeRawPointer(bitPattern: slots[index].load(ordering: .acquiring))
        else { return nil }
        return (Unmanaged<SessionSlot>.fromOpaque(address), handle >> SessionSlot.handleIndexBits)
    }

    /// Run `body` inside the writer guard of a live session.
    @inline(__always)
    static func guarded(_ handle: vt_session, _ body: (SessionSlot) -> Void) -> vt_status {
        guard let found = SessionTable.lookup(handle) else { return failUnknown(handle) }
        let generation = found.generation
        return found.slot._withUnsafeGuaranteedRef { slot -> vt_status in
            guard slot.generation.load(ordering: .acquiring) == generation, generation & 1 == 0,
                  slot.writers.add(1, tag: TaggedCounter.tag(ofGeneration: generation))
            else { return failUnknown(handle) }
            body(slot)
            slot.writers.leaveGuard()
            return VT_OK.rawValue
        }
    }

    // Out of line, so the record paths need no stack frame for it.
    @inline(never)
    static func failUnknown(_ handle: vt_session) -> vt_status {
        fail(handle == 0 ? .badHandle("session handle is 0")
                         : .badHandle("session handle \(handle) is unknown or has ended"))
    }

    // MARK: - Under the process lock

    func acquireSlot() throws(Failure) -> SessionSlot {
        guard openCount < Self.capacity else {
            throw .limit("\(Self.capacity) sessions are open (VT_MAX_SESSIONS); end one first")
        }
        let queued = freeQueue.count - freeHead
        let slot: SessionSlot
        if queued > 0 && (queued >= Self.quarantine || created.count == Self.capacity) {
            let index = freeQueue[freeHead]
            freeHead += 1
            if freeHead > 4096 && freeHead * 2 > freeQueue.count {   // compact the consumed prefix
                freeQueue.removeFirst(freeHead)
                freeHead = 0
            }
            slot = created[index]
        } else {
            slot = SessionSlot(index: created.count)
            created.append(slot)   // keeps the slot alive for the life of the process
            slots[slot.index].store(UInt(bitPattern: Unmanaged.passUnretained(slot).toOpaque()), ordering: .releasing)
        }
        openCount += 1
        return slot
    }

    func releaseSlot(_ slot: SessionSlot) {
        freeQueue.append(slot.index)
        openCount -= 1
    }

    /// Every slot with a live session (for scrapes), in index order.
    func forEachLive(_ body: (SessionSlot) -> Void) {
        for slot in created where slot.generation.load(ordering: .relaxed) & 1 == 0 { body(slot) }
    }

    /// Every slot ever created, live or not.
    func forEachCreated(_ body: (SessionSlot) -> Void) {
        for slot in created { body(slot) }
    }
}
