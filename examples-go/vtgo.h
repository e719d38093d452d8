/*
 * vtgo.h -- C helpers of the Go binding (included by the cgo preamble of each .go file; not API).
 *
 * Why these helpers exist: vt_last_error() is per OS thread, and a goroutine may move to another
 * thread between two cgo calls (and another goroutine may fail on the first thread in between).
 * So each helper calls the library and, only when the status is not VT_OK, copies the thread's
 * message in the same C call, on the same thread. The copy is malloc'ed; Go frees it (error path
 * only). On success a helper costs one call and one compare: the record path stays one crossing.
 * (Reading vt_last_error() in a second cgo call, even right after, could read another goroutine's
 * message, or none; locking the OS thread around every call would tax the success path.)
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

/*
 * A failed call: its status and a copy of its vt_last_error() message. Helpers return a pointer to
 * one, or NULL on success: a pointer comes back in a register, which keeps a record call as cheap
 * as a raw cgo call of the library function (a returned struct measurably is not).
 * `owned` 1: malloc'ed, the Go side frees it. 0: one of the static blocks below, used only when
 * malloc fails: the message is lost, the status kept (codes unknown here become VT_E_INTERNAL).
 */
typedef struct vtgo_err {
    int32_t status;
    int32_t owned;
    const char *msg;
} vtgo_err;

#define VTGO_NO_MEMORY "(no memory to copy the error message)"
static vtgo_err vtgo_err_no_memory[10] = {
    {0, 0, VTGO_NO_MEMORY},  {-1, 0, VTGO_NO_MEMORY}, {-2, 0, VTGO_NO_MEMORY},
    {-3, 0, VTGO_NO_MEMORY}, {-4, 0, VTGO_NO_MEMORY}, {-5, 0, VTGO_NO_MEMORY},
    {-6, 0, VTGO_NO_MEMORY}, {-7, 0, VTGO_NO_MEMORY}, {-8, 0, VTGO_NO_MEMORY},
    {-9, 0, VTGO_NO_MEMORY},
};

/* A failure with the given message (copied). */
static vtgo_err *vtgo_err_with(vt_status st, const char *m) {
    size_t n = strlen(m);
    vtgo_err *e = (vtgo_err *)malloc(sizeof *e + n + 1);
    if (e == NULL) {
        return &vtgo_err_no_memory[st <= 0 && st >= -9 ? -st : -VT_E_INTERNAL];
    }
    e->status = st;
    e->owned = 1;
    memcpy((char *)(e + 1), m, n + 1);
    e->msg = (const char *)(e + 1);
    return e;
}

/* The failure of the call that just returned st on this thread: copies vt_last_error() now. */
static vtgo_err *vtgo_err_last(vt_status st) {
    const char *m = vt_last_error();
    return vtgo_err_with(st, m != NULL ? m : "");
}

/* NULL for VT_OK; otherwise the failure, message copied on the calling thread. */
static inline vtgo_err *vtgo_check(vt_status st) {
    return st == VT_OK ? NULL : vtgo_err_last(st);
}

/* Result of a helper that also produces a value (a handle, a length, a count). */
typedef struct vtgo_result {
    vtgo_err *err;
    uint64_t value;
} vtgo_result;

static inline vtgo_result vtgo_result_of(vt_status st, uint64_t value) {
    vtgo_result r;
    r.err = vtgo_check(st);
    r.value = value;
    return r;
}

/* A failure made up on this side (never from the library). */
static inline vtgo_result vtgo_fail(vt_status st, const char *msg) {
    vtgo_result r;
    r.err = vtgo_err_with(st, msg);
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
