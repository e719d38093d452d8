/*
 * runtime_tid_cache.h -- the Swift runtime's per-thread cache of the thread id, as the fork handlers
 * (fork_hooks.c) need it. Internal to the library; the reasons are in runtime_tid_cache.c.
 */
#ifndef VT_RUNTIME_TID_CACHE_H
#define VT_RUNTIME_TID_CACHE_H

/* Once, at load: find where the cache lives (nothing to find when the runtime is linked in). */
void runtime_tid_cache_find(void);
/* In the prepare handler, on the forking thread: note that thread's instance of the cache. */
void runtime_tid_cache_locate(void);
/* In the child handler: clear the instance noted, so the runtime asks the kernel again. */
void runtime_tid_cache_forget(void);

#endif
