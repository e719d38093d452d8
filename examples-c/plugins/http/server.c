/*
 * server.c -- the listening socket, the worker threads and their connections.
 *
 * Each worker owns an epoll instance, the connections it accepted and its scratch buffers; the
 * listening socket is in every worker's epoll with EPOLLEXCLUSIVE, so a new connection wakes one.
 * Sockets are non-blocking and level-triggered. Workers share only atomics (the connection and
 * SSE client counts, the stop flag) and the SSE ring (sse.c).
 *
 * A connection is in one state:
 *   READING  waiting for (the rest of) a request head; without a byte of it, on the idle list
 *            (idle_timeout_ms), else on the request list (request_timeout_ms from its first byte,
 *            or from the accept): a head that does not arrive in time is answered 408.
 *   WRITING  a response that did not fit the socket is being sent; on the write list (no progress
 *            for request_timeout_ms closes it). Pipelined requests wait in the input buffer.
 *   SSE      an event stream: fed from the ring as the client reads; on the stall list while the
 *            socket holds unsent events (no progress for idle_timeout_ms closes it).
 *   CLOSING  after an error response: our side is shut down, input is read and discarded until
 *            the client closes (or a second passes) so the response is not lost to a reset.
 * Every list has one timeout, so appending keeps it sorted by deadline: expiry looks at heads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define SSE_BUDGET 65536        /* bytes of events copied into a client's buffer at a time */
#define LINGER_MS 1000
#define ACCEPT_PAUSE_MS 100     /* out of descriptors: stop accepting for this long */

enum { S_READING, S_WRITING, S_SSE, S_CLOSING };
enum { L_REQUEST, L_IDLE, L_WRITE, L_STALL, L_LINGER, N_LISTS, L_NONE = N_LISTS };

struct hx_conn {
    int fd;
    uint8_t state, list, close_after, sse_after;
    uint32_t events;            /* the epoll interest set */
    hx_conn *prev, *next;       /* in the worker's list `list` */
    hx_conn *sse_prev, *sse_next;
    uint64_t deadline_ms;
    char *in;                   /* max_header_bytes, while a request is under way */
    size_t in_len;
    hx_buf out;                 /* bytes not yet sent */
    size_t out_off;
    uint64_t cursor;            /* SSE: the next event's sequence */
};

typedef struct conn_list {
    hx_conn *head, *tail;
} conn_list;

struct hx_worker {
    hx_server *srv;
    pthread_t thread;
    int started;
    int epfd, wake_fd;
    conn_list lists[N_LISTS];
    uint32_t timeout_ms[N_LISTS];
    hx_conn *sse_head;
    uint64_t next_heartbeat_ms;
    uint64_t accept_paused_until;
    hx_scratch sc;
    char date[48];
    time_t date_sec;
};

static char LISTEN_TAG, WAKE_TAG; /* epoll data of the listening socket and the wake eventfd */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- buffers ---------------------------------------------------------------------------------- */

