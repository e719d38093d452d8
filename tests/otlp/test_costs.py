"""Costs in the OTLP spans: with a price table, each turn span carries its record's cost as
voicetelemetry.cost.* attributes and the session span the snapshot's as voicetelemetry.session.cost.*
(docs/cost.md); without one, neither appears (test_traces.py checks the exact attribute sets)."""
from __future__ import annotations

from conftest import attrs, otlp_plugin, vt

S = 1_000_000_000


def test_turn_and_session_spans_carry_the_costs(so, receiver, tmp_path):
    vt.set_prices({"currency": "USD", "prices": [
        {"stage": "llm", "provider": "otlp-acme", "model": "m1", "input": 0.15, "output": 0.6},
        {"stage": "tts", "provider": "otlp-tts", "per_million_characters": 65},
        {"stage": "transport", "provider": "otlp-net", "per_minute": 0.004}]})
    try:
        with otlp_plugin(so, receiver.endpoint, tmp_path):
            s = vt.Session(session_id="otlp-costs-1", labels={"transport": "otlp-net"}, start_t_ns=S)
            s.turn_provider(vt.TurnStage.LLM, "otlp-acme", "m1", S)
            s.turn_provider(vt.TurnStage.TTS, "otlp-other", None, S)   # no entry: unpriced
            s.turn_mark(vt.TurnStage.LLM, vt.TurnMark.START, 2 * S)
            s.turn_mark(vt.TurnStage.LLM, vt.TurnMark.FIRST, 2 * S + S // 5)
            s.turn_usage(vt.TurnStage.LLM, input=1000, output=100, t_ns=2 * S + S // 4)   # 150 + 60 = 210 µ
            s.turn_value(vt.TurnValueKey.TTS_CHARACTERS, 40, 2 * S + S // 4)
            s.record_turn_complete(3 * S)
            s.end(61 * S)   # 60 s of otlp-net at 0.004 per minute: 4000 µ
            vt.flush_events(5.0)
    finally:
        vt.set_prices(None)
    spans = [sp for _, sp in receiver.spans() if attrs(sp).get("gen_ai.conversation.id") == "otlp-costs-1"]
    turn = next(sp for sp in spans if sp.name == "invoke_agent")
    root = next(sp for sp in spans if sp.name == "voice_session")
    cost = {k: v for k, v in attrs(turn).items() if k.startswith("voicetelemetry.cost.")}
    assert cost == {"voicetelemetry.cost.currency": "USD", "voicetelemetry.cost.stt_micros": 0,
                    "voicetelemetry.cost.llm_micros": 210, "voicetelemetry.cost.tts_micros": 0,
                    "voicetelemetry.cost.realtime_micros": 0, "voicetelemetry.cost.total_micros": 210,
                    "voicetelemetry.cost.unpriced_charges": 1, "voicetelemetry.cost.unpriced": ["tts:otlp-other"]}
    session = {k: v for k, v in attrs(root).items() if k.startswith("voicetelemetry.session.cost.")}
    assert session == {"voicetelemetry.session.cost.currency": "USD", "voicetelemetry.session.cost.stt_micros": 0,
                       "voicetelemetry.session.cost.llm_micros": 210, "voicetelemetry.session.cost.tts_micros": 0,
                       "voicetelemetry.session.cost.realtime_micros": 0,
                       "voicetelemetry.session.cost.transport_micros": 4000,
                       "voicetelemetry.session.cost.total_micros": 4210,
                       "voicetelemetry.session.cost.unpriced_charges": 1}
