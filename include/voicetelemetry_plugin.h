/*
 * voicetelemetry_plugin.h -- the ABI between libvoicetelemetry and sink plugins.
 *
 * A sink plugin is a shared object that receives the library's events (JSON Lines) and sends them
 * somewhere: a file, a database, a collector. The host loads it with vt_load_plugin() (or, for a
 * table that lives in the host process, vt_load_plugin_table(); see voicetelemetry.h, "Events and
 * sink plugins"). "Plugin" and "sink plugin" name the same thing: every plugin of this ABI is a
 * sink of events; the host's functions and statistics call it a plugin.
 *
 * This header is self-contained: a plugin includes only it and never links against
 * libvoicetelemetry. Everything it may ask of the host comes in the vt_host_api table.
 *
 * STABILITY PROMISE
 *   Within ABI major version 1 both tables (vt_plugin_table, vt_host_api) and vt_sink_batch only
 *   grow at their end. Each starts with `struct_size`: the writer sets it to sizeof() as its header
 *   knows it; the reader uses only the fields that size covers. A zero or NULL field means "absent".
 *   A host refuses a plugin whose abi_major differs from its own; a higher abi_minor on either side
 *   is fine (the newer side sees the older side's smaller struct_size and does without).
 *
 * WRITING A PLUGIN
 *   Build with -fPIC -shared -fvisibility=hidden and export exactly one symbol, the entry point:
 *
 *       #include "voicetelemetry_plugin.h"
 *       static int32_t my_write(void *state, const vt_sink_batch *b) { ...; return VT_SINK_OK; }
 *       static const vt_plugin_table table = {
 *           sizeof(vt_plugin_table), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR,
 *           "my_sink", "1.0.0", my_init, my_write, my_flush, my_shutdown };
 *       VT_PLUGIN_EXPORT const vt_plugin_table *voicetelemetry_sink_plugin_v1(void) { return &table; }
 *
 *   The file must not be world-writable and must belong to the user running the host (or root):
 *   the host refuses it otherwise.
 *
 * THREADS
 *   init runs on the thread that called vt_load_plugin. Every later callback (write, flush,
 *   shutdown) runs on the plugin's own host thread, one at a time: a plugin needs no locking for its
 *   own state. A slow plugin delays only itself: its queue fills and drops its oldest events.
 *   Host functions may be called from any thread of the plugin while the plugin is loaded (from the
 *   start of init to the end of shutdown).
 *
 * EVENTS
 *   Each event is one line of JSON (RFC 8259) ending in '\n', the envelope
 *     {"type_id":"core::telemetry/event@1","session_id":"..."|null,"event_type":"...",
 *      "correlation_id":"..."|null,"turn_id":"..."|null,"timestamp_us":N,"timestamp_unix_us":N,
 *      "data":{...}}
 *   timestamp_us is the event's time on its session's clock (CLOCK_MONOTONIC unless the session is
 *   on a media clock) in microseconds; timestamp_unix_us the same moment on the wall clock
 *   (microseconds since the Unix epoch; since library 1.1). The event types and their data are
 *   listed in docs/event-schema.md. Readers must ignore keys they do not know. Texts (transcripts) were already redacted or truncated per the session's policy.
 *   The host also sends `telemetry.health` events (session_id null) while it drops events of this
 *   plugin: data {"plugin", "dropped_since_last", "dropped": {reason: total, ...}, "delivered"}.
 *
 * Since ABI 1.0 (library 1.0).
 */
#ifndef VOICETELEMETRY_PLUGIN_H
#define VOICETELEMETRY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VT_PLUGIN_ABI_MAJOR 1
#define VT_PLUGIN_ABI_MINOR 1

/** Name of the one symbol a plugin exports (a function returning its table). */
#define VT_PLUGIN_ENTRY_SYMBOL "voicetelemetry_sink_plugin_v1"

#if defined(__GNUC__) || defined(__clang__)
#define VT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VT_PLUGIN_EXPORT
#endif

/** Results of vt_plugin_table.write. Any other value is taken as VT_SINK_FATAL. */
enum vt_sink_result {
    VT_SINK_OK = 0,    /* the batch is delivered: every event in it counts as delivered */
    VT_SINK_RETRY = 1, /* try again later: the same batch (same sequence) comes back after a capped
                          exponential backoff (at most 1 s between attempts) */
    VT_SINK_DROP = 2,  /* give up on this batch: its events count as dropped (reason "plugin") */
    VT_SINK_FATAL = 3  /* the plugin cannot go on: it is disabled (an error is logged), this batch
                          and every later event of it count as dropped (reason "disabled") */
};

/** Log levels of vt_host_api.log. */
enum vt_log_level {
    VT_LOG_ERROR = 0,
    VT_LOG_WARN = 1,
    VT_LOG_INFO = 2,
    VT_LOG_DEBUG = 3
};

/**
 * vt_sink_batch -- one immutable batch of events handed to write().
 *
 * Borrowed: valid only during the write() call; copy what you keep. A batch that is retried comes
 * back with the same sequence and bytes and a higher attempt.
 */