int hx_buf_reserve(hx_buf *b, size_t total) {
    if (total <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < total) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void hx_buf_put(hx_buf *b, const void *p, size_t n) {
    if (n == 0 || b->oom || hx_buf_reserve(b, b->len + n) < 0) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void hx_buf_free(hx_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- lists and interest ------------------------------------------------------------------------ */

static void list_unlink(hx_worker *w, hx_conn *c) {
    if (c->list == L_NONE) return;
    conn_list *l = &w->lists[c->list];
    if (c->prev) c->prev->next = c->next;
    else l->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else l->tail = c->prev;
    c->prev = c->next = NULL;
    c->list = L_NONE;
}

/* Put c at the end of list `kind` with a deadline of now + that list's timeout. */
static void list_move(hx_worker *w, hx_conn *c, int kind, uint64_t now) {
    list_unlink(w, c);
    if (kind == L_NONE) return;
    conn_list *l = &w->lists[kind];
    c->list = (uint8_t)kind;
    c->deadline_ms = now + w->timeout_ms[kind];
    c->prev = l->tail;
    if (l->tail) l->tail->next = c;
    else l->head = c;
    l->tail = c;
}

static void set_interest(hx_worker *w, hx_conn *c, uint32_t events) {
    if (c->events == events) return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->events = events;
}

static void sse_unlink(hx_worker *w, hx_conn *c) {
    if (c->sse_prev) c->sse_prev->sse_next = c->sse_next;
    else if (w->sse_head == c) w->sse_head = c->sse_next;
    if (c->sse_next) c->sse_next->sse_prev = c->sse_prev;
    c->sse_prev = c->sse_next = NULL;
}

static void conn_close(hx_worker *w, hx_conn *c) {
    list_unlink(w, c);
    if (c->state == S_SSE) sse_unlink(w, c);
    if (c->state == S_SSE || c->sse_after) atomic_fetch_sub(&w->srv->sse_clients, 1); /* the route's reservation */
    close(c->fd); /* also leaves the epoll set */
    free(c->in);
    hx_buf_free(&c->out);
    free(c);
    atomic_fetch_sub(&w->srv->connections, 1);
}

/* Our side is done: shut down writing, then read and discard until the client closes. */
static void conn_linger(hx_worker *w, hx_conn *c, uint64_t now) {
    shutdown(c->fd, SHUT_WR);
    c->state = S_CLOSING;
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
    hx_buf_free(&c->out);
    c->out_off = 0;
    set_interest(w, c, EPOLLIN);
    list_move(w, c, L_LINGER, now);
}

/* ---- responses ------------------------------------------------------------------------------- */

static const char *http_date(hx_worker *w) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    if (t != w->date_sec) {
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(w->date, sizeof w->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
                 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        w->date_sec = t;
    }
    return w->date;
}

/* Append printf-style to out[*n..cap), never past it (a head that does not fit is cut short). */
static void put(char *out, size_t cap, size_t *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = *n < cap ? vsnprintf(out + *n, cap - *n, fmt, ap) : 0;
    va_end(ap);
    if (r > 0) *n = *n + (size_t)r < cap ? *n + (size_t)r : cap - 1;
}

static size_t response_head(hx_worker *w, const hx_response *res, int http10_keep, char *out, size_t cap) {
    size_t n = 0;
    put(out, cap, &n, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", res->status, hx_status_text(res->status),
        res->content_type);
    if (!res->sse) put(out, cap, &n, "Content-Length: %zu\r\n", res->body_len);
    if (res->gzip) put(out, cap, &n, "Content-Encoding: gzip\r\n");
    put(out, cap, &n, "%sX-Content-Type-Options: nosniff\r\nDate: %s\r\n%s\r\n",
        res->extra_headers ? res->extra_headers : "", http_date(w),
        res->close ? "Connection: close\r\n" : http10_keep ? "Connection: keep-alive\r\n" : "");
    return n;
}

/* Send what we can of iov now; keep the rest in c->out. -1: the connection is broken. */
static int send_or_keep(hx_conn *c, struct iovec *iov, int n) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    ssize_t sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
        sent = 0;
    }
    size_t skip = (size_t)sent;
    for (int i = 0; i < n; i++) {
        size_t take = skip < iov[i].iov_len ? skip : iov[i].iov_len;
        skip -= take;
        hx_buf_put(&c->out, (const char *)iov[i].iov_base + take, iov[i].iov_len - take);
    }
    return c->out.oom ? -1 : 0;
}

static void sse_begin(hx_worker *w, hx_conn *c, uint64_t now);
static int after_send(hx_worker *w, hx_conn *c, uint64_t now);

/* Send one response; afterwards the connection reads the next request, streams, or closes.
 * Returns 1 when it may read the next request now (0: c may be gone). */
static int respond(hx_worker *w, hx_conn *c, const hx_response *res, const hx_request *req, uint64_t now) {
    char head[1024];
    int http10_keep = !res->close && req && req->http_minor == 0;
    struct iovec iov[2] = {{head, response_head(w, res, http10_keep, head, sizeof head)},
                           {(void *)(uintptr_t)res->body, res->head || res->sse ? 0 : res->body_len}};
    c->close_after = (uint8_t)res->close;
    c->sse_after = (uint8_t)(res->sse && !res->head);
    if (send_or_keep(c, iov, 2) < 0) {
        conn_close(w, c);
        return 0;
    }
    return after_send(w, c, now);
}

/* ---- reading requests -------------------------------------------------------------------------- */

static void handle_requests(hx_worker *w, hx_conn *c, uint64_t now);

/* The output is all sent, or the rest waits for the socket: go on accordingly. Returns 1 when the
 * connection may read its next request now (0: it waits, streams, closes or is gone). */
static int after_send(hx_worker *w, hx_conn *c, uint64_t now) {
    if (c->out.len > c->out_off) {
        c->state = S_WRITING;
        set_interest(w, c, EPOLLOUT);
        list_move(w, c, L_WRITE, now);
        return 0;
    }
    hx_buf_free(&c->out);
    c->out_off = 0;
    if (c->sse_after) {
        sse_begin(w, c, now);
        return 0;
    }
    if (c->close_after) {
        conn_linger(w, c, now);
        return 0;
    }
    c->state = S_READING;
    set_interest(w, c, EPOLLIN);
    return 1;
}

/* Answer the whole request heads in the input buffer in order. A response that does not fit the
 * socket holds back the next (pipelining with bounded memory). */
static void handle_requests(hx_worker *w, hx_conn *c, uint64_t now) {
    hx_server *s = w->srv;
    for (;;) {
        if (c->in_len == 0) {
            free(c->in);
            c->in = NULL;
            list_move(w, c, L_IDLE, now);
            return;
        }
        hx_request req;
        hx_response res;
        long n = hx_parse_request(c->in, c->in_len, s->cfg.max_header_bytes, &req);
        if (n == 0) {
            if (c->list != L_REQUEST) list_move(w, c, L_REQUEST, now);
            return;
        }
        if (n < 0) {
            memset(&res, 0, sizeof res);
            res.close = 1; /* where the next request would start is unknown */
            hx_error(&w->sc, &res, req.error_status, req.error);
            c->in_len = 0;
        } else {
            hx_route(s, &w->sc, &req, &res, &c->cursor);
            memmove(c->in, c->in + n, c->in_len - (size_t)n);
            c->in_len -= (size_t)n;
            if (c->in_len) list_move(w, c, L_REQUEST, now); /* the next request starts now */
        }
        if (!respond(w, c, &res, n < 0 ? NULL : &req, now)) return;
    }
}

static void on_readable(hx_worker *w, hx_conn *c, uint64_t now) {
    size_t max = w->srv->cfg.max_header_bytes;
    if (c->state != S_READING) { /* SSE, CLOSING: input is discarded */
        char sink[4096];
        ssize_t r = recv(c->fd, sink, sizeof sink, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) conn_close(w, c);
        return;
    }
    if (!c->in && !(c->in = malloc(max))) {
        conn_close(w, c);
        return;
    }
    ssize_t r = recv(c->fd, c->in + c->in_len, max - c->in_len, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(w, c);
        return;
    }
    if (r < 0) return;
    if (c->in_len == 0 && c->list == L_IDLE) list_move(w, c, L_REQUEST, now);
    c->in_len += (size_t)r;
    handle_requests(w, c, now);
}

/* ---- writing ------------------------------------------------------------------------------------- */

static void sse_feed(hx_worker *w, hx_conn *c, uint64_t now);

static void on_writable(hx_worker *w, hx_conn *c, uint64_t now) {
    size_t left = c->out.len - c->out_off;
    ssize_t r = send(c->fd, c->out.p + c->out_off, left, MSG_NOSIGNAL);
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) conn_close(w, c);
        return;
    }
    c->out_off += (size_t)r;
    if ((size_t)r < left) {
        list_move(w, c, c->state == S_SSE ? L_STALL : L_WRITE, now); /* progress: the timer starts again */
        return;
    }
    if (c->state == S_SSE) sse_feed(w, c, now);
    else if (after_send(w, c, now)) handle_requests(w, c, now);
}

