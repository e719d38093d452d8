"""Sessions: the idiomatic layer over the session, record, batch and snapshot calls."""
from __future__ import annotations

import ctypes
import json
import sys
import threading
import time
import warnings
from array import array
from ctypes import byref, c_size_t, c_uint64, sizeof
from enum import IntEnum
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Union

from . import _raw
from ._util import Labels, StrLike, as_u64, cstr, invalid, label_array, text_call, too_old
from .errors import VoiceTelemetryError, error_for_status, raise_last_error
from .plugins import Payload, _emit_handle
from .trace_calls import JSONArg, TraceCallsMixin, json_arg
from .turns import TurnCollectorMixin

__all__ = ["Clock", "EventKind", "Event", "Session", "AudioBatch"]


class Clock(IntEnum):
    """``enum vt_clock`` (since 1.1): which clock a session's timestamps are on."""

    #: CLOCK_MONOTONIC, as :func:`voicetelemetry.now_ns` and ``time.monotonic_ns()`` (the default).
    MONOTONIC = _raw.VT_CLOCK_MONOTONIC
    #: The engine's own clock (e.g. a media clock), which reads ``start_t_ns`` when the session is
    #: created; "now" (``t_ns = 0``) is ``start_t_ns`` advanced by the monotonic time since then.
    MEDIA = _raw.VT_CLOCK_MEDIA


class EventKind(IntEnum):
    """``enum vt_event_kind``: the kinds of event of a batch."""

    AUDIO_OUT = _raw.VT_EV_AUDIO_OUT
    VAD_START = _raw.VT_EV_VAD_START
    VAD_END = _raw.VT_EV_VAD_END
    TEXT_SEND = _raw.VT_EV_TEXT_SEND
    TEXT_OUT = _raw.VT_EV_TEXT_OUT
    INTERRUPTION = _raw.VT_EV_INTERRUPTION
    TURN_START = _raw.VT_EV_TURN_START
    TURN_COMPLETE = _raw.VT_EV_TURN_COMPLETE


class Event(NamedTuple):
    """One event for :meth:`Session.record_batch`: the arguments of one record call."""

    kind: int
    value: int = 0  # AUDIO_OUT: bytes; other kinds: ignored
    t_ns: int = 0  # 0 = now (read by the library when the batch is applied)


# Hot-path functions (PyDLL: keep the GIL), looked up once.
_audio_out = _raw.vt_record_audio_out
_vad_start = _raw.vt_record_vad_start
_vad_end = _raw.vt_record_vad_end
_text_send = _raw.vt_record_text_send
_text_out = _raw.vt_record_text_out
_interruption = _raw.vt_record_interruption
_turn_start = _raw.vt_record_turn_start
_turn_complete = _raw.vt_record_turn_complete
_record_usage = _raw.vt_record_usage
_record_usage_at = _raw.vt_record_usage_at  # None on a 1.0 library
_record_batch = _raw.vt_record_batch
_EVENT_SIZE = sizeof(_raw.vt_event)
_monotonic_ns = time.monotonic_ns  # CLOCK_MONOTONIC, the clock of vt_now_ns


def _fail(code: int) -> None:
    raise_last_error(code)


