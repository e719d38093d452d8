"""Header 1.1 from Python: one clock per session (Clock.MEDIA) and its wall-clock anchor, end and usage
at a given time, and the Traces calls (steps, messages, rewards), read back from the events the real
jsonl_sink.so received -- the same flows and exact values as tests/c/test_traces.c.

Every time is checked exactly: an event at t_ns on a session's clock has timestamp_us = t_ns // 1000
and timestamp_unix_us = (start_unix_ns + t_ns - start_ns) // 1000, through the anchor the session's
snapshot shows (tests/c/check.h, unix_us_of).
"""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R

SEC = 1_000_000_000
MS = 1_000_000
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def unix_us_of(snapshot: Dict[str, Any], t_ns: int) -> int:
    """timestamp_unix_us of an event at t_ns on the session's clock (as tests/c/check.h)."""
    return (snapshot["start_unix_ns"] + t_ns - snapshot["start_ns"]) // 1000


class Sink:
    """The real example sink, build/plugins/jsonl_sink.so, writing to a file of this test."""

    def __init__(self, so: Path, out: Path):
        self.out = out
        self.plugin = vt.load_plugin(so, {"path": str(out), "health_interval_ms": 3_600_000})

    def events(self, session_id: str) -> List[Dict[str, Any]]:
        """The events of one session, in order, once everything emitted so far is delivered."""
        vt.flush_events(5.0)
        if not self.out.exists():
            return []
        evs = [json.loads(line) for line in self.out.read_text("utf-8").splitlines()]
        return [e for e in evs if e["session_id"] == session_id]


@pytest.fixture
def sink(jsonl_sink_so, tmp_path):
    s = Sink(jsonl_sink_so, tmp_path / "events.jsonl")
    yield s
    s.plugin.unload()


def of_type(evs: List[Dict[str, Any]], event_type: str) -> List[Dict[str, Any]]:
    return [e for e in evs if e["event_type"] == event_type]


def times(e: Dict[str, Any]):
    return e["timestamp_us"], e["timestamp_unix_us"]


# ---- one clock per session -------------------------------------------------------------------------


