"""Events and sink plugins: the idiomatic layer over ``vt_emit`` and the ``vt_*_plugin`` calls.

A sink plugin is a shared object written against ``include/voicetelemetry_plugin.h`` that receives
the library's events as JSON Lines and sends them somewhere (a file, a database, a collector). The
repository's example, ``build/plugins/jsonl_sink.so`` (``make lib``), appends every event to the
file named by its config's ``"path"``::

    import voicetelemetry as vt

    with vt.load_plugin("build/plugins/jsonl_sink.so", {"path": "/tmp/events.jsonl"}) as sink:
        with vt.Session(session_id="call-1") as s:
            s.emit("llm.response", {"model": "demo", "tokens": 42}, turn_id="t1")
        vt.flush_events(5.0)
        print(sink.stats().delivered)

Every event is wrapped in the envelope ``{"type_id": "core::telemetry/event@1", "session_id",
"event_type", "correlation_id", "turn_id", "timestamp_us", "timestamp_unix_us", "data"}``
(``timestamp_us``: ``t_ns // 1000`` on the session's clock; ``timestamp_unix_us``, since 1.1: the
same moment on the wall clock, through the session's anchor -- snapshot ``start_unix_ns`` at
``start_ns`` -- or, for an event of no session, the process's). While at least one plugin is
loaded the library also emits its own events (``session.start``, ``session.end`` with the final
snapshot, ``interruption``, ``usage``, ``turn.complete``, ``telemetry.health``, and the steps,
messages and rewards of :mod:`voicetelemetry.trace_calls`). Texts in payloads
(keys ``text``/``transcript``/``*_text``/``*_transcript``) are redacted or truncated per the
session's :class:`~voicetelemetry.TextPolicy` before any plugin sees them.

Plugins are process-global: a plugin stays loaded until :meth:`Plugin.unload` (or the end of its
``with`` block), whatever happens to the :class:`Plugin` object; :func:`list_plugins` finds the
loaded ones again. Dropping the object does not unload (that would block the collecting thread up
to the plugin's drain deadline).

Threads: :func:`emit` is lock-free and never blocks, so it keeps the GIL like the record calls;
loading, unloading, flushing, listing and statistics release it (they may wait for a plugin).
"""
from __future__ import annotations

import json
import math
import os
import threading
import weakref
from ctypes import byref, c_size_t, c_uint64, sizeof
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Union

from . import _raw
from ._util import StrLike, as_u64, cstr, invalid
from .errors import NotFoundError, PluginError, raise_last_error

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

__all__ = [
    "Plugin",
    "PluginStats",
    "load_plugin",
    "list_plugins",
    "flush_events",
    "emit",
    "set_event_rate_limit",
    "set_plugin_dir",
    "EVENT_TYPE_ID",
]

#: The envelope's ``type_id`` of every event (header version 1.0).
EVENT_TYPE_ID = "core::telemetry/event@1"

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Payload = Union[Mapping[str, Any], str, bytes, None]

_emit = _raw.vt_emit  # PyDLL: keeps the GIL (lock-free, never blocks)
_STATS_SIZE = sizeof(_raw.vt_plugin_statistics)
_U32_MAX = (1 << 32) - 1


