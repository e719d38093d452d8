"""The trace store read back from Python (voicetelemetry.traces): stores written by the real
sqlite_sink.so loaded into the library, then get_session's tree, a p95 across 20 sessions in SQL,
delete_session, the session filters, the cost columns of a priced call (and of a file of schema 2
migrated by the sink) and the command-line view, with exact values.

Every test unloads the plugin it loads and restores the event rate limit; events are delivered by
flush_events() before anything is read (no sleeps).
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R
from voicetelemetry.traces import Message, TraceStore, main, waterfall
from voicetelemetry.turns import ToolKind, TurnMark, TurnStage, TurnValueKey

REPO = Path(__file__).resolve().parents[2]
SEC = 1_000_000_000
MS = 1_000_000

# The 20-session latency set: e2e ms per session; even sessions on openai, odd on anthropic.
E2E_MS = [410, 530, 620, 380, 720, 450, 900, 610, 505, 470, 1500, 640, 560, 430, 1210, 700, 515, 690, 580, 850]

# p95 by nearest rank (rank = ceil(0.95 n)) per LLM provider, as docs/trace-schema.md writes it.
P95_BY_PROVIDER = """
WITH ranked AS (
  SELECT llm_provider, e2e_ns,
         row_number() OVER (PARTITION BY llm_provider ORDER BY e2e_ns) AS rn,
         count(*) OVER (PARTITION BY llm_provider) AS n
  FROM turns WHERE e2e_ns IS NOT NULL)
