/*
 * voicetelemetry.h -- the C ABI of libvoicetelemetry.
 *
 * This header is the contract. If something is not declared here it is not API.
 *
 * STABILITY PROMISE
 *   Within major version 1, functions, status codes, enum values and struct fields are only ever
 *   ADDED, never changed or removed. A changed behaviour gets a new name (e.g. a `_v2` suffix).
 *   Structs that cross the boundary start with `struct_size` and only grow at their end: set
 *   `struct_size = sizeof(the struct)` as your header knows it; the library reads only the fields
 *   your size covers and treats the rest as zero ("default"). Arrays of structs are passed together
 *   with the element size for the same reason.
 *
 * STATUSES
 *   Every function that can fail returns a vt_status: VT_OK (0) or a negative code. New codes may
 *   be added in a minor version; treat any unknown negative value as an error. vt_status_str() gives
 *   static text for a code; vt_last_error() gives the detail message of the calling thread's last
 *   failing call. No argument value crashes or aborts the host: NULL pointers, made-up or ended
 *   handles, invalid UTF-8 and absurd lengths all return an error status with a message.
 *
 * TIME
 *   Every record call takes `uint64_t t_ns`: nanoseconds on the session's clock of when the thing
 *   happened. A session's clock is CLOCK_MONOTONIC (vt_now_ns()) unless it was created with
 *   clock = VT_CLOCK_MEDIA (the engine's own clock, e.g. a media clock). 0 means "now" on the
 *   session's clock. Durations are computed from these timestamps only, so scripted timestamps give
 *   exact, repeatable numbers. Each session also keeps the wall clock (CLOCK_REALTIME) of its start:
 *   every event a plugin receives carries its time on that wall clock too (timestamp_unix_us).
 *
 * BUFFERS
 *   Functions that produce text (vt_snapshot_json, vt_prom_text, ...) follow snprintf: when the text fits
 *   in `cap` bytes including its NUL they write it, NUL-terminated, and set *len_out to its length
 *   without the NUL. Otherwise they write nothing useful, return VT_E_BUFFER_TOO_SMALL and set
 *   *len_out to the same length, so a buffer of *len_out + 1 bytes fits (unless the text grows in
 *   between: call again). `buf` may be NULL when `cap` is 0, to ask for the length.
 *
 * THREADS
 *   Every function is thread-safe. Record calls may come from many threads at once while other
 *   threads read snapshots and the Prometheus text. Record calls take no lock, allocate nothing and
 *   make no system call except reading the clock when t_ns == 0. Each section below states the rule
 *   its functions share in a "Thread-safety" line; a function that differs says so itself.
 *
 * PROCESSES
 *   A process that uses the library may fork() (pre-forking servers, multiprocessing): the library
 *   registers fork handlers when it is loaded. In the parent nothing changes. In the child, whose
 *   only thread is the one that called fork(), the library works as usual from any thread; its open
 *   sessions stay open with what they had recorded (a record call another thread was making at the
 *   moment of the fork may be counted in part or not at all); and no plugin is loaded: the parent's
 *   plugins are neither called nor unloaded there (their threads did not survive the fork, and their
 *   files and connections are the parent's), so the child's events go only to plugins it loads
 *   itself. A plugin's init may fork. Since 1.1.
 *
 * STRINGS
 *   Strings passed in are NUL-terminated UTF-8, borrowed for the duration of the call only (the
 *   library copies what it keeps). Strings returned are owned by the library; their lifetime is
 *   stated per function. Never free them.
 */
#ifndef VOICETELEMETRY_H
#define VOICETELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Version
 *
 * Thread-safety: any thread; these functions never fail and take no lock.
 * --------------------------------------------------------------------------------------------- */

#define VT_VERSION_MAJOR 1
#define VT_VERSION_MINOR 2
#define VT_VERSION_PATCH 0
/** The version this header describes, as one number: major * 1000000 + minor * 1000 + patch. */
#define VT_VERSION_NUMBER (VT_VERSION_MAJOR * 1000000 + VT_VERSION_MINOR * 1000 + VT_VERSION_PATCH)

/**
 * vt_version_number -- the version of the library actually loaded.
 *
 * Returns major * 1000000 + minor * 1000 + patch (1.0.0 -> 1000000). Compare with
 * VT_VERSION_NUMBER to detect a program running against a different library than it was
 * compiled with: any 1.x library serves a program compiled against 1.y for y <= x.
 * Since 1.0.
 */
uint32_t vt_version_number(void);

/**
 * vt_version_string -- the loaded library's version as text, e.g. "1.1.0".
 *
 * Ownership: static storage, valid for the life of the process; do not free.
 * Since 1.0.
 */
const char *vt_version_string(void);

/* ------------------------------------------------------------------------------------------------
 * Statuses and errors
 *
 * Thread-safety: any thread; take no lock.
 * --------------------------------------------------------------------------------------------- */

/** Result of a call: VT_OK or one of the negative vt_status_code values. */
typedef int32_t vt_status;

enum vt_status_code {
    VT_OK = 0,                   /* success */
    VT_E_INVALID_ARG = -1,       /* an argument is NULL, malformed, out of range or not valid UTF-8 */
    VT_E_BAD_HANDLE = -2,        /* the handle is 0, made up, or names a session that has ended
                                    (or a vt_metric vt_metric_get did not return; since 1.2) */
    VT_E_BUFFER_TOO_SMALL = -3,  /* the output does not fit: *len_out says how many bytes it needs */
    VT_E_LIMIT = -4,             /* a documented limit is reached (open sessions, series, families) */
    VT_E_ORDER = -5,             /* the call is valid but not at this point (e.g. buckets after use) */
    VT_E_INTERNAL = -6,          /* a bug in the library; the message says where */
    VT_E_NOT_FOUND = -7,         /* a named thing does not exist (plugin file or symbol, plugin id) */
    VT_E_PLUGIN = -8,            /* a plugin was refused or failed (ABI mismatch, init failure) */
    VT_E_PERMISSION = -9         /* refused for safety (e.g. a world-writable plugin file) */
};

/**
 * vt_status_str -- static, human-readable text for a status code ("ok", "invalid argument", ...).
 *
 * Unknown codes give "unknown status". Ownership: static storage; do not free. Since 1.0.
 */
const char *vt_status_str(vt_status status);

/**
 * vt_last_error -- detail message of the last call that failed on the calling thread.
 *
 * Returns "" when no call on this thread has failed yet. Successful calls do not clear it. Each
 * thread sees only its own message.
 * Ownership: thread-local storage owned by the library; valid until the next failing call on the
 * same thread or until the thread exits. Copy it if you need it longer. Since 1.0.
 */
const char *vt_last_error(void);

/* ------------------------------------------------------------------------------------------------
 * Clock
 * --------------------------------------------------------------------------------------------- */

/**
 * vt_now_ns -- CLOCK_MONOTONIC in nanoseconds: the clock that t_ns == 0 stands for.
 *
 * Thread-safety: any thread. Since 1.0.
 */
uint64_t vt_now_ns(void);

/* ------------------------------------------------------------------------------------------------
 * Sessions
 *
 * A session is one conversation (call, room, connection). Its handle is a 64-bit number; 0 is never
 * a valid handle. At most VT_MAX_SESSIONS sessions are open at once; vt_create_session beyond that
 * returns VT_E_LIMIT until a session ends. A handle of an ended session (or any made-up value)
 * gives VT_E_BAD_HANDLE from every call, never undefined behaviour. A handle value is not given out
 * again before at least 2^43 further sessions have been created.
 *
 * Thread-safety: any thread; these functions take the library's short internal lock (they are not
 * hot-path calls), except vt_session_now_ns, which is lock-free.
 * --------------------------------------------------------------------------------------------- */

/** Maximum number of sessions open at the same time. */
#define VT_MAX_SESSIONS 65536
/** Maximum number of labels of one session or one metric call. */
#define VT_MAX_LABELS 16
/** Maximum length in bytes of a session id. */
#define VT_MAX_SESSION_ID_BYTES 128
/** Maximum length in bytes of a label value (keys follow the metric-name limit below). */
#define VT_MAX_LABEL_VALUE_BYTES 256

typedef uint64_t vt_session;

/** A label: key (a Prometheus label name, [a-zA-Z_][a-zA-Z0-9_]*) and a UTF-8 value. */
typedef struct vt_label {
    const char *key;
    const char *value; /* NULL or "" means "absent": the label is left out, never exported empty */
} vt_label;

/** Options of a new session. Zero-initialise, set struct_size, fill what you need. */
typedef struct vt_session_config {
    uint32_t struct_size;     /* sizeof(vt_session_config); fields are only appended */
    const char *session_id;   /* NULL: a unique id is generated ("vt-" + 16 hex digits) */
    const vt_label *labels;   /* e.g. transport=sip, provider=..., model=...; may be NULL if 0 */
    size_t n_labels;          /* at most VT_MAX_LABELS; keys must be distinct */
    uint64_t start_t_ns;      /* when the session started (clock as for t_ns); 0 = now. Since 1.0 */
    uint32_t text_policy;     /* what happens to texts (transcripts) before anyone reads them:
                                 VT_TEXT_REDACT (0, the default) keeps only their length;
                                 VT_TEXT_INCLUDE keeps them, truncated to max_text_chars. Since 1.0 */
    uint32_t max_text_chars;  /* longest text kept, in characters; 0 = VT_DEFAULT_MAX_TEXT_CHARS. Since 1.0 */
    uint32_t turn_history;    /* completed turns kept for reading back; 0 = VT_DEFAULT_TURN_HISTORY,
                                 at most VT_MAX_TURN_HISTORY. Since 1.0 */
    /* Fields of 1.1 start past the 1.0 struct's tail padding (a 1.0 caller's struct_size covers
       that padding, whose bytes may be anything). */
    const char *metadata_json;/* NULL, or a JSON object describing the session (e.g. the agent's
                                 version, the caller's locale): at most VT_MAX_METADATA_BYTES once
                                 compact; kept and sent with session.start. Since 1.1 */
    const char *traceparent;  /* NULL, or a W3C traceparent ("00-<32 hex trace id>-<16 hex span
                                 id>-<2 hex flags>") of the caller (e.g. the SIP gateway's request): the
                                 session joins that trace. Otherwise the session gets a random trace
                                 id. Either way it is in the snapshot and session.start. Since 1.1 */
    uint32_t clock;           /* a vt_clock: which clock this session's t_ns are on. Since 1.1 */
} vt_session_config;

