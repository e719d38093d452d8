/*
 * fork_hooks.c -- registers the library's fork handlers when the library is loaded, before any of
 * its code runs (a constructor: Swift has none), so that no fork can come before them.
 *
 * The handlers themselves are Swift (Process/ForkSafety.swift). The child's handler first clears the
 * Swift runtime's per-thread cache of the thread id (runtime_tid_cache.c): the runtime's locks store
 * their owner's id in the lock word, and the forking thread, the only one a child has, would
 * otherwise go on using its parent's id there. A contended lock (a lazy global initialised by two of
 * the child's threads at once, for one) then fails FUTEX_LOCK_PI / FUTEX_UNLOCK_PI and the child hangs.
 */
#include <pthread.h>

#include "fork_hooks.h"
#include "runtime_tid_cache.h"

void voicetelemetry_fork_prepare(void);
void voicetelemetry_fork_parent(void);
void voicetelemetry_fork_child(void);

static void prepare(void) {
    runtime_tid_cache_locate();   /* the forking thread's cache: the one the child will have */
    voicetelemetry_fork_prepare();
}

static void child(void) {
    runtime_tid_cache_forget();   /* before any Swift code can take a runtime lock */
    voicetelemetry_fork_child();
}

__attribute__((constructor)) static void register_fork_handlers(void) {
    runtime_tid_cache_find();
    pthread_atfork(prepare, voicetelemetry_fork_parent, child);
}