SELECT llm_provider, e2e_ns / 1000000 AS p95_ms FROM ranked WHERE rn = (n * 95 + 99) / 100
ORDER BY llm_provider
"""


@pytest.fixture(scope="session")
def sqlite_sink_so(tmp_path_factory) -> Path:
    """build/plugins/sqlite_sink.so (make plugins), or compiled from its source."""
    built = REPO / "build" / "plugins" / "sqlite_sink.so"
    if built.is_file():
        return built
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("sqlite_sink.so is not built and no C compiler is available")
    out = tmp_path_factory.mktemp("plugins") / "sqlite_sink.so"
    subprocess.run([cc, "-std=c99", "-O2", "-fPIC", "-shared", "-fvisibility=hidden", f"-I{REPO / 'include'}",
                    "-o", str(out), str(REPO / "examples-c" / "plugins" / "sqlite_sink.c"), "-lsqlite3"], check=True)
    out.chmod(0o755)
    return out


@pytest.fixture
def store_writer(sqlite_sink_so, tmp_path):
    """store_writer(name) -> (path, plugin): the sink loaded on a new file; unloaded after the test."""
    loaded = []
    vt.set_event_rate_limit(0)

    def load(name: str = "trace.db"):
        path = tmp_path / name
        plugin = vt.load_plugin(sqlite_sink_so, {"path": str(path)})
        loaded.append(plugin)
        return path, plugin

    yield load
    for p in loaded:
        if p.loaded:
            p.unload()
    vt.set_event_rate_limit(R.VT_DEFAULT_EVENT_RATE_LIMIT)


def user_turn(s: vt.Session, speech_start: int, speech_end: int, parts_ms) -> None:
    """Speech, then STT final, EOU end, LLM first token, TTS first byte, first audio, each
    parts_ms[i] after the one before (the e2e breakdown, exactly)."""
    t = speech_end
    s.record_vad_start(speech_start)
    s.turn_mark(TurnStage.STT, TurnMark.START, speech_start)
    s.record_vad_end(speech_end)
    s.turn_mark(TurnStage.EOU, TurnMark.START, speech_end)
    t += parts_ms[0] * MS
    s.turn_mark(TurnStage.STT, TurnMark.FINAL, t)
    t += parts_ms[1] * MS
    s.turn_mark(TurnStage.EOU, TurnMark.END, t)
    s.turn_mark(TurnStage.LLM, TurnMark.START, t)
    t += parts_ms[2] * MS
    s.turn_mark(TurnStage.LLM, TurnMark.FIRST, t)
    s.turn_mark(TurnStage.TTS, TurnMark.START, t)
    t += parts_ms[3] * MS
    s.turn_mark(TurnStage.TTS, TurnMark.FIRST, t)
    s.record_audio_out(640, t + parts_ms[4] * MS)


def seed_call(path_plugin) -> Path:
    """The seed's flow through the library's trace calls: a session with metadata, three turns (the
    second with a tool call inside an engine step, and a barge-in), messages, an event reward, an
    outcome reward, the end at 10 s, and a grader's outcome reward after the end."""
    path, plugin = path_plugin
    with vt.Session("seed-py", {"transport": "sip", "provider": "acme"}, SEC, text_policy=vt.TextPolicy.INCLUDE,
                    metadata={"customer": "c-17", "experiment": "A"}) as s:
        s.turn_provider(TurnStage.LLM, "openai", "gpt-4o-mini", SEC)
        s.record_message("system", "You are a helpful agent.", t_ns=1100 * MS)  # before any turn: no step
        user_turn(s, 1200 * MS, 2000 * MS, (100, 150, 200, 80, 20))
        s.record_message("user", "Where is my order?", t_ns=2100 * MS)
        s.record_message("assistant", "Let me check.", metadata={"voice": "ava"}, t_ns=2550 * MS)
        s.record_event_reward("helpfulness", 0.5, "sparse", "grader-v1", t_ns=3000 * MS)
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 4000 * MS)
        user_turn(s, 4100 * MS, 4500 * MS, (120, 100, 300, 90, 10))
        s.step_start("lookup", {"tool": "lookup_order"}, 4600 * MS)
        s.turn_tool_call(ToolKind.FUNCTION, "lookup_order", 4650 * MS, 4950 * MS, True)
        s.record_message("tool", {"order": "A-1", "eta_days": 2}, t_ns=4955 * MS)
        s.step_end("lookup", 4960 * MS)
        s.record_interruption(6000 * MS)
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 6040 * MS)
        user_turn(s, 6100 * MS, 7000 * MS, (90, 110, 250, 70, 30))
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 9000 * MS)
        s.record_outcome_reward("resolution", 0.75, 2, {"grader": "llm"}, t_ns=9500 * MS)
        s.end(10 * SEC)
    vt.record_outcome_reward_for("seed-py", "csat", 4.0, 1, {"grader": "human"})
    vt.flush_events()
    stats = plugin.stats()
    assert (stats.delivered, stats.plugin_reported_drops) == (stats.emitted, 0)
    plugin.unload()
    return path


def twenty_sessions(path_plugin) -> Path:
    path, plugin = path_plugin
    for i, e2e in enumerate(E2E_MS):
        # session i starts i ms after the previous one: "newest first" is then well defined on the wall
        # clock too (each session's anchor reads the two clocks apart, so equal starts can differ by a
        # few ns and straddle a microsecond either way)
        with vt.Session(f"p95-{i:02d}", {"transport": "sip" if i < 15 else "webrtc"}, SEC + i * MS) as s:
            s.turn_provider(TurnStage.LLM, "openai" if i % 2 == 0 else "anthropic", None, SEC)
            s.record_vad_start(1500 * MS)
            s.record_vad_end(2 * SEC)
            s.record_audio_out(640, 2 * SEC + e2e * MS)
    vt.flush_events()
    plugin.unload()
    return path


