"""Barge-ins, backchannels and false interruptions from a real LiveKit ``AgentSession``'s events.

LiveKit 1.8 (``AgentActivity``): user speech while the agent speaks is ``user_state_changed`` to
speaking (VAD, stamped at the backdated speech start); its adaptive interruption detector then judges
it (``overlapping_speech``: ``is_interruption`` with ``overlap_started_at`` / ``detected_at``, or a
backchannel); with ``resume_false_interruption`` (the default where audio output can pause) the agent
first PAUSES (its state leaves ``speaking``), then either the speech is interrupted (the assistant
message comes with ``interrupted=True`` and its ``stopped_speaking_at`` after the pause), or, after
the timeout with no words, it resumes (state ``speaking`` again, ``agent_false_interruption``
``resumed=True``). In the cascaded path the assistant message is added before the agent's state
leaves ``speaking``; the script keeps that order. Scripted stamps (``_livekit_script.py``): exact.

Three turns: a backchannel then a real barge-in judged by the detector, during which the agent
paused (the user stopped hearing it then); the barge-in's turn with a false interruption the agent
paused for and resumed after; a plain turn (the noise was no user turn).
"""
from __future__ import annotations

import asyncio
import json

from _frameworks import require

require("livekit.agents", "livekit")

from livekit.agents import AgentSession  # noqa: E402

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations.livekit import instrument  # noqa: E402
from _livekit_script import MS, WALL, Script, T, prom_counter, w  # noqa: E402


def spoken(ms):
    return {"started_speaking_at": w(ms[0]), "stopped_speaking_at": w(ms[1])}


def play(sc):
    # turn 1
    sc.user(1000, "speaking")
    sc.user(1600, "listening")
    sc.transcript(1900, "tell me a story")
    sc.item(2000, "user", "tell me a story", spoken((1000, 1600)))
    sc.llm(2050, 200, 2400, 80, 10)
    sc.agent(2500, "speaking")
    sc.user(3000, "speaking")                       # "mm-hmm"
    sc.overlap(3000, 3200, interruption=False)      # the detector: a backchannel
    sc.user(3300, "listening")
    sc.user(4000, "speaking")                       # the barge-in
    sc.overlap(4000, 4250, interruption=True)
    sc.agent(4300, "listening")                     # paused
    sc.user(4800, "listening")
    sc.transcript(5000, "wait, a short one")
    sc.item(5100, "assistant", "Once upon a", spoken((2500, 5100)), interrupted=True)

    # turn 2: the barge-in's speech (LiveKit's VAD start 10 ms before the state change we saw)
    sc.item(5200, "user", "wait, a short one", {**spoken((3990, 4800)), "end_of_turn_delay": 0.4})
    sc.llm(5250, 250, 5600, 90, 12)
    sc.agent(5800, "speaking")
    sc.user(6500, "speaking")                       # a door slams
    sc.agent(6600, "listening")                     # paused
    sc.user(6800, "listening")
    sc.agent(8600, "speaking")                      # no words: resumed after the timeout
    sc.false_interruption(8610, resumed=True)
    sc.item(9500, "assistant", "A fox jumped.", {})  # no speaking stamps: the observed states
    sc.agent(9500, "listening")

    # turn 3
    sc.user(10000, "speaking")
    sc.user(10600, "listening")
    sc.transcript(10700, "thanks")
    sc.item(10800, "user", "thanks", spoken((10000, 10600)))
    sc.llm(10850, 150, 11100, 100, 5)
    sc.agent(11200, "speaking")
    sc.item(11900, "assistant", "You're welcome.", spoken((11200, 11900)))
    sc.agent(11900, "listening")
    sc.close(12500)


def test_barge_in_backchannel_and_false_interruption(tmp_path, jsonl_sink_so):
    events_file = tmp_path / "events.jsonl"

    async def run():
        sc = Script(AgentSession())
        vs = instrument(sc.s, session_id="lk-barge", wall_anchor=WALL, labels={"transport": "lk-barge"})
        play(sc)
        return vs

    with vt.load_plugin(str(jsonl_sink_so), {"path": str(events_file)}):
        vs = asyncio.run(asyncio.wait_for(run(), 30))
        vt.flush_events(timeout_s=5.0)
    assert vs.ended and vs.refused == {}
    t1, t2, t3 = vs.turn_history()

    # turn 1: the barge-in is the detector's interruption, not the backchannel before it; the
    # agent's speech ended when it paused, not when LiveKit committed the interrupted message
    assert t1["outcome"] == "interrupted" and t1["e2e_latency_ns"] == 900 * MS
    assert t1["interruption"] == {"interrupted": True, "barge_in_ns": T(4250), "overlap_start_ns": T(4000),
                                  "barge_in_latency_ns": 300 * MS, "false_interruption": None}
    assert t1["agent_speech"] == {"start_ns": T(2500), "end_ns": T(4300), "duration_ns": 1800 * MS}

    # turn 2: the interrupting speech starts where it overlapped the agent; the false interruption
    # starts when the agent paused, lasts to the resume event, the pause to the agent speaking again
    assert t2["user_speech"] == {"start_ns": T(4000), "end_ns": T(4800), "duration_ns": 800 * MS,
                                 "start_carried_over": False, "from_interrupting_speech": True}
    assert t2["stt"]["start_ns"] == T(4000) and t2["eou"]["delay_ns"] == 400 * MS
    assert t2["outcome"] == "completed" and t2["e2e_latency_ns"] == 1000 * MS
    assert t2["interruption"]["interrupted"] is False and t2["interruption"]["barge_in_ns"] is None
    assert t2["interruption"]["false_interruption"] == {"start_ns": T(6600), "outcome": "resumed",
                                                         "duration_ns": 2010 * MS, "pause_ns": 2000 * MS,
                                                         "words": None}
    assert t2["agent_speech"] == {"start_ns": T(5800), "end_ns": T(9500), "duration_ns": 3700 * MS}

    # turn 3: the noise was no user turn
    assert t3["user_speech"]["start_ns"] == T(10000) and t3["user_speech"]["from_interrupting_speech"] is False
    assert t3["e2e_latency_ns"] == 600 * MS and t3["outcome"] == "completed"

    # counts: one interruption (not the backchannel, not the door), one resumed false interruption
    assert vs.final_snapshot["interruptions"] == 1
    assert vs.final_snapshot["turns"]["interrupted"] == 1
    prom = vt.prom_text()
    assert prom_counter(prom, "voicetelemetry_turn_false_interruptions_total", "lk-barge", outcome="resumed") == 1
    assert prom_counter(prom, "voicetelemetry_turn_barge_in_latency_seconds_sum", "lk-barge") == 0.3

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    mine = [e for e in events if e["session_id"] == "lk-barge"]
    verdicts = [e["data"] for e in mine if e["event_type"] == "livekit.overlapping_speech"]
    assert [(v["is_interruption"], v["overlap_start_ns"]) for v in verdicts] == [(False, T(3000)), (True, T(4000))]
    assert [e["timestamp_us"] for e in mine if e["event_type"] == "interruption"] == [T(4250) // 1000]
