"""Span trees from the real library: the turn scenarios of tests/scenarios/turns replayed through the
Python binding with otlp_sink.so loaded, decoded by opentelemetry-proto in a loopback receiver.
Times are on the scenario's scripted clock (the tree helper subtracts the session's anchor)."""
from __future__ import annotations

import pytest

from conftest import (SCENARIOS, attrs, captured_events, otlp_plugin, play, session_offset, tree, vt)

S = 1_000_000_000


def run(so, receiver, tmp_path, names, **cfg):
    """Plays the scenarios; returns (spans, events, session ids)."""
    with otlp_plugin(so, receiver.endpoint, tmp_path, **cfg):
        with captured_events(tmp_path) as events:
            sids = [play(SCENARIOS / f"{n}.txt") for n in names]
            vt.flush_events(5.0)
    spans = [s for _, s in receiver.spans()]
    return spans, events, sids


def of_session(spans, sid):
    root = next(s for s in spans if s.parent_span_id in (b"",) and attrs(s).get("gen_ai.conversation.id") == sid)
    return [s for s in spans if s.trace_id == root.trace_id]


def session_end(events, sid):
    """The root's end on the session clock: session.end's data end_ns when the core sends it, else its
    envelope time."""
    end = next(e for e in events if e["event_type"] == "session.end" and e["session_id"] == sid)
    return end["data"].get("end_ns", end["timestamp_us"] * 1000)


CASCADED_TREE = [
    ("invoke_agent", 1 * S, 5 * S, [
        ("speech_to_text nova-3", 1 * S, 2_150_000_000, []),
        ("user_speech", 1 * S, 2 * S, []),
        ("end_of_utterance", 2_150_000_000, 2_250_000_000, []),
        ("chat gpt-4o", 2_250_000_000, 2_900_000_000, [("time_to_first_token", 2_250_000_000, 2_550_000_000, [])]),
        ("text_to_speech sonic", 2_560_000_000, 3_200_000_000,
         [("time_to_first_byte", 2_560_000_000, 2_700_000_000, [])]),
        ("agent_speech", 2_750_000_000, 5 * S, []),
    ]),
]


