/*
 * alloc_counter.h -- an interposed allocator that counts every malloc, calloc, realloc and
 * posix_memalign of the process (the library's included) in `allocations`, and those of the calling
 * thread in `thread_allocations`: for the "allocations per call / per scrape" rows of the C benches
 * and for tests/c/test_allocations.c. Include it in exactly one file of a program, and not in a
 * sanitizer build (the sanitizer's allocator must stay the one that runs).
 */
#ifndef VT_BENCH_ALLOC_COUNTER_H
#define VT_BENCH_ALLOC_COUNTER_H

#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static atomic_ulong allocations;
static __thread unsigned long thread_allocations;
static void count_allocation(void) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    thread_allocations++;
}
void *malloc(size_t n) { count_allocation(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count_allocation(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count_allocation(); return __libc_realloc(p, n); }
int posix_memalign(void **out, size_t align, size_t n) {
    count_allocation();
    *out = __libc_memalign(align, n);
    return *out ? 0 : 12;
}

#endif /* VT_BENCH_ALLOC_COUNTER_H */
