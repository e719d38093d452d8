/*
 * scraper.c -- GET /metrics (gzip) RATE times a second on one keep-alive connection, as a Prometheus
 * server scraping often would; runs until killed. bench/parts/80-http.sh stops and continues it
 * (SIGSTOP/SIGCONT) around the record-cost rounds of engine.c.
 *
 *   usage: scraper PORT RATE
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* One request; reads the whole response (head, then Content-Length bytes). */
static void scrape(int fd) {
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\n\r\n";
    static char buf[1 << 20];
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) exit(1);
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) exit(1);
        got += (size_t)r;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    char *cl = strcasestr(buf, "Content-Length:");
    size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
    while (got < want) {
        ssize_t r = read(fd, buf, sizeof buf < want - got ? sizeof buf : want - got);
        if (r <= 0) exit(1);
        got += (size_t)r;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: scraper PORT RATE\n");
        return 2;
    }
    int fd = dial(atoi(argv[1]));
    long period_ns = 1000000000L / atol(argv[2]);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        scrape(fd);
        next.tv_nsec += period_ns;
        while (next.tv_nsec >= 1000000000L) next.tv_nsec -= 1000000000L, next.tv_sec++;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long behind = (now.tv_sec - next.tv_sec) * 1000000000L + (now.tv_nsec - next.tv_nsec);
        if (behind > period_ns) next = now; /* it was stopped (SIGSTOP): no burst to catch up */
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
}