def test_cascaded_tree_exact(so, receiver, tmp_path):
    spans, events, (sid,) = run(so, receiver, tmp_path, ["cascaded"])
    mine = of_session(spans, sid)
    off = session_offset(spans, events, sid)
    assert tree(mine, off) == [("voice_session", 1000, session_end(events, sid), CASCADED_TREE)]
    assert len({s.trace_id for s in mine}) == 1 and len({s.span_id for s in mine}) == len(mine) == 10
    by = {s.name: s for s in mine}
    root, turn = by["voice_session"], by["invoke_agent"]
    assert root.parent_span_id == b"" and turn.parent_span_id == root.span_id
    start = next(e for e in events if e["event_type"] == "session.start" and e["session_id"] == sid)["data"]
    clock = {"voicetelemetry.session.clock": start["clock"]} if "clock" in start else {}  # library 1.1
    assert attrs(root) == {
        "gen_ai.conversation.id": "cascaded-1", "voicetelemetry.session.text_policy": "include",
        "voicetelemetry.label.transport": "cascaded", "voicetelemetry.session.interruptions": 0,
        "voicetelemetry.session.audio_bytes_out": 0, "voicetelemetry.session.response_count": 0,
        "voicetelemetry.session.out_of_order_events": 0, "voicetelemetry.session.turns.completed": 1,
        "voicetelemetry.session.turns.interrupted": 0, "voicetelemetry.session.turns.discarded": 0, **clock}
    if "trace_id" in start:  # library 1.1: the trace id the snapshot shows is the trace's
        assert root.trace_id.hex() == start["trace_id"] and root.parent_span_id == b""
    assert attrs(turn) == {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "cascaded-1",
        "voicetelemetry.turn.id": 1, "voicetelemetry.turn.outcome": "completed",
        "voicetelemetry.turn.completed_by": "agent_speech_end", "voicetelemetry.turn.anchor": "user_speech_end",
        "voicetelemetry.turn.e2e_latency_ns": 750_000_000, "voicetelemetry.turn.quality_flags": 0,
        "voicetelemetry.turn.quality": [], "voicetelemetry.turn.tool_calls_total": 0,
        "voicetelemetry.turn.fallbacks_total": 0,
        "voicetelemetry.turn.breakdown.stt_ns": 150_000_000, "voicetelemetry.turn.breakdown.eou_ns": 100_000_000,
        "voicetelemetry.turn.breakdown.llm_ttft_ns": 300_000_000,
        "voicetelemetry.turn.breakdown.tts_ttfb_ns": 150_000_000, "voicetelemetry.turn.breakdown.realtime_ns": 0,
        "voicetelemetry.turn.breakdown.remainder_ns": 50_000_000,
        "voicetelemetry.playback.tts_characters_generated": 12, "voicetelemetry.playback.audio_bytes_sent": 0,
        "voicetelemetry.turn.interrupted": False,
        "voicetelemetry.turn.user_transcript_chars": 20, "voicetelemetry.pii.user_transcript": "What is the weather?",
        "voicetelemetry.turn.agent_response_chars": 12, "voicetelemetry.pii.agent_response": "It is sunny."}
    assert attrs(by["speech_to_text nova-3"]) == {
        "gen_ai.provider.name": "deepgram", "gen_ai.request.model": "nova-3", "voicetelemetry.stt.interim_count": 2,
        "voicetelemetry.stt.latency_ns": 150_000_000, "voicetelemetry.stt.duration_ns": 1_150_000_000,
        "voicetelemetry.stt.confidence": 0.5}
    assert [(e.name, e.time_unix_nano - off) for e in by["speech_to_text nova-3"].events] == [
        ("first_interim", 1_200_000_000), ("final", 2_150_000_000)]
    assert attrs(by["end_of_utterance"]) == {"voicetelemetry.eou.delay_ns": 100_000_000,
                                             "voicetelemetry.eou.probability": 0.75}
    assert attrs(by["chat gpt-4o"]) == {
        "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o", "gen_ai.operation.name": "chat",
        "voicetelemetry.llm.ttft_ns": 300_000_000, "voicetelemetry.llm.duration_ns": 650_000_000,
        "gen_ai.response.time_to_first_chunk": 0.3, "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20, "gen_ai.usage.cache_read.input_tokens": 10,
        "voicetelemetry.tokens.input": 100, "voicetelemetry.tokens.output": 20,
        "voicetelemetry.tokens.cached_input": 10}
    assert attrs(by["text_to_speech sonic"]) == {
        "gen_ai.provider.name": "cartesia", "gen_ai.request.model": "sonic", "voicetelemetry.tts.ttfb_ns": 140_000_000,
        "voicetelemetry.tts.duration_ns": 640_000_000, "voicetelemetry.tts.characters": 12}
    assert by["chat gpt-4o"].kind == 3 and turn.kind == 1  # CLIENT, INTERNAL
    # the session's other events (here the core's transcript messages, when it sends them) are events
    # of the root, their texts under voicetelemetry.pii.*
    others = [e for e in events if e["session_id"] == sid and e["event_type"] not in
              ("session.start", "session.end", "turn.complete", "telemetry.health")]
    pii = lambda k: "voicetelemetry.pii." + k if k in ("text", "transcript", "content") else k  # noqa: E731
    assert [(e.name, e.time_unix_nano - off, attrs(e)) for e in root.events] == [
        (e["event_type"], e["timestamp_us"] * 1000,
         {pii(k): v for k, v in e["data"].items() if v is not None and not isinstance(v, dict)}) for e in others]
    if others:
        assert [attrs(e)["voicetelemetry.pii.content"] for e in root.events] == ["What is the weather?", "It is sunny."]
    assert all(s.status.code == 0 for s in mine)
    res = receiver.spans()[0][0]
    ra = attrs(res)
    assert ra["service.name"] == "voicetelemetry" and ra["telemetry.sdk.name"] == "voicetelemetry.otlp_sink"


def test_cascaded_http_json_same_tree(so, receiver, tmp_path):
    spans, events, (sid,) = run(so, receiver, tmp_path, ["cascaded"], protocol="http/json", compression="none")
    assert {r.content_type for r in receiver.traces_requests()} == {"application/json"}
    assert {r.encoding for r in receiver.traces_requests()} == {""}
    mine = of_session(spans, sid)
    off = session_offset(spans, events, sid)
    assert tree(mine, off) == [("voice_session", 1000, session_end(events, sid), CASCADED_TREE)]
    chat = next(s for s in mine if s.name == "chat gpt-4o")
    assert attrs(chat)["gen_ai.usage.input_tokens"] == 100 and attrs(chat)["gen_ai.response.time_to_first_chunk"] == 0.3


