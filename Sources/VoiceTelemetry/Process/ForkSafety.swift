// ForkSafety: the library's pthread_atfork handlers (registered at load by Sources/CForkHooks; the
// contract is the header's "Processes" section).
//
// Before fork: every global the library keeps is made (so a child never has to initialise one), and
// the library's locks are taken in their one order (plugin registry, plugin directory, process),
// so no other thread is inside them when the process is copied.
// After fork, in the parent: the locks are released; nothing else changes.
// After fork, in the child (its only thread is the one that forked): the locks are released, and
// what other threads were doing is forgotten: record calls that were in flight (their guards),
// completed turns waiting for a plugin thread, a clock redraw. The parent's plugins are forgotten
// without being called (their threads did not survive the fork, and their files and connections
// belong to the parent); the child starts with none loaded and may load its own.
import CVoiceTelemetry

enum ForkSafety {
    static func prepare() {
        _ = ProcessState.shared
        _ = EventBus.shared
        _ = seriesCache
        _ = SessionLatency.layout
        _ = LatencyHistogram.layout
        PluginRegistry.shared.lockForFork()
        ProcessState.shared.lockForFork()
    }

    static func parent() {
        ProcessState.shared.unlockAfterFork()
        PluginRegistry.shared.unlockAfterFork()
    }

    static func child() {
        ProcessState.shared.forgetOtherThreads()
        EventBus.shared.forgetOtherThreads()
        PluginRegistry.shared.forgetPluginsAfterFork()
        ProcessState.shared.unlockAfterFork()
        PluginRegistry.shared.unlockAfterFork()
    }
}

// Called by Sources/CForkHooks/fork_hooks.c (not exported: the version script keeps only vt_*).
@c(voicetelemetry_fork_prepare) func voicetelemetryForkPrepare() { ForkSafety.prepare() }
@c(voicetelemetry_fork_parent) func voicetelemetryForkParent() { ForkSafety.parent() }
@c(voicetelemetry_fork_child) func voicetelemetryForkChild() { ForkSafety.child() }