class Session(TurnCollectorMixin, TraceCallsMixin):
    """One conversation (call, room, connection).

    A context manager: ``with Session(...) as s:`` ends the session on exit. :meth:`end` is
    idempotent; any record call after it raises :class:`~voicetelemetry.BadHandleError` (the
    library's own answer for an ended handle). A session that is garbage-collected without being
    ended is ended then, with a ``ResourceWarning``.

    All timestamps are nanoseconds on the session's clock (``clock``): CLOCK_MONOTONIC
    (:func:`voicetelemetry.now_ns`, ``time.monotonic_ns()``) by default, or, with
    ``clock=Clock.MEDIA``, the engine's own clock; 0 means "now" on that clock. The session also
    keeps the wall clock of its start (snapshot ``start_ns`` / ``start_unix_ns``): an event at
    ``t_ns`` is at ``start_unix_ns + t_ns - start_ns`` on the wall clock (the envelope's
    ``timestamp_unix_us``).
    Record calls are thread-safe and keep the GIL (they are lock-free and never block).
    The turn-collector methods (``turn_mark``, ``turn_value``, ``turn_text``, ``turn_usage``,
    ``turn_error``, ``turn_provider``, ``turn_fallback``, ``turn_tool_call``, ``last_turn``,
    ``turn_history``) come from :class:`~voicetelemetry.turns.TurnCollectorMixin`; steps,
    messages and rewards (``step_start``, ``step_end``, ``step``, ``record_message``,
    ``record_outcome_reward``, ``record_event_reward``) from
    :class:`~voicetelemetry.trace_calls.TraceCallsMixin`.
    """

    __slots__ = ("_hc", "_handle", "_end_once", "_batches", "_session_id", "_now_ns", "__weakref__")

    def __init__(
        self,
        session_id: Optional[StrLike] = None,
        labels: Optional[Labels] = None,
        start_t_ns: int = 0,
        *,
        text_policy: int = _raw.VT_TEXT_REDACT,
        max_text_chars: int = 0,
        turn_history: int = 0,
        clock: int = _raw.VT_CLOCK_MONOTONIC,
        metadata: JSONArg = None,
        traceparent: Optional[StrLike] = None,
    ) -> None:
        """Open a session (``vt_create_session``).

        session_id: None for a generated id ("vt-" + 16 hex digits).
        labels: mapping (or pairs) of label key -> value, e.g. ``{"transport": "sip"}``.
        start_t_ns: when the session started, on its clock; 0 = now.
        text_policy, max_text_chars, turn_history: see ``vt_session_config`` (0 = defaults:
        texts redacted, 200 characters, 32 turns kept); text_policy is a
        :class:`~voicetelemetry.TextPolicy`.
        clock: a :class:`Clock` (since 1.1): MONOTONIC (the default) or MEDIA, the engine's own
        clock, which reads ``start_t_ns`` now.
        metadata: a dict describing the session (e.g. the agent's version, the caller's locale),
        serialised with ``json.dumps``, or JSON object text, or None; at most
        ``VT_MAX_METADATA_BYTES`` bytes once compact; sent with ``session.start`` (since 1.1).
        traceparent: a W3C traceparent of the caller (``"00-<32 hex>-<16 hex>-<2 hex>"``): the
        session joins that trace; None: a random trace id. The snapshot's ``trace_id`` (since 1.1).
        Raises InvalidArgumentError with the library's message for a bad value of any of these.
        """
        self._end_once: List[int] = []  # non-empty while open; pop() is the atomic "end once"
        self._batches: List[AudioBatch] = []
        self._now_ns: Callable[[], int] = _monotonic_ns
        self._handle = 0
        self._hc = c_uint64(0)
        sid = cstr(session_id, "session_id")
        arr, n, keep = label_array(labels, "session label")
        cfg = _raw.vt_session_config()
        cfg.struct_size = sizeof(_raw.vt_session_config)
        cfg.session_id = sid
        cfg.labels = arr
        cfg.n_labels = n
        cfg.start_t_ns = as_u64(start_t_ns, "start_t_ns")
        for field, value in (("text_policy", text_policy), ("max_text_chars", max_text_chars),
                             ("turn_history", turn_history)):
            v = as_u64(value, field)
            if v >= 1 << 32:
                raise invalid(f"{field} must fit in 32 bits, got {v}")
            setattr(cfg, field, v)
        clk = as_u64(clock, "clock")
        if clk >= 1 << 32:
            raise invalid(f"clock must fit in 32 bits, got {clk}")
        meta = json_arg(metadata, "metadata")
        parent = cstr(traceparent, "traceparent")
        if clk or meta is not None or parent is not None:
            if _raw.VERSION_NUMBER < 1_001_000:  # a 1.0 library would ignore them silently
                raise too_old("clock, metadata and traceparent")
            cfg.clock = clk
            cfg.metadata_json = meta
            cfg.traceparent = parent
        out = _raw.vt_session(0)
        rc = _raw.vt_create_session(byref(cfg), byref(out))
        if rc:
            raise_last_error(rc)
        del keep, meta, parent
        if clk == _raw.VT_CLOCK_MEDIA:
            # The media clock advances with CLOCK_MONOTONIC from start_t_ns: "now" on it, for
            # AudioBatch's stamps, is CLOCK_MONOTONIC plus the offset the library reports (read
            # right after the monotonic clock: at most the call's duration off).
            before = _monotonic_ns()
            now = c_uint64(0)
            rc = _raw.vt_session_now_ns(out, byref(now))
            if rc:
                raise_last_error(rc)
            offset = now.value - before
            self._now_ns = lambda: _monotonic_ns() + offset
        self._handle = int(out.value)
        self._hc = c_uint64(self._handle)
        self._session_id: Optional[str] = session_id if isinstance(session_id, str) else None
        self._end_once.append(1)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def handle(self) -> int:
        """The ``vt_session`` handle (an int, never 0), for use with the raw layer."""
        return self._handle

    @property
    def ended(self) -> bool:
        """True once :meth:`end` has been called."""
        return not self._end_once

    @property
    def session_id(self) -> str:
        """The session id (the generated one when none was given)."""
        if self._session_id is None:
            self._session_id = str(self.snapshot()["session_id"])
        return self._session_id

    def end(self, t_ns: int = 0) -> None:
        """End the session: its counters fold into the process totals.

        t_ns: when it ended, on the session's clock (``vt_end_session_at``, since 1.1): the time
        of its ``session.end`` event and of its final snapshot (uptime, throughput); 0 = now
        (``vt_end_session``). Pending :class:`AudioBatch` events are flushed first. Calling it
        again does nothing.
        """
        t = as_u64(t_ns, "t_ns")
        if t and _raw.vt_end_session_at is None:
            raise too_old("vt_end_session_at")
        try:
            self._end_once.pop()
        except IndexError:
            return
        try:
            if self._batches:
                self._flush_batches(every_thread=True)
        finally:
            self._batches = []
            rc = _raw.vt_end_session_at(self._hc, t) if t else _raw.vt_end_session(self._hc)
            if rc:
                raise_last_error(rc)

    close = end

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.end()

    def __del__(self) -> None:
        try:
            if self._end_once:
                warnings.warn(f"voicetelemetry session {self._handle} was not ended",
                              ResourceWarning, stacklevel=2)
                self._end_once.clear()
                _raw.vt_end_session(self._hc)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = "ended" if self.ended else "open"
        return f"<voicetelemetry.Session handle={self._handle} {state}>"

    # -- record calls (hot path) --------------------------------------------------------------

    def record_audio_out(self, nbytes: int, t_ns: int = 0) -> None:
        """One chunk of agent audio of ``nbytes`` bytes was sent (``vt_record_audio_out``).

        The first chunk after :meth:`record_vad_end` closes one response latency.
        """
        try:
            if (nbytes | t_ns) < 0:
                raise invalid(f"nbytes and t_ns must be >= 0, got {nbytes}, {t_ns}")
            rc = _audio_out(self._hc, nbytes, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"nbytes and t_ns must be ints, got {nbytes!r}, {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_vad_start(self, t_ns: int = 0) -> None:
        """The user started speaking (cancels an awaited response latency)."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _vad_start(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_vad_end(self, t_ns: int = 0) -> None:
        """The user stopped speaking: a response is awaited from ``t_ns``."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _vad_end(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_text_send(self, t_ns: int = 0) -> None:
        """The user sent a text message: a text response is awaited from ``t_ns``."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _text_send(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_text_out(self, t_ns: int = 0) -> None:
        """The model produced text (the first after a text_send closes a text latency)."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _text_out(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_interruption(self, t_ns: int = 0) -> None:
        """The user interrupted the agent (barge-in)."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _interruption(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_turn_start(self, t_ns: int = 0) -> None:
        """A turn began; the first call of a turn wins."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _turn_start(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_turn_complete(self, t_ns: int = 0) -> None:
        """The open turn completed: records its duration and counts one turn."""
        if self._batches:
            self._flush_batches()
        try:
            if t_ns < 0:
                raise invalid(f"t_ns must be >= 0, got {t_ns}")
            rc = _turn_complete(self._hc, t_ns)
        except (TypeError, ctypes.ArgumentError):
            raise invalid(f"t_ns must be an int, got {t_ns!r}") from None
        if rc:
            _fail(rc)

    def record_usage(
        self,
        total: Optional[int] = None,
        prompt: Optional[int] = None,
        response: Optional[int] = None,
        cached: Optional[int] = None,
        thoughts: Optional[int] = None,
        t_ns: int = 0,
    ) -> None:
        """Token usage as the model reported it; None = not reported (``vt_record_usage``).

        t_ns: when it was reported, on the session's clock (``vt_record_usage_at``, since 1.1):
        the time of its ``usage`` event; 0 = now.
        """
        u = _raw.vt_usage()
        u.struct_size = sizeof(_raw.vt_usage)
        for field, value in (("total", total), ("prompt", prompt), ("response", response),
                             ("cached", cached), ("thoughts", thoughts)):
            if value is None:
                setattr(u, field, -1)
            else:
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 63:
                    raise invalid(f"usage {field} must be None or an int in [0, 2**63), got {value!r}")
                setattr(u, field, value)
        if t_ns:
            t = as_u64(t_ns, "t_ns")
            if _record_usage_at is None:
                raise too_old("vt_record_usage_at")
            rc = _record_usage_at(self._hc, byref(u), t)
        else:
            rc = _record_usage(self._hc, byref(u))
        if rc:
            _fail(rc)

    def record_batch(self, events: Iterable[Union[Event, Sequence[int]]]) -> int:
        """Apply many record calls in one crossing (``vt_record_batch``), in order.

        events: :class:`Event` tuples or ``(kind, value, t_ns)`` sequences (``value`` and
        ``t_ns`` may be left out). Returns the number applied. On an error the exception's
        ``applied`` attribute says how many events were applied before the failing one.
        """
        evs = list(events)
        arr = (_raw.vt_event * len(evs))()
        for i, ev in enumerate(evs):
            try:
                kind, value, t_ns = (tuple(ev) + (0, 0))[:3]
            except TypeError:
                raise invalid(f"event #{i} must be (kind, value, t_ns), got {ev!r}") from None
            k = as_u64(kind, f"event #{i} kind")
            if k >= 1 << 32:
                raise invalid(f"event #{i} kind must be a vt_event_kind (uint32), got {kind!r}")
            arr[i].kind = k
            arr[i].value = as_u64(value, f"event #{i} value")
            arr[i].t_ns = as_u64(t_ns, f"event #{i} t_ns")
        if self._batches:
            self._flush_batches()
        done = c_size_t(0)
        rc = _record_batch(self._hc, arr, len(evs), _EVENT_SIZE, byref(done))
        if rc:
            err = error_for_status(rc, _raw.string(_raw.vt_last_error()))
            err.applied = int(done.value)  # type: ignore[attr-defined]
            raise err
        return int(done.value)

    def audio_batch(self, capacity: int = 256) -> "AudioBatch":
        """A new :class:`AudioBatch` recording into this session."""
        return AudioBatch(self, capacity)

    def _flush_batches(self, every_thread: bool = False) -> None:
        # Only the calling thread's batches: a batch belongs to one producing thread, and flushing
        # it from another while its owner appends would submit its events twice or lose some.
        # Ordering only matters within one thread anyway. end() flushes every batch.
        me = threading.get_ident()
        for b in tuple(self._batches):
            if every_thread or b._owner == me:
                b.flush()

    # -- events for sink plugins ----------------------------------------------------------------

    def emit(
        self,
        event_type: StrLike,
        payload: Payload = None,
        correlation_id: Optional[StrLike] = None,
        turn_id: Optional[StrLike] = None,
        t_ns: int = 0,
    ) -> None:
        """Send an event of this session to every loaded sink plugin (``vt_emit``).

        The envelope carries this session's id, and texts in the payload (keys ``text``,
        ``transcript``, ``*_text``, ``*_transcript``) follow its text policy. Same arguments and
        errors as :func:`voicetelemetry.emit` (BadHandleError once the session has ended).
        Lock-free and non-blocking: keeps the GIL like the record calls.
        """
        _emit_handle(self._hc, event_type, payload, correlation_id, turn_id, t_ns)

    # -- snapshot -----------------------------------------------------------------------------

    def now_ns(self) -> int:
        """Now on the session's clock (``vt_session_now_ns``): what ``t_ns = 0`` stands for in its
        calls -- :func:`voicetelemetry.now_ns` for a monotonic session; for a :attr:`Clock.MEDIA`
        session, its start advanced by the monotonic time since it was created."""
        now = c_uint64(0)
        rc = _raw.vt_session_now_ns(self._hc, byref(now))
        if rc:
            raise_last_error(rc)
        return int(now.value)

    def snapshot_json(self, now_t_ns: int = 0) -> str:
        """The session's statistics as JSON text (``vt_snapshot_json_at``); 0 = now."""
        if self._batches:
            self._flush_batches()
        now = as_u64(now_t_ns, "now_t_ns")
        return text_call(_raw.vt_snapshot_json_at, self._hc, now).decode("utf-8")

    def snapshot(self, now_t_ns: int = 0) -> Dict[str, Any]:
        """The session's statistics as a dict (schema: the header's ``vt_snapshot_json_at``).

        ``now_t_ns`` only sets ``uptime_secs`` and the throughput derived from it (0 = now).
        Values that do not exist yet are None. Since 1.1 it also holds ``start_ns`` (the
        session's start on its clock), ``start_unix_ns`` (the same moment on the wall clock),
        ``trace_id`` (32 hex digits) and ``token_totals_saturated``.
        """
        return json.loads(self.snapshot_json(now_t_ns))


_LITTLE = sys.byteorder == "little"


def _slot0(kind: int) -> int:
    """The first 8 bytes of a vt_event (kind, reserved = 0) as one native uint64."""
    return kind if _LITTLE else kind << 32


_AUDIO_SLOT = _slot0(_raw.VT_EV_AUDIO_OUT)


def _q_array(values: Any, what: str) -> array:
    if isinstance(values, array) and values.typecode == "Q":
        return values
    try:
        return array("Q", values)
    except (OverflowError, TypeError) as exc:
        raise invalid(f"{what} must be ints in [0, 2**64): {exc}") from None


class AudioBatch:
    """Collects record events of one session and applies them in one ``vt_record_batch`` call.

    For per-frame audio: ``batch.append(640)`` per 20 ms frame costs well under one foreign call,
    and :meth:`extend_audio` records a whole sequence of frame sizes at a small fraction of one
    call per frame. Events are flushed when ``capacity`` is reached, on :meth:`flush`, when the
    batch is closed (``with`` block), and -- to keep the order that latencies depend on -- before
    any non-audio record call and :meth:`Session.snapshot` of its session made on the thread that
    created the batch, and before :meth:`Session.end` (from any thread). Calls from other threads
    leave the batch alone: flushing it under its owner's feet would apply events twice or lose
    them.

    Timestamps: an event with ``t_ns == 0`` means "now" *when the batch is applied*. Only the first
    audio chunk after a vad_end closes a latency, so the batch stamps the first audio event after
    each flush (and after a non-audio event) with "now" on the session's clock itself
    (``time.monotonic_ns()``; for a :attr:`Clock.MEDIA` session, its start advanced by the
    monotonic time since its creation, as the library counts it); later chunks keep 0. Passing
    explicit ``t_ns`` values from the engine's media clock is more exact still.

    Not thread-safe: use one batch per producing thread (the thread that creates it).
    """

    __slots__ = ("_session", "_q", "_limit", "_cap", "_arr", "_mv", "_done", "_done_ref",
                 "_stamp", "_owner", "__weakref__")

    def __init__(self, session: Session, capacity: int = 256) -> None:
        if not isinstance(session, Session):
            raise invalid(f"session must be a Session, not {type(session).__name__}")
        if not isinstance(capacity, int) or not 1 <= capacity <= 1 << 20:
            raise invalid(f"capacity must be an int in [1, 2**20], got {capacity!r}")
        self._session = session
        self._cap = capacity
        self._arr = (_raw.vt_event * capacity)()
        self._mv = memoryview(self._arr).cast("B").cast("Q")  # 3 uint64 slots per event
        self._q: List[int] = []  # pending events, flat: slot0, value, t_ns, slot0, ...
        self._limit = 3 * capacity
        self._done = c_size_t(0)
        self._done_ref = byref(self._done)
        self._stamp = True
        self._owner = threading.get_ident()  # the producing thread (see Session._flush_batches)
        session._batches.append(self)

    def __len__(self) -> int:
        """Number of pending (not yet applied) events."""
        return len(self._q) // 3

    @property
    def capacity(self) -> int:
        """Events per ``vt_record_batch`` call."""
        return self._cap

    def append(self, nbytes: int, t_ns: int = 0) -> None:
        """Queue one audio chunk of ``nbytes`` bytes (VT_EV_AUDIO_OUT)."""
        if (nbytes | t_ns) < 0:
            raise invalid(f"nbytes and t_ns must be >= 0, got {nbytes}, {t_ns}")
        if self._stamp:
            self._stamp = False
            if not t_ns:
                t_ns = self._session._now_ns()
        q = self._q
        q += (_AUDIO_SLOT, nbytes, t_ns)
        if len(q) >= self._limit:
            self.flush()

    def add(self, kind: int, value: int = 0, t_ns: int = 0) -> None:
        """Queue any event. Non-audio events with ``t_ns == 0`` are stamped now."""
        kind = as_u64(kind, "kind")
        if kind >= 1 << 32:
            raise invalid(f"kind must be a vt_event_kind (uint32), got {kind}")
        value = as_u64(value, "value")
        t_ns = as_u64(t_ns, "t_ns")
        if kind == _raw.VT_EV_AUDIO_OUT:
            self.append(value, t_ns)
            return
        if not t_ns:
            t_ns = self._session._now_ns()
        self._stamp = True
        q = self._q
        q += (_slot0(kind), value, t_ns)
        if len(q) >= self._limit:
            self.flush()

    def extend_audio(self, sizes: Sequence[int], t_ns: Optional[Sequence[int]] = None) -> int:
        """Record many audio chunks: ``sizes[i]`` bytes at ``t_ns[i]`` (None: all "now").

        Pending events are flushed first; then the chunks go straight into the event array,
        ``capacity`` at a time. Pass ``array('Q', ...)`` to skip a conversion. Returns the count.
        """
        self.flush()
        sz = _q_array(sizes, "sizes")
        n = len(sz)
        ts = None
        if t_ns is not None:
            ts = _q_array(t_ns, "t_ns")
            if len(ts) != n:
                raise invalid(f"sizes and t_ns differ in length ({n} != {len(ts)})")
        cap, mv = self._cap, self._mv
        for off in range(0, n, cap):
            m = min(cap, n - off)
            end = 3 * m
            mv[0:end:3] = _kind_template(_AUDIO_SLOT, cap)[:m]
            mv[1:end:3] = sz[off:off + m]
            if ts is not None:
                mv[2:end:3] = ts[off:off + m]
            else:
                mv[2:end:3] = _kind_template(0, cap)[:m]
                if off == 0:
                    mv[2] = self._session._now_ns()
            self._submit(m)
        self._stamp = True
        return n

    def flush(self) -> int:
        """Apply the pending events now; returns how many were applied."""
        q = self._q
        n3 = len(q)
        if not n3:
            return 0
        try:
            self._mv[:n3] = array("Q", q)
        except OverflowError as exc:
            q.clear()
            raise invalid(f"batch value out of range: {exc}") from None
        q.clear()
        self._stamp = True
        return self._submit(n3 // 3)

    def _submit(self, n: int) -> int:
        rc = _record_batch(self._session._hc, self._arr, n, _EVENT_SIZE, self._done_ref)
        if rc:
            err = error_for_status(rc, _raw.string(_raw.vt_last_error()))
            err.applied = int(self._done.value)  # type: ignore[attr-defined]
            raise err
        return n

    def close(self) -> None:
        """Flush and detach from the session."""
        try:
            self.flush()
        finally:
            try:
                self._session._batches.remove(self)
            except ValueError:
                pass

    def __enter__(self) -> "AudioBatch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_templates: Dict[Any, array] = {}


def _kind_template(slot: int, cap: int) -> array:
    key = (slot, cap)
    t = _templates.get(key)
    if t is None:
        t = _templates[key] = array("Q", [slot]) * cap
    return t
