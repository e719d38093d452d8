/*
 * test_metric_handles.c -- metric handles (header 1.2): vt_metric_get resolves a series once, and
 * vt_metric_add / vt_metric_set / vt_metric_observe write it. Exact totals from four threads, the
 * overflow handle at the series limit, every kind of bad argument, and the same text as the by-name
 * calls for the same values.
 */
#include <math.h>
#include <pthread.h>

#include "check.h"

static char text[1 << 22];

static const char *prom(void) {
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(text, sizeof text, &len), VT_OK);
    return text;
}

/* The value text of the sample line "<series> <value>" ("" when there is none). */
static const char *sample(const char *series) {
    static char value[64];
    const char *page = prom();
    size_t n = strlen(series);
    value[0] = '\0';
    for (const char *line = page; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            size_t m = strcspn(line + n + 1, "\n");
            snprintf(value, sizeof value, "%.*s", (int)m, line + n + 1);
            break;
        }
    }
    return value;
}

static vt_metric get(uint32_t kind, const char *name, const char *help, const vt_label *labels, size_t n) {
    vt_metric m = 0;
    CHECK_STATUS(vt_metric_get(kind, name, help, labels, n, &m), VT_OK);
    CHECK(m != 0);
    return m;
}

/* ---- exact totals from four threads ---------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 200000

struct writer { vt_metric counter, gauge, histogram; int by_name; };

static void *write_many(void *arg) {
    const struct writer *w = arg;
    vt_label sip = {"transport", "sip"};
    for (int i = 0; i < PER_THREAD; i++) {
        if (w->by_name) {
            if (vt_counter_add("mh_threads_total", NULL, &sip, 1, 1) != VT_OK) return (void *)1;
        } else if (vt_metric_add(w->counter, 1) != VT_OK) {
            return (void *)1;
        }
        if (vt_metric_add(w->gauge, (i & 1) ? -0.5 : 1.5) != VT_OK) return (void *)1;
        if (vt_metric_observe(w->histogram, (i % 4) * 0.25) != VT_OK) return (void *)1;
    }
    return NULL;
}

TEST(four_threads_give_exact_totals) {
    vt_label sip = {"transport", "sip"};
    struct writer w = {get(VT_METRIC_COUNTER, "mh_threads_total", "Calls.", &sip, 1),
                       get(VT_METRIC_GAUGE, "mh_threads_level", "Level.", &sip, 1),
                       get(VT_METRIC_HISTOGRAM, "mh_threads_seconds", "Latency.", &sip, 1), 0};
    struct writer by_name = w;
    by_name.by_name = 1;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, write_many, i == 0 ? &by_name : &w);
    for (int i = 0; i < THREADS; i++) {
        void *failed = NULL;
        pthread_join(t[i], &failed);
        CHECK(failed == NULL);
    }
    /* 4 x 200,000 adds of 1 (one thread by name, same series); each thread adds 1.5 and -0.5 alternately */
    CHECK_STR_EQ(sample("mh_threads_total{transport=\"sip\"}"), "800000");
    CHECK_STR_EQ(sample("mh_threads_level{transport=\"sip\"}"), "400000");
    /* observations 0, 0.25, 0.5, 0.75 each 200,000 times: sum 300,000 */
    CHECK_STR_EQ(sample("mh_threads_seconds_count{transport=\"sip\"}"), "800000");
    CHECK_STR_EQ(sample("mh_threads_seconds_sum{transport=\"sip\"}"), "300000");
    CHECK_STR_EQ(sample("mh_threads_seconds_bucket{le=\"0.25\",transport=\"sip\"}"), "400000");
    CHECK_STR_EQ(sample("mh_threads_seconds_bucket{le=\"0.5\",transport=\"sip\"}"), "600000");
    CHECK_STR_EQ(sample("mh_threads_seconds_bucket{le=\"0.6\",transport=\"sip\"}"), "600000");
    CHECK_STR_EQ(sample("mh_threads_seconds_bucket{le=\"+Inf\",transport=\"sip\"}"), "800000");
    /* the median is the last 0.25: the midpoint of its log-linear bucket, 59 * 2^22 + 2^21 ns */
    CHECK_STR_EQ(sample("mh_threads_seconds_quantiles{quantile=\"0.5\",transport=\"sip\"}"), "0.249561088");
}