/** Values of vt_session_config.clock. Since 1.1. */
enum vt_clock {
    VT_CLOCK_MONOTONIC = 0, /* t_ns are CLOCK_MONOTONIC, as vt_now_ns() (the default) */
    VT_CLOCK_MEDIA = 1      /* t_ns are the engine's own clock, which reads start_t_ns when the session
                               is created; "now" is start_t_ns advanced by the CLOCK_MONOTONIC time
                               since vt_create_session */
};

/** Longest session metadata, in bytes of compact JSON. Since 1.1. */
#define VT_MAX_METADATA_BYTES 2048

/** Values of vt_session_config.text_policy. */
enum vt_text_policy {
    VT_TEXT_REDACT = 0,  /* texts are replaced by their length (the default) */
    VT_TEXT_INCLUDE = 1  /* texts are kept, truncated to max_text_chars */
};
#define VT_DEFAULT_MAX_TEXT_CHARS 200
#define VT_DEFAULT_TURN_HISTORY 32
#define VT_MAX_TURN_HISTORY 1024

/**
 * vt_create_session -- open a session.
 *
 * cfg: NULL for defaults (generated id, no labels, started now). cfg->struct_size must be at least
 *      offsetof(vt_session_config, labels); fields beyond it are taken as zero.
 * out: receives the new handle (never 0). Untouched on error.
 * Statuses: VT_OK; VT_E_INVALID_ARG (out NULL, struct_size too small, id empty/too long/not UTF-8,
 *           too many labels, bad or duplicate label key, value too long or not UTF-8, unknown
 *           text_policy, turn_history above VT_MAX_TURN_HISTORY, unknown clock, metadata_json not a
 *           JSON object or longer than VT_MAX_METADATA_BYTES, traceparent malformed or all zeros);
 *           VT_E_LIMIT (VT_MAX_SESSIONS already open).
 * Ownership: everything in cfg is copied; cfg may be freed when the call returns.
 * Session labels whose keys are registered for a built-in process metric (default: `transport`)
 * label that metric's series (see vt_register_labels). The session id is never a metric label.
 * Since 1.0.
 */
vt_status vt_create_session(const vt_session_config *cfg, vt_session *out);

/**
 * vt_end_session -- end a session: its counters fold into the process totals, its handle dies.
 *
 * s: the session; 0 is a harmless no-op returning VT_OK.
 * Statuses: VT_OK; VT_E_BAD_HANDLE (made up or already ended).
 * A record call racing vt_end_session on another thread is, for each counter it touches, either
 * counted on the ending session (and so in the process totals) or rejected with VT_E_BAD_HANDLE;
 * it is never attributed to another session and never crashes. Process counters stay exact.
 * Since 1.0.
 */
vt_status vt_end_session(vt_session s);

/**
 * vt_session_now_ns -- now on the session's clock: what t_ns = 0 stands for in its calls
 * (vt_now_ns() for a session on CLOCK_MONOTONIC; for one on VT_CLOCK_MEDIA, its start_t_ns advanced
 * by the CLOCK_MONOTONIC time since vt_create_session).
 * now_out: receives it.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (now_out NULL).
 * Ownership: now_out is the caller's, written only on VT_OK.
 * Thread-safety: any thread; lock-free. Since 1.1.
 */
vt_status vt_session_now_ns(vt_session s, uint64_t *now_out);

/**
 * vt_end_session_at -- vt_end_session, at t_ns on the session's clock (0 = now): the time of its
 * session.end event and of its final snapshot (uptime, throughput).
 *
 * Statuses, ownership, thread-safety: as vt_end_session (s = 0 is a no-op). Since 1.1.
 */
vt_status vt_end_session_at(vt_session s, uint64_t t_ns);

/**
 * vt_sessions_json -- the open sessions, as a JSON array, oldest first, of objects:
 *   {"session_id", "labels": {key: value, ...}, "start_unix_ns", "uptime_ns" (now on the session's
 *    clock minus its start), "turns_completed", "turns_interrupted", "last_e2e_ns" (the latest
 *    completed turn's end-to-end latency; null until there is one), "trace_id"}
 * ([] when none is open). Its turns are the turn collector's: turns_completed and turns_interrupted
 * are the snapshot's turns.completed and turns.interrupted, not its top-level turns_completed (the
 * response turns of vt_record_turn_complete). For a live list of calls (a dashboard, an admin endpoint); a session's
 * details come from vt_session_find and then vt_snapshot_json or vt_turn_history_json.
 * buf/cap/len_out: see BUFFERS. Sessions open and end while this runs: each entry is one session's
 * state at one moment, and a second call (for a larger buffer) may list a different set.
 * Statuses: VT_OK; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf NULL with cap > 0).
 * Since 1.2.
 */
vt_status vt_sessions_json(char *buf, size_t cap, size_t *len_out);

/**
 * vt_session_find -- the handle of the open session whose id is `session_id` (the newest, if
 * several open sessions share the id).
 * out: receives the handle; untouched on error. The handle may end at any moment (another thread
 * calling vt_end_session): calls with it then return VT_E_BAD_HANDLE, as for any ended session.
 * Statuses: VT_OK; VT_E_NOT_FOUND (no open session has that id); VT_E_INVALID_ARG (session_id NULL,
 *           empty, longer than VT_MAX_SESSION_ID_BYTES or not UTF-8; out NULL).
 * Ownership: session_id is borrowed for the call. Since 1.2.
 */
vt_status vt_session_find(const char *session_id, vt_session *out);

/* ------------------------------------------------------------------------------------------------
 * Record calls (the hot path)
 *
 * All of them: s must be an open session (else VT_E_BAD_HANDLE); t_ns as described under TIME.
 * A call that the semantics ignore (a second turn_start, a second text_out, audio with no response
 * awaited) returns VT_OK: it is not an error. A latency whose end is earlier than its start
 * (out-of-order timestamps) is not recorded; it is counted in the snapshot's
 * `out_of_order_events`, never clamped. Nothing is borrowed beyond the call. Since 1.0.
 *
 * Thread-safety: any thread; lock-free, no allocation, no system call except the clock read for
 * t_ns == 0.
 * --------------------------------------------------------------------------------------------- */

/**
 * vt_record_audio_out -- one chunk of agent audio was sent: counts one chunk and `bytes` bytes.
 *
 * The first chunk after a vt_record_vad_end closes one response latency (vad_end -> this chunk);
 * later chunks do not, until the next vad_end.
 * Racing vt_end_session: VT_OK means the chunk and its bytes were counted on the ending session;
 * VT_E_BAD_HANDLE means its bytes were not (its chunk may still have been counted).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bytes above 2^40, 1 TiB, in one chunk);
 *           VT_E_LIMIT (the chunk would take the session past 2^43 bytes, 8 TiB: not counted).
 * s: an open session; bytes: the chunk's size; t_ns: when it was sent (0 = now; the clock is read
 * only when the chunk closes a response latency). Since 1.0.
 */
vt_status vt_record_audio_out(vt_session s, size_t bytes, uint64_t t_ns);

/**
 * vt_record_vad_start -- the user started speaking. Counted; cancels a response latency that is
 * still awaited (the user is talking again, so the next vad_end restarts the measurement).
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_vad_start(vt_session s, uint64_t t_ns);

/**
 * vt_record_vad_end -- the user stopped speaking: a response is now awaited from t_ns. A later
 * vad_end before the response replaces the start (the latest end of speech counts).
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_vad_end(vt_session s, uint64_t t_ns);

/**
 * vt_record_text_send -- the user sent a text message: a text response is awaited from t_ns
 * (a later text_send before the response replaces the start).
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_text_send(vt_session s, uint64_t t_ns);

/**
 * vt_record_text_out -- the model produced text. The first text_out after a text_send closes one
 * text-response latency; later ones are ignored until the next text_send.
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_text_out(vt_session s, uint64_t t_ns);

/**
 * vt_record_interruption -- the user interrupted the agent (barge-in). Counted.
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_interruption(vt_session s, uint64_t t_ns);

/**
 * vt_record_turn_start -- a response turn began (e.g. the model started responding). The first
 * call wins; further calls before vt_record_turn_complete are ignored.
 * Response turns are a timer of their own: they give the snapshot's turns_completed, turn_open,
 * avg_turn_duration_ms and turn_duration_ms, and voicetelemetry_turns_total and
 * voicetelemetry_turn_duration_seconds. They are not the turn collector's turns (see "Turn
 * collector"), which this call does not open.
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_turn_start(vt_session s, uint64_t t_ns);

/**
 * vt_record_turn_complete -- the open response turn completed: records its duration (turn_start
 * -> t_ns) and counts one response turn; without an open response turn nothing is counted. It also
 * completes the turn collector's current turn, if one is open (see "Turn collector").
 * Statuses: VT_OK; VT_E_BAD_HANDLE.
 * s: an open session; t_ns: when it happened (0 = now). Since 1.0.
 */
vt_status vt_record_turn_complete(vt_session s, uint64_t t_ns);

/** Token usage as a model reported it. A field < 0 means "not reported". */
typedef struct vt_usage {
    uint32_t struct_size; /* sizeof(vt_usage) */
    int64_t total;
    int64_t prompt;
    int64_t response;
    int64_t cached;
    int64_t thoughts;
} vt_usage;

/**
 * vt_record_usage -- token usage reported by the model.
 *
 * Each reported field (>= 0) replaces the session's latest value of that field and is added to
 * the session's running total of it; unreported fields (< 0) keep their latest value. A running
 * total never wraps: it stops at INT64_MAX, and the snapshot's `token_totals_saturated` is then true.
 * u: borrowed for the call; u->struct_size must cover at least `total`; reported fields must be
 *    below 2^40.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (u NULL, struct_size too small, a field of
 *           2^40 or more: nothing of the report is recorded).
 * Since 1.0.
 */