/* ---- event streams ------------------------------------------------------------------------------ */

/* Send the stream's buffer; what the socket does not take waits for EPOLLOUT (on the write list:
 * a client that reads nothing for request_timeout_ms is closed). */
static int sse_send(hx_worker *w, hx_conn *c, uint64_t now) {
    ssize_t r = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_close(w, c);
        return -1;
    }
    c->out_off = r < 0 ? 0 : (size_t)r;
    if (c->out_off < c->out.len) {
        set_interest(w, c, EPOLLIN | EPOLLOUT);
        list_move(w, c, L_STALL, now);
    } else {
        hx_buf_free(&c->out);
        c->out_off = 0;
        set_interest(w, c, EPOLLIN);
        list_unlink(w, c);
    }
    return 0;
}

/* Copy the client's next events from the ring and send them, until the ring has no more for it
 * or the socket takes no more (then EPOLLOUT brings it back here). */
static void sse_feed(hx_worker *w, hx_conn *c, uint64_t now) {
    for (;;) {
        c->out.len = c->out_off = 0;
        hx_ring_pull(&w->srv->ring, &c->cursor, &c->out, SSE_BUDGET);
        if (c->out.oom) {
            conn_close(w, c);
            return;
        }
        if (c->out.len == 0) {
            hx_buf_free(&c->out);
            set_interest(w, c, EPOLLIN);
            list_unlink(w, c);
            return;
        }
        if (sse_send(w, c, now) < 0 || c->out.len) return; /* closed, or waiting for the socket */
    }
}