/* ---- one series, one handle --------------------------------------------------------------------- */

TEST(same_arguments_give_the_same_handle) {
    vt_label ab[] = {{"a", "1"}, {"b", "2"}}, ba[] = {{"b", "2"}, {"a", "1"}}, other[] = {{"a", "1"}, {"b", "3"}};
    vt_metric m1 = get(VT_METRIC_COUNTER, "mh_same_total", "Same.", ab, 2);
    CHECK(get(VT_METRIC_COUNTER, "mh_same_total", NULL, ab, 2) == m1);
    CHECK(get(VT_METRIC_COUNTER, "mh_same_total", "Other help, ignored.", ba, 2) == m1);   /* labels are sorted */
    vt_metric m2 = get(VT_METRIC_COUNTER, "mh_same_total", NULL, other, 2);
    CHECK(m2 != m1);
    /* an empty or NULL value is an absent label: the series without it */
    vt_label empty[] = {{"a", "1"}, {"b", ""}}, null_value[] = {{"a", "1"}, {"b", NULL}}, just_a[] = {{"a", "1"}};
    vt_metric a = get(VT_METRIC_COUNTER, "mh_same_total", NULL, just_a, 1);
    CHECK(get(VT_METRIC_COUNTER, "mh_same_total", NULL, empty, 2) == a);
    CHECK(get(VT_METRIC_COUNTER, "mh_same_total", NULL, null_value, 2) == a);
    CHECK_STATUS(vt_metric_add(m1, 2), VT_OK);
    CHECK_STATUS(vt_counter_add("mh_same_total", NULL, ba, 2, 3), VT_OK);   /* by name: the same series */
    CHECK_STR_EQ(sample("mh_same_total{a=\"1\",b=\"2\"}"), "5");
    CHECK_STR_EQ(sample("mh_same_total{a=\"1\",b=\"3\"}"), "0");
    CHECK_STR_EQ(sample("mh_same_total{a=\"1\"}"), "0");
}

TEST(unknown_label_keys_are_counted_once_per_get) {
    const char *keys[] = {"route"};
    CHECK_STATUS(vt_register_labels("mh_reg_total", keys, 1), VT_OK);
    vt_label labels[] = {{"route", "/a"}, {"user", "u1"}};
    vt_metric m = get(VT_METRIC_COUNTER, "mh_reg_total", "Registered.", labels, 2);
    CHECK_STR_EQ(sample("voicetelemetry_metrics_unknown_label_total{metric=\"mh_reg_total\"}"), "1");
    for (int i = 0; i < 10; i++) CHECK_STATUS(vt_metric_add(m, 1), VT_OK);
    CHECK_STR_EQ(sample("voicetelemetry_metrics_unknown_label_total{metric=\"mh_reg_total\"}"), "1");
    CHECK_STR_EQ(sample("mh_reg_total{route=\"/a\"}"), "10");
    /* by name: counted on every call, as before */
    for (int i = 0; i < 3; i++) CHECK_STATUS(vt_counter_add("mh_reg_total", NULL, labels, 2, 1), VT_OK);
    CHECK_STR_EQ(sample("voicetelemetry_metrics_unknown_label_total{metric=\"mh_reg_total\"}"), "4");
    CHECK_STR_EQ(sample("mh_reg_total{route=\"/a\"}"), "13");
    /* registering user afterwards: new gets and by-name calls land on {route,user}; the handle stays */
    const char *both[] = {"route", "user"};
    CHECK_STATUS(vt_register_labels("mh_reg_total", both, 2), VT_OK);
    CHECK_STATUS(vt_counter_add("mh_reg_total", NULL, labels, 2, 1), VT_OK);
    CHECK(get(VT_METRIC_COUNTER, "mh_reg_total", NULL, labels, 2) != m);
    CHECK_STATUS(vt_metric_add(m, 1), VT_OK);
    CHECK_STR_EQ(sample("mh_reg_total{route=\"/a\"}"), "14");
    CHECK_STR_EQ(sample("mh_reg_total{route=\"/a\",user=\"u1\"}"), "1");
    CHECK_STR_EQ(sample("voicetelemetry_metrics_unknown_label_total{metric=\"mh_reg_total\"}"), "4");
}

