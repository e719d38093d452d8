/*
 * sse.c -- the event ring behind /api/v1/events.
 *
 * The plugin's write() (the host's thread for this plugin) publishes each event it serves as one
 * formatted Server-Sent Event ("id: N\nevent: TYPE\ndata: LINE\n\n") into a ring of
 * sse_queue_events slots. Every SSE client keeps only its cursor, the sequence number of the next
 * event it is to get; its worker copies events from the ring into the client's socket buffer as
 * the client reads them. A client more than sse_queue_events behind finds its next events
 * overwritten: it gets one "dropped" event saying how many it lost, then goes on from the oldest
 * kept. So memory is the ring plus at most one socket buffer's worth per client, however many
 * clients there are and however slow.
 *
 * The ring's mutex is held by write() and the workers for a copy of a few kilobytes at most; the
 * record calls of the engine never reach this plugin, so no recording thread ever waits on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int hx_ring_init(hx_ring *r, uint32_t cap) {
    memset(r, 0, sizeof *r);
    r->slot = calloc(cap, sizeof *r->slot);
    r->slot_len = calloc(cap, sizeof *r->slot_len);
    if (!r->slot || !r->slot_len) {
        free(r->slot);
        free(r->slot_len);
        return -1;
    }
    r->cap = cap;
    pthread_mutex_init(&r->lock, NULL);
    return 0;
}

void hx_ring_free(hx_ring *r) {
    if (!r->slot) return;
    for (uint32_t i = 0; i < r->cap; i++) free(r->slot[i]);
    free(r->slot);
    free(r->slot_len);
    pthread_mutex_destroy(&r->lock);
    memset(r, 0, sizeof *r);
}

uint64_t hx_ring_head(hx_ring *r) {
    pthread_mutex_lock(&r->lock);
    uint64_t h = r->head;
    pthread_mutex_unlock(&r->lock);
    return h;
}

int hx_ring_publish(hx_ring *r, const char *type, size_t type_len, const char *line, size_t len) {
    size_t cap = len + type_len + 64;
    char *ev = malloc(cap);
    if (!ev) return -1;
    pthread_mutex_lock(&r->lock);
    uint64_t seq = r->head;
    int n = snprintf(ev, cap, "id: %llu\nevent: %.*s\ndata: ", (unsigned long long)seq, (int)type_len, type);
    memcpy(ev + n, line, len);
    memcpy(ev + n + len, "\n\n", 2);
    uint32_t i = (uint32_t)(seq % r->cap);
    free(r->slot[i]);
    r->slot[i] = ev;
    r->slot_len[i] = (size_t)n + len + 2;
    r->head = seq + 1;
    r->published++;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

void hx_ring_pull(hx_ring *r, uint64_t *next, hx_buf *out, size_t budget) {
    pthread_mutex_lock(&r->lock);
    uint64_t oldest = r->head > r->cap ? r->head - r->cap : 0;
    if (*next > r->head) *next = r->head;
    if (*next < oldest) {
        char note[96];
        int n = snprintf(note, sizeof note, "event: dropped\ndata: {\"dropped\":%llu,\"by\":\"stream\"}\n\n",
                         (unsigned long long)(oldest - *next));
        hx_buf_put(out, note, (size_t)n);
        *next = oldest;
    }
    while (*next < r->head && out->len < budget && !out->oom) {
        uint32_t i = (uint32_t)(*next % r->cap);
        hx_buf_put(out, r->slot[i], r->slot_len[i]);
        ++*next;
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- the event type of one event line ------------------------------------------------------------ */

/* Past the JSON string starting at s[i] == '"'; 0 if it does not end. */
static size_t skip_string(const char *s, size_t i, size_t n) {
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return 0;
}

/* Past the value at s[i] (string, object, array or scalar); 0 if it does not end. */
static size_t skip_value(const char *s, size_t i, size_t n) {
    if (i >= n) return 0;
    if (s[i] == '"') return skip_string(s, i, n);
    int depth = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            if (!(i = skip_string(s, i, n))) return 0;
            i--;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return i;
            if (--depth == 0) return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
    }
    return depth == 0 ? i : 0;
}

static size_t skip_ws(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
    return i;
}

int hx_event_type(const char *s, size_t n, hx_str *type) {
    size_t i = skip_ws(s, 0, n);
    if (i >= n || s[i] != '{') return 0;
    for (i = skip_ws(s, i + 1, n); i < n && s[i] == '"';) {
        size_t key = i + 1, end = skip_string(s, i, n);
        if (!end) return 0;
        int is_type = end - key - 1 == 10 && memcmp(s + key, "event_type", 10) == 0;
        i = skip_ws(s, end, n);
        if (i >= n || s[i] != ':') return 0;
        i = skip_ws(s, i + 1, n);
        size_t vend = skip_value(s, i, n);
        if (!vend) return 0;
        if (is_type) {
            if (s[i] != '"' || memchr(s + i, '\\', vend - i)) return 0;
            type->p = s + i + 1;
            type->n = vend - i - 2;
            return 1;
        }
        i = skip_ws(s, vend, n);
        if (i >= n || s[i] != ',') return 0;
        i = skip_ws(s, i + 1, n);
    }
    return 0;
}