def _json_text(value: Union[Mapping[str, Any], str, bytes, None], what: str) -> Optional[bytes]:
    """A JSON object for the C ABI: a mapping is serialised compactly; str/bytes go as they are.

    None stays None (NULL: the library reads ``{}``). A mapping that cannot be JSON (NaN,
    infinities, objects ``json`` does not know, non-str keys other than int/float/bool/None) is an
    InvalidArgumentError here; text is validated by the library (strict RFC 8259).
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return cstr(value, what)
    if not isinstance(value, Mapping):
        raise invalid(f"{what} must be a dict (a JSON object), a str or bytes of JSON, or None; "
                      f"got {type(value).__name__}")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise invalid(f"{what} is not JSON-serialisable: {exc}") from None
    return cstr(text, what)


def _session_handle(session: Union["Session", int, None]) -> Any:
    if session is None:
        return 0
    hc = getattr(session, "_hc", None)
    if hc is not None:
        return hc
    return as_u64(session, "session")


def _emit_handle(hc: Any, event_type: StrLike, payload: Payload, correlation_id: Optional[StrLike],
                 turn_id: Optional[StrLike], t_ns: int) -> None:
    """vt_emit on a raw handle (``c_uint64`` or int); shared by :func:`emit` and Session.emit."""
    et = cstr(event_type, "event_type")
    body = _json_text(payload, "payload")
    cid = cstr(correlation_id, "correlation_id")
    tid = cstr(turn_id, "turn_id")
    if t_ns.__class__ is not int or not 0 <= t_ns < 1 << 64:
        t_ns = as_u64(t_ns, "t_ns")
    rc = _emit(hc, et, body, cid, tid, t_ns)
    if rc:
        raise_last_error(rc)


def emit(
    event_type: StrLike,
    payload: Payload = None,
    session: Union["Session", int, None] = None,
    correlation_id: Optional[StrLike] = None,
    turn_id: Optional[StrLike] = None,
    t_ns: int = 0,
) -> None:
    """Send one event to every loaded plugin (``vt_emit``); best effort, never blocks.

    event_type: 1..64 bytes of ``[A-Za-z0-9_.:/-]``, e.g. ``"llm.response"``.
    payload: a dict (serialised as compact JSON), JSON object text (str or bytes), or None (``{}``).
    session: the :class:`~voicetelemetry.Session` (or raw handle) the event belongs to: its id goes
        into the envelope and its text policy applies. None: no session (``session_id`` null,
        texts redacted).
    correlation_id, turn_id: at most 128 bytes of UTF-8, or None (null in the envelope).
    t_ns: when it happened, on the session's clock (CLOCK_MONOTONIC ns for an event of no
        session), 0 = now; the envelope's ``timestamp_us`` is ``t_ns // 1000``.

    An event dropped by the rate limit or a full queue is not an error (it is counted in
    :class:`PluginStats`). Raises InvalidArgumentError (bad event_type, payload not a JSON object,
    bad id: nothing is forwarded), BadHandleError (an ended session), LimitError (longer than
    ``VT_MAX_EVENT_BYTES`` with its envelope: counted as dropped ``too_large``). The payload is
    validated even when no plugin is loaded.
    """
    _emit_handle(_session_handle(session), event_type, payload, correlation_id, turn_id, t_ns)


def set_event_rate_limit(per_second: int) -> None:
    """Allow at most ``per_second`` events of each event type per second of event time.

    0 = unlimited; the default is ``VT_DEFAULT_EVENT_RATE_LIMIT`` (100), at most 1000000. Process-
    wide; applies from the next emit on. The library's own events are not rate limited.
    """
    n = as_u64(per_second, "per_second")
    if n > _U32_MAX:
        raise invalid(f"per_second must be at most 1000000, got {n}")
    rc = _raw.vt_set_event_rate_limit(n)
    if rc:
        raise_last_error(rc)


def set_plugin_dir(path: Optional[PathLike]) -> None:
    """Allow plugins only from inside directory ``path`` (None: from anywhere again).

    Paths are resolved (realpath) before the comparison, so ``..`` and symbolic links do not get
    around it. Already loaded plugins stay loaded. Raises NotFoundError if the directory does not
    exist, InvalidArgumentError for an empty or over-long path.
    """
    p = None if path is None else cstr(os.fspath(path), "plugin directory")
    rc = _raw.vt_set_plugin_dir(p)
    if rc:
        raise_last_error(rc)


def flush_events(timeout_s: float = 5.0) -> None:
    """Deliver every event emitted before the call and flush every plugin (``vt_flush_events``).

    Blocks (without the GIL) until each plugin's thread handed everything queued at the call to
    the plugin and its flush() returned, or until ``timeout_s`` seconds passed: then LimitError,
    whose message names the first plugin not flushed. Disabled plugins count as flushed.
    """
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
        raise invalid(f"timeout_s must be a number of seconds, got {timeout_s!r}")
    if not timeout_s >= 0 or math.isinf(timeout_s):  # also refuses NaN
        raise invalid(f"timeout_s must be finite and >= 0, got {timeout_s!r}")
    ms = min(_U32_MAX, math.ceil(timeout_s * 1000))
    rc = _raw.vt_flush_events(ms)
    if rc:
        raise_last_error(rc)


@dataclass(frozen=True)
class PluginStats:
    """Statistics of one plugin (``vt_plugin_statistics``).

    Accounting: ``emitted == delivered + dropped + queued`` exactly whenever no emit is in progress
    (e.g. right after :func:`flush_events`); :attr:`dropped` sums the ``dropped_*`` reasons.
    """

    id: int
    name: str
    version: str  #: the plugin's version text, "" if none
    disabled: bool  #: True once the plugin answered FATAL
    emitted: int  #: events offered to this plugin
    delivered: int  #: events in batches the plugin accepted
    dropped_queue_full: int  #: oldest events pushed out of a full queue
    dropped_rate_limited: int  #: events over their type's rate limit
    dropped_too_large: int  #: events longer than VT_MAX_EVENT_BYTES
    dropped_plugin: int  #: events in batches the plugin answered DROP
    dropped_disabled: int  #: events after (and in the batch of) a FATAL, or left at unload
    queued: int  #: events in the queue or in the batch being delivered
    retries: int  #: RETRY answers
    batches: int  #: write() calls that returned OK
    health_events: int  #: telemetry.health events sent (not counted in emitted)
    plugin_reported_drops: int  #: events the plugin itself reported lost after accepting them
    queue_capacity: int  #: slots of the queue (an event takes one per 256 bytes, typically one)
    last_error: str  #: the latest error logged for this plugin, "" if none

    @property
    def dropped(self) -> int:
        """Events dropped for any reason."""
        return (self.dropped_queue_full + self.dropped_rate_limited + self.dropped_too_large
                + self.dropped_plugin + self.dropped_disabled)

    @property
    def dropped_by_reason(self) -> Dict[str, int]:
        """Drops by reason, keyed as in the Prometheus ``reason`` label and health events."""
        return {
            "queue_full": self.dropped_queue_full,
            "rate_limited": self.dropped_rate_limited,
            "too_large": self.dropped_too_large,
            "plugin": self.dropped_plugin,
            "disabled": self.dropped_disabled,
        }

    @property
    def balanced(self) -> bool:
        """True when ``emitted == delivered + dropped + queued`` (the accounting identity)."""
        return self.emitted == self.delivered + self.dropped + self.queued

    @classmethod
    def _from_struct(cls, s: _raw.vt_plugin_statistics) -> "PluginStats":
        return cls(
            id=int(s.id),
            name=s.name.decode("utf-8", "replace"),
            version=s.version.decode("utf-8", "replace"),
            disabled=bool(s.disabled),
            emitted=int(s.emitted),
            delivered=int(s.delivered),
            dropped_queue_full=int(s.dropped_queue_full),
            dropped_rate_limited=int(s.dropped_rate_limited),
            dropped_too_large=int(s.dropped_too_large),
            dropped_plugin=int(s.dropped_plugin),
            dropped_disabled=int(s.dropped_disabled),
            queued=int(s.queued),
            retries=int(s.retries),
            batches=int(s.batches),
            health_events=int(s.health_events),
            plugin_reported_drops=int(s.plugin_reported_drops),
            queue_capacity=int(s.queue_capacity),
            last_error=s.last_error.decode("utf-8", "replace"),
        )


def _read_stats(plugin_id: int) -> PluginStats:
    s = _raw.vt_plugin_statistics()
    s.struct_size = _STATS_SIZE
    rc = _raw.vt_plugin_stats(plugin_id, byref(s))
    if rc:
        raise_last_error(rc)
    return PluginStats._from_struct(s)


# One Plugin object per loaded id while somebody holds it, so list_plugins() hands back the same
# object that load_plugin() returned (and its "unloaded" state is shared).
_objects: "weakref.WeakValueDictionary[int, Plugin]" = weakref.WeakValueDictionary()
_objects_lock = threading.Lock()


class Plugin:
    """A loaded sink plugin. Get one from :func:`load_plugin` or :func:`list_plugins`.

    ``Plugin(plugin_id)`` wraps the id of an already loaded plugin (NotFoundError if none).
    A context manager: ``with load_plugin(...) as p:`` unloads on exit. :meth:`unload` is
    idempotent; :meth:`stats` after it raises NotFoundError (the library's answer for an unknown
    id). Ids are never reused, so a stale object can never reach another plugin.
    """

    __slots__ = ("_id", "_name", "_version", "_path", "_unload_once", "__weakref__")

    def __new__(cls, plugin_id: int, *, _path: Optional[str] = None) -> "Plugin":
        pid = as_u64(plugin_id, "plugin_id")
        with _objects_lock:
            existing = _objects.get(pid)
            if existing is not None and existing.loaded:
                return existing
        info = _read_stats(pid)  # NotFoundError for 0, a made-up or an unloaded id
        self = super().__new__(cls)
        self._id = pid
        self._name = info.name
        self._version = info.version
        self._path = _path
        self._unload_once: List[int] = [1]  # pop() is the atomic "unload once"
        with _objects_lock:
            existing = _objects.get(pid)
            if existing is not None and existing.loaded:
                return existing
            _objects[pid] = self
        return self

    def __init__(self, plugin_id: int, *, _path: Optional[str] = None) -> None:
        pass  # everything happens in __new__ (which may return an existing object)

    @property
    def id(self) -> int:
        """The ``vt_plugin_id`` (never 0, never reused)."""
        return self._id

    @property
    def name(self) -> str:
        """The plugin's name (from its table, e.g. ``"jsonl_sink"``); labels its metrics."""
        return self._name

    @property
    def version(self) -> str:
        """The plugin's own version text, "" if it has none."""
        return self._version

    @property
    def path(self) -> Optional[str]:
        """The path it was loaded from (None when wrapped from an id)."""
        return self._path

    @property
    def loaded(self) -> bool:
        """False once :meth:`unload` was called on this object."""
        return bool(self._unload_once)

    def stats(self) -> PluginStats:
        """The plugin's statistics now (``vt_plugin_stats``); NotFoundError once unloaded."""
        return _read_stats(self._id)

    def unload(self) -> None:
        """Stop the plugin: drain its queue (up to its ``drain_timeout_ms``), flush, shut down.

        Blocks (without the GIL) up to that deadline. Calling it again does nothing. Raises
        PluginError if the plugin's thread would not stop (the id is gone all the same) and
        NotFoundError if it was already unloaded by other means (the raw layer).
        """
        try:
            self._unload_once.pop()
        except IndexError:
            return
        rc = _raw.vt_unload_plugin(self._id)
        if rc:
            raise_last_error(rc)

    close = unload

    def __enter__(self) -> "Plugin":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.unload()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plugin) and other._id == self._id

    def __hash__(self) -> int:
        return hash(("voicetelemetry.Plugin", self._id))

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "unloaded"
        return f"<voicetelemetry.Plugin id={self._id} name={self._name!r} {state}>"


