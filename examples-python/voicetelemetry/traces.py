"""voicetelemetry.traces -- read back the trace store that the SQLite sink plugin writes.

``sqlite_sink.so`` (loaded like any sink plugin) keeps every event of every session in one SQLite
file: sessions, steps, turns, messages, tool calls, events and rewards (the schema is in
docs/trace-schema.md). This module reads that file with the standard library's :mod:`sqlite3`
only; it does not need the native library::

    from voicetelemetry.traces import TraceStore

    with TraceStore("calls.db") as store:
        for s in store.sessions(label={"transport": "sip"}, limit=10):
            print(s.session_id, s.turn_count)
        trace = store.get_session("call-42")        # a SessionTrace: steps, turns, messages, ...
        rows = store.query("SELECT llm_provider, count(*) AS n FROM turns GROUP BY 1")

From a shell: ``python -m voicetelemetry.traces FILE`` lists the sessions;
``python -m voicetelemetry.traces FILE SESSION`` prints that session's turns with a waterfall of
each turn's latency breakdown.

The plugin writes while you read (WAL mode): a reader sees whole batches only.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

__all__ = [
    "TraceStore",
    "SessionInfo",
    "SessionTrace",
    "Step",
    "Turn",
    "ToolCall",
    "Message",
    "TraceEvent",
    "OutcomeReward",
    "EventReward",
    "SCHEMA_VERSION",
    "APPLICATION_ID",
    "TURN_COST_PARTS",
    "SESSION_COST_PARTS",
    "main",
]

#: The newest schema this module reads (``PRAGMA user_version`` of the file).
SCHEMA_VERSION = 3
#: ``PRAGMA application_id`` of a trace store ("vtTr").
APPLICATION_ID = 0x76745472

#: The parts of a turn's end-to-end latency, in the order they happen (columns ``e2e_<part>_ns``).
BREAKDOWN_PARTS = ("stt", "eou", "llm_ttft", "tts_ttfb", "realtime", "remainder")

#: The stages of a turn's cost (columns ``cost_<part>_micros``, keys of :attr:`Turn.cost_micros`).
TURN_COST_PARTS = ("stt", "llm", "tts", "realtime")
#: The parts of a session's cost (columns ``cost_<part>_micros``, keys of :attr:`SessionInfo.cost_micros`).
SESSION_COST_PARTS = TURN_COST_PARTS + ("transport",)

#: Tables that hold rows of a session (delete_session empties each of them).
SESSION_TABLES = ("events", "messages", "tool_calls", "outcome_rewards", "event_rewards", "turns", "steps",
                  "sessions")

Timestamp = Union[int, float, _dt.datetime]


def _json(text: Optional[str]) -> Any:
    return None if text is None else json.loads(text)


@dataclass
class TraceEvent:
    """One row of ``events``: every event the sink received."""

    id: int
    session_id: Optional[str]
    event_type: str
    step_id: Optional[str]
    turn_id: Optional[str]
    correlation_id: Optional[str]
    t_us: Optional[int]
    unix_us: Optional[int]
    data: Any


@dataclass
class Message:
    """A message of a step (``content`` is a str, a JSON value, or None when it was redacted)."""

    id: int
    event_id: Optional[int]
    session_id: Optional[str]
    step_id: Optional[str]
    role: str
    content_type: Optional[str]
    content: Any
    chars: Optional[int]
    redacted: bool
    truncated: bool
    metadata: Any
    t_us: Optional[int]
    unix_us: Optional[int]


@dataclass
class ToolCall:
    session_id: str
    turn_number: int
    step_id: str
    idx: int
    name: Optional[str]
    kind: Optional[str]
    ok: Optional[bool]
    start_ns: Optional[int]
    end_ns: Optional[int]
    duration_ns: Optional[int]


@dataclass
class Turn:
    """A turn record's headline columns; ``record`` is the whole record (docs/turn-schema.md).

    ``cost_*``: the turn's cost (docs/cost.md), in integer micro-units of ``cost_currency``;
    ``cost_micros`` by stage (:data:`TURN_COST_PARTS`). None when no price table priced the turn."""

    session_id: str
    turn_number: int
    step_id: str
    outcome: Optional[str]
    interrupted: bool
    start_ns: Optional[int]
    end_ns: Optional[int]
    start_unix_us: Optional[int]
    end_unix_us: Optional[int]
    e2e_ns: Optional[int]
    breakdown_ns: Dict[str, Optional[int]]
    llm_provider: Optional[str]
    llm_model: Optional[str]
    columns: Dict[str, Any]
    record: Any
    tool_calls: List[ToolCall] = field(default_factory=list)
    cost_currency: Optional[str] = None
    cost_total_micros: Optional[int] = None
    cost_micros: Dict[str, Optional[int]] = field(default_factory=dict)
    cost_unpriced_charges: Optional[int] = None


@dataclass
class OutcomeReward:
    id: int
    event_id: Optional[int]
    session_id: Optional[str]
    objective_key: str
    total_reward: Optional[float]
    achievements_count: Optional[int]
    total_steps: Optional[int]
    annotation: Any
    t_us: Optional[int]
    unix_us: Optional[int]


@dataclass
class EventReward:
    id: int
    event_id: Optional[int]
    session_id: Optional[str]
    step_id: Optional[str]
    objective_key: str
    value: Optional[float]
    reward_type: Optional[str]
    source: Optional[str]
    annotation: Any
    t_us: Optional[int]
    unix_us: Optional[int]


@dataclass
class Step:
    """A step (the seed's timestep): a turn ("turn-N", kind "turn") or an engine-defined step."""

    step_id: str
    kind: str
    turn_number: Optional[int]
    metadata: Any
    start_us: Optional[int]
    start_unix_us: Optional[int]
    end_us: Optional[int]
    end_unix_us: Optional[int]
    turn: Optional[Turn] = None
    messages: List[Message] = field(default_factory=list)
    events: List[TraceEvent] = field(default_factory=list)
    event_rewards: List[EventReward] = field(default_factory=list)


@dataclass
class SessionInfo:
    """A row of ``sessions``. Times: ``*_us`` on the session's clock (``clock``: "monotonic" or
    "media"), ``*_unix_us`` on the wall clock. ``trace_id``: the session's OpenTelemetry trace id.
    ``cost_*``: the final snapshot's cost (docs/cost.md), in integer micro-units of
    ``cost_currency``; ``cost_micros`` by part (:data:`SESSION_COST_PARTS`). None when the session
    was never priced or has not ended."""

    session_id: str
    labels: Dict[str, str]
    metadata: Any
    text_policy: Optional[str]
    clock: Optional[str]
    trace_id: Optional[str]
    start_us: Optional[int]
    start_unix_us: Optional[int]
    end_us: Optional[int]
    end_unix_us: Optional[int]
    uptime_secs: Optional[float]
    turn_count: Optional[int]
    turns_interrupted: Optional[int]
    interruptions: Optional[int]
    tokens_total: Optional[int]
    cost_currency: Optional[str] = None
    cost_total_micros: Optional[int] = None
    cost_micros: Dict[str, Optional[int]] = field(default_factory=dict)
    cost_unpriced_charges: Optional[int] = None

    @property
    def started(self) -> Optional[_dt.datetime]:
        """The start on the wall clock (UTC), if the store knows it."""
        return _utc(self.start_unix_us)


@dataclass
class SessionTrace(SessionInfo):
    """A whole session: what :meth:`TraceStore.get_session` returns (the seed's ``SessionTrace``).

    ``steps`` hold their turn, messages, events and event rewards; the flat lists hold every row of
    the session (messages and events of no step too), ordered by time."""

    final_snapshot: Any = None
    steps: List[Step] = field(default_factory=list)
    turns: List[Turn] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    events: List[TraceEvent] = field(default_factory=list)
    outcome_rewards: List[OutcomeReward] = field(default_factory=list)
    event_rewards: List[EventReward] = field(default_factory=list)

    def step(self, step_id: str) -> Optional[Step]:
        return next((s for s in self.steps if s.step_id == step_id), None)


def _utc(unix_us: Optional[int]) -> Optional[_dt.datetime]:
    if unix_us is None:
        return None
    return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=unix_us)