vt_status vt_record_usage(vt_session s, const vt_usage *u);

/**
 * vt_record_usage_at -- vt_record_usage, reported at t_ns on the session's clock (0 = now): the
 * time of its `usage` event. Statuses, ownership, thread-safety: as vt_record_usage. Since 1.1.
 */
vt_status vt_record_usage_at(vt_session s, const vt_usage *u, uint64_t t_ns);

/** Kinds of batch entry (vt_event.kind): which record call an entry of vt_record_batch stands for.
 *  Values are stable; new kinds are only added. */
enum vt_event_kind {
    VT_EV_AUDIO_OUT = 1,       /* value = bytes */
    VT_EV_VAD_START = 2,
    VT_EV_VAD_END = 3,
    VT_EV_TEXT_SEND = 4,
    VT_EV_TEXT_OUT = 5,
    VT_EV_INTERRUPTION = 6,
    VT_EV_TURN_START = 7,
    VT_EV_TURN_COMPLETE = 8
};

/** One entry of vt_record_batch: the arguments of one record call (a batch entry, not an event in
 *  the sense of vt_emit). */
typedef struct vt_event {
    uint32_t kind;     /* a vt_event_kind */
    uint32_t reserved; /* set to 0 */
    uint64_t value;    /* VT_EV_AUDIO_OUT: bytes; others: ignored (set 0) */
    uint64_t t_ns;     /* as for the record calls; 0 = now */
} vt_event;

/**
 * vt_record_batch -- apply many record calls to one session in one crossing.
 *
 * For bindings whose foreign call costs far more than a record (Python, Go): per-frame audio can
 * be collected and recorded in one call. Events are applied in array order, with exactly the
 * semantics of the single calls.
 * events: array of n elements of event_size bytes each (pass sizeof(vt_event)); may be NULL if n 0;
 *         borrowed for the call.
 * n_done: if not NULL, receives the number of events applied (all of them on VT_OK; on an error,
 *         the index of the event that failed, all before it having been applied).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (events NULL with n > 0, event_size smaller
 *           than the fields through t_ns, n * event_size beyond the address space, an unknown kind
 *           or an audio event's bytes above 2^40: the message names the index); VT_E_LIMIT (an
 *           audio event would take the session past 2^43 bytes).
 * Since 1.0.
 */
vt_status vt_record_batch(vt_session s, const vt_event *events, size_t n, size_t event_size,
                          size_t *n_done);

/* ------------------------------------------------------------------------------------------------
 * Session snapshot
 *
 * Thread-safety: any thread, concurrently with record calls. A snapshot takes the short internal
 * lock and reads the session's values atomically one by one: taken during recording, it is a
 * consistent-enough view, not a transaction.
 * --------------------------------------------------------------------------------------------- */

/**
 * vt_snapshot_json -- the session's statistics as one JSON object, as of now (schema in README,
 * "Snapshot"). Exactly vt_snapshot_json_at(s, 0, buf, cap, len_out): see it for the fields.
 * buf/cap/len_out: see BUFFERS; the text is written into the caller's buffer, nothing to free.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf
 *           NULL with cap > 0).
 * Since 1.0.
 */
vt_status vt_snapshot_json(vt_session s, char *buf, size_t cap, size_t *len_out);

/**
 * vt_snapshot_json_at -- the session's statistics as of `now_t_ns` (0 = now).
 *
 * now_t_ns only sets `uptime_secs` (now - session start) and the throughput derived from it, so
 * that scripted sessions give exact snapshots.
 * The JSON always parses: ids and label values are escaped. Fields: schema_version (1), session_id,
 * labels; the record calls' counters and latencies at the top level (uptime_secs, audio_chunks_out,
 * audio_bytes_out, audio_throughput_kbps, interruptions, last/avg/min/max_response_latency_ms,
 * response_count, avg_turn_duration_ms, total/prompt/response/cached_content/thoughts_token_count
 * (the latest usage report), turns_completed, turn_open, vad_starts, vad_ends, text_sends,
 * usage_reports, token_totals, out_of_order_events); objects with count, sum, min, max, last, avg,
 * p50, p90, p95, p99 for response_latency_ms, text_response_latency_ms and turn_duration_ms;
 * `turns`, the turn collector's view (turns by outcome: completed, interrupted, discarded; open;
 * the last turn's breakdown; per-stage p50 and p95); and (Since 1.1) token_totals_saturated, start_ns
 * (the session's start on its clock), start_unix_ns (the same moment on the wall clock: an event at
 * t_ns on the session's clock is at start_unix_ns + t_ns - start_ns) and trace_id (32 hex digits),
 * and (Since 1.2) cost, usage_by_model and usage_by_model_overflow (see "Prices and costs").
 * A value that does not exist yet is null.
 * Two different turns: turns_completed, turn_open, avg_turn_duration_ms and turn_duration_ms are
 * the response turns of vt_record_turn_start / vt_record_turn_complete; turns.completed,
 * turns.interrupted and turns.open are the turn collector's turns. Their counts differ for one
 * session (the collector counts an interrupted turn as interrupted, not completed, discards turns
 * with no latency, and closes turns the engine never marked with turn_start).
 * Readers must ignore keys they do not know: fields are only added within schema version 1.
 * Per-session quantiles have at most 6.25% relative error (for values of at least 1 us).
 * buf/cap/len_out: see BUFFERS. len_out must not be NULL.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf
 *           NULL with cap > 0).
 * Since 1.0.
 */
vt_status vt_snapshot_json_at(vt_session s, uint64_t now_t_ns, char *buf, size_t cap,
                              size_t *len_out);

/* ------------------------------------------------------------------------------------------------
 * Process metrics and Prometheus exposition
 *
 * A process-wide registry of metric families. Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*,
 * at most VT_MAX_NAME_BYTES bytes; counter names end in `_total`, other names must not end in
 * `_total`, `_count`, `_sum`, `_bucket` or `_quantiles` (so the output stays lint-clean and no
 * two families collide). Names starting with
 * `voicetelemetry_` are the library's own: they can be configured (vt_register_labels,
 * vt_set_buckets) but not written. A family's type is fixed by its first use; `help` is required
 * (non-empty) on first use and may be NULL afterwards: only the call that creates the family reads
 * it, later help texts are ignored.
 *
 * Labels: keys as above (not `le` or `quantile`, not starting with `__`), values UTF-8 of at most
 * VT_MAX_LABEL_VALUE_BYTES; a NULL or empty value means the label is absent. Keys not registered
 * for the metric (vt_register_labels) are dropped and counted in
 * voicetelemetry_metrics_unknown_label_total{metric=...}. Each family holds at most
 * VT_MAX_SERIES_PER_FAMILY series; values for further label sets are dropped, counted in
 * voicetelemetry_metrics_series_dropped_total{metric=...}, and the call returns VT_E_LIMIT.
 * At most VT_MAX_FAMILIES families exist.
 *
 * Latency families (vt_observe and the built-in *_seconds histograms) are exposed twice: as a
 * Prometheus histogram (cumulative `le` buckets; aggregate across processes with
 * histogram_quantile) and as a summary named <name>_quantiles with quantiles 0.5, 0.9, 0.95, 0.99
 * (NaN while empty), each with at most 2% relative error.
 * Default buckets (seconds): .005 .01 .025 .05 .075 .1 .15 .2 .25 .3 .4 .5 .6 .75 1 1.25 1.5 2 2.5
 * 3 4 5 7.5 10 and +Inf.
 *
 * Thread-safety: any thread, concurrently with everything else. These functions may take the
 * library's short internal lock, except the writes through a handle, marked "Lock-free" below
 * (they follow the rules of the record calls: no lock, no allocation, no system call).
 * --------------------------------------------------------------------------------------------- */

/** Maximum length in bytes of a metric name or label key. */
#define VT_MAX_NAME_BYTES 200
/** Maximum number of series of one metric family. */
#define VT_MAX_SERIES_PER_FAMILY 2000
/** Maximum number of metric families (the library's own included). */
#define VT_MAX_FAMILIES 1024
/** Maximum number of explicit bucket bounds of a histogram. */
#define VT_MAX_BUCKETS 64

/**
 * vt_counter_add -- add v to a counter series (created at 0 on first use).
 *
 * v < 0 is ignored (counters only go up) and returns VT_OK; NaN or infinite v: VT_E_INVALID_ARG.
 * labels: n_labels entries, may be NULL if n_labels is 0; borrowed for the call.
 * Statuses: VT_OK; VT_E_INVALID_ARG (bad name, name/type conflict, missing help on first use,
 *           bad label); VT_E_LIMIT (series or family limit; the value is dropped and counted).
 * Since 1.0.
 */
vt_status vt_counter_add(const char *name, const char *help, const vt_label *labels,
                         size_t n_labels, double v);

/**
 * vt_gauge_set -- set a gauge series to v (created on first use).
 *
 * name, help, labels, n_labels: as for vt_counter_add (borrowed for the call); v: any finite value.
 * Statuses: VT_OK; VT_E_INVALID_ARG (bad name, name/type conflict, missing help on first use, bad
 *           label, v NaN or infinite); VT_E_LIMIT (series or family limit; dropped and counted).
 * Since 1.0.
 */
vt_status vt_gauge_set(const char *name, const char *help, const vt_label *labels,
                       size_t n_labels, double v);

/**
 * vt_gauge_add -- add v (may be negative) to a gauge series (created at 0 on first use).
 *
 * name, help, labels, n_labels: as for vt_counter_add (borrowed for the call); v: any finite value.
 * Statuses: VT_OK; VT_E_INVALID_ARG (bad name, name/type conflict, missing help on first use, bad
 *           label, v NaN or infinite); VT_E_LIMIT (series or family limit; dropped and counted).
 * Since 1.0.
 */
vt_status vt_gauge_add(const char *name, const char *help, const vt_label *labels,
                       size_t n_labels, double v);

