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

static int check_summary(void) {
    printf("%lu passed, %lu failed\n", check_passed_count, check_failed_count);
    return check_failed_count == 0 ? 0 : 1;
}

#endif /* VT_TEST_CHECK_H */
