/*
 * hostile.c -- misbehaving sink plugins for the test suite, one per HOSTILE_* macro (the Makefile
 * builds each variant into build/tests/plugins/<variant>.so). The host must refuse or survive each
 * of them with exact accounting.
 *
 *   wrong_abi      abi_major 2                       null_write   write is NULL
 *   no_entry       exports no entry symbol           null_init    init is NULL
 *   null_entry     entry returns NULL                small_table  struct_size too small
 *   init_fails     init fails with a reason          bad_name     name with a space
 *   slow           write sleeps 1 s                  retry        write returns RETRY forever
 *   fatal          write returns FATAL               weird        write returns 42
 *   minimal        only init and write (flush/shutdown NULL), returns OK
 *   forks_in_init  init forks a child that exits at once (the host's fork handlers run inside
 *                  vt_load_plugin, whose lock the forking thread holds)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "voicetelemetry_plugin.h"

/* Some variants leave callbacks out of their table. */
#define MAYBE_UNUSED __attribute__((unused))

MAYBE_UNUSED static int32_t h_init(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                      char *err, size_t err_cap) {
    (void)host; (void)host_ctx; (void)config_json;
    *state_out = NULL;
#ifdef HOSTILE_init_fails
    snprintf(err, err_cap, "database unreachable at db.invalid:5432");
    return 7;
#elif defined(HOSTILE_forks_in_init)
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        snprintf(err, err_cap, "fork failed");
        return 1;
    }
    return 0;
#else
    (void)err; (void)err_cap;
    return 0;
#endif
}

MAYBE_UNUSED static int32_t h_write(void *state, const vt_sink_batch *batch) {
    (void)state; (void)batch;
#if defined(HOSTILE_slow)
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    return VT_SINK_OK;
#elif defined(HOSTILE_retry)
    return VT_SINK_RETRY;
#elif defined(HOSTILE_fatal)
    return VT_SINK_FATAL;
#elif defined(HOSTILE_weird)
    return 42;
#else
    return VT_SINK_OK;
#endif
}

MAYBE_UNUSED static int32_t h_flush(void *state, uint64_t deadline_ns) { (void)state; (void)deadline_ns; return 0; }
MAYBE_UNUSED static void h_shutdown(void *state, uint64_t deadline_ns) { (void)state; (void)deadline_ns; }

#ifndef HOSTILE_NAME
#define HOSTILE_NAME "hostile"
#endif

static const vt_plugin_table table = {
#if defined(HOSTILE_small_table)
    8,
#else
    sizeof(vt_plugin_table),
#endif
#if defined(HOSTILE_wrong_abi)
    2,
#else
    VT_PLUGIN_ABI_MAJOR,
#endif
    VT_PLUGIN_ABI_MINOR,
#if defined(HOSTILE_bad_name)
    "bad name!",
#else
    HOSTILE_NAME,
#endif
    "0.0.1",
#if defined(HOSTILE_null_init)
    NULL,
#else
    h_init,
#endif
#if defined(HOSTILE_null_write)
    NULL,
#else
    h_write,
#endif
#if defined(HOSTILE_minimal)
    NULL, NULL,
#else
    h_flush, h_shutdown,
#endif
};

#if defined(HOSTILE_no_entry)
VT_PLUGIN_EXPORT const vt_plugin_table *some_other_symbol(void) { return &table; }
#elif defined(HOSTILE_null_entry)
VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return table.name ? NULL : &table; }
#else
VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
#endif
