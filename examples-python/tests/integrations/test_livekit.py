"""``instrument()`` on a real LiveKit ``AgentSession``, driven through its own event emitter.

LiveKit Agents 1.8 runs a VOICE AgentSession (VAD, STT, TTS, audio in and out) only inside a job
with a room, or a console with audio devices; offline it runs typed input and text output
(test_livekit_session.py does that with a real run). For the voice turns this test takes the route
the issue allows: a real ``AgentSession`` instance (not started) emits LiveKit's real event classes (``voice.events``) carrying
its real ``ChatMessage`` / ``MetricsReport`` / ``LLMMetrics`` / ``TTSMetrics`` / ``FunctionCall``
objects, in the order and with the fields a running session emits them. Nothing of LiveKit's is
mocked; only the moments are scripted (``_livekit_script.py``): every ``created_at`` and metrics
stamp is ``WALL + offset`` (whole milliseconds), so the records are asserted EXACTLY (tolerance 0 ns:
stamps are converted in whole microseconds, far above a float's 0.24 us resolution at today's
epoch). Each metrics event is followed by ``session_usage_updated``, as LiveKit sends them.

Three turns: a plain one; a tool call whose answer is barged in on; and the mixed-clock case of
LiveKit #3591/#6093 (a ``stopped_speaking_at`` 180 s before ``started_speaking_at``, so LiveKit's own
e2e_latency reads 181.35 s) with a false interruption (resumed) during the answer.
"""
from __future__ import annotations

import asyncio
import json
from importlib.metadata import version


from _frameworks import require  # noqa: E402

require("livekit.agents", "livekit")

from livekit.agents import AgentSession  # noqa: E402
from livekit.agents.llm import FunctionCall, FunctionCallOutput  # noqa: E402
from livekit.agents.voice.events import (  # noqa: E402
    CloseEvent,
    CloseReason,
    FunctionToolsExecutedEvent,
    UserStateChangedEvent,
)

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations.livekit import instrument  # noqa: E402
from _livekit_script import MS, WALL, Script, T, w  # noqa: E402


def setup_module(module):
    print(f"\nlivekit-agents {version('livekit-agents')}, voicetelemetry library {vt.version()}")


def play(sc):
    # turn 1: plain. VAD-backdated speech 950..1600 in the user message's metrics.
    sc.user(1000, "speaking")
    sc.transcript(1500, "what's", final=False)
    sc.user(1800, "listening")
    sc.transcript(1900, "what's the weather")
    sc.item(2000, "user", "what's the weather",
            {"started_speaking_at": w(950), "stopped_speaking_at": w(1600),
             "transcription_delay": 0.3, "end_of_turn_delay": 0.4})
    sc.agent(2000, "thinking")
    sc.llm(2050, 350, 2700, prompt=100, completion=20, cached=40)
    sc.agent(2750, "speaking")
    sc.tts(2450, 250, 3200, chars=12)
    sc.agent(3600, "listening")
    sc.item(3600, "assistant", "It is sunny.",
            {"started_speaking_at": w(2750), "stopped_speaking_at": w(3600), "e2e_latency": 1.15,
             "llm_node_ttft": 0.35, "tts_node_ttfb": 0.25})

    # turn 2: a tool call, then the user barges in on the answer
    sc.user(5000, "speaking")
    sc.user(5800, "listening")
    sc.transcript(5900, "and tomorrow in Paris?")
    sc.item(6000, "user", "and tomorrow in Paris?",
            {"started_speaking_at": w(4950), "stopped_speaking_at": w(5600),
             "transcription_delay": 0.3, "end_of_turn_delay": 0.4})
    sc.agent(6000, "thinking")
    sc.llm(6050, 200, 6400, prompt=150, completion=10)          # the tool call's request
    sc.s.emit("function_tools_executed", FunctionToolsExecutedEvent(
        function_calls=[FunctionCall(call_id="c1", name="get_weather", arguments='{"city":"Paris"}',
                                     created_at=w(6400))],
        function_call_outputs=[FunctionCallOutput(call_id="c1", name="get_weather", output="21",
                                                  is_error=False, created_at=w(6900))],
        created_at=w(6900)))
    sc.llm(6950, 300, 7600, prompt=200, completion=30)          # the reply's request
    sc.agent(7500, "speaking")
    sc.tts(7300, 150, 8500, chars=21)
    sc.user(9000, "speaking")                                   # barge-in
    sc.agent(9100, "listening")
    sc.item(9100, "assistant", "Tomorrow: 21 degrees and",
            {"started_speaking_at": w(7500), "stopped_speaking_at": w(9100), "e2e_latency": 1.9},
            interrupted=True)

    # turn 3: LiveKit's mixed clocks -- its stopped_speaking_at is 180 s before started_speaking_at
    sc.user(9400, "listening")
    sc.transcript(9600, "what about Rome?")
    sc.item(9700, "user", "what about Rome?",
            {"started_speaking_at": w(8950), "stopped_speaking_at": w(8950 - 180_000),
             "transcription_delay": 189.6, "end_of_turn_delay": 189.7})
    sc.agent(9700, "thinking")
    sc.llm(9750, 250, 10200, prompt=260, completion=8)
    sc.agent(10300, "speaking")
    sc.user(10500, "speaking")                                  # a cough: a false interruption
    sc.user(10600, "listening")
    sc.false_interruption(10700)
    sc.tts(10050, 150, 10900, chars=9)
    sc.agent(11000, "listening")
    sc.item(11000, "assistant", "Rome: 25.",
            {"started_speaking_at": w(10300), "stopped_speaking_at": w(11000),
             "e2e_latency": 181.35, "llm_node_ttft": 0.25, "tts_node_ttfb": 0.15})
    sc.close(12000)