/**
 * vt_observe -- record one sample of a latency-style family (histogram + `_quantiles` summary).
 *
 * v must be finite and >= 0 (a negative latency is a bug upstream: VT_E_INVALID_ARG). Use base
 * units (seconds, bytes). Quantiles keep 2% relative error for v in [1e-9, 1.8e10].
 * name, help, labels, n_labels: as for vt_counter_add (borrowed for the call); the family's buckets
 * are fixed by its first observation (see vt_set_buckets).
 * Statuses: VT_OK; VT_E_INVALID_ARG (bad name, name/type conflict, missing help on first use, bad
 *           label, v negative, NaN or infinite); VT_E_LIMIT (series or family limit; dropped and
 *           counted).
 * Since 1.0.
 */
vt_status vt_observe(const char *name, const char *help, const vt_label *labels,
                     size_t n_labels, double v);

/**
 * vt_register_labels -- declare the label keys a metric accepts (calling again replaces them).
 *
 * Values with other keys keep their series but lose those labels; each dropped key is counted in
 * voicetelemetry_metrics_unknown_label_total{metric=...}. A metric never registered accepts any
 * valid keys. For the built-in session metrics (voicetelemetry_*) the keys choose which session
 * labels label their series (default: transport); a change applies to sessions created after it.
 * The metric need not exist yet. keys: n_keys valid, distinct label keys (n_keys may be 0: no
 * labels); borrowed for the call.
 * Statuses: VT_OK; VT_E_INVALID_ARG (bad name or key, too many keys, keys NULL with n_keys > 0);
 *           VT_E_LIMIT (family limit).
 * Since 1.0.
 */
vt_status vt_register_labels(const char *name, const char *const *keys, size_t n_keys);

/**
 * vt_set_buckets -- choose the histogram bucket upper bounds of a latency family.
 *
 * upper_bounds: n finite values in strictly increasing order (1 <= n <= VT_MAX_BUCKETS); +Inf is
 * implicit. Must be called before the family's first observation (built-ins: before the first
 * session is created). Statuses: VT_OK; VT_E_INVALID_ARG (bad name, bad bounds, not a histogram
 * family); VT_E_ORDER (the family already has observations); VT_E_LIMIT (family limit).
 * Ownership: name and upper_bounds are borrowed for the call (the bounds are copied). Since 1.0.
 */
vt_status vt_set_buckets(const char *name, const double *upper_bounds, size_t n);

/*
 * Metric handles (since 1.2). vt_metric_get resolves one series once (name, help, labels checked,
 * family and series created as the calls above would); vt_metric_add, vt_metric_set and
 * vt_metric_observe then write it by handle, with the rules of the record calls: no lock, no
 * allocation, no system call. Values follow the by-name
 * calls: NaN and infinities are refused, -0.0 is 0, a counter ignores v < 0, an observation must be
 * >= 0.
 */

/** What vt_metric_get resolves: the type of the family. Since 1.2. */
enum vt_metric_kind {
    VT_METRIC_COUNTER = 1,   /* vt_counter_add's type; written with vt_metric_add */
    VT_METRIC_GAUGE = 2,     /* vt_gauge_set / vt_gauge_add's type; vt_metric_set, vt_metric_add */
    VT_METRIC_HISTOGRAM = 3  /* vt_observe's latency type; written with vt_metric_observe */
};

/** A handle of one metric series, from vt_metric_get. Never 0. Since 1.2. */
typedef uint64_t vt_metric;

/**
 * vt_metric_get -- the handle of one series, creating its family and the series on first use.
 *
 * kind: a vt_metric_kind. name, help, labels, n_labels: as for vt_counter_add (borrowed for the
 * call); label keys not registered for the metric are dropped and counted once, by this call.
 * out: receives the handle. The same arguments give the same handle, as long as the metric's
 * registered labels are the same (vt_register_labels later does not move an existing handle).
 * A handle stays valid for the life of the process (and in a child after fork); it is a number
 * the library checks: a made-up value gives VT_E_BAD_HANDLE, never a crash.
 * At the series limit (VT_MAX_SERIES_PER_FAMILY) the call returns VT_E_LIMIT and still sets *out,
 * to the family's overflow handle: every write through it is dropped, counted in
 * voicetelemetry_metrics_series_dropped_total{metric=name} and answered with VT_E_LIMIT, as the
 * by-name calls answer values for a label set past the limit. On any other error *out is set to 0.
 * Statuses: VT_OK; VT_E_INVALID_ARG (unknown kind, out NULL, bad name, name/type conflict, missing
 *           help on first use, bad label); VT_E_LIMIT (series limit: *out is the overflow handle;
 *           family limit: *out is 0).
 * Since 1.2.
 */
vt_status vt_metric_get(uint32_t kind, const char *name, const char *help, const vt_label *labels,
                        size_t n_labels, vt_metric *out);

/**
 * vt_metric_add -- add v to the series of a counter or gauge handle.
 *
 * Counter: v < 0 is ignored (counters only go up) and returns VT_OK. Gauge: any finite v.
 * Lock-free (the rules of the record calls).
 * Statuses: VT_OK; VT_E_BAD_HANDLE (0, made up); VT_E_INVALID_ARG (a histogram handle; v NaN or
 *           infinite); VT_E_LIMIT (the family's overflow handle: the value is dropped and counted).
 * Since 1.2.
 */
vt_status vt_metric_add(vt_metric metric, double v);

/**
 * vt_metric_set -- set the series of a gauge handle to v (any finite value).
 *
 * Statuses: VT_OK; VT_E_BAD_HANDLE (0, made up); VT_E_INVALID_ARG (a counter or histogram handle;
 * v NaN or infinite); VT_E_LIMIT (the overflow handle: dropped and counted).
 * Lock-free (the rules of the record calls). Since 1.2.
 */
vt_status vt_metric_set(vt_metric metric, double v);

/**
 * vt_metric_observe -- record one sample in the series of a histogram handle, as vt_observe does.
 *
 * v: finite and >= 0, in base units (seconds, bytes).
 * Statuses: VT_OK; VT_E_BAD_HANDLE (0, made up); VT_E_INVALID_ARG (a counter or gauge handle; v
 *           negative, NaN or infinite); VT_E_LIMIT (the overflow handle: dropped and counted).
 * Lock-free (the rules of the record calls). Since 1.2.
 */
vt_status vt_metric_observe(vt_metric metric, double v);

/**
 * vt_prom_text -- every metric of the process in Prometheus text exposition format 0.0.4.
 *
 * One HELP and TYPE line per family, families and series in a stable order, label keys sorted,
 * label values and help escaped. Includes the built-in session families:
 * voicetelemetry_sessions_active (gauge), voicetelemetry_sessions_total,
 * voicetelemetry_audio_out_bytes_total, voicetelemetry_audio_out_chunks_total,
 * voicetelemetry_interruptions_total, voicetelemetry_turns_total (counters, live sessions
 * included), voicetelemetry_response_latency_seconds, voicetelemetry_text_response_latency_seconds,
 * voicetelemetry_turn_duration_seconds (histograms + _quantiles summaries), and the registry's own
 * voicetelemetry_metrics_unknown_label_total and voicetelemetry_metrics_series_dropped_total.
 * voicetelemetry_turns_total and voicetelemetry_turn_duration_seconds count and time response turns
 * (vt_record_turn_complete); the turn collector's families start with voicetelemetry_turn_ (its
 * turns by outcome: voicetelemetry_turn_outcomes_total{outcome}).
 * buf/cap/len_out: see BUFFERS (serve with Content-Type: text/plain; version=0.0.4).
 * Statuses: VT_OK; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, buf NULL with cap > 0).
 * Since 1.0.
 */
vt_status vt_prom_text(char *buf, size_t cap, size_t *len_out);

/** Exposition formats of vt_prom_text_as. Since 1.2. */
enum vt_exposition_format {
    VT_FORMAT_PROMETHEUS = 0,  /* text format 0.0.4, exactly vt_prom_text's text; serve with
                                  Content-Type: text/plain; version=0.0.4; charset=utf-8 */
    VT_FORMAT_OPENMETRICS = 1  /* OpenMetrics 1.0.0 text; serve with Content-Type:
                                  application/openmetrics-text; version=1.0.0; charset=utf-8 */
};

/**
 * vt_prom_text_as -- every metric of the process in the exposition format `format`.
 *
 * VT_FORMAT_PROMETHEUS gives vt_prom_text's text. VT_FORMAT_OPENMETRICS gives the same families,
 * series and values as OpenMetrics 1.0.0:
 *   - a counter family (its name ends in `_total`) is named without that suffix in its HELP, TYPE
 *     and UNIT lines; its samples keep it;
 *   - families whose name ends in `_seconds` or `_bytes` (before `_total`) have a `# UNIT` line;
 *   - HELP texts escape `"` as well as backslash and line feed;
 *   - the turn collector's latency histograms (voicetelemetry_turn_stt_latency_seconds, _eou_delay_,
 *     _llm_ttft_, _llm_duration_, _tts_ttfb_, _e2e_latency_, _barge_in_latency_seconds) carry an
 *     exemplar on each bucket a turn landed in: the latest such turn, as
 *     {session_id="...",turn_id="N",trace_id="<32 hex digits>"} with its value (seconds) and the
 *     wall-clock time of the turn's end (seconds since the Unix epoch, millisecond precision).
 *     OpenMetrics allows 128 characters of exemplar labels: a session id too long for that is left
 *     out (turn_id and trace_id stay). Exemplars outlive their session;
 *   - the text ends with "# EOF\n".
 * buf/cap/len_out: see BUFFERS.
 * Statuses: VT_OK; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (unknown format, len_out NULL, buf NULL
 *           with cap > 0).
 * Since 1.2.
 */
vt_status vt_prom_text_as(uint32_t format, char *buf, size_t cap, size_t *len_out);