def test_get_session_returns_the_call(store_writer):
    path = seed_call(store_writer())
    with TraceStore(path) as store:
        t = store.get_session("seed-py")
        assert store.get_session("no-such-call") is None
    assert (t.session_id, t.labels, t.metadata, t.text_policy, t.clock, len(t.trace_id)) == (
        "seed-py", {"provider": "acme", "transport": "sip"}, {"customer": "c-17", "experiment": "A"}, "include",
        "monotonic", 32)
    assert (t.start_us, t.end_us, t.uptime_secs, t.turn_count, t.turns_interrupted, t.interruptions) == (
        1_000_000, 10_000_000, 9.0, 3, 1, 1)
    assert t.final_snapshot["session_id"] == "seed-py" and t.final_snapshot["turns"]["interrupted"] == 1
    assert [(s.step_id, s.kind, s.turn_number, s.start_us, s.end_us) for s in t.steps] == [
        ("turn-1", "turn", 1, 1_200_000, 4_000_000), ("turn-2", "turn", 2, 4_100_000, 6_040_000),
        ("lookup", "engine", None, 4_600_000, 4_960_000), ("turn-3", "turn", 3, 6_100_000, 9_000_000)]
    assert t.step("lookup").metadata == {"tool": "lookup_order"}
    assert [(u.turn_number, u.outcome, u.interrupted, u.e2e_ns) for u in t.turns] == [
        (1, "completed", False, 550 * MS), (2, "interrupted", True, 620 * MS), (3, "completed", False, 550 * MS)]
    assert t.turns[1].breakdown_ns == {"stt": 120 * MS, "eou": 100 * MS, "llm_ttft": 300 * MS, "tts_ttfb": 90 * MS,
                                       "realtime": 0, "remainder": 10 * MS}
    assert (t.turns[1].llm_provider, t.turns[1].llm_model, t.turns[1].record["tool_calls_total"]) == (
        "openai", "gpt-4o-mini", 1)
    call = t.turns[1].tool_calls[0]
    assert (call.name, call.kind, call.ok, call.step_id, call.duration_ns) == (
        "lookup_order", "function", True, "turn-2", 300 * MS)
    assert t.step("turn-2").turn is t.turns[1]
    assert [(m.role, m.step_id, m.content_type, m.content, m.chars) for m in t.messages] == [
        ("system", None, "text", "You are a helpful agent.", 24), ("user", "turn-1", "text", "Where is my order?", 18),
        ("assistant", "turn-1", "text", "Let me check.", 13),
        ("tool", "lookup", "json", {"order": "A-1", "eta_days": 2}, 28)]
    assert t.messages[2] == Message(id=t.messages[2].id, event_id=t.messages[2].event_id, session_id="seed-py",
                                    step_id="turn-1", role="assistant", content_type="text", content="Let me check.",
                                    chars=13, redacted=False, truncated=False, metadata={"voice": "ava"},
                                    t_us=2_550_000, unix_us=t.messages[2].unix_us)
    assert [m.role for m in t.step("turn-1").messages] == ["user", "assistant"]
    assert [(w.objective_key, w.value, w.reward_type, w.source, w.step_id, w.t_us)
            for w in t.step("turn-1").event_rewards] == [("helpfulness", 0.5, "sparse", "grader-v1", "turn-1", 3_000_000)]
    assert [(w.objective_key, w.total_reward, w.achievements_count, w.total_steps, w.annotation)
            for w in t.outcome_rewards] == [("resolution", 0.75, 2, 4, {"grader": "llm"}),
                                            ("csat", 4.0, 1, None, {"grader": "human"})]
    types = sorted(e.event_type for e in t.events)
    assert types == ["interruption", "message", "message", "message", "message", "reward.event", "reward.outcome",
                     "reward.outcome", "session.end", "session.start", "step.end", "step.start", "turn.complete",
                     "turn.complete", "turn.complete"]
    assert [e.event_type for e in t.step("turn-2").events] == ["turn.complete"]
    # the wall clock: the session's anchor plus the session-clock time, exactly
    assert t.start_unix_us is not None and t.end_unix_us - t.start_unix_us == 9_000_000
    for s in t.steps:
        assert (s.start_unix_us, s.end_unix_us) == (t.start_unix_us + s.start_us - t.start_us,
                                                    t.start_unix_us + s.end_us - t.start_us), s.step_id
    for m in t.messages + t.event_rewards + t.outcome_rewards[:1]:
        assert m.unix_us == t.start_unix_us + m.t_us - t.start_us
    assert t.outcome_rewards[0].t_us == 9_500_000


