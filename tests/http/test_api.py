"""The JSON API: /api/v1/sessions, /api/v1/sessions/{id}, /api/v1/sessions/{id}/turns, with the exact
values of scripted turns (explicit timestamps on a media clock)."""
from __future__ import annotations

import time
import urllib.parse

from conftest import MS, get

START = 1000 * MS


def script_call(engine, sid, text_policy="redact", turns=3, **kw):
    """A session with `turns` completed turns 10 s apart; returns the expected Turn records."""
    engine.session(sid, labels={"transport": "webrtc"}, start_t_ns=START, text_policy=text_policy, clock="media", **kw)
    out = []
    for i in range(turns):
        t = engine.turn(sid, START + (5 + 10 * i) * 1000 * MS, stt_ms=100 + i, eou_ms=50 + i, llm_ms=300 + 10 * i,
                        tts_ms=80 + i, remainder_ms=20 + i, transcript=f"turn {i} of {sid}")
        out.append(t)
    return out


def test_sessions_lists_the_open_sessions_with_their_turn_counts_and_last_e2e(engine):
    before = time.monotonic_ns()
    a = script_call(engine, "call-a", turns=3)
    script_call(engine, "call-b", turns=1)
    engine.session("call-c")  # no turn yet
    r = get(engine.port, "/api/v1/sessions")
    elapsed = time.monotonic_ns() - before
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.body)
    got = r.json()
    assert [s["session_id"] for s in got] == ["call-a", "call-b", "call-c"]
    first = got[0]
    assert first["labels"] == {"transport": "webrtc"}
    assert first["turns_completed"] == 3 and first["turns_interrupted"] == 0
    assert first["last_e2e_ns"] == a[-1].e2e_ns == (102 + 52 + 320 + 82 + 22) * MS
    assert got[2]["last_e2e_ns"] is None and got[2]["turns_completed"] == 0
    # uptime runs on real time (the media clock advances with CLOCK_MONOTONIC): it lies between 0 and
    # the time this test took since the session was created
    assert 0 <= first["uptime_ns"] <= elapsed
    assert len(first["trace_id"]) == 32


def test_an_ended_session_leaves_the_list_and_its_paths_answer_404(engine):
    script_call(engine, "call-a", turns=1)
    script_call(engine, "call-b", turns=1)
    engine.end("call-a", START + 60_000 * MS)
    assert [s["session_id"] for s in get(engine.port, "/api/v1/sessions").json()] == ["call-b"]
    for path in ("/api/v1/sessions/call-a", "/api/v1/sessions/call-a/turns"):
        r = get(engine.port, path)
        assert (r.status, r.json()) == (404, {"error": "no open session with this id"})
    assert get(engine.port, "/api/v1/sessions/never-opened").status == 404


def test_sessions_is_an_empty_array_when_no_session_is_open(engine):
    r = get(engine.port, "/api/v1/sessions")
    assert (r.status, r.body) == (200, b"[]")


def test_session_snapshot_has_the_turns_of_the_script(engine):
    a = script_call(engine, "call-a", turns=3)
    r = get(engine.port, "/api/v1/sessions/call-a")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    snap = r.json()
    assert snap["session_id"] == "call-a" and snap["labels"] == {"transport": "webrtc"}
    turns = snap["turns"]
    assert (turns["completed"], turns["interrupted"], turns["open"]) == (3, 0, False)
    assert turns["last"]["turn_id"] == 3
    assert turns["last"]["e2e_latency_ns"] == a[2].e2e_ns
    assert turns["last"]["e2e_breakdown_ns"] == a[2].parts
    e2e = turns["stages"]["e2e_latency_ns"]
    assert (e2e["count"], e2e["p50"], e2e["p95"]) == (3, a[1].e2e_ns, a[2].e2e_ns)
    assert snap["audio_chunks_out"] == 6 and snap["audio_bytes_out"] == 6 * 640


