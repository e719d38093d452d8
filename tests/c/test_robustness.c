/*
 * test_robustness.c -- no argument value crashes the library or gets an undocumented answer.
 *
 * A deterministic (fixed-seed xorshift) random-argument driver over every vt_* function of
 * voicetelemetry.h: handles (0, live, ended, made up), integers at and around every boundary,
 * doubles (signed zeros, denormals, limits +- one ulp, huge, inf, NaN), strings (NULL, "", 2 MiB,
 * one byte over each limit, invalid UTF-8 of every kind, control characters, quotes), struct_size
 * values, buffers (NULL/cap, tiny, exact), enum values out of range, timestamps in any order, and
 * byte-mutated JSON. Every call must return VT_OK or a negative status its declaration lists; a
 * negative one must leave its own non-empty message in vt_last_error() (each call is preceded by a
 * failing call with a known message, so a stale message is caught). Text outputs are checked
 * against their buffer (NUL, length, no byte written past cap) and, when complete, parsed as JSON.
 * Then targeted edge cases per function (each input a trap was found with stays here), and threads
 * doing random calls on shared sessions while another ends/creates sessions and loads/unloads a
 * plugin.
 *
 * Each test runs in a forked child that records the call in flight in shared memory, so a crash
 * is reported as a failed check naming the call (instead of killing the whole suite).
 * VT_ROBUST_SCALE=<n> multiplies the number of random calls (default 1); VT_ROBUST_CALLS=<n> sets the
 * calls per seed (default 100000; the ThreadSanitizer run of make test uses fewer).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "turn_scenario.h"

#define JSONL "build/plugins/jsonl_sink.so"
#define TP "build/tests/plugins/"

/* ------------------------------------------------------------------------------------------------
 * Shared memory with the forked child: check counts and the call in flight per thread.
 * --------------------------------------------------------------------------------------------- */

#define MAX_THREADS 4
typedef struct shared {
    unsigned long passed, failed;
    char last[MAX_THREADS][640];
} shared;
static shared *shm;
static int scale = 1;
static unsigned long calls_per_seed = 100000ul;

static void note(int th, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(shm->last[th], sizeof shm->last[th], fmt, ap);
    va_end(ap);
}

/* Run body in a child process; a crash or hang becomes a failed check naming the call in flight. */
static void isolated(void (*body)(void), int timeout_s) {
    memset(shm, 0, sizeof *shm);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned)timeout_s);
        check_passed_count = check_failed_count = 0;
        body();
        shm->passed = check_passed_count;
        shm->failed = check_failed_count;
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0);
    if (pid <= 0) return;
    waitpid(pid, &status, 0);
    check_passed_count += shm->passed;
    check_failed_count += shm->failed;
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
        char m[4096];
        int n = snprintf(m, sizeof m, "the child %s %d; calls in flight:",
                         WIFSIGNALED(status) ? "died of signal" : "exited with",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        for (int t = 0; t < MAX_THREADS && n > 0 && (size_t)n < sizeof m; t++)
            if (shm->last[t][0]) n += snprintf(m + n, sizeof m - (size_t)n, "\n    [thread %d] %s", t, shm->last[t]);
        check_report(0, __FILE__, __LINE__, m);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Random numbers and argument pools
 * --------------------------------------------------------------------------------------------- */

typedef struct rng { uint64_t s; } rng;
static uint64_t next64(rng *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}
static uint32_t below(rng *r, uint32_t n) { return (uint32_t)(next64(r) % n); }
#define PICK(r, table) (table[below(r, (uint32_t)(sizeof table / sizeof table[0]))])

static const uint64_t u64s[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025,
    4095, 4096, 4097, 16384, 16385, 65535, 65536, 65537, 1000000, 1000001, (1ull << 20) - 1, 1ull << 20,
    (1ull << 20) + 1, 0x7fffffffull, 0x80000000ull, 0xfffffffeull, 0xffffffffull, 0x100000000ull,
    (1ull << 40) - 1, 1ull << 40, (1ull << 40) + 1, 1ull << 43, (1ull << 44) - 1, 1ull << 44,
    999999999999ull, 1000000000000000000ull, 0x7ffffffffffffffeull, 0x7fffffffffffffffull,
    0x8000000000000000ull, 0x8000000000000001ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
};
static uint64_t any_u64(rng *r) {
    switch (below(r, 4)) {
    case 0: return next64(r);
    case 1: return below(r, 40);
    default: return PICK(r, u64s);
    }
}
static uint32_t any_u32(rng *r) {
    switch (below(r, 4)) {
    case 0: return (uint32_t)next64(r);
    case 1: return below(r, 20);
    default: return (uint32_t)PICK(r, u64s);
    }
}
static size_t any_size(rng *r) { return (size_t)any_u64(r); }
static int32_t any_i32(rng *r) {
    static const int32_t v[] = {0, 1, 2, -1, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 255, 256};
    return below(r, 4) == 0 ? (int32_t)next64(r) : PICK(r, v);
}
static int64_t any_i64(rng *r) {
    static const int64_t v[] = {0, 1, -1, 2, 100, (1ll << 40) - 1, 1ll << 40, (1ll << 40) + 1, INT64_MAX,
                                INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, (1ll << 62), -(1ll << 40)};
    return below(r, 4) == 0 ? (int64_t)next64(r) : PICK(r, v);
}

static double doubles[64];
static size_t n_doubles;
static void init_doubles(void) {
    const double two40 = 1099511627776.0;
    const double v[] = {0.0, -0.0, 5e-324, -5e-324, 1e-320, DBL_MIN, 1e-9, 1e-6, 0.5, 1.0,
                        nextafter(1.0, 0.0), nextafter(1.0, 2.0), 2.0, 100.0, 1e6, nextafter(1e6, 0.0),
                        nextafter(1e6, 2e6), 1e9, 2e9, 3.6e12, 1e15, two40 - 1.0, two40, two40 + 0.5,
                        nextafter(two40, 0.0), nextafter(two40, 2 * two40), 9007199254740992.0, 1.8e10,
                        1.845e10, 1.8e19, 1.8446744073709552e19, 9.223372036854775807e18, 2e19, 1e308,
                        DBL_MAX, -DBL_MAX, -1.0, -1e-9, -1e308, INFINITY, -INFINITY, NAN, -NAN, 0.1, 0.25,
                        123.456, 1e-300};
    n_doubles = sizeof v / sizeof v[0];
    memcpy(doubles, v, sizeof v);
}
static double any_double(rng *r) {
    if (below(r, 5) == 0) {   /* any bit pattern (NaN payloads, denormals, everything) */
        uint64_t bits = next64(r);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    return doubles[below(r, (uint32_t)n_doubles)];
}

/* Strings: each with a label for the failure messages (the huge ones are not printed). */
typedef struct str { const char *s; const char *label; } str;
static char *huge;           /* 2 MiB of 'a', NUL-terminated */
static char *len_strings[24];
static str strings[256];
static size_t n_strings;
static char deep64[200], deep65[200], bigpayload[6000], textpayload[4200];

static char *repeat(char c, size_t n) {
    char *p = malloc(n + 1);
    if (!p) abort();
    memset(p, c, n);
    p[n] = 0;
    return p;
}

static void add_string(const char *s, const char *label) {
    if (n_strings >= sizeof strings / sizeof strings[0]) abort();
    strings[n_strings].s = s;
    strings[n_strings].label = label;
    n_strings++;
}

static void init_strings(void) {
    huge = repeat('a', 2u << 20);
    static const size_t lens[] = {63, 64, 65, 127, 128, 129, 199, 200, 201, 255, 256, 257, 4095, 4096, 4097,
                                  65535, 65536, 65537, (1u << 20) - 1, 1u << 20, (1u << 20) + 1};
    static char labels[24][32];
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        len_strings[i] = repeat('a', lens[i]);
        snprintf(labels[i], sizeof labels[i], "<'a' x %zu>", lens[i]);
        add_string(len_strings[i], labels[i]);
    }
    add_string(huge, "<'a' x 2 MiB>");
    static const char *const plain[] = {
        "", "a", "x", "abc", "x_total", "rb_c0_total", "rb_g0", "rb_h0", "transport", "provider", "model",
        "voicetelemetry_turns_total", "voicetelemetry_response_latency_seconds", "le", "quantile", "__x",
        "9abc", "a-b", "a:b", "a b", "a.b", "x_count", "x_sum", "x_bucket", "x_quantiles", "h\xc3\xa9llo",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80", "\xef\xbb\xbf", "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf", "\xff", "\xfe", "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
        "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
        "\xe2\x82", "\xf0\x9f\x98", "a\xc3", ("a\x01" "b"), "\x1f", "\x7f", "tab\there", "nl\nx", "cr\rx",
        "q\"uote", "back\\slash", "\\u0000", "{}", "[]", "null", "{\"a\":1}", "{\"text\":\"hello\"}",
        "{\"user_transcript\":\"h\\u00e9 \\\" \\\\ \\n\"}", "{\"a\":[1,2,{\"b\":null}],\"c\":true}",
        "{\"n\":-0.0e+00,\"m\":1E308,\"k\":-1e-400}", "{ \"a\" : 1 }", "{\"a\":1,}", "{\"a\":}", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}",
        "{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", "{} x", "{", "}", "[", "1", "\"s\"", "{\"a\":tru}",
        "{\"a\":nul}", "{\"a\":true}", "{\"a\":1}{", "{\"text\":1}", "{\"x_text\":[\"a\"]}",
        "{\"queue_capacity\":1}", "{\"queue_capacity\":16384}", "{\"queue_capacity\":16385}",
        "{\"queue_capacity\":0}", "{\"queue_capacity\":-1}", "{\"queue_capacity\":1.5}",
        "{\"queue_capacity\":\"16\"}", "{\"queue_capacity\":1e3}", "{\"drain_timeout_ms\":99999999999999999999999}",
        "{\"health_interval_ms\":0}", "{\"max_batch_events\":4097}", "{\"max_batch_events\":4096}",
        "/nonexistent/x.so", "/", "/dev/null", "/etc/passwd", "build/plugins", ".", "..",
        "llm.response", "a/b:c-d_e.f",
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) add_string(plain[i], plain[i]);
    /* Nesting at the limit (64: {"k": and 63 arrays) and one over. */
    size_t n;
    n = 0;
    n += (size_t)sprintf(deep64 + n, "{\"k\":");
    for (int i = 0; i < 63; i++) deep64[n++] = '[';
    for (int i = 0; i < 63; i++) deep64[n++] = ']';
    deep64[n++] = '}';
    deep64[n] = 0;
    n = 0;
    n += (size_t)sprintf(deep65 + n, "{\"k\":");
    for (int i = 0; i < 64; i++) deep65[n++] = '[';
    for (int i = 0; i < 64; i++) deep65[n++] = ']';
    deep65[n++] = '}';
    deep65[n] = 0;
    add_string(deep64, "<nesting 64>");
    add_string(deep65, "<nesting 65>");
    /* A payload longer than one event cell, and a transcript payload just under it. */
    n = (size_t)sprintf(bigpayload, "{\"k\":\"");
    memset(bigpayload + n, 'b', 5000);
    strcpy(bigpayload + n + 5000, "\"}");
    add_string(bigpayload, "<payload 5 KiB>");
    n = (size_t)sprintf(textpayload, "{\"text\":\"");
    memset(textpayload + n, 'c', 3600);
    strcpy(textpayload + n + 3600, "\"}");
    add_string(textpayload, "<transcript payload 3.6 KiB>");
}

static str any_string(rng *r) {
    if (below(r, 12) == 0) { str s = {NULL, "NULL"}; return s; }
    return strings[below(r, (uint32_t)n_strings)];
}

/* A string from `valid` most of the time (to get past validation), else anything. */
static str biased(rng *r, const char *const *valid, size_t n_valid) {
    if (below(r, 3) != 0) { str s = {valid[below(r, (uint32_t)n_valid)], NULL}; s.label = s.s; return s; }
    return any_string(r);
}
#define BIASED(r, table) biased(r, table, sizeof table / sizeof table[0])

/* Byte-level mutation of a JSON seed into `out` (NUL-terminated). */
static const char *const json_seeds[] = {
    "{}", "{\"a\":1}", "{\"text\":\"hello w\\u00f6rld\",\"n\":[1,-2.5e3,true,false,null],\"o\":{\"x_transcript\":\"t\"}}",
    "{\"queue_capacity\":64,\"drain_timeout_ms\":10,\"health_interval_ms\":5,\"max_batch_events\":8}",
    "{\"user_text\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\",\"k\":\"\\\\\\\"\\/\\b\\f\\n\\r\\t\"}",
};
static const char *mutate_seed(rng *r, const char *seed, char *out, size_t cap);
static const char *mutate_json(rng *r, char *out, size_t cap) { return mutate_seed(r, PICK(r, json_seeds), out, cap); }
static const char *mutate_seed(rng *r, const char *seed, char *out, size_t cap) {
    size_t n = strlen(seed);
    if (n >= cap) n = cap - 1;
    memcpy(out, seed, n);
    int edits = 1 + (int)below(r, 3);
    static const char interesting[] = "{}[]\",:\\0123456789-+.eEtfnu \t\x01\x7f\x80\xbf\xc0\xc3\xe0\xed\xf0\xf4\xff";
    for (int e = 0; e < edits && n > 0; e++) {
        size_t at = below(r, (uint32_t)n);
        switch (below(r, 4)) {
        case 0: out[at] = interesting[below(r, sizeof interesting - 1)]; break;
        case 1: out[at] = (char)(next64(r) & 0xff); if (!out[at]) out[at] = 'x'; break;
        case 2: memmove(out + at, out + at + 1, n - at - 1); n--; break;
        default:
            if (n + 1 < cap) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = interesting[below(r, sizeof interesting - 1)];
                n++;
            }
        }
    }
    out[n] = 0;
    return out;
}

/* ------------------------------------------------------------------------------------------------
 * Status verdicts
 * --------------------------------------------------------------------------------------------- */

#define B(code) (1u << (unsigned)(-(code)))
#define S_OK B(VT_OK)
#define S_INV B(VT_E_INVALID_ARG)
#define S_BAD B(VT_E_BAD_HANDLE)
#define S_BUF B(VT_E_BUFFER_TOO_SMALL)
#define S_LIM B(VT_E_LIMIT)
#define S_ORD B(VT_E_ORDER)
#define S_INT B(VT_E_INTERNAL)
#define S_NF B(VT_E_NOT_FOUND)
#define S_PLG B(VT_E_PLUGIN)
#define S_PRM B(VT_E_PERMISSION)

static const char sentinel_prefix[] = "rate limit 4294967295";
/* A failing call with a known message: the next failing call must replace it. */
static void arm(void) { (void)vt_set_event_rate_limit(UINT32_MAX); }

static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) { len = 3; lo = 0xA0; }
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
        else if (c == 0xED) { len = 3; hi = 0x9F; }
        else if (c == 0xF0) { len = 4; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) { len = 4; hi = 0x8F; }
        else return 0;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

/* Per-test failure budget for printing (a systematic problem should not flood the log). */
static unsigned long printed_failures;
static void failure(int th, const char *what) {
    if (++printed_failures <= 25) {
        char m[1500];
        snprintf(m, sizeof m, "%s\n    call: %s", what, shm->last[th]);
        check_report(0, __FILE__, __LINE__, m);
    } else {
        check_failed_count++;
    }
}

/* VT_ROBUST_STATS=1: per row of the random calls, how many calls succeeded and failed (coverage). */
static int current_case[MAX_THREADS];
static unsigned long case_stats[64][2];
static double case_secs[64];

