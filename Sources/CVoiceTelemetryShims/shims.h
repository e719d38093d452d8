/*
 * shims.h -- compiler intrinsics the Swift core needs and Swift does not expose. Internal: not part
 * of the C ABI and never installed. Header-only (static inline), so nothing is linked.
 */
#ifndef VOICETELEMETRY_SHIMS_H
#define VOICETELEMETRY_SHIMS_H

/* Start moving the cache line at `p` into this core's cache, for writing, without waiting for it. */
static inline void vt_shim_prefetch_for_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