static void sse_begin(hx_worker *w, hx_conn *c, uint64_t now) {
    c->state = S_SSE;
    c->sse_after = 0;
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
    c->sse_next = w->sse_head;
    if (w->sse_head) w->sse_head->sse_prev = c;
    w->sse_head = c;
    hx_buf_put(&c->out, ": connected\n\n", 13);
    if (sse_send(w, c, now) == 0 && c->out.len == 0) sse_feed(w, c, now);
}

/* New events, or a heartbeat: every idle stream of this worker gets its share. */
static void sse_pump(hx_worker *w, uint64_t now, int heartbeat) {
    hx_conn *next;
    for (hx_conn *c = w->sse_head; c; c = next) {
        next = c->sse_next;
        if (c->out.len > c->out_off) continue; /* still sending: fed again when it drains */
        if (heartbeat) {
            c->out.len = c->out_off = 0;
            hx_buf_put(&c->out, ": heartbeat\n\n", 13);
            sse_send(w, c, now);
        } else {
            sse_feed(w, c, now);
        }
    }
}

/* ---- accepting ---------------------------------------------------------------------------------- */

/* Beyond max_connections: read what the client already sent, answer 503, close. */
static void refuse(int fd) {
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                              "Content-Length: 32\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                              "{\"error\":\"too many connections\"}";
    char sink[4096];
    while (recv(fd, sink, sizeof sink, 0) > 0) {
    }
    if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL) > 0) shutdown(fd, SHUT_WR);
    close(fd);
}

static void add_conn(hx_worker *w, int fd, uint64_t now) {
    hx_conn *c = calloc(1, sizeof *c);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        close(fd);
        atomic_fetch_sub(&w->srv->connections, 1);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->events = EPOLLIN;
    c->list = L_NONE;
    c->state = S_READING;
    list_move(w, c, L_REQUEST, now); /* the first request is due from the accept on */
}

static void pause_accepting(hx_worker *w, uint64_t now) {
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->listen_fd, NULL);
    w->accept_paused_until = now + ACCEPT_PAUSE_MS;
}

static void resume_accepting(hx_worker *w, uint64_t now) {
    if (!w->accept_paused_until || now < w->accept_paused_until) return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &LISTEN_TAG};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->srv->listen_fd, &ev) == 0) w->accept_paused_until = 0;
}

