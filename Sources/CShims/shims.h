/* shims.h -- compiler builtins Swift cannot spell, as static inline functions (inlined into the
 * Swift code; nothing here is exported from the library).
 *
 * SwiftPM does not track this header: after editing it, touch a Swift file that imports CShims. */
#ifndef VT_CSHIMS_H
#define VT_CSHIMS_H

#include <stdint.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

/* Ask for the cache line at p in a writable state, ahead of a store (no fault if p is unmapped). */
static inline __attribute__((always_inline)) void shim_prefetch_for_write(const void *p) {
#if defined(__x86_64__)
    /* PREFETCHW (a hint: CPUs without it treat the encoding as a no-op). */
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/* Ask for the cache line at p ahead of a load. */
static inline __attribute__((always_inline)) void shim_prefetch_for_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/* The CPU's time-stamp counter (x86-64 RDTSC, not serialising); 0 where there is none. */
static inline __attribute__((always_inline)) uint64_t shim_ticks(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

/* Let the calling thread's timed waits end within `ns` of their deadline (Linux's default slack is
 * 50 us). Returns 0, or -1 where it cannot be set. */
static inline int shim_set_timer_slack(unsigned long ns) {
#if defined(__linux__)
    return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0);
#else
    (void)ns;
    return -1;
#endif
}

/* v truncated to an integer, for -2^63 < v < 2^63 only (callers check the range, so the conversion
 * needs no trap: one instruction). */
static inline __attribute__((always_inline)) int64_t shim_whole(double v) {
    return (int64_t)v;
}
#endif