def test_three_turns_exact(tmp_path, jsonl_sink_so):
    events_file = tmp_path / "events.jsonl"
    async def run():    # an AgentSession is made inside an event loop, as LiveKit makes it
        agent_session = AgentSession()
        vs = instrument(agent_session, session_id="livekit-3turns", wall_anchor=WALL,
                        labels={"transport": "scripted"}, text_policy=vt.TextPolicy.INCLUDE)
        play(Script(agent_session))
        return vs

    with vt.load_plugin(str(jsonl_sink_so), {"path": str(events_file)}):
        vs = asyncio.run(asyncio.wait_for(run(), 30))
        vt.flush_events(timeout_s=5.0)
    assert vs.ended and vs.refused == {}
    t1, t2, t3 = vs.turn_history()
    assert [t["turn_id"] for t in (t1, t2, t3)] == [1, 2, 3]

    # turn 1, stage by stage on one clock
    assert (t1["outcome"], t1["completed_by"]) == ("completed", "agent_speech_end")
    assert (t1["user_speech"]["start_ns"], t1["user_speech"]["end_ns"]) == (T(950), T(1600))
    assert t1["anchor_ns"] == T(1600) and t1["e2e_latency_ns"] == 1150 * MS
    assert t1["stt"]["first_interim_ns"] == T(1500)
    assert t1["stt"]["latency_ns"] == 300 * MS and t1["eou"]["delay_ns"] == 400 * MS
    assert t1["llm"]["ttft_ns"] == 350 * MS and t1["llm"]["duration_ns"] == 650 * MS
    assert (t1["llm"]["provider"], t1["llm"]["model"]) == ("openai", "gpt-4o-mini")
    assert t1["tts"]["ttfb_ns"] == 250 * MS and (t1["tts"]["provider"], t1["tts"]["model"]) == ("cartesia", "sonic-2")
    assert t1["e2e_breakdown_ns"] == {"stt_ns": 300 * MS, "eou_ns": 100 * MS, "llm_ttft_ns": 400 * MS,
                                      "tts_ttfb_ns": 300 * MS, "realtime_ns": 0, "remainder_ns": 50 * MS}
    assert (t1["tokens"]["input"], t1["tokens"]["output"], t1["tokens"]["cached_input"]) == (100, 20, 40)
    assert t1["playback"]["tts_characters_generated"] == 12
    assert t1["agent_speech"] == {"start_ns": T(2750), "end_ns": T(3600), "duration_ns": 850 * MS}
    assert t1["texts"]["user_transcript"]["text"] == "what's the weather"
    assert t1["texts"]["agent_response"]["text"] == "It is sunny."
    assert t1["quality"] == []

    # turn 2: tool call; ttft from the request that was spoken; barge-in
    assert t2["outcome"] == "interrupted"
    assert t2["e2e_latency_ns"] == 1900 * MS
    assert t2["llm"]["start_ns"] == T(6050) and t2["llm"]["first_token_ns"] == T(7250)
    assert t2["llm"]["ttft_ns"] == 1200 * MS and t2["llm"]["end_ns"] == T(7600)
    assert t2["tool_calls_total"] == 1
    c = t2["tool_calls"][0]
    assert (c["name"], c["ok"], c["start_ns"], c["duration_ns"]) == ("get_weather", True, T(6400), 500 * MS)
    assert (t2["tokens"]["input"], t2["tokens"]["output"]) == (350, 40)
    assert t2["interruption"]["interrupted"] is True and t2["interruption"]["barge_in_ns"] == T(9000)
    assert t2["interruption"]["overlap_start_ns"] == T(9000)
    assert t2["interruption"]["barge_in_latency_ns"] == 100 * MS
    assert sum(t2["e2e_breakdown_ns"].values()) == t2["e2e_latency_ns"]

    # turn 3: LiveKit's stamps disagree with each other; the record uses the observed state changes
    assert (t3["user_speech"]["start_ns"], t3["user_speech"]["end_ns"]) == (T(9000), T(9400))
    assert t3["user_speech"]["from_interrupting_speech"] is True     # the barge-in of turn 2
    assert t3["stt"]["latency_ns"] == 200 * MS and t3["eou"]["delay_ns"] == 300 * MS
    assert t3["e2e_latency_ns"] == 900 * MS                      # LiveKit's own: 181.35 s
    assert t3["llm"]["ttft_ns"] == 250 * MS and t3["tts"]["ttfb_ns"] == 150 * MS
    assert t3["outcome"] == "completed" and t3["interruption"]["interrupted"] is False
    fi = t3["interruption"]["false_interruption"]
    assert fi["start_ns"] == T(10500) and fi["outcome"] == "resumed" and fi["duration_ns"] == 200 * MS
    assert "out_of_order" not in t3["quality"] and "implausible" not in t3["quality"]

    # tokens: per turn from the LLMMetrics only, although session_usage_updated followed each one;
    # the session's totals are LiveKit's running usage (3 + 1 LLM requests)
    assert (t3["tokens"]["input"], t3["tokens"]["output"]) == (260, 8)
    assert vs.final_snapshot["token_totals"] == {"total": 778, "prompt": 710, "response": 68,
                                                 "cached_content": 40, "thoughts": 0}
    assert vs.framework_usage[0]["type"] == "llm_usage" and vs.framework_usage[0]["input_tokens"] == 710
    assert vs.final_snapshot["interruptions"] == 1               # turn 2's barge-in, not the cough

    # LiveKit's numbers beside ours, per turn
    assert [(f["turn_id"], f["e2e_latency_s"], f["livekit_e2e_latency_s"]) for f in vs.framework_turns] == [
        (1, 1.15, 1.15), (2, 1.9, 1.9), (3, 0.9, 181.35)]
    assert vs.framework_turns[2]["livekit_transcription_delay_s"] == 189.6

    # events: the session's own, ours beside LiveKit's, the mismatch, the end at close's time
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    mine = [e for e in events if e["session_id"] == "livekit-3turns"]
    types = [e["event_type"] for e in mine]
    assert types[0] == "session.start" and types[-1] == "session.end"
    assert types.count("turn.complete") == 3 and types.count("livekit.turn_metrics") == 3
    assert types.count("livekit.clock_mismatch") == 1
    assert mine[-1]["timestamp_us"] == T(12000) // 1000
    lk3 = [e for e in mine if e["event_type"] == "livekit.turn_metrics"][2]
    assert lk3["turn_id"] == "3" and lk3["data"]["livekit_e2e_latency_s"] == 181.35


