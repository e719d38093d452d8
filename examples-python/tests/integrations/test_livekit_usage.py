"""``session_usage_updated`` from a real LiveKit ``AgentSession``: usage by model, each token once.

LiveKit 1.8 sends ``session_usage_updated`` (its running usage by type, provider and model, from its
``ModelUsageCollector``) after every ``metrics_collected``. Per-request metrics already give the turn
its LLM and realtime tokens (with the request's time); the update adds to the turn only what no
per-request metric reported (here: STT and TTS tokens, or everything when only the update is sent,
``metrics_collected`` being deprecated in LiveKit), and feeds the session's token totals (the
snapshot's ``token_totals``: LLM / realtime-model tokens). Scripted stamps (``_livekit_script.py``).
"""
from __future__ import annotations

import asyncio

from _frameworks import require

require("livekit.agents", "livekit")

from livekit.agents import AgentSession  # noqa: E402
from livekit.agents.metrics import AgentSessionUsage, LLMModelUsage, TTSModelUsage  # noqa: E402
from livekit.agents.voice.events import SessionUsageUpdatedEvent  # noqa: E402

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations.livekit import instrument  # noqa: E402
from _livekit_script import MS, WALL, Script, T, prom_counter, w  # noqa: E402


def one_turn(sc, between):
    sc.user(1000, "speaking")
    sc.user(1600, "listening")
    sc.transcript(1900, "hi")
    sc.item(2000, "user", "hi", {"started_speaking_at": w(1000), "stopped_speaking_at": w(1600)})
    between(sc)
    sc.agent(2700, "speaking")
    sc.item(3500, "assistant", "Hello.", {"started_speaking_at": w(2700), "stopped_speaking_at": w(3500)})
    sc.agent(3500, "listening")


def run(between, transport, usage=True):
    async def main():
        sc = Script(AgentSession(), usage=usage)
        vs = instrument(sc.s, wall_anchor=WALL, labels={"transport": transport})
        one_turn(sc, between)
        sc.close(4000)
        return vs

    return asyncio.run(asyncio.wait_for(main(), 30))


def test_stt_and_tts_tokens_come_from_the_update_llm_tokens_from_the_request():
    def between(sc):
        sc.stt(1950, 0.6, input_tokens=50, audio_tokens=45, output_tokens=8)
        sc.llm(2050, 300, 2400, prompt=100, completion=20, cached=30)
        sc.tts(2400, 200, 3000, chars=6, tokens=(12, 300))

    vs = run(between, "lk-usage")
    (t,) = vs.turn_history()
    assert t["tokens"] == {"input": 162, "output": 328, "cached_input": 30, "reasoning": None,
                           "input_text": None, "input_audio": 45, "input_image": None,
                           "output_text": None, "output_audio": None}
    assert t["llm"]["ttft_ns"] == 300 * MS and t["e2e_latency_ns"] == 1100 * MS
    prom = vt.prom_text()
    by_stage = {(stage, kind): prom_counter(prom, "voicetelemetry_turn_tokens_total", "lk-usage", stage=stage, type=kind)
                for stage in ("stt", "llm", "tts") for kind in ("input", "output")}
    assert by_stage == {("stt", "input"): 50, ("stt", "output"): 8, ("llm", "input"): 100,
                        ("llm", "output"): 20, ("tts", "input"): 12, ("tts", "output"): 300}
    # the session's token totals: the LLM's, as LiveKit summed them
    assert vs.final_snapshot["token_totals"] == {"total": 120, "prompt": 100, "response": 20,
                                                 "cached_content": 30, "thoughts": 0}
    kinds = {u["type"]: (u["provider"], u["model"]) for u in vs.framework_usage}
    assert kinds == {"llm_usage": ("openai", "gpt-4o-mini"), "tts_usage": ("cartesia", "sonic-2"),
                     "stt_usage": ("deepgram", "nova-3")}
    assert vs.refused == {}


def test_update_alone_gives_the_turn_its_tokens_once():
    """Without metrics_collected (deprecated in LiveKit) the updates carry the tokens: two updates
    with running totals add their growth, not their totals."""
    def update(sc, ms, llm_in, llm_out, tts_chars):
        sc.s.emit("session_usage_updated", SessionUsageUpdatedEvent(usage=AgentSessionUsage(model_usage=[
            LLMModelUsage(provider="openai", model="gpt-4o-mini", input_tokens=llm_in, output_tokens=llm_out),
            TTSModelUsage(provider="cartesia", model="sonic-2", characters_count=tts_chars)]), created_at=w(ms)))

    def between(sc):
        update(sc, 2300, 100, 20, 0)
        update(sc, 2600, 100, 20, 6)       # a TTS update: the LLM's running totals unchanged

    vs = run(between, "lk-usage-only", usage=False)
    (t,) = vs.turn_history()
    assert (t["tokens"]["input"], t["tokens"]["output"], t["tokens"]["cached_input"]) == (100, 20, None)
    assert vs.final_snapshot["token_totals"]["total"] == 120 and vs.final_snapshot["usage_reports"] == 1
    assert prom_counter(vt.prom_text(), "voicetelemetry_turn_tokens_total", "lk-usage-only",
                        stage="llm", type="input") == 100
    assert t["e2e_latency_ns"] == T(2700) - T(1600)
