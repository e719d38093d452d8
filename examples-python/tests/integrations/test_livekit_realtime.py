"""``instrument()`` on a real LiveKit ``AgentSession`` whose agent answers with a realtime model.

The session is configured with LiveKit's own OpenAI realtime model class (``inference.RealtimeModel``,
offline credentials: it is never started, so nothing connects) and emits, through its own emitter,
what LiveKit 1.8's realtime path emits (``AgentActivity._realtime_generation_task``, the OpenAI
realtime session), in that order: the server VAD's user state changes, the model's input transcript
as the user message (created at ``turn_started_at``, only ``started_speaking_at`` in its metrics,
often while the agent already speaks), ``RealtimeModelMetrics`` at ``response.done`` (``timestamp`` =
response created, ``ttft`` = first audio, ``duration`` = created -> done) followed by
``session_usage_updated``, the agent's state, the assistant message. Scripted stamps
(``_livekit_script.py``): asserted exactly, 0 ns tolerance.

Three turns: a plain answer whose transcript arrives during it; a tool call then an answer the user
barges in on, whose cancelled response reports after the interrupted message (the record waits for
it); the barge-in's own turn. Then the typed-input and late-transcript cases.
"""
from __future__ import annotations

import asyncio
import json

from _frameworks import require

require("livekit.agents", "livekit")

from livekit.agents import AgentSession, inference  # noqa: E402
from livekit.agents.llm import FunctionCall, FunctionCallOutput  # noqa: E402
from livekit.agents.voice.events import FunctionToolsExecutedEvent  # noqa: E402

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations.livekit import instrument  # noqa: E402
from _livekit_script import MS, WALL, Script, T, prom_counter, w  # noqa: E402


def realtime_model():
    return inference.RealtimeModel(model="openai/gpt-realtime", api_key="offline", api_secret="offline")


def run(play, transport):
    """play(script, model) in a real AgentSession(llm=<realtime model>); returns the vt session."""
    async def main():
        model = realtime_model()
        sc = Script(AgentSession(llm=model))
        vs = instrument(sc.s, wall_anchor=WALL, labels={"transport": transport},
                        text_policy=vt.TextPolicy.INCLUDE)
        play(sc, model)
        await model.aclose()
        return vs, sc

    return asyncio.run(asyncio.wait_for(main(), 30))


def three_turns(sc, model):
    # the connection's own report (no response): the provider only, no turn
    sc.metrics(500, _connection_report(model))
    # turn 1: server VAD 1000..1800; the transcript arrives while the agent speaks
    sc.user(1000, "speaking")
    sc.user(1800, "listening")
    sc.transcript(1800, "", final=False)                  # LiveKit's placeholder while it transcribes
    sc.agent(2600, "speaking")
    sc.transcript(2700, "what's the weather")
    sc.item(2700, "user", "what's the weather", {"started_speaking_at": w(1000)}, created_ms=1000,
            transcript_confidence=1.0)
    sc.realtime(model, 2100, 400, 3500, inp=(20, 280, 0), out=(30, 120), cached=(10, 90))
    sc.agent(4000, "listening")
    sc.item(4000, "assistant", "It is sunny.", {"started_speaking_at": w(2600),
                                                "stopped_speaking_at": w(4000), "e2e_latency": 0.8})

    # turn 2: a tool call (a response with no audio), the answer, a barge-in on it
    sc.user(5000, "speaking")
    sc.user(5600, "listening")
    sc.transcript(5900, "and tomorrow?")
    sc.item(5900, "user", "and tomorrow?", {"started_speaking_at": w(5000)}, created_ms=5000)
    sc.realtime(model, 5700, None, 6200, inp=(300, 0, 0), out=(25, 0))
    sc.s.emit("function_tools_executed", FunctionToolsExecutedEvent(
        function_calls=[FunctionCall(call_id="c1", name="get_forecast", arguments="{}", created_at=w(6200))],
        function_call_outputs=[FunctionCallOutput(call_id="c1", name="get_forecast", output="rain",
                                                  is_error=False, created_at=w(6500))],
        created_at=w(6500)))
    sc.agent(7000, "speaking")
    sc.user(7800, "speaking")                               # barge-in (server VAD)
    sc.agent(7900, "listening")
    sc.item(7900, "assistant", "Tomorrow it will", {"started_speaking_at": w(7000),
                                                     "stopped_speaking_at": w(7900), "e2e_latency": 1.4},
            interrupted=True)
    # response.done of the cancelled answer, after the cancel's round trip
    sc.realtime(model, 6550, 300, 8000, inp=(40, 360, 0), out=(10, 80), cancelled=True)

    # turn 3: the barge-in's speech 7800..8400 is answered
    sc.user(8400, "listening")
    sc.agent(9100, "speaking")
    sc.item(9200, "user", "no, the day after", {"started_speaking_at": w(7800)}, created_ms=7800)
    sc.realtime(model, 8700, 300, 9800, inp=(0, 500, 0), out=(0, 100))
    sc.agent(10200, "listening")
    sc.item(10200, "assistant", "Sunny again.", {"started_speaking_at": w(9100),
                                                 "stopped_speaking_at": w(10200), "e2e_latency": 0.7})
    sc.close(11000)