def test_close_ends_and_detaches():
    async def run():
        agent_session = AgentSession()
        vs = instrument(agent_session, wall_anchor=WALL)
        agent_session.emit("close", CloseEvent(reason=CloseReason.USER_INITIATED, created_at=w(10)))
        assert vs.ended and vs.turn_history() == [] and vs.final_snapshot is not None
        # later events of that AgentSession reach no handler of ours
        agent_session.emit("user_state_changed", UserStateChangedEvent(
            old_state="listening", new_state="speaking", created_at=w(20)))
        assert vs.refused == {}

    asyncio.run(asyncio.wait_for(run(), 30))


def test_without_metrics_collected():
    """metrics_collected is deprecated in LiveKit: the stages then come from ChatMessage.metrics."""
    async def run():
        sc = Script(AgentSession())
        vs = instrument(sc.s, wall_anchor=WALL)
        sc.user(1000, "speaking")
        sc.user(1800, "listening")
        sc.transcript(1900, "hi")
        sc.item(2000, "user", "hi", {"started_speaking_at": w(950), "stopped_speaking_at": w(1600)})
        sc.agent(2100, "thinking")
        sc.agent(2800, "speaking")
        sc.agent(3500, "listening")
        sc.item(3500, "assistant", "Hello.", {"started_speaking_at": w(2800), "stopped_speaking_at": w(3500),
                                               "llm_node_ttft": 0.4, "tts_node_ttfb": 0.2})
        return vs.last_turn()

    t = asyncio.run(asyncio.wait_for(run(), 30))
    assert t["llm"]["start_ns"] == T(2100) and t["llm"]["ttft_ns"] == 400 * MS
    assert t["tts"]["start_ns"] == T(2500) and t["tts"]["ttfb_ns"] == 200 * MS
    assert t["e2e_latency_ns"] == 1200 * MS
    assert t["e2e_breakdown_ns"] == {"stt_ns": 300 * MS, "eou_ns": 100 * MS, "llm_ttft_ns": 500 * MS,
                                     "tts_ttfb_ns": 200 * MS, "realtime_ns": 0, "remainder_ns": 100 * MS}