/* ------------------------------------------------------------------------------------------------
 * Turn collector
 *
 * A turn is one user utterance and the agent's answer to it. The library assembles turns from
 * stage events, all timed on the session's one clock (see TIME), and keeps the last
 * vt_session_config.turn_history completed turns as JSON records (schema: docs/turn-schema.md).
 * These turns are counted by outcome in the snapshot's `turns` object and in
 * voicetelemetry_turn_outcomes_total; they are not the response turns of vt_record_turn_start
 * (the snapshot's top-level turns_completed), and the two counts differ for one session.
 *
 * Assembly:
 * - A turn opens with its first event (normally VT_STAGE_USER_SPEECH START). It completes when the
 *   agent's speech ends (VT_STAGE_AGENT_SPEECH END), on vt_record_turn_complete, at vt_end_session,
 *   or when the next user turn's answer begins (see below). Each recorded turn gets a turn_id
 *   1, 2, 3, ... per session.
 * - User speech that starts while the agent is speaking belongs to the NEXT turn: it and the
 *   STT/EOU events after it are carried there. The current turn is "interrupted" if a barge-in is
 *   reported (vt_record_interruption, VT_STAGE_INTERRUPTION, or a false interruption ESCALATED);
 *   it completes at the agent's speech end or, failing that, when an agent-side event of the next
 *   answer arrives (LLM/TTS/realtime START, agent speech START, first audio out).
 *   A false interruption RESUMED drops the speech that caused it (it was no user turn).
 * - A turn with no meaningful latency (no STT, EOU, LLM, TTS, realtime or end-to-end latency) is
 *   discarded (counted, not kept); its user-speech start carries into the next turn.
 * - End-to-end latency: from the anchor, the user's speech end (VT_STAGE_USER_SPEECH END; without
 *   VAD, the STT FINAL mark, else the EOU END mark; the record names the anchor used) to the
 *   agent's first audio (VT_STAGE_AGENT_SPEECH START, or the first vt_record_audio_out after a
 *   vt_record_vad_end). Its breakdown (stt, eou, llm_ttft, tts_ttfb, realtime, remainder) adds up
 *   to it exactly, in integer nanoseconds.
 * - Missing, out-of-order or implausible timestamps set quality flags on the turn (VT_TQ_*);
 *   values are never clamped: a latency that cannot be computed honestly is null.
 *
 * Existing record calls feed the collector: vt_record_vad_start = USER_SPEECH START,
 * vt_record_vad_end = USER_SPEECH END, vt_record_interruption = INTERRUPTION, the first
 * vt_record_audio_out after a vad_end = AGENT_SPEECH START, vt_record_turn_complete completes the
 * turn. Other vt_record_audio_out calls do nothing here; the audio bytes they count between the
 * agent's first audio and the end of its speech (or the barge-in) are the turn's audio_bytes_sent.
 *
 * Events of one session recorded from several threads at the same moment of a turn boundary may
 * land in either turn.
 *
 * Thread-safety: any thread, concurrently with record calls. A call marked "lock-free" below follows
 * the rules of the record calls (no lock, no allocation, no system call except the clock for
 * t_ns == 0), also when it completes a turn; the calls that carry names (providers, fallbacks,
 * tools) take the short internal lock, like vt_counter_add.
 * --------------------------------------------------------------------------------------------- */

/** Texts longer than this many characters are truncated whatever max_text_chars says. */
#define VT_TURN_MAX_TEXT_CHARS 4096
/** Tool calls and fallbacks kept per turn (more are counted, not kept). */
#define VT_TURN_MAX_TOOL_CALLS 8
#define VT_TURN_MAX_FALLBACKS 4
/** Maximum length in bytes of a provider, model, tool name or fallback reason. */
#define VT_TURN_MAX_NAME_BYTES 128

/** Stages of a turn. Values are stable; new stages are only added. */
enum vt_turn_stage {
    VT_STAGE_USER_SPEECH = 1,        /* VAD: START, END */
    VT_STAGE_STT = 2,                /* START, INTERIM, PREFLIGHT, FINAL */
    VT_STAGE_EOU = 3,                /* end-of-utterance detection: START, END */
    VT_STAGE_LLM = 4,                /* START, FIRST (first token), END */
    VT_STAGE_TTS = 5,                /* START, FIRST (first audio byte), END */
    VT_STAGE_AGENT_SPEECH = 6,       /* START (first audio played to the user), END */
    VT_STAGE_KNOWLEDGE_BASE = 7,     /* retrieval: START, END */
    VT_STAGE_REALTIME = 8,           /* speech-to-speech model: START, FIRST (first audio), END */
    VT_STAGE_INTERRUPTION = 9,       /* barge-in: START (same as vt_record_interruption) */
    VT_STAGE_FALSE_INTERRUPTION = 10,/* START (agent paused), RESUMED, ESCALATED */
    VT_STAGE_BACKGROUND_AUDIO = 11,  /* START, END */
    VT_STAGE_THINKING_AUDIO = 12,    /* START, END */
    VT_STAGE_TOOL = 13               /* only as an error source or fallback stage */
};

/** Marks of a stage (which marks a stage accepts is listed with the stage). */
enum vt_turn_mark {
    VT_MARK_START = 1,
    VT_MARK_END = 2,
    VT_MARK_FIRST = 3,     /* first token / first byte / first audio */
    VT_MARK_INTERIM = 4,   /* STT interim result */
    VT_MARK_PREFLIGHT = 5, /* STT preflight (early final) transcript */
    VT_MARK_FINAL = 6,     /* STT final transcript */
    VT_MARK_RESUMED = 7,   /* false interruption: the agent resumed */
    VT_MARK_ESCALATED = 8  /* false interruption: it became a real interruption */
};

/**
 * vt_turn_mark -- a stage of the current turn reached a mark at t_ns.
 *
 * stage, mark: a valid pair (see vt_turn_stage). START, FIRST, INTERIM and PREFLIGHT keep the
 * first time of the turn; END and FINAL keep the last. AGENT_SPEECH END completes the turn.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (unknown stage or mark, or a pair the stage
 *           does not have).
 * Thread-safety: lock-free. Since 1.0.
 */
vt_status vt_turn_mark(vt_session s, uint32_t stage, uint32_t mark, uint64_t t_ns);

/** Keys of vt_turn_value. */
enum vt_turn_value_key {
    VT_TV_STT_CONFIDENCE = 1,               /* 0..1, of the final transcript (sets) */
    VT_TV_STT_AUDIO_SECONDS = 2,            /* audio the STT processed for the turn (sets) */
    VT_TV_EOU_PROBABILITY = 3,              /* 0..1, end-of-utterance probability (sets) */
    VT_TV_EOU_WAIT_SECONDS = 4,             /* time waited for more speech (adds) */
    VT_TV_TTS_CHARACTERS = 5,               /* characters sent to TTS (adds) */
    VT_TV_TTS_CHARACTERS_PLAYED = 6,        /* of those, characters played before the end (sets) */
    VT_TV_TTS_AUDIO_BYTES = 7,              /* audio bytes the TTS produced (adds) */
    VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS = 8, /* how long the agent paused (sets) */
    VT_TV_FALSE_INTERRUPTION_WORDS = 9      /* words the user said in it (sets) */
};

/**
 * vt_turn_value -- a numeric fact of the current turn.
 *
 * value: finite and >= 0; probabilities and confidences at most 1; seconds at most 1e6; counts
 *        (characters, bytes, words) whole numbers below 2^40. t_ns dates the fact (it may open
 *        the turn); 0 = now.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (unknown key, value out of range).
 * Thread-safety: lock-free. Since 1.0.
 */
vt_status vt_turn_value(vt_session s, uint32_t key, double value, uint64_t t_ns);

/** Kinds of vt_turn_text. */
enum vt_turn_text_kind {
    VT_TT_USER_TRANSCRIPT = 1, /* the final transcript of the user's speech (replaces) */
    VT_TT_STT_PREFLIGHT = 2,   /* a preflight transcript (replaces) */
    VT_TT_AGENT_RESPONSE = 3   /* the agent's response text (replaces) */
};

/**
 * vt_turn_text -- a text of the current turn, subject to the session's text policy.
 *
 * With VT_TEXT_REDACT (the default) only the text's length in characters is kept; with
 * VT_TEXT_INCLUDE the text is kept, truncated to max_text_chars (and VT_TURN_MAX_TEXT_CHARS)
 * characters on a character boundary. The record shows chars (full length) and truncated.
 * text: NUL-terminated UTF-8 of at most 1 MiB, borrowed for the call.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (unknown kind, text NULL, too long, not UTF-8).
 * Thread-safety: lock-free. Since 1.0.
 */
vt_status vt_turn_text(vt_session s, uint32_t kind, const char *text, uint64_t t_ns);

/** Token usage of one model call, by type and modality. A field < 0 means "not reported". */
typedef struct vt_token_usage {
    uint32_t struct_size;   /* sizeof(vt_token_usage); fields are only appended */
    int64_t input;          /* prompt / input tokens */
    int64_t output;         /* completion / output tokens */
    int64_t cached_input;   /* input tokens served from a cache */
    int64_t reasoning;      /* reasoning / thoughts tokens */
    int64_t input_text;     /* modality breakdown (realtime models) */
    int64_t input_audio;
    int64_t input_image;
    int64_t output_text;
    int64_t output_audio;
} vt_token_usage;

/**
 * vt_turn_usage -- token usage of a model call in the current turn (adds to the turn's totals and
 * to the process counters voicetelemetry_turn_tokens_total and
 * voicetelemetry_turn_modality_tokens_total; since 1.2 also to the session's usage_by_model row of
 * the stage's provider and model, and with a price table, to the turn's and the session's cost:
 * see "Prices and costs").
 *
 * stage: VT_STAGE_LLM, VT_STAGE_REALTIME, VT_STAGE_STT or VT_STAGE_TTS (who used the tokens).
 * u: borrowed for the call; u->struct_size must cover at least `input`; fields beyond it are
 *    "not reported". Reported fields must be below 2^40.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (u NULL, struct_size too small, bad stage,
 *           a field too large).
 * Thread-safety: lock-free. Since 1.0.
 */
vt_status vt_turn_usage(vt_session s, uint32_t stage, const vt_token_usage *u, uint64_t t_ns);

/**
 * vt_turn_error -- an error of `source` (a vt_turn_stage) in the current turn. Counted in the turn
 * and in voicetelemetry_turn_errors_total{source}. The message is not kept (it may hold user data).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (unknown source).
 * Thread-safety: lock-free. Since 1.0.
 */