/* ---- values ----------------------------------------------------------------------------------- */

TEST(values_follow_the_by_name_rules) {
    vt_metric c = get(VT_METRIC_COUNTER, "mh_values_total", "Values.", NULL, 0);
    vt_metric g = get(VT_METRIC_GAUGE, "mh_values_level", "Values.", NULL, 0);
    vt_metric h = get(VT_METRIC_HISTOGRAM, "mh_values_seconds", "Values.", NULL, 0);
    CHECK_STATUS(vt_metric_add(c, 2.5), VT_OK);
    CHECK_STATUS(vt_metric_add(c, -7), VT_OK);          /* ignored: counters only go up */
    CHECK_STATUS(vt_metric_add(c, NAN), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "not a finite number");
    CHECK_STATUS(vt_metric_add(c, INFINITY), VT_E_INVALID_ARG);
    CHECK_STR_EQ(sample("mh_values_total"), "2.5");
    CHECK_STATUS(vt_metric_set(g, -3.25), VT_OK);
    CHECK_STATUS(vt_metric_add(g, -1), VT_OK);
    CHECK_STR_EQ(sample("mh_values_level"), "-4.25");
    CHECK_STATUS(vt_metric_set(g, -0.0), VT_OK);        /* -0.0 is 0 */
    CHECK_STR_EQ(sample("mh_values_level"), "0");
    CHECK_STATUS(vt_metric_set(g, -INFINITY), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_metric_observe(h, -0.001), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "negative");
    CHECK_STATUS(vt_metric_observe(h, NAN), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_metric_observe(h, -0.0), VT_OK);
    CHECK_STATUS(vt_metric_observe(h, 0.3), VT_OK);
    CHECK_STR_EQ(sample("mh_values_seconds_count"), "2");
    CHECK_STR_EQ(sample("mh_values_seconds_sum"), "0.3");
    CHECK_STR_EQ(sample("mh_values_seconds_bucket{le=\"0.005\"}"), "1");
}

/* The observe fast path: a value equal to a bound counts in that bound's bucket ("le"), the next
 * double up in the next one; -0.0 is 0 (the median is the midpoint of fine bucket [0, 1) ns, and the
 * max keeps 0.3, so the top quantile is the midpoint of 0.3's fine bucket, 293601280 + 8388608 / 2
 * ns); values past 2^63 ns and past 1.8e19 ns land in the last fine bucket, [63 * 2^58, 64 * 2^58)
 * ns, whose midpoint is the median of the three large samples. */
