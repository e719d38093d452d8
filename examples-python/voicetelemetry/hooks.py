"""In-process hooks: your own callbacks on the library's events, called off the recording threads.

A :class:`Hooks` is a sink plugin that lives in this process (``vt_load_plugin_table``): the library
gives it its own thread, queue and statistics like any ``.so`` plugin, and its ``write()`` parses
each event (a JSON line) and calls, on that thread, the callbacks registered for the event's
``event_type`` and those registered for every event (``"*"``), in priority order: higher priority
first, equal priorities in the order they were registered::

    import voicetelemetry as vt

    hooks = vt.Hooks("app_hooks")
    hooks.on("session.end", lambda e: print(e["session_id"], e["data"]["uptime_secs"]))
    hooks.on("*", lambda e: seen.append(e["event_type"]), priority=10)   # first, for every event
    with hooks:                          # load() ... close()
        with vt.Session(session_id="call-1") as s:
            ...
        vt.flush_events()                # every event so far has been through the callbacks

A callback gets the event as a dict: the envelope (``type_id``, ``session_id``, ``event_type``,
``correlation_id``, ``turn_id``, ``timestamp_us``, ``timestamp_unix_us``) with its ``data``
(docs/event-schema.md lists every type). Every callback of an event gets the same dict: do not
change it. A callback that raises is counted (:attr:`Hooks.errors`), logged through
:mod:`logging` (logger ``voicetelemetry.hooks``) and skipped: the others still run, and the event
still counts as delivered.

Threads: callbacks run one at a time on the plugin's thread, which takes the GIL for each batch of
events; the recording threads never wait for them (a slow callback fills the hooks' queue, which
then drops its oldest events: see :meth:`Hooks.stats`). A callback may read statistics, but must
not call :func:`~voicetelemetry.flush_events` or load or unload plugins: they wait for the plugins'
threads (the callback's own included) or for a lock an unload holds while it waits for them.
Closing its own hooks from a callback raises RuntimeError at once.
Registering and unregistering are allowed at any time, from any thread. A loaded :class:`Hooks`
stays loaded until :meth:`Hooks.close` (dropping the object does not unload it); what is still
loaded when the interpreter exits is closed by an :mod:`atexit` handler, before Python stops
running threads' callbacks.
"""
from __future__ import annotations

import atexit
import ctypes
import itertools
import json
import logging
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple, Union

from . import _raw
from ._util import cstr, invalid, too_old
from .errors import NotFoundError, PluginError, raise_last_error
from .plugins import PluginStats, _json_text, _read_stats

__all__ = ["Hooks", "HookCallback", "ALL_EVENTS"]

#: The event type that selects every event.
ALL_EVENTS = "*"

#: A hook: called with the event (the envelope as a dict, ``data`` included); its result is ignored.
HookCallback = Callable[[Dict[str, Any]], Any]

_log = logging.getLogger(__name__)

_TABLE_SIZE = ctypes.sizeof(_raw.vt_plugin_table)

# Loaded hooks, held strongly so that their table and callbacks outlive every call the plugin's
# thread can make (the header: valid until vt_unload_plugin returns), however the caller drops them.
_loaded: Set["Hooks"] = set()
# Hooks whose thread did not stop at unload (PluginError): it may still call them, so they are
# never released.
_stuck: List["Hooks"] = []
_loaded_lock = threading.Lock()


class _Entry:
    __slots__ = ("priority", "seq", "event_type", "callback")

    def __init__(self, priority: int, seq: int, event_type: str, callback: HookCallback) -> None:
        self.priority = priority
        self.seq = seq
        self.event_type = event_type
        self.callback = callback