def test_tools_kb_barge_in_realtime_fallback_trees(so, receiver, tmp_path):
    names = ["tools_kb", "barge_in", "realtime", "fallback"]
    spans, events, sids = run(so, receiver, tmp_path, names)
    ms = 1_000_000
    expected = {
        "tools-1": [("invoke_agent", 1 * S, 4 * S, [
            ("user_speech", 1 * S, 2 * S, []),
            ("chat", 2 * S, 2800 * ms, [("time_to_first_token", 2 * S, 2800 * ms, [])]),
            ("knowledge_base", 2010 * ms, 2110 * ms, []),
            ("execute_tool get_weather", 2200 * ms, 2450 * ms, []),
            ("execute_tool search_docs", 2460 * ms, 2500 * ms, []),
            ("agent_speech", 3 * S, 4 * S, [])])],
        "barge-1": [
            ("invoke_agent", 1 * S, 3300 * ms, [
                ("user_speech", 1 * S, 2 * S, []),
                ("chat", 2100 * ms, 2400 * ms, [("time_to_first_token", 2100 * ms, 2400 * ms, [])]),
                ("speech_to_text", 2100 * ms, 2100 * ms, []),
                ("text_to_speech", 2400 * ms, 2500 * ms, [("time_to_first_byte", 2400 * ms, 2500 * ms, [])]),
                ("agent_speech", 2600 * ms, 3300 * ms, []),
                ("interruption", 3 * S, 3300 * ms, [])]),
            ("invoke_agent", 3 * S, 5 * S, [
                ("user_speech", 3 * S, 3800 * ms, []),
                ("chat", 3900 * ms, 4100 * ms, [("time_to_first_token", 3900 * ms, 4100 * ms, [])]),
                ("speech_to_text", 3900 * ms, 3900 * ms, []),
                ("text_to_speech", 4100 * ms, 4200 * ms, [("time_to_first_byte", 4100 * ms, 4200 * ms, [])]),
                ("agent_speech", 4300 * ms, 5 * S, [])])],
        "realtime-1": [("invoke_agent", 1 * S, 4 * S, [
            ("user_speech", 1 * S, 1800 * ms, []),
            ("realtime gpt-realtime", 1800 * ms, 2500 * ms, [("time_to_first_audio", 1800 * ms, 2100 * ms, [])]),
            ("agent_speech", 2120 * ms, 4 * S, [])])],
        "fallback-1": [("invoke_agent", 1 * S, 3500 * ms, [
            ("user_speech", 1 * S, 2 * S, []),
            ("chat", 2 * S, 2600 * ms, [("time_to_first_token", 2 * S, 2600 * ms, [])]),
            ("fallback llm", 2300 * ms, 2300 * ms, []),
            ("agent_speech", 2800 * ms, 3500 * ms, [])])],
    }
    for sid in sids:
        mine = of_session(spans, sid)
        off = session_offset(spans, events, sid)
        assert tree(mine, off) == [("voice_session", 1000, session_end(events, sid), expected[sid])], sid
    by = {(attrs(s).get("gen_ai.conversation.id"), s.name): s for s in spans}
    fail = next(s for s in spans if s.name == "execute_tool search_docs")
    assert attrs(fail) == {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_docs",
                           "gen_ai.tool.type": "extension", "error.type": "tool_error"}
    assert (fail.status.code, fail.status.message) == (2, "tool call failed")
    ok = next(s for s in spans if s.name == "execute_tool get_weather")
    assert attrs(ok)["gen_ai.tool.type"] == "function" and ok.status.code == 0
    tools_turn = by[("tools-1", "invoke_agent")]
    assert (tools_turn.status.code, tools_turn.status.message) == (2, "1 tool error")
    assert [(e.name, attrs(e)) for e in tools_turn.events] == [
        ("error", {"error.type": "tool", "voicetelemetry.error.count": 1})]
    barge = next(s for s in spans if s.name == "interruption")
    off = session_offset(spans, events, "barge-1")
    assert attrs(barge) == {"voicetelemetry.interruption.barge_in_latency_ns": 300_000_000}
    assert [(e.name, e.time_unix_nano - off) for e in barge.events] == [("barge_in", 3_050_000_000)]
    rt = next(s for s in spans if s.name == "realtime gpt-realtime")
    a = attrs(rt)
    assert (a["gen_ai.operation.name"], a["gen_ai.provider.name"], a["gen_ai.usage.input_tokens"],
            a["gen_ai.usage.output_tokens"], a["voicetelemetry.tokens.output_audio"]) == ("realtime", "openai", 500, 300, 270)
    chat = next(s for s in spans if s.name == "chat" and attrs(s).get("gen_ai.provider.name") == "providerB")
    assert (chat.status.code, chat.status.message) == (2, "1 llm error")
    assert [e.name for e in chat.events] == ["first_token", "error"]
    fb = next(s for s in spans if s.name == "fallback llm")
    assert attrs(fb) == {"voicetelemetry.fallback.stage": "llm", "voicetelemetry.fallback.kind": "switch",
                         "voicetelemetry.fallback.from": "providerA", "voicetelemetry.fallback.to": "providerB",
                         "voicetelemetry.fallback.reason": "timeout"}