def test_p95_across_twenty_sessions_in_sql(store_writer):
    path = twenty_sessions(store_writer())
    with TraceStore(path) as store:
        assert store.query(P95_BY_PROVIDER) == [{"llm_provider": "anthropic", "p95_ms": 850},
                                                {"llm_provider": "openai", "p95_ms": 1500}]
        # all 20: sorted, the 19th (ceil(0.95 * 20)) is 1210 ms; the 10th (p50) 580 ms
        overall = store.query("WITH r AS (SELECT e2e_ns, row_number() OVER (ORDER BY e2e_ns) AS rn,"
                              " count(*) OVER () AS n FROM turns)"
                              " SELECT (SELECT e2e_ns FROM r WHERE rn = (n * 95 + 99) / 100) / 1000000 AS p95,"
                              " (SELECT e2e_ns FROM r WHERE rn = (n * 50 + 99) / 100) / 1000000 AS p50"
                              " FROM r LIMIT 1")
        assert overall == [{"p95": 1210, "p50": 580}]
        assert store.query("SELECT count(*) AS n FROM turns WHERE e2e_ns > ?", (700 * MS,)) == [{"n": 5}]
        assert len(store.sessions()) == 20
        assert [s.session_id for s in store.sessions(label={"transport": "webrtc"})] == [
            "p95-19", "p95-18", "p95-17", "p95-16", "p95-15"]
        assert [s.session_id for s in store.sessions(label={"transport": "sip"}, limit=2)] == ["p95-14", "p95-13"]


def test_sessions_since_until_on_the_wall_clock(store_writer):
    path = twenty_sessions(store_writer())
    with TraceStore(path) as store:
        # the wall-clock start of session i: 2025-12-02 00:00:00 UTC + i minutes
        store.query("UPDATE sessions SET start_unix_us = 1764633600000000 + 60000000 *"
                    " CAST(substr(session_id, 5) AS INTEGER)")
        import datetime as dt
        since = dt.datetime(2025, 12, 2, 0, 5)
        until = dt.datetime(2025, 12, 2, 0, 8, tzinfo=dt.timezone.utc)
        assert [s.session_id for s in store.sessions(since=since, until=until)] == ["p95-07", "p95-06", "p95-05"]
        assert [s.session_id for s in store.sessions(since=1764633600 + 18 * 60)] == ["p95-19", "p95-18"]
        assert store.sessions(since=since, limit=1)[0].started == dt.datetime(2025, 12, 2, 0, 19,
                                                                              tzinfo=dt.timezone.utc)


def test_delete_session_removes_every_row(store_writer):
    path = seed_call(store_writer("both.db"))
    with TraceStore(path) as store:
        tables = ["sessions", "steps", "turns", "events", "messages", "tool_calls", "outcome_rewards",
                  "event_rewards"]

        def counts(sid):
            return [store.query(f"SELECT count(*) AS n FROM {t} WHERE session_id = ?", (sid,))[0]["n"]
                    for t in tables]

        assert counts("seed-py") == [1, 4, 3, 15, 4, 1, 2, 1]
        assert store.delete_session("seed-py") is True
        assert counts("seed-py") == [0] * 8
        assert store.get_session("seed-py") is None
        assert store.delete_session("seed-py") is False
        assert store.query("SELECT count(*) AS n FROM writers") == [{"n": 1}]


# ---- costs ----------------------------------------------------------------------------------------

