"""LiveKit Agents with voicetelemetry, offline: what ``instrument()`` makes of an AgentSession's events.

A LiveKit AgentSession runs inside a job connected to a room, with provider plugins; offline, this app
makes a real ``AgentSession`` emit, in real time, the events a running one emits for two turns (LiveKit's
own event, ChatMessage and metrics classes, stamped with ``time.time()`` as LiveKit stamps them): a
cascaded agent (STT, LLM, TTS), or with ``--realtime`` a speech-to-speech agent (the session holds
LiveKit's OpenAI realtime model class, never connected). In a real agent the only voicetelemetry
lines are::

    from voicetelemetry.integrations.livekit import instrument
    vt_session = instrument(session, labels={"transport": "webrtc"})   # before session.start(...)

Run from the repository root (``pip install "./examples-python[livekit]"``):

    python3 examples-python/integrations/livekit_app.py --port 9464 [--realtime]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from livekit.agents import AgentSession, inference  # noqa: E402
from livekit.agents.llm import ChatMessage  # noqa: E402
from livekit.agents.metrics import (  # noqa: E402
    AgentSessionUsage, LLMMetrics, ModelUsageCollector, RealtimeModelMetrics, TTSMetrics,
)
from livekit.agents.metrics.base import Metadata  # noqa: E402
from livekit.agents.voice.events import (  # noqa: E402
    AgentStateChangedEvent, CloseEvent, CloseReason, ConversationItemAddedEvent,
    MetricsCollectedEvent, SessionUsageUpdatedEvent, UserInputTranscribedEvent, UserStateChangedEvent,
)

from voicetelemetry.integrations import serve_metrics  # noqa: E402
from voicetelemetry.integrations.livekit import instrument  # noqa: E402


def converse(session, scale):
    def pause(s):
        time.sleep(s * scale)

    for question, answer in (("What's the weather?", "Sunny."), ("And tomorrow?", "Rain.")):
        session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking"))
        spoke = time.time()
        pause(0.8)
        stopped = time.time()
        pause(0.3)
        session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking", new_state="listening"))
        session.emit("user_input_transcribed", UserInputTranscribedEvent(transcript=question, is_final=True))
        pause(0.1)
        committed = time.time()
        session.emit("conversation_item_added", ConversationItemAddedEvent(item=ChatMessage(
            role="user", content=[question],
            metrics={"started_speaking_at": spoke, "stopped_speaking_at": stopped,
                     "transcription_delay": 0.3, "end_of_turn_delay": committed - stopped})))
        session.emit("agent_state_changed", AgentStateChangedEvent(old_state="listening", new_state="thinking"))
        llm_start = time.time()
        pause(0.3)
        llm_end = time.time()
        session.emit("metrics_collected", MetricsCollectedEvent(metrics=LLMMetrics(
            label="openai.LLM", request_id="r", timestamp=llm_end, duration=llm_end - llm_start,
            ttft=0.2 * scale, cancelled=False, completion_tokens=12, prompt_tokens=80,
            prompt_cached_tokens=0, total_tokens=92, tokens_per_second=40.0,
            metadata=Metadata(model_name="gpt-4o-mini", model_provider="openai"))))
        tts_start = llm_end
        pause(0.1)
        speaking = time.time()
        session.emit("agent_state_changed", AgentStateChangedEvent(old_state="thinking", new_state="speaking"))
        pause(0.4)
        tts_end = time.time()
        session.emit("metrics_collected", MetricsCollectedEvent(metrics=TTSMetrics(
            label="cartesia.TTS", request_id="t", timestamp=tts_end, ttfb=0.08 * scale,
            duration=tts_end - tts_start, audio_duration=0.4, cancelled=False,
            characters_count=len(answer), streamed=True,
            metadata=Metadata(model_name="sonic-2", model_provider="cartesia"))))
        done = time.time()
        session.emit("agent_state_changed", AgentStateChangedEvent(old_state="speaking", new_state="listening"))
        session.emit("conversation_item_added", ConversationItemAddedEvent(item=ChatMessage(
            role="assistant", content=[answer],
            metrics={"started_speaking_at": speaking, "stopped_speaking_at": done,
                     "e2e_latency": speaking - stopped})))
    session.emit("close", CloseEvent(reason=CloseReason.USER_INITIATED))


def converse_realtime(session, scale):
    """Two turns as LiveKit's realtime path emits them: the server VAD's user states, the first audio,
    the model's transcript of the user (created at the speech start), RealtimeModelMetrics at
    response.done (timestamp = response created, ttft = first audio) and the running usage."""
    model, usage = session.llm, ModelUsageCollector()

    def pause(s):
        time.sleep(s * scale)

    for question, answer in (("What's the weather?", "Sunny."), ("And tomorrow?", "Rain.")):
        spoke = time.time()          # LiveKit stamps a user state with its (VAD) speech time
        session.emit("user_state_changed", UserStateChangedEvent(old_state="listening", new_state="speaking",
                                                                 created_at=spoke))
        pause(0.8)
        stopped = time.time()
        session.emit("user_state_changed", UserStateChangedEvent(old_state="speaking", new_state="listening",
                                                                 created_at=stopped))
        pause(0.2)
        created = time.time()                       # response.created
        pause(0.3)
        first_audio = time.time()
        pause(0.05)
        speaking = time.time()
        session.emit("agent_state_changed", AgentStateChangedEvent(old_state="listening", new_state="speaking"))
        session.emit("conversation_item_added", ConversationItemAddedEvent(item=ChatMessage(
            role="user", content=[question], created_at=spoke, transcript_confidence=1.0,
            metrics={"started_speaking_at": spoke})))
        pause(0.4)
        metrics = RealtimeModelMetrics(
            label=model.label, request_id="resp", timestamp=created, ttft=first_audio - created,
            duration=time.time() - created, input_tokens=140, output_tokens=95, total_tokens=235,
            input_token_details=RealtimeModelMetrics.InputTokenDetails(text_tokens=20, audio_tokens=120),
            output_token_details=RealtimeModelMetrics.OutputTokenDetails(text_tokens=15, audio_tokens=80),
            metadata=Metadata(model_name=model.model, model_provider=model.provider))
        session.emit("metrics_collected", MetricsCollectedEvent(metrics=metrics))
        usage.collect(metrics)
        session.emit("session_usage_updated", SessionUsageUpdatedEvent(
            usage=AgentSessionUsage(model_usage=usage.flatten())))
        pause(0.3)
        session.emit("agent_state_changed", AgentStateChangedEvent(old_state="speaking", new_state="listening"))
        done = time.time()
        session.emit("conversation_item_added", ConversationItemAddedEvent(item=ChatMessage(
            role="assistant", content=[answer],
            metrics={"started_speaking_at": speaking, "stopped_speaking_at": done,
                     "e2e_latency": speaking - stopped})))
    session.emit("close", CloseEvent(reason=CloseReason.USER_INITIATED))


def describe(t):
    if t["realtime"]["ttfa_ns"] is not None:
        return (f"realtime ttfa {t['realtime']['ttfa_ns'] / 1e6:.0f} ms, audio tokens in/out "
                f"{t['tokens']['input_audio']}/{t['tokens']['output_audio']}")
    return f"llm ttft {t['llm']['ttft_ns'] / 1e6:.0f} ms, tts ttfb {t['tts']['ttfb_ns'] / 1e6:.0f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=9464, help="/metrics on 127.0.0.1 (0: ephemeral)")
    ap.add_argument("--scale", type=float, default=1.0, help="time scale of the script")
    ap.add_argument("--realtime", action="store_true", help="a speech-to-speech (realtime model) agent")
    args = ap.parse_args()
    if args.realtime:
        model = inference.RealtimeModel(model="openai/gpt-realtime", api_key="offline", api_secret="offline")
        session, converse_fn = AgentSession(llm=model), converse_realtime
    else:
        session, converse_fn = AgentSession(), converse
    vs = instrument(session, labels={"transport": "offline"}, session_id="livekit-demo")
    with serve_metrics(port=args.port) as metrics:
        print(f"metrics at {metrics.url}")
        converse_fn(session, args.scale)
        for t, lk in zip(vs.turn_history(), vs.framework_turns):
            print(f"turn {t['turn_id']}: e2e ours {t['e2e_latency_ns'] / 1e6:.1f} ms, LiveKit's "
                  f"{lk['livekit_e2e_latency_s'] * 1e3:.1f} ms; {describe(t)}")
        body = urllib.request.urlopen(metrics.url, timeout=5).read().decode()
        print("\n".join(line for line in body.splitlines()
                        if line.startswith("voicetelemetry_turn_e2e_latency_seconds_count")))
    print("session tokens:", vs.final_snapshot["token_totals"]["total"])
    print("ended:", vs.ended)


if __name__ == "__main__":
    main()