def load_plugin(path: PathLike, config: Union[Mapping[str, Any], str, bytes, None] = None) -> Plugin:
    """Load a sink plugin, initialise it and start its thread (``vt_load_plugin``).

    path: the shared object. It must be a regular file, not world-writable, owned by the user
        running Python (or root) and, after :func:`set_plugin_dir`, inside that directory.
    config: a dict (serialised to JSON), JSON object text, or None (``{}``), handed to the plugin's
        init. The host's own optional keys: ``queue_capacity`` (events, default 1024, at most
        16384), ``drain_timeout_ms`` (default 2000), ``health_interval_ms`` (default 5000),
        ``max_batch_events`` (default 256). ``jsonl_sink`` needs ``{"path": "<file>"}``.

    Raises NotFoundError (no such file; no entry symbol), PermissionRefusedError (world-writable,
    other owner, outside the plugin directory), PluginError (not a loadable shared object, ABI
    mismatch, duplicate name, init failed: the message carries the plugin's own text),
    InvalidArgumentError (config not a JSON object, bad host key), LimitError (16 loaded).
    Blocks (without the GIL) while the plugin's init runs.
    """
    raw_path = os.fspath(path)
    p = cstr(raw_path, "plugin path")
    cfg = _json_text(config, "plugin config")
    out = c_uint64(0)
    rc = _raw.vt_load_plugin(p, cfg, byref(out))
    if rc:
        raise_last_error(rc)
    shown = raw_path if isinstance(raw_path, str) else os.fsdecode(raw_path)
    try:
        return Plugin(int(out.value), _path=shown)
    except NotFoundError:  # unloaded by another thread between load and the first stats read
        raise PluginError(_raw.VT_E_PLUGIN,
                          f"plugin {int(out.value)} was unloaded before it could be wrapped") from None


def list_plugins() -> List[Plugin]:
    """The loaded plugins, oldest first (``vt_list_plugins``).

    A plugin unloaded by another thread while the list is read is left out.
    """
    cap = _raw.VT_MAX_PLUGINS
    n = c_size_t(0)
    while True:
        ids = (_raw.vt_plugin_id * cap)()
        rc = _raw.vt_list_plugins(ids, cap, byref(n))
        if rc == _raw.VT_E_BUFFER_TOO_SMALL:
            cap = max(cap * 2, int(n.value))
            continue
        if rc:
            raise_last_error(rc)
        break
    result: List[Plugin] = []
    for pid in ids[: int(n.value)]:
        try:
            result.append(Plugin(int(pid)))
        except NotFoundError:
            continue
    return result
