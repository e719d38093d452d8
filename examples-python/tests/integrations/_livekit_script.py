"""Drives a real LiveKit ``AgentSession`` (not started) through its own emitter with LiveKit's real
event, message and metrics classes, at scripted wall-clock stamps (imported by the test_livekit* files).

Every ``created_at`` and metrics stamp is ``WALL + offset`` in whole milliseconds, so records are
asserted exactly: the adapter converts stamps in whole microseconds, far above a float's 0.24 us
resolution at today's epoch. Metrics go out as ``AgentActivity._on_metrics_collected`` sends them in
livekit-agents 1.8: ``metrics_collected``, then ``session_usage_updated`` with the session's running
usage from LiveKit's own ``ModelUsageCollector``.
"""
from __future__ import annotations

import re

from livekit.agents.llm import ChatMessage
from livekit.agents.metrics import (AgentSessionUsage, LLMMetrics, ModelUsageCollector,
                                    RealtimeModelMetrics, STTMetrics, TTSMetrics)
from livekit.agents.metrics.base import Metadata
from livekit.agents.inference import OverlappingSpeechEvent
from livekit.agents.voice.events import (AgentFalseInterruptionEvent, AgentStateChangedEvent, CloseEvent,
                                         CloseReason, ConversationItemAddedEvent, MetricsCollectedEvent,
                                         SessionUsageUpdatedEvent, UserInputTranscribedEvent,
                                         UserStateChangedEvent)

from voicetelemetry.integrations.livekit import ANCHOR_T_NS

WALL = 1_800_000_000.0          # the wall-clock anchor (time.time() of the run)
MS = 1_000_000


def w(ms):
    """A LiveKit wall-clock stamp, ``ms`` after the anchor."""
    return WALL + ms / 1000


def T(ms):
    """Where that stamp lands on the session's clock."""
    return ANCHOR_T_NS + ms * MS


class Script:
    def __init__(self, agent_session, usage=True):
        self.s = agent_session
        self.user_state, self.agent_state = "listening", "listening"
        self.collector = ModelUsageCollector() if usage else None

    def user(self, ms, state):
        self.s.emit("user_state_changed", UserStateChangedEvent(
            old_state=self.user_state, new_state=state, created_at=w(ms)))
        self.user_state = state

    def agent(self, ms, state):
        self.s.emit("agent_state_changed", AgentStateChangedEvent(
            old_state=self.agent_state, new_state=state, created_at=w(ms)))
        self.agent_state = state

    def transcript(self, ms, text, final=True):
        self.s.emit("user_input_transcribed", UserInputTranscribedEvent(
            transcript=text, is_final=final, created_at=w(ms)))

    def item(self, ms, role, text, metrics, interrupted=False, created_ms=None, **fields):
        msg = ChatMessage(role=role, content=[text], metrics=metrics, interrupted=interrupted,
                          created_at=w(ms if created_ms is None else created_ms), **fields)
        self.s.emit("conversation_item_added", ConversationItemAddedEvent(item=msg, created_at=w(ms)))

    def metrics(self, ms, m):
        self.s.emit("metrics_collected", MetricsCollectedEvent(metrics=m, created_at=w(ms)))
        if self.collector is not None:
            self.collector.collect(m)
            self.s.emit("session_usage_updated", SessionUsageUpdatedEvent(
                usage=AgentSessionUsage(model_usage=self.collector.flatten()), created_at=w(ms)))

    def llm(self, start_ms, ttft_ms, end_ms, prompt, completion, cached=0):
        self.metrics(end_ms, LLMMetrics(
            label="livekit.plugins.openai.LLM", request_id=f"r{start_ms}", timestamp=w(end_ms),
            duration=(end_ms - start_ms) / 1000, ttft=ttft_ms / 1000, cancelled=False,
            completion_tokens=completion, prompt_tokens=prompt, prompt_cached_tokens=cached,
            total_tokens=prompt + completion, tokens_per_second=10.0,
            metadata=Metadata(model_name="gpt-4o-mini", model_provider="openai")))

    def tts(self, start_ms, ttfb_ms, end_ms, chars, tokens=(0, 0)):
        self.metrics(end_ms, TTSMetrics(
            label="livekit.plugins.cartesia.TTS", request_id=f"t{start_ms}", timestamp=w(end_ms),
            ttfb=ttfb_ms / 1000, duration=(end_ms - start_ms) / 1000, audio_duration=1.0,
            cancelled=False, characters_count=chars, streamed=True, input_tokens=tokens[0],
            output_tokens=tokens[1], metadata=Metadata(model_name="sonic-2", model_provider="cartesia")))

    def stt(self, ms, audio_s, input_tokens=0, audio_tokens=0, output_tokens=0):
        self.metrics(ms, STTMetrics(
            label="livekit.plugins.deepgram.STT", request_id=f"s{ms}", timestamp=w(ms), duration=0.0,
            audio_duration=audio_s, streamed=True, input_tokens=input_tokens,
            input_audio_tokens=audio_tokens, output_tokens=output_tokens,
            metadata=Metadata(model_name="nova-3", model_provider="deepgram")))

    def realtime(self, model, created_ms, ttft_ms, done_ms, inp=(0, 0, 0), out=(0, 0), cached=(0, 0),
                 cancelled=False, request_id=None):
        """A response as the OpenAI realtime session reports it at response.done: ``timestamp`` =
        created, ``ttft`` = first audio - created (None: no audio, -1), ``duration`` = created -> done.
        inp = (text, audio, image) tokens, out = (text, audio), cached = (text, audio)."""
        details = RealtimeModelMetrics.InputTokenDetails(
            text_tokens=inp[0], audio_tokens=inp[1], image_tokens=inp[2], cached_tokens=sum(cached),
            cached_tokens_details=RealtimeModelMetrics.CachedTokenDetails(text_tokens=cached[0],
                                                                          audio_tokens=cached[1]))
        self.metrics(done_ms, RealtimeModelMetrics(
            label=model.label, request_id=request_id or f"resp_{created_ms}", timestamp=w(created_ms),
            duration=(done_ms - created_ms) / 1000,
            ttft=-1 if ttft_ms is None else ttft_ms / 1000, cancelled=cancelled,
            input_tokens=sum(inp), output_tokens=sum(out), total_tokens=sum(inp) + sum(out),
            input_token_details=details,
            output_token_details=RealtimeModelMetrics.OutputTokenDetails(text_tokens=out[0],
                                                                         audio_tokens=out[1]),
            metadata=Metadata(model_name=model.model, model_provider=model.provider)))

    def overlap(self, started_ms, detected_ms, interruption, agent_ended=False):
        self.s.emit("overlapping_speech", OverlappingSpeechEvent(
            created_at=w(detected_ms), detected_at=w(detected_ms), is_interruption=interruption,
            agent_ended=agent_ended, overlap_started_at=w(started_ms), probability=0.9 if interruption else 0.1,
            detection_delay=(detected_ms - started_ms) / 1000))

    def false_interruption(self, ms, resumed=True):
        self.s.emit("agent_false_interruption", AgentFalseInterruptionEvent(resumed=resumed,
                                                                            created_at=w(ms)))

    def close(self, ms):
        self.s.emit("close", CloseEvent(reason=CloseReason.USER_INITIATED, created_at=w(ms)))


def prom_counter(prom, family, transport, **labels):
    """The value of one sample of ``family`` in Prometheus text, by its transport and other labels."""
    for line in prom.splitlines():
        if not line.startswith(family + "{"):
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if got.get("transport") == transport and all(got.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
