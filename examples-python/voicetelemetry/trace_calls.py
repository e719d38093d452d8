"""Steps, messages and rewards: the header's "Traces" section (``vt_step_*``, ``vt_record_message``,
``vt_record_*_reward*``), since header 1.1.

What a trace store keeps of a session besides its turns. Steps divide a session: every recorded
turn is a step of its own (``"turn-N"``); an engine that thinks in other steps opens and closes its
own (they may nest). Messages are what was said or passed (the turn collector's transcripts become
messages of their turn's step by themselves). Rewards are scores: of the whole session (outcome)
or of one moment (event), also after the session ended, when a grader runs later::

    import voicetelemetry as vt

    with vt.Session(session_id="call-9", metadata={"agent": "support-bot"}) as s:
        with s.step("lookup", metadata={"tool": "orders"}):
            s.record_message("tool", {"order": 42, "status": "shipped"})   # kept as JSON
        s.record_message("assistant", "It has shipped.")
        s.record_outcome_reward("resolved", 1.0, achievements_count=1)
    vt.record_event_reward_for("call-9", "turn-1", "accuracy", 1.0, reward_type="human")

Each call reaches the loaded sink plugins as one event (``step.start``, ``step.end``, ``message``,
``reward.outcome``, ``reward.event``; ``docs/event-schema.md``) and nothing else: no metric, no
snapshot field. The "current step" a message or event reward lands in is the session's innermost
open engine step, else ``"turn-N"`` for the turn being assembled, else none (null).

Arguments: ids and keys are ``str`` (UTF-8, at most ``VT_MAX_EVENT_ID_BYTES`` bytes); JSON
arguments (``metadata``, ``annotation``) are a dict (serialised with :func:`json.dumps`), JSON
text (``str``/``bytes``, passed as it is) or None. The library checks them and refuses what is not
a JSON object with its own message (``InvalidArgumentError``). Timestamps are nanoseconds on the
session's clock (see :class:`~voicetelemetry.Clock`), 0 = now.

Threads: these calls take the library's short internal lock (they are not hot-path calls), so they
release the GIL, like snapshots; every method first applies the calling thread's pending
:class:`~voicetelemetry.AudioBatch` events so that the library sees events in call order.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Union

from . import _raw
from ._util import StrLike, as_float, as_u64, cstr, invalid, too_old
from .errors import raise_last_error

__all__ = [
    "TraceCallsMixin",
    "record_outcome_reward_for",
    "record_event_reward_for",
    "JSONArg",
    "MESSAGE_ROLES",
]

#: A JSON argument: a dict (any JSON-serialisable value) or JSON text, None for none.
JSONArg = Union[Mapping, str, bytes, None]
#: The roles :meth:`TraceCallsMixin.record_message` accepts (the library's list).
MESSAGE_ROLES = ("user", "assistant", "system", "tool")

_U32 = (1 << 32) - 1


def _dumps(value: Any, what: str) -> bytes:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise invalid(f"{what} is not JSON-serialisable: {exc}") from None
    return cstr(text, what)  # type: ignore[return-value]


def json_arg(value: JSONArg, what: str) -> Optional[bytes]:
    """A JSON argument for the C ABI: None -> NULL; str/bytes -> the text as given; anything else
    -> compact JSON (``json.dumps``). Whether it is a JSON object is the library's to say (its
    message names the argument), so a list is serialised and refused there, not here."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return cstr(value, what)
    return _dumps(value, what)