typedef struct vt_sink_batch {
    uint32_t struct_size;     /* sizeof(vt_sink_batch) as the host knows it */
    uint32_t n_events;        /* lines in `data` (>= 1) */
    const char *data;         /* JSON Lines: n_events lines, each ending in '\n'; not NUL-terminated */
    size_t len;               /* bytes in data */
    uint64_t sequence;        /* per plugin: 1 for the first batch, +1 for each new batch */
    uint64_t dropped_before;  /* events of this plugin the host dropped since the previous batch
                                 (queue full, rate limited, too large) */
    uint32_t attempt;         /* 1 on first delivery, 2 on the first retry, ... */
    uint32_t reserved;
} vt_sink_batch;

/**
 * vt_host_api -- what the host offers a plugin. Passed to init; valid until shutdown returns.
 * Every function takes the `host_ctx` that init received. Check struct_size (or NULL) before using
 * a field added after ABI 1.0.
 */
typedef struct vt_host_api {
    uint32_t struct_size; /* sizeof(vt_host_api) as the host knows it */
    uint32_t abi_major;   /* the host's VT_PLUGIN_ABI_MAJOR */
    uint32_t abi_minor;   /* the host's VT_PLUGIN_ABI_MINOR */
    uint32_t reserved;

    /** Log a message (copied) under the plugin's name. level: a vt_log_level. Errors and warnings
     *  go to the host's standard error; the latest error is also kept in the plugin's statistics. */
    void (*log)(void *host_ctx, int32_t level, const char *message);

    /** CLOCK_MONOTONIC in nanoseconds: the clock of event timestamps and deadlines. */
    uint64_t (*now_ns)(void *host_ctx);

    /** Count n events that the plugin accepted (write returned OK) but then lost on its side. Shown
     *  as `plugin_reported_drops` in the statistics; it does not change the host's accounting. */
    void (*count_drop)(void *host_ctx, uint64_t n);

    /** The process's Prometheus text (as vt_prom_text, same BUFFERS contract and statuses). */
    int32_t (*prom_text)(void *host_ctx, char *buf, size_t cap, size_t *len_out);

    /** A session's snapshot JSON (as vt_snapshot_json; `session` is a vt_session handle). */
    int32_t (*snapshot_json)(void *host_ctx, uint64_t session, char *buf, size_t cap, size_t *len_out);

    /* Since ABI 1.1 (library 1.2): what an exporter serving the process needs (an HTTP endpoint). */

    /** The process's metrics in a vt_exposition_format (as vt_prom_text_as). */
    int32_t (*prom_text_as)(void *host_ctx, uint32_t format, char *buf, size_t cap, size_t *len_out);

    /** The open sessions as a JSON array (as vt_sessions_json). */
    int32_t (*sessions_json)(void *host_ctx, char *buf, size_t cap, size_t *len_out);

    /** The handle of the open session with this id (as vt_session_find: VT_OK, VT_E_NOT_FOUND,
     *  VT_E_INVALID_ARG). */
    int32_t (*session_find)(void *host_ctx, const char *session_id, uint64_t *session_out);

    /** A session's latest completed turns as a JSON array (as vt_turn_history_json). */
    int32_t (*turn_history_json)(void *host_ctx, uint64_t session, size_t max_turns, char *buf, size_t cap,
                                 size_t *len_out);
} vt_host_api;

/**
 * vt_plugin_table -- what a plugin offers: returned by its entry point, static, never freed.
 *
 * Required: struct_size (at least through `write`), abi_major == VT_PLUGIN_ABI_MAJOR, name (1-63
 * bytes of [A-Za-z0-9_.-], unique among loaded plugins), init and write. version, flush and shutdown
 * may be NULL.
 */
typedef struct vt_plugin_table {
    uint32_t struct_size; /* sizeof(vt_plugin_table) as the plugin knows it */
    uint32_t abi_major;   /* VT_PLUGIN_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;   /* VT_PLUGIN_ABI_MINOR the plugin was built against */
    const char *name;     /* e.g. "jsonl_sink": labels its metrics */
    const char *version;  /* the plugin's own version text, e.g. "1.2.0"; may be NULL */

    /**
     * init -- start an instance. host/host_ctx: keep them for host calls. config_json: the JSON
     * object given to vt_load_plugin (borrowed for the call; "{}" when none was given; the host's
     * own keys are in it too: ignore keys you do not know). On success store your state in
     * *state_out (may be NULL) and return 0. On failure write a NUL-terminated reason into err
     * (err_cap bytes) and return non-zero: the load fails with VT_E_PLUGIN and that text.
     */
    int32_t (*init)(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
                    char *err, size_t err_cap);

    /** write -- deliver one batch. Returns a vt_sink_result. Must not keep `batch` after returning. */
    int32_t (*write)(void *state, const vt_sink_batch *batch);

    /** flush -- make delivered events durable (fsync, send) before deadline_ns (CLOCK_MONOTONIC).
     *  Returns 0 on success. Called by vt_flush_events and before shutdown. May be NULL. */
    int32_t (*flush)(void *state, uint64_t deadline_ns);

    /** shutdown -- release everything; the state is not used again. Called once, on unload, after
     *  the queue was drained (up to the deadline) and flushed. May be NULL. */
    void (*shutdown)(void *state, uint64_t deadline_ns);
} vt_plugin_table;

/** The entry point's type. */
typedef const vt_plugin_table *(*vt_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* VOICETELEMETRY_PLUGIN_H */