def test_videosdk_names(so, receiver, tmp_path):
    spans, events, sids = run(so, receiver, tmp_path, ["cascaded", "false_interruptions"], span_names="videosdk")
    off = session_offset(spans, events, "cascaded-1")
    ms = 1_000_000
    assert tree(of_session(spans, "cascaded-1"), off) == [
        ("Agent Session: cascaded-1", 1000, session_end(events, "cascaded-1"), [("Turn #1", 1 * S, 5 * S, [
            ("User Input Speech", 1 * S, 2 * S, []),
            ("deepgram: Speech to Text Processing", 1 * S, 2150 * ms, []),
            ("unknown: End-Of-Utterance Detection", 2150 * ms, 2250 * ms, []),
            ("openai: LLM Processing", 2250 * ms, 2900 * ms, [("Time to First Token", 2250 * ms, 2550 * ms, [])]),
            ("cartesia: Text to Speech Processing", 2560 * ms, 3200 * ms,
             [("Time to First Byte", 2560 * ms, 2700 * ms, [])]),
            ("Agent Output Speech", 2750 * ms, 5 * S, [])])])]
    off = session_offset(spans, events, "fi-1")
    fi = tree(of_session(spans, "fi-1"), off)[0][3]
    assert [t[0] for t in fi] == ["Turn #1", "Turn #2", "Turn #3"]
    assert ("False Interruption (Resumed)", 3 * S, 3500 * ms, []) in fi[0][3]
    assert ("False Interruption (Escalated)", 7 * S, 7400 * ms, []) in fi[1][3]
    assert ("Turn Interrupted", 7 * S, 7 * S, []) in fi[1][3]


@pytest.mark.parametrize("path", sorted(p for p in SCENARIOS.glob("*.txt") if not p.name.startswith("README")),
                         ids=lambda p: p.stem)
def test_every_scenario_turn_is_a_span(so, receiver, tmp_path, path):
    """Every turn.complete record the library emitted is a turn span over exactly its start/end,
    child of its session's root; every other span hangs below a turn; one trace per session."""
    with otlp_plugin(so, receiver.endpoint, tmp_path):
        with captured_events(tmp_path) as events:
            sid = play(path)
            vt.flush_events(5.0)
    spans = [s for _, s in receiver.spans()]
    mine = of_session(spans, sid)
    off = session_offset(spans, events, sid)
    root = next(s for s in mine if s.parent_span_id == b"")
    turns = [e["data"] for e in events if e["event_type"] == "turn.complete" and e["session_id"] == sid]
    turn_spans = sorted((s for s in mine if s.parent_span_id == root.span_id), key=lambda s: attrs(s)["voicetelemetry.turn.id"])
    assert [(attrs(s)["voicetelemetry.turn.id"], s.start_time_unix_nano - off, s.end_time_unix_nano - off)
            for s in turn_spans] == [(t["turn_id"], t["start_ns"], t["end_ns"]) for t in turns]
    turn_ids = {s.span_id for s in turn_spans}
    parents = {s.span_id: s.parent_span_id for s in mine}
    for s in mine:
        if s is root or s.span_id in turn_ids:
            continue
        p = parents[s.span_id]
        assert p in turn_ids or parents.get(p) in turn_ids, s.name
    assert len(receiver.spans()) == len(mine)


def test_turns_and_metrics_flow_while_the_call_runs(so, receiver, tmp_path):
    """No flush, the session still open: the turn's spans arrive as it completes, metrics every interval."""
    S_, M_ = vt.TurnStage, vt.TurnMark
    with otlp_plugin(so, receiver.endpoint, tmp_path, metrics_interval_ms=150):
        s = vt.Session(session_id="live-1", labels={"transport": "live"}, start_t_ns=1000)
        s.turn_mark(S_.USER_SPEECH, M_.START, 1 * S)
        s.turn_mark(S_.USER_SPEECH, M_.END, 2 * S)
        s.turn_mark(S_.AGENT_SPEECH, M_.START, 2_400_000_000)
        s.turn_mark(S_.AGENT_SPEECH, M_.END, 3 * S)
        assert receiver.wait_for(lambda: any(sp.name == "invoke_agent" for _, sp in receiver.spans()), 5.0)
        assert not any(sp.name == "voice_session" for _, sp in receiver.spans())  # the call goes on

        def e2e_count():
            for req in receiver.metric_requests():
                for m in req.resource_metrics[0].scope_metrics[0].metrics:
                    if m.name == "voicetelemetry_turn_e2e_latency_seconds":
                        for p in m.histogram.data_points:
                            if attrs(p).get("transport") == "live" and p.count == 1:
                                return True
            return False
        assert receiver.wait_for(e2e_count, 5.0)  # a periodic export, not the flush's
        n = len(receiver.metric_requests())
        assert receiver.wait_for(lambda: len(receiver.metric_requests()) >= n + 2, 5.0)
        s.end()
        vt.flush_events(5.0)
    assert any(sp.name == "voice_session" for _, sp in receiver.spans())