vt_status vt_turn_error(vt_session s, uint32_t source, uint64_t t_ns);

/**
 * vt_turn_provider -- the provider and model serving `stage` (STT, EOU, LLM, TTS, REALTIME) from
 * now on in this session; shown on each turn's stage.
 *
 * provider: non-empty UTF-8 name; model: NULL or "" for none; each at most VT_TURN_MAX_NAME_BYTES.
 * At most 4096 distinct names are kept per process; later new names show as "other".
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bad stage, name NULL/empty/too long/not UTF-8).
 * Ownership: provider and model are borrowed for the call (the library keeps copies).
 * Thread-safety: takes the short internal lock (not a hot-path call). Since 1.0.
 */
vt_status vt_turn_provider(vt_session s, uint32_t stage, const char *provider, const char *model,
                           uint64_t t_ns);

/** Kinds of vt_turn_fallback. */
enum vt_fallback_kind {
    VT_FALLBACK_SWITCH = 1,  /* moved from a failing provider to another */
    VT_FALLBACK_RECOVERY = 2 /* moved back to the recovered provider */
};

/**
 * vt_turn_fallback -- `stage` switched provider from `from` to `to` because of `reason`.
 *
 * The turn keeps up to VT_TURN_MAX_FALLBACKS of them; the process counts all in
 * voicetelemetry_turn_fallbacks_total{stage,kind,from,to} (reason is kept in the turn only).
 * from, to: non-empty names; reason: NULL or "" for none; each at most VT_TURN_MAX_NAME_BYTES.
 * The provider of the stage becomes `to` (model none).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bad stage or kind, bad name);
 *           VT_E_LIMIT (the counter's series limit: the turn still records it).
 * Ownership: the strings are borrowed for the call (the library keeps copies).
 * Thread-safety: takes the short internal lock. Since 1.0.
 */
vt_status vt_turn_fallback(vt_session s, uint32_t stage, uint32_t kind, const char *from,
                           const char *to, const char *reason, uint64_t t_ns);

/** Kinds of vt_turn_tool_call. */
enum vt_tool_kind {
    VT_TOOL_FUNCTION = 1, /* a function tool */
    VT_TOOL_MCP = 2       /* an MCP server tool */
};

/**
 * vt_turn_tool_call -- a tool call of the current turn, reported when it finished.
 *
 * name: non-empty, at most VT_TURN_MAX_NAME_BYTES; start_t_ns/end_t_ns its start and end
 * (0 = now; end before start sets the out-of-order flag and leaves duration null); ok: 1 success,
 * 0 error. Counted in voicetelemetry_turn_tool_calls_total{tool,kind,outcome}.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bad kind, bad name, ok not 0 or 1);
 *           VT_E_LIMIT (the counter's series limit: the turn still records it).
 * Ownership: the strings are borrowed for the call (the library keeps copies).
 * Thread-safety: takes the short internal lock. Since 1.0.
 */
vt_status vt_turn_tool_call(vt_session s, uint32_t kind, const char *name, uint64_t start_t_ns,
                            uint64_t end_t_ns, int32_t ok);

/** Quality flags of a turn record (bit values; the record also lists their names). */
enum vt_turn_quality {
    VT_TQ_NO_VAD = 1,          /* no user speech end: the e2e anchor fell back to STT/EOU */
    VT_TQ_NO_ANCHOR = 2,       /* no anchor at all: no e2e latency */
    VT_TQ_NO_AGENT_AUDIO = 4,  /* no first agent audio: no e2e latency */
    VT_TQ_OUT_OF_ORDER = 8,    /* an end before its start (that latency is null) */
    VT_TQ_IMPLAUSIBLE = 16,    /* a latency above 120 s (kept, but not fed to the histograms) */
    VT_TQ_MISSING_START = 32,  /* a stage has an end/first mark without its start */
    VT_TQ_OVERLAP = 64         /* a stage ended before the stage before it on the path (its
                                  breakdown part is 0: it ran in parallel, e.g. preemptive LLM) */
};

/**
 * vt_turn_last_json -- the last completed (not discarded) turn of the session as one JSON object,
 * or `null` when there is none yet. Schema: docs/turn-schema.md (schema_version 1).
 * buf/cap/len_out: see BUFFERS. len_out must not be NULL.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf
 *           NULL with cap > 0).
 * Since 1.0.
 */
vt_status vt_turn_last_json(vt_session s, char *buf, size_t cap, size_t *len_out);

/**
 * vt_turn_history_json -- the last `max_turns` completed turns (0 = all kept, at most
 * turn_history) as a JSON array, oldest first, of the objects vt_turn_last_json gives ([] when
 * there are none).
 * buf/cap/len_out: see BUFFERS; the text is written into the caller's buffer, nothing to free.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf
 *           NULL with cap > 0).
 * Since 1.0.
 */
vt_status vt_turn_history_json(vt_session s, size_t max_turns, char *buf, size_t cap,
                               size_t *len_out);

/* ------------------------------------------------------------------------------------------------
 * Prices and costs
 *
 * With a price table loaded (vt_set_prices), usage is priced as it is recorded, with the price and
 * the stage's provider and model (vt_turn_provider) current then: the tokens of each vt_turn_usage
 * report; a turn's STT audio seconds and TTS characters (vt_turn_value) when the turn completes; the
 * session's transport (priced by its `transport` label) per minute of session, when it ends. A price
 * change applies from the next charge on. Amounts are added as integers of 1e-12 of the currency,
 * so no total drifts; they are shown as integer micro-units (1e-6), each rounded half up.
 * Costs appear in the turn record (`cost`), the snapshot (`cost`, `usage_by_model`, also in the
 * session.end event) and the exposition (voicetelemetry_cost_total{stage,provider,model,currency},
 * voicetelemetry_usage_unpriced_total{stage,provider,model}). The table's schema, how each token
 * count is charged and a worked example: docs/cost.md. Since 1.2.
 *
 * Thread-safety: any thread; vt_set_prices and vt_prices_json take the short internal lock. Record
 * calls read the active table without a lock.
 * --------------------------------------------------------------------------------------------- */

/** Most entries of a price table. Since 1.2. */
#define VT_MAX_PRICE_ENTRIES 256
/** Longest price table text vt_set_prices reads, in bytes. Since 1.2. */
#define VT_MAX_PRICES_JSON_BYTES 131072

/**
 * vt_set_prices -- replace the process's price table (all at once: a record call sees the old table
 * or the new one, never a mix).
 *
 * json: NULL clears the table (costs stop being charged; those recorded stay). Otherwise a JSON
 *       object of at most VT_MAX_PRICES_JSON_BYTES:
 *       {"currency": "USD", "description": "...", "prices": [
 *         {"stage": "llm", "provider": "openai", "model": "gpt-4o-mini",
 *          "input": 0.15, "cached_input": 0.075, "output": 0.6}, ...]}
 *       `currency`: 1 to 16 letters, digits or '_'. `description`: optional text. Each entry:
 *       `stage` ("llm", "realtime", "stt", "tts" or "transport"), `provider` (as vt_turn_provider
 *       names it; for transport, the session's `transport` label), `model` ("*" or left out: any
 *       model of the provider; an exact model's entry wins), and prices in currency units:
 *       per million tokens `input`, `cached_input`, `output`, `reasoning`, `input_audio`,
 *       `input_image`, `output_audio` (any stage but transport; `input` and `output` together);
 *       stt `per_minute` or `per_second` of audio; tts `per_million_characters`; transport
 *       `per_minute`. Prices are decimals of at most 12 places, 0 to 10000000.
 * The currency may change only while no session is open (all of a session's costs are in one
 * currency); clearing keeps the current currency.
 * Statuses: VT_OK; VT_E_INVALID_ARG (not valid JSON, longer than VT_MAX_PRICES_JSON_BYTES, nested
 *           deeper than 8, a duplicate key, an unknown key, a missing or ill-typed field, a negative,
 *           too precise or too large price, more than VT_MAX_PRICE_ENTRIES entries, two entries for
 *           one stage, provider and model: the message gives the path of the value, e.g.
 *           "$.prices[2].input"); VT_E_ORDER (a different currency while sessions are open);
 *           VT_E_LIMIT (no room left for a new provider or model name: see vt_turn_provider).
 *           On error the active table is unchanged.
 * Ownership: json is borrowed for the call. Since 1.2.
 */
vt_status vt_set_prices(const char *json);

/**
 * vt_prices_json -- the active price table, normalised: keys in a fixed order, entries sorted by
 * stage, provider and model, every model spelled out ("*" included), prices as exact decimals;
 * `null` when no table is active.
 * buf/cap/len_out: see BUFFERS.
 * Statuses: VT_OK; VT_E_BUFFER_TOO_SMALL; VT_E_INVALID_ARG (len_out NULL, or buf NULL with cap > 0).
 * Since 1.2.
 */
vt_status vt_prices_json(char *buf, size_t cap, size_t *len_out);

/* ------------------------------------------------------------------------------------------------
 * Traces: steps, messages and rewards
 *
 * What a trace store keeps of a session besides its turns. Steps divide a session: every recorded
 * turn is a step of its own ("turn-N", for the turn record with turn_id N); an engine that thinks in
 * other steps opens and closes its own (they may nest). Messages are what was said or passed
 * (transcripts of the turn collector become messages of their turn's step by themselves). Rewards
 * are scores: of the whole session (outcome) or of one moment (event), also after the session
 * ended, when a grader runs later. Each call reaches the plugins as an event (docs/event-schema.md)
 * and nothing else: no metric, no snapshot field.
 *
 * The "current step" of a session is its innermost open engine step, or else "turn-N" for the turn
 * being assembled (N = turns recorded so far + 1), or null between turns.
 * Strings: UTF-8; ids and keys at most VT_MAX_EVENT_ID_BYTES; JSON arguments are objects, NULL for
 * none; everything is borrowed for the call. Texts (message content) follow the session's
 * text_policy like transcripts.
 * Thread-safety: any thread; these calls take the short internal lock (they are not hot-path calls).
 * --------------------------------------------------------------------------------------------- */

