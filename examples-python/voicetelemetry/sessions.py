"""The process's open sessions: list them, find one by id (``vt_sessions_json``, ``vt_session_find``;
since 1.2).

For a live view of the calls (an admin endpoint, a dashboard) that does not hold the
:class:`~voicetelemetry.Session` objects themselves::

    import voicetelemetry as vt

    for info in vt.sessions():                    # oldest first
        print(info["session_id"], info["turns_completed"], info["last_e2e_ns"])
    s = vt.find_session("call-42")                # NotFoundError when no open session has that id
    print(s.snapshot()["turns"]["last"])

Ownership: a :class:`~voicetelemetry.Session` made with ``Session(...)`` owns its session and ends
it when it is closed or garbage-collected. The one :func:`find_session` returns *borrows* it: it
reads and records like any Session (the same handle), but dropping it never ends the session.
Its :meth:`~voicetelemetry.Session.end` does end it, for every holder, exactly as
``vt_end_session`` on the handle would; leave that to the owner. Once the owner ends the session,
calls through the borrowed object raise :class:`~voicetelemetry.BadHandleError`, the library's
answer for an ended handle (handles are never reused, so a stale one never reaches another session).
"""
from __future__ import annotations

import json
from ctypes import byref
from typing import Any, Dict, List

from . import _raw
from ._util import StrLike, cstr, text_call
from .errors import error_for_status, raise_last_error
from .session import Session

__all__ = ["sessions", "sessions_json", "find_session"]


def _need_1_2(what: str) -> None:
    if getattr(_raw, what) is None:
        raise error_for_status(_raw.VT_E_NOT_FOUND,
                               f"{what} needs libvoicetelemetry 1.2 or later; the loaded library is "
                               f"{_raw.string(_raw.vt_version_string())}")


def sessions_json() -> str:
    """The open sessions as JSON array text (``vt_sessions_json``), oldest first; ``"[]"`` when none.

    Each element: ``session_id``, ``labels`` (an object), ``start_unix_ns``, ``uptime_ns`` (now on
    the session's clock minus its start), ``turns_completed``, ``turns_interrupted``,
    ``last_e2e_ns`` (the latest completed turn's end-to-end latency; null until there is one),
    ``trace_id`` (32 hex digits). Each element is one session's state at one moment.
    """
    _need_1_2("vt_sessions_json")
    return text_call(_raw.vt_sessions_json).decode("utf-8")


def sessions() -> List[Dict[str, Any]]:
    """The open sessions as a list of dicts (:func:`sessions_json` parsed); ``last_e2e_ns`` is None
    until a turn completed."""
    return json.loads(sessions_json())


class _BorrowedSession(Session):
    """A Session over a handle someone else owns: never ended by garbage collection."""

    __slots__ = ()

    def __init__(self, handle: int, session_id: str) -> None:  # noqa: D107 (no Session.__init__)
        self._handle = handle
        self._hc = _raw.vt_session(handle)
        self._session_id = session_id
        self._batches = []
        self._end_once = [1]
        # "Now" on the session's clock, read from the library itself: the session may be on a
        # media clock (Clock.MEDIA) this side cannot know about (AudioBatch stamps with it).
        self._now_ns = self.now_ns

    def __del__(self) -> None:
        pass  # the owner ends it

    def __repr__(self) -> str:
        state = "ended" if self.ended else "open"
        return f"<voicetelemetry.Session handle={self._handle} {state}, borrowed>"


def find_session(session_id: StrLike) -> Session:
    """The open session whose id is ``session_id`` (``vt_session_find``): the newest, if several open
    sessions share the id.

    Returns a :class:`~voicetelemetry.Session` that borrows the session (see the module's
    documentation): dropping it never ends it. Raises NotFoundError when no open session has that
    id, InvalidArgumentError for an empty, over-long (``VT_MAX_SESSION_ID_BYTES``) or non-UTF-8 id.
    """
    _need_1_2("vt_session_find")
    sid = cstr(session_id, "session_id")
    out = _raw.vt_session(0)
    rc = _raw.vt_session_find(sid, byref(out))
    if rc:
        raise_last_error(rc)
    return _BorrowedSession(int(out.value), sid.decode("utf-8"))

