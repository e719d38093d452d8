/*
 * vtgo.h -- C helpers of the Go binding (included by the cgo preamble of each .go file; not API).
 *
 * Why these helpers exist: vt_last_error() is per OS thread, and a goroutine may move to another
 * thread between two cgo calls (and another goroutine may fail on the first thread in between).
 * So each helper calls the library and, only when the status is not VT_OK, copies the thread's
 * message in the same C call, on the same thread. The copy is malloc'ed; Go frees it (error path
 * only). On success a helper costs one call and one compare: the record path stays one crossing.
 *
 * Strings from Go arrive "packed": one Go []byte holding NUL-terminated strings back to back (no
 * Go pointers inside, so cgo allows passing it, and nothing has to be allocated in C or freed).
 */
#ifndef VOICETELEMETRY_GO_H
#define VOICETELEMETRY_GO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voicetelemetry.h"

/* Layout the Go Event type mirrors (checked again on the Go side). */
_Static_assert(sizeof(vt_event) == 24, "vt_event layout changed: update Event in record.go");
_Static_assert(offsetof(vt_event, value) == 8, "vt_event layout changed: update Event in record.go");
_Static_assert(offsetof(vt_event, t_ns) == 16, "vt_event layout changed: update Event in record.go");

/* Result of a helper: status, and on failure a malloc'ed copy of vt_last_error() (or NULL). */
typedef struct vtgo_status {
    int32_t status;
    char *msg;
} vtgo_status;

/* Result with a value: a handle, a length or a count. */
typedef struct vtgo_result {
    int32_t status;
    char *msg;
    uint64_t value;
} vtgo_result;

static char *vtgo_copy_last_error(void) {
    const char *m = vt_last_error();
    size_t n;
    char *copy;
    if (m == NULL) m = "";
    n = strlen(m);
    copy = (char *)malloc(n + 1);
    if (copy != NULL) memcpy(copy, m, n + 1);
    return copy;
}

static inline vtgo_status vtgo_status_of(vt_status st) {
    vtgo_status r;
    r.status = st;
    r.msg = st != VT_OK ? vtgo_copy_last_error() : NULL;
    return r;
}

static inline vtgo_result vtgo_result_of(vt_status st, uint64_t value) {
    vtgo_result r;
    r.status = st;
    r.msg = st != VT_OK ? vtgo_copy_last_error() : NULL;
    r.value = value;
    return r;
}

/* A failure made up on this side (never from the library): its message is a malloc'ed copy. */
static inline vtgo_result vtgo_fail(vt_status st, const char *msg) {
    vtgo_result r;
    size_t n = strlen(msg);
    r.status = st;
    r.msg = (char *)malloc(n + 1);
    if (r.msg != NULL) memcpy(r.msg, msg, n + 1);
    r.value = 0;
    return r;
}

static inline const char *vtgo_next(const char *p) { return p + strlen(p) + 1; }

/* Read n (key, value) pairs from packed strings at p into labels; returns the end. */
static inline const char *vtgo_unpack_labels(const char *p, size_t n, vt_label *labels) {
    size_t i;
    for (i = 0; i < n; i++) {
        labels[i].key = p;
        p = vtgo_next(p);
        labels[i].value = p;
        p = vtgo_next(p);
    }
    return p;
}

#endif /* VOICETELEMETRY_GO_H */