/** Engine steps open at once in one session. Since 1.1. */
#define VT_MAX_OPEN_STEPS 16

/**
 * vt_step_start -- an engine-defined step of the session begins (event `step.start`).
 * step_id: 1..VT_MAX_EVENT_ID_BYTES bytes, not of the form "turn-N", not open already.
 * metadata_json: NULL or a JSON object (the event must fit VT_MAX_EVENT_BYTES).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bad id, already open, bad JSON);
 *           VT_E_LIMIT (VT_MAX_OPEN_STEPS open, or the event too long). Since 1.1.
 */
vt_status vt_step_start(vt_session s, const char *step_id, const char *metadata_json, uint64_t t_ns);

/**
 * vt_step_end -- the open engine step `step_id` ends, with any steps opened inside it (event
 * `step.end` for each, innermost first).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (step_id NULL or not UTF-8);
 *           VT_E_NOT_FOUND (no open step has that id). Since 1.1.
 */
vt_status vt_step_end(vt_session s, const char *step_id, uint64_t t_ns);

/**
 * vt_record_message -- a message of the conversation (event `message`), in the current step.
 * role: "user", "assistant", "system" or "tool".
 * content: text; content that is itself a JSON object (e.g. a tool result) is kept as JSON.
 *          Under VT_TEXT_REDACT only its length is kept; under VT_TEXT_INCLUDE it is truncated to
 *          max_text_chars characters (JSON content that would be cut is kept as text).
 * metadata_json: NULL or a JSON object.
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (unknown role, content NULL, longer than
 *           1 MiB or not UTF-8, bad JSON); VT_E_LIMIT (the event would not fit VT_MAX_EVENT_BYTES).
 * Since 1.1.
 */
vt_status vt_record_message(vt_session s, const char *role, const char *content, const char *metadata_json,
                            uint64_t t_ns);

/**
 * vt_record_outcome_reward -- the score of the whole session on one objective (event
 * `reward.outcome`, at t_ns on the session's clock, 0 = now): total_reward (finite),
 * achievements_count, and the session's step count so far (turns recorded plus engine steps
 * started) as total_steps.
 * annotation_json: NULL or a JSON object (e.g. the grader's reasons).
 * Statuses: VT_OK; VT_E_BAD_HANDLE; VT_E_INVALID_ARG (bad key, non-finite reward, bad JSON);
 *           VT_E_LIMIT (the event would not fit). Since 1.1.
 */
vt_status vt_record_outcome_reward(vt_session s, const char *objective_key, double total_reward,
                                   uint32_t achievements_count, const char *annotation_json, uint64_t t_ns);

/**
 * vt_record_event_reward -- the score of one moment on one objective (event `reward.event`), in the
 * current step. reward_type and source: free text ("sparse", "human", "llm_judge", ...), NULL for
 * none. Statuses: as vt_record_outcome_reward. Since 1.1.
 */
vt_status vt_record_event_reward(vt_session s, const char *objective_key, double value, const char *reward_type,
                                 const char *source, const char *annotation_json, uint64_t t_ns);

/**
 * vt_record_outcome_reward_for, vt_record_event_reward_for -- the same for a session known by its id
 * (typically one that has ended: a grader that runs later). The events carry that session_id; with
 * no session there is no session clock: their t_ns is on CLOCK_MONOTONIC (0 = now), their wall
 * clock through the process's anchor. The event reward's step_id is given (NULL: none); the
 * outcome's total_steps is null. Statuses: as above, VT_E_INVALID_ARG for a bad session_id; no
 * handle is involved. Since 1.1.
 */
vt_status vt_record_outcome_reward_for(const char *session_id, const char *objective_key, double total_reward,
                                       uint32_t achievements_count, const char *annotation_json, uint64_t t_ns);
vt_status vt_record_event_reward_for(const char *session_id, const char *step_id, const char *objective_key,
                                     double value, const char *reward_type, const char *source,
                                     const char *annotation_json, uint64_t t_ns);

/* ------------------------------------------------------------------------------------------------
 * Events and sink plugins
 *
 * Events are JSON objects sent to plugins: vt_emit's and the library's own. (vt_record_batch's
 * entries, vt_event, are record calls, not events.) A plugin is a shared object written against
 * voicetelemetry_plugin.h, or a table given to vt_load_plugin_table; that header calls it a sink
 * plugin because what it does is receive events and send them somewhere (a file, a database, a
 * collector). Each event is wrapped in the envelope
 *   {"type_id":"core::telemetry/event@1","session_id":"..."|null,"event_type":"...",
 *    "correlation_id":"..."|null,"turn_id":"..."|null,"timestamp_us":N,"timestamp_unix_us":N,
 *    "data":{...}}
 * (timestamp_us: the event's t_ns / 1000, on its session's clock; timestamp_unix_us: the same moment
 * on the wall clock, in microseconds since the Unix epoch, through the session's anchor -- its
 * start_unix_ns at its start_t_ns -- or, for events of no session, the process's anchor taken when
 * the library was first used; Since 1.1) and delivered as one JSON Lines line. Readers must ignore
 * keys they do not know.
 *
 * The library emits its own events while at least one plugin is loaded (otherwise they cost
 * nothing); docs/event-schema.md lists each with its data and an example line: `session.start`
 * (labels, text policy, clock, metadata, trace id), `session.end` (the final snapshot, as
 * vt_snapshot_json at the end), `interruption` (the session's count so far), `usage` (the reported
 * fields, null if not reported), `turn.complete` (the turn record, as vt_turn_last_json; turn_id is
 * the record's turn_id), `message` (the turn's transcripts, after its turn.complete, and
 * vt_record_message), `step.start`, `step.end`, `reward.outcome`, `reward.event` and, per plugin,
 * `telemetry.health` (see below). Every event of a session is on that session's clock. A turn that
 * completes inside a record call is emitted later: within milliseconds, by vt_flush_events, or at
 * the latest by vt_end_session (before that session's session.end).
 *
 * Texts: in the payload of an event of a session, every string value whose key is "text" or
 * "transcript" or ends in "_text" or "_transcript" is treated as a transcript and rewritten per the
 * session's text_policy before any plugin sees it: VT_TEXT_REDACT (the default, and for session 0)
 * replaces it with "[redacted N chars]"; VT_TEXT_INCLUDE truncates it to max_text_chars characters.
 *
 * Delivery: each plugin has its own thread and a bounded queue of events (each at most
 * VT_MAX_EVENT_BYTES, envelope and newline included). Emitting checks the event and queues it for
 * every loaded plugin: it never calls a plugin, never blocks, never allocates. When a queue is full
 * its oldest event is dropped (reason "queue_full"), so a stalled plugin loses its oldest events and
 * delays nobody. The plugin's thread hands the events to the plugin's write() in batches, within
 * milliseconds of their emit (at once on vt_flush_events). RETRY re-delivers the same batch with
 * capped exponential backoff (at most 1 s between attempts), DROP drops it (reason "plugin"), FATAL
 * disables the plugin (reason "disabled" for the batch and everything after; an error is logged).
 *
 * Rate limit: each event type may be emitted at most vt_set_event_rate_limit() times per second of
 * event time (default VT_DEFAULT_EVENT_RATE_LIMIT per type; windows are whole seconds of t_ns);
 * the excess is dropped (reason "rate_limited") for every plugin. The library's own events are not
 * rate limited (their rate is bounded by the sessions').
 *
 * Accounting, per plugin: emitted = delivered + dropped (queue_full + rate_limited + too_large +
 * plugin + disabled) + queued, exact whenever no emit is in progress (e.g. after
 * vt_flush_events). While events of a plugin are dropped, its thread sends it a
 * `telemetry.health` event at most every health interval (default 5 s) with its drop counts.
 * The same numbers are in vt_prom_text: voicetelemetry_plugin_events_emitted_total,
 * voicetelemetry_plugin_events_delivered_total, voicetelemetry_plugin_events_dropped_total{reason},
 * voicetelemetry_plugin_retries_total, voicetelemetry_plugin_queue_depth and
 * voicetelemetry_plugin_disabled, each labelled plugin=<name>.
 *
 * Thread-safety: any thread. vt_emit never blocks (see it); load, unload and flush are serialised
 * with each other and may block (see each).
 * --------------------------------------------------------------------------------------------- */

/** Longest event (envelope and trailing newline included) a queue cell holds. */
#define VT_MAX_EVENT_BYTES 4064
/** Longest json_payload vt_emit reads, in bytes, before compacting it and treating its transcripts
 *  (what is delivered must still fit in VT_MAX_EVENT_BYTES). Since 1.1. */
#define VT_MAX_EVENT_PAYLOAD_BYTES (1u << 20)
/** Longest event_type, in bytes ([A-Za-z0-9_.:/-]). */
#define VT_MAX_EVENT_TYPE_BYTES 64
/** Longest correlation_id or turn_id, in bytes. */
#define VT_MAX_EVENT_ID_BYTES 128
/** Default per-event-type rate limit (events per second). */
#define VT_DEFAULT_EVENT_RATE_LIMIT 100
/** Most plugins loaded at the same time. */
#define VT_MAX_PLUGINS 16
/** Default and largest queue capacity of a plugin, in slots of VT_PLUGIN_QUEUE_SLOT_BYTES (a
 *  capacity is rounded up to a power of two, at least 16). An event takes one slot per
 *  VT_PLUGIN_QUEUE_SLOT_BYTES of its parts (payload, event type, ids and a small fixed header):
 *  typically one, so the capacity is the number of events the queue holds; a larger event takes
 *  several (one of VT_MAX_EVENT_BYTES, 16). */
#define VT_DEFAULT_PLUGIN_QUEUE 1024
#define VT_MAX_PLUGIN_QUEUE 16384
#define VT_PLUGIN_QUEUE_SLOT_BYTES 256

