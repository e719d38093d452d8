/*
 * check.h -- the C test suites' tiny harness.
 *
 *   TEST(name) { CHECK(cond); CHECK_EQ_U64(a, b); CHECK_STATUS(call, VT_OK); ... }
 *   int main(void) { RUN(name); ...; return check_summary(); }
 *
 * Each failed check prints file:line and what was expected; a test keeps running after a failed
 * check so one run shows every problem. check_summary() prints "N passed, N failed" (checks) and
 * returns the process exit status.
 */
#ifndef VT_TEST_CHECK_H
#define VT_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voicetelemetry.h"

/* "major.minor.patch" of the header the test was compiled with. */
#define VERSION_STR_(x) #x
#define VERSION_STR(x) VERSION_STR_(x)
#define VERSION_TEXT VERSION_STR(VT_VERSION_MAJOR) "." VERSION_STR(VT_VERSION_MINOR) "." VERSION_STR(VT_VERSION_PATCH)

static unsigned long check_passed_count;
static unsigned long check_failed_count;
static const char *check_current_test = "";

#define TEST(name) static void name(void)
#define RUN(name)                                   \
    do {                                            \
        check_current_test = #name;                 \
        unsigned long before_ = check_failed_count; \
        name();                                     \
        printf("%s %s\n", check_failed_count == before_ ? "ok  " : "FAIL", #name); \
    } while (0)

static void check_report(int ok, const char *file, int line, const char *what) {
    if (ok) {
        check_passed_count++;
    } else {
        check_failed_count++;
        fprintf(stderr, "%s:%d: [%s] %s\n", file, line, check_current_test, what);
    }
}

#define CHECK(cond) check_report(!!(cond), __FILE__, __LINE__, "expected: " #cond)

#define CHECK_EQ_U64(actual, expected)                                                          \
    do {                                                                                        \
        uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);                            \
        char m_[256];                                                                           \
        snprintf(m_, sizeof m_, "%s == %" PRIu64 ", expected %" PRIu64, #actual, a_, e_);       \
        check_report(a_ == e_, __FILE__, __LINE__, m_);                                         \
    } while (0)

#define CHECK_STATUS(call, expected)                                                            \
    do {                                                                                        \
        vt_status s_ = (call);                                                                  \
        char m_[512];                                                                           \
        snprintf(m_, sizeof m_, "%s returned %d (%s: %s), expected %d (%s)", #call, (int)s_,     \
                 vt_status_str(s_), vt_last_error(), (int)(expected), vt_status_str(expected));  \
        check_report(s_ == (expected), __FILE__, __LINE__, m_);                                  \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                                          \
    do {                                                                                        \
        const char *a_ = (actual), *e_ = (expected);                                            \
        char m_[512];                                                                           \
        snprintf(m_, sizeof m_, "%s is \"%.200s\", expected \"%.200s\"", #actual,               \
                 a_ ? a_ : "(null)", e_);                                                        \
        check_report(a_ && strcmp(a_, e_) == 0, __FILE__, __LINE__, m_);                          \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                        \
    do {                                                                                        \
        const char *h_ = (haystack), *n_ = (needle);                                            \
        char m_[512];                                                                           \
        snprintf(m_, sizeof m_, "%s should contain \"%.300s\"", #haystack, n_);                 \
        check_report(h_ && strstr(h_, n_) != NULL, __FILE__, __LINE__, m_);                       \
    } while (0)

/* A session with these text and turn settings (a checked create). */
static inline vt_session open_session_with(uint32_t text_policy, uint32_t max_text_chars, uint32_t turn_history) {
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.text_policy = text_policy;
    cfg.max_text_chars = max_text_chars;
    cfg.turn_history = turn_history;
    vt_session s = 0;
    CHECK_STATUS(vt_create_session(&cfg, &s), VT_OK);
    return s;
}

/* The number after `"key":` in a JSON text (its first occurrence), or 0. */
static inline uint64_t json_u64(const char *json, const char *key) {
    char pattern[96];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = json ? strstr(json, pattern) : NULL;
    return at ? strtoull(at + strlen(pattern), NULL, 10) : 0;
}

/* The wall-clock microseconds (an event's timestamp_unix_us) of t_ns on session s's clock: through
 * the anchor its snapshot shows (start_unix_ns at start_ns). */
static inline uint64_t unix_us_of(vt_session s, uint64_t t_ns) {
    static char json[65536];
    size_t len;
    if (vt_snapshot_json(s, json, sizeof json, &len) != VT_OK) return 0;
    return (json_u64(json, "start_unix_ns") + t_ns - json_u64(json, "start_ns")) / 1000;
}

/* The envelope's two times of an event at t_ns on session s's clock:
 * "timestamp_us":T,"timestamp_unix_us":U (a static buffer: one use at a time). */
static inline const char *envelope_times(vt_session s, uint64_t t_ns) {
    static char text[96];
    snprintf(text, sizeof text, "\"timestamp_us\":%" PRIu64 ",\"timestamp_unix_us\":%" PRIu64, t_ns / 1000,
             unix_us_of(s, t_ns));
    return text;
}

/* A snapshot without its session-specific tail (start_ns, start_unix_ns, trace_id), to compare the
 * numbers of two sessions. Cuts `json` in place and returns it from its "labels" on. */
static inline const char *snapshot_numbers(char *json) {
    char *tail = strstr(json, ",\"start_ns\":");
    if (tail) *tail = '\0';
    return strstr(json, "\"labels\"");
}

static int check_summary(void) {
    printf("%lu passed, %lu failed\n", check_passed_count, check_failed_count);
    return check_failed_count == 0 ? 0 : 1;
}

#endif /* VT_TEST_CHECK_H */
