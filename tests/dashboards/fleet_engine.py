"""A voice-engine process for the dashboard suite: it plays scripted calls on a loop and serves its
own /metrics through http_exporter.so, loaded with the Python binding.

    python3 fleet_engine.py HTTP_EXPORTER_SO PORT_FILE [SINK_SO[:QUEUE_CAPACITY] ...]

The extra sinks are loaded beside the endpoint (e.g. a slow one with a tiny queue, one that
answers FATAL): what the plugin panels and alerts watch. The first stdout line is {"port": N} once
the endpoint listens (or {"error": ...}); then it plays calls until stdin closes, and exits at once
(os._exit: the sinks' queues are not drained).

Every call runs on its own media clock with explicit timestamps, and every turn of every call has
the same stage timings (TIMINGS_MS), so each stage histogram holds one value: whatever the scrape
timing, histogram_quantile over any window returns the same interpolation inside that value's
bucket (tests/dashboards/test_live_prometheus.py relies on it). The transports differ only in the
part after the TTS first byte (REMAINDER_MS), so their e2e latencies land in different buckets.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples-python"))
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))

import voicetelemetry as vt  # noqa: E402

MS = 1_000_000
#: Stage timings of every turn (ms): STT final after the user's speech end, EOU delay, LLM time to
#: first token, TTS time to first byte, and the barge-in latency of the interrupted turn.
TIMINGS_MS = {"stt": 120, "eou": 80, "llm_ttft": 270, "tts_ttfb": 110, "barge_in": 180}
#: First agent audio after the TTS first byte, by transport (the e2e latency's remainder).
REMAINDER_MS = {"sip": 30, "webrtc": 10}
#: The calls of one loop: (transport, provider) session labels.
CALLS = [("sip", "acme"), ("webrtc", "acme"), ("webrtc", "globex")]
#: Session labels that label the turn families' series (default: transport only).
TURN_FAMILY_LABELS = ["transport", "provider"]
TURN_FAMILIES = ["voicetelemetry_turn_e2e_latency_seconds", "voicetelemetry_turn_stt_latency_seconds",
                 "voicetelemetry_turn_eou_delay_seconds", "voicetelemetry_turn_llm_ttft_seconds",
                 "voicetelemetry_turn_tts_ttfb_seconds"]
LOOP_PAUSE_S = 0.3

S, M = vt.TurnStage, vt.TurnMark


def e2e_ms(transport: str) -> int:
    t = TIMINGS_MS
    return t["stt"] + t["eou"] + t["llm_ttft"] + t["tts_ttfb"] + REMAINDER_MS[transport]


def play_turn(s: vt.Session, speech_start: int, t0: int, transport: str, *, vad_start: bool = True,
              tools: bool = False, barge_in: bool = False) -> int:
    """One cascaded turn: user speech from speech_start (recorded as a VAD start unless vad_start is
    False: a barge-in already did) to t0; returns when the agent's speech ended."""
    t = {k: v * MS for k, v in TIMINGS_MS.items()}
    stt = t0 + t["stt"]
    eou = stt + t["eou"]
    llm = eou + t["llm_ttft"]
    tts = llm + t["tts_ttfb"]
    audio = tts + REMAINDER_MS[transport] * MS
    if vad_start:
        s.record_vad_start(speech_start)
    s.turn_mark(S.STT, M.START, speech_start)
    s.record_vad_end(t0)
    s.turn_mark(S.STT, M.FINAL, stt)
    s.turn_mark(S.EOU, M.START, stt)
    s.turn_mark(S.EOU, M.END, eou)
    s.turn_mark(S.LLM, M.START, eou)
    if tools:
        s.turn_error(S.LLM, eou + 5 * MS)
        s.turn_fallback(S.LLM, vt.FallbackKind.SWITCH, "acme-llm", "backup-llm", "timeout", eou + 6 * MS)
        s.turn_tool_call(vt.ToolKind.FUNCTION, "lookup_order", eou + 10 * MS, eou + 60 * MS, True)
        s.turn_tool_call(vt.ToolKind.MCP, "send_sms", eou + 70 * MS, eou + 90 * MS, False)
    s.turn_mark(S.LLM, M.FIRST, llm)
    s.turn_mark(S.TTS, M.START, llm)
    s.turn_mark(S.TTS, M.FIRST, tts)
    s.turn_usage(S.LLM, input=300, output=40, cached_input=100, input_text=300, output_text=40)
    s.record_audio_out(640, audio)
    s.record_audio_out(640, audio + 20 * MS)
    if barge_in:
        user = audio + 1000 * MS
        s.record_vad_start(user)
        s.record_interruption(user)
        end = user + t["barge_in"]
        s.turn_mark(S.AGENT_SPEECH, M.END, end)
        return user
    end = audio + 2000 * MS
    s.turn_mark(S.AGENT_SPEECH, M.END, end)
    s.record_turn_complete(end)
    return end


def play_call(n: int, transport: str, provider: str) -> tuple:
    """A call of three turns: a plain one; one with tool calls, an LLM error and a fallback that the
    user interrupts; the turn that barge-in started. Returns (session, its last time): the next
    loop ends it then."""
    s = vt.Session(f"call-{n}-{transport}-{provider}", {"transport": transport, "provider": provider},
                   1000 * MS, clock=vt.Clock.MEDIA)
    end = play_turn(s, 1000 * MS, 2500 * MS, transport)
    barge = play_turn(s, end + 1000 * MS, end + 3000 * MS, transport, tools=True, barge_in=True)
    end = play_turn(s, barge, barge + 1500 * MS, transport, vad_start=False)
    return s, end + 500 * MS


def load_sinks(http_so: str, port_file: str, extra: list) -> list:
    plugins = [vt.load_plugin(http_so, {"listen": "127.0.0.1:0", "port_file": port_file})]
    for spec in extra:
        path, _, cap = spec.partition(":")
        plugins.append(vt.load_plugin(path, {"queue_capacity": int(cap)} if cap else {}))
    return plugins


def watch_stdin() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> int:
    http_so, port_file, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    for family in TURN_FAMILIES:
        vt.register_labels(family, TURN_FAMILY_LABELS)
    try:
        plugins = load_sinks(http_so, port_file, extra)
        port = int(Path(port_file).read_text().strip().rpartition(":")[2])
    except (vt.VoiceTelemetryError, OSError, ValueError) as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        return 1
    print(json.dumps({"port": port, "plugins": [p.name for p in plugins]}), flush=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    open_calls: list = []
    n = 0
    while True:
        for s, end in open_calls:
            s.end(end)
        open_calls = [play_call(n, transport, provider) for transport, provider in CALLS]
        n += 1
        time.sleep(LOOP_PAUSE_S)


if __name__ == "__main__":
    sys.exit(main())