/* The status must be one of `allowed`; a failure must come with its own message. */
static void verdict(int th, vt_status st, unsigned allowed, int sentinel_may_match) {
    char m[1024];
    if (th == 0) case_stats[current_case[0]][st == VT_OK ? 0 : 1]++;
    if (st > 0 || st < -31 || !(allowed & B(st))) {
        snprintf(m, sizeof m, "undocumented status %d (%s: %.300s)", (int)st, vt_status_str(st), vt_last_error());
        failure(th, m);
        return;
    }
    if (st == VT_OK) return;
    const char *e = vt_last_error();
    size_t n = e ? strlen(e) : 0;
    if (!e || n == 0 || n >= 512 || !utf8_ok((const unsigned char *)e, n)) {
        snprintf(m, sizeof m, "status %d but vt_last_error() is %s", (int)st, !e ? "NULL" : n == 0 ? "empty" : "bad");
        failure(th, m);
    } else if (!sentinel_may_match && strncmp(e, sentinel_prefix, sizeof sentinel_prefix - 1) == 0) {
        snprintf(m, sizeof m, "status %d left the previous call's message in vt_last_error()", (int)st);
        failure(th, m);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Output checks: a small strict JSON parser and the buffer contract
 * --------------------------------------------------------------------------------------------- */

static const char *jv_value(const char *p, int depth);
static const char *jv_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}
static int hexd(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static const char *jv_string(const char *p) {
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            if (*p && strchr("\"\\/bfnrt", *p)) { p++; continue; }
            if (*p == 'u' && hexd(p[1]) && hexd(p[2]) && hexd(p[3]) && hexd(p[4])) { p += 5; continue; }
            return NULL;
        }
        p++;
    }
    return p + 1;
}
static const char *jv_number(const char *p) {
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    return p;
}
static const char *jv_value(const char *p, int depth) {
    if (depth > 100) return NULL;
    p = jv_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = jv_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = jv_string(jv_ws(p));
                if (!p) return NULL;
                p = jv_ws(p);
                if (*p++ != ':') return NULL;
            }
            p = jv_value(p, depth + 1);
            if (!p) return NULL;
            p = jv_ws(p);
            if (*p == ',') { p++; continue; }
            if (*p == close) return p + 1;
            return NULL;
        }
    }
    if (*p == '"') return jv_string(p);
    if (strncmp(p, "true", 4) == 0) return p + 4;
    if (strncmp(p, "false", 5) == 0) return p + 5;
    if (strncmp(p, "null", 4) == 0) return p + 4;
    return jv_number(p);
}
static int json_ok(const char *text, size_t len) {
    if (!utf8_ok((const unsigned char *)text, len)) return 0;
    const char *end = jv_value(text, 0);
    return end && *jv_ws(end) == 0;
}

/* Prometheus text: every line a comment or `name[{labels}] value` with a parseable value. */
static int prom_ok(const char *text, size_t len) {
    if (!utf8_ok((const unsigned char *)text, len)) return 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) return 0;
        if (*p != '#') {
            const char *sp = nl;
            while (sp > p && sp[-1] != ' ') sp--;
            if (sp == p) return 0;
            char value[64];
            size_t vn = (size_t)(nl - sp);
            if (vn == 0 || vn >= sizeof value) return 0;
            memcpy(value, sp, vn);
            value[vn] = 0;
            char *end = NULL;
            if (strcmp(value, "+Inf") && strcmp(value, "-Inf") && strcmp(value, "NaN")) {
                (void)strtod(value, &end);
                if (*end) return 0;
            }
        }
        p = nl + 1;
    }
    return 1;
}

enum { OUT_JSON, OUT_PROM };
#define OUTCAP (1u << 20)
static char *outbuf;   /* OUTCAP + 64 bytes, per thread for the threaded test */

typedef struct bufarg {
    char *buf;
    size_t cap;
    size_t *len_out;
    size_t len;
    const char *label;
} bufarg;

static void pick_buf(rng *r, bufarg *b, char *mem) {
    b->len = (size_t)0xdeadbeef;
    b->len_out = below(r, 16) == 0 ? NULL : &b->len;
    switch (below(r, 14)) {
    case 0: b->buf = NULL; b->cap = 0; b->label = "NULL,0"; break;
    case 1: b->buf = NULL; b->cap = 1; b->label = "NULL,1"; break;
    case 2: b->buf = NULL; b->cap = SIZE_MAX; b->label = "NULL,SIZE_MAX"; break;
    case 3: b->buf = mem; b->cap = 0; b->label = "buf,0"; break;
    case 4: b->buf = mem; b->cap = 1; b->label = "buf,1"; break;
    case 5: b->buf = mem; b->cap = 2 + below(r, 63); b->label = "buf,tiny"; break;
    case 6: b->buf = mem; b->cap = SIZE_MAX; b->label = "buf,SIZE_MAX"; break;
    case 7: b->buf = mem; b->cap = (size_t)INT64_MAX + 1; b->label = "buf,2^63"; break;
    case 8: b->buf = mem; b->cap = 4096; b->label = "buf,4096"; break;
    default: b->buf = mem; b->cap = OUTCAP; b->label = "buf,1MiB"; break;
    }
    if (b->buf && b->cap <= OUTCAP) memset(b->buf + b->cap, 0xA5, 64);
}

/* The BUFFERS contract after a call with `b`; on a complete text, parse it. */
static void check_buf(int th, vt_status st, const bufarg *b, int kind) {
    char m[256];
    if (b->buf && b->cap <= OUTCAP) {
        for (int i = 0; i < 64; i++)
            if ((unsigned char)b->buf[b->cap + (size_t)i] != 0xA5) {
                snprintf(m, sizeof m, "a byte past cap (%zu + %d) was written (%s)", b->cap, i, b->label);
                failure(th, m);
                break;
            }
    }
    if (st == VT_OK) {
        if (!b->buf || !b->len_out || b->len >= b->cap || b->buf[b->len] != 0 || strlen(b->buf) != b->len) {
            snprintf(m, sizeof m, "VT_OK but the text breaks the buffer contract (len %zu, cap %zu, %s)", b->len,
                     b->cap, b->label);
            failure(th, m);
        } else if (!(kind == OUT_JSON ? json_ok(b->buf, b->len) : prom_ok(b->buf, b->len))) {
            snprintf(m, sizeof m, "the %s output does not parse: %.120s", kind == OUT_JSON ? "JSON" : "Prometheus",
                     b->buf);
            failure(th, m);
        }
    } else if (st == VT_E_BUFFER_TOO_SMALL) {
        if (!b->len_out || b->len == (size_t)0xdeadbeef || (b->buf && b->len < b->cap)) {
            snprintf(m, sizeof m, "VT_E_BUFFER_TOO_SMALL with len_out %zu and cap %zu (%s)", b->len, b->cap, b->label);
            failure(th, m);
        }
    }
}

/* ------------------------------------------------------------------------------------------------
 * Sessions pool
 * --------------------------------------------------------------------------------------------- */

#define POOL 8
static vt_session live[POOL];
static vt_session ended[POOL];

static vt_session any_handle(rng *r) {
    vt_session l = __atomic_load_n(&live[below(r, POOL)], __ATOMIC_RELAXED);
    switch (below(r, 32)) {   /* a live handle three times in four */
    case 0: return 0;
    case 1: return __atomic_load_n(&ended[below(r, POOL)], __ATOMIC_RELAXED);
    case 2: return next64(r);
    case 3: return UINT64_MAX;
    case 4: return l ^ (1ull << 20);          /* same slot, odd generation */
    case 5: return l + (2ull << 20);          /* same slot, a future generation */
    case 6: return (l & ~0xfffffull) | 0xfffff; /* index beyond VT_MAX_SESSIONS */
    case 7: return (l & ~0xfffffull) | 65535;
    case 8: return l & 0xfffff;               /* generation 0 */
    default: return l;
    }
}

