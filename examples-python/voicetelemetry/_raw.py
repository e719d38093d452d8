"""Raw layer: ``include/voicetelemetry.h`` mirrored one-to-one with ctypes.

Every struct, enum constant, limit macro and function of the header is here, in the header's order,
one section per header section. Each function's C prototype is repeated in a comment above its
binding; ``argtypes`` and ``restype`` are set on every function. Strings the library owns are
returned as ``c_void_p`` (read them with :func:`ctypes.string_at`), never ``c_char_p``.

Two handles on the same library are used:

* :data:`lib` (``ctypes.CDLL``) releases the GIL around the call. Used for everything that may
  block: session create/end (internal lock), snapshots, metrics, Prometheus text, the turn calls
  that take the internal lock (provider, fallback, tool call), the turn JSON readers, every call
  of the Traces section (steps, messages, rewards: they take the internal lock, whatever their
  ``vt_record_`` prefix suggests) and the plugin calls other than ``vt_emit`` (load, unload,
  flush, list, stats, plugin dir, rate limit).
* :data:`pylib` (``ctypes.PyDLL``) keeps the GIL. Used for the record calls (``vt_record_usage_at``
  included), the lock-free turn-collector calls (``vt_turn_mark/value/text/usage/error``) and
  ``vt_emit``, which the header promises are lock-free, allocation-free and syscall-free (apart
  from reading the clock): for them releasing and re-taking the GIL would cost more than the call.

Adding a function introduced by a later 1.x header means adding one ``_bind`` line (with the
prototype comment) to its section; functions newer than the loaded library come back as
``None`` (check :data:`VERSION_NUMBER`), so the module still imports against an older 1.x library.
"""
from __future__ import annotations