PRICES = {"currency": "USD", "prices": [
    {"stage": "llm", "provider": "openai", "model": "gpt-4o-mini", "input": 0.15, "cached_input": 0.075, "output": 0.6},
    {"stage": "stt", "provider": "deepgram", "model": "nova-3", "per_minute": 0.0043},
    {"stage": "tts", "provider": "cartesia", "per_million_characters": 65},
    {"stage": "transport", "provider": "sip", "per_minute": 0.004}]}

# Worked out by hand from docs/cost.md (1 µ = 1e-6 USD; each amount rounded half up from its exact
# sum of 1e-12 units):
# turn 1: llm 800 x 0.15/M + 200 x 0.075/M + 120 x 0.6/M = 120 + 15 + 72 = 207 µ; stt 3 s x 0.0043/60 =
#   215 µ; tts cartesia 250 x 65/M = 16250 µ; total 16672 µ.
# turn 2: llm 500 x 0.15/M + 40 x 0.6/M = 99 µ; stt 1.25 s: 89.583333 µ -> 90; tts elevenlabs has no
#   entry: unpriced, 0; total 188.583333 -> 189 µ.
# turn 3: the table is cleared: no cost.
# the session (the table loaded again before its end): transport 9 s x 0.004/60 = 600 µ; stt 304.583333
#   -> 305, llm 306, tts 16250; total 17460.583333 -> 17461 µ; 1 unpriced charge.
TURN_COSTS = [(1, "USD", 16672, {"stt": 215, "llm": 207, "tts": 16250, "realtime": 0}, 0),
              (2, "USD", 189, {"stt": 90, "llm": 99, "tts": 0, "realtime": 0}, 1),
              (3, None, None, {"stt": None, "llm": None, "tts": None, "realtime": None}, None)]
SESSION_COST = ("USD", 17461, {"stt": 305, "llm": 306, "tts": 16250, "realtime": 0, "transport": 600}, 1)

# Cost per provider per day from the turns' columns, as docs/trace-schema.md writes it.
COST_BY_PROVIDER_AND_DAY = """
WITH parts (day, provider, currency, micros) AS (
  SELECT date(start_unix_us / 1000000, 'unixepoch'), stt_provider, cost_currency, cost_stt_micros FROM turns
  UNION ALL
  SELECT date(start_unix_us / 1000000, 'unixepoch'), llm_provider, cost_currency, cost_llm_micros FROM turns
  UNION ALL
  SELECT date(start_unix_us / 1000000, 'unixepoch'), tts_provider, cost_currency, cost_tts_micros FROM turns
  UNION ALL
  SELECT date(start_unix_us / 1000000, 'unixepoch'), realtime_provider, cost_currency, cost_realtime_micros
  FROM turns)
SELECT day, provider, currency, sum(micros) AS micros
FROM parts WHERE provider IS NOT NULL AND micros IS NOT NULL
GROUP BY day, provider, currency ORDER BY day, micros DESC, provider
"""

# The same from the sessions' final snapshots (usage_by_model, and transport by the transport label).
SESSION_COST_BY_PROVIDER_AND_DAY = """
WITH parts (day, provider, currency, micros) AS (
  SELECT date(s.start_unix_us / 1000000, 'unixepoch'), json_extract(u.value, '$.provider'), s.cost_currency,
         json_extract(u.value, '$.cost_micros')
  FROM sessions s, json_each(s.final_snapshot, '$.usage_by_model') u
  UNION ALL
  SELECT date(start_unix_us / 1000000, 'unixepoch'), json_extract(labels, '$.transport'), cost_currency,
         cost_transport_micros FROM sessions)
SELECT day, provider, currency, sum(micros) AS micros
FROM parts WHERE currency IS NOT NULL
GROUP BY day, provider, currency ORDER BY day, micros DESC, provider
"""


@pytest.fixture
def prices():
    """The price table above, cleared after the test."""
    vt.set_prices(PRICES)
    yield
    vt.set_prices(None)


