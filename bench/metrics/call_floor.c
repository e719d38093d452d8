/* call_floor.c -- the floor of a handle write: what vt_metric_add must do at least, written in C and
 * built as its own shared library (libcallfloor.so), so that bench_metrics calls it the way it calls
 * the library: through the PLT, a double argument checked as a whole number, one relaxed atomic add. */
#include <stdatomic.h>
#include <stdint.h>

int floor_counter_add(_Atomic uint64_t *cell, double v) {
    if (!(v > 0 && v <= 9007199254740992.0)) return 1;   /* 2^53 */
    uint64_t whole = (uint64_t)v;
    if ((double)whole != v) return 1;
    atomic_fetch_add_explicit(cell, whole, memory_order_relaxed);
    return 0;
}
