/* noop.c -- the benchmark baseline: functions with the same C signatures as the record calls that
 * do nothing, so bench.py can measure the bare cost of one ctypes crossing. */
#include <stddef.h>
#include <stdint.h>

int32_t noop_record_audio_out(uint64_t s, size_t bytes, uint64_t t_ns) {
    (void)s; (void)bytes; (void)t_ns;
    return 0;
}

int32_t noop_record_vad_end(uint64_t s, uint64_t t_ns) {
    (void)s; (void)t_ns;
    return 0;
}

int32_t noop_record_batch(uint64_t s, const void *events, size_t n, size_t event_size,
                          size_t *n_done) {
    (void)s; (void)events; (void)event_size;
    if (n_done) *n_done = n;
    return 0;
}

int32_t noop_metric(uint64_t m, double v) {
    (void)m; (void)v;
    return 0;
}