def report_usage(s: vt.Session, usage: dict, stt_seconds: float, tts_characters: int, t_ns: int) -> None:
    s.turn_usage(TurnStage.LLM, t_ns=t_ns, **usage)
    s.turn_value(TurnValueKey.STT_AUDIO_SECONDS, stt_seconds, t_ns)
    s.turn_value(TurnValueKey.TTS_CHARACTERS, tts_characters, t_ns)


def priced_call(path_plugin) -> Path:
    """Three turns on a sip transport: priced token reports, STT seconds and TTS characters, an
    unpriced TTS provider in turn 2, the table cleared for turn 3, loaded again for the end."""
    path, plugin = path_plugin
    with vt.Session("priced-py", {"transport": "sip"}, SEC) as s:
        s.turn_provider(TurnStage.STT, "deepgram", "nova-3", SEC)
        s.turn_provider(TurnStage.LLM, "openai", "gpt-4o-mini", SEC)
        s.turn_provider(TurnStage.TTS, "cartesia", "sonic-2", SEC)
        user_turn(s, 1200 * MS, 2000 * MS, (100, 150, 200, 80, 20))
        report_usage(s, {"input": 1000, "cached_input": 200, "output": 120}, 3.0, 250, 2600 * MS)
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 4000 * MS)
        s.turn_provider(TurnStage.TTS, "elevenlabs", "flash-v2", 4050 * MS)
        user_turn(s, 4100 * MS, 4500 * MS, (120, 100, 300, 90, 10))
        report_usage(s, {"input": 500, "output": 40}, 1.25, 80, 5200 * MS)
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 6000 * MS)
        vt.set_prices(None)
        user_turn(s, 6100 * MS, 7000 * MS, (90, 110, 250, 70, 30))
        report_usage(s, {"input": 300, "output": 20}, 2.0, 100, 7600 * MS)
        s.turn_mark(TurnStage.AGENT_SPEECH, TurnMark.END, 9000 * MS)
        vt.set_prices(PRICES)
        s.end(10 * SEC)
    vt.flush_events()
    plugin.unload()
    return path


def turn_costs(trace):
    return [(t.turn_number, t.cost_currency, t.cost_total_micros, t.cost_micros, t.cost_unpriced_charges)
            for t in trace.turns]


def session_cost(info):
    return info.cost_currency, info.cost_total_micros, info.cost_micros, info.cost_unpriced_charges


def test_a_priced_call_has_its_costs_in_columns_and_fields(store_writer, prices):
    path = priced_call(store_writer())
    with TraceStore(path) as store:
        t = store.get_session("priced-py")
        assert turn_costs(t) == TURN_COSTS
        assert session_cost(t) == SESSION_COST
        assert session_cost(store.sessions()[0]) == SESSION_COST
        # the fields are the columns, and the columns what the records and the final snapshot say
        assert store.query("SELECT turn_number, cost_currency, cost_total_micros, cost_stt_micros, cost_llm_micros,"
                           " cost_tts_micros, cost_realtime_micros, cost_unpriced_charges FROM turns"
                           " ORDER BY turn_number") == [
            {"turn_number": n, "cost_currency": c, "cost_total_micros": total, "cost_unpriced_charges": u,
             **{f"cost_{p}_micros": m for p, m in parts.items()}} for n, c, total, parts, u in TURN_COSTS]
        assert t.turns[0].columns["cost_total_micros"] == 16672
        assert t.turns[1].record["cost"] == {"currency": "USD", "stt_micros": 90, "llm_micros": 99, "tts_micros": 0,
                                             "realtime_micros": 0, "total_micros": 189, "unpriced_charges": 1,
                                             "unpriced": ["tts:elevenlabs/flash-v2"]}
        assert t.turns[2].record["cost"] is None
        assert t.final_snapshot["cost"] == {"currency": "USD", "stt_micros": 305, "llm_micros": 306,
                                            "tts_micros": 16250, "realtime_micros": 0, "transport_micros": 600,
                                            "total_micros": 17461, "unpriced_charges": 1}