import ctypes
from ctypes import (
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Optional, Sequence

from . import _loader

lib: ctypes.CDLL
pylib: ctypes.PyDLL
lib, pylib, LIBRARY_PATH = _loader.load()


def _bind(name: str, restype: Any, argtypes: Sequence[Any], *, keep_gil: bool = False) -> Any:
    """Look ``name`` up, set its prototype, return the function (None if the library lacks it)."""
    handle = pylib if keep_gil else lib
    try:
        fn = getattr(handle, name)
    except AttributeError:
        return None
    fn.argtypes = tuple(argtypes)
    fn.restype = restype
    return fn


# ------------------------------------------------------------------------------------------------
# Version
# ------------------------------------------------------------------------------------------------

VT_VERSION_MAJOR = 1
VT_VERSION_MINOR = 2
VT_VERSION_PATCH = 0
#: The version this module mirrors: major * 1000000 + minor * 1000 + patch.
VT_VERSION_NUMBER = VT_VERSION_MAJOR * 1000000 + VT_VERSION_MINOR * 1000 + VT_VERSION_PATCH

# uint32_t vt_version_number(void);
vt_version_number = _bind("vt_version_number", c_uint32, ())

# const char *vt_version_string(void);
vt_version_string = _bind("vt_version_string", c_void_p, ())

#: vt_version_number() of the loaded library.
VERSION_NUMBER: int = int(vt_version_number())

# ------------------------------------------------------------------------------------------------
# Statuses and errors
# ------------------------------------------------------------------------------------------------

#: typedef int32_t vt_status;
vt_status = c_int32

# enum vt_status_code
VT_OK = 0
VT_E_INVALID_ARG = -1
VT_E_BAD_HANDLE = -2
VT_E_BUFFER_TOO_SMALL = -3
VT_E_LIMIT = -4
VT_E_ORDER = -5
VT_E_INTERNAL = -6
VT_E_NOT_FOUND = -7
VT_E_PLUGIN = -8
VT_E_PERMISSION = -9

# const char *vt_status_str(vt_status status);
vt_status_str = _bind("vt_status_str", c_void_p, (vt_status,))

# const char *vt_last_error(void);
vt_last_error = _bind("vt_last_error", c_void_p, ())

# ------------------------------------------------------------------------------------------------
# Clock
# ------------------------------------------------------------------------------------------------

# uint64_t vt_now_ns(void);
vt_now_ns = _bind("vt_now_ns", c_uint64, (), keep_gil=True)

# ------------------------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------------------------

VT_MAX_SESSIONS = 65536
VT_MAX_LABELS = 16
VT_MAX_SESSION_ID_BYTES = 128
VT_MAX_LABEL_VALUE_BYTES = 256

#: typedef uint64_t vt_session;
vt_session = c_uint64


class vt_label(Structure):
    """typedef struct vt_label { const char *key; const char *value; } vt_label;"""

    _fields_ = [
        ("key", c_char_p),
        ("value", c_char_p),  # NULL or "" means "absent"
    ]


class vt_session_config(Structure):
    """Options of a new session; set ``struct_size = ctypes.sizeof(vt_session_config)``."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("session_id", c_char_p),  # NULL: a unique id is generated
        ("labels", POINTER(vt_label)),
        ("n_labels", c_size_t),
        ("start_t_ns", c_uint64),  # 0 = now. Since 1.0
        ("text_policy", c_uint32),  # VT_TEXT_REDACT (0, default) or VT_TEXT_INCLUDE. Since 1.0
        ("max_text_chars", c_uint32),  # 0 = VT_DEFAULT_MAX_TEXT_CHARS. Since 1.0
        ("turn_history", c_uint32),  # 0 = VT_DEFAULT_TURN_HISTORY, <= VT_MAX_TURN_HISTORY. Since 1.0
        ("metadata_json", c_char_p),  # NULL or a JSON object, <= VT_MAX_METADATA_BYTES. Since 1.1
        ("traceparent", c_char_p),  # NULL or a W3C traceparent of the caller. Since 1.1
        ("clock", c_uint32),  # a vt_clock: which clock this session's t_ns are on. Since 1.1
    ]


# enum vt_clock (Since 1.1)
VT_CLOCK_MONOTONIC = 0  # t_ns are CLOCK_MONOTONIC, as vt_now_ns() (the default)
VT_CLOCK_MEDIA = 1  # t_ns are the engine's own clock, reading start_t_ns at vt_create_session

#: Longest session metadata, in bytes of compact JSON. Since 1.1.
VT_MAX_METADATA_BYTES = 2048


# enum vt_text_policy
VT_TEXT_REDACT = 0  # texts are replaced by their length (the default)
VT_TEXT_INCLUDE = 1  # texts are kept, truncated to max_text_chars
VT_DEFAULT_MAX_TEXT_CHARS = 200
VT_DEFAULT_TURN_HISTORY = 32
VT_MAX_TURN_HISTORY = 1024


# vt_status vt_create_session(const vt_session_config *cfg, vt_session *out);
vt_create_session = _bind(
    "vt_create_session", vt_status, (POINTER(vt_session_config), POINTER(vt_session))
)

# vt_status vt_end_session(vt_session s);
vt_end_session = _bind("vt_end_session", vt_status, (vt_session,))

# vt_status vt_session_now_ns(vt_session s, uint64_t *now_out);
vt_session_now_ns = _bind("vt_session_now_ns", vt_status, (vt_session, POINTER(c_uint64)), keep_gil=True)

# vt_status vt_end_session_at(vt_session s, uint64_t t_ns);
vt_end_session_at = _bind("vt_end_session_at", vt_status, (vt_session, c_uint64))

# vt_status vt_sessions_json(char *buf, size_t cap, size_t *len_out);
#: Since 1.2. Takes the short internal lock: releases the GIL (CDLL).
vt_sessions_json = _bind("vt_sessions_json", vt_status, (POINTER(c_char), c_size_t, POINTER(c_size_t)))

# vt_status vt_session_find(const char *session_id, vt_session *out);
#: Since 1.2. Takes the short internal lock: releases the GIL (CDLL).
vt_session_find = _bind("vt_session_find", vt_status, (c_char_p, POINTER(vt_session)))

# ------------------------------------------------------------------------------------------------
# Record calls (the hot path): lock-free and non-blocking, so bound through PyDLL (GIL kept)
# ------------------------------------------------------------------------------------------------

# vt_status vt_record_audio_out(vt_session s, size_t bytes, uint64_t t_ns);
vt_record_audio_out = _bind(
    "vt_record_audio_out", vt_status, (vt_session, c_size_t, c_uint64), keep_gil=True
)

# vt_status vt_record_vad_start(vt_session s, uint64_t t_ns);
vt_record_vad_start = _bind("vt_record_vad_start", vt_status, (vt_session, c_uint64), keep_gil=True)

# vt_status vt_record_vad_end(vt_session s, uint64_t t_ns);
vt_record_vad_end = _bind("vt_record_vad_end", vt_status, (vt_session, c_uint64), keep_gil=True)

# vt_status vt_record_text_send(vt_session s, uint64_t t_ns);
vt_record_text_send = _bind("vt_record_text_send", vt_status, (vt_session, c_uint64), keep_gil=True)

# vt_status vt_record_text_out(vt_session s, uint64_t t_ns);
vt_record_text_out = _bind("vt_record_text_out", vt_status, (vt_session, c_uint64), keep_gil=True)

# vt_status vt_record_interruption(vt_session s, uint64_t t_ns);
vt_record_interruption = _bind(
    "vt_record_interruption", vt_status, (vt_session, c_uint64), keep_gil=True
)

# vt_status vt_record_turn_start(vt_session s, uint64_t t_ns);
vt_record_turn_start = _bind("vt_record_turn_start", vt_status, (vt_session, c_uint64), keep_gil=True)

# vt_status vt_record_turn_complete(vt_session s, uint64_t t_ns);
vt_record_turn_complete = _bind(
    "vt_record_turn_complete", vt_status, (vt_session, c_uint64), keep_gil=True
)


class vt_usage(Structure):
    """Token usage as a model reported it. A field < 0 means "not reported"."""

    _fields_ = [
        ("struct_size", c_uint32),  # sizeof(vt_usage)
        ("total", c_int64),
        ("prompt", c_int64),
        ("response", c_int64),
        ("cached", c_int64),
        ("thoughts", c_int64),
    ]


# vt_status vt_record_usage(vt_session s, const vt_usage *u);
vt_record_usage = _bind("vt_record_usage", vt_status, (vt_session, POINTER(vt_usage)), keep_gil=True)

# vt_status vt_record_usage_at(vt_session s, const vt_usage *u, uint64_t t_ns);
vt_record_usage_at = _bind(
    "vt_record_usage_at", vt_status, (vt_session, POINTER(vt_usage), c_uint64), keep_gil=True
)

# enum vt_event_kind
VT_EV_AUDIO_OUT = 1  # value = bytes
VT_EV_VAD_START = 2
VT_EV_VAD_END = 3
VT_EV_TEXT_SEND = 4
VT_EV_TEXT_OUT = 5
VT_EV_INTERRUPTION = 6
VT_EV_TURN_START = 7
VT_EV_TURN_COMPLETE = 8


class vt_event(Structure):
    """One event of a batch: the arguments of one record call."""

    _fields_ = [
        ("kind", c_uint32),  # a vt_event_kind
        ("reserved", c_uint32),  # set to 0
        ("value", c_uint64),  # VT_EV_AUDIO_OUT: bytes; others: ignored (set 0)
        ("t_ns", c_uint64),  # 0 = now
    ]


# vt_status vt_record_batch(vt_session s, const vt_event *events, size_t n, size_t event_size,
#                           size_t *n_done);
vt_record_batch = _bind(
    "vt_record_batch",
    vt_status,
    (vt_session, POINTER(vt_event), c_size_t, c_size_t, POINTER(c_size_t)),
    keep_gil=True,
)

# ------------------------------------------------------------------------------------------------
# Session snapshot
# ------------------------------------------------------------------------------------------------

# vt_status vt_snapshot_json(vt_session s, char *buf, size_t cap, size_t *len_out);
vt_snapshot_json = _bind(
    "vt_snapshot_json", vt_status, (vt_session, POINTER(c_char), c_size_t, POINTER(c_size_t))
)

# vt_status vt_snapshot_json_at(vt_session s, uint64_t now_t_ns, char *buf, size_t cap,
#                               size_t *len_out);
vt_snapshot_json_at = _bind(
    "vt_snapshot_json_at",
    vt_status,
    (vt_session, c_uint64, POINTER(c_char), c_size_t, POINTER(c_size_t)),
)

# ------------------------------------------------------------------------------------------------
# Process metrics and Prometheus exposition
# ------------------------------------------------------------------------------------------------

VT_MAX_NAME_BYTES = 200
VT_MAX_SERIES_PER_FAMILY = 2000
VT_MAX_FAMILIES = 1024
VT_MAX_BUCKETS = 64

# vt_status vt_counter_add(const char *name, const char *help, const vt_label *labels,
#                          size_t n_labels, double v);
vt_counter_add = _bind(
    "vt_counter_add", vt_status, (c_char_p, c_char_p, POINTER(vt_label), c_size_t, c_double)
)

# vt_status vt_gauge_set(const char *name, const char *help, const vt_label *labels,
#                        size_t n_labels, double v);
vt_gauge_set = _bind(
    "vt_gauge_set", vt_status, (c_char_p, c_char_p, POINTER(vt_label), c_size_t, c_double)
)

# vt_status vt_gauge_add(const char *name, const char *help, const vt_label *labels,
#                        size_t n_labels, double v);
vt_gauge_add = _bind(
    "vt_gauge_add", vt_status, (c_char_p, c_char_p, POINTER(vt_label), c_size_t, c_double)
)

# vt_status vt_observe(const char *name, const char *help, const vt_label *labels,
#                      size_t n_labels, double v);
vt_observe = _bind(
    "vt_observe", vt_status, (c_char_p, c_char_p, POINTER(vt_label), c_size_t, c_double)
)

# vt_status vt_register_labels(const char *name, const char *const *keys, size_t n_keys);
vt_register_labels = _bind(
    "vt_register_labels", vt_status, (c_char_p, POINTER(c_char_p), c_size_t)
)

# vt_status vt_set_buckets(const char *name, const double *upper_bounds, size_t n);
vt_set_buckets = _bind("vt_set_buckets", vt_status, (c_char_p, POINTER(c_double), c_size_t))

# Metric handles (Since 1.2): vt_metric_get takes the internal lock (CDLL); the three writes are
# lock-free like the record calls (PyDLL, the GIL kept).

# enum vt_metric_kind (Since 1.2)
VT_METRIC_COUNTER = 1
VT_METRIC_GAUGE = 2
VT_METRIC_HISTOGRAM = 3

#: typedef uint64_t vt_metric; (Since 1.2)
vt_metric = c_uint64

# vt_status vt_metric_get(uint32_t kind, const char *name, const char *help, const vt_label *labels,
#                         size_t n_labels, vt_metric *out);
vt_metric_get = _bind(
    "vt_metric_get", vt_status,
    (c_uint32, c_char_p, c_char_p, POINTER(vt_label), c_size_t, POINTER(vt_metric)),
)

# vt_status vt_metric_add(vt_metric metric, double v);
vt_metric_add = _bind("vt_metric_add", vt_status, (vt_metric, c_double), keep_gil=True)

# vt_status vt_metric_set(vt_metric metric, double v);
vt_metric_set = _bind("vt_metric_set", vt_status, (vt_metric, c_double), keep_gil=True)

# vt_status vt_metric_observe(vt_metric metric, double v);
vt_metric_observe = _bind("vt_metric_observe", vt_status, (vt_metric, c_double), keep_gil=True)

# vt_status vt_prom_text(char *buf, size_t cap, size_t *len_out);
vt_prom_text = _bind("vt_prom_text", vt_status, (POINTER(c_char), c_size_t, POINTER(c_size_t)))

# enum vt_exposition_format (Since 1.2)
VT_FORMAT_PROMETHEUS = 0  # text format 0.0.4, exactly vt_prom_text's text
VT_FORMAT_OPENMETRICS = 1  # OpenMetrics 1.0.0 text (exemplars on the turn latency histograms)

# vt_status vt_prom_text_as(uint32_t format, char *buf, size_t cap, size_t *len_out);
#: Since 1.2.
vt_prom_text_as = _bind(
    "vt_prom_text_as", vt_status, (c_uint32, POINTER(c_char), c_size_t, POINTER(c_size_t))
)

# ------------------------------------------------------------------------------------------------
# Turn collector
#
# Lock-free record calls (mark, value, text, usage, error) keep the GIL (PyDLL) like the record
# calls above; calls that carry names and take the library's short lock (provider, fallback,
# tool_call) and the JSON readers release it (CDLL).
# ------------------------------------------------------------------------------------------------

#: Texts longer than this many characters are truncated whatever max_text_chars says.
VT_TURN_MAX_TEXT_CHARS = 4096
#: Tool calls and fallbacks kept per turn (more are counted, not kept).
VT_TURN_MAX_TOOL_CALLS = 8
VT_TURN_MAX_FALLBACKS = 4
#: Maximum length in bytes of a provider, model, tool name or fallback reason.
VT_TURN_MAX_NAME_BYTES = 128

# enum vt_turn_stage
VT_STAGE_USER_SPEECH = 1  # VAD: START, END
VT_STAGE_STT = 2  # START, INTERIM, PREFLIGHT, FINAL
VT_STAGE_EOU = 3  # end-of-utterance detection: START, END
VT_STAGE_LLM = 4  # START, FIRST (first token), END
VT_STAGE_TTS = 5  # START, FIRST (first audio byte), END
VT_STAGE_AGENT_SPEECH = 6  # START (first audio played to the user), END
VT_STAGE_KNOWLEDGE_BASE = 7  # retrieval: START, END
VT_STAGE_REALTIME = 8  # speech-to-speech model: START, FIRST (first audio), END
VT_STAGE_INTERRUPTION = 9  # barge-in: START (same as vt_record_interruption)
VT_STAGE_FALSE_INTERRUPTION = 10  # START (agent paused), RESUMED, ESCALATED
VT_STAGE_BACKGROUND_AUDIO = 11  # START, END
VT_STAGE_THINKING_AUDIO = 12  # START, END
VT_STAGE_TOOL = 13  # only as an error source or fallback stage

# enum vt_turn_mark
VT_MARK_START = 1
VT_MARK_END = 2
VT_MARK_FIRST = 3  # first token / first byte / first audio
VT_MARK_INTERIM = 4  # STT interim result
VT_MARK_PREFLIGHT = 5  # STT preflight (early final) transcript
VT_MARK_FINAL = 6  # STT final transcript
VT_MARK_RESUMED = 7  # false interruption: the agent resumed
VT_MARK_ESCALATED = 8  # false interruption: it became a real interruption

# vt_status vt_turn_mark(vt_session s, uint32_t stage, uint32_t mark, uint64_t t_ns);
vt_turn_mark = _bind(
    "vt_turn_mark", vt_status, (vt_session, c_uint32, c_uint32, c_uint64), keep_gil=True
)

# enum vt_turn_value_key
VT_TV_STT_CONFIDENCE = 1  # 0..1, of the final transcript (sets)
VT_TV_STT_AUDIO_SECONDS = 2  # audio the STT processed for the turn (sets)
VT_TV_EOU_PROBABILITY = 3  # 0..1, end-of-utterance probability (sets)
VT_TV_EOU_WAIT_SECONDS = 4  # time waited for more speech (adds)
VT_TV_TTS_CHARACTERS = 5  # characters sent to TTS (adds)
VT_TV_TTS_CHARACTERS_PLAYED = 6  # of those, characters played before the end (sets)
VT_TV_TTS_AUDIO_BYTES = 7  # audio bytes the TTS produced (adds)
VT_TV_FALSE_INTERRUPTION_PAUSE_SECONDS = 8  # how long the agent paused (sets)
VT_TV_FALSE_INTERRUPTION_WORDS = 9  # words the user said in it (sets)

# vt_status vt_turn_value(vt_session s, uint32_t key, double value, uint64_t t_ns);
vt_turn_value = _bind(
    "vt_turn_value", vt_status, (vt_session, c_uint32, c_double, c_uint64), keep_gil=True
)

# enum vt_turn_text_kind
VT_TT_USER_TRANSCRIPT = 1  # the final transcript of the user's speech (replaces)
VT_TT_STT_PREFLIGHT = 2  # a preflight transcript (replaces)
VT_TT_AGENT_RESPONSE = 3  # the agent's response text (replaces)

# vt_status vt_turn_text(vt_session s, uint32_t kind, const char *text, uint64_t t_ns);
vt_turn_text = _bind(
    "vt_turn_text", vt_status, (vt_session, c_uint32, c_char_p, c_uint64), keep_gil=True
)


class vt_token_usage(Structure):
    """Token usage of one model call, by type and modality. A field < 0 means "not reported"."""

    _fields_ = [
        ("struct_size", c_uint32),  # sizeof(vt_token_usage); fields are only appended
        ("input", c_int64),  # prompt / input tokens
        ("output", c_int64),  # completion / output tokens
        ("cached_input", c_int64),  # input tokens served from a cache
        ("reasoning", c_int64),  # reasoning / thoughts tokens
        ("input_text", c_int64),  # modality breakdown (realtime models)
        ("input_audio", c_int64),
        ("input_image", c_int64),
        ("output_text", c_int64),
        ("output_audio", c_int64),
    ]


# vt_status vt_turn_usage(vt_session s, uint32_t stage, const vt_token_usage *u, uint64_t t_ns);
vt_turn_usage = _bind(
    "vt_turn_usage",
    vt_status,
    (vt_session, c_uint32, POINTER(vt_token_usage), c_uint64),
    keep_gil=True,
)

# vt_status vt_turn_error(vt_session s, uint32_t source, uint64_t t_ns);
vt_turn_error = _bind(
    "vt_turn_error", vt_status, (vt_session, c_uint32, c_uint64), keep_gil=True
)

# vt_status vt_turn_provider(vt_session s, uint32_t stage, const char *provider, const char *model,
#                            uint64_t t_ns);
vt_turn_provider = _bind(
    "vt_turn_provider", vt_status, (vt_session, c_uint32, c_char_p, c_char_p, c_uint64)
)

# enum vt_fallback_kind
VT_FALLBACK_SWITCH = 1  # moved from a failing provider to another
VT_FALLBACK_RECOVERY = 2  # moved back to the recovered provider

# vt_status vt_turn_fallback(vt_session s, uint32_t stage, uint32_t kind, const char *from,
#                            const char *to, const char *reason, uint64_t t_ns);
vt_turn_fallback = _bind(
    "vt_turn_fallback",
    vt_status,
    (vt_session, c_uint32, c_uint32, c_char_p, c_char_p, c_char_p, c_uint64),
)

# enum vt_tool_kind
VT_TOOL_FUNCTION = 1  # a function tool
VT_TOOL_MCP = 2  # an MCP server tool

# vt_status vt_turn_tool_call(vt_session s, uint32_t kind, const char *name, uint64_t start_t_ns,
#                             uint64_t end_t_ns, int32_t ok);
vt_turn_tool_call = _bind(
    "vt_turn_tool_call",
    vt_status,
    (vt_session, c_uint32, c_char_p, c_uint64, c_uint64, c_int32),
)

# enum vt_turn_quality (bit values)
VT_TQ_NO_VAD = 1  # no user speech end: the e2e anchor fell back to STT/EOU
VT_TQ_NO_ANCHOR = 2  # no anchor at all: no e2e latency
VT_TQ_NO_AGENT_AUDIO = 4  # no first agent audio: no e2e latency
VT_TQ_OUT_OF_ORDER = 8  # an end before its start (that latency is null)
VT_TQ_IMPLAUSIBLE = 16  # a latency above 120 s (kept, but not fed to the histograms)
VT_TQ_MISSING_START = 32  # a stage has an end/first mark without its start
VT_TQ_OVERLAP = 64  # a stage ended before the stage before it on the path (breakdown part 0)

# vt_status vt_turn_last_json(vt_session s, char *buf, size_t cap, size_t *len_out);
vt_turn_last_json = _bind(
    "vt_turn_last_json", vt_status, (vt_session, POINTER(c_char), c_size_t, POINTER(c_size_t))
)

# vt_status vt_turn_history_json(vt_session s, size_t max_turns, char *buf, size_t cap,
#                                size_t *len_out);
vt_turn_history_json = _bind(
    "vt_turn_history_json",
    vt_status,
    (vt_session, c_size_t, POINTER(c_char), c_size_t, POINTER(c_size_t)),
)

# ------------------------------------------------------------------------------------------------
# Prices and costs
#
# Both calls take the library's short internal lock: they release the GIL (CDLL).
# ------------------------------------------------------------------------------------------------

#: Most entries of a price table. Since 1.2.
VT_MAX_PRICE_ENTRIES = 256
#: Longest price table text vt_set_prices reads, in bytes. Since 1.2.
VT_MAX_PRICES_JSON_BYTES = 131072

# vt_status vt_set_prices(const char *json);
vt_set_prices = _bind("vt_set_prices", vt_status, (c_char_p,))

# vt_status vt_prices_json(char *buf, size_t cap, size_t *len_out);
vt_prices_json = _bind("vt_prices_json", vt_status, (POINTER(c_char), c_size_t, POINTER(c_size_t)))

# ------------------------------------------------------------------------------------------------
# Traces: steps, messages and rewards
#
# Not hot-path calls: each takes the library's short internal lock (header: "these calls take the
# short internal lock"), so, like the other locking calls, they release the GIL (CDLL) -- the
# vt_record_* names here included (a plugin thread never waits for the GIL because of them).
# ------------------------------------------------------------------------------------------------

#: Engine steps open at once in one session. Since 1.1.
VT_MAX_OPEN_STEPS = 16

# vt_status vt_step_start(vt_session s, const char *step_id, const char *metadata_json, uint64_t t_ns);
vt_step_start = _bind("vt_step_start", vt_status, (vt_session, c_char_p, c_char_p, c_uint64))

# vt_status vt_step_end(vt_session s, const char *step_id, uint64_t t_ns);
vt_step_end = _bind("vt_step_end", vt_status, (vt_session, c_char_p, c_uint64))

# vt_status vt_record_message(vt_session s, const char *role, const char *content, const char *metadata_json,
#                             uint64_t t_ns);
vt_record_message = _bind(
    "vt_record_message", vt_status, (vt_session, c_char_p, c_char_p, c_char_p, c_uint64)
)

# vt_status vt_record_outcome_reward(vt_session s, const char *objective_key, double total_reward,
#                                    uint32_t achievements_count, const char *annotation_json, uint64_t t_ns);
vt_record_outcome_reward = _bind(
    "vt_record_outcome_reward", vt_status, (vt_session, c_char_p, c_double, c_uint32, c_char_p, c_uint64)
)

# vt_status vt_record_event_reward(vt_session s, const char *objective_key, double value, const char *reward_type,
#                                  const char *source, const char *annotation_json, uint64_t t_ns);
vt_record_event_reward = _bind(
    "vt_record_event_reward",
    vt_status,
    (vt_session, c_char_p, c_double, c_char_p, c_char_p, c_char_p, c_uint64),
)

# vt_status vt_record_outcome_reward_for(const char *session_id, const char *objective_key, double total_reward,
#                                        uint32_t achievements_count, const char *annotation_json, uint64_t t_ns);
vt_record_outcome_reward_for = _bind(
    "vt_record_outcome_reward_for", vt_status, (c_char_p, c_char_p, c_double, c_uint32, c_char_p, c_uint64)
)

# vt_status vt_record_event_reward_for(const char *session_id, const char *step_id, const char *objective_key,
#                                      double value, const char *reward_type, const char *source,
#                                      const char *annotation_json, uint64_t t_ns);
vt_record_event_reward_for = _bind(
    "vt_record_event_reward_for",
    vt_status,
    (c_char_p, c_char_p, c_char_p, c_double, c_char_p, c_char_p, c_char_p, c_uint64),
)

# ------------------------------------------------------------------------------------------------
# Events and sink plugins
#
# vt_emit is lock-free and never blocks (it copies the event into each plugin's queue), so it keeps
# the GIL (PyDLL) like the record calls. Everything else here may block (load runs the plugin's
# init, unload drains a queue up to its deadline, flush waits for plugin threads) or takes the
# plugin registry's lock, so it releases the GIL (CDLL): a plugin thread must never wait for it.
# ------------------------------------------------------------------------------------------------

#: Longest event (envelope and trailing newline included) a queue cell holds.
VT_MAX_EVENT_BYTES = 4064
#: Longest json_payload vt_emit reads, in bytes, before compacting it and treating its transcripts
#: (what is delivered must still fit in VT_MAX_EVENT_BYTES). Since 1.1.
VT_MAX_EVENT_PAYLOAD_BYTES = 1 << 20
#: Longest event_type, in bytes ([A-Za-z0-9_.:/-]).
VT_MAX_EVENT_TYPE_BYTES = 64
#: Longest correlation_id or turn_id, in bytes.
VT_MAX_EVENT_ID_BYTES = 128
#: Default per-event-type rate limit (events per second).
VT_DEFAULT_EVENT_RATE_LIMIT = 100
#: Most plugins loaded at the same time.
VT_MAX_PLUGINS = 16
#: Default and largest queue capacity of a plugin, in slots of VT_PLUGIN_QUEUE_SLOT_BYTES (rounded
#: up to a power of two, >= 16): an event takes one slot per 256 bytes of its parts, typically one.
VT_DEFAULT_PLUGIN_QUEUE = 1024
VT_MAX_PLUGIN_QUEUE = 16384
VT_PLUGIN_QUEUE_SLOT_BYTES = 256

# vt_status vt_emit(vt_session s, const char *event_type, const char *json_payload,
#                   const char *correlation_id, const char *turn_id, uint64_t t_ns);
vt_emit = _bind(
    "vt_emit",
    vt_status,
    (vt_session, c_char_p, c_char_p, c_char_p, c_char_p, c_uint64),
    keep_gil=True,
)

# vt_status vt_set_event_rate_limit(uint32_t per_second);
vt_set_event_rate_limit = _bind("vt_set_event_rate_limit", vt_status, (c_uint32,))

# vt_status vt_set_plugin_dir(const char *dir);
vt_set_plugin_dir = _bind("vt_set_plugin_dir", vt_status, (c_char_p,))

#: typedef uint64_t vt_plugin_id;  (0 is never valid; ids are not reused)
vt_plugin_id = c_uint64

# vt_status vt_load_plugin(const char *path, const char *config_json, vt_plugin_id *id_out);
vt_load_plugin = _bind(
    "vt_load_plugin", vt_status, (c_char_p, c_char_p, POINTER(vt_plugin_id))
)

# vt_status vt_load_plugin_table(const struct vt_plugin_table *table, const char *config_json, vt_plugin_id *id_out);
#: Since 1.1. ``table`` is a ``struct vt_plugin_table`` of voicetelemetry_plugin.h (mirrored below:
#: pass ``ctypes.addressof(table)``); it and its callbacks must stay alive until vt_unload_plugin returns.
#: Releases the GIL like vt_load_plugin: the plugin's init runs on the calling thread, and a table
#: made of ctypes callbacks takes the GIL back in them.
vt_load_plugin_table = _bind(
    "vt_load_plugin_table", vt_status, (c_void_p, c_char_p, POINTER(vt_plugin_id))
)

# -- voicetelemetry_plugin.h: what an in-process plugin (vt_load_plugin_table) is made of ---------
# Mirrored here (not in the header above) for the hooks of voicetelemetry.hooks: a table of
# CFUNCTYPE callbacks the plugin's own thread calls (ctypes takes the GIL for each call). Keep the
# table and its callback objects alive until vt_unload_plugin has returned.

#: The plugin ABI these structs mirror (voicetelemetry_plugin.h).
VT_PLUGIN_ABI_MAJOR = 1
VT_PLUGIN_ABI_MINOR = 1

# enum vt_sink_result (what write() returns; anything else counts as VT_SINK_FATAL)
VT_SINK_OK = 0
VT_SINK_RETRY = 1
VT_SINK_DROP = 2
VT_SINK_FATAL = 3

# enum vt_log_level
VT_LOG_ERROR = 0
VT_LOG_WARN = 1
VT_LOG_INFO = 2
VT_LOG_DEBUG = 3


class vt_sink_batch(Structure):
    """One batch handed to write(); borrowed for the call (copy what you keep)."""

    _fields_ = [
        ("struct_size", c_uint32),  # sizeof(vt_sink_batch) as the host knows it
        ("n_events", c_uint32),  # lines in data (>= 1)
        ("data", c_void_p),  # JSON Lines, each ending in '\n'; NOT NUL-terminated: read len bytes
        ("len", c_size_t),  # bytes in data
        ("sequence", c_uint64),  # per plugin: 1 for the first batch, +1 per new batch
        ("dropped_before", c_uint64),  # events of this plugin dropped since the previous batch
        ("attempt", c_uint32),  # 1 on first delivery, 2 on the first retry, ...
        ("reserved", c_uint32),
    ]


class vt_host_api(Structure):
    """What the host offers a plugin (passed to init; valid until shutdown returns)."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("abi_major", c_uint32),
        ("abi_minor", c_uint32),
        ("reserved", c_uint32),
        # void (*log)(void *host_ctx, int32_t level, const char *message);
        ("log", ctypes.CFUNCTYPE(None, c_void_p, c_int32, c_char_p)),
        # uint64_t (*now_ns)(void *host_ctx);
        ("now_ns", ctypes.CFUNCTYPE(c_uint64, c_void_p)),
        # void (*count_drop)(void *host_ctx, uint64_t n);
        ("count_drop", ctypes.CFUNCTYPE(None, c_void_p, c_uint64)),
        # int32_t (*prom_text)(void *host_ctx, char *buf, size_t cap, size_t *len_out);
        ("prom_text", ctypes.CFUNCTYPE(c_int32, c_void_p, POINTER(c_char), c_size_t, POINTER(c_size_t))),
        # int32_t (*snapshot_json)(void *host_ctx, uint64_t session, char *buf, size_t cap, size_t *len_out);
        ("snapshot_json",
         ctypes.CFUNCTYPE(c_int32, c_void_p, c_uint64, POINTER(c_char), c_size_t, POINTER(c_size_t))),
        # Since ABI 1.1 (library 1.2); a host's struct_size says whether they are there.
        # int32_t (*prom_text_as)(void *host_ctx, uint32_t format, char *buf, size_t cap, size_t *len_out);
        ("prom_text_as",
         ctypes.CFUNCTYPE(c_int32, c_void_p, c_uint32, POINTER(c_char), c_size_t, POINTER(c_size_t))),
        # int32_t (*sessions_json)(void *host_ctx, char *buf, size_t cap, size_t *len_out);
        ("sessions_json", ctypes.CFUNCTYPE(c_int32, c_void_p, POINTER(c_char), c_size_t, POINTER(c_size_t))),
        # int32_t (*session_find)(void *host_ctx, const char *session_id, uint64_t *session_out);
        ("session_find", ctypes.CFUNCTYPE(c_int32, c_void_p, c_char_p, POINTER(c_uint64))),
        # int32_t (*turn_history_json)(void *host_ctx, uint64_t session, size_t max_turns, char *buf,
        #                              size_t cap, size_t *len_out);
        ("turn_history_json",
         ctypes.CFUNCTYPE(c_int32, c_void_p, c_uint64, c_size_t, POINTER(c_char), c_size_t, POINTER(c_size_t))),
    ]