static uint64_t any_t(rng *r, uint64_t *clock) {
    switch (below(r, 12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return UINT64_MAX;
    case 3: return UINT64_MAX - 1;
    case 4: return (uint64_t)INT64_MAX + 1;
    case 5: return *clock > 5000000000ull ? *clock - 5000000000ull : 2;   /* backwards */
    case 6: return any_u64(r);
    default: *clock += below(r, 200000000); return *clock;
    }
}

/* A random (mostly valid) session config; returns the status of vt_create_session. */
static vt_status create_random(int th, rng *r, vt_session *out, int *cfg_valid) {
    static const char *const keys[] = {"transport", "provider", "model", "region", "x"};
    static const char *const vals[] = {"sip", "webrtc", "\xe6\x97\xa5", "a\"b\\c\nd", "", NULL};
    vt_label labels[20];
    vt_session_config cfg;
    union { vt_session_config c; unsigned char pad[256]; } holder;
    memset(&holder, 0, sizeof holder);
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    size_t n = below(r, 4);
    for (size_t i = 0; i < 20; i++) { labels[i].key = keys[i % 5]; labels[i].value = PICK(r, vals); }
    cfg.labels = labels;
    cfg.n_labels = n;
    char idbuf[64];
    snprintf(idbuf, sizeof idbuf, "rb-%llu", (unsigned long long)below(r, 1000000));
    cfg.session_id = below(r, 2) ? NULL : idbuf;
    cfg.text_policy = below(r, 2);
    static const uint32_t chars[] = {0, 1, 2, 200, 4096, 4097, UINT32_MAX};
    static const uint32_t hist[] = {0, 1, 2, 32, 1024};
    cfg.max_text_chars = PICK(r, chars);
    cfg.turn_history = PICK(r, hist);
    cfg.start_t_ns = below(r, 4) == 0 ? any_u64(r) : 0;
    int valid = 1;
    if (below(r, 6) == 0) {   /* break something */
        valid = 0;
        switch (below(r, 12)) {
        case 0: cfg.struct_size = (uint32_t)below(r, (uint32_t)offsetof(vt_session_config, labels)); break;
        case 1: cfg.session_id = any_string(r).s; valid = -1; break;
        case 2: cfg.n_labels = any_size(r); cfg.labels = below(r, 2) ? NULL : labels; valid = -1; break;
        case 3: cfg.text_policy = any_u32(r); valid = -1; break;
        case 4: cfg.turn_history = any_u32(r); valid = -1; break;
        case 5: cfg.max_text_chars = any_u32(r); valid = -1; break;
        case 6: labels[0].key = any_string(r).s; cfg.n_labels = 1; valid = -1; break;
        case 7: labels[0].key = "k"; labels[0].value = any_string(r).s; cfg.n_labels = 1; valid = -1; break;
        case 8:
            for (int i = 0; i < 17; i++) { labels[i].key = keys[i % 5]; labels[i].value = "v"; }
            cfg.n_labels = 16 + below(r, 2);
            break;
        case 9: cfg.struct_size = any_u32(r); valid = -1; break;
        case 10: cfg.n_labels = 2; labels[1].key = labels[0].key = "dup"; break;
        default: valid = -1; cfg.start_t_ns = any_u64(r); break;
        }
    }
    if (cfg_valid) *cfg_valid = valid;
    holder.c = cfg;
    vt_session s = 0x5a5a;
    int null_out = below(r, 30) == 0;
    const vt_session_config *arg = below(r, 20) == 0 ? NULL : &holder.c;
    note(th, "vt_create_session(%s, %s) struct_size %u n_labels %zu policy %u max_chars %u history %u id %s",
         arg ? "cfg" : "NULL", null_out ? "NULL" : "&out", holder.c.struct_size, holder.c.n_labels,
         holder.c.text_policy, holder.c.max_text_chars, holder.c.turn_history,
         holder.c.session_id ? "set" : "NULL");
    arm();
    vt_status st = vt_create_session(arg, null_out ? NULL : &s);
    verdict(th, st, S_OK | S_INV | S_LIM, 0);
    if (st == VT_OK && (s == 0 || null_out)) failure(th, "VT_OK but the handle is 0");
    if (st != VT_OK && s != 0x5a5a) failure(th, "out was written on an error");
    *out = st == VT_OK ? s : 0;
    return st;
}

/* ------------------------------------------------------------------------------------------------
 * The random driver: one random call per step, from a table of calls (one row per entry point or
 * group of entry points, drawn with equal odds). A row's function draws its arguments from the
 * random state, makes the call(s) and checks the answer.
 * --------------------------------------------------------------------------------------------- */

static const char *const metric_names[] = {"rb_c0_total", "rb_c1_total", "rb_g0", "rb_g1", "rb_h0", "rb_h1",
                                           "rb_lat_seconds", "voicetelemetry_turns_total",
                                           "voicetelemetry_turn_e2e_latency_seconds"};
/* Names by the kind that creates them first (a name of another kind now and then: a conflict). */
static const char *const counter_names[] = {"rb_c0_total", "rb_c1_total", "rb_c2_total"};
static const char *const gauge_names[] = {"rb_g0", "rb_g1", "rb_g2"};
static const char *const histogram_names[] = {"rb_h0", "rb_h1", "rb_lat_seconds"};
static const char *const label_keys[] = {"transport", "provider", "k", "le", "x"};
/* Handles vt_metric_get returned (call_metric_handles), shared by the threads. */
static vt_metric metric_pool[8];
static const char *const label_vals[] = {"sip", "a", "b", "\xe6\x97\xa5", "q\"\\\n", ""};

static size_t random_labels(rng *r, vt_label *labels, const vt_label **out) {
    size_t n = below(r, 4);
    for (size_t i = 0; i < 20; i++) {
        labels[i].key = below(r, 8) == 0 ? any_string(r).s : PICK(r, label_keys);
        labels[i].value = below(r, 8) == 0 ? any_string(r).s : PICK(r, label_vals);
    }
    *out = labels;
    switch (below(r, 10)) {
    case 0: *out = NULL; break;
    case 1: n = any_size(r); break;
    case 2: n = 16 + below(r, 3); break;
    default: break;
    }
    return n;
}

/* A metric name for a family of `kind`: mostly one that kind creates first, now and then any. */
static str metric_name(rng *r, uint32_t kind) {
    if (below(r, 5) == 0) return BIASED(r, metric_names);
    if (kind == VT_METRIC_COUNTER) return BIASED(r, counter_names);
    if (kind == VT_METRIC_HISTOGRAM) return BIASED(r, histogram_names);
    return BIASED(r, gauge_names);
}

static void emit_one(int th, rng *r, vt_session s, uint64_t *clock) {
    static const char *const types[] = {"llm.response", "x", "a/b:c-d_e.f", "tool.call"};
    static const char *const ids[] = {"c-1", "\xe6\x97\xa5", "q\"\\"};
    char mutated[512];
    str type = BIASED(r, types);
    str payload;
    if (below(r, 2)) { payload.s = mutate_json(r, mutated, sizeof mutated); payload.label = "<mutated>"; }
    else payload = any_string(r);
    str corr = below(r, 2) ? (str){NULL, "NULL"} : BIASED(r, ids);
    str turn = below(r, 2) ? (str){NULL, "NULL"} : BIASED(r, ids);
    uint64_t t = any_t(r, clock);
    note(th, "vt_emit(%llu, %.80s, %.200s, %.40s, %.40s, %llu)", (unsigned long long)s, type.label,
         payload.s == mutated ? mutated : payload.label, corr.label, turn.label, (unsigned long long)t);
    arm();
    verdict(th, vt_emit(s, type.s, payload.s, corr.s, turn.s, t), S_OK | S_INV | S_BAD | S_LIM, 0);
}

typedef struct call_row call_row;

/* What a row's function draws from: its row, the thread, its random state, clock and output buffer,
   whether it may end and create sessions, and the handle and time drawn for every call. */
typedef struct call_ctx {
    const call_row *row;
    int th;
    rng *r;
    uint64_t *clock;
    char *mem;
    int with_lifecycle;
    vt_session s;
    uint64_t t;
} call_ctx;

struct call_row {
    const char *name;   /* the entry point(s) the row calls */
    void (*call)(call_ctx *c);
    /* Rows that share a function name the entry point they call here. */
    vt_status (*at)(vt_session, uint64_t);
    vt_status (*metric)(const char *, const char *, const vt_label *, size_t, double);
    uint32_t kind;   /* a vt_metric_kind: the names `metric` draws from */
};

/* The drawn handle and time as %llu prints them. */
#define S_C(c) (unsigned long long)(c)->s
#define T_C(c) (unsigned long long)(c)->t

/* The status and text of a call that writes into `b` (allowed: the statuses it may return). */
static void check_text(const call_ctx *c, vt_status st, unsigned allowed, const bufarg *b, int kind) {
    verdict(c->th, st, allowed, 0);
    check_buf(c->th, st, b, kind);
}

static void call_info(call_ctx *c) {
    vt_status code = (vt_status)any_i32(c->r);
    note(c->th, "vt_status_str(%d)", (int)code);
    const char *text = vt_status_str(code);
    if (!text || !text[0]) failure(c->th, "vt_status_str gave NULL or empty text");
    const char *v = vt_version_string();
    if (!v || strcmp(v, VERSION_TEXT) != 0) failure(c->th, "vt_version_string");
    if (vt_version_number() != VT_VERSION_NUMBER) failure(c->th, "vt_version_number");
    if (vt_now_ns() == 0) failure(c->th, "vt_now_ns is 0");
    if (!vt_last_error()) failure(c->th, "vt_last_error is NULL");
}

/* A live session ended and its slot refilled with a new one (the lifecycle thread's only). */
static void call_replace_session(call_ctx *c) {
    if (!c->with_lifecycle) return;
    int i = (int)below(c->r, POOL);
    vt_session old = live[i], fresh = 0;
    note(c->th, "vt_end_session(%llu)", (unsigned long long)old);
    arm();
    verdict(c->th, vt_end_session(old), S_OK | S_BAD, 0);
    ended[i] = old;
    create_random(c->th, c->r, &fresh, NULL);
    if (fresh) live[i] = fresh;
    else {
        note(c->th, "vt_create_session(NULL, &out)");
        if (vt_create_session(NULL, &fresh) == VT_OK) live[i] = fresh;
        else failure(c->th, "vt_create_session(NULL) failed");
    }
}

/* vt_end_session of a made-up or ended handle (live ones: call_replace_session only). */
static void call_end_other(call_ctx *c) {
    if (!c->with_lifecycle) return;   /* threaded: sessions are ended by the lifecycle thread only */
    note(c->th, "vt_end_session(%llu) [made up / ended]", S_C(c));
    for (int i = 0; i < POOL; i++)
        if (c->s == live[i]) return;
    arm();
    verdict(c->th, vt_end_session(c->s), S_OK | S_BAD, 0);
}

static void call_audio_out(call_ctx *c) {
    size_t bytes = below(c->r, 3) ? below(c->r, 5000) : any_size(c->r);
    note(c->th, "vt_record_audio_out(%llu, %zu, %llu)", S_C(c), bytes, T_C(c));
    arm();
    verdict(c->th, vt_record_audio_out(c->s, bytes, c->t), S_OK | S_BAD | S_INV | S_LIM, 0);
}

/* The record calls that take a handle and a time only (c->row->at). */
static void call_at(call_ctx *c) {
    note(c->th, "%s(%llu, %llu)", c->row->name, S_C(c), T_C(c));
    arm();
    verdict(c->th, c->row->at(c->s, c->t), S_OK | S_BAD, 0);
}

static void call_usage(call_ctx *c) {
    rng *r = c->r;
    union { vt_usage u; unsigned char pad[128]; } h;
    memset(&h, 0, sizeof h);
    h.u.struct_size = below(r, 2) ? (uint32_t)sizeof(vt_usage) : (uint32_t)below(r, 48);
    if (below(r, 8) == 0) h.u.struct_size = any_u32(r) % 128;
    h.u.total = any_i64(r);
    h.u.prompt = any_i64(r);
    h.u.response = any_i64(r);
    h.u.cached = any_i64(r);
    h.u.thoughts = any_i64(r);
    int null_u = below(r, 20) == 0;
    note(c->th, "vt_record_usage(%llu, %s) struct_size %u total %lld prompt %lld", S_C(c),
         null_u ? "NULL" : "u", h.u.struct_size, (long long)h.u.total, (long long)h.u.prompt);
    arm();
    verdict(c->th, vt_record_usage(c->s, null_u ? NULL : &h.u), S_OK | S_BAD | S_INV, 0);
}

/* Up to 7 events at a random stride (below sizeof(vt_event): refused), kinds and values anything. */
static size_t random_events(call_ctx *c, unsigned char *events, size_t size, size_t *stride_out) {
    rng *r = c->r;
    size_t stride = below(r, 3) ? sizeof(vt_event) : PICK(r, u64s) % 48;
    size_t n = below(r, 8);
    memset(events, 0, size);
    for (size_t i = 0; i < n && stride >= sizeof(vt_event); i++) {
        vt_event e;
        e.kind = below(r, 6) == 0 ? any_u32(r) : 1 + below(r, 8);
        e.reserved = below(r, 4) == 0 ? any_u32(r) : 0;
        e.value = below(r, 3) == 0 ? any_u64(r) : below(r, 4000);
        e.t_ns = any_t(r, c->clock);
        memcpy(events + i * stride, &e, sizeof e);
    }
    *stride_out = stride;
    return n;
}

static void call_batch(call_ctx *c) {
    rng *r = c->r;
    union { uint64_t align; unsigned char bytes[8 * 48]; } evmem;
    size_t stride;
    size_t n = random_events(c, evmem.bytes, sizeof evmem.bytes, &stride);
    const vt_event *ep = (const vt_event *)(void *)evmem.bytes;
    size_t claimed = n;
    if (below(r, 10) == 0) ep = NULL;
    if (below(r, 10) == 0) { claimed = (size_t)-1 - below(r, 2) * ((size_t)-1 / 2); }   /* absurd n */
    size_t done = (size_t)0xdeadbeef;
    int null_done = below(r, 4) == 0;
    /* An absurd n with a real stride would walk off the array before hitting a bad event: only
       pass it where the library must refuse it before reading (n > SIZE_MAX / 2 as a signed size). */
    if (claimed != n && claimed <= (size_t)INT64_MAX) claimed = n;
    note(c->th, "vt_record_batch(%llu, %s, %zu, %zu, %s)", S_C(c), ep ? "events" : "NULL", claimed,
         stride, null_done ? "NULL" : "&done");
    arm();
    vt_status st = vt_record_batch(c->s, ep, claimed, stride, null_done ? NULL : &done);
    verdict(c->th, st, S_OK | S_BAD | S_INV | S_LIM, 0);
    if (!null_done && (done == (size_t)0xdeadbeef || done > claimed || (st == VT_OK && done != claimed)))
        failure(c->th, "n_done is wrong");
}

static void call_snapshot(call_ctx *c) {
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    note(c->th, "vt_snapshot_json(%llu, %s, len_out %s)", S_C(c), b.label, b.len_out ? "set" : "NULL");
    arm();
    check_text(c, vt_snapshot_json(c->s, b.buf, b.cap, b.len_out), S_OK | S_BAD | S_BUF | S_INV, &b, OUT_JSON);
}

static void call_snapshot_at(call_ctx *c) {
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    uint64_t now = any_t(c->r, c->clock);
    note(c->th, "vt_snapshot_json_at(%llu, %llu, %s, len_out %s)", S_C(c), (unsigned long long)now, b.label,
         b.len_out ? "set" : "NULL");
    arm();
    check_text(c, vt_snapshot_json_at(c->s, now, b.buf, b.cap, b.len_out), S_OK | S_BAD | S_BUF | S_INV, &b,
               OUT_JSON);
}

/* vt_counter_add, vt_gauge_set, vt_gauge_add, vt_observe (c->row->metric, names of c->row->kind). */
static void call_metric(call_ctx *c) {
    static const char *const helps[] = {"help", "h\xc3\xa9lp \\ \n x"};
    rng *r = c->r;
    vt_label labels[20];
    const vt_label *lp;
    str name = metric_name(r, c->row->kind);
    str help = below(r, 6) == 0 ? (str){NULL, "NULL"} : BIASED(r, helps);
    size_t nl = random_labels(r, labels, &lp);
    double v = below(r, 2) ? (double)below(r, 1000) / 7.0 : any_double(r);
    note(c->th, "%s(%.60s, %.40s, labels, %zu, %.17g)", c->row->name, name.label, help.label, nl, v);
    arm();
    verdict(c->th, c->row->metric(name.s, help.s, lp, nl, v), S_OK | S_INV | S_LIM, 0);
}

static void call_register_labels(call_ctx *c) {
    rng *r = c->r;
    const char *keys[20];
    for (int i = 0; i < 20; i++) keys[i] = below(r, 6) == 0 ? any_string(r).s : PICK(r, label_keys);
    size_t n = below(r, 6) == 0 ? any_size(r) : below(r, 4);
    str name = BIASED(r, metric_names);
    int null_keys = below(r, 10) == 0;
    note(c->th, "vt_register_labels(%.60s, %s, %zu)", name.label, null_keys ? "NULL" : "keys", n);
    arm();
    verdict(c->th, vt_register_labels(name.s, null_keys ? NULL : keys, n), S_OK | S_INV | S_LIM, 0);
}

static void call_set_buckets(call_ctx *c) {
    rng *r = c->r;
    double bounds[70];
    size_t n = below(r, 5) == 0 ? any_size(r) : below(r, 66);
    double x = below(r, 2) ? -1e300 : any_double(r);
    for (int i = 0; i < 70; i++) {
        if (below(r, 10) == 0) bounds[i] = any_double(r);
        else { x = x < 1e300 ? x + fabs(x) / 2 + 0.001 : x; bounds[i] = x; }
    }
    char fresh[32];
    snprintf(fresh, sizeof fresh, "rb_b%u", below(r, 64));
    str name = below(r, 2) ? (str){fresh, "rb_b<n>"} : BIASED(r, metric_names);
    int null_b = below(r, 10) == 0;
    note(c->th, "vt_set_buckets(%.60s, %s, %zu) first %.17g", name.label, null_b ? "NULL" : "bounds", n, bounds[0]);
    arm();
    verdict(c->th, vt_set_buckets(name.s, null_b ? NULL : bounds, n), S_OK | S_INV | S_ORD | S_LIM, 0);
}

static void call_prom_text(call_ctx *c) {
    if (below(c->r, 10) != 0) return;   /* a whole exposition per call: keep the run short */
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    note(c->th, "vt_prom_text(%s, len_out %s)", b.label, b.len_out ? "set" : "NULL");
    arm();
    check_text(c, vt_prom_text(b.buf, b.cap, b.len_out), S_OK | S_BUF | S_INV, &b, OUT_PROM);
}

static void call_turn_mark(call_ctx *c) {
    static const uint32_t pairs[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 4}, {2, 5}, {2, 6}, {3, 1}, {3, 2},
                                        {4, 1}, {4, 3}, {4, 2}, {5, 1}, {5, 3}, {5, 2}, {6, 1}, {6, 2},
                                        {7, 1}, {7, 2}, {8, 1}, {8, 3}, {8, 2}, {9, 1}, {10, 1}, {10, 7},
                                        {10, 8}, {11, 1}, {11, 2}, {12, 1}, {12, 2}};
    rng *r = c->r;
    uint32_t pair = below(r, (uint32_t)(sizeof pairs / sizeof pairs[0]));
    int valid_pair = below(r, 2);
    uint32_t stage = valid_pair ? pairs[pair][0] : below(r, 4) == 0 ? any_u32(r) : below(r, TURN_STAGE_COUNT + 1);
    uint32_t mark = valid_pair ? pairs[pair][1] : below(r, 4) == 0 ? any_u32(r) : below(r, 10);
    note(c->th, "vt_turn_mark(%llu, %u, %u, %llu)", S_C(c), stage, mark, T_C(c));
    arm();
    verdict(c->th, vt_turn_mark(c->s, stage, mark, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_value(call_ctx *c) {
    uint32_t key = below(c->r, 4) == 0 ? any_u32(c->r) : below(c->r, 11);
    double v = below(c->r, 3) == 0 ? (double)below(c->r, 100) / 100 : any_double(c->r);
    note(c->th, "vt_turn_value(%llu, %u, %.17g, %llu)", S_C(c), key, v, T_C(c));
    arm();
    verdict(c->th, vt_turn_value(c->s, key, v, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_text(call_ctx *c) {
    uint32_t kind = below(c->r, 4) == 0 ? any_u32(c->r) : below(c->r, 5);
    str text = any_string(c->r);
    note(c->th, "vt_turn_text(%llu, %u, %.60s, %llu)", S_C(c), kind, text.label, T_C(c));
    arm();
    verdict(c->th, vt_turn_text(c->s, kind, text.s, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_usage(call_ctx *c) {
    static const uint32_t token_stages[] = {VT_STAGE_LLM, VT_STAGE_REALTIME, VT_STAGE_STT, VT_STAGE_TTS};
    rng *r = c->r;
    union { vt_token_usage u; unsigned char pad[160]; } h;
    memset(&h, 0, sizeof h);
    h.u.struct_size = below(r, 2) ? (uint32_t)sizeof(vt_token_usage) : below(r, 100);
    int64_t *fields = &h.u.input;
    for (int i = 0; i < 9; i++) fields[i] = below(r, 10) ? (int64_t)below(r, 1000) - 10 : any_i64(r);
    uint32_t stage = below(r, 4) == 0 ? any_u32(r) : below(r, 2) ? PICK(r, token_stages) : below(r, TURN_STAGE_COUNT + 1);
    int null_u = below(r, 20) == 0;
    note(c->th, "vt_turn_usage(%llu, %u, %s) struct_size %u input %lld output %lld", S_C(c), stage,
         null_u ? "NULL" : "u", h.u.struct_size, (long long)h.u.input, (long long)h.u.output);
    arm();
    verdict(c->th, vt_turn_usage(c->s, stage, null_u ? NULL : &h.u, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_error(call_ctx *c) {
    uint32_t source = below(c->r, 4) == 0 ? any_u32(c->r) : below(c->r, TURN_STAGE_COUNT + 2);
    note(c->th, "vt_turn_error(%llu, %u, %llu)", S_C(c), source, T_C(c));
    arm();
    verdict(c->th, vt_turn_error(c->s, source, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_provider(call_ctx *c) {
    static const char *const providers[] = {"deepgram", "openai", "gpt-4o", "\xe6\x97\xa5"};
    uint32_t stage = below(c->r, 4) == 0 ? any_u32(c->r) : below(c->r, TURN_STAGE_COUNT + 1);
    str p = BIASED(c->r, providers), mo = BIASED(c->r, providers);
    note(c->th, "vt_turn_provider(%llu, %u, %.60s, %.60s, %llu)", S_C(c), stage, p.label, mo.label, T_C(c));
    arm();
    verdict(c->th, vt_turn_provider(c->s, stage, p.s, mo.s, c->t), S_OK | S_BAD | S_INV, 0);
}

static void call_turn_fallback(call_ctx *c) {
    static const char *const providers[] = {"deepgram", "openai", "timeout"};
    rng *r = c->r;
    uint32_t stage = below(r, 4) == 0 ? any_u32(r) : below(r, TURN_STAGE_COUNT + 1);
    uint32_t kind = below(r, 4) == 0 ? any_u32(r) : below(r, 4);
    str a = BIASED(r, providers), to = BIASED(r, providers), reason = BIASED(r, providers);
    note(c->th, "vt_turn_fallback(%llu, %u, %u, %.60s, %.60s, %.60s, %llu)", S_C(c), stage, kind, a.label,
         to.label, reason.label, T_C(c));
    arm();
    verdict(c->th, vt_turn_fallback(c->s, stage, kind, a.s, to.s, reason.s, c->t), S_OK | S_BAD | S_INV | S_LIM, 0);
}

static void call_turn_tool_call(call_ctx *c) {
    static const char *const tools[] = {"lookup", "mcp.search", "\xe6\x97\xa5"};
    rng *r = c->r;
    uint32_t kind = below(r, 4) == 0 ? any_u32(r) : below(r, 4);
    int32_t ok = below(r, 4) == 0 ? any_i32(r) : (int32_t)below(r, 2);
    str name = BIASED(r, tools);
    uint64_t t2 = any_t(r, c->clock);
    note(c->th, "vt_turn_tool_call(%llu, %u, %.60s, %llu, %llu, %d)", S_C(c), kind, name.label, T_C(c),
         (unsigned long long)t2, (int)ok);
    arm();
    verdict(c->th, vt_turn_tool_call(c->s, kind, name.s, c->t, t2, ok), S_OK | S_BAD | S_INV | S_LIM, 0);
}

/* max_turns is drawn for vt_turn_last_json too (it takes none): both rows draw the same. */
static void call_turn_json(call_ctx *c, int history) {
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    size_t max_turns = below(c->r, 3) == 0 ? any_size(c->r) : below(c->r, 4);
    note(c->th, "%s(%llu, max %zu, %s, len_out %s)", c->row->name, S_C(c), max_turns, b.label,
         b.len_out ? "set" : "NULL");
    arm();
    vt_status st = history ? vt_turn_history_json(c->s, max_turns, b.buf, b.cap, b.len_out)
                           : vt_turn_last_json(c->s, b.buf, b.cap, b.len_out);
    check_text(c, st, S_OK | S_BAD | S_BUF | S_INV, &b, OUT_JSON);
}
static void call_turn_last(call_ctx *c) { call_turn_json(c, 0); }
static void call_turn_history(call_ctx *c) { call_turn_json(c, 1); }

/* vt_emit on the drawn handle, or with no session one time in four. */
static void call_emit(call_ctx *c) {
    emit_one(c->th, c->r, below(c->r, 4) == 0 ? 0 : c->s, c->clock);
}

static void call_rate_limit(call_ctx *c) {
    static const uint32_t limits[] = {0, 1, 100, 999999, 1000000, 1000001, UINT32_MAX - 1};
    uint32_t limit = below(c->r, 3) == 0 ? any_u32(c->r) : PICK(c->r, limits);
    note(c->th, "vt_set_event_rate_limit(%u)", limit);
    arm();
    verdict(c->th, vt_set_event_rate_limit(limit), S_OK | S_INV, limit == UINT32_MAX);
}

static void call_list_plugins(call_ctx *c) {
    size_t cap = below(c->r, 3) == 0 ? any_size(c->r) : below(c->r, 20);
    vt_plugin_id ids[32];
    size_t n = (size_t)0xdeadbeef;
    int null_ids = below(c->r, 4) == 0, null_n = below(c->r, 10) == 0;
    if (!null_ids && cap > 32) cap = 32;
    note(c->th, "vt_list_plugins(%s, %zu, %s)", null_ids ? "NULL" : "ids", cap, null_n ? "NULL" : "&n");
    arm();
    vt_status st = vt_list_plugins(null_ids ? NULL : ids, cap, null_n ? NULL : &n);
    verdict(c->th, st, S_OK | S_BUF | S_INV, 0);
    if (st == VT_OK && n > cap) failure(c->th, "vt_list_plugins: VT_OK with more plugins than cap");
}

static void call_plugin_stats(call_ctx *c) {
    union { vt_plugin_statistics p; unsigned char pad[2048]; } h;
    memset(&h, 0, sizeof h);
    h.p.struct_size = below(c->r, 2) ? (uint32_t)sizeof(vt_plugin_statistics) : any_u32(c->r) % 1200;
    vt_plugin_id id = below(c->r, 2) ? any_u64(c->r) : below(c->r, 200);
    int null_out = below(c->r, 10) == 0;
    note(c->th, "vt_plugin_stats(%llu, %s) struct_size %u", (unsigned long long)id, null_out ? "NULL" : "out",
         h.p.struct_size);
    arm();
    verdict(c->th, vt_plugin_stats(id, null_out ? NULL : &h.p), S_OK | S_INV | S_NF, 0);
}

/* vt_load_plugin with paths refused before any plugin is mapped (the real ones: the threaded test). */
static void call_load_plugin(call_ctx *c) {
    char mutated[512];
    str path = any_string(c->r);
    str config;
    if (below(c->r, 2)) { config.s = mutate_json(c->r, mutated, sizeof mutated); config.label = mutated; }
    else config = any_string(c->r);
    vt_plugin_id id = 0;
    int null_id = below(c->r, 10) == 0;
    if (path.s && (strstr(path.s, ".so") || strcmp(path.s, "build/plugins") == 0) && strcmp(path.s, "/nonexistent/x.so") != 0)
        path.s = "/nonexistent/x.so";
    note(c->th, "vt_load_plugin(%.60s, %.200s, %s)", path.s ? path.label : "NULL", config.label,
         null_id ? "NULL" : "&id");
    arm();
    vt_status st = vt_load_plugin(path.s, config.s, null_id ? NULL : &id);
    verdict(c->th, st, S_OK | S_INV | S_NF | S_PRM | S_PLG | S_LIM | S_INT, 0);
    if (st == VT_OK) {
        note(c->th, "vt_unload_plugin(%llu)", (unsigned long long)id);
        verdict(c->th, vt_unload_plugin(id), S_OK | S_NF | S_PLG, 0);
    }
}

static void call_steps(call_ctx *c) {
    char mutated[512];
    str id = below(c->r, 3) ? (str){below(c->r, 2) ? "step-a" : "turn-1", "step"} : any_string(c->r);
    str meta = below(c->r, 2) ? (str){mutate_json(c->r, mutated, sizeof mutated), "<mutated>"} : any_string(c->r);
    note(c->th, "vt_step_start(%llu, %.60s, %.100s, %llu)", S_C(c), id.label, meta.label, T_C(c));
    arm();
    verdict(c->th, vt_step_start(c->s, id.s, meta.s, c->t), S_OK | S_INV | S_BAD | S_LIM, 0);
    note(c->th, "vt_step_end(%llu, %.60s, %llu)", S_C(c), id.label, T_C(c));
    arm();
    verdict(c->th, vt_step_end(c->s, id.s, c->t), S_OK | S_INV | S_BAD | S_NF, 0);
}

static void call_message(call_ctx *c) {
    static const char *const roles[] = {"user", "assistant", "system", "tool", "robot", NULL};
    char mutated[512];
    const char *role = below(c->r, 4) ? PICK(c->r, roles) : any_string(c->r).s;
    str content = below(c->r, 2) ? (str){mutate_json(c->r, mutated, sizeof mutated), "<mutated>"} : any_string(c->r);
    str meta = any_string(c->r);
    note(c->th, "vt_record_message(%llu, %.20s, %.100s, %.60s, %llu)", S_C(c), role ? role : "NULL",
         content.label, meta.label, T_C(c));
    arm();
    verdict(c->th, vt_record_message(c->s, role, content.s, meta.s, c->t), S_OK | S_INV | S_BAD | S_LIM, 0);
}

/* Rewards of the drawn session: one outcome reward, one event reward. */
static void call_rewards(call_ctx *c) {
    rng *r = c->r;
    char mutated[512];
    str key = any_string(r), annotation = below(r, 2) ? (str){mutate_json(r, mutated, sizeof mutated), "<mutated>"} : any_string(r);
    double v = any_double(r);
    note(c->th, "vt_record_outcome_reward(%llu, %.60s, %g, ..., %.100s)", S_C(c), key.label, v, annotation.label);
    arm();
    verdict(c->th, vt_record_outcome_reward(c->s, key.s, v, any_u32(r), annotation.s, c->t), S_OK | S_INV | S_BAD | S_LIM, 0);
    str type = any_string(r), source = any_string(r);
    note(c->th, "vt_record_event_reward(%llu, %.60s, %g, %.40s, %.40s, %.100s, %llu)", S_C(c), key.label, v,
         type.label, source.label, annotation.label, T_C(c));
    arm();
    verdict(c->th, vt_record_event_reward(c->s, key.s, v, type.s, source.s, annotation.s, c->t),
            S_OK | S_INV | S_BAD | S_LIM, 0);
}

/* Rewards by session id, then usage with a time. */
static void call_rewards_for(call_ctx *c) {
    rng *r = c->r;
    str id = any_string(r), key = any_string(r), step = any_string(r);
    double v = any_double(r);
    note(c->th, "vt_record_outcome_reward_for(%.60s, %.60s, %g, ...)", id.label, key.label, v);
    arm();
    verdict(c->th, vt_record_outcome_reward_for(id.s, key.s, v, any_u32(r), NULL, c->t), S_OK | S_INV | S_LIM, 0);
    note(c->th, "vt_record_event_reward_for(%.60s, %.60s, %.60s, %g, ...)", id.label, step.label, key.label, v);
    arm();
    verdict(c->th, vt_record_event_reward_for(id.s, step.s, key.s, v, NULL, NULL, NULL, c->t), S_OK | S_INV | S_LIM, 0);
    vt_usage u = {sizeof u, any_i64(r), any_i64(r), -1, -1, -1};
    note(c->th, "vt_record_usage_at(%llu, u, %llu) total %lld", S_C(c), T_C(c), (long long)u.total);
    arm();
    verdict(c->th, vt_record_usage_at(c->s, &u, c->t), S_OK | S_INV | S_BAD, 0);
}

/* The exposition in a chosen format (one time in ten) or the open sessions; then a session by id. */
static void call_sessions(call_ctx *c) {
    uint32_t format = below(c->r, 4) ? below(c->r, 2) : any_u32(c->r);
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    if (below(c->r, 10) == 0) {
        note(c->th, "vt_prom_text_as(%u, %s, len_out %s)", format, b.label, b.len_out ? "set" : "NULL");
        arm();
        check_text(c, vt_prom_text_as(format, b.buf, b.cap, b.len_out), format <= 1 ? S_OK | S_BUF | S_INV : S_INV,
                   &b, OUT_PROM);
    } else {
        note(c->th, "vt_sessions_json(%s, len_out %s)", b.label, b.len_out ? "set" : "NULL");
        arm();
        check_text(c, vt_sessions_json(b.buf, b.cap, b.len_out), S_OK | S_BUF | S_INV, &b, OUT_JSON);
    }
    str id = any_string(c->r);
    vt_session found = 0;
    note(c->th, "vt_session_find(%.60s)", id.label);
    arm();
    verdict(c->th, vt_session_find(id.s, below(c->r, 8) ? &found : NULL), S_OK | S_NF | S_INV, 0);
}

/* A price table (valid, mutated, other currency, anything), then the table read back. */
static void call_prices(call_ctx *c) {
    static const char *const tables[] = {
        "{\"currency\":\"USD\",\"prices\":[{\"stage\":\"llm\",\"provider\":\"a\",\"input\":1.5,\"output\":6},"
        "{\"stage\":\"tts\",\"provider\":\"\\u00e9\",\"model\":\"m\",\"per_million_characters\":15},"
        "{\"stage\":\"stt\",\"provider\":\"a\",\"per_second\":0.0001},{\"stage\":\"transport\",\"provider\":\"sip\",\"per_minute\":0.01}]}",
        "{\"currency\":\"USD\",\"prices\":[{\"stage\":\"realtime\",\"provider\":\"a\",\"model\":\"*\",\"input\":0.000000000001,"
        "\"output\":10000000,\"input_audio\":3,\"output_audio\":9,\"cached_input\":0,\"reasoning\":1}]}",
        "{\"currency\":\"EUR\",\"prices\":[]}",
        NULL,
    };
    char mutated[1024];
    str table = {PICK(c->r, tables), "<table>"};
    if (table.s && below(c->r, 2)) table.s = mutate_seed(c->r, table.s, mutated, sizeof mutated);
    else if (below(c->r, 4) == 0) table = any_string(c->r);
    note(c->th, "vt_set_prices(%.300s)", table.s ? table.s : "NULL");
    arm();
    /* ORDER: another currency while sessions are open; LIMIT: the process is out of names. */
    verdict(c->th, vt_set_prices(table.s), S_OK | S_INV | S_ORD | S_LIM, 0);
    bufarg b;
    pick_buf(c->r, &b, c->mem);
    note(c->th, "vt_prices_json(%s, len_out %s)", b.label, b.len_out ? "set" : "NULL");
    arm();
    check_text(c, vt_prices_json(b.buf, b.cap, b.len_out), S_OK | S_BUF | S_INV, &b, OUT_JSON);
}

/* Four writes through handles from metric_pool (or made up, or one bit off). */
static void metric_handle_writes(call_ctx *c) {
    static const char *const fn[] = {"add", "set", "observe"};
    rng *r = c->r;
    for (int i = 0; i < 4; i++) {
        vt_metric h = below(r, 4) ? __atomic_load_n(&metric_pool[below(r, 8)], __ATOMIC_RELAXED) : any_u64(r);
        if (below(r, 8) == 0) h ^= 1ull << below(r, 64);
        double v = below(r, 2) ? (double)below(r, 1000) / 7.0 - 20 : any_double(r);
        uint32_t op = below(r, 3);
        note(c->th, "vt_metric_%s(%llu, %.17g)", fn[op], (unsigned long long)h, v);
        arm();
        vt_status st = op == 0 ? vt_metric_add(h, v) : op == 1 ? vt_metric_set(h, v) : vt_metric_observe(h, v);
        verdict(c->th, st, S_OK | S_INV | S_BAD | S_LIM, 0);
    }
}

/* Metric handles: get one (random kind, name, labels), then write through any handle. */
static void call_metric_handles(call_ctx *c) {
    rng *r = c->r;
    vt_label labels[20];
    const vt_label *lp;
    uint32_t kind = below(r, 4) ? 1 + below(r, 3) : any_u32(r);
    str name = metric_name(r, kind);
    str help = below(r, 6) == 0 ? (str){NULL, "NULL"} : (str){"help", "help"};
    size_t nl = random_labels(r, labels, &lp);
    vt_metric m = 0x5a5a;
    int null_out = below(r, 20) == 0;
    note(c->th, "vt_metric_get(%u, %.60s, %.40s, labels, %zu, %s)", kind, name.label, help.label, nl,
         null_out ? "NULL" : "&m");
    arm();
    vt_status st = vt_metric_get(kind, name.s, help.s, lp, nl, null_out ? NULL : &m);
    verdict(c->th, st, S_OK | S_INV | S_LIM, 0);
    if (!null_out && (st == VT_OK || st == VT_E_LIMIT) != (m != 0)) failure(c->th, "vt_metric_get: *out does not match the status");
    if (st == VT_OK || st == VT_E_LIMIT) __atomic_store_n(&metric_pool[below(r, 8)], m, __ATOMIC_RELAXED);
    metric_handle_writes(c);
}

static void call_unload_flush(call_ctx *c) {
    vt_plugin_id id = below(c->r, 2) ? any_u64(c->r) : below(c->r, 100);
    uint32_t timeout = below(c->r, 2) ? 0 : below(c->r, 20);
    note(c->th, "vt_unload_plugin(%llu) / vt_flush_events(%u)", (unsigned long long)id, timeout);
    arm();
    verdict(c->th, vt_unload_plugin(id), S_OK | S_NF | S_PLG, 0);
    arm();
    verdict(c->th, vt_flush_events(timeout), S_OK | S_LIM, 0);
}

/* Every row is drawn with equal odds; the order is part of what a seed replays (append new rows). */
static const call_row call_rows[] = {
    {"vt_status_str, vt_version_*, vt_now_ns, vt_last_error", call_info, 0, 0, 0},
    {"vt_end_session + vt_create_session", call_replace_session, 0, 0, 0},
    {"vt_end_session (made up / ended)", call_end_other, 0, 0, 0},
    {"vt_record_audio_out", call_audio_out, 0, 0, 0},
    {"vt_record_vad_start", call_at, vt_record_vad_start, 0, 0},
    {"vt_record_vad_end", call_at, vt_record_vad_end, 0, 0},
    {"vt_record_text_send", call_at, vt_record_text_send, 0, 0},
    {"vt_record_text_out", call_at, vt_record_text_out, 0, 0},
    {"vt_record_interruption", call_at, vt_record_interruption, 0, 0},
    {"vt_record_turn_start", call_at, vt_record_turn_start, 0, 0},
    {"vt_record_turn_complete", call_at, vt_record_turn_complete, 0, 0},
    {"vt_record_usage", call_usage, 0, 0, 0},
    {"vt_record_batch", call_batch, 0, 0, 0},
    {"vt_snapshot_json", call_snapshot, 0, 0, 0},
    {"vt_snapshot_json_at", call_snapshot_at, 0, 0, 0},
    {"vt_counter_add", call_metric, 0, vt_counter_add, VT_METRIC_COUNTER},
    {"vt_gauge_set", call_metric, 0, vt_gauge_set, VT_METRIC_GAUGE},
    {"vt_gauge_add", call_metric, 0, vt_gauge_add, VT_METRIC_GAUGE},
    {"vt_observe", call_metric, 0, vt_observe, VT_METRIC_HISTOGRAM},
    {"vt_register_labels", call_register_labels, 0, 0, 0},
    {"vt_set_buckets", call_set_buckets, 0, 0, 0},
    {"vt_prom_text", call_prom_text, 0, 0, 0},
    {"vt_turn_mark", call_turn_mark, 0, 0, 0},
    {"vt_turn_value", call_turn_value, 0, 0, 0},
    {"vt_turn_text", call_turn_text, 0, 0, 0},
    {"vt_turn_usage", call_turn_usage, 0, 0, 0},
    {"vt_turn_error", call_turn_error, 0, 0, 0},
    {"vt_turn_provider", call_turn_provider, 0, 0, 0},
    {"vt_turn_fallback", call_turn_fallback, 0, 0, 0},
    {"vt_turn_tool_call", call_turn_tool_call, 0, 0, 0},
    {"vt_turn_last_json", call_turn_last, 0, 0, 0},
    {"vt_turn_history_json", call_turn_history, 0, 0, 0},
    {"vt_emit", call_emit, 0, 0, 0},
    {"vt_set_event_rate_limit", call_rate_limit, 0, 0, 0},
    {"vt_list_plugins", call_list_plugins, 0, 0, 0},
    {"vt_plugin_stats", call_plugin_stats, 0, 0, 0},
    {"vt_load_plugin (+ vt_unload_plugin)", call_load_plugin, 0, 0, 0},
    {"vt_step_start + vt_step_end", call_steps, 0, 0, 0},
    {"vt_record_message", call_message, 0, 0, 0},
    {"vt_record_outcome_reward + vt_record_event_reward", call_rewards, 0, 0, 0},
    {"vt_record_*_reward_for + vt_record_usage_at", call_rewards_for, 0, 0, 0},
    {"vt_prom_text_as | vt_sessions_json + vt_session_find", call_sessions, 0, 0, 0},
    {"vt_set_prices + vt_prices_json", call_prices, 0, 0, 0},
    {"vt_metric_get + vt_metric_add/set/observe", call_metric_handles, 0, 0, 0},
    {"vt_unload_plugin + vt_flush_events", call_unload_flush, 0, 0, 0},
};
#define N_CALLS (sizeof call_rows / sizeof call_rows[0])
typedef char calls_fit_in_case_stats[N_CALLS <= sizeof case_stats / sizeof case_stats[0] ? 1 : -1];

/* One random row with the handle and time every row gets; with_lifecycle 0: no session is ended. */
static void random_call(int th, rng *r, uint64_t *clock, char *mem, int with_lifecycle) {
    uint32_t f = below(r, (uint32_t)N_CALLS);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    current_case[th] = (int)f;
    call_ctx c = {&call_rows[f], th, r, clock, mem, with_lifecycle, 0, 0};
    c.s = any_handle(r);
    c.t = any_t(r, clock);
    c.row->call(&c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (th == 0) case_secs[f] += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void init_pool(void) {
    for (int i = 0; i < POOL; i++) {
        vt_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.struct_size = sizeof cfg;
        cfg.text_policy = (uint32_t)(i & 1);
        cfg.max_text_chars = i == 1 ? 1 : i == 3 ? 4096 : 0;
        cfg.turn_history = i == 2 ? 1 : i == 3 ? 1024 : 0;
        live[i] = 0;
        CHECK_STATUS(vt_create_session(&cfg, &live[i]), VT_OK);
        vt_session e = 0;
        CHECK_STATUS(vt_create_session(NULL, &e), VT_OK);
        CHECK_STATUS(vt_end_session(e), VT_OK);
        ended[i] = e;
    }
}

static void random_body(uint64_t seed, unsigned long calls) {
    rng r = {seed};
    uint64_t clock = 1000000000ull;
    init_pool();
    printed_failures = 0;
    for (unsigned long i = 0; i < calls; i++) random_call(0, &r, &clock, outbuf, 1);
    CHECK(printed_failures == 0);
    for (int i = 0; i < POOL; i++) CHECK_STATUS(vt_end_session(live[i]), VT_OK);
    note(0, "");
    if (getenv("VT_ROBUST_STATS"))
        for (size_t i = 0; i < N_CALLS; i++)
            printf("  %2zu %-52s %7lu ok %7lu failed %.3f s\n", i, call_rows[i].name, case_stats[i][0], case_stats[i][1],
                   case_secs[i]);
}

TEST(random_calls_seed_1) { random_body(0x9E3779B97F4A7C15ull, calls_per_seed * (unsigned long)scale); }
TEST(random_calls_seed_2) { random_body(0xD1B54A32D192ED03ull, calls_per_seed * (unsigned long)scale); }
TEST(random_calls_seed_3) { random_body(0x8CB92BA72F3D8DD7ull, calls_per_seed * (unsigned long)scale); }

/* ------------------------------------------------------------------------------------------------
 * Targeted edge cases. EXPECT: the exact status, and for an error a fresh non-empty message.
 * --------------------------------------------------------------------------------------------- */

#define EXPECT(call, expected)                                                                 \
    do {                                                                                       \
        note(0, "%s", #call);                                                                  \
        arm();                                                                                 \
        vt_status st_ = (call);                                                                \
        char m_[900];                                                                          \
        snprintf(m_, sizeof m_, "%s returned %d (%.300s), expected %d", #call, (int)st_,       \
                 vt_last_error(), (int)(expected));                                            \
        check_report(st_ == (expected), __FILE__, __LINE__, m_);                               \
        if (st_ < 0) {                                                                         \
            const char *e_ = vt_last_error();                                                  \
            check_report(e_ && e_[0] && strncmp(e_, sentinel_prefix, sizeof sentinel_prefix - 1) != 0, \
                         __FILE__, __LINE__, "a fresh error message");                         \
        }                                                                                      \
    } while (0)

static char *snapshot(vt_session s) {
    size_t len = 0;
    if (vt_snapshot_json(s, outbuf, OUTCAP, &len) != VT_OK) return NULL;
    return json_ok(outbuf, len) ? outbuf : NULL;
}

/* The value of "key": in a JSON text (first occurrence), as an unsigned integer; -1 if absent/null. */
static long long json_u(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || strncmp(p + strlen(pat), "null", 4) == 0) return -1;
    return strtoll(p + strlen(pat), NULL, 10);
}

static void edges_version_and_statuses(void) {
    CHECK(vt_version_number() == VT_VERSION_NUMBER);
    CHECK_STR_EQ(vt_version_string(), VERSION_TEXT);
    const vt_status unknown[] = {1, 2, -10, -11, 100, INT32_MAX, INT32_MIN, INT32_MIN + 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_STR_EQ(vt_status_str(unknown[i]), "unknown status");
    for (vt_status c = 0; c >= -9; c--) CHECK(strcmp(vt_status_str(c), "unknown status") != 0);
    CHECK(vt_now_ns() > 0);
}

/* A config of the current size with every field 0. */
static vt_session_config zero_config(void) {
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    return cfg;
}

/* vt_create_session: the config's struct_size, from too small to a newer caller's. */
static void edges_create_session_struct_size(void) {
    vt_session s = 0x77;
    EXPECT(vt_create_session(NULL, NULL), VT_E_INVALID_ARG);
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    for (uint32_t size = 0; size < offsetof(vt_session_config, labels); size++) {
        cfg.struct_size = size;
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    CHECK(s == 0x77);   /* untouched on error */
    cfg.struct_size = (uint32_t)offsetof(vt_session_config, labels);
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    cfg.struct_size = UINT32_MAX;   /* a newer caller's struct: only the fields we know are read */
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
}

/* vt_create_session: the session id's length, encoding and escaping. */
static void edges_create_session_id(void) {
    vt_session s = 0;
    vt_session_config cfg = zero_config();
    cfg.session_id = len_strings[4];   /* 128 bytes */
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    const char *bad_ids[] = {len_strings[5], "", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xe2\x82", huge};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        cfg.session_id = bad_ids[i];
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    cfg.session_id = "id \"with\" \\ quotes\n\x01 and \xe6\x97\xa5";
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    CHECK(snapshot(s) != NULL);   /* the id is escaped: the snapshot parses */
    EXPECT(vt_end_session(s), VT_OK);
}

/* Labels k0=v ... k16=v: one more than a series may have. */
static void numbered_labels(vt_label l[17]) {
    static char keys[17][8];
    for (int i = 0; i < 17; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        l[i].key = keys[i];
        l[i].value = "v";
    }
}

/* vt_create_session: the labels' count, keys and values. */
static void edges_create_session_labels(void) {
    vt_session s = 0;
    vt_session_config cfg = zero_config();
    vt_label labels[17];
    numbered_labels(labels);
    cfg.labels = labels;
    cfg.n_labels = 16;
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    const size_t bad_counts[] = {17, 1000, SIZE_MAX, SIZE_MAX / 2 + 1};
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        cfg.n_labels = bad_counts[i];
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    cfg.labels = NULL;
    cfg.n_labels = 1;
    EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    cfg.labels = labels;
    labels[0].key = NULL;
    EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    const char *bad_keys[] = {"", "le", "quantile", "__x", "9a", "a-b", "a:b", "\xff", len_strings[8]};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        labels[0].key = bad_keys[i];
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    labels[0].key = len_strings[7];   /* 200 bytes: a valid key */
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    labels[0].key = "k";
    labels[0].value = len_strings[10];   /* 256 */
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    labels[0].value = len_strings[11];   /* 257 */
    EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    labels[0].value = "\xed\xbf\xbf";
    EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    labels[0].value = "";   /* absent */
    labels[1].key = "k";
    cfg.n_labels = 2;
    EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);   /* duplicate key, even with an absent value */
}

/* vt_create_session: the text policy, the text and history sizes and the start time at their limits. */
static void edges_create_session_policy_and_history(void) {
    vt_session s = 0;
    vt_session_config cfg = zero_config();
    const uint32_t policies[] = {2, 3, 255, UINT32_MAX};
    for (size_t i = 0; i < 4; i++) {
        cfg.text_policy = policies[i];
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
    cfg.text_policy = VT_TEXT_INCLUDE;
    cfg.max_text_chars = UINT32_MAX;
    cfg.turn_history = VT_MAX_TURN_HISTORY;
    cfg.start_t_ns = UINT64_MAX;
    EXPECT(vt_create_session(&cfg, &s), VT_OK);
    CHECK(snapshot(s) != NULL);
    EXPECT(vt_snapshot_json_at(s, 1, outbuf, OUTCAP, &cfg.n_labels), VT_OK);   /* now before start */
    CHECK_CONTAINS(outbuf, "\"uptime_secs\":null");
    EXPECT(vt_end_session(s), VT_OK);
    const uint32_t histories[] = {VT_MAX_TURN_HISTORY + 1, 65536, UINT32_MAX};
    for (size_t i = 0; i < 3; i++) {
        cfg.turn_history = histories[i];
        EXPECT(vt_create_session(&cfg, &s), VT_E_INVALID_ARG);
    }
}

/* vt_end_session, and made-up or ended handles refused by every kind of call. */
static void edges_end_session_and_made_up_handles(void) {
    size_t len = 0;
    EXPECT(vt_end_session(0), VT_OK);
    vt_session s = open_session_with(0, 0, 0);
    EXPECT(vt_end_session(s), VT_OK);
    EXPECT(vt_end_session(s), VT_E_BAD_HANDLE);
    const vt_session made_up[] = {1, 2, UINT64_MAX, UINT64_MAX - 1, s ^ (1ull << 20), s + (2ull << 20),
                                  (s & ~0xfffffull) | 0xfffff, 65536, 1ull << 63, s & 0xfffff};
    for (size_t i = 0; i < sizeof made_up / sizeof made_up[0]; i++) {
        EXPECT(vt_end_session(made_up[i]), VT_E_BAD_HANDLE);
        EXPECT(vt_record_vad_start(made_up[i], 0), VT_E_BAD_HANDLE);
        EXPECT(vt_record_audio_out(made_up[i], 1, 0), VT_E_BAD_HANDLE);
        EXPECT(vt_snapshot_json(made_up[i], outbuf, OUTCAP, &len), VT_E_BAD_HANDLE);
        EXPECT(vt_turn_mark(made_up[i], VT_STAGE_LLM, VT_MARK_START, 0), VT_E_BAD_HANDLE);
        EXPECT(vt_turn_provider(made_up[i], VT_STAGE_LLM, "p", NULL, 0), VT_E_BAD_HANDLE);
        EXPECT(vt_emit(made_up[i], "x", NULL, NULL, NULL, 0), VT_E_BAD_HANDLE);
    }
}

static void edges_meta_and_sessions(void) {
    edges_version_and_statuses();
    edges_create_session_struct_size();
    edges_create_session_id();
    edges_create_session_labels();
    edges_create_session_policy_and_history();
    edges_end_session_and_made_up_handles();
}

/* Timestamps in every order: all accepted, out-of-order ones counted, never a crash. */
static void edges_record_timestamps_in_any_order(vt_session s) {
    const uint64_t ts[] = {0, 1, UINT64_MAX, 2, UINT64_MAX - 1, (uint64_t)INT64_MAX + 1, 1, 0, 5, 3};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        EXPECT(vt_record_vad_start(s, ts[i]), VT_OK);
        EXPECT(vt_record_vad_end(s, ts[i]), VT_OK);
        EXPECT(vt_record_audio_out(s, 1, ts[(i + 3) % 10]), VT_OK);
        EXPECT(vt_record_text_send(s, ts[i]), VT_OK);
        EXPECT(vt_record_text_out(s, ts[(i + 1) % 10]), VT_OK);
        EXPECT(vt_record_interruption(s, ts[i]), VT_OK);
        EXPECT(vt_record_turn_start(s, ts[(i + 5) % 10]), VT_OK);
        EXPECT(vt_record_turn_complete(s, ts[i]), VT_OK);
    }
    const char *snap = snapshot(s);
    CHECK(snap != NULL);
    CHECK(json_u(snap, "out_of_order_events") > 0);
}

/* Chunk sizes: up to 1 TiB each; more is refused with a message. */
static void edges_record_chunk_sizes(vt_session s) {
    EXPECT(vt_record_audio_out(s, 0, 0), VT_OK);
    EXPECT(vt_record_audio_out(s, (size_t)1 << 40, 0), VT_OK);
    EXPECT(vt_record_audio_out(s, ((size_t)1 << 40) + 1, 0), VT_E_INVALID_ARG);
    EXPECT(vt_record_audio_out(s, SIZE_MAX, 0), VT_E_INVALID_ARG);
    EXPECT(vt_record_audio_out(s, SIZE_MAX / 2 + 1, 0), VT_E_INVALID_ARG);
}

/* Many maximal chunks: once the session's byte count cannot take another (2^43), the chunk is
   refused with VT_E_LIMIT. It used to carry into the counter's tag: from the 17th TiB on the live
   session answered VT_E_BAD_HANDLE and its 16 TiB vanished from the snapshot and the totals. */
static void edges_record_audio_byte_limit(void) {
    vt_session s = open_session_with(0, 0, 0);
    uint64_t accepted = 0;
    vt_status st = VT_OK;
    for (int i = 0; i < 40 && st == VT_OK; i++) {
        note(0, "vt_record_audio_out(s, 2^40, 0) #%d", i);
        arm();
        st = vt_record_audio_out(s, (size_t)1 << 40, 0);
        if (st == VT_OK) accepted += 1ull << 40;
    }
    CHECK_STATUS(st, VT_E_LIMIT);
    EXPECT(vt_record_audio_out(s, 1 << 20, 0), VT_E_LIMIT);
    EXPECT(vt_record_audio_out(s, 0, 0), VT_OK);
    vt_event more = {VT_EV_AUDIO_OUT, 0, 1, 0};
    EXPECT(vt_record_batch(s, &more, 1, sizeof more, NULL), VT_E_LIMIT);
    EXPECT(vt_record_vad_start(s, 0), VT_OK);   /* the session is alive and well */
    const char *snap = snapshot(s);
    CHECK(snap != NULL);
    CHECK_EQ_U64(json_u(snap, "audio_bytes_out"), accepted);
    CHECK(accepted >= 1ull << 42);
    EXPECT(vt_end_session(s), VT_OK);
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(outbuf, OUTCAP, &len), VT_OK);
    const char *line = strstr(outbuf, "\nvoicetelemetry_audio_out_bytes_total ");
    unsigned long long total = line ? strtoull(line + 38, NULL, 10) : 0;
    CHECK(line != NULL && total >= accepted && total < accepted + (2ull << 40));   /* folded in at end */
}

/* vt_record_usage: struct sizes, counts at and over 2^40, fields past struct_size not read. */
static void edges_record_usage(vt_session s) {
    EXPECT(vt_record_usage(s, NULL), VT_E_INVALID_ARG);
    union { vt_usage u; unsigned char pad[64]; } h;
    memset(&h, 0, sizeof h);
    for (uint32_t size = 0; size < offsetof(vt_usage, total) + sizeof(int64_t); size++) {
        h.u.struct_size = size;
        EXPECT(vt_record_usage(s, &h.u), VT_E_INVALID_ARG);
    }
    h.u.struct_size = (uint32_t)(offsetof(vt_usage, total) + sizeof(int64_t));
    h.u.total = INT64_MAX;   /* 2^40 or more: refused (the totals could overflow) */
    h.u.prompt = 7;          /* not covered: not read */
    EXPECT(vt_record_usage(s, &h.u), VT_E_INVALID_ARG);
    h.u.total = ((int64_t)1 << 40) - 1;
    h.u.prompt = INT64_MAX;  /* still not covered */
    EXPECT(vt_record_usage(s, &h.u), VT_OK);
    h.u.struct_size = UINT32_MAX;
    h.u.total = INT64_MIN;   /* < 0: not reported */
    h.u.prompt = INT64_MAX;
    h.u.response = -1;
    EXPECT(vt_record_usage(s, &h.u), VT_E_INVALID_ARG);
    h.u.prompt = ((int64_t)1 << 40) - 1;
    EXPECT(vt_record_usage(s, &h.u), VT_OK);
    CHECK(snapshot(s) != NULL);
    EXPECT(vt_record_usage(0, &h.u), VT_E_BAD_HANDLE);
}

/* vt_record_batch: NULL events, event sizes, kinds and values out of range; ev as the caller set it. */
static void edges_record_batch_arguments(vt_session s, vt_event *ev) {
    size_t done = 1234;
    EXPECT(vt_record_batch(s, NULL, 0, 0, &done), VT_OK);
    CHECK_EQ_U64(done, 0);
    EXPECT(vt_record_batch(s, NULL, 1, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    EXPECT(vt_record_batch(s, ev, 2, 0, &done), VT_E_INVALID_ARG);
    EXPECT(vt_record_batch(s, ev, 2, sizeof(vt_event) - 1, &done), VT_E_INVALID_ARG);
    EXPECT(vt_record_batch(s, ev, 2, sizeof(vt_event), &done), VT_OK);
    CHECK_EQ_U64(done, 2);
    EXPECT(vt_record_batch(s, ev, 3, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    CHECK_EQ_U64(done, 2);
    CHECK_CONTAINS(vt_last_error(), "event 2");
    const uint32_t bad_kinds[] = {0, 9, 100, UINT32_MAX, 0x80000001u};
    for (size_t i = 0; i < 5; i++) {
        ev[0].kind = bad_kinds[i];
        EXPECT(vt_record_batch(s, ev, 1, sizeof(vt_event), &done), VT_E_INVALID_ARG);
        CHECK_EQ_U64(done, 0);
    }
    ev[0].kind = VT_EV_AUDIO_OUT;
    ev[0].value = (1ull << 40) + 1;
    EXPECT(vt_record_batch(s, ev, 1, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    ev[0].value = UINT64_MAX;
    EXPECT(vt_record_batch(s, ev, 1, sizeof(vt_event), NULL), VT_E_INVALID_ARG);
}

/* vt_record_batch: counts and event sizes whose product does not fit the address space. */
static void edges_record_batch_sizes_past_address_space(vt_session s, vt_event *ev) {
    size_t done = 1234;
    ev[0].kind = VT_EV_TURN_COMPLETE;
    EXPECT(vt_record_batch(s, ev, 1, SIZE_MAX, &done), VT_E_INVALID_ARG);   /* event_size beyond the address space */
    EXPECT(vt_record_batch(s, ev, SIZE_MAX, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    EXPECT(vt_record_batch(s, ev, SIZE_MAX / 2 + 1, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    /* Absurd sizes whose product does not fit the address space: refused before any event is read.
       They used to be walked: element 1 of (2, SIZE_MAX / 2) was read SIZE_MAX / 2 bytes past the
       array (SIGSEGV), and i * event_size could overflow (a Swift trap). */
    ev[0].kind = VT_EV_VAD_START;
    EXPECT(vt_record_batch(s, ev, 2, SIZE_MAX / 2, &done), VT_E_INVALID_ARG);
    CHECK_EQ_U64(done, 0);
    EXPECT(vt_record_batch(s, ev, SIZE_MAX / 2, sizeof(vt_event), &done), VT_E_INVALID_ARG);
    CHECK_EQ_U64(done, 0);
    EXPECT(vt_record_batch(s, ev, 3, (SIZE_MAX / 2) / 2, &done), VT_E_INVALID_ARG);
    CHECK_EQ_U64(done, 0);
}

/* vt_record_batch: strides other than sizeof(vt_event). */
static void edges_record_batch_strides(vt_session s) {
    size_t done = 0;
    /* A wider stride (a newer caller's larger vt_event) reads the fields it knows. */
    union { uint64_t align; unsigned char bytes[3 * 40 + 8]; } wide;
    memset(wide.bytes, 0xEE, sizeof wide.bytes);
    for (int i = 0; i < 3; i++) {
        vt_event e = {VT_EV_AUDIO_OUT, 0, 5, 0};
        memcpy(wide.bytes + i * 40, &e, sizeof e);
    }
    EXPECT(vt_record_batch(s, (const vt_event *)(void *)wide.bytes, 3, 40, &done), VT_OK);
    CHECK_EQ_U64(done, 3);
    /* A stride that is not a multiple of the alignment (bytes packed by a binding): elements are
       read wherever they are. */
    for (int i = 0; i < 3; i++) {
        vt_event e = {VT_EV_AUDIO_OUT, 0, 7, 0};
        memcpy(wide.bytes + i * 25, &e, sizeof e);
    }
    EXPECT(vt_record_batch(s, (const vt_event *)(void *)wide.bytes, 3, 25, &done), VT_OK);
    CHECK_EQ_U64(done, 3);
}

/* vt_record_batch on s, then on handle 0 and on s once ended (it ends s). */
static void edges_record_batch(vt_session s) {
    vt_event ev[4];
    memset(ev, 0, sizeof ev);
    ev[0].kind = VT_EV_VAD_START;
    ev[1].kind = VT_EV_AUDIO_OUT;
    ev[1].value = 10;
    ev[2].kind = 99;
    edges_record_batch_arguments(s, ev);
    edges_record_batch_sizes_past_address_space(s, ev);
    edges_record_batch_strides(s);
    size_t done = 0;
    EXPECT(vt_record_batch(0, ev, 1, sizeof(vt_event), &done), VT_E_BAD_HANDLE);
    EXPECT(vt_end_session(s), VT_OK);
    EXPECT(vt_record_batch(s, ev, 1, sizeof(vt_event), &done), VT_E_BAD_HANDLE);
}

static void edges_record(void) {
    vt_session s = open_session_with(0, 0, 0);
    edges_record_timestamps_in_any_order(s);
    edges_record_chunk_sizes(s);
    EXPECT(vt_end_session(s), VT_OK);
    edges_record_audio_byte_limit();
    s = open_session_with(0, 0, 0);
    edges_record_usage(s);
    edges_record_batch(s);
}

static void edges_buffers(void) {
    vt_session s = open_session_with(0, 0, 0);
    size_t len = 0;
    typedef vt_status (*textfn)(vt_session, char *, size_t, size_t *);
    const textfn fns[] = {vt_snapshot_json, vt_turn_last_json};
    for (int k = 0; k < 3; k++) {
        char *mem = outbuf;
#define CALL(buf, cap, lenp)                                                                 \
    (k == 0 ? vt_snapshot_json_at(s, 5, buf, cap, lenp) : k == 1 ? vt_turn_history_json(s, SIZE_MAX, buf, cap, lenp) \
            : vt_prom_text(buf, cap, lenp))
        EXPECT(CALL(NULL, 0, NULL), VT_E_INVALID_ARG);
        EXPECT(CALL(NULL, 1, &len), VT_E_INVALID_ARG);
        EXPECT(CALL(NULL, SIZE_MAX, &len), VT_E_INVALID_ARG);
        EXPECT(CALL(mem, SIZE_MAX, &len), VT_E_INVALID_ARG);
        len = 0;
        EXPECT(CALL(NULL, 0, &len), VT_E_BUFFER_TOO_SMALL);
        size_t need = len;
        CHECK(need > 0);
        memset(mem, 0xA5, need + 64);
        EXPECT(CALL(mem, need, &len), VT_E_BUFFER_TOO_SMALL);
        CHECK((unsigned char)mem[need] == 0xA5);
        EXPECT(CALL(mem, 1, &len), VT_E_BUFFER_TOO_SMALL);
        EXPECT(CALL(mem, need + 1, &len), VT_OK);
        CHECK_EQ_U64(len, need);
        CHECK(mem[need] == 0 && (unsigned char)mem[need + 1] == 0xA5);
        CHECK(k == 2 ? prom_ok(mem, len) : json_ok(mem, len));
#undef CALL
    }
    (void)fns;
    EXPECT(vt_turn_last_json(s, outbuf, OUTCAP, &len), VT_OK);
    CHECK_STR_EQ(outbuf, "null");
    EXPECT(vt_turn_history_json(s, 0, outbuf, OUTCAP, &len), VT_OK);
    CHECK_STR_EQ(outbuf, "[]");
    EXPECT(vt_end_session(s), VT_OK);
    EXPECT(vt_turn_last_json(s, outbuf, OUTCAP, &len), VT_E_BAD_HANDLE);
    EXPECT(vt_turn_history_json(s, 1, outbuf, OUTCAP, &len), VT_E_BAD_HANDLE);
}

/* vt_counter_add: names, help texts and increments at and past their limits. */
static void edges_counter_add(void) {
    EXPECT(vt_counter_add(NULL, "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("", "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, 1), VT_E_INVALID_ARG);   /* help on first use */
    EXPECT(vt_counter_add("ed_total", "", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_total", len_strings[13], NULL, 0, 1), VT_OK);   /* help of 4096 bytes */
    EXPECT(vt_counter_add("ed2_total", len_strings[14], NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed3_total", "\xff", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed3_total", "h\xc3\xa9lp \\ \n\x01", NULL, 0, 1), VT_OK);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, -1), VT_OK);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, -0.0), VT_OK);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, DBL_MAX), VT_OK);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, DBL_MAX), VT_OK);   /* +Inf by addition: still exported */
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, NAN), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, INFINITY), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, -INFINITY), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_total", NULL, NULL, 0, 5e-324), VT_OK);
    char name200[202];
    memset(name200, 'n', 200);
    memcpy(name200 + 194, "_total", 7);
    EXPECT(vt_counter_add(name200, "h", NULL, 0, 1), VT_OK);
    name200[194] = 'x';
    memcpy(name200 + 195, "_total", 7);   /* 201 bytes */
    EXPECT(vt_counter_add(name200, "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add(huge, "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_counter_add("ed_gauge", "h", NULL, 0, 1), VT_E_INVALID_ARG);       /* counter not _total */
}

/* vt_gauge_set / vt_gauge_add: names taken by another type or reserved, labels at and past their limits. */
static void edges_gauges(void) {
    vt_label l[17];
    numbered_labels(l);
    EXPECT(vt_gauge_set("ed_total", "h", NULL, 0, 1), VT_E_INVALID_ARG);         /* type conflict */
    EXPECT(vt_gauge_set("ed_g_total", "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("ed_g_count", "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("voicetelemetry_sessions_active", "h", NULL, 0, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("ed_g", "h", l, 16, -DBL_MAX), VT_OK);
    EXPECT(vt_gauge_add("ed_g", "h", l, 16, -DBL_MAX), VT_OK);   /* -Inf */
    EXPECT(vt_gauge_add("ed_g", "h", l, 16, DBL_MAX), VT_OK);
    EXPECT(vt_gauge_set("ed_g", "h", l, 17, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("ed_g", "h", l, SIZE_MAX, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("ed_g", "h", NULL, 1, 1), VT_E_INVALID_ARG);
    EXPECT(vt_gauge_set("ed_g", "h", NULL, 0, NAN), VT_E_INVALID_ARG);
    l[0].value = len_strings[10];
    EXPECT(vt_gauge_set("ed_g", "h", l, 1, 1), VT_OK);
    l[0].value = len_strings[11];
    EXPECT(vt_gauge_set("ed_g", "h", l, 1, 1), VT_E_INVALID_ARG);
    l[0].value = "\xe0\x80\x80";
    EXPECT(vt_gauge_set("ed_g", "h", l, 1, 1), VT_E_INVALID_ARG);
    l[0].value = "v";
    l[1].key = "k0";
    EXPECT(vt_gauge_set("ed_g", "h", l, 2, 1), VT_E_INVALID_ARG);
    l[1].key = "le";
    EXPECT(vt_gauge_set("ed_g", "h", l, 2, 1), VT_E_INVALID_ARG);
    l[1].key = NULL;
    EXPECT(vt_gauge_set("ed_g", "h", l, 2, 1), VT_E_INVALID_ARG);
}

/* vt_observe: observations finite and >= 0; the whole double range in. */
static void edges_observe(void) {
    const double good[] = {0.0, -0.0, 5e-324, 1e-320, DBL_MIN, 1e-9, 1.0, 1.8e10, 1.8e19 / 1e9, 1.8446744073709552e10,
                           1.9e10, 1e15, 1.8e19, 1e300, DBL_MAX};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) EXPECT(vt_observe("ed_seconds", "h", NULL, 0, good[i]), VT_OK);
    const double bad[] = {-1e-300, -5e-324, -1, -DBL_MAX, NAN, -NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) EXPECT(vt_observe("ed_seconds", "h", NULL, 0, bad[i]), VT_E_INVALID_ARG);
    EXPECT(vt_observe("ed_total", "h", NULL, 0, 1), VT_E_INVALID_ARG);
}

/* vt_register_labels: key counts, duplicate, NULL and reserved keys, a built-in family. */
static void edges_register_labels(void) {
    const char *keys[18] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"};
    EXPECT(vt_register_labels("ed_r", keys, 0), VT_OK);
    EXPECT(vt_register_labels("ed_r", NULL, 0), VT_OK);
    EXPECT(vt_register_labels("ed_r", keys, 16), VT_OK);
    EXPECT(vt_register_labels("ed_r", keys, 17), VT_E_INVALID_ARG);
    EXPECT(vt_register_labels("ed_r", keys, SIZE_MAX), VT_E_INVALID_ARG);
    EXPECT(vt_register_labels("ed_r", NULL, 1), VT_E_INVALID_ARG);
    EXPECT(vt_register_labels(NULL, keys, 1), VT_E_INVALID_ARG);
    keys[1] = "a";
    EXPECT(vt_register_labels("ed_r", keys, 2), VT_E_INVALID_ARG);
    keys[1] = NULL;
    EXPECT(vt_register_labels("ed_r", keys, 2), VT_E_INVALID_ARG);
    keys[1] = "quantile";
    EXPECT(vt_register_labels("ed_r", keys, 2), VT_E_INVALID_ARG);
    keys[1] = "b";
    EXPECT(vt_register_labels("voicetelemetry_turns_total", keys, 2), VT_OK);
}

/* vt_set_buckets: bound counts, order, the double range, after an observation, on other families. */
static void edges_set_buckets(void) {
    double bounds[66];
    for (int i = 0; i < 66; i++) bounds[i] = i + 1;
    EXPECT(vt_set_buckets("ed_b", bounds, 0), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("ed_b", bounds, 65), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("ed_b", bounds, SIZE_MAX), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("ed_b", NULL, 1), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("ed_b", bounds, 64), VT_OK);
    bounds[0] = 0.0;
    bounds[1] = -0.0;
    EXPECT(vt_set_buckets("ed_b", bounds, 2), VT_E_INVALID_ARG);   /* -0 is not above 0 */
    bounds[0] = -DBL_MAX;
    bounds[1] = -5e-324;
    bounds[2] = 0.0;
    bounds[3] = 5e-324;
    bounds[4] = 1e-300;
    bounds[5] = 1.8e19;
    bounds[6] = DBL_MAX;
    EXPECT(vt_set_buckets("ed_b_seconds", bounds, 7), VT_OK);
    EXPECT(vt_observe("ed_b_seconds", "h", NULL, 0, 1e10), VT_OK);
    EXPECT(vt_observe("ed_b_seconds", "h", NULL, 0, DBL_MAX), VT_OK);
    EXPECT(vt_set_buckets("ed_b_seconds", bounds, 7), VT_E_ORDER);
    bounds[6] = INFINITY;
    EXPECT(vt_set_buckets("ed_c", bounds, 7), VT_E_INVALID_ARG);
    bounds[6] = NAN;
    EXPECT(vt_set_buckets("ed_c", bounds, 7), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("ed_total", bounds, 1), VT_E_INVALID_ARG);
    EXPECT(vt_set_buckets("voicetelemetry_nope", bounds, 1), VT_E_INVALID_ARG);
}

/* The metric calls at their edges; then the exposition parses and shows the counter at +Inf. */
static void edges_metrics(void) {
    edges_counter_add();
    edges_gauges();
    edges_observe();
    edges_register_labels();
    edges_set_buckets();
    size_t len = 0;
    EXPECT(vt_prom_text(outbuf, OUTCAP, &len), VT_OK);
    CHECK(prom_ok(outbuf, len));
    CHECK_CONTAINS(outbuf, "ed_total +Inf");
}

/* The family limit (VT_MAX_FAMILIES) through every call that creates a family. */
static void edges_family_limit(void) {
    char name[64];
    vt_status st = VT_OK;
    int i;
    for (i = 0; i < VT_MAX_FAMILIES + 10 && st == VT_OK; i++) {
        snprintf(name, sizeof name, "fam_%d_total", i);
        st = vt_counter_add(name, "h", NULL, 0, 1);
    }
    CHECK_STATUS(st, VT_E_LIMIT);
    CHECK(i <= VT_MAX_FAMILIES);
    EXPECT(vt_gauge_set("fam_new_gauge", "h", NULL, 0, 1), VT_E_LIMIT);
    EXPECT(vt_observe("fam_new_seconds", "h", NULL, 0, 1), VT_E_LIMIT);
    EXPECT(vt_counter_add("fam_0_total", NULL, NULL, 0, 1), VT_OK);   /* existing ones still work */
    EXPECT(vt_register_labels("fam_unknown", NULL, 0), VT_E_LIMIT);
    EXPECT(vt_register_labels("fam_0_total", NULL, 0), VT_OK);
    double b = 1;
    st = VT_OK;
    for (i = 0; i < VT_MAX_FAMILIES + 10 && st == VT_OK; i++) {
        snprintf(name, sizeof name, "pend_%d", i);
        st = vt_set_buckets(name, &b, 1);
    }
    CHECK_STATUS(st, VT_E_LIMIT);
    size_t len = 0;
    EXPECT(vt_prom_text(outbuf, OUTCAP, &len), VT_OK);
    CHECK(prom_ok(outbuf, len));
}

/* The documented stage x mark pairs, written out by hand from the header (an independent check of the
   library's table): valid_marks[stage][mark]. A row per stage of turn_scenario.h's stage_names. */
static const char valid_marks[][9] = {
    {0}, {0, 1, 1}, {0, 1, 0, 0, 1, 1, 1}, {0, 1, 1}, {0, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 1},
    {0, 1, 1}, {0, 1, 1, 1}, {0, 1}, {0, 1, 0, 0, 0, 0, 0, 1, 1}, {0, 1, 1}, {0, 1, 1}, {0},
};
typedef char valid_marks_has_a_row_per_stage[sizeof valid_marks / sizeof valid_marks[0] == TURN_STAGE_COUNT ? 1 : -1];

/* vt_turn_mark: every stage x mark pair and two stages past the last; exactly the documented pairs are accepted. */
static void edges_turn_marks(vt_session s) {
    uint64_t t = 1000;
    for (uint32_t stage = 0; stage < TURN_STAGE_COUNT + 2; stage++)
        for (uint32_t mark = 0; mark < 10; mark++) {
            int ok = stage < TURN_STAGE_COUNT && mark < 9 && valid_marks[stage][mark];
            if (stage == VT_STAGE_AGENT_SPEECH && mark == VT_MARK_END) continue;   /* completes the turn */
            EXPECT(vt_turn_mark(s, stage, mark, t += 1000), ok ? VT_OK : VT_E_INVALID_ARG);
        }
    EXPECT(vt_turn_mark(s, UINT32_MAX, 1, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_mark(s, 1, UINT32_MAX, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_mark(s, 0x80000001u, 1, 0), VT_E_INVALID_ARG);
}

#define TWO40 1099511627776.0   /* 2^40: the counts' limit */

/* vt_turn_value at and around each limit. */
static void edges_turn_values(vt_session s) {
    struct { uint32_t key; double v; vt_status want; } values[] = {
        {0, 1, VT_E_INVALID_ARG}, {10, 1, VT_E_INVALID_ARG}, {UINT32_MAX, 1, VT_E_INVALID_ARG},
        {VT_TV_STT_CONFIDENCE, 0.0, VT_OK}, {VT_TV_STT_CONFIDENCE, -0.0, VT_OK}, {VT_TV_STT_CONFIDENCE, 5e-324, VT_OK},
        {VT_TV_STT_CONFIDENCE, 1.0, VT_OK}, {VT_TV_STT_CONFIDENCE, nextafter(1.0, 2.0), VT_E_INVALID_ARG},
        {VT_TV_EOU_PROBABILITY, -5e-324, VT_E_INVALID_ARG}, {VT_TV_EOU_PROBABILITY, NAN, VT_E_INVALID_ARG},
        {VT_TV_EOU_PROBABILITY, 1e308, VT_E_INVALID_ARG},
        {VT_TV_STT_AUDIO_SECONDS, 1e6, VT_OK}, {VT_TV_STT_AUDIO_SECONDS, nextafter(1e6, 2e6), VT_E_INVALID_ARG},
        {VT_TV_STT_AUDIO_SECONDS, 1e-320, VT_OK}, {VT_TV_STT_AUDIO_SECONDS, INFINITY, VT_E_INVALID_ARG},
        {VT_TV_EOU_WAIT_SECONDS, 1e6, VT_OK}, {VT_TV_EOU_WAIT_SECONDS, 1e6, VT_OK}, {VT_TV_EOU_WAIT_SECONDS, 1.8e19, VT_E_INVALID_ARG},
        {VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS, 1e6, VT_OK}, {VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS, 1e9, VT_E_INVALID_ARG},
        {VT_TV_TTS_CHARACTERS, TWO40 - 1, VT_OK}, {VT_TV_TTS_CHARACTERS, TWO40 - 1, VT_OK},
        {VT_TV_TTS_CHARACTERS, TWO40, VT_E_INVALID_ARG}, {VT_TV_TTS_CHARACTERS, nextafter(TWO40, 0), VT_E_INVALID_ARG},
        {VT_TV_TTS_CHARACTERS, 0.5, VT_E_INVALID_ARG}, {VT_TV_TTS_CHARACTERS, 1.8e19, VT_E_INVALID_ARG},
        {VT_TV_TTS_CHARACTERS_PLAYED, TWO40 - 1, VT_OK}, {VT_TV_TTS_AUDIO_BYTES, TWO40 - 1, VT_OK},
        {VT_TV_TTS_AUDIO_BYTES, 1.8446744073709552e19, VT_E_INVALID_ARG}, {VT_TV_FALSE_INTERRUPTION_WORDS, TWO40 - 1, VT_OK},
        {VT_TV_FALSE_INTERRUPTION_WORDS, -1, VT_E_INVALID_ARG}, {VT_TV_FALSE_INTERRUPTION_WORDS, 5e-324, VT_E_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        EXPECT(vt_turn_value(s, values[i].key, values[i].v, UINT64_MAX - i), values[i].want);
}

/* vt_turn_text: kinds, lengths, every kind of invalid UTF-8, escaping, the session's character cap. */
static void edges_turn_text(vt_session s) {
    EXPECT(vt_turn_text(s, 0, "x", 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_text(s, 4, "x", 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_text(s, UINT32_MAX, "x", 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_text(s, 1, NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_text(s, 1, "", 0), VT_OK);
    EXPECT(vt_turn_text(s, 1, len_strings[19], 0), VT_OK);    /* 1 MiB */
    EXPECT(vt_turn_text(s, 1, len_strings[20], 0), VT_E_INVALID_ARG);   /* 1 MiB + 1 */
    EXPECT(vt_turn_text(s, 1, huge, 0), VT_E_INVALID_ARG);
    const char *bad_utf8[] = {"\xff", "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
                              "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "ab\xe2\x82",
                              "\xf0\x9f\x98", "a\xc3", "\xc3\x28", "\xe2\x28\xa1", "\xf0\x28\x8c\xbc"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) EXPECT(vt_turn_text(s, 3, bad_utf8[i], 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_text(s, 3, "\xf0\x9f\x98\x80\xe6\x97\xa5\xc3\xa9\"\\\x01\n\xef\xbf\xbf\xf4\x8f\xbf\xbf", 0), VT_OK);
    EXPECT(vt_turn_text(s, 2, "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 0), VT_OK);   /* cut at 3 chars */
}

/* A vt_token_usage with room past its end (a newer caller's), zeroed. */
typedef union { vt_token_usage u; unsigned char pad[160]; } token_usage_holder;

/* vt_turn_usage: struct sizes, stages, each count at and past 2^40. */
static void edges_turn_usage(vt_session s) {
    token_usage_holder h;
    memset(&h, 0, sizeof h);
    EXPECT(vt_turn_usage(s, VT_STAGE_LLM, NULL, 0), VT_E_INVALID_ARG);
    for (uint32_t size = 0; size < offsetof(vt_token_usage, input) + sizeof(int64_t); size++) {
        h.u.struct_size = size;
        EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_E_INVALID_ARG);
    }
    h.u.struct_size = sizeof h.u;
    const uint32_t token_stages[] = {VT_STAGE_LLM, VT_STAGE_REALTIME, VT_STAGE_STT, VT_STAGE_TTS};
    for (int i = 0; i < 4; i++) EXPECT(vt_turn_usage(s, token_stages[i], &h.u, 0), VT_OK);
    const uint32_t other_stages[] = {0, 1, 3, 6, 7, 9, 13, TURN_STAGE_COUNT, UINT32_MAX};
    for (size_t i = 0; i < sizeof other_stages / sizeof other_stages[0]; i++)
        EXPECT(vt_turn_usage(s, other_stages[i], &h.u, 0), VT_E_INVALID_ARG);
    int64_t *f = &h.u.input;
    for (int i = 0; i < 9; i++) {
        f[i] = (1ll << 40) - 1;
        EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_OK);
        f[i] = 1ll << 40;
        EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_E_INVALID_ARG);
        f[i] = INT64_MAX;
        EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_E_INVALID_ARG);
        f[i] = INT64_MIN;   /* not reported */
        EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_OK);
    }
    h.u.struct_size = UINT32_MAX;
    EXPECT(vt_turn_usage(s, VT_STAGE_TTS, &h.u, 0), VT_OK);
}

/* vt_turn_error: every error source. */
static void edges_turn_error(vt_session s) {
    for (uint32_t src = 0; src < TURN_STAGE_COUNT + 2; src++)
        EXPECT(vt_turn_error(s, src, 0), src >= 1 && src < TURN_STAGE_COUNT ? VT_OK : VT_E_INVALID_ARG);
    EXPECT(vt_turn_error(s, UINT32_MAX, 0), VT_E_INVALID_ARG);
}

/* vt_turn_provider: stages, name lengths and encodings, more distinct names than the table holds. */
static void edges_turn_provider(vt_session s) {
    for (uint32_t st = 0; st < TURN_STAGE_COUNT + 2; st++) {
        int ok = st == VT_STAGE_STT || st == VT_STAGE_EOU || st == VT_STAGE_LLM || st == VT_STAGE_TTS || st == VT_STAGE_REALTIME;
        EXPECT(vt_turn_provider(s, st, "p", NULL, 0), ok ? VT_OK : VT_E_INVALID_ARG);
    }
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, NULL, NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "", "m", 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, len_strings[4], len_strings[4], 0), VT_OK);   /* 128 */
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, len_strings[5], NULL, 0), VT_E_INVALID_ARG);   /* 129 */
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "p", len_strings[5], 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "p", "", 0), VT_OK);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "\xed\xa0\x80", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "p", "\xc0\x80", 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_provider(s, VT_STAGE_LLM, "q\"\\\n\x01", "\xe6\x97\xa5", 0), VT_OK);
    /* More distinct names than the table holds: later ones are "other", never a crash. */
    char pname[32];
    vt_status st = VT_OK;
    for (int i = 0; i < 4200 && st == VT_OK; i++) {
        snprintf(pname, sizeof pname, "prov-%d", i);
        st = vt_turn_provider(s, VT_STAGE_TTS, pname, pname, 0);
    }
    CHECK_STATUS(st, VT_OK);
}

/* vt_turn_fallback: stages, reasons, names. */
static void edges_turn_fallback(vt_session s) {
    EXPECT(vt_turn_fallback(s, 0, 1, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, TURN_STAGE_COUNT, 1, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, UINT32_MAX, 1, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, 0, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, 3, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, UINT32_MAX, "a", "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, 1, NULL, "b", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, 1, "a", "", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_turn_fallback(s, 4, 1, "a", "b", len_strings[5], 0), VT_E_INVALID_ARG);
    for (uint32_t stage = 1; stage < TURN_STAGE_COUNT; stage++)
        EXPECT(vt_turn_fallback(s, stage, 1 + stage % 2, "prov-4100", "\xe6\x97\xa5", stage % 3 ? "" : "r", UINT64_MAX - stage), VT_OK);
}

/* vt_turn_tool_call: kinds, outcomes, names, start and end times in any order. */
static void edges_turn_tool_calls(vt_session s) {
    EXPECT(vt_turn_tool_call(s, 0, "t", 1, 2, 1), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 3, "t", 1, 2, 1), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 1, "t", 1, 2, 2), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 1, "t", 1, 2, -1), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 1, "t", 1, 2, INT32_MIN), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 1, NULL, 1, 2, 1), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 1, "", 1, 2, 1), VT_E_INVALID_ARG);
    EXPECT(vt_turn_tool_call(s, 2, len_strings[5], 1, 2, 1), VT_E_INVALID_ARG);
    const uint64_t pairs[][2] = {{1, 2}, {2, 1}, {UINT64_MAX, 1}, {1, UINT64_MAX}, {0, 0}, {UINT64_MAX, UINT64_MAX},
                                 {0, 1}, {1, 0}, {5, 5}, {(uint64_t)INT64_MAX + 1, (uint64_t)INT64_MAX}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        EXPECT(vt_turn_tool_call(s, 1 + (uint32_t)(i % 2), "tool", pairs[i][0], pairs[i][1], (int32_t)(i % 2)), VT_OK);
}

/* Complete the turn and read it back: the record parses, whatever went into it. Ends s; then every
   turn call is refused. */
static void edges_turn_read_back(vt_session s) {
    EXPECT(vt_turn_mark(s, VT_STAGE_AGENT_SPEECH, VT_MARK_END, 0), VT_OK);
    size_t len = 0;
    EXPECT(vt_turn_last_json(s, outbuf, OUTCAP, &len), VT_OK);
    CHECK(json_ok(outbuf, len));
    CHECK(strcmp(outbuf, "null") != 0);
    EXPECT(vt_turn_history_json(s, SIZE_MAX, outbuf, OUTCAP, &len), VT_OK);
    CHECK(json_ok(outbuf, len));
    EXPECT(vt_turn_history_json(s, (size_t)INT64_MAX + 1, outbuf, OUTCAP, &len), VT_OK);
    CHECK(json_ok(outbuf, len));
    CHECK(snapshot(s) != NULL);
    EXPECT(vt_end_session(s), VT_OK);
    EXPECT(vt_turn_value(s, 1, 0.5, 0), VT_E_BAD_HANDLE);
    EXPECT(vt_turn_text(s, 1, "x", 0), VT_E_BAD_HANDLE);
    EXPECT(vt_turn_tool_call(s, 1, "t", 1, 2, 1), VT_E_BAD_HANDLE);
    EXPECT(vt_turn_fallback(s, 4, 1, "a", "b", NULL, 0), VT_E_BAD_HANDLE);
}

/* Count values at the top of their range, added up over many turns and calls. */
static void edges_turn_counts_add_up(void) {
    token_usage_holder h;   /* as edges_turn_usage leaves it: every count unreported, the whole struct read */
    memset(&h, 0, sizeof h);
    h.u.struct_size = UINT32_MAX;
    int64_t *f = &h.u.input;
    for (int i = 0; i < 9; i++) f[i] = INT64_MIN;
    vt_session s = open_session_with(0, 0, 4);
    for (int turn = 0; turn < 6; turn++) {
        for (int i = 0; i < 20; i++) {
            EXPECT(vt_turn_value(s, VT_TV_TTS_CHARACTERS, TWO40 - 1, 0), VT_OK);
            EXPECT(vt_turn_value(s, VT_TV_TTS_AUDIO_BYTES, TWO40 - 1, 0), VT_OK);
            EXPECT(vt_turn_value(s, VT_TV_EOU_WAIT_SECONDS, 1e6, 0), VT_OK);
            f[0] = (1ll << 40) - 1;
            EXPECT(vt_turn_usage(s, VT_STAGE_LLM, &h.u, 0), VT_OK);
        }
        EXPECT(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_START, 10), VT_OK);
        EXPECT(vt_turn_mark(s, VT_STAGE_LLM, VT_MARK_FIRST, UINT64_MAX), VT_OK);   /* implausible */
        EXPECT(vt_record_turn_complete(s, 0), VT_OK);
    }
    size_t len = 0;
    EXPECT(vt_turn_history_json(s, 0, outbuf, OUTCAP, &len), VT_OK);
    CHECK(json_ok(outbuf, len));
    EXPECT(vt_prom_text(outbuf, OUTCAP, &len), VT_OK);
    CHECK(prom_ok(outbuf, len));
    EXPECT(vt_end_session(s), VT_OK);
}

/* Every turn call at its edges, in one turn of one session; then counts added up over many turns. */
static void edges_turns(void) {
    vt_session s = open_session_with(VT_TEXT_INCLUDE, 3, 2);
    edges_turn_marks(s);
    edges_turn_values(s);
    edges_turn_text(s);
    edges_turn_usage(s);
    edges_turn_error(s);
    edges_turn_provider(s);
    edges_turn_fallback(s);
    edges_turn_tool_calls(s);
    edges_turn_read_back(s);
    edges_turn_counts_add_up();
}

/* vt_emit: event types, ids, payload nesting, size and syntax; on an ended session. */
static void edges_emit(void) {
    vt_session s = open_session_with(VT_TEXT_INCLUDE, 1, 0);
    char type64[66];
    memset(type64, 'T', 65);
    type64[64] = 0;
    EXPECT(vt_emit(s, type64, NULL, NULL, NULL, 0), VT_OK);
    type64[64] = 'T';
    type64[65] = 0;
    EXPECT(vt_emit(s, type64, NULL, NULL, NULL, 0), VT_E_INVALID_ARG);
    const char *bad_types[] = {NULL, "", "a b", "\xc3\xa9", "a\"", "a\\", "a\n", huge};
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
        EXPECT(vt_emit(s, bad_types[i], NULL, NULL, NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_emit(s, "x", NULL, len_strings[4], len_strings[4], 0), VT_OK);   /* ids of 128 bytes */
    EXPECT(vt_emit(s, "x", NULL, len_strings[5], NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_emit(s, "x", NULL, NULL, len_strings[5], 0), VT_E_INVALID_ARG);
    EXPECT(vt_emit(s, "x", NULL, "\xed\xa0\x80", NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_emit(s, "x", NULL, "", "", 0), VT_OK);
    EXPECT(vt_emit(s, "x", NULL, "q\"\\\n\x01", "\xe6\x97\xa5", UINT64_MAX), VT_OK);
    EXPECT(vt_emit(s, "x", deep64, NULL, NULL, 0), VT_OK);
    EXPECT(vt_emit(s, "x", deep65, NULL, NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_emit(s, "x", bigpayload, NULL, NULL, 0), VT_E_LIMIT);
    EXPECT(vt_emit(s, "x", huge, NULL, NULL, 0), VT_E_LIMIT);   /* longer than a cell: not even parsed */
    EXPECT(vt_emit(s, "x", textpayload, NULL, NULL, 0), VT_OK);
    const char *bad_payloads[] = {"", "[]", "1", "null", "\"s\"", "{", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}",
                                  "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}",
                                  "{\"a\":\"\xed\xa0\x80\"}", "{} x", "{\"a\":tru}", "{\"a\":-}", "{\"a\":1e+}",
                                  "{\"a\" 1}", "{1:2}", "{\"a\":[1,]}", "{\"a\":\"x", "{\"a\":\"\\"};
    for (size_t i = 0; i < sizeof bad_payloads / sizeof bad_payloads[0]; i++)
        EXPECT(vt_emit(0, "x", bad_payloads[i], NULL, NULL, 0), VT_E_INVALID_ARG);
    EXPECT(vt_end_session(s), VT_OK);
    EXPECT(vt_emit(s, "x", NULL, NULL, NULL, 0), VT_E_BAD_HANDLE);
}

static void edges_event_rate_limit(void) {
    EXPECT(vt_set_event_rate_limit(0), VT_OK);
    EXPECT(vt_set_event_rate_limit(1000000), VT_OK);
    EXPECT(vt_set_event_rate_limit(1000001), VT_E_INVALID_ARG);
    EXPECT(vt_set_event_rate_limit(0x80000000u), VT_E_INVALID_ARG);
    EXPECT(vt_set_event_rate_limit(VT_DEFAULT_EVENT_RATE_LIMIT), VT_OK);
}

static void edges_plugin_dir(void) {
    EXPECT(vt_set_plugin_dir("/nonexistent-dir"), VT_E_NOT_FOUND);
    EXPECT(vt_set_plugin_dir(""), VT_E_INVALID_ARG);
    EXPECT(vt_set_plugin_dir("\xff"), VT_E_INVALID_ARG);
    EXPECT(vt_set_plugin_dir(len_strings[13]), VT_E_INVALID_ARG);   /* 4096 bytes */
    EXPECT(vt_set_plugin_dir(huge), VT_E_INVALID_ARG);
    EXPECT(vt_set_plugin_dir("/proc/self/../.."), VT_OK);
    EXPECT(vt_set_plugin_dir(NULL), VT_OK);
}

/* vt_load_plugin: every refusal, before and after the file checks; the id is left alone. */
static void edges_load_plugin_refusals(void) {
    vt_plugin_id id = 77;
    EXPECT(vt_load_plugin(NULL, NULL, &id), VT_E_INVALID_ARG);
    EXPECT(vt_load_plugin(JSONL, NULL, NULL), VT_E_INVALID_ARG);
    EXPECT(vt_load_plugin("", NULL, &id), VT_E_INVALID_ARG);
    EXPECT(vt_load_plugin("\xff.so", NULL, &id), VT_E_INVALID_ARG);
    EXPECT(vt_load_plugin(huge, NULL, &id), VT_E_INVALID_ARG);
    EXPECT(vt_load_plugin("/nonexistent/x.so", NULL, &id), VT_E_NOT_FOUND);
    EXPECT(vt_load_plugin("/", NULL, &id), VT_E_PLUGIN);
    EXPECT(vt_load_plugin("/dev/null", NULL, &id), VT_E_PLUGIN);
    const char *bad_configs[] = {"", "[]", "{", "{\"queue_capacity\":0}", "{\"queue_capacity\":16385}",
                                 "{\"queue_capacity\":-1}", "{\"queue_capacity\":1.5}", "{\"queue_capacity\":\"16\"}",
                                 "{\"queue_capacity\":1e3}", "{\"queue_capacity\":null}",
                                 "{\"drain_timeout_ms\":99999999999999999999999999999999}",
                                 "{\"drain_timeout_ms\":3600001}", "{\"health_interval_ms\":0}",
                                 "{\"max_batch_events\":4097}", "{\"max_batch_events\":18446744073709551616}",
                                 huge};
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++)
        EXPECT(vt_load_plugin(JSONL, bad_configs[i], &id), VT_E_INVALID_ARG);
    CHECK(id == 77);
}

/* vt_plugin_stats on a loaded plugin: struct sizes (only covered fields written), NULL, unknown ids. */
static void edges_plugin_stats(vt_plugin_id id) {
    union { vt_plugin_statistics p; unsigned char pad[2048]; } h;
    for (uint32_t size = 0; size < offsetof(vt_plugin_statistics, id) + 8; size++) {
        memset(&h, 0, sizeof h);
        h.p.struct_size = size;
        EXPECT(vt_plugin_stats(id, &h.p), VT_E_INVALID_ARG);
    }
    memset(&h, 0x5A, sizeof h);
    h.p.struct_size = (uint32_t)(offsetof(vt_plugin_statistics, id) + 8);
    EXPECT(vt_plugin_stats(id, &h.p), VT_OK);
    CHECK(h.pad[offsetof(vt_plugin_statistics, id) + 8] == 0x5A);   /* only covered fields written */
    h.p.struct_size = UINT32_MAX;
    EXPECT(vt_plugin_stats(id, &h.p), VT_OK);
    CHECK(h.pad[sizeof(vt_plugin_statistics)] == 0x5A);
    EXPECT(vt_plugin_stats(id, NULL), VT_E_INVALID_ARG);
    h.p.struct_size = sizeof h.p;
    EXPECT(vt_plugin_stats(0, &h.p), VT_E_NOT_FOUND);
    EXPECT(vt_plugin_stats(id + 16, &h.p), VT_E_NOT_FOUND);
    EXPECT(vt_plugin_stats(UINT64_MAX, &h.p), VT_E_NOT_FOUND);
}

/* vt_list_plugins with id the only plugin loaded: buffer shapes; loading it again is refused. */
static void edges_list_plugins(vt_plugin_id id, const char *cfgtext) {
    vt_plugin_id ids[2];
    size_t n = 99;
    EXPECT(vt_list_plugins(NULL, 0, &n), VT_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(n, 1);
    EXPECT(vt_list_plugins(NULL, 1, &n), VT_E_INVALID_ARG);
    EXPECT(vt_list_plugins(ids, 0, NULL), VT_E_INVALID_ARG);
    EXPECT(vt_list_plugins(ids, SIZE_MAX, &n), VT_E_INVALID_ARG);
    EXPECT(vt_list_plugins(ids, 2, &n), VT_OK);
    CHECK(n == 1 && ids[0] == id);
    EXPECT(vt_load_plugin(JSONL, cfgtext, &ids[1]), VT_E_PLUGIN);   /* duplicate name */
}

/* The JSONL sink loaded with a one-event queue under a burst: stats, list, flush, unload. */
static void edges_loaded_plugin(void) {
    char path[256], cfgtext[512];
    snprintf(path, sizeof path, "/tmp/vt_robust_%d.jsonl", (int)getpid());
    snprintf(cfgtext, sizeof cfgtext,
             "{\"path\":\"%s\",\"queue_capacity\":1,\"drain_timeout_ms\":0,\"health_interval_ms\":1,\"max_batch_events\":4096}",
             path);
    if (access(JSONL, R_OK) != 0) return;
    vt_plugin_id id = 0;
    EXPECT(vt_load_plugin(JSONL, cfgtext, &id), VT_OK);
    vt_session s = open_session_with(0, 0, 0);
    for (int i = 0; i < 200; i++) EXPECT(vt_emit(s, "burst", "{\"text\":\"x\"}", NULL, NULL, 0), VT_OK);
    EXPECT(vt_record_interruption(s, 0), VT_OK);
    edges_plugin_stats(id);
    edges_list_plugins(id, cfgtext);
    EXPECT(vt_flush_events(UINT32_MAX), VT_OK);
    EXPECT(vt_end_session(s), VT_OK);
    note(0, "vt_flush_events(0)");
    verdict(0, vt_flush_events(0), S_OK | S_LIM, 0);   /* a zero deadline may pass first */
    EXPECT(vt_unload_plugin(id), VT_OK);
    EXPECT(vt_unload_plugin(id), VT_E_NOT_FOUND);
    unlink(path);
}

/* Unloading with no plugin loaded; flushing with nothing to wait for. */
static void edges_unload_without_plugins(void) {
    EXPECT(vt_unload_plugin(0), VT_OK);
    EXPECT(vt_unload_plugin(1), VT_E_NOT_FOUND);
    EXPECT(vt_unload_plugin(UINT64_MAX), VT_E_NOT_FOUND);
    EXPECT(vt_flush_events(0), VT_OK);   /* no plugin: nothing to wait for */
}

/* Hostile plugins that are refused at load (built by make test-c). */
static void edges_hostile_plugins(void) {
    const char *hostile[] = {TP "wrong_abi.so", TP "no_entry.so", TP "null_entry.so", TP "init_fails.so",
                             TP "small_table.so", TP "bad_name.so", TP "null_init.so", TP "null_write.so"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        if (access(hostile[i], R_OK) != 0) continue;
        vt_plugin_id id = 0;
        note(0, "vt_load_plugin(%s)", hostile[i]);
        arm();
        vt_status st = vt_load_plugin(hostile[i], "{}", &id);
        verdict(0, st, S_NF | S_PLG, 0);
    }
}

static void edges_events_and_plugins(void) {
    edges_emit();
    edges_event_rate_limit();
    edges_plugin_dir();
    edges_load_plugin_refusals();
    edges_loaded_plugin();
    edges_unload_without_plugins();
    edges_hostile_plugins();
}

TEST(edges_each_function) {
    printed_failures = 0;
    edges_meta_and_sessions();
    edges_record();
    edges_buffers();
    edges_metrics();
    edges_turns();
    edges_events_and_plugins();
    note(0, "");
}

TEST(edges_family_limit_test) { edges_family_limit(); note(0, ""); }

/* ------------------------------------------------------------------------------------------------
 * Threads: random calls on shared sessions while one thread ends/creates sessions and loads,
 * unloads and flushes a plugin.
 * --------------------------------------------------------------------------------------------- */

static int stop_flag;
static char plugin_cfg[512];

typedef struct worker { int th; uint64_t seed; unsigned long calls; char *mem; } worker;

static void *random_worker(void *arg) {
    worker *w = arg;
    rng r = {w->seed};
    uint64_t clock = 1000000000ull;
    for (unsigned long i = 0; i < w->calls; i++) {
        uint32_t f = below(&r, 10);
        if (f == 0) {   /* the record hot path with valid arguments, on a shared live session */
            vt_session s = __atomic_load_n(&live[below(&r, POOL)], __ATOMIC_RELAXED);
            note(w->th, "vt_record_audio_out(%llu, 320, 0) [threaded]", (unsigned long long)s);
            arm();
            verdict(w->th, vt_record_audio_out(s, 320, 0), S_OK | S_BAD, 0);
        } else {
            /* Ending sessions (call_replace_session, call_end_other) and plugin loads are the lifecycle
               thread's. */
            random_call(w->th, &r, &clock, w->mem, 0);
        }
    }
    return NULL;
}

static void *lifecycle_worker(void *arg) {
    worker *w = arg;
    rng r = {w->seed};
    vt_plugin_id id = 0;
    for (unsigned long i = 0; i < w->calls; i++) {
        uint32_t f = below(&r, 8);
        if (f <= 3) {
            int k = (int)below(&r, POOL);
            vt_session old = __atomic_load_n(&live[k], __ATOMIC_RELAXED), fresh = 0;
            note(w->th, "vt_create_session [threaded]");
            if (vt_create_session(NULL, &fresh) != VT_OK) { failure(w->th, "vt_create_session"); continue; }
            __atomic_store_n(&live[k], fresh, __ATOMIC_RELAXED);
            note(w->th, "vt_end_session(%llu) [threaded]", (unsigned long long)old);
            arm();
            verdict(w->th, vt_end_session(old), S_OK | S_BAD, 0);
            __atomic_store_n(&ended[k], old, __ATOMIC_RELAXED);
        } else if (f == 4) {
            if (id == 0) {
                note(w->th, "vt_load_plugin(jsonl_sink) [threaded]");
                arm();
                vt_status st = vt_load_plugin(JSONL, plugin_cfg, &id);
                verdict(w->th, st, S_OK | S_LIM, 0);
                if (st != VT_OK) id = 0;
            } else {
                note(w->th, "vt_unload_plugin(%llu) [threaded]", (unsigned long long)id);
                arm();
                verdict(w->th, vt_unload_plugin(id), S_OK | S_NF, 0);   /* a random unload may have won */
                id = 0;
            }
        } else if (f == 5) {
            note(w->th, "vt_flush_events(50) [threaded]");
            arm();
            verdict(w->th, vt_flush_events(50), S_OK | S_LIM, 0);
        } else {
            uint64_t clock = 1000000000ull;
            emit_one(w->th, &r, __atomic_load_n(&live[below(&r, POOL)], __ATOMIC_RELAXED), &clock);
        }
    }
    if (id) {
        note(w->th, "vt_unload_plugin(%llu) [threaded, final]", (unsigned long long)id);
        verdict(w->th, vt_unload_plugin(id), S_OK | S_NF, 0);
    }
    return NULL;
}

TEST(threads_random_calls_with_lifecycle) {
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt_robust_threads_%d.jsonl", (int)getpid());
    snprintf(plugin_cfg, sizeof plugin_cfg, "{\"path\":\"%s\",\"queue_capacity\":64,\"drain_timeout_ms\":100}", path);
    if (access(JSONL, R_OK) != 0) {
        fprintf(stderr, "note: %s missing (run make lib); the threaded test runs without a plugin\n", JSONL);
        snprintf(plugin_cfg, sizeof plugin_cfg, "{}");
    }
    printed_failures = 0;
    init_pool();
    worker w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        w[i].th = i + 1;
        w[i].seed = 0xA0761D6478BD642Full * (uint64_t)(i + 1);
        w[i].calls = (i < 2 ? 25000ul : 600ul) * (unsigned long)scale;
        w[i].mem = malloc(OUTCAP + 64);
        CHECK(w[i].mem != NULL);
    }
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, i < 2 ? random_worker : lifecycle_worker, &w[i]) == 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK(printed_failures == 0);
    size_t len = 0;
    CHECK_STATUS(vt_prom_text(outbuf, OUTCAP, &len), VT_OK);
    CHECK(prom_ok(outbuf, len));
    for (int i = 0; i < POOL; i++) CHECK_STATUS(vt_end_session(live[i]), VT_OK);
    for (int i = 0; i < 4; i++) note(i, "%s", "");
    for (int i = 0; i < 3; i++) free(w[i].mem);
    unlink(path);
    (void)stop_flag;
}

/* ------------------------------------------------------------------------------------------------ */

static void run_isolated(const char *name, void (*body)(void), int timeout_s) {
    check_current_test = name;
    unsigned long before = check_failed_count;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    isolated(body, timeout_s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s %s (%.1f s)\n", check_failed_count == before ? "ok  " : "FAIL", name,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
#define RUN_ISOLATED(name, timeout) run_isolated(#name, name, timeout)

int main(void) {
    const char *env = getenv("VT_ROBUST_SCALE");
    if (env && atoi(env) > 0) scale = atoi(env);
    const char *calls = getenv("VT_ROBUST_CALLS");
    if (calls && atol(calls) > 0) calls_per_seed = (unsigned long)atol(calls);
    shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) { perror("mmap"); return 1; }
    outbuf = malloc(OUTCAP + 64);
    if (!outbuf) return 1;
    init_doubles();
    init_strings();
    RUN_ISOLATED(edges_each_function, 120);
    RUN_ISOLATED(edges_family_limit_test, 60);
    RUN_ISOLATED(random_calls_seed_1, 120 * scale);
    RUN_ISOLATED(random_calls_seed_2, 120 * scale);
    RUN_ISOLATED(random_calls_seed_3, 120 * scale);
    RUN_ISOLATED(threads_random_calls_with_lifecycle, 120 * scale);
    return check_summary();
}
