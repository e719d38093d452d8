/*
 * fork_hooks.c -- registers the library's fork handlers when the library is loaded, before any of
 * its code runs (a constructor: Swift has none), so that no fork can come before them.
 *
 * The handlers themselves are Swift (Core/ForkSafety.swift). The child's handler first clears the
 * Swift runtime's per-thread cache of the thread id: the runtime's locks store their owner's id in
 * the lock word, and the forking thread, the only one a child has, would otherwise go on using its
 * parent's id there. A contended lock then fails FUTEX_LOCK_PI / FUTEX_UNLOCK_PI (EPERM) forever, and
 * the child spins at 100% CPU. The cache is the function-local `tid` of the runtime's inline
 * swift::threading_impl::linux::ulock_get_tid() (swift/Threading/Impl/Linux/ulock.h); it can be named
 * only where the runtime is linked into this library (-static-stdlib, the released build, which
 * defines VT_STATIC_SWIFT_RUNTIME). Builds against the shared runtime (debug, sanitizers) cannot
 * reach it and keep the runtime's own behaviour.
 */
#include <pthread.h>

#include "fork_hooks.h"

void voicetelemetry_fork_prepare(void);
void voicetelemetry_fork_parent(void);
void voicetelemetry_fork_child(void);

#ifdef VT_STATIC_SWIFT_RUNTIME
/* Hidden: it lives in this library, so its address needs no symbol in the dynamic table. */
extern __thread int swift_runtime_cached_tid
    __asm__("_ZZN5swift14threading_impl5linux13ulock_get_tidEvE3tid") __attribute__((visibility("hidden")));
static void forget_parent_thread_id(void) { swift_runtime_cached_tid = 0; }
#else
static void forget_parent_thread_id(void) {}
#endif

static void child(void) {
    forget_parent_thread_id();   /* before any Swift code can take a runtime lock */
    voicetelemetry_fork_child();
}

__attribute__((constructor)) static void register_fork_handlers(void) {
    pthread_atfork(voicetelemetry_fork_prepare, voicetelemetry_fork_parent, child);
}