# int32_t (*init)(const vt_host_api *host, void *host_ctx, const char *config_json, void **state_out,
#                 char *err, size_t err_cap);
vt_plugin_init_fn = ctypes.CFUNCTYPE(
    c_int32, POINTER(vt_host_api), c_void_p, c_char_p, POINTER(c_void_p), POINTER(c_char), c_size_t
)
# int32_t (*write)(void *state, const vt_sink_batch *batch);
vt_plugin_write_fn = ctypes.CFUNCTYPE(c_int32, c_void_p, POINTER(vt_sink_batch))
# int32_t (*flush)(void *state, uint64_t deadline_ns);
vt_plugin_flush_fn = ctypes.CFUNCTYPE(c_int32, c_void_p, c_uint64)
# void (*shutdown)(void *state, uint64_t deadline_ns);
vt_plugin_shutdown_fn = ctypes.CFUNCTYPE(None, c_void_p, c_uint64)


class vt_plugin_table(Structure):
    """A plugin's table. For vt_load_plugin_table: ``struct_size = ctypes.sizeof(vt_plugin_table)``,
    ``abi_major = VT_PLUGIN_ABI_MAJOR``, a name of 1-63 bytes of ``[A-Za-z0-9_.-]``, init and write;
    pass ``ctypes.addressof(table)``. A NULL (None) flush or shutdown is absent."""

    _fields_ = [
        ("struct_size", c_uint32),  # sizeof(vt_plugin_table) as the plugin knows it
        ("abi_major", c_uint32),  # VT_PLUGIN_ABI_MAJOR
        ("abi_minor", c_uint32),  # VT_PLUGIN_ABI_MINOR
        ("name", c_char_p),  # unique among loaded plugins; labels its metrics
        ("version", c_char_p),  # may be NULL
        ("init", vt_plugin_init_fn),
        ("write", vt_plugin_write_fn),
        ("flush", vt_plugin_flush_fn),  # may be NULL
        ("shutdown", vt_plugin_shutdown_fn),  # may be NULL
    ]