static void on_accept(hx_worker *w, uint64_t now) {
    hx_server *s = w->srv;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting(w, now);
            return;
        }
        if (atomic_fetch_add(&s->connections, 1) >= s->cfg.max_connections) {
            atomic_fetch_sub(&s->connections, 1);
            refuse(fd);
            continue;
        }
        add_conn(w, fd, now);
    }
}

/* ---- timers -------------------------------------------------------------------------------------- */

static void expire(hx_worker *w, uint64_t now) {
    for (int kind = 0; kind < N_LISTS; kind++) {
        hx_conn *c;
        while ((c = w->lists[kind].head) && c->deadline_ms <= now) {
            if (kind == L_REQUEST && c->in_len > 0) { /* part of a head arrived: 408 */
                hx_response res;
                memset(&res, 0, sizeof res);
                res.close = 1;
                hx_error(&w->sc, &res, 408, "the request head did not arrive in time");
                c->in_len = 0;
                respond(w, c, &res, NULL, now); /* sets it closing */
            } else {
                conn_close(w, c);
            }
        }
    }
    if (now >= w->next_heartbeat_ms) {
        sse_pump(w, now, 1);
        w->next_heartbeat_ms = now + w->srv->cfg.sse_heartbeat_ms;
    }
}

static int wait_ms(hx_worker *w, uint64_t now) {
    uint64_t next = w->next_heartbeat_ms;
    for (int kind = 0; kind < N_LISTS; kind++)
        if (w->lists[kind].head && w->lists[kind].head->deadline_ms < next) next = w->lists[kind].head->deadline_ms;
    if (w->accept_paused_until && w->accept_paused_until < next) next = w->accept_paused_until;
    return next <= now ? 0 : next - now > 1000 ? 1000 : (int)(next - now);
}

/* ---- the worker ---------------------------------------------------------------------------------- */

static void on_event(hx_worker *w, struct epoll_event *ev, uint64_t now) {
    if (ev->data.ptr == &LISTEN_TAG) {
        on_accept(w, now);
        return;
    }
    if (ev->data.ptr == &WAKE_TAG) {
        uint64_t n;
        ssize_t r = read(w->wake_fd, &n, sizeof n); /* EAGAIN: woken twice, read once */
        (void)r;
        sse_pump(w, now, 0);
        return;
    }
    hx_conn *c = ev->data.ptr;
    if ((ev->events & EPOLLOUT) && c->out.len > c->out_off) on_writable(w, c, now);
    else if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(w, c, now);
}

static void *worker_main(void *arg) {
    hx_worker *w = arg;
    struct epoll_event evs[64];
    w->next_heartbeat_ms = now_ms() + w->srv->cfg.sse_heartbeat_ms;
    while (!atomic_load(&w->srv->stop)) {
        uint64_t now = now_ms();
        resume_accepting(w, now);
        int n = epoll_wait(w->epfd, evs, 64, wait_ms(w, now));
        now = now_ms();
        for (int i = 0; i < n && !atomic_load(&w->srv->stop); i++) on_event(w, &evs[i], now);
        expire(w, now);
    }
    return NULL;
}

static void worker_free(hx_worker *w) {
    for (int kind = 0; kind < N_LISTS; kind++)
        while (w->lists[kind].head) conn_close(w, w->lists[kind].head);
    while (w->sse_head) conn_close(w, w->sse_head);
    if (w->epfd >= 0) close(w->epfd);
    if (w->wake_fd >= 0) close(w->wake_fd);
    hx_scratch_free(&w->sc);
}

/* ---- start and stop --------------------------------------------------------------------------- */

static int failf(char *err, size_t cap, const char *what, const char *listen, int e) {
    snprintf(err, cap, "%s %s: %s", what, listen, strerror(e));
    return -1;
}