TEST(an_observation_lands_in_its_bounds_bucket) {
    const double bounds[] = {0.1, 0.25, 1};
    CHECK_STATUS(vt_set_buckets("mh_edges_seconds", bounds, 3), VT_OK);
    vt_metric h = get(VT_METRIC_HISTOGRAM, "mh_edges_seconds", "Edges.", NULL, 0);
    const double values[] = {0.1, nextafter(0.1, 1), 0.25, 1, nextafter(1, 2), 0, -0.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) CHECK_STATUS(vt_metric_observe(h, values[i]), VT_OK);
    CHECK_STR_EQ(sample("mh_edges_seconds_bucket{le=\"0.1\"}"), "3");
    CHECK_STR_EQ(sample("mh_edges_seconds_bucket{le=\"0.25\"}"), "5");
    CHECK_STR_EQ(sample("mh_edges_seconds_bucket{le=\"1\"}"), "6");
    CHECK_STR_EQ(sample("mh_edges_seconds_bucket{le=\"+Inf\"}"), "7");

    vt_metric z = get(VT_METRIC_HISTOGRAM, "mh_zero_seconds", "Zero.", NULL, 0);
    CHECK_STATUS(vt_metric_observe(z, -0.0), VT_OK);
    CHECK_STATUS(vt_metric_observe(z, 0.3), VT_OK);
    CHECK_STR_EQ(sample("mh_zero_seconds_quantiles{quantile=\"0.5\"}"), "5e-10");
    CHECK_STR_EQ(sample("mh_zero_seconds_quantiles{quantile=\"0.99\"}"), "0.297795584");

    vt_metric big = get(VT_METRIC_HISTOGRAM, "mh_big_seconds", "Big.", NULL, 0);
    const double large[] = {9.3e9, 2e10, 1e300};
    for (size_t i = 0; i < 3; i++) CHECK_STATUS(vt_metric_observe(big, large[i]), VT_OK);
    CHECK_STR_EQ(sample("mh_big_seconds_bucket{le=\"10\"}"), "0");
    CHECK_STR_EQ(sample("mh_big_seconds_count"), "3");
    CHECK_STR_EQ(sample("mh_big_seconds_quantiles{quantile=\"0.5\"}"), "18302628885.633698");
}