def _unix_us(t: Timestamp) -> int:
    """A datetime (naive = UTC) or Unix seconds as Unix microseconds."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return int(round(float(t) * 1_000_000))


_SESSION_COLUMNS = ("session_id, labels, metadata, text_policy, clock, trace_id, start_us, start_unix_us, end_us, end_unix_us,"
                    " uptime_secs, turn_count, turns_interrupted, interruptions, tokens_total, cost_currency,"
                    " cost_total_micros, cost_unpriced_charges"
                    + "".join(f", cost_{p}_micros" for p in SESSION_COST_PARTS))


def _cost_micros(row: Dict[str, Any], parts: Sequence[str]) -> Dict[str, Optional[int]]:
    """The columns cost_<part>_micros of a row, taken out of it, keyed by part."""
    return {p: row.pop(f"cost_{p}_micros") for p in parts}


def _session_info(r: sqlite3.Row) -> Dict[str, Any]:
    d = {k: r[k] for k in r.keys()}
    d["labels"] = _json(d["labels"]) or {}
    d["metadata"] = _json(d["metadata"])
    d["cost_micros"] = _cost_micros(d, SESSION_COST_PARTS)
    return d


def _flag(v: Optional[int]) -> Optional[bool]:
    return None if v is None else bool(v)


class TraceStore:
    """A trace store file (``sqlite_sink.so``'s database), opened for reading and deleting.

    ``path`` must exist and be a trace store of a schema this module knows (ValueError otherwise).
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], timeout: float = 5.0) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"no trace store at {self.path!r}")
        uri = "file:" + self.path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=rw"
        self._db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        try:
            self._check()
        except Exception:
            self._db.close()
            raise

    def _check(self) -> None:
        try:
            app = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise ValueError(f"{self.path!r} is not an SQLite database ({e})") from None
        if app != APPLICATION_ID:
            raise ValueError(f"{self.path!r} is not a voicetelemetry trace store (application_id {app})")
        if version > SCHEMA_VERSION:
            raise ValueError(f"{self.path!r} has trace schema version {version}, newer than this module's "
                             f"{SCHEMA_VERSION}: use a newer voicetelemetry")
        if version < SCHEMA_VERSION:
            raise ValueError(f"{self.path!r} has trace schema version {version}: load sqlite_sink.so on it once "
                             f"to migrate it to {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "TraceStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- queries ---------------------------------------------------------------------------------

    def query(self, sql: str, params: Union[Sequence[Any], Mapping[str, Any]] = ()) -> List[Dict[str, Any]]:
        """Run one SQL statement; its rows as dicts (column name -> value)."""
        cur = self._db.execute(sql, params)
        return [{k: row[k] for k in row.keys()} for row in cur.fetchall()] if cur.description else []

    def sessions(self, label: Optional[Mapping[str, str]] = None, since: Optional[Timestamp] = None,
                 until: Optional[Timestamp] = None, limit: Optional[int] = None) -> List[SessionInfo]:
        """Sessions, most recent first. label: every key must have that value; since/until: the
        session started in [since, until) on the wall clock (a datetime, naive = UTC, or Unix
        seconds); sessions whose start the store does not know are left out by since/until."""
        where: List[str] = []
        params: List[Any] = []
        for key, value in (label or {}).items():
            where.append("json_extract(labels, ?) = ?")
            params += ['$."' + key.replace('"', '\\"') + '"', value]
        if since is not None:
            where.append("start_unix_us >= ?")
            params.append(_unix_us(since))
        if until is not None:
            where.append("start_unix_us < ?")
            params.append(_unix_us(until))
        sql = f"SELECT {_SESSION_COLUMNS} FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_unix_us IS NULL, start_unix_us DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [SessionInfo(**_session_info(r)) for r in self._db.execute(sql, params)]

    def get_session(self, session_id: str) -> Optional[SessionTrace]:
        """The whole session, or None if the store has no row of it."""
        r = self._db.execute(f"SELECT {_SESSION_COLUMNS}, final_snapshot FROM sessions WHERE session_id = ?",
                             (session_id,)).fetchone()
        if r is None:
            return None
        d = _session_info(r)
        d["final_snapshot"] = _json(d["final_snapshot"])
        trace = SessionTrace(**d)
        trace.events = self._events(session_id)
        trace.messages = self._messages(session_id)
        trace.turns = self._turns(session_id)
        trace.outcome_rewards = [OutcomeReward(**self._row(x, "annotation")) for x in self._db.execute(
            "SELECT id, event_id, session_id, objective_key, total_reward, achievements_count, total_steps,"
            " annotation, t_us, unix_us FROM outcome_rewards WHERE session_id = ? ORDER BY t_us, id", (session_id,))]
        trace.event_rewards = [EventReward(**self._row(x, "annotation")) for x in self._db.execute(
            "SELECT id, event_id, session_id, step_id, objective_key, value, reward_type, source, annotation,"
            " t_us, unix_us FROM event_rewards WHERE session_id = ? ORDER BY t_us, id", (session_id,))]
        trace.steps = self._steps(trace)
        return trace

    def delete_session(self, session_id: str) -> bool:
        """Delete every row of the session from every table, in one transaction. True if there was any."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            n = sum(self._db.execute(f"DELETE FROM {t} WHERE session_id = ?", (session_id,)).rowcount
                    for t in SESSION_TABLES)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return n > 0

    # ---- building a trace ------------------------------------------------------------------------

    @staticmethod
    def _row(r: sqlite3.Row, *json_columns: str) -> Dict[str, Any]:
        d = {k: r[k] for k in r.keys()}
        for k in json_columns:
            d[k] = _json(d[k])
        return d

    def _events(self, session_id: str) -> List[TraceEvent]:
        return [TraceEvent(**self._row(r, "data")) for r in self._db.execute(
            "SELECT id, session_id, event_type, step_id, turn_id, correlation_id, t_us, unix_us, data"
            " FROM events WHERE session_id = ? ORDER BY t_us, id", (session_id,))]

    def _messages(self, session_id: str) -> List[Message]:
        out = []
        for r in self._db.execute(
                "SELECT id, event_id, session_id, step_id, role, content_type, content, chars, redacted,"
                " truncated, metadata, t_us, unix_us FROM messages WHERE session_id = ? ORDER BY t_us, id",
                (session_id,)):
            d = self._row(r, "metadata")
            if d["content_type"] == "json":
                d["content"] = _json(d["content"])
            d["redacted"], d["truncated"] = bool(d["redacted"]), bool(d["truncated"])
            out.append(Message(**d))
        return out

    def _turns(self, session_id: str) -> List[Turn]:
        calls: Dict[int, List[ToolCall]] = {}
        for r in self._db.execute(
                "SELECT session_id, turn_number, step_id, idx, name, kind, ok, start_ns, end_ns, duration_ns"
                " FROM tool_calls WHERE session_id = ? ORDER BY turn_number, idx", (session_id,)):
            d = self._row(r)
            d["ok"] = _flag(d["ok"])
            calls.setdefault(d["turn_number"], []).append(ToolCall(**d))
        turns = []
        for r in self._db.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY turn_number", (session_id,)):
            c = self._row(r, "quality")
            turns.append(Turn(
                session_id=c["session_id"], turn_number=c["turn_number"], step_id=c["step_id"],
                outcome=c["outcome"], interrupted=bool(c["interrupted"]), start_ns=c["start_ns"],
                end_ns=c["end_ns"], start_unix_us=c["start_unix_us"], end_unix_us=c["end_unix_us"],
                e2e_ns=c["e2e_ns"], breakdown_ns={p: c[f"e2e_{p}_ns"] for p in BREAKDOWN_PARTS},
                llm_provider=c["llm_provider"], llm_model=c["llm_model"],
                columns={k: v for k, v in c.items() if k != "record"}, record=_json(c["record"]),
                tool_calls=calls.get(c["turn_number"], []), cost_currency=c["cost_currency"],
                cost_total_micros=c["cost_total_micros"], cost_micros=_cost_micros(dict(c), TURN_COST_PARTS),
                cost_unpriced_charges=c["cost_unpriced_charges"]))
        return turns

    def _steps(self, trace: SessionTrace) -> List[Step]:
        steps = [Step(**self._row(r, "metadata")) for r in self._db.execute(
            "SELECT step_id, kind, turn_number, metadata, start_us, start_unix_us, end_us, end_unix_us FROM steps"
            " WHERE session_id = ? ORDER BY start_us IS NULL, start_us, id", (trace.session_id,))]
        by_id = {s.step_id: s for s in steps}
        for t in trace.turns:
            if t.step_id in by_id:
                by_id[t.step_id].turn = t
        for m in trace.messages:
            if m.step_id in by_id:
                by_id[m.step_id].messages.append(m)
        for e in trace.events:
            if e.step_id in by_id:
                by_id[e.step_id].events.append(e)
        for w in trace.event_rewards:
            if w.step_id in by_id:
                by_id[w.step_id].event_rewards.append(w)
        return steps


# ---- command line ------------------------------------------------------------------------------

WATERFALL_MARKS = {"stt": "S", "eou": "E", "llm_ttft": "L", "tts_ttfb": "T", "realtime": "R", "remainder": "."}


def _ms(ns: Optional[int]) -> str:
    return "-" if ns is None else f"{ns / 1e6:.0f}"


def _when(unix_us: Optional[int]) -> str:
    t = _utc(unix_us)
    return "-" if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def _amount(micros: Optional[int], currency: Optional[str] = None) -> str:
    """Integer micro-units as a decimal amount ("0.017461 USD"), exactly; "-" when not priced."""
    if micros is None:
        return "-"
    m = abs(micros)
    text = f"{'-' if micros < 0 else ''}{m // 1_000_000}.{m % 1_000_000:06d}"
    return f"{text} {currency}" if currency else text


def _cost_line(trace: SessionTrace) -> str:
    """The session's cost: its total, the parts that cost something, the unpriced charges."""
    parts = ", ".join(f"{p} {_amount(m)}" for p, m in trace.cost_micros.items() if m)
    n = trace.cost_unpriced_charges or 0
    return (f"cost      {_amount(trace.cost_total_micros, trace.cost_currency)}" + (f" ({parts})" if parts else "")
            + (f", {n} unpriced charge{'s' if n != 1 else ''}" if n else ""))


def _nearest_rank(values: List[int], q: float) -> Optional[int]:
    """The q-quantile by nearest rank (the definition the snapshot's p50/p95 use)."""
    if not values:
        return None
    values = sorted(values)
    rank = max(1, -(-round(q * 100) * len(values) // 100))  # ceil(q * n), exact for whole percents
    return values[rank - 1]


def waterfall(breakdown: Mapping[str, Optional[int]], scale_ns: int, width: int) -> str:
    """The breakdown as one line of marks (S stt, E eou, L llm, T tts, R realtime, . remainder):
    `width` characters stand for `scale_ns`; each part ends where its cumulative time falls, so
    the bar's length is the e2e latency on the shared scale."""
    out, done, cum = [], 0, 0
    for part in BREAKDOWN_PARTS:
        cum += breakdown.get(part) or 0
        end = (2 * cum * width + scale_ns) // (2 * scale_ns) if scale_ns > 0 else 0  # rounded half up
        out.append(WATERFALL_MARKS[part] * max(0, end - done))
        done = max(done, end)
    return "".join(out)


def _table(rows: List[List[str]], right: Iterable[int] = ()) -> List[str]:
    right = set(right)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def format_sessions(store: TraceStore) -> str:
    sessions = store.sessions()
    e2e: Dict[str, List[int]] = {}
    for r in store.query("SELECT session_id, e2e_ns FROM turns WHERE e2e_ns IS NOT NULL"):
        e2e.setdefault(r["session_id"], []).append(r["e2e_ns"])
    rows = [["SESSION", "STARTED (UTC)", "SECONDS", "TURNS", "BARGE-INS", "E2E P50 ms", "E2E P95 ms", "COST",
             "LABELS"]]
    for s in sessions:
        v = e2e.get(s.session_id, [])
        rows.append([s.session_id, _when(s.start_unix_us), "-" if s.uptime_secs is None else f"{s.uptime_secs:.1f}",
                     "-" if s.turn_count is None else str(s.turn_count),
                     "-" if s.interruptions is None else str(s.interruptions),
                     _ms(_nearest_rank(v, 0.50)), _ms(_nearest_rank(v, 0.95)),
                     _amount(s.cost_total_micros, s.cost_currency),
                     " ".join(f"{k}={val}" for k, val in sorted(s.labels.items()))])
    head = f"{store.path}: {len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    return "\n".join([head, ""] + _table(rows, right=(2, 3, 4, 5, 6, 7))) + "\n"


def format_session(trace: SessionTrace, columns: int) -> str:
    """One session as text: a header, its turns as a table, and each turn's latency breakdown as
    a waterfall on one scale (the slowest turn spans the width left by the terminal)."""
    started = _when(trace.start_unix_us)
    lines = [f"session {trace.session_id}   "
             + (f"started {started} UTC   " if trace.start_unix_us is not None else "start time unknown   ")
             + ("" if trace.uptime_secs is None else f"{trace.uptime_secs:.1f} s   ")
             + f"text policy {trace.text_policy or '-'}"]
    if trace.labels:
        lines.append("labels    " + " ".join(f"{k}={v}" for k, v in sorted(trace.labels.items())))
    if trace.metadata:
        lines.append("metadata  " + json.dumps(trace.metadata, sort_keys=True))
    if trace.cost_total_micros is not None:
        lines.append(_cost_line(trace))
    lines.append("")
    if not trace.turns:
        lines.append("no turns")
    else:
        rows = [["TURN", "OUTCOME", "E2E ms", "STT", "EOU", "LLM", "TTS", "RT", "REST", "LLM PROVIDER", "TOOLS"]]
        for t in trace.turns:
            tools = ",".join(f"{c.name}{'' if c.ok else '!'}" for c in t.tool_calls) or "-"
            rows.append([str(t.turn_number), t.outcome or "-", _ms(t.e2e_ns)]
                        + [_ms(t.breakdown_ns[p]) for p in BREAKDOWN_PARTS] + [t.llm_provider or "-", tools])
        lines += _table(rows, right=(0, 2, 3, 4, 5, 6, 7, 8))
        scale = max(t.e2e_ns or 0 for t in trace.turns)
        lines += ["", f"latency waterfall, anchor (user stopped) to first agent audio, 0 .. {_ms(scale)} ms:",
                  "S stt  E end of utterance  L llm first token  T tts first byte  R realtime  . rest"]
        width = max(10, columns - 16)
        for t in trace.turns:
            lines.append(f"{t.turn_number:>4} {_ms(t.e2e_ns):>6} ms |{waterfall(t.breakdown_ns, scale, width)}")
    lines += _conversation(trace, columns)
    extra = [f"{len(trace.steps)} steps", f"{len(trace.messages)} messages", f"{len(trace.events)} events"]
    extra += [f"outcome {w.objective_key}={w.total_reward:g}" for w in trace.outcome_rewards
              if w.total_reward is not None]
    extra += [f"reward {w.objective_key}={w.value:g} ({w.step_id or 'no step'})" for w in trace.event_rewards
              if w.value is not None]
    lines += ["", "   ".join(extra)]
    return "\n".join(lines) + "\n"


def _conversation(trace: SessionTrace, columns: int) -> List[str]:
    """The session's messages in order: time since the start, step, role and content (one line each)."""
    if not trace.messages:
        return []
    out = ["", "conversation (seconds since the start, step, role, content):"]
    for m in trace.messages:
        when = "-" if m.t_us is None or trace.start_us is None else f"{(m.t_us - trace.start_us) / 1e6:+.3f}"
        if m.content is None:
            text = f"[redacted, {m.chars} chars]" if m.redacted else "-"
        elif isinstance(m.content, str):
            text = m.content.replace("\n", " ")
        else:
            text = json.dumps(m.content, separators=(",", ":"))
        head = f"{when:>9}  {m.step_id or '-':<8}  {m.role:<9}  "
        room = max(10, columns - len(head))
        out.append(head + (text if len(text) <= room else text[:room - 3] + "..."))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2) or args[0] in ("-h", "--help"):
        print("usage: python -m voicetelemetry.traces FILE [SESSION]\n"
              "  FILE alone lists the sessions of a trace store (sqlite_sink.so's database);\n"
              "  with SESSION, prints that session's turns and their latency waterfalls.", file=sys.stderr)
        return 2
    try:
        store = TraceStore(args[0])
    except (OSError, ValueError, sqlite3.Error) as e:
        print(f"traces: {e}", file=sys.stderr)
        return 1
    with store:
        if len(args) == 1:
            sys.stdout.write(format_sessions(store))
            return 0
        trace = store.get_session(args[1])
        if trace is None:
            print(f"traces: no session {args[1]!r} in {args[0]}", file=sys.stderr)
            return 1
        sys.stdout.write(format_session(trace, shutil.get_terminal_size((120, 24)).columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