def _content(value: Union[str, bytes, Mapping, List[Any], tuple], what: str = "content") -> bytes:
    """Message content: text as it is, or a dict/list serialised as JSON (a JSON object is kept as
    JSON by the library, anything else as text)."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return cstr(value, what)  # type: ignore[return-value]
    if isinstance(value, (Mapping, list, tuple)):
        return _dumps(value, what)
    raise invalid(f"{what} must be a str, or a dict or list (sent as JSON), not {type(value).__name__}")


def _u32(value: Any, what: str) -> int:
    v = as_u64(value, what)
    if v > _U32:
        raise invalid(f"{what} must fit in 32 bits, got {v}")
    return v


def _fn(name: str) -> Any:
    """The raw function, or NotFoundError when the loaded library predates it (header 1.1)."""
    fn = getattr(_raw, name)
    if fn is None:
        raise too_old(name)
    return fn


class TraceCallsMixin:
    """The Traces calls of a :class:`~voicetelemetry.Session` (steps, messages, rewards).

    Errors come from the library, with its message: ``InvalidArgumentError`` (bad id or key, a
    ``"turn-N"`` step id, a step already open, an unknown role, a non-finite reward, JSON that is
    not an object), ``NotFoundError`` (:meth:`step_end` of a step that is not open), ``LimitError``
    (``VT_MAX_OPEN_STEPS`` steps open, an event longer than ``VT_MAX_EVENT_BYTES``),
    ``BadHandleError`` (the session has ended).
    """

    __slots__ = ()

    if TYPE_CHECKING:  # provided by Session
        _hc: ctypes.c_uint64
        _batches: List[Any]

        def _flush_batches(self) -> None: ...

    def step_start(self, step_id: StrLike, metadata: JSONArg = None, t_ns: int = 0) -> None:
        """An engine-defined step of the session begins (``vt_step_start``, event ``step.start``).

        step_id: 1..``VT_MAX_EVENT_ID_BYTES`` bytes, not of the form ``"turn-N"`` (those are the
        turns' steps), not open already. Steps may nest, at most ``VT_MAX_OPEN_STEPS`` open.
        metadata: a dict or JSON object text, or None.
        """
        sid = cstr(step_id, "step_id")
        meta = json_arg(metadata, "metadata")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _fn("vt_step_start")(self._hc, sid, meta, t)
        if rc:
            raise_last_error(rc)

    def step_end(self, step_id: StrLike, t_ns: int = 0) -> None:
        """The open engine step ``step_id`` ends (``vt_step_end``), with any steps opened inside it
        (a ``step.end`` event for each, innermost first). NotFoundError: no open step has that id.
        """
        sid = cstr(step_id, "step_id")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _fn("vt_step_end")(self._hc, sid, t)
        if rc:
            raise_last_error(rc)

    @contextlib.contextmanager
    def step(self, step_id: str, metadata: JSONArg = None) -> Iterator[str]:
        """``with session.step("lookup", metadata={...}):`` -- :meth:`step_start` now, and
        :meth:`step_end` now when the block is left (also on an exception). Yields the step id.

        If the block raised, an error of the step's end (e.g. NotFoundError because an enclosing
        step was ended inside the block) does not hide the block's exception.
        """
        self.step_start(step_id, metadata)
        try:
            yield step_id
        except BaseException:
            try:
                self.step_end(step_id)
            except Exception:
                pass
            raise
        self.step_end(step_id)

    def record_message(self, role: StrLike, content: Union[str, bytes, Mapping, List[Any]],
                       metadata: JSONArg = None, t_ns: int = 0) -> None:
        """A message of the conversation, in the current step (``vt_record_message``, event
        ``message``).

        role: ``"user"``, ``"assistant"``, ``"system"`` or ``"tool"`` (:data:`MESSAGE_ROLES`).
        content: text (``str``); a dict or list is serialised as JSON first. Content that is a
        JSON object (a dict, or text that parses as one, e.g. a tool result) is kept as JSON;
        anything else as text. It follows the session's text policy: under
        :attr:`~voicetelemetry.TextPolicy.REDACT` only its length is kept; under ``INCLUDE`` it is
        truncated to ``max_text_chars`` characters (JSON that would be cut is kept as text).
        metadata: a dict or JSON object text, or None.
        """
        r = cstr(role, "role")
        c = _content(content)
        meta = json_arg(metadata, "metadata")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _fn("vt_record_message")(self._hc, r, c, meta, t)
        if rc:
            raise_last_error(rc)

    def record_outcome_reward(self, objective_key: StrLike, total_reward: float,
                              achievements_count: int = 0, annotation: JSONArg = None, t_ns: int = 0) -> None:
        """The score of the whole session on one objective (``vt_record_outcome_reward``, event
        ``reward.outcome``): ``total_reward`` (finite), ``achievements_count``, and the session's
        step count so far (turns recorded plus engine steps started) as ``total_steps``, at t_ns on
        the session's clock (0 = now). annotation: a dict or JSON object text (e.g. the grader's
        reasons), or None.
        """
        key = cstr(objective_key, "objective_key")
        value = as_float(total_reward, "total_reward")
        n = _u32(achievements_count, "achievements_count")
        ann = json_arg(annotation, "annotation")
        if self._batches:
            self._flush_batches()
        rc = _fn("vt_record_outcome_reward")(self._hc, key, value, n, ann, as_u64(t_ns, "t_ns"))
        if rc:
            raise_last_error(rc)

    def record_event_reward(self, objective_key: StrLike, value: float,
                            reward_type: Optional[StrLike] = None, source: Optional[StrLike] = None,
                            annotation: JSONArg = None, t_ns: int = 0) -> None:
        """The score of one moment on one objective, in the current step
        (``vt_record_event_reward``, event ``reward.event``).

        reward_type, source: free text (``"sparse"``, ``"human"``, ``"llm_judge"``, ...) or None.
        annotation: a dict or JSON object text, or None.
        """
        key = cstr(objective_key, "objective_key")
        v = as_float(value, "value")
        rt = cstr(reward_type, "reward_type")
        src = cstr(source, "source")
        ann = json_arg(annotation, "annotation")
        t = as_u64(t_ns, "t_ns")
        if self._batches:
            self._flush_batches()
        rc = _fn("vt_record_event_reward")(self._hc, key, v, rt, src, ann, t)
        if rc:
            raise_last_error(rc)


def record_outcome_reward_for(session_id: StrLike, objective_key: StrLike, total_reward: float,
                              achievements_count: int = 0, annotation: JSONArg = None, t_ns: int = 0) -> None:
    """:meth:`Session.record_outcome_reward` for a session known by its id, typically one that has
    ended (a grader that runs later): ``vt_record_outcome_reward_for``. The event carries that
    session_id; its time is t_ns on CLOCK_MONOTONIC (0 = now; the wall clock through the process's
    anchor);
    its ``total_steps`` is null. InvalidArgumentError for a bad session_id (no handle is involved,
    so no BadHandleError).
    """
    sid = cstr(session_id, "session_id")
    key = cstr(objective_key, "objective_key")
    value = as_float(total_reward, "total_reward")
    n = _u32(achievements_count, "achievements_count")
    ann = json_arg(annotation, "annotation")
    rc = _fn("vt_record_outcome_reward_for")(sid, key, value, n, ann, as_u64(t_ns, "t_ns"))
    if rc:
        raise_last_error(rc)


def record_event_reward_for(session_id: StrLike, step_id: Optional[StrLike], objective_key: StrLike,
                            value: float, reward_type: Optional[StrLike] = None,
                            source: Optional[StrLike] = None, annotation: JSONArg = None,
                            t_ns: int = 0) -> None:
    """:meth:`Session.record_event_reward` for a session known by its id
    (``vt_record_event_reward_for``): the step is given (``step_id``, None for none) and ``t_ns``
    is on CLOCK_MONOTONIC (:func:`voicetelemetry.now_ns`; 0 = now), whatever the session's clock
    was. InvalidArgumentError for a bad session_id.
    """
    sid = cstr(session_id, "session_id")
    step = cstr(step_id, "step_id")
    key = cstr(objective_key, "objective_key")
    v = as_float(value, "value")
    rt = cstr(reward_type, "reward_type")
    src = cstr(source, "source")
    ann = json_arg(annotation, "annotation")
    t = as_u64(t_ns, "t_ns")
    rc = _fn("vt_record_event_reward_for")(sid, step, key, v, rt, src, ann, t)
    if rc:
        raise_last_error(rc)