TEST(a_call_of_the_wrong_kind_is_refused) {
    vt_metric c = get(VT_METRIC_COUNTER, "mh_kind_total", "Kinds.", NULL, 0);
    vt_metric g = get(VT_METRIC_GAUGE, "mh_kind_level", "Kinds.", NULL, 0);
    vt_metric h = get(VT_METRIC_HISTOGRAM, "mh_kind_seconds", "Kinds.", NULL, 0);
    CHECK_STATUS(vt_metric_set(c, 1), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "is a counter: vt_metric_set does not apply");
    CHECK_STATUS(vt_metric_observe(c, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_metric_observe(g, 1), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "is a gauge: vt_metric_observe");
    CHECK_STATUS(vt_metric_add(h, 1), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "is a histogram: vt_metric_add");
    CHECK_STATUS(vt_metric_set(h, 1), VT_E_INVALID_ARG);
    CHECK_STR_EQ(sample("mh_kind_total"), "0");
    CHECK_STR_EQ(sample("mh_kind_level"), "0");
    CHECK_STR_EQ(sample("mh_kind_seconds_count"), "0");
}

TEST(made_up_handles_are_refused) {
    vt_metric c = get(VT_METRIC_COUNTER, "mh_bad_total", "Bad.", NULL, 0);
    vt_metric g = get(VT_METRIC_GAUGE, "mh_bad_level", "Bad.", NULL, 0);
    const vt_metric bad[] = {0, 1, 2, 42, UINT64_MAX, c ^ 1, c ^ (1ull << 40), c + (1ull << 22),
                             (c & ~(3ull << 22)) | (2ull << 22),   /* the counter's index, a gauge's kind */
                             c | (1ull << 24),                     /* the overflow bit */
                             c & 0xffffffffull, (c & 0xffffffffull) | (1ull << 63), g ^ (1ull << 21),
                             (uint64_t)0x3fffff | (1ull << 22)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(vt_metric_add(bad[i], 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_metric_set(bad[i], 1), VT_E_BAD_HANDLE);
        CHECK_STATUS(vt_metric_observe(bad[i], 1), VT_E_BAD_HANDLE);
    }
    CHECK_CONTAINS(vt_last_error(), "is not a handle vt_metric_get returned");
    CHECK_STR_EQ(sample("mh_bad_total"), "0");
    CHECK_STR_EQ(sample("mh_bad_level"), "0");
}

/* ---- vt_metric_get's arguments ------------------------------------------------------------------ */

static void get_fails(uint32_t kind, const char *name, const char *help, const vt_label *labels, size_t n,
                      const char *message, int line) {
    vt_metric m = 0x5a5a;
    vt_status st = vt_metric_get(kind, name, help, labels, n, &m);
    char what[512];
    snprintf(what, sizeof what, "line %d: vt_metric_get gave %d (%s), *out %llu; expected VT_E_INVALID_ARG, 0, "
             "\"%s\"", line, (int)st, vt_last_error(), (unsigned long long)m, message);
    check_report(st == VT_E_INVALID_ARG && m == 0 && strstr(vt_last_error(), message) != NULL, __FILE__, line, what);
}
#define GET_FAILS(kind, name, help, labels, n, message) get_fails(kind, name, help, labels, n, message, __LINE__)

TEST(bad_kind_name_help_and_labels_are_refused) {
    vt_label ok = {"transport", "sip"};
    GET_FAILS(0, "mh_args_total", "Args.", NULL, 0, "kind 0 is not a vt_metric_kind");
    GET_FAILS(4, "mh_args_total", "Args.", NULL, 0, "kind 4");
    GET_FAILS(UINT32_MAX, "mh_args_total", "Args.", NULL, 0, "is not a vt_metric_kind");
    CHECK_STATUS(vt_metric_get(VT_METRIC_COUNTER, "mh_args_total", "Args.", NULL, 0, NULL), VT_E_INVALID_ARG);
    CHECK_CONTAINS(vt_last_error(), "out is NULL");
    GET_FAILS(VT_METRIC_COUNTER, NULL, "Args.", NULL, 0, "metric name is NULL");
    GET_FAILS(VT_METRIC_COUNTER, "", "Args.", NULL, 0, "not a valid Prometheus name");
    GET_FAILS(VT_METRIC_COUNTER, "9lives_total", "Args.", NULL, 0, "not a valid Prometheus name");
    GET_FAILS(VT_METRIC_COUNTER, "mh args_total", "Args.", NULL, 0, "not a valid Prometheus name");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args", "Args.", NULL, 0, "must end in _total");
    GET_FAILS(VT_METRIC_GAUGE, "mh_args_total", "Args.", NULL, 0, "only counters may end in _total");
    GET_FAILS(VT_METRIC_HISTOGRAM, "mh_args_bucket", "Args.", NULL, 0, "_bucket");
    GET_FAILS(VT_METRIC_COUNTER, "voicetelemetry_turns_total", "Args.", NULL, 0, "belong to the library");
    GET_FAILS(VT_METRIC_COUNTER, "mh_new_total", NULL, NULL, 0, "its help text is required");
    GET_FAILS(VT_METRIC_COUNTER, "mh_new_total", "", NULL, 0, "its help text is required");
    GET_FAILS(VT_METRIC_COUNTER, "mh_new_total", "bad \xff help", NULL, 0, "help is not valid UTF-8");
    CHECK(get(VT_METRIC_COUNTER, "mh_args_total", "Args.", &ok, 1) != 0);
    GET_FAILS(VT_METRIC_GAUGE, "mh_args_level", NULL, NULL, 0, "its help text is required");
    CHECK(get(VT_METRIC_GAUGE, "mh_args_level", "Args.", &ok, 1) != 0);
    GET_FAILS(VT_METRIC_HISTOGRAM, "mh_args_level", NULL, &ok, 1, "'mh_args_level' is a gauge, not a histogram");
    GET_FAILS(VT_METRIC_GAUGE, "mh_args_total", NULL, &ok, 1, "is a counter, not a gauge");
    vt_label le = {"le", "1"}, quantile = {"quantile", "1"}, under = {"__x", "1"}, bad_key = {"a-b", "1"};
    vt_label null_key = {NULL, "1"}, bad_value = {"transport", "\xc3\x28"}, dup[] = {{"a", "1"}, {"a", "2"}};
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &le, 1, "reserved");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &quantile, 1, "reserved");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &under, 1, "reserved");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &bad_key, 1, "not a valid label name");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &null_key, 1, "label 0 key is NULL");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &bad_value, 1, "not valid UTF-8");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, dup, 2, "given twice");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, NULL, 1, "labels is NULL but n_labels is 1");
    vt_label many[VT_MAX_LABELS + 1];
    for (int i = 0; i <= VT_MAX_LABELS; i++) { many[i].key = "k"; many[i].value = "v"; }
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, many, VT_MAX_LABELS + 1, "at most 16 are allowed");
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, many, SIZE_MAX, "labels: at most 16");
    char long_value[VT_MAX_LABEL_VALUE_BYTES + 2];
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    vt_label too_long = {"transport", long_value};
    GET_FAILS(VT_METRIC_COUNTER, "mh_args_total", NULL, &too_long, 1, "longer than 256 bytes");
    /* none of that made a series */
    const char *page = prom();
    CHECK(strstr(page, "mh_new_total") == NULL);
    CHECK(strstr(page, "mh_args_total{le=") == NULL);
}