def _connection_report(model):
    from livekit.agents.metrics import RealtimeModelMetrics
    from livekit.agents.metrics.base import Metadata
    return RealtimeModelMetrics(request_id="", timestamp=w(500), label=model.label, acquire_time=0.2,
                                input_token_details=RealtimeModelMetrics.InputTokenDetails(),
                                output_token_details=RealtimeModelMetrics.OutputTokenDetails(),
                                metadata=Metadata(model_name=model.model, model_provider=model.provider))


def test_realtime_three_turns_exact():
    vs, sc = run(three_turns, "rt-3turns")
    assert vs.ended and vs.refused == {}
    t1, t2, t3 = vs.turn_history()
    assert vs.final_snapshot["turns"]["discarded"] == 0          # the connection report made none

    # turn 1: user speech (server VAD) -> realtime first audio -> playback; no STT, no EOU stage
    assert (t1["outcome"], t1["anchor"], t1["anchor_ns"]) == ("completed", "user_speech_end", T(1800))
    assert (t1["user_speech"]["start_ns"], t1["user_speech"]["end_ns"]) == (T(1000), T(1800))
    assert t1["realtime"] == {"provider": "livekit", "model": "openai/gpt-realtime", "start_ns": T(2100),
                              "first_audio_ns": T(2500), "end_ns": T(3500), "ttfa_ns": 400 * MS,
                              "duration_ns": 1400 * MS}
    assert t1["e2e_latency_ns"] == 800 * MS
    assert t1["e2e_breakdown_ns"] == {"stt_ns": 0, "eou_ns": 0, "llm_ttft_ns": 0, "tts_ttfb_ns": 0,
                                      "realtime_ns": 700 * MS, "remainder_ns": 100 * MS}
    assert t1["stt"]["final_ns"] is None and t1["stt"]["first_interim_ns"] is None
    assert t1["eou"]["end_ns"] is None and t1["llm"]["start_ns"] is None
    assert t1["tokens"] == {"input": 300, "output": 150, "cached_input": 100, "reasoning": None,
                            "input_text": 20, "input_audio": 280, "input_image": None,
                            "output_text": 30, "output_audio": 120}
    assert t1["texts"]["user_transcript"]["text"] == "what's the weather"
    assert t1["stt"]["confidence"] == 1.0
    assert t1["quality"] == []

    # turn 2: realtime START at the tool call's response, FIRST of the answer that was spoken;
    # the interrupted message waited for its cancelled response's metrics
    assert t2["outcome"] == "interrupted" and t2["e2e_latency_ns"] == 1400 * MS
    assert (t2["realtime"]["start_ns"], t2["realtime"]["first_audio_ns"], t2["realtime"]["end_ns"]) == \
        (T(5700), T(6850), T(8000))
    assert t2["e2e_breakdown_ns"]["realtime_ns"] == 1250 * MS and t2["e2e_breakdown_ns"]["remainder_ns"] == 150 * MS
    assert [(c["name"], c["start_ns"], c["end_ns"]) for c in t2["tool_calls"]] == [("get_forecast", T(6200), T(6500))]
    assert (t2["tokens"]["input"], t2["tokens"]["output"], t2["tokens"]["input_audio"],
            t2["tokens"]["output_audio"]) == (700, 115, 360, 80)
    i2 = t2["interruption"]
    assert (i2["overlap_start_ns"], i2["barge_in_ns"], i2["barge_in_latency_ns"]) == (T(7800), T(7800), 100 * MS)
    assert t2["texts"]["user_transcript"]["text"] == "and tomorrow?"
    assert "no_vad" not in t2["quality"] and "out_of_order" not in t2["quality"]

    # turn 3: the interrupting speech, its transcript arriving while the agent answers
    assert t3["user_speech"] == {"start_ns": T(7800), "end_ns": T(8400), "duration_ns": 600 * MS,
                                 "start_carried_over": False, "from_interrupting_speech": True}
    assert t3["e2e_latency_ns"] == 700 * MS and t3["realtime"]["ttfa_ns"] == 300 * MS
    assert t3["e2e_breakdown_ns"]["realtime_ns"] == 600 * MS
    assert t3["texts"]["user_transcript"]["text"] == "no, the day after"
    assert t3["tokens"]["input_audio"] == 500 and t3["tokens"]["output_audio"] == 100

    # LiveKit's e2e equals ours here (its stamps are consistent)
    assert [(f["e2e_latency_s"], f["livekit_e2e_latency_s"]) for f in vs.framework_turns] == \
        [(0.8, 0.8), (1.4, 1.4), (0.7, 0.7)]

    # usage: each token once in the turns and the process counters, although session_usage_updated
    # followed each response; the session's totals are LiveKit's running usage of the model
    (usage,) = vs.framework_usage
    assert (usage["provider"], usage["model"], usage["input_tokens"], usage["output_tokens"]) == \
        ("livekit", "openai/gpt-realtime", 1500, 365)
    assert vs.final_snapshot["token_totals"] == {"total": 1865, "prompt": 1500, "response": 365,
                                                 "cached_content": 100, "thoughts": 0}
    prom = vt.prom_text()
    assert prom_counter(prom, "voicetelemetry_turn_tokens_total", "rt-3turns", type="input", stage="realtime") == 1500
    assert prom_counter(prom, "voicetelemetry_turn_modality_tokens_total", "rt-3turns",
                    direction="output", modality="audio") == 300