/* "host:port", "[v6]:port": the address to listen on. */
static int resolve(const char *listen, struct addrinfo **out, char *err, size_t cap) {
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1] || strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        snprintf(err, cap, "config: 'listen' must be host:port (e.g. 127.0.0.1:9464, [::1]:0), not '%s'", listen);
        return -1;
    }
    size_t hlen = (size_t)(colon - listen);
    const char *h = listen;
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') h++, hlen -= 2;
    if (hlen >= sizeof host || atoi(colon + 1) > 65535) {
        snprintf(err, cap, "config: 'listen' has a bad host or port: '%s'", listen);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = 0;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, colon + 1, &hints, out);
    if (rc != 0) {
        snprintf(err, cap, "listen %s: %s", listen, gai_strerror(rc));
        return -1;
    }
    return 0;
}

static int open_listener(hx_server *s, char *err, size_t cap) {
    struct addrinfo *ai;
    if (resolve(s->cfg.listen, &ai, err, cap) < 0) return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) {
        freeaddrinfo(ai);
        return failf(err, cap, "socket for", s->cfg.listen, errno);
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(ai);
        return failf(err, cap, "listen", s->cfg.listen, e);
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                               : ((struct sockaddr_in *)&sa)->sin_port);
    s->listen_fd = fd;
    return 0;
}

/* The bound port into port_file, atomically (a temporary file renamed over it). */
static int write_port_file(hx_server *s, char *err, size_t cap) {
    const char *path = s->cfg.port_file;
    if (!path[0]) return 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%d\n", s->port) > 0;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        snprintf(err, cap, "port_file %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

static int worker_init(hx_server *s, hx_worker *w) {
    w->srv = s;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    for (int kind = 0; kind < N_LISTS; kind++) w->timeout_ms[kind] = s->cfg.request_timeout_ms;
    w->timeout_ms[L_IDLE] = w->timeout_ms[L_STALL] = s->cfg.idle_timeout_ms;
    w->timeout_ms[L_LINGER] = LINGER_MS;
    if (w->epfd < 0 || w->wake_fd < 0 || hx_scratch_init(&w->sc, &s->cfg) < 0) return -1;
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &LISTEN_TAG};
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &WAKE_TAG};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->listen_fd, &lev) < 0 ||
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &wev) < 0)
        return -1;
    return 0;
}

int hx_server_start(hx_server *s, char *err, size_t cap) {
    s->listen_fd = -1;
    if (hx_ring_init(&s->ring, s->cfg.sse_queue_events) < 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (open_listener(s, err, cap) < 0 || write_port_file(s, err, cap) < 0) {
        hx_server_stop(s);
        return -1;
    }
    s->workers = calloc(s->cfg.threads, sizeof *s->workers);
    if (!s->workers) {
        snprintf(err, cap, "out of memory");
        hx_server_stop(s);
        return -1;
    }
    for (uint32_t i = 0; i < s->cfg.threads; i++, s->n_workers++) {
        hx_worker *w = &s->workers[i];
        w->epfd = w->wake_fd = -1;
        if (worker_init(s, w) < 0 || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, cap, "starting worker %u: %s", i, strerror(errno));
            s->n_workers++; /* its resources are freed with the others */
            hx_server_stop(s);
            return -1;
        }
        w->started = 1;
    }
    return 0;
}

void hx_server_wake(hx_server *s) {
    uint64_t one = 1;
    for (uint32_t i = 0; i < s->n_workers; i++) {
        ssize_t r = write(s->workers[i].wake_fd, &one, sizeof one); /* EAGAIN: already woken */
        (void)r;
    }
}

void hx_server_stop(hx_server *s) {
    atomic_store(&s->stop, 1);
    hx_server_wake(s);
    for (uint32_t i = 0; i < s->n_workers; i++) {
        if (s->workers[i].started) pthread_join(s->workers[i].thread, NULL);
        worker_free(&s->workers[i]);
    }
    free(s->workers);
    s->workers = NULL;
    s->n_workers = 0;
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
    hx_ring_free(&s->ring);
}
