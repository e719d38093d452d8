/*
 * fuzz_metrics -- the metric registry: vt_counter_add, vt_gauge_set, vt_gauge_add, vt_observe,
 * vt_register_labels and vt_set_buckets with fuzzed names, help texts, label keys and values (each in
 * its own exactly-sized heap block; the label array too) and edge doubles (-0.0, subnormals, NaN, Inf).
 *
 * Names come mostly from a small pool (so the family limit is not exhausted at once and series get
 * reused), otherwise raw. Invariants: the status is documented; a NaN/Inf value is refused by every
 * write, a negative one by vt_observe; a name longer than VT_MAX_NAME_BYTES or more than
 * VT_MAX_LABELS labels never succeed; the same call twice gives the same status (issue 18 defect 7: a
 * help text judged differently once the series is cached); the Prometheus text passes the structural
 * check (at 1024, 2048, 4096, ... inputs, then every 262144).
 */
#include "fuzz_util.h"

static const char *const names[] = {
    "fz_requests_total", "fz_temp", "fz_latency_seconds", "fz_q", "fz_bytes_total", "voicetelemetry_sessions_total",
    "voicetelemetry_response_latency_seconds", "fz:colon", "_fz", "fz_x_count", "fz_x_sum", "fz_x_bucket",
    "fz_x_quantiles", "1bad", "", "fz_\xc3\xa9", "fz_a_total", "fz_b_seconds",
};
static const char *const keys[] = {"k", "transport", "le", "quantile", "__x", "provider", "a_b", "9x", "", "K",
                                   "model", "k\xc3\xa9"};
static const char *const values[] = {"v", "", "a\"b\\c\nd", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xff", "x",
                                     "sip", "\xed\xa0\x80", "\t\r"};
static const char *const helps[] = {"help", "", "line\nbreak \\ back", "\xc3\xa9t\xc3\xa9", "\xc0\xaf", "h"};

static int trace;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_util_selftest();
    trace = getenv("FUZZ_TRACE") != NULL; /* print every call (to explain a finding) */
    return 0;
}

static vt_label *make_labels(fz *f, size_t *n_out) {
    size_t n = fz_u8(f) % 20; /* up to 19: beyond VT_MAX_LABELS too */
    *n_out = n;
    if (n == 0) return (fz_u8(f) & 1) ? NULL : fz_keep(f, malloc(1));
    vt_label *l = fz_keep(f, malloc(n * sizeof *l));
    for (size_t i = 0; i < n; i++) {
        l[i].key = fz_str(f, keys, sizeof keys / sizeof keys[0], 300);
        l[i].value = fz_str(f, values, sizeof values / sizeof values[0], 400);
    }
    return l;
}

static vt_status call(int op, const char *name, const char *help, const vt_label *l, size_t n, double v,
                      const char *const *ks, size_t nk, const double *b, size_t nb) {
    switch (op) {
    case 0: return vt_counter_add(name, help, l, n, v);
    case 1: return vt_gauge_set(name, help, l, n, v);
    case 2: return vt_gauge_add(name, help, l, n, v);
    case 3: return vt_observe(name, help, l, n, v);
    case 4: return vt_register_labels(name, ks, nk);
    default: return vt_set_buckets(name, b, nb);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned long inputs;
    fz f;
    fz_init(&f, data, size);
    while (f.n > 0) {
        uint8_t op8 = fz_u8(&f);
        int op = op8 % 6;
        char *name = fz_str(&f, names, sizeof names / sizeof names[0], 300);
        char *help = fz_str(&f, helps, sizeof helps / sizeof helps[0], 300);
        size_t n = 0;
        vt_label *l = make_labels(&f, &n);
        double v = fz_double(&f);
        size_t nk = fz_u8(&f) % 20;
        const char **ks = nk ? fz_keep(&f, malloc(nk * sizeof *ks)) : NULL;
        for (size_t i = 0; i < nk; i++) ks[i] = fz_str(&f, keys, sizeof keys / sizeof keys[0], 300);
        size_t nb = fz_u8(&f) % 70;
        double *b = nb ? fz_keep(&f, malloc(nb * sizeof *b)) : NULL;
        double acc = 0;
        for (size_t i = 0; i < nb; i++) {
            if (op8 & 0x80) { acc += 0.001 + (double)fz_u8(&f) / 64; b[i] = acc; } /* increasing */
            else b[i] = fz_double(&f);
        }

        vt_status st = call(op, name, help, l, n, v, ks, nk, b, nb);
        if (trace)
            fprintf(stderr, "op %d name '%s' help '%s' n %zu v %g nk %zu nb %zu -> %d %s\n", op, name ? name : "(null)",
                    help ? help : "(null)", n, v, nk, nb, (int)st, st ? vt_last_error() : "");
        check_status("metric call", st);
        FZ_ASSERT(st == VT_OK || st == VT_E_INVALID_ARG || st == VT_E_LIMIT || st == VT_E_ORDER, "status %d", (int)st);
        if (st == VT_OK) {
            FZ_ASSERT(name && strlen(name) <= VT_MAX_NAME_BYTES, "a bad name was accepted");
            if (op <= 3) {
                FZ_ASSERT(isfinite(v), "op %d accepted the non-finite value %g", op, v);
                FZ_ASSERT(op != 3 || !(v < 0), "vt_observe accepted the negative value %g", v);
                FZ_ASSERT(n <= VT_MAX_LABELS, "%zu labels accepted", n);
            }
            if (op == 4) FZ_ASSERT(nk <= VT_MAX_LABELS, "%zu label keys accepted", nk);
            if (op == 5) {
                FZ_ASSERT(nb >= 1 && nb <= VT_MAX_BUCKETS, "%zu bucket bounds accepted", nb);
                for (size_t i = 0; i < nb; i++) FZ_ASSERT(isfinite(b[i]) && (i == 0 || b[i] > b[i - 1]), "bad bounds accepted");
            }
        }
        /* The same write again gives the same answer (the series is now cached; its help is judged the
         * same way). */
        if (op <= 3 && (op8 & 0x40)) {
            vt_status again = call(op, name, help, l, n, v, ks, nk, b, nb);
            check_status("metric call (again)", again);
            FZ_ASSERT(again == st,
                      "op %d gave %d, then %d for the same call (%s)", op, (int)st, (int)again, vt_last_error());
        }
        fz_release(&f);
    }
    /* The text grows with every family and series the fuzzer creates (up to 1024 families of 2000 series:
     * tens of MB, seconds to render under ASan): checked at 1024, 2048, 4096, ... inputs, then every 2^18. */
    ++inputs;
    if ((inputs >= 1024 && (inputs & (inputs - 1)) == 0) || inputs % 262144 == 0) check_prom();
    fz_release(&f);
    return 0;
}