/* ---- the series limit -------------------------------------------------------------------------- */

TEST(the_overflow_handle_counts_each_drop) {
    char value[32];
    vt_label l = {"id", value};
    vt_metric first = 0, last = 0;
    for (int i = 0; i < VT_MAX_SERIES_PER_FAMILY; i++) {
        snprintf(value, sizeof value, "s%d", i);
        vt_metric m = get(VT_METRIC_HISTOGRAM, "mh_full_seconds", "Full.", &l, 1);
        if (i == 0) first = m;
        last = m;
    }
    CHECK(first != last);
    vt_metric over = 0, over2 = 0;
    snprintf(value, sizeof value, "s%d", VT_MAX_SERIES_PER_FAMILY);
    CHECK_STATUS(vt_metric_get(VT_METRIC_HISTOGRAM, "mh_full_seconds", NULL, &l, 1, &over), VT_E_LIMIT);
    CHECK_CONTAINS(vt_last_error(), "'mh_full_seconds' already has 2000 series");
    CHECK(over != 0 && over != first && over != last);
    snprintf(value, sizeof value, "another");
    CHECK_STATUS(vt_metric_get(VT_METRIC_HISTOGRAM, "mh_full_seconds", NULL, &l, 1, &over2), VT_E_LIMIT);
    CHECK(over2 == over);   /* one overflow per family */
    CHECK_STR_EQ(sample("voicetelemetry_metrics_series_dropped_total{metric=\"mh_full_seconds\"}"), "0");   /* no drop yet */
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(vt_metric_observe(over, 0.1), VT_E_LIMIT);
        CHECK_CONTAINS(vt_last_error(), "already has 2000 series; the value was dropped");
    }
    /* the overflow keeps its family's kind, and values are checked before the drop */
    CHECK_STATUS(vt_metric_add(over, 1), VT_E_INVALID_ARG);
    CHECK_STATUS(vt_metric_observe(over, -1), VT_E_INVALID_ARG);
    CHECK_STR_EQ(sample("voicetelemetry_metrics_series_dropped_total{metric=\"mh_full_seconds\"}"), "5");
    /* by name past the limit: the same overflow, the same count */
    CHECK_STATUS(vt_observe("mh_full_seconds", NULL, &l, 1, 0.1), VT_E_LIMIT);
    CHECK_STATUS(vt_observe("mh_full_seconds", NULL, &l, 1, 0.1), VT_E_LIMIT);
    CHECK_STR_EQ(sample("voicetelemetry_metrics_series_dropped_total{metric=\"mh_full_seconds\"}"), "7");
    /* the series that exist keep working */
    CHECK_STATUS(vt_metric_observe(first, 0.1), VT_OK);
    CHECK_STATUS(vt_metric_observe(last, 0.1), VT_OK);
    snprintf(value, sizeof value, "s0");
    CHECK(get(VT_METRIC_HISTOGRAM, "mh_full_seconds", NULL, &l, 1) == first);
    CHECK_STR_EQ(sample("mh_full_seconds_count{id=\"s0\"}"), "1");
    CHECK_STR_EQ(sample("mh_full_seconds_count{id=\"s1999\"}"), "1");
    CHECK(strstr(prom(), "id=\"another\"") == NULL);
}