def test_cost_per_provider_per_day_in_sql(store_writer, prices):
    path = priced_call(store_writer())
    with TraceStore(path) as store:
        # turn 1 just before midnight UTC, turns 2 and 3 just after; the session started on the 2nd
        store.query("UPDATE turns SET start_unix_us = 1764719999000000 + 2000000 * (turn_number - 1)")
        store.query("UPDATE sessions SET start_unix_us = 1764719990000000")
        assert [tuple(r.values()) for r in store.query(COST_BY_PROVIDER_AND_DAY)] == [
            ("2025-12-02", "cartesia", "USD", 16250), ("2025-12-02", "deepgram", "USD", 215),
            ("2025-12-02", "openai", "USD", 207),
            ("2025-12-03", "openai", "USD", 99), ("2025-12-03", "deepgram", "USD", 90),
            ("2025-12-03", "elevenlabs", "USD", 0)]
        # exact per model (each row rounded once; turn 3's usage counted at no cost) and the transport
        assert [tuple(r.values()) for r in store.query(SESSION_COST_BY_PROVIDER_AND_DAY)] == [
            ("2025-12-02", "cartesia", "USD", 16250), ("2025-12-02", "sip", "USD", 600),
            ("2025-12-02", "openai", "USD", 306), ("2025-12-02", "deepgram", "USD", 305),
            ("2025-12-02", "elevenlabs", "USD", 0)]


def test_a_store_of_schema_2_is_migrated_by_the_sink_and_keeps_its_costs(store_writer, prices, sqlite_sink_so,
                                                                           tmp_path):
    """A file the v2 sink wrote (built from its DDL, holding the records and final snapshot of the
    priced call as that sink stored them) reads back with the same costs once the sink has opened it."""
    new = priced_call(store_writer())
    old = tmp_path / "v2.db"
    con = sqlite3.connect(old)
    con.executescript((REPO / "tests" / "trace_store" / "schema_v2.sql").read_text())
    con.executescript(f"PRAGMA application_id = {0x76745472}; PRAGMA user_version = 2;")
    con.execute("ATTACH DATABASE ? AS new", (str(new),))
    con.execute("INSERT INTO sessions (session_id, labels, start_us, end_us, final_snapshot)"
                " SELECT session_id, labels, start_us, end_us, final_snapshot FROM new.sessions")
    con.execute("INSERT INTO turns (session_id, turn_number, step_id, outcome, llm_provider, record)"
                " SELECT session_id, turn_number, step_id, outcome, llm_provider, record FROM new.turns")
    con.commit()
    con.execute("DETACH DATABASE new")
    con.close()
    with pytest.raises(ValueError, match="has trace schema version 2: load sqlite_sink.so on it once"):
        TraceStore(old)
    vt.load_plugin(sqlite_sink_so, {"path": str(old)}).unload()
    with TraceStore(old) as store:
        assert store.query("PRAGMA user_version") == [{"user_version": 3}]
        t = store.get_session("priced-py")
        assert turn_costs(t) == TURN_COSTS
        assert session_cost(t) == SESSION_COST


def test_refuses_what_is_not_a_trace_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trace store at"):
        TraceStore(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValueError, match=r"is not a voicetelemetry trace store \(application_id 0\)"):
        TraceStore(other)
    for version, message in ((1, "has trace schema version 1: load sqlite_sink.so on it once to migrate it to 3"),
                             (2, "has trace schema version 2: load sqlite_sink.so on it once to migrate it to 3"),
                             (4, "has trace schema version 4, newer than this module's 3")):
        db = tmp_path / f"v{version}.db"
        con = sqlite3.connect(db)
        con.executescript((REPO / "tests" / "trace_store" / "schema_v1.sql").read_text())
        con.executescript(f"PRAGMA application_id = {0x76745472}; PRAGMA user_version = {version};")
        con.close()
        with pytest.raises(ValueError, match=re.escape(message)):
            TraceStore(db)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some notes that are long enough\n" * 4)
    with pytest.raises(ValueError, match="is not an SQLite database"):
        TraceStore(text)