def test_turns_returns_the_history_oldest_first_and_limit_keeps_the_latest(engine):
    a = script_call(engine, "call-a", turns=3)
    hist = get(engine.port, "/api/v1/sessions/call-a/turns").json()
    assert [t["turn_id"] for t in hist] == [1, 2, 3]
    for t, want in zip(hist, a):
        assert t["anchor_ns"] == want.t0
        assert t["e2e_latency_ns"] == want.e2e_ns
        assert t["e2e_breakdown_ns"] == want.parts
        assert sum(t["e2e_breakdown_ns"].values()) == want.e2e_ns
        assert (t["llm"]["first_token_ns"], t["tts"]["first_byte_ns"]) == (want.llm_first_ns, want.tts_first_ns)
        assert t["agent_speech"] == {"start_ns": want.first_audio_ns, "end_ns": want.end_ns,
                                     "duration_ns": want.end_ns - want.first_audio_ns}
    assert [t["turn_id"] for t in get(engine.port, "/api/v1/sessions/call-a/turns?limit=2").json()] == [2, 3]
    assert [t["turn_id"] for t in get(engine.port, "/api/v1/sessions/call-a/turns?limit=1").json()] == [3]
    assert len(get(engine.port, "/api/v1/sessions/call-a/turns?limit=0").json()) == 3
    assert len(get(engine.port, "/api/v1/sessions/call-a/turns?limit=1024&other=x").json()) == 3


def test_turn_history_is_bounded_by_the_sessions_turn_history(engine):
    script_call(engine, "call-a", turns=4, turn_history=2)
    assert [t["turn_id"] for t in get(engine.port, "/api/v1/sessions/call-a/turns").json()] == [3, 4]


def test_a_bad_limit_is_400(engine):
    script_call(engine, "call-a", turns=1)
    for q in ("limit=-1", "limit=1025", "limit=abc", "limit=", "limit=1&limit=2", "limit=99999", "limit=1.5",
              "limit=%31"):
        r = get(engine.port, "/api/v1/sessions/call-a/turns?" + q)
        assert (r.status, r.json()) == (400, {"error": "limit must be an integer from 0 to 1024"}), q


def test_transcripts_appear_only_for_sessions_that_include_texts(engine):
    script_call(engine, "open-call", text_policy="include", turns=1)
    script_call(engine, "private-call", text_policy="redact", turns=1)
    shown = get(engine.port, "/api/v1/sessions/open-call/turns").json()[0]["texts"]["user_transcript"]
    hidden = get(engine.port, "/api/v1/sessions/private-call/turns").json()[0]["texts"]["user_transcript"]
    assert shown["text"] == "turn 0 of open-call" and shown["chars"] == len("turn 0 of open-call")
    assert "text" not in hidden and hidden["redacted"] is True and hidden["chars"] == len("turn 0 of private-call")
    assert b"turn 0 of private-call" not in get(engine.port, "/api/v1/sessions/private-call").body


def test_session_ids_are_percent_decoded(engine):
    ids = ["call with space", "sip:+4930/123?x#y", "caf\u00e9-\u260e", "100%"]
    for sid in ids:
        script_call(engine, sid, turns=1)
    for sid in ids:
        enc = urllib.parse.quote(sid, safe="")
        r = get(engine.port, f"/api/v1/sessions/{enc}")
        assert r.status == 200 and r.json()["session_id"] == sid
        r = get(engine.port, f"/api/v1/sessions/{enc}/turns")
        assert r.status == 200 and r.json()[0]["session_id"] == sid
    # unencoded characters that are legal in a path need no encoding
    assert get(engine.port, "/api/v1/sessions/call%20with%20space").status == 200


def test_bad_session_paths(engine):
    script_call(engine, "call-a", turns=1)
    cases = {
        "/api/v1/sessions/%zz": (400, "bad percent-encoding in the session id"),
        "/api/v1/sessions/%4": (400, "bad percent-encoding in the session id"),
        "/api/v1/sessions/a%00b": (400, "bad percent-encoding in the session id"),
        "/api/v1/sessions/%ff%fe": (400, "not a valid session id"),  # not UTF-8
        "/api/v1/sessions/" + "x" * 300: (400, "not a valid session id"),  # longer than the library allows
        "/api/v1/sessions/": (404, "no such path"),
        "/api/v1/sessions/call-a/": (404, "no such path"),
        "/api/v1/sessions/call-a/turns/": (404, "no such path"),
        "/api/v1/sessions/call-a/snapshot": (404, "no such path"),
        "/api/v1/sessions//turns": (404, "no such path"),
        "/api/v1/sessions/..%2f..%2fetc%2fpasswd": (404, "no open session with this id"),
    }
    for path, (status, msg) in cases.items():
        r = get(engine.port, path)
        assert (r.status, r.json()) == (status, {"error": msg}), path