/* ---- handles and names write the same text ---------------------------------------------------- */

/* The family's lines (its HELP line to the next family's) with its name replaced by "F". */
static void family_text(const char *name, char *out, size_t cap) {
    const char *page = prom();
    char help[128];
    snprintf(help, sizeof help, "# HELP %s ", name);
    const char *start = strstr(page, help);
    size_t w = 0, n = strlen(name);
    out[0] = '\0';
    if (!start) return;
    for (const char *p = start; *p && w + 2 < cap;) {
        if (p != start && strncmp(p, "# HELP ", 7) == 0 && strncmp(p + 7, name, n) != 0) break;
        if (strncmp(p, name, n) == 0) { out[w++] = 'F'; p += n; }
        else out[w++] = *p++;
    }
    out[w] = '\0';
}

static void write_both(int by_handle, const char *counter, const char *gauge, const char *histogram) {
    static const char *const transports[] = {"sip", "webrtc", "pstn"};
    for (int i = 0; i < 300; i++) {
        vt_label l[] = {{"transport", transports[i % 3]}, {"model", i % 2 ? "a" : "b"}};
        double v = (double)(i % 17) / 8.0;
        if (by_handle) {
            CHECK_STATUS(vt_metric_add(get(VT_METRIC_COUNTER, counter, "Both.", l, 2), v), VT_OK);
            vt_metric g = get(VT_METRIC_GAUGE, gauge, "Both.", l, 2);
            CHECK_STATUS(i % 5 ? vt_metric_add(g, v - 1) : vt_metric_set(g, v), VT_OK);
            CHECK_STATUS(vt_metric_observe(get(VT_METRIC_HISTOGRAM, histogram, "Both.", l, 2), v / 3), VT_OK);
        } else {
            CHECK_STATUS(vt_counter_add(counter, "Both.", l, 2, v), VT_OK);
            CHECK_STATUS(i % 5 ? vt_gauge_add(gauge, "Both.", l, 2, v - 1) : vt_gauge_set(gauge, "Both.", l, 2, v), VT_OK);
            CHECK_STATUS(vt_observe(histogram, "Both.", l, 2, v / 3), VT_OK);
        }
    }
}

TEST(handles_and_names_give_the_same_text) {
    write_both(1, "mh_ha_total", "mh_ha_level", "mh_ha_seconds");
    write_both(0, "mh_na_total", "mh_na_level", "mh_na_seconds");
    static char a[1 << 16], b[1 << 16];
    const char *const pairs[][2] = {{"mh_ha_total", "mh_na_total"}, {"mh_ha_level", "mh_na_level"},
                                    {"mh_ha_seconds", "mh_na_seconds"}};
    for (int i = 0; i < 3; i++) {
        family_text(pairs[i][0], a, sizeof a);
        family_text(pairs[i][1], b, sizeof b);
        CHECK(strlen(a) > 200);
        CHECK_STR_EQ(a, b);
    }
}

int main(void) {
    RUN(four_threads_give_exact_totals);
    RUN(same_arguments_give_the_same_handle);
    RUN(unknown_label_keys_are_counted_once_per_get);
    RUN(values_follow_the_by_name_rules);
    RUN(an_observation_lands_in_its_bounds_bucket);
    RUN(a_call_of_the_wrong_kind_is_refused);
    RUN(made_up_handles_are_refused);
    RUN(bad_kind_name_help_and_labels_are_refused);
    RUN(the_overflow_handle_counts_each_drop);
    RUN(handles_and_names_give_the_same_text);
    return check_summary();
}
