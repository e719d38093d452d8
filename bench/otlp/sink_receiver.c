/*
 * sink_receiver.c -- a loopback HTTP/1.1 server for the OTLP benchmark: reads each POST (Content-Length
 * bodies, keep-alive), discards it and answers 200 with an empty body. One thread per connection.
 *
 *   sink_receiver <port-file>     listens on 127.0.0.1:<any>, writes the port to <port-file>, runs until
 *                                 killed; on SIGTERM prints "requests bytes" to stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_ullong n_requests, n_bytes;

static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";

/* Reads one request's headers into buf (returns header length incl. the blank line; 0 on EOF). */
static size_t read_headers(int fd, char *buf, size_t cap, size_t *have) {
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end) return (size_t)(end - buf) + 4;
        if (*have == cap) return 0;
        ssize_t n = read(fd, buf + *have, cap - *have);
        if (n <= 0) return 0;
        *have += (size_t)n;
    }
}

static size_t content_length(const char *h, size_t len) {
    for (const char *p = h; p < h + len; p++) {
        if ((p == h || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) return strtoull(p + 15, NULL, 10);
    }
    return 0;
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    static __thread char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        size_t hl = read_headers(fd, buf, sizeof buf, &have);
        if (!hl) break;
        size_t body = content_length(buf, hl), got = have - hl < body ? have - hl : body;
        size_t extra = have - hl - got; /* pipelined bytes after this body */
        memmove(buf, buf + hl + got, extra);
        have = extra;
        while (got < body) {
            ssize_t n = read(fd, buf, sizeof buf < body - got ? sizeof buf : body - got);
            if (n <= 0) goto done;
            got += (size_t)n;
        }
        atomic_fetch_add(&n_requests, 1);
        atomic_fetch_add(&n_bytes, body);
        if (write(fd, REPLY, sizeof REPLY - 1) < 0) break;
    }
done:
    close(fd);
    return NULL;
}

static void on_term(int sig) {
    (void)sig;
    printf("%llu %llu\n", (unsigned long long)n_requests, (unsigned long long)n_bytes);
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0) return 1;
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    FILE *f = fopen(argv[1], "w");
    if (!f) return 1;
    fprintf(f, "%d\n", ntohs(a.sin_port));
    fclose(f);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0) pthread_detach(t);
        else close(fd);
    }
}
