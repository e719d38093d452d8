// PluginSlot: one of the VT_MAX_PLUGINS places a loaded plugin lives in; never freed.
//
// Same liveness protocol as SessionSlot: `generation` is even while a plugin lives here, odd while the
// slot is free; `users` is a TaggedCounter of threads inside the slot (emitters, stats readers). An
// unload makes the generation odd, retags `users` and waits for those inside to leave; after that no
// thread but the unloader can reach the plugin.
import CVoiceTelemetry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class PluginSlot: @unchecked Sendable {
    static let indexBits: UInt64 = 4   // VT_MAX_PLUGINS = 16
    static let indexMask: UInt64 = (1 << indexBits) - 1

    let index: Int
    let generation = Atomic<UInt64>(1)
    let users = TaggedCounter(tag: 1)
    /// Unretained address of the live plugin's inbox (the registry keeps the plugin alive); 0 when free.
    let address = Atomic<UInt>(0)

    init(index: Int) { self.index = index }

    /// Run `body` with the inbox of this slot's live plugin, if any (lock-free; no retain).
    @inline(__always)
    func withPlugin<R>(_ body: (PluginInbox) -> R) -> R? {
        let g = generation.load(ordering: .acquiring)
        guard g & 1 == 0, users.add(1, tag: TaggedCounter.tag(ofGeneration: g)) else { return nil }
        defer { users.leaveGuard() }
        guard let raw = UnsafeRawPointer(bitPattern: address.load(ordering: .acquiring)) else { return nil }
        return Unmanaged<PluginInbox>.fromOpaque(raw)._withUnsafeGuaranteedRef { body($0) }
    }

    /// The plugin with id `id` if it lives here.
    @inline(__always)
    func withPlugin<R>(id: vt_plugin_id, _ body: (PluginInbox) -> R) -> R? {
        withPlugin { plugin in plugin.id == id ? body(plugin) : nil } ?? nil
    }

    // MARK: - Registry lock held

    /// Make the free slot live with `plugin` (whose id carries generation + 1).
    func open(_ plugin: PluginInbox, generation newGeneration: UInt64) {
        address.store(UInt(bitPattern: Unmanaged.passUnretained(plugin).toOpaque()), ordering: .releasing)
        users.retagKeeping(to: TaggedCounter.tag(ofGeneration: newGeneration))
        generation.store(newGeneration, ordering: .releasing)
    }

    /// Close the live slot: afterwards no other thread is inside or can enter.
    func close() {
        let g = generation.load(ordering: .relaxed)
        guard g & 1 == 0 else { return }
        generation.store(g &+ 1, ordering: .releasing)
        users.retagKeeping(to: TaggedCounter.tag(ofGeneration: g &+ 1))
        while users.value() != 0 { sched_yield() }
        address.store(0, ordering: .releasing)
    }

    /// In a child after fork: free, whatever it held (emitters that were inside are gone).
    func forgetAfterFork() {
        users.forgetInFlight()
        close()
    }
}