class Hooks:
    """Callbacks on the library's events, in-process, on a plugin thread of their own.

    name: the plugin's name (1-63 bytes of ``[A-Za-z0-9_.-]``, unique among loaded plugins; it
        labels the plugin's metrics and statistics).
    config: the plugin config (a dict, JSON object text, or None): the host's own keys apply
        (``queue_capacity``, ``drain_timeout_ms``, ``health_interval_ms``, ``max_batch_events``).

    Register with :meth:`on` (or the named helpers), then :meth:`load`; :meth:`close` unloads.
    A context manager: ``with hooks:`` loads (unless loaded) and closes.
    """

    def __init__(self, name: str = "app_hooks",
                 config: Union[Mapping[str, Any], str, bytes, None] = None) -> None:
        self._name = name
        self._name_bytes = cstr(name, "hooks name")
        self._config = _json_text(config, "hooks config")
        self._lock = threading.Lock()  # registrations and the call-order cache
        self._entries: List[_Entry] = []
        self._order: Dict[str, Tuple[HookCallback, ...]] = {}
        self._seq = itertools.count()
        self._id = 0
        self._table: Optional[_raw.vt_plugin_table] = None
        self._stopped = False  # set once the plugin may no longer call (or must be ignored)
        self._thread_ident: Optional[int] = None
        self._errors = 0
        self._events = 0
        self._last_error: Optional[BaseException] = None

    # ---- registration -------------------------------------------------------------------------

    def on(self, event_type: str, callback: Optional[HookCallback] = None, priority: int = 0) -> Any:
        """Call ``callback(event)`` for every event of ``event_type`` (``"*"``: every event).

        Higher ``priority`` first; equal priorities in registration order (``"*"`` callbacks and
        a type's own are ordered together). Returns the callback; without one, returns a decorator::

            @hooks.on("message", priority=5)
            def log_message(event): ...

        The same callback may be registered more than once (it is then called once per
        registration). Takes effect from the next batch of events.
        """
        if not isinstance(event_type, str) or not event_type:
            raise invalid(f"event_type must be a non-empty str (or '*'), got {event_type!r}")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise invalid(f"priority must be an int, got {priority!r}")
        if callback is None:
            def register(fn: HookCallback) -> HookCallback:
                return self.on(event_type, fn, priority)
            return register
        if not callable(callback):
            raise invalid(f"callback must be callable, got {type(callback).__name__}")
        with self._lock:
            self._entries.append(_Entry(priority, next(self._seq), event_type, callback))
            self._order = {}
        return callback

    def off(self, callback: HookCallback, event_type: Optional[str] = None) -> int:
        """Unregister ``callback`` (for ``event_type`` only, or for every type); returns how many
        registrations were removed. Takes effect from the next batch of events."""
        with self._lock:
            keep = [e for e in self._entries
                    if not (e.callback == callback and (event_type is None or e.event_type == event_type))]
            removed = len(self._entries) - len(keep)
            self._entries = keep
            self._order = {}
        return removed

    def on_session_start(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("session.start", ...)``: data labels, clock, start_ns, start_unix_ns, trace_id, ..."""
        return self.on("session.start", callback, priority)

    def on_session_end(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("session.end", ...)``: data is the session's final snapshot."""
        return self.on("session.end", callback, priority)

    def on_step_start(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("step.start", ...)``: data step_id, turn_number, metadata."""
        return self.on("step.start", callback, priority)

    def on_step_end(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("step.end", ...)``: data step_id."""
        return self.on("step.end", callback, priority)

    def on_message(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("message", ...)``: recorded messages and the turns' transcripts."""
        return self.on("message", callback, priority)

    def on_turn_complete(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("turn.complete", ...)``: data is the turn record."""
        return self.on("turn.complete", callback, priority)

    def on_reward(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("reward.outcome", ...)`` and ``on("reward.event", ...)``."""
        self.on("reward.outcome", callback, priority)
        return self.on("reward.event", callback, priority)

    def on_event(self, callback: HookCallback, priority: int = 0) -> HookCallback:
        """``on("*", ...)``: every event, the library's own and ``emit``'s."""
        return self.on(ALL_EVENTS, callback, priority)

    def callbacks(self, event_type: str) -> Tuple[HookCallback, ...]:
        """The callbacks an event of ``event_type`` gets, in the order they are called."""
        order = self._order.get(event_type)
        if order is None:
            with self._lock:
                chosen = [e for e in self._entries if e.event_type in (event_type, ALL_EVENTS)]
                chosen.sort(key=lambda e: (-e.priority, e.seq))
                order = tuple(e.callback for e in chosen)
                self._order[event_type] = order
        return order

    # ---- state --------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self._name

    @property
    def id(self) -> int:
        """The ``vt_plugin_id`` while loaded, else 0."""
        return self._id

    @property
    def loaded(self) -> bool:
        """True between :meth:`load` and :meth:`close`."""
        return self._id != 0

    @property
    def errors(self) -> int:
        """Callback calls that raised (each logged and skipped), since this object was made."""
        return self._errors

    @property
    def last_error(self) -> Optional[BaseException]:
        """The latest exception a callback raised, or None."""
        return self._last_error

    @property
    def events(self) -> int:
        """Events dispatched to the callbacks, since this object was made."""
        return self._events

    def stats(self) -> PluginStats:
        """The plugin's statistics (``vt_plugin_stats``): after
        :func:`~voicetelemetry.flush_events`, ``emitted == delivered + dropped + queued``.
        NotFoundError when not loaded."""
        if not self._id:
            raise NotFoundError(_raw.VT_E_NOT_FOUND, f"hooks '{self._name}' are not loaded")
        return _read_stats(self._id)

    # ---- load / close -------------------------------------------------------------------------

    def load(self) -> "Hooks":
        """Load the hooks as an in-process plugin (``vt_load_plugin_table``) and start its thread.

        Raises PluginError (a plugin of this name is loaded, bad name), InvalidArgumentError (bad
        config), LimitError (16 plugins loaded), NotFoundError (a 1.0 library), or RuntimeError if
        these hooks are loaded already. Returns self.
        """
        if _raw.vt_load_plugin_table is None:
            raise too_old("vt_load_plugin_table")
        if self._id:
            raise RuntimeError(f"hooks '{self._name}' are loaded already (plugin {self._id})")
        if self in _stuck:
            raise RuntimeError(f"hooks '{self._name}' could not be unloaded; make new ones")
        table = _raw.vt_plugin_table()
        table.struct_size = _TABLE_SIZE
        table.abi_major = _raw.VT_PLUGIN_ABI_MAJOR
        table.abi_minor = _raw.VT_PLUGIN_ABI_MINOR
        table.name = self._name_bytes
        table.version = b"1.0.0"
        table.init = _raw.vt_plugin_init_fn(_init)
        table.write = _raw.vt_plugin_write_fn(self._write)
        self._table = table  # keeps the callback objects (in table._objects) alive
        self._stopped = False
        out = _raw.vt_plugin_id(0)
        rc = _raw.vt_load_plugin_table(ctypes.addressof(table), self._config, ctypes.byref(out))
        if rc:
            self._table = None
            raise_last_error(rc)
        self._id = int(out.value)
        with _loaded_lock:
            _loaded.add(self)
        return self

    def close(self) -> None:
        """Unload: no new events reach the hooks; those queued are still delivered (up to the
        config's ``drain_timeout_ms``), then the thread stops. Idempotent.

        Raises RuntimeError when called from one of these hooks' callbacks (it would wait for
        itself), PluginError when the thread did not stop in time (the hooks are unloaded all the
        same and ignore anything they get later).
        """
        if not self._id:
            return
        if self._thread_ident is not None and threading.get_ident() == self._thread_ident:
            raise RuntimeError("a hook callback cannot close its own hooks (unload waits for its thread)")
        pid, self._id = self._id, 0
        rc = _raw.vt_unload_plugin(pid)
        self._stopped = True
        with _loaded_lock:
            _loaded.discard(self)
            if rc == _raw.VT_E_PLUGIN:
                _stuck.append(self)  # its thread may still call: keep the table forever
        if rc not in (_raw.VT_E_PLUGIN, _raw.VT_E_NOT_FOUND):  # keep the table in the two above
            self._table = None
        if rc and rc != _raw.VT_E_NOT_FOUND:  # NOT_FOUND: unloaded already (raw layer, a fork)
            raise_last_error(rc)

    unload = close

    def __enter__(self) -> "Hooks":
        if not self._id:
            self.load()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"loaded id={self._id}" if self._id else "not loaded"
        return (f"<voicetelemetry.Hooks {self._name!r} {state} callbacks={len(self._entries)} "
                f"errors={self._errors}>")

    # ---- the plugin's side (its own thread) ---------------------------------------------------

    def _write(self, state: Any, batch: Any) -> int:
        """vt_plugin_table.write: every line of the batch to its callbacks. Never raises into C."""
        try:
            if self._stopped:
                return _raw.VT_SINK_OK
            self._thread_ident = threading.get_ident()
            b = batch.contents
            data = ctypes.string_at(b.data, b.len)
            for line in data.split(b"\n"):
                if not line:
                    continue
                try:
                    event = json.loads(line)
                    event_type = event["event_type"]
                except Exception as exc:  # pragma: no cover - the library writes valid envelopes
                    self._failed(exc, "parsing an event", line[:200])
                    continue
                self._events += 1
                for callback in self.callbacks(event_type):
                    try:
                        callback(event)
                    except BaseException as exc:  # never into C; the other callbacks still run
                        self._failed(exc, f"hook {callback!r} on {event_type}", None)
        except BaseException as exc:  # pragma: no cover - defensive
            self._failed(exc, "delivering a batch", None)
        return _raw.VT_SINK_OK

    def _failed(self, exc: BaseException, what: str, detail: Any) -> None:
        self._errors += 1
        self._last_error = exc
        try:
            _log.error("voicetelemetry hooks '%s': %s raised %s: %s%s", self._name, what,
                       type(exc).__name__, exc, "" if detail is None else f" ({detail!r})",
                       exc_info=exc)
        except BaseException:  # pragma: no cover - a broken logging handler must not reach C
            pass


def _init(host: Any, host_ctx: Any, config_json: Any, state_out: Any, err: Any, err_cap: int) -> int:
    """vt_plugin_table.init (on the loading thread): nothing to set up; the state stays NULL (each
    Hooks has its own write callback)."""
    return 0


@atexit.register
def _close_all() -> None:
    """Unload every loaded Hooks before the interpreter stops (their thread calls into Python)."""
    with _loaded_lock:
        hooks = list(_loaded)
    for h in hooks:
        try:
            h.close()
        except Exception:  # pragma: no cover
            pass