# vt_status vt_unload_plugin(vt_plugin_id id);
vt_unload_plugin = _bind("vt_unload_plugin", vt_status, (vt_plugin_id,))

# vt_status vt_list_plugins(vt_plugin_id *ids, size_t cap, size_t *n_out);
vt_list_plugins = _bind(
    "vt_list_plugins", vt_status, (POINTER(vt_plugin_id), c_size_t, POINTER(c_size_t))
)


class vt_plugin_statistics(Structure):
    """Statistics of a plugin; set ``struct_size = ctypes.sizeof(vt_plugin_statistics)``."""

    _fields_ = [
        ("struct_size", c_uint32),  # sizeof(vt_plugin_statistics); fields are only appended
        ("disabled", c_uint32),  # 1 once the plugin returned FATAL
        ("id", vt_plugin_id),
        ("name", c_char * 64),  # the plugin's name, NUL-terminated
        ("version", c_char * 32),  # its version text (truncated), "" if none
        ("emitted", c_uint64),  # events offered to this plugin
        ("delivered", c_uint64),  # events in batches the plugin accepted (OK)
        ("dropped_queue_full", c_uint64),  # oldest events pushed out of a full queue
        ("dropped_rate_limited", c_uint64),  # events over their type's rate limit
        ("dropped_too_large", c_uint64),  # events longer than VT_MAX_EVENT_BYTES
        ("dropped_plugin", c_uint64),  # events in batches the plugin answered DROP
        ("dropped_disabled", c_uint64),  # events after (and in the batch of) a FATAL, or left at unload
        ("queued", c_uint64),  # events in the queue or in the batch being delivered
        ("retries", c_uint64),  # RETRY answers
        ("batches", c_uint64),  # write() calls that returned OK
        ("health_events", c_uint64),  # telemetry.health events sent (not counted in emitted)
        ("plugin_reported_drops", c_uint64),  # counted by the plugin through count_drop
        ("queue_capacity", c_uint32),  # slots of the queue (an event takes one per 256 bytes)
        ("reserved", c_uint32),
        ("last_error", c_char * 256),  # the latest error logged for this plugin, "" if none
    ]


# vt_status vt_plugin_stats(vt_plugin_id id, vt_plugin_statistics *out);
vt_plugin_stats = _bind(
    "vt_plugin_stats", vt_status, (vt_plugin_id, POINTER(vt_plugin_statistics))
)

# vt_status vt_flush_events(uint32_t timeout_ms);
vt_flush_events = _bind("vt_flush_events", vt_status, (c_uint32,))


# ------------------------------------------------------------------------------------------------
# Helpers for library-owned strings
# ------------------------------------------------------------------------------------------------


def string(ptr: Optional[int]) -> str:
    """Copy a library-owned NUL-terminated string (a ``c_void_p`` result) into a ``str``."""
    if not ptr:
        return ""
    return ctypes.string_at(ptr).decode("utf-8", "replace")
