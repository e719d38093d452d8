// Package cgobaseline is the yardstick of the binding's benchmarks: a cgo call of a C function that
// does nothing, with the argument and result types of vt_record_audio_out (and of vt_metric_add). (cgo cannot be used in
// _test.go files, hence this tiny package.)
package cgobaseline

/*
#include <stddef.h>
#include <stdint.h>

__attribute__((noinline)) int32_t vtgo_baseline_noop(uint64_t s, size_t bytes, uint64_t t_ns) {
    (void)s; (void)bytes; (void)t_ns;
    __asm__ volatile("" ::: "memory");
    return 0;
}

__attribute__((noinline)) int32_t vtgo_baseline_noop_metric(uint64_t m, double v) {
    (void)m; (void)v;
    __asm__ volatile("" ::: "memory");
    return 0;
}
*/
import "C"

// Noop crosses into C and back with (uint64, size_t, uint64) -> int32, doing nothing there.
func Noop(s uint64, bytes int, tNs uint64) int32 {
	return int32(C.vtgo_baseline_noop(C.uint64_t(s), C.size_t(bytes), C.uint64_t(tNs)))
}

// NoopMetric crosses into C and back with (uint64, double) -> int32 (vt_metric_add's types).
func NoopMetric(m uint64, v float64) int32 {
	return int32(C.vtgo_baseline_noop_metric(C.uint64_t(m), C.double(v)))
}