def test_media_clock_session_every_event_on_its_clock(sink):
    """A media clock that starts at 1 s: every event of the session is on it, and the wall clock of
    each is the session's anchor plus the event's distance from the start."""
    created_before = time.monotonic_ns()
    s = vt.Session(session_id="py-media-1", start_t_ns=1 * SEC, clock=vt.Clock.MEDIA)
    created_after = time.monotonic_ns()
    s.record_vad_start(2 * SEC)
    s.record_vad_end(3 * SEC)
    s.record_audio_out(640, 3 * SEC + 400 * MS)
    s.record_interruption(4 * SEC)
    s.record_usage(total=30, prompt=20, response=10, t_ns=5 * SEC)  # vt_record_usage_at
    before = time.monotonic_ns()
    s.record_usage(total=30, prompt=20, response=10)  # now, on the session's clock
    after = time.monotonic_ns()
    snap = s.snapshot()
    assert snap["start_ns"] == 1 * SEC
    assert len(snap["trace_id"]) == 32 and int(snap["trace_id"], 16) != 0
    s.end(t_ns=40 * SEC)  # vt_end_session_at
    assert s.ended
    s.end(t_ns=41 * SEC)  # idempotent
    evs = sink.events("py-media-1")

    assert [e["event_type"] for e in evs] == ["session.start", "interruption", "usage", "usage",
                                              "turn.complete", "session.end"]
    pinned = [("session.start", 0, 1 * SEC), ("interruption", 0, 4 * SEC), ("usage", 0, 5 * SEC),
              ("turn.complete", 0, 4 * SEC), ("session.end", 0, 40 * SEC)]
    for event_type, n, t_ns in pinned:
        e = of_type(evs, event_type)[n]
        assert times(e) == (t_ns // 1000, unix_us_of(snap, t_ns)), event_type
    assert of_type(evs, "usage")[0]["data"] == {"total": 30, "prompt": 20, "response": 10,
                                                "cached": None, "thoughts": None}
    # The session ended at 40 s on its clock: its final snapshot says 39 s of uptime.
    end = of_type(evs, "session.end")[0]["data"]
    assert end["uptime_secs"] == 39
    assert (end["start_ns"], end["start_unix_ns"], end["trace_id"]) == \
        (1 * SEC, snap["start_unix_ns"], snap["trace_id"])
    # The plain usage call: now on the session's clock (1 s at its creation, which lies between
    # the two monotonic reads around it), and on the wall clock through the same anchor.
    plain = of_type(evs, "usage")[1]
    t_us = plain["timestamp_us"]
    lo, hi = (1 * SEC + before - created_after) // 1000, (1 * SEC + after - created_before) // 1000
    assert lo <= t_us <= hi + 1
    assert plain["timestamp_unix_us"] - t_us in ((snap["start_unix_ns"] - 1 * SEC) // 1000,
                                                 (snap["start_unix_ns"] - 1 * SEC) // 1000 + 1)
    start = of_type(evs, "session.start")[0]["data"]
    assert (start["clock"], start["start_ns"], start["start_unix_ns"]) == \
        ("media", 1 * SEC, snap["start_unix_ns"])


def test_monotonic_session_is_anchored_at_its_creation():
    w0, m0 = time.time_ns(), time.monotonic_ns()
    with vt.Session() as s:
        m1, w1 = time.monotonic_ns(), time.time_ns()
        snap = s.snapshot()
    assert m0 <= snap["start_ns"] <= m1
    assert w0 <= snap["start_unix_ns"] <= w1
    assert snap["token_totals_saturated"] is False


def test_end_and_usage_at_pin_their_events_on_a_monotonic_session(sink):
    with vt.Session(session_id="py-at-1", start_t_ns=10 * SEC) as s:
        s.record_usage(total=7, t_ns=12 * SEC)
        snap = s.snapshot()
        s.end(t_ns=15 * SEC)
    evs = sink.events("py-at-1")
    assert [(e["event_type"], times(e)) for e in evs] == [
        ("session.start", (10_000_000, unix_us_of(snap, 10 * SEC))),
        ("usage", (12_000_000, unix_us_of(snap, 12 * SEC))),
        ("session.end", (15_000_000, unix_us_of(snap, 15 * SEC))),
    ]
    assert evs[2]["data"]["uptime_secs"] == 5
    assert evs[0]["data"]["clock"] == "monotonic"


def test_audio_batch_stamps_now_on_a_media_clock():
    """An AudioBatch stamps the first chunk after a flush with "now" on the session's clock: on a
    media clock that starts at 1 s, not CLOCK_MONOTONIC (which would be a latency of the machine's
    uptime, or out of order)."""
    with vt.Session(start_t_ns=1 * SEC, clock=vt.Clock.MEDIA) as s:
        s.record_vad_end()  # now on the media clock: 1 s and a little
        with s.audio_batch() as b:
            b.append(640)
            b.add(vt.EventKind.TEXT_SEND)
            b.extend_audio([320, 320])
        snap = s.snapshot()
    assert snap["out_of_order_events"] == 0
    assert snap["response_count"] == 1 and 0 <= snap["last_response_latency_ms"] < 1000
    assert snap["audio_chunks_out"] == 3


# ---- steps, messages, rewards ----------------------------------------------------------------------


def test_seed_flow_steps_messages_rewards_reach_the_sink(sink):
    """The seed's flow of tests/c/test_traces.c: metadata, steps, messages, a tool call's JSON result,
    rewards (one after the session ended), and the transcripts of a turn as messages of its step."""
    S, M = vt.TurnStage, vt.TurnMark
    created_before = time.monotonic_ns()
    s = vt.Session(session_id="py-trace-1", start_t_ns=1 * SEC, clock=vt.Clock.MEDIA,
                   text_policy=vt.TextPolicy.INCLUDE, metadata={"agent": "support-bot", "version": 3},
                   traceparent=TRACEPARENT)
    created_after = time.monotonic_ns()
    s.step_start("greeting", {"kind": "scripted"}, 1100 * MS)
    s.record_message("system", "You are a support agent.", t_ns=1200 * MS)
    s.step_start("lookup", t_ns=1300 * MS)
    s.record_message("tool", '{"order": 42, "status": "shipped"}', {"tool": "orders"}, 1400 * MS)
    s.step_end("greeting", 1500 * MS)  # ends "lookup" first
    # A turn: its step is "turn-1" while it is assembled.
    s.turn_mark(S.USER_SPEECH, M.START, 2 * SEC)
    s.turn_mark(S.USER_SPEECH, M.END, 3 * SEC)
    s.turn_text(vt.TurnTextKind.USER_TRANSCRIPT, "where is my order", 3 * SEC)
    s.record_event_reward("helpfulness", 0.5, "sparse", "llm_judge", t_ns=3100 * MS)
    s.turn_mark(S.AGENT_SPEECH, M.START, 3400 * MS)
    s.turn_text(vt.TurnTextKind.AGENT_RESPONSE, "it has shipped", 3400 * MS)
    s.turn_mark(S.AGENT_SPEECH, M.END, 5 * SEC)
    before = time.monotonic_ns()
    s.record_outcome_reward("resolved", 1, 2, {"why": "order found"})
    after = time.monotonic_ns()
    snap = s.snapshot()
    assert snap["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    s.end(t_ns=6 * SEC)
    vt.record_outcome_reward_for("py-trace-1", "csat", 4.5, 0)
    vt.record_event_reward_for("py-trace-1", "turn-1", "accuracy", 1, "human")
    evs = sink.events("py-trace-1")

    def data(event_type: str, n: int = 0) -> Dict[str, Any]:
        d = of_type(evs, event_type)[n]["data"]
        return d

    def exact(event_type: str, n: int, want: Dict[str, Any]) -> None:
        got = data(event_type, n)
        assert got == want and list(got) == list(want), (event_type, n)  # key order too

    exact("session.start", 0, {
        "labels": {}, "text_policy": "include", "clock": "media", "start_ns": 1_000_000_000,
        "start_unix_ns": snap["start_unix_ns"], "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "parent_span_id": "b7ad6b7169203331", "metadata": {"agent": "support-bot", "version": 3}})
    exact("step.start", 0, {"step_id": "greeting", "turn_number": None, "metadata": {"kind": "scripted"}})
    exact("step.start", 1, {"step_id": "lookup", "turn_number": None, "metadata": None})
    exact("message", 0, {"role": "system", "step_id": "greeting", "content_type": "text",
                         "content": "You are a support agent.", "chars": 24, "redacted": False,
                         "truncated": False, "metadata": None})
    exact("message", 1, {"role": "tool", "step_id": "lookup", "content_type": "json",
                         "content": {"order": 42, "status": "shipped"}, "chars": 34, "redacted": False,
                         "truncated": False, "metadata": {"tool": "orders"}})
    exact("step.end", 0, {"step_id": "lookup"})
    exact("step.end", 1, {"step_id": "greeting"})
    exact("reward.event", 0, {"objective_key": "helpfulness", "value": 0.5, "reward_type": "sparse",
                              "source": "llm_judge", "step_id": "turn-1", "annotation": None})
    exact("reward.outcome", 0, {"objective_key": "resolved", "total_reward": 1, "achievements_count": 2,
                                "total_steps": 3, "annotation": {"why": "order found"}})
    # The turn's transcripts, after its turn.complete, as messages of "turn-1".
    exact("message", 2, {"role": "user", "step_id": "turn-1", "content_type": "text",
                         "content": "where is my order", "chars": 17, "redacted": False,
                         "truncated": False, "metadata": None})
    exact("message", 3, {"role": "assistant", "step_id": "turn-1", "content_type": "text",
                         "content": "it has shipped", "chars": 14, "redacted": False,
                         "truncated": False, "metadata": None})
    kinds = [e["event_type"] for e in evs]
    assert kinds.index("turn.complete") < evs.index(of_type(evs, "message")[2])
    # After the end: by session id.
    exact("reward.outcome", 1, {"objective_key": "csat", "total_reward": 4.5, "achievements_count": 0,
                                "total_steps": None, "annotation": None})
    exact("reward.event", 1, {"objective_key": "accuracy", "value": 1, "reward_type": "human",
                              "source": None, "step_id": "turn-1", "annotation": None})

    # Every time of the session's own events, exactly, on its clock and on the wall clock.
    pinned = [("session.start", 0, 1 * SEC), ("step.start", 0, 1100 * MS), ("message", 0, 1200 * MS),
              ("step.start", 1, 1300 * MS), ("message", 1, 1400 * MS), ("step.end", 0, 1500 * MS),
              ("step.end", 1, 1500 * MS), ("reward.event", 0, 3100 * MS), ("message", 2, 3 * SEC),
              ("message", 3, 3400 * MS), ("session.end", 0, 6 * SEC)]
    for event_type, n, t_ns in pinned:
        assert times(of_type(evs, event_type)[n]) == (t_ns // 1000, unix_us_of(snap, t_ns)), \
            (event_type, n)
    # The outcome reward is stamped "now" on the session's clock (the media clock's 1 s at the
    # creation, advanced by the monotonic time since), through the same anchor.
    outcome = of_type(evs, "reward.outcome")[0]
    t_us = outcome["timestamp_us"]
    lo, hi = (1 * SEC + before - created_after) // 1000, (1 * SEC + after - created_before) // 1000
    assert lo <= t_us <= hi + 1
    assert outcome["timestamp_unix_us"] - t_us in ((snap["start_unix_ns"] - 1 * SEC) // 1000,
                                                   (snap["start_unix_ns"] - 1 * SEC) // 1000 + 1)
    # The _for rewards: now on CLOCK_MONOTONIC, on the wall clock through the process's anchor.
    anchor_us = (time.time_ns() - time.monotonic_ns()) // 1000
    for e in (of_type(evs, "reward.outcome")[1], of_type(evs, "reward.event")[1]):
        assert abs(e["timestamp_unix_us"] - e["timestamp_us"] - anchor_us) < 50_000
        assert abs(e["timestamp_us"] - time.monotonic_ns() // 1000) < 60_000_000


def test_step_context_manager_json_content_and_the_text_policy(sink):
    with vt.Session(session_id="py-trace-2", text_policy=vt.TextPolicy.INCLUDE) as s, \
            vt.Session(session_id="py-trace-2r") as redacted:
        with s.step("lookup", metadata={"tool": "orders"}) as step_id:
            assert step_id == "lookup"
            s.record_message("tool", {"order": 42, "items": ["a", "b"]})  # a dict: kept as JSON
            s.record_message("tool", [1, 2])  # JSON, but not an object: kept as text
            s.record_event_reward("speed", -0.25, annotation='{"ms": 950}')
        s.record_message("user", "between steps")
        with pytest.raises(RuntimeError):
            with s.step("failing"):
                raise RuntimeError("the block's own error")
        with pytest.raises(vt.NotFoundError):  # the block's exit ended it
            s.step_end("failing")
        with pytest.raises(vt.NotFoundError):
            with s.step("outer"):
                with s.step("inner"):
                    s.step_end("outer")  # ends "inner" too: its own exit finds nothing to end
        redacted.record_message("user", "my card is 4111")
    evs = sink.events("py-trace-2")
    assert [(e["event_type"], e["data"].get("step_id")) for e in evs if e["event_type"] != "session.start"
            and e["event_type"] != "session.end"] == [
        ("step.start", "lookup"), ("message", "lookup"), ("message", "lookup"), ("reward.event", "lookup"),
        ("step.end", "lookup"), ("message", None), ("step.start", "failing"), ("step.end", "failing"),
        ("step.start", "outer"), ("step.start", "inner"), ("step.end", "inner"), ("step.end", "outer"),
    ]
    compact = '{"order":42,"items":["a","b"]}'
    m = of_type(evs, "message")
    assert m[0]["data"] == {"role": "tool", "step_id": "lookup", "content_type": "json",
                            "content": {"order": 42, "items": ["a", "b"]}, "chars": len(compact),
                            "redacted": False, "truncated": False, "metadata": None}
    assert (m[1]["data"]["content_type"], m[1]["data"]["content"]) == ("text", "[1,2]")
    assert of_type(evs, "step.start")[0]["data"]["metadata"] == {"tool": "orders"}
    assert of_type(evs, "reward.event")[0]["data"] == {
        "objective_key": "speed", "value": -0.25, "reward_type": None, "source": None,
        "step_id": "lookup", "annotation": {"ms": 950}}
    # Under the default policy a message keeps only its length.
    (r,) = of_type(sink.events("py-trace-2r"), "message")
    assert r["data"] == {"role": "user", "step_id": None, "content_type": "text", "content": None,
                         "chars": 15, "redacted": True, "truncated": False, "metadata": None}


# ---- bad input: the library's answer, with its message ---------------------------------------------


def test_bad_session_config_raises_with_the_library_message():
    with pytest.raises(vt.InvalidArgumentError, match="metadata_json is not a valid JSON object"):
        vt.Session(metadata=[1, 2])
    with pytest.raises(vt.InvalidArgumentError, match="metadata_json is not a valid JSON object"):
        vt.Session(metadata="not json")
    with pytest.raises(vt.InvalidArgumentError, match="longer than 2048 bytes"):
        vt.Session(metadata={"a": "x" * R.VT_MAX_METADATA_BYTES})
    for bad in ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
                "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", ""):
        with pytest.raises(vt.InvalidArgumentError, match="traceparent") as info:
            vt.Session(traceparent=bad)
        assert info.value.code == R.VT_E_INVALID_ARG
    with pytest.raises(vt.InvalidArgumentError, match="clock 2"):
        vt.Session(clock=2)
    with pytest.raises(vt.InvalidArgumentError, match="not JSON-serialisable"):  # the binding's own
        vt.Session(metadata={"x": float("nan")})


def test_bad_trace_arguments_raise_with_the_library_message():
    s = vt.Session()
    with pytest.raises(vt.InvalidArgumentError, match=r"step_id 'turn-3' has the form of a turn's step"):
        s.step_start("turn-3")
    with pytest.raises(vt.InvalidArgumentError):
        s.step_start("")
    with pytest.raises(vt.InvalidArgumentError, match="not a valid JSON object"):
        s.step_start("a", "not json")
    with pytest.raises(vt.NotFoundError):
        s.step_end("never-opened")
    for i in range(R.VT_MAX_OPEN_STEPS):
        s.step_start(f"s{i}")
    with pytest.raises(vt.InvalidArgumentError, match="step 's0' is open already"):
        s.step_start("s0")
    with pytest.raises(vt.LimitError, match="VT_MAX_OPEN_STEPS"):
        s.step_start("one-more")
    s.step_end("s0")  # ends all 16
    s.step_start("one-more")
    with pytest.raises(vt.InvalidArgumentError, match="role 'robot'"):
        s.record_message("robot", "hi")
    with pytest.raises(vt.InvalidArgumentError):
        s.record_message("user", b"\xff")  # not UTF-8: the library's check
    with pytest.raises(vt.InvalidArgumentError, match="content must be a str"):
        s.record_message("user", 42)  # type: ignore[arg-type]
    with pytest.raises(vt.InvalidArgumentError):
        s.record_outcome_reward("k", math.nan)
    with pytest.raises(vt.InvalidArgumentError):
        s.record_event_reward("", 1)
    with pytest.raises(vt.InvalidArgumentError, match="achievements_count"):
        s.record_outcome_reward("k", 1, 1 << 32)
    with pytest.raises(vt.InvalidArgumentError):
        vt.record_outcome_reward_for("", "k", 1)
    with pytest.raises(vt.InvalidArgumentError):
        vt.record_event_reward_for("x" * (R.VT_MAX_SESSION_ID_BYTES + 1), None, "k", 1)
    with pytest.raises(vt.InvalidArgumentError, match="t_ns"):
        s.end(t_ns=-1)
    assert not s.ended  # a refused argument does not end the session
    s.end()
    with pytest.raises(vt.BadHandleError):
        s.step_start("late")
    with pytest.raises(vt.BadHandleError):
        s.record_message("user", "late")
    with pytest.raises(vt.BadHandleError):
        s.record_outcome_reward("late", 1)


def test_against_a_1_0_library_the_new_calls_raise_not_found(monkeypatch):
    """Functions newer than the loaded library are None in the raw layer; the idiomatic calls say
    so (NotFoundError) instead of crashing, and a 1.0 library is never handed 1.1 fields it would
    silently ignore."""
    import voicetelemetry.session as session_module

    with vt.Session() as s:
        monkeypatch.setattr(R, "vt_step_start", None)
        monkeypatch.setattr(R, "vt_end_session_at", None)
        monkeypatch.setattr(session_module, "_record_usage_at", None)
        with pytest.raises(vt.NotFoundError, match="vt_step_start needs libvoicetelemetry 1.1"):
            s.step_start("a")
        with pytest.raises(vt.NotFoundError, match="vt_record_usage_at needs"):
            s.record_usage(total=1, t_ns=5)
        s.record_usage(total=1)  # vt_record_usage is there
        with pytest.raises(vt.NotFoundError, match="vt_end_session_at needs"):
            s.end(t_ns=5)
        assert not s.ended
    monkeypatch.setattr(R, "VERSION_NUMBER", 1_000_000)
    with pytest.raises(vt.NotFoundError, match="clock, metadata and traceparent need"):
        vt.Session(clock=vt.Clock.MEDIA)
    vt.Session().end()  # without them a 1.0 library would do


def test_a_message_too_long_for_an_event_is_refused():
    with vt.Session(text_policy=vt.TextPolicy.INCLUDE, max_text_chars=4096) as s:
        with pytest.raises(vt.LimitError):
            s.record_message("user", "a" * 4999)


def test_audio_batch_is_applied_before_a_trace_call(sink):
    """Like every other call, a trace call first applies the thread's pending batch events."""
    with vt.Session(session_id="py-trace-3", start_t_ns=1 * SEC) as s:
        with s.audio_batch() as b:
            s.record_vad_end(2 * SEC)
            b.append(640, 2 * SEC + 300 * MS)  # pending ...
            s.record_message("assistant", "hello", t_ns=2 * SEC + 400 * MS)  # ... applied first
            assert len(b) == 0
        assert s.snapshot()["last_response_latency_ms"] == 300


# ---- the README's section, run with the sink loaded ------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_traces_block_runs_and_its_events_are_as_shown(sink, monkeypatch, capsys):
    """README "Steps, messages, rewards and the session's clock": the block runs as written, prints
    what it promises, and the sink gets the events the README lists (data fragments around "…")."""
    text = README.read_text("utf-8")
    section = text.split("## Steps, messages, rewards and the session's clock", 1)[1].split("\n## ", 1)[0]
    code, rest = section.split("```python\n", 1)[1].split("\n```\n", 1)
    shown = re.search(r"```\n(.*?)```", rest, re.S).group(1)  # the next block: the events
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    for line in code.splitlines():
        if "# -> " in line:
            assert line.split("# -> ", 1)[1].strip() in printed
    evs = sink.events("call-9")  # flushed: every line is in the file
    mine = [line for line in sink.out.read_text("utf-8").splitlines()
            if json.loads(line)["session_id"] == "call-9"]
    want = [line.split(None, 1) for line in shown.strip().splitlines()]
    assert [e["event_type"] for e in evs] == [t for t, _ in want]
    for line, (event_type, data) in zip(mine, want):
        got = line[line.index(',"data":') + 8:-1]
        parts = data.split("\u2026")
        assert got.startswith(parts[0]) and got.endswith(parts[-1]), (event_type, got)
        at = 0
        for part in parts:
            at = got.find(part, at)
            assert at >= 0, (event_type, part, got)
            at += len(part)
