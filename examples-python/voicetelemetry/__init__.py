"""voicetelemetry -- Python binding (ctypes) of libvoicetelemetry, telemetry for voice agents.

Quick start::

    import voicetelemetry as vt

    with vt.Session(session_id="call-1", labels={"transport": "sip"}) as s:
        s.record_vad_end()
        s.record_audio_out(640)
        print(s.snapshot()["response_count"])
    print(vt.prom_text())

Layers: :mod:`voicetelemetry._raw` mirrors the C header one-to-one (ctypes prototypes, structs,
constants); this package's top level is the idiomatic API (:class:`Session`, :class:`Clock`,
:class:`AudioBatch`, the turn-collector enums of :mod:`voicetelemetry.turns`, steps, messages and
rewards of :mod:`voicetelemetry.trace_calls`, sink plugins and events of
:mod:`voicetelemetry.plugins`, in-process callbacks on the events of :mod:`voicetelemetry.hooks`,
metric functions, the open sessions of :mod:`voicetelemetry.sessions`, the ``/metrics`` WSGI app
and ``http.server`` handler of :mod:`voicetelemetry.exposition`, the HTTP endpoint plugin of
:mod:`voicetelemetry.http_exporter` (:func:`serve`), exceptions). The library is found as described in
:mod:`voicetelemetry._loader` (``$VOICETELEMETRY_LIB`` first).
"""
from __future__ import annotations

from . import _raw as raw
from ._loader import (
    LibraryLoadError,
    LibraryNotFoundError,
    LibraryVersionError,
)
from .costs import ModelUsage, PriceEntry, PriceTable, SessionCost, TurnCost, prices, set_prices
from .errors import (
    BadHandleError,
    BufferTooSmallError,
    InternalError,
    InvalidArgumentError,
    LimitError,
    NotFoundError,
    OrderError,
    PermissionRefusedError,
    PluginError,
    VoiceTelemetryError,
    error_for_status,
)
from .hooks import ALL_EVENTS, HookCallback, Hooks
from .exposition import MetricsHandler, MetricsResponse, metrics_response, metrics_wsgi_app
from .http_exporter import HTTPExporter, find_plugin, serve
from .metrics import (
    Counter,
    FORMAT_OPENMETRICS,
    FORMAT_PROMETHEUS,
    OPENMETRICS_CONTENT_TYPE,
    PROM_CONTENT_TYPE,
    ExpositionFormat,
    Gauge,
    Histogram,
    content_type,
    counter_add,
    gauge_add,
    gauge_set,
    now_ns,
    observe,
    prom_text,
    prom_text_as,
    register_labels,
    set_buckets,
    version,
    version_number,
)
from .plugins import (
    EVENT_TYPE_ID,
    Plugin,
    PluginStats,
    emit,
    flush_events,
    list_plugins,
    load_plugin,
    set_event_rate_limit,
    set_plugin_dir,
)
from .session import AudioBatch, Clock, Event, EventKind, Session
from .sessions import find_session, sessions, sessions_json
from .trace_calls import MESSAGE_ROLES, record_event_reward_for, record_outcome_reward_for
from .traces import SessionTrace, TraceStore
from .turns import (
    FallbackKind,
    TextPolicy,
    ToolKind,
    TurnMark,
    TurnQuality,
    TurnStage,
    TurnTextKind,
    TurnValueKey,
)

#: The Python package's own version (follows the C ABI it was written for).
__version__ = "1.2.0"

#: Where the native library was loaded from.
LIBRARY_PATH: str = raw.LIBRARY_PATH

__all__ = [
    "raw",
    "TraceStore",
    "SessionTrace",
    "Session",
    "Clock",
    "AudioBatch",
    "Event",
    "EventKind",
    "TextPolicy",
    "TurnStage",
    "TurnMark",
    "TurnValueKey",
    "TurnTextKind",
    "FallbackKind",
    "ToolKind",
    "TurnQuality",
    "MESSAGE_ROLES",
    "record_outcome_reward_for",
    "record_event_reward_for",
    "Plugin",
    "PluginStats",
    "load_plugin",
    "list_plugins",
    "flush_events",
    "emit",
    "set_event_rate_limit",
    "set_plugin_dir",
    "EVENT_TYPE_ID",
    "Hooks",
    "HookCallback",
    "ALL_EVENTS",
    "Counter",
    "Gauge",
    "Histogram",
    "counter_add",
    "gauge_set",
    "gauge_add",
    "observe",
    "register_labels",
    "set_buckets",
    "prom_text",
    "PROM_CONTENT_TYPE",
    "prom_text_as",
    "ExpositionFormat",
    "FORMAT_PROMETHEUS",
    "FORMAT_OPENMETRICS",
    "OPENMETRICS_CONTENT_TYPE",
    "content_type",
    "sessions",
    "sessions_json",
    "find_session",
    "metrics_response",
    "MetricsResponse",
    "metrics_wsgi_app",
    "MetricsHandler",
    "serve",
    "HTTPExporter",
    "find_plugin",
    "now_ns",
    "version",
    "version_number",
    "LIBRARY_PATH",
    "VoiceTelemetryError",
    "InvalidArgumentError",
    "BadHandleError",
    "BufferTooSmallError",
    "LimitError",
    "OrderError",
    "InternalError",
    "NotFoundError",
    "PluginError",
    "PermissionRefusedError",
    "error_for_status",
    "LibraryLoadError",
    "LibraryNotFoundError",
    "LibraryVersionError",
    "set_prices",
    "prices",
    "PriceTable",
    "PriceEntry",
    "TurnCost",
    "SessionCost",
    "ModelUsage",
]