def test_realtime_typed_input_and_late_transcript(tmp_path, jsonl_sink_so):
    """Typed input to a realtime agent is a text turn (anchor eou_end at LiveKit's commit); a model
    transcript that arrives after its turn was recorded cannot join it: dropped, with an event."""
    def play(sc, model):
        sc.item(1000, "user", "hello", {})                       # session.generate_reply(user_input=...)
        sc.realtime(model, 1050, 350, 1900, inp=(12, 0, 0), out=(5, 60))
        sc.agent(1500, "speaking")
        sc.agent(2200, "listening")
        sc.item(2200, "assistant", "Hi there.", {"started_speaking_at": w(1500), "stopped_speaking_at": w(2200)})
        # a spoken turn whose transcript comes only after the answer was committed
        sc.user(3000, "speaking")
        sc.user(3500, "listening")
        sc.agent(4000, "speaking")
        sc.realtime(model, 3600, 300, 4300, inp=(0, 90, 0), out=(0, 70))
        sc.agent(4500, "listening")
        sc.item(4500, "assistant", "Yes.", {"started_speaking_at": w(4000), "stopped_speaking_at": w(4500)})
        sc.item(4600, "user", "is it on?", {"started_speaking_at": w(3000)}, created_ms=3000)
        sc.close(5000)

    events_file = tmp_path / "events.jsonl"
    with vt.load_plugin(str(jsonl_sink_so), {"path": str(events_file)}):
        vs, _ = run(play, "rt-typed")
        vt.flush_events(timeout_s=5.0)
    t1, t2 = vs.turn_history()
    assert (t1["anchor"], t1["anchor_ns"], t1["e2e_latency_ns"]) == ("eou_end", T(1000), 500 * MS)
    assert t1["realtime"]["ttfa_ns"] == 350 * MS and t1["texts"]["user_transcript"]["text"] == "hello"
    assert t1["e2e_breakdown_ns"]["realtime_ns"] == 400 * MS     # 1000 -> first audio 1400
    assert (t2["user_speech"]["end_ns"], t2["e2e_latency_ns"]) == (T(3500), 500 * MS)
    assert t2["texts"]["user_transcript"] is None                # it came after the turn was recorded
    assert vs.final_snapshot["turns"]["completed"] == 2 and vs.refused == {}
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    (late,) = [e for e in events if e["event_type"] == "livekit.late_transcript"]
    assert late["data"] == {"chars": 9, "started_speaking_ns": T(3000)}


def test_realtime_backchannel_is_no_user_turn():
    """A backchannel during the answer (LiveKit's detector: no interruption) is no barge-in and no
    user speech: the agent's next, unprompted answer (session.say) has none."""
    def play(sc, model):
        sc.user(1000, "speaking")
        sc.user(1500, "listening")
        sc.agent(2000, "speaking")
        sc.realtime(model, 1600, 300, 2400, inp=(0, 80, 0), out=(0, 60))
        sc.user(2500, "speaking")                               # "uh-huh"
        sc.overlap(2500, 2700, interruption=False)
        sc.user(2800, "listening")
        sc.agent(3200, "listening")
        sc.item(3200, "assistant", "Done.", {"started_speaking_at": w(2000), "stopped_speaking_at": w(3200)})
        sc.realtime(model, 4000, 250, 4600, inp=(10, 0, 0), out=(0, 40))
        sc.agent(4300, "speaking")                              # a reminder nobody asked for
        sc.agent(5000, "listening")
        sc.item(5000, "assistant", "Anything else?", {"started_speaking_at": w(4300),
                                                      "stopped_speaking_at": w(5000)})
        sc.close(5500)

    vs, _ = run(play, "rt-backchannel")
    t1, t2 = vs.turn_history()
    assert t1["outcome"] == "completed" and t1["interruption"]["overlap_start_ns"] is None
    assert t1["e2e_latency_ns"] == 500 * MS
    assert t2["user_speech"]["start_ns"] is None and t2["anchor"] is None and t2["e2e_latency_ns"] is None
    assert t2["realtime"]["ttfa_ns"] == 250 * MS
    assert vs.final_snapshot["interruptions"] == 0