/**
 * vt_emit -- send one event to every loaded plugin.
 *
 * s: the session the event belongs to (its id goes into the envelope and its text_policy applies);
 *    0 for an event of no session (session_id null, texts redacted).
 * event_type: 1..VT_MAX_EVENT_TYPE_BYTES bytes of [A-Za-z0-9_.:/-], e.g. "llm.response".
 * json_payload: a JSON object (strict RFC 8259, UTF-8, nesting at most 64 deep) of at most
 *    VT_MAX_EVENT_PAYLOAD_BYTES; NULL means {}. It is delivered compact (whitespace removed) with its
 *    transcripts treated per the session's text_policy (see "Texts" above).
 * correlation_id, turn_id: UTF-8 of at most VT_MAX_EVENT_ID_BYTES, or NULL (null in the envelope).
 * t_ns: when it happened, as for record calls (0 = now on CLOCK_MONOTONIC, within a microsecond
 *       of what vt_now_ns() would read).
 * Statuses: VT_OK (queued for every plugin, or dropped by the rate limit or a full queue and
 *           counted: emitting is best effort); VT_E_INVALID_ARG (bad event_type, payload not a valid
 *           JSON object, bad id: nothing is forwarded); VT_E_BAD_HANDLE (s not 0 and not open);
 *           VT_E_LIMIT (the event as it would be delivered -- compact payload, treated
 *           transcripts, envelope and newline -- is longer than VT_MAX_EVENT_BYTES, or json_payload
 *           is longer than VT_MAX_EVENT_PAYLOAD_BYTES: not forwarded, counted as dropped
 *           "too_large" for every plugin).
 * Payload validation happens even when no plugin is loaded.
 * Ownership: all strings borrowed for the call (the event is copied).
 * Thread-safety: any thread; lock-free, no allocation; the only system calls it may make are
 * reading the clock for t_ns == 0 and, rarely, waking a plugin's thread. Since 1.0.
 */
vt_status vt_emit(vt_session s, const char *event_type, const char *json_payload,
                  const char *correlation_id, const char *turn_id, uint64_t t_ns);

/**
 * vt_set_event_rate_limit -- events per second allowed per event type (0 = unlimited).
 *
 * Applies from the next emit on; the default is VT_DEFAULT_EVENT_RATE_LIMIT. At most 1000000.
 * Statuses: VT_OK; VT_E_INVALID_ARG (above 1000000). Since 1.0.
 */
vt_status vt_set_event_rate_limit(uint32_t per_second);

/**
 * vt_set_plugin_dir -- allow plugins only from inside this directory (NULL: from anywhere).
 *
 * The directory and later plugin paths are resolved (realpath) before the comparison, so ".." and
 * symbolic links do not get around it. Plugins already loaded stay loaded.
 * Statuses: VT_OK; VT_E_INVALID_ARG (not UTF-8, longer than 4095 bytes); VT_E_NOT_FOUND (the
 *           directory does not exist).
 * Ownership: copied. Since 1.0.
 */
vt_status vt_set_plugin_dir(const char *dir);

/** A loaded plugin's id; 0 is never valid. An id is not reused after its plugin is unloaded. */
typedef uint64_t vt_plugin_id;

/**
 * vt_load_plugin -- load a sink plugin, initialise it and start its thread.
 *
 * path: the .so file. It must exist, be a regular file, not be world-writable and belong to the
 *       effective user or to root; with vt_set_plugin_dir it must resolve inside that directory.
 * config_json: a JSON object passed to the plugin's init (NULL means {}). The host reads its own
 *       keys from it, all optional: "queue_capacity" (slots: events of up to
 *       VT_PLUGIN_QUEUE_SLOT_BYTES; default VT_DEFAULT_PLUGIN_QUEUE, at most VT_MAX_PLUGIN_QUEUE), "drain_timeout_ms" (unload's drain deadline, default 2000),
 *       "unload_grace_ms" (how much longer unload waits for a plugin stuck in a callback, default
 *       5000), "health_interval_ms" (default 5000), "max_batch_events" (default 256, at most 4096).
 * id_out: receives the plugin's id.
 * Statuses: VT_OK; VT_E_INVALID_ARG (NULL path or id_out, not UTF-8, config not a JSON object,
 *           bad host key value); VT_E_NOT_FOUND (no such file; the entry symbol
 *           VT_PLUGIN_ENTRY_SYMBOL is missing); VT_E_PERMISSION (world-writable, owned by another
 *           user, outside the plugin directory); VT_E_PLUGIN (not a loadable shared object, entry
 *           returned NULL, table too small, ABI major mismatch, bad or duplicate name, NULL required
 *           callback, init failed: the message includes the plugin's own error text);
 *           VT_E_LIMIT (VT_MAX_PLUGINS loaded); VT_E_INTERNAL (no thread could be started).
 *           The message of every refusal says why.
 * Ownership: path and config_json are borrowed for the call.
 * Thread-safety: any thread; load, unload and flush are serialised with each other (init of the
 * plugin runs on the calling thread). Since 1.0.
 */
vt_status vt_load_plugin(const char *path, const char *config_json, vt_plugin_id *id_out);

struct vt_plugin_table; /* voicetelemetry_plugin.h */

/**
 * vt_load_plugin_table -- load a plugin that lives in this process: its table is given directly
 * instead of being found in a shared object. Everything else is as for vt_load_plugin: the table
 * is checked the same way, init runs on the calling thread, the plugin gets its own thread, queue,
 * statistics and metrics, and vt_unload_plugin stops it (nothing is closed). This is how an
 * application hooks its own code to the events (a callback per event, called off the recording
 * threads): write a table whose write() hands each line to the callback.
 *
 * table: a table as voicetelemetry_plugin.h defines it; it and the callbacks it names must stay valid
 *        until vt_unload_plugin returns.
 * Statuses: as vt_load_plugin, without the file checks (VT_E_INVALID_ARG also for a NULL table).
 * Ownership: config_json is borrowed for the call; the table is borrowed until unload.
 * Thread-safety: as vt_load_plugin. Since 1.1.
 */
vt_status vt_load_plugin_table(const struct vt_plugin_table *table, const char *config_json, vt_plugin_id *id_out);

/**
 * vt_unload_plugin -- stop a plugin: no new events reach it, its queue is drained and flushed
 * (until its drain_timeout_ms; events left then are dropped as "disabled"), its shutdown is called
 * and the shared object is closed.
 *
 * id: 0 is a harmless no-op returning VT_OK.
 * Statuses: VT_OK; VT_E_NOT_FOUND (no such loaded plugin); VT_E_PLUGIN (the plugin's thread did not
 *           stop within its unload_grace_ms after the deadline, e.g. stuck in write: it is left
 *           running detached, its code stays mapped, and its shutdown runs whenever it returns;
 *           the id is gone all the same).
 * Thread-safety: any thread; may block up to the drain deadline plus the grace. Since 1.0.
 */
vt_status vt_unload_plugin(vt_plugin_id id);

/**
 * vt_list_plugins -- the ids of the loaded plugins, oldest first.
 *
 * ids: room for cap ids (may be NULL when cap is 0). n_out: receives how many are loaded.
 * Statuses: VT_OK; VT_E_BUFFER_TOO_SMALL (more than cap are loaded: the first cap are written);
 *           VT_E_INVALID_ARG (n_out NULL, ids NULL with cap > 0).
 * Ownership: ids and n_out are the caller's; nothing to free. Since 1.0.
 */
vt_status vt_list_plugins(vt_plugin_id *ids, size_t cap, size_t *n_out);

/** Statistics of a plugin. Zero-initialise and set struct_size. */
typedef struct vt_plugin_statistics {
    uint32_t struct_size;          /* sizeof(vt_plugin_statistics); fields are only appended */
    uint32_t disabled;             /* 1 once the plugin returned FATAL */
    vt_plugin_id id;
    char name[64];                 /* the plugin's name, NUL-terminated */
    char version[32];              /* its version text (truncated), "" if none */
    uint64_t emitted;              /* events offered to this plugin */
    uint64_t delivered;            /* events in batches the plugin accepted (OK) */
    uint64_t dropped_queue_full;   /* oldest events pushed out of a full queue */
    uint64_t dropped_rate_limited; /* events over their type's rate limit */
    uint64_t dropped_too_large;    /* events longer than VT_MAX_EVENT_BYTES */
    uint64_t dropped_plugin;       /* events in batches the plugin answered DROP */
    uint64_t dropped_disabled;     /* events after (and in the batch of) a FATAL, or left at unload */
    uint64_t queued;               /* events in the queue or in the batch being delivered */
    uint64_t retries;              /* RETRY answers */
    uint64_t batches;              /* write() calls that returned OK */
    uint64_t health_events;        /* telemetry.health events sent (not counted in emitted) */
    uint64_t plugin_reported_drops;/* counted by the plugin through its host table's count_drop */
    uint32_t queue_capacity;       /* slots of the queue (see VT_DEFAULT_PLUGIN_QUEUE) */
    uint32_t reserved;
    char last_error[256];          /* the latest error logged for this plugin, "" if none */
} vt_plugin_statistics;

/**
 * vt_plugin_stats -- read a plugin's statistics.
 *
 * out: out->struct_size must cover at least `id`; only the fields it covers are written.
 * Counters are read one by one; the accounting identity (see above) holds exactly when no emit is
 * in progress.
 * Statuses: VT_OK; VT_E_INVALID_ARG (out NULL, struct_size too small); VT_E_NOT_FOUND (no such
 *           loaded plugin).
 * Ownership: out is the caller's; the texts are copied into it. Since 1.0.
 */
vt_status vt_plugin_stats(vt_plugin_id id, vt_plugin_statistics *out);

/**
 * vt_flush_events -- deliver every event emitted before the call and flush every plugin.
 *
 * Waits until each plugin's thread has handed all events queued at the call to write() (retries
 * included) and the plugin's flush() returned, or until timeout_ms passed.
 * Statuses: VT_OK; VT_E_LIMIT (timeout_ms passed before every plugin was flushed; the message names
 *           the first such plugin. Disabled plugins count as flushed.)
 * Thread-safety: any thread (serialised with load and unload); blocks. Since 1.0.
 */
vt_status vt_flush_events(uint32_t timeout_ms);


#ifdef __cplusplus
}
#endif

#endif /* VOICETELEMETRY_H */