def test_waterfall_scales_each_part():
    parts = {"stt": 100, "eou": 150, "llm_ttft": 200, "tts_ttfb": 80, "realtime": 0, "remainder": 20}
    assert waterfall(parts, 550, 55) == "S" * 10 + "E" * 15 + "L" * 20 + "T" * 8 + "." * 2
    assert waterfall(parts, 1100, 55) == "S" * 5 + "EEEEEEEE" + "L" * 10 + "TTTT" + "."  # half the scale
    assert waterfall({}, 0, 40) == ""


def _masked(text: str) -> str:
    """The CLI's output with the wall-clock start (the machine's clock) masked."""
    return re.sub(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "START", text)


SESSION_VIEW = f"""\
session seed-py   START   9.0 s   text policy include
labels    provider=acme transport=sip
metadata  {{"customer": "c-17", "experiment": "A"}}

TURN  OUTCOME      E2E ms  STT  EOU  LLM  TTS  RT  REST  LLM PROVIDER  TOOLS
   1  completed       550  100  150  200   80   0    20  openai        -
   2  interrupted     620  120  100  300   90   0    10  openai        lookup_order
   3  completed       550   90  110  250   70   0    30  openai        -

latency waterfall, anchor (user stopped) to first agent audio, 0 .. 620 ms:
S stt  E end of utterance  L llm first token  T tts first byte  R realtime  . rest
   1    550 ms |{"S" * 10}{"E" * 15}{"L" * 20}{"T" * 8}{"." * 2}
   2    620 ms |{"S" * 12}{"E" * 10}{"L" * 30}{"T" * 9}{"." * 1}
   3    550 ms |{"S" * 9}{"E" * 11}{"L" * 25}{"T" * 7}{"." * 3}

conversation (seconds since the start, step, role, content):
   +0.100  -         system     You are a helpful agent.
   +1.100  turn-1    user       Where is my order?
   +1.550  turn-1    assistant  Let me check.
   +3.955  lookup    tool       {{"order":"A-1","eta_days":2}}

4 steps   4 messages   15 events   outcome resolution=0.75   outcome csat=4   reward helpfulness=0.5 (turn-1)
"""


def test_cli_prints_a_session_and_the_list(store_writer, capsys, monkeypatch):
    path = seed_call(store_writer())
    monkeypatch.setenv("COLUMNS", "78")  # 62 columns of waterfall for the slowest turn (620 ms)
    assert main([str(path), "seed-py"]) == 0
    assert _masked(capsys.readouterr().out) == SESSION_VIEW
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: 1 session"
    assert out[2].split() == ["SESSION", "STARTED", "(UTC)", "SECONDS", "TURNS", "BARGE-INS", "E2E", "P50", "ms",
                              "E2E", "P95", "ms", "COST", "LABELS"]
    row = out[3].split()
    assert row[0] == "seed-py" and row[-8:] == ["9.0", "3", "1", "550", "620", "-", "provider=acme", "transport=sip"]
    assert main([str(path), "nobody"]) == 1
    assert capsys.readouterr().err == f"traces: no session 'nobody' in {path}\n"
    assert main([]) == 2


def test_cli_shows_a_priced_call_s_cost(store_writer, prices, capsys):
    path = priced_call(store_writer())
    assert main([str(path), "priced-py"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == ["labels    transport=sip", "cost      0.017461 USD (stt 0.000305, llm 0.000306, tts 0.016250,"
                                                          " transport 0.000600), 1 unpriced charge"]
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[3].split()[-4:] == ["620", "0.017461", "USD", "transport=sip"]
