/*
 * engine.c -- the process bench/parts/80-http.sh scrapes: libvoicetelemetry with the bench's series
 * (the rule is promhttp_peer.go's: FAMILIES families, the first half counters, the rest gauges, LABELS
 * series each), serving them with http_exporter.so.
 *
 *   usage: engine PLUGIN.so PORT_FILE FAMILIES LABELS THREADS
 *
 * Then it reads commands on stdin, answering each on one stdout line:
 *   record ROUNDS CALLS SCRAPER_PID   the record call's cost with and without scraping: ROUNDS times,
 *       CALLS vt_record_audio_out calls with the scraper process stopped (SIGSTOP), then as many
 *       with it running (SIGCONT); prints "unscraped_ns scraped_ns" (each the median round, ns/call)
 *   heap                              bytes malloc has handed out and not taken back (mallinfo2)
 * EOF unloads the plugin and exits.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <voicetelemetry.h>

static void must(vt_status st, const char *what) {
    if (st != VT_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, vt_status_str(st), vt_last_error());
        exit(1);
    }
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void add_series(int families, int labels) {
    char name[64], help[64], value[16];
    for (int f = 0; f < families; f++) {
        snprintf(help, sizeof help, "Bench family %d.", f);
        for (int i = 0; i < labels; i++) {
            vt_label l[] = {{"route", value}};
            snprintf(value, sizeof value, "r%d", i);
            if (f < families / 2) {
                snprintf(name, sizeof name, "bench_requests_%d_total", f);
                must(vt_counter_add(name, help, l, 1, i * 7 + f), "counter_add");
            } else {
                snprintf(name, sizeof name, "bench_inflight_%d", f);
                must(vt_gauge_set(name, help, l, 1, i * 3 + f), "gauge_set");
            }
        }
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ns per vt_record_audio_out call over `calls` calls (explicit, increasing timestamps). */
static double record_round(vt_session s, uint64_t calls, uint64_t *t) {
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < calls; i++) vt_record_audio_out(s, 640, (*t += 20000000ull));
    return (double)(now_ns() - t0) / (double)calls;
}

static void record(vt_session s, int rounds, uint64_t calls, pid_t scraper) {
    double quiet[64], busy[64];
    uint64_t t = 2000000000ull;
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++) {
        kill(scraper, SIGSTOP);
        usleep(100000);
        quiet[r] = record_round(s, calls, &t);
        kill(scraper, SIGCONT);
        usleep(100000);
        busy[r] = record_round(s, calls, &t);
    }
    qsort(quiet, (size_t)rounds, sizeof quiet[0], cmp);
    qsort(busy, (size_t)rounds, sizeof busy[0], cmp);
    printf("%.2f %.2f\n", quiet[rounds / 2], busy[rounds / 2]);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: engine PLUGIN.so PORT_FILE FAMILIES LABELS THREADS\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* room for the idle-connection count */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    add_series(atoi(argv[3]), atoi(argv[4]));
    char config[4300];
    snprintf(config, sizeof config,
             "{\"listen\":\"127.0.0.1:0\",\"port_file\":\"%s\",\"max_connections\":5000,\"threads\":%d}", argv[2],
             atoi(argv[5]));
    vt_plugin_id plugin;
    must(vt_load_plugin(argv[1], config, &plugin), "load_plugin");
    vt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    cfg.session_id = "bench-call";
    cfg.start_t_ns = 1000000000ull;
    cfg.clock = VT_CLOCK_MEDIA;
    vt_session s;
    must(vt_create_session(&cfg, &s), "create_session");
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        int rounds, pid;
        unsigned long long calls;
        if (sscanf(line, "record %d %llu %d", &rounds, &calls, &pid) == 3) record(s, rounds, calls, pid);
        else if (strncmp(line, "heap", 4) == 0) printf("%zu\n", mallinfo2().uordblks);
        else printf("?\n");
        fflush(stdout);
    }
    vt_end_session(s);
    must(vt_unload_plugin(plugin), "unload_plugin");
    return 0;
}
