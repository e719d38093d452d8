"""LiveKit Agents integration: ``instrument(agent_session)`` feeds voicetelemetry's turn collector.

Two lines::

    from voicetelemetry.integrations.livekit import instrument
    vt_session = instrument(session, labels={"transport": "webrtc"})   # before session.start(...)

It listens to the ``AgentSession``'s events and returns one :class:`IntegrationSession` (a
:class:`~voicetelemetry.Session`) tied to the agent session's lifetime: it ends at ``close``.

**One clock.** LiveKit's timestamps are wall-clock floats (``time.time()``). They are converted once
per session through one anchor: the session is on ``Clock.MEDIA`` and starts at ``ANCHOR_T_NS``
(60 s) at the wall-clock instant ``wall_anchor`` (``time.time()`` when ``instrument`` is called), so
``t_ns = ANCHOR_T_NS + round((wall - wall_anchor) * 1e6) * 1000`` (whole microseconds: a float of
``time.time()`` has a resolution of about 0.24 us). Every latency is the difference of two stamps
converted through the same anchor; no monotonic reading is ever mixed in.

**Mixed clocks (LiveKit #3591, #6093).** LiveKit's ``ChatMessage.metrics`` stamps
(``started_speaking_at``, ``stopped_speaking_at``) are used only when they are consistent with what
this adapter observed itself (the events' own ``created_at``): started <= stopped <= the message's
commit, the commit at most 30 s after the speech end. Otherwise the observed state changes
(``user_state_changed`` speaking/listening, ``agent_state_changed`` speaking/other) are used, and a
``livekit.clock_mismatch`` event carries LiveKit's raw values. STT final and end of utterance come
from the adapter's own observations (the final ``user_input_transcribed`` and the user message's
``conversation_item_added``), never from LiveKit's ``transcription_delay`` / ``end_of_turn_delay``.

The mapping, event by event, is the table in ``examples-python/integrations/README.md``: cascaded
turns (STT, end of utterance, LLM, TTS), realtime models (``RealtimeModelMetrics``), usage
(per-request metrics and ``session_usage_updated``), barge-ins (``user_state_changed`` while the
agent speaks, ``overlapping_speech``) and false interruptions (``agent_false_interruption``).

**LiveKit's own numbers beside ours.** After each turn a ``livekit.turn_metrics`` event (to the loaded
sink plugins) carries LiveKit's ``e2e_latency``, ``llm_node_ttft``, ``tts_node_ttfb``,
``transcription_delay`` and ``end_of_turn_delay`` with our ``turn_id`` and ``e2e_latency_s``; the same
dict is appended to ``vt_session.framework_turns``. LiveKit's usage by model is kept in
``vt_session.framework_usage`` and sent as a ``livekit.session_usage`` event at ``close``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from livekit.agents import llm as lk_llm
from livekit.agents import stt as lk_stt
from livekit.agents import tts as lk_tts
from livekit.agents.metrics import (LLMMetrics, ModelUsageCollector, RealtimeModelMetrics, STTMetrics,
                                    TTSMetrics)

from .. import Clock, TextPolicy, ToolKind, TurnMark, TurnStage, TurnTextKind, TurnValueKey
from ._common import guarded, merged_labels
from ._session import IntegrationSession

__all__ = ["instrument", "ANCHOR_T_NS", "IntegrationSession"]

log = logging.getLogger("voicetelemetry.integrations.livekit")

#: The session clock's reading at the wall-clock anchor (leaves a minute for stamps before it).
ANCHOR_T_NS = 60 * 1_000_000_000
_S, _M = TurnStage, TurnMark
_MAX_EOU_S = 30.0
_EVENTS = ("user_state_changed", "agent_state_changed", "user_input_transcribed",
           "conversation_item_added", "metrics_collected", "session_usage_updated",
           "function_tools_executed", "overlapping_speech", "agent_false_interruption",
           "speech_created", "error", "close")

#: session_usage_updated: the token fields of LiveKit's usage types, as vt_turn_usage fields, and
#: the stage that used them (llm_usage is the LLM's or the realtime model's, decided per model).
_USAGE_FIELDS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "llm_usage": (("input_tokens", "input"), ("output_tokens", "output"),
                  ("input_cached_tokens", "cached_input"), ("output_reasoning_tokens", "reasoning"),
                  ("input_text_tokens", "input_text"), ("input_audio_tokens", "input_audio"),
                  ("input_image_tokens", "input_image"), ("output_text_tokens", "output_text"),
                  ("output_audio_tokens", "output_audio")),
    "stt_usage": (("input_tokens", "input"), ("input_audio_tokens", "input_audio"),
                  ("output_tokens", "output")),
    "tts_usage": (("input_tokens", "input"), ("output_tokens", "output")),
}
_USAGE_STAGE = {"stt_usage": _S.STT, "tts_usage": _S.TTS}

Item = Tuple[int, int, Callable[..., Any], tuple, dict]


def _ns(seconds: float) -> int:
    """A duration in seconds -> ns, in whole microseconds (as the clock conversion)."""
    return round(seconds * 1e6) * 1000


def _stage_of_source(source: Any) -> Optional[int]:
    if isinstance(source, lk_llm.RealtimeModel):
        return _S.REALTIME
    if isinstance(source, lk_llm.LLM):
        return _S.LLM
    if isinstance(source, lk_stt.STT):
        return _S.STT
    if isinstance(source, lk_tts.TTS):
        return _S.TTS
    return None


def _model_key(m: Any) -> Tuple[str, str]:
    """(provider, model) of a metrics object, as LiveKit's ModelUsageCollector keys it."""
    meta = getattr(m, "metadata", None)
    return ((getattr(meta, "model_provider", None) or ""), (getattr(meta, "model_name", None) or ""))


@dataclass
class _Request:
    """One LLM request or realtime response on the session clock (first: None if it had none)."""
    start: int
    first: Optional[int]
    end: int


@dataclass
class _Overlap:
    """User speech that began while the agent spoke: a barge-in candidate."""
    start: int                       # the user's speech start
    detected: Optional[int] = None   # overlapping_speech: when LiveKit judged it an interruption
    silenced: Optional[int] = None   # the agent's first stop after it (a pause or the end)
    resumed: Optional[int] = None    # the agent speaking again after that pause


class _UsageLedger:
    """``session_usage_updated`` (LiveKit's running totals by model) against the per-request
    metrics already reported to the turns, so no token is counted twice.

    ``reported`` is LiveKit's own ``ModelUsageCollector`` fed with exactly the requests whose tokens
    went to a turn; ``settled`` what earlier updates already added beyond them. The residual of an
    update (LiveKit's total - reported - settled, per model and field) is what no per-request
    metric carried: STT and TTS tokens, a request that came after its turn, or everything if
    LiveKit stops emitting ``metrics_collected`` (deprecated there)."""

    def __init__(self) -> None:
        self.reported = ModelUsageCollector()
        self.settled: Dict[Tuple[str, str, str], Dict[str, int]] = {}
        self.session_llm: Dict[str, int] = {}

    def residuals(self, usage: List[Any]) -> List[Tuple[Any, Dict[str, int]]]:
        mine = {(u.type, u.provider, u.model): u for u in self.reported.flatten()}
        out = []
        for u in usage:
            key = (u.type, u.provider, u.model)
            done = self.settled.setdefault(key, {})
            delta = {}
            for src, dst in _USAGE_FIELDS.get(u.type, ()):
                v = getattr(u, src, 0) - getattr(mine.get(key), src, 0) - done.get(dst, 0)
                if v > 0:
                    delta[dst] = v
                    done[dst] = done.get(dst, 0) + v
            if delta:
                out.append((u, delta))
        return out

    def session_delta(self, usage: List[Any]) -> Optional[Dict[str, int]]:
        """The growth of LiveKit's LLM / realtime-model totals since the last update, if any."""
        fields = ("input_tokens", "output_tokens", "input_cached_tokens", "output_reasoning_tokens")
        now = {f: sum(getattr(u, f, 0) for u in usage if u.type == "llm_usage") for f in fields}
        delta = {f: now[f] - self.session_llm.get(f, 0) for f in fields}
        if not any(v > 0 for v in delta.values()):
            return None
        self.session_llm = now
        return {f: max(v, 0) for f, v in delta.items()}


class _Adapter:
    """The per-session state between LiveKit's events and the core's calls."""

    def __init__(self, agent_session: Any, vs: IntegrationSession, wall_anchor: float) -> None:
        self.agent_session = agent_session
        self.vs = vs
        self.wall_anchor = wall_anchor
        self.handlers: List[Tuple[str, Callable[..., None]]] = []
        # the user's side
        self.user_speaking_at: Optional[int] = None
        self.user_listening_at: Optional[int] = None
        self.user_applied = False           # that speech's marks are in the core (realtime)
        self.turn_anchor: Optional[int] = None
        self.carried_start: Optional[int] = None
        self.first_interim_at: Optional[int] = None
        self.final_at: Optional[int] = None
        self.user_lk: Dict[str, Any] = {}
        # the agent's side
        self.agent_speaking = False
        self.agent_speaking_at: Optional[int] = None
        self.agent_stopped_at: Optional[int] = None
        self.last_agent_start: Optional[int] = None
        self.overlap: Optional[_Overlap] = None
        self.thinking_at: Optional[int] = None
        self.tts_seen = False
        self.pending: List[Item] = []
        self.llm_requests: List[_Request] = []
        self.rt_requests: List[_Request] = []
        self.deferred: Optional[Tuple[Any, int]] = None
        # models and usage
        self.realtime_seen = False
        self.model_stage: Dict[Tuple[str, str], int] = {}
        self.usage = _UsageLedger()
        self.providers: Dict[int, Tuple[str, Optional[str]]] = {}
        self.seq = 0

    # -- clock ---------------------------------------------------------------------------------

    def t(self, wall: Optional[float]) -> Optional[int]:
        """A LiveKit wall-clock float -> ns on the session clock, through the one anchor."""
        if wall is None:
            return None
        t = ANCHOR_T_NS + round((float(wall) - self.wall_anchor) * 1e6) * 1000
        return t if t > 0 else 1

    # -- core calls ----------------------------------------------------------------------------

    def call(self, what: str, *args: Any, **kwargs: Any) -> Any:
        return guarded(self.vs.refused, what, getattr(self.vs, what), *args, **kwargs)

    def later(self, t: int, what: str, *args: Any, **kwargs: Any) -> None:
        """An agent-side call held until the assistant message, applied in time order."""
        self.seq += 1
        self.pending.append((t, self.seq, getattr(self.vs, what), args, kwargs))

    def apply(self, items: List[Item]) -> None:
        for _t, _seq, fn, args, kwargs in sorted(items, key=lambda x: (x[0], x[1])):
            guarded(self.vs.refused, fn.__name__, fn, *args, **kwargs)

    def flush_pending(self) -> None:
        if self.pending:
            items, self.pending = self.pending, []
            self.apply(items)

    def provider(self, stage: int, provider: Optional[str], model: Optional[str], t: int) -> None:
        if not provider and not model:
            return
        key = (provider or "unknown", model or None)
        if self.providers.get(stage) != key:
            self.providers[stage] = key
            self.call("turn_provider", stage, key[0], key[1], t)

    def realtime_mode(self) -> bool:
        """The agent answers with a speech-to-speech model (seen in its metrics, or configured)."""
        if self.realtime_seen:
            return True
        try:
            model = self.agent_session.current_agent.llm
        except Exception:   # no agent running yet
            model = None
        if not isinstance(model, (lk_llm.LLM, lk_llm.RealtimeModel)):
            model = getattr(self.agent_session, "llm", None)
        return isinstance(model, lk_llm.RealtimeModel)

    # -- events: states ------------------------------------------------------------------------

    def on_user_state_changed(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        if ev.new_state == "speaking":
            self.user_speaking_at, self.user_listening_at = t, None
            self.user_applied = False
            if self.agent_speaking:
                self.overlap = _Overlap(start=t)
        elif ev.old_state == "speaking":
            self.user_listening_at = t

    def on_agent_state_changed(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        if ev.new_state == "thinking" and self.thinking_at is None:
            self.thinking_at = t
        if ev.new_state == "speaking":
            self.flush_deferred()
            if self.agent_speaking_at is None:      # a new speech (not a resume after a pause)
                self.agent_speaking_at, self.overlap = t, None
                if self.realtime_mode():
                    self.commit_observed_user()
            elif self.overlap and self.overlap.silenced is not None and self.overlap.resumed is None:
                self.overlap.resumed = t
            self.agent_speaking, self.agent_stopped_at = True, None
        elif ev.old_state == "speaking":
            self.agent_speaking, self.agent_stopped_at = False, t
            if self.overlap and self.overlap.silenced is None:
                self.overlap.silenced = t

    def on_overlapping_speech(self, ev: Any) -> None:
        """LiveKit's interruption detector judged speech that overlapped the agent's."""
        start = self.t(ev.overlap_started_at)
        if ev.is_interruption:
            start = start or (self.overlap.start if self.overlap else self.t(ev.detected_at))
            if self.overlap is None:
                self.overlap = _Overlap(start=start)
            self.overlap.start, self.overlap.detected = start, self.t(ev.detected_at)
        elif not ev.agent_ended and self.overlap is not None:
            self.drop_overlapping_speech()      # a backchannel (agent_ended: inconclusive)
        self.call("emit", "livekit.overlapping_speech",
                  {"is_interruption": bool(ev.is_interruption), "agent_ended": bool(ev.agent_ended),
                   "probability": ev.probability, "detection_delay_s": ev.detection_delay,
                   "overlap_start_ns": start}, t_ns=self.t(ev.created_at))

    def on_agent_false_interruption(self, ev: Any) -> None:
        """The agent paused for user speech that said nothing; ``resumed``: it went on."""
        t = self.t(ev.created_at)
        ov = self.overlap
        start = t if ov is None else ov.silenced if ov.silenced is not None else ov.start
        self.later(start, "turn_mark", _S.FALSE_INTERRUPTION, _M.START, start)
        if ov is not None and ov.silenced is not None:
            back = ov.resumed if ov.resumed is not None else t
            self.later(start, "turn_value", TurnValueKey.FALSE_INTERRUPTION_PAUSE_SECONDS,
                       (back - ov.silenced) / 1e9, start)
        if ev.resumed:
            self.later(t, "turn_mark", _S.FALSE_INTERRUPTION, _M.RESUMED, t)
            self.drop_overlapping_speech()

    def drop_overlapping_speech(self) -> None:
        """The speech that overlapped the agent was no barge-in and no user turn."""
        self.overlap = None
        self.user_speaking_at = self.user_listening_at = None
        self.user_applied = True

    # -- events: transcripts, items, tools, errors, close --------------------------------------

    def on_user_input_transcribed(self, ev: Any) -> None:
        if not ev.transcript:      # a realtime model's placeholder while it transcribes
            return
        t = self.t(ev.created_at)
        if ev.is_final:
            self.final_at = t
        elif self.first_interim_at is None:
            self.first_interim_at = t

    def on_conversation_item_added(self, ev: Any) -> None:
        item = ev.item
        role = getattr(item, "role", None)
        if role == "user":
            self.commit_user(item, self.t(ev.created_at))
        elif role == "assistant":
            self.commit_agent(item, self.t(ev.created_at))

    def on_function_tools_executed(self, ev: Any) -> None:
        for call, out in ev.zipped():
            start, end = self.t(call.created_at), self.t(out.created_at)
            self.later(end, "turn_tool_call", ToolKind.FUNCTION, call.name, start, end,
                       ok=not out.is_error)

    def on_speech_created(self, ev: Any) -> None:
        pass

    def on_error(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        stage = _stage_of_source(ev.source)
        if stage is not None:
            self.call("turn_error", stage, t)
        self.call("emit", "livekit.error", {"error": repr(ev.error)[:500],
                                            "source": type(ev.source).__name__}, t_ns=t)

    def on_close(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        self.flush_deferred()
        self.flush_pending()
        self.detach()
        if self.vs.framework_usage:
            self.call("emit", "livekit.session_usage", {"model_usage": self.vs.framework_usage}, t_ns=t)
        guarded(self.vs.refused, "end", self.vs.end, t)

    # -- events: metrics and usage -------------------------------------------------------------

    def on_metrics_collected(self, ev: Any) -> None:
        m = ev.metrics
        meta = getattr(m, "metadata", None)
        provider = getattr(meta, "model_provider", None) or getattr(m, "label", None)
        model = getattr(meta, "model_name", None)
        if isinstance(m, LLMMetrics):
            self.llm_metrics(m, provider, model)
        elif isinstance(m, RealtimeModelMetrics):
            self.realtime_metrics(m, provider, model)
        elif isinstance(m, TTSMetrics):
            self.tts_metrics(m, provider, model)
        elif isinstance(m, STTMetrics):
            self.provider(_S.STT, provider, model, self.t(m.timestamp))

    def late(self, start: int) -> bool:
        """A request that began before the last completed turn's agent speech belongs to that turn,
        which is recorded: no stage marks; its tokens come in as session_usage_updated's residual."""
        return self.last_agent_start is not None and start < self.last_agent_start

    def llm_metrics(self, m: Any, provider: Optional[str], model: Optional[str]) -> None:
        end = self.t(m.timestamp)
        start = self.t(m.timestamp - m.duration)
        self.model_stage.setdefault(_model_key(m), _S.LLM)
        if self.late(start):
            return
        first = start + _ns(m.ttft) if m.ttft is not None and m.ttft >= 0 else None
        self.llm_requests.append(_Request(start, first, end))
        self.usage.reported.collect(m)
        self.provider(_S.LLM, provider, model, start)
        self.later(start, "turn_mark", _S.LLM, _M.START, start)
        self.later(end, "turn_mark", _S.LLM, _M.END, end)
        self.later(end, "turn_usage", _S.LLM, input=m.prompt_tokens, output=m.completion_tokens,
                   cached_input=m.prompt_cached_tokens or None,
                   reasoning=getattr(m, "reasoning_tokens", 0) or None, t_ns=end)

    def realtime_metrics(self, m: Any, provider: Optional[str], model: Optional[str]) -> None:
        """A speech-to-speech model's response: ``timestamp`` is its creation, ``ttft`` the first
        audio (-1: none), ``duration`` created -> done. A report with no response (the connection's
        ``acquire_time``, a session-duration bill: no request id or no timing) sets the provider only."""
        self.realtime_seen = True
        start = self.t(m.timestamp)
        self.model_stage[_model_key(m)] = _S.REALTIME
        self.provider(_S.REALTIME, provider, model, start)
        if not m.request_id or (m.duration <= 0 and m.ttft < 0) or self.late(start):
            return
        first = start + _ns(m.ttft) if m.ttft >= 0 else None
        end = start + _ns(m.duration)
        self.rt_requests.append(_Request(start, first, end))
        self.usage.reported.collect(m)
        inp, out = m.input_token_details, m.output_token_details
        self.later(end, "turn_usage", _S.REALTIME, input=m.input_tokens, output=m.output_tokens,
                   cached_input=inp.cached_tokens or None, input_text=inp.text_tokens or None,
                   input_audio=inp.audio_tokens or None, input_image=inp.image_tokens or None,
                   output_text=out.text_tokens or None, output_audio=out.audio_tokens or None, t_ns=end)
        if self.deferred is not None:    # the interrupted answer it belongs to was waiting for it
            self.flush_deferred()

    def tts_metrics(self, m: Any, provider: Optional[str], model: Optional[str]) -> None:
        self.tts_seen = True
        end = self.t(m.timestamp)
        start = self.t(m.timestamp - m.duration)
        self.provider(_S.TTS, provider, model, start)
        self.later(start, "turn_mark", _S.TTS, _M.START, start)
        if m.ttfb is not None and m.ttfb >= 0:
            first = start + _ns(m.ttfb)
            self.later(first, "turn_mark", _S.TTS, _M.FIRST, first)
        self.later(end, "turn_mark", _S.TTS, _M.END, end)
        if m.characters_count:
            self.later(end, "turn_value", TurnValueKey.TTS_CHARACTERS, m.characters_count, end)

    def on_session_usage_updated(self, ev: Any) -> None:
        """LiveKit's running usage by model: the session's token totals grow by its LLM / realtime
        growth (``vt_record_usage``); the turn gets only what no per-request metric reported."""
        t = self.t(ev.created_at)
        usage = list(ev.usage.model_usage)
        self.vs.framework_usage = [u.model_dump() for u in usage]
        delta = self.usage.session_delta(usage)
        if delta is not None:
            self.call("record_usage", total=delta["input_tokens"] + delta["output_tokens"],
                      prompt=delta["input_tokens"], response=delta["output_tokens"],
                      cached=delta["input_cached_tokens"], thoughts=delta["output_reasoning_tokens"],
                      t_ns=t)
        for u, fields in self.usage.residuals(usage):
            stage = _USAGE_STAGE.get(u.type) or self.model_stage.get(
                (u.provider, u.model), _S.REALTIME if self.realtime_mode() else _S.LLM)
            self.later(t, "turn_usage", stage, t_ns=t, **fields)

    # -- turns: the user's side ----------------------------------------------------------------

    def _mismatch(self, role: str, metrics: Mapping[str, Any], used: str) -> None:
        self.call("emit", "livekit.clock_mismatch",
                  {"role": role, "started_speaking_at": metrics.get("started_speaking_at"),
                   "stopped_speaking_at": metrics.get("stopped_speaking_at"),
                   "transcription_delay": metrics.get("transcription_delay"),
                   "end_of_turn_delay": metrics.get("end_of_turn_delay"), "used": used})

    def _checked_span(self, role: str, metrics: Mapping[str, Any], committed: int,
                      observed: Tuple[Optional[int], Optional[int]]) -> Tuple[Optional[int], Optional[int]]:
        start, stop = self.t(metrics.get("started_speaking_at")), self.t(metrics.get("stopped_speaking_at"))
        if start is not None and stop is not None and start <= stop <= committed + 1000 and \
                (role == "assistant" or committed - stop <= _MAX_EOU_S * 1e9):
            return start, stop
        if start is None and stop is None:
            return observed
        self._mismatch(role, metrics, "observed state changes")
        return observed

    def commit_user(self, msg: Any, committed: int) -> None:
        m = msg.metrics or {}
        spoke = m.get("started_speaking_at") is not None or self.user_speaking_at is not None
        if self.realtime_mode() and spoke and m.get("stopped_speaking_at") is None and \
                m.get("end_of_turn_delay") is None:
            # the realtime model's own transcript of the speech it answers (server-side turn
            # detection): a by-product, off the latency path: no STT, no end of utterance
            self.commit_model_transcript(msg, committed)
            return
        self.flush_deferred()
        self.flush_pending()    # an agent side that never got its assistant message
        if m.get("started_speaking_at") is None and m.get("stopped_speaking_at") is None and \
                self.user_speaking_at is None and self.final_at is None:
            # Typed input (session.run / generate_reply(user_input=...)): no speech, no STT; the
            # user's turn ended when LiveKit committed it (the anchor is eou_end).
            self.vs_text_turn(msg, committed)
            return
        self.commit_spoken_user(msg, m, committed)

    def commit_spoken_user(self, msg: Any, m: Mapping[str, Any], committed: int) -> None:
        start, stop = self._checked_span("user", m, committed,
                                         (self.user_speaking_at, self.user_listening_at or committed))
        if self.carried_start is not None:      # the barge-in's speech: its start is in the core
            start = self.carried_start
        final = self.final_at if self.final_at is not None else committed
        calls: List[Item] = []

        def add(t: Optional[int], fn: Callable[..., Any], *args: Any) -> None:
            if t is not None:
                calls.append((t, len(calls), fn, args, {}))

        s = self.vs
        add(start, s.turn_mark, _S.USER_SPEECH, _M.START, start)
        add(start, s.turn_mark, _S.STT, _M.START, start)
        add(self.first_interim_at, s.turn_mark, _S.STT, _M.INTERIM, self.first_interim_at)
        add(stop, s.turn_mark, _S.USER_SPEECH, _M.END, stop)
        add(stop, s.turn_mark, _S.EOU, _M.START, stop)
        add(final, s.turn_mark, _S.STT, _M.FINAL, final)
        add(committed, s.turn_mark, _S.EOU, _M.END, committed)
        self.transcript_calls(msg, final, add)
        self.apply(calls)
        self.user_lk = {k: m.get(k) for k in ("transcription_delay", "end_of_turn_delay")}
        self.turn_anchor = stop if stop is not None else committed
        self.user_side_done(all_of_it=self.user_listening_at is not None)
        self.llm_requests, self.rt_requests = [], []

    def transcript_calls(self, msg: Any, t: int, add: Callable[..., None]) -> None:
        text = msg.text_content
        if text:
            add(t, self.vs.turn_text, TurnTextKind.USER_TRANSCRIPT, text, t)
        conf = getattr(msg, "transcript_confidence", None)
        if conf is not None and 0 <= conf <= 1:
            add(t, self.vs.turn_value, TurnValueKey.STT_CONFIDENCE, conf, t)

    def user_side_done(self, all_of_it: bool = True) -> None:
        self.first_interim_at = self.final_at = self.carried_start = None
        if all_of_it:
            self.user_speaking_at = self.user_listening_at = None
        self.user_applied = True

    def vs_text_turn(self, msg: Any, committed: int) -> None:
        self.call("turn_mark", _S.EOU, _M.END, committed)
        if msg.text_content:
            self.call("turn_text", TurnTextKind.USER_TRANSCRIPT, msg.text_content, committed)
        self.user_lk = {}
        self.turn_anchor = committed
        self.user_side_done(all_of_it=False)
        self.llm_requests, self.rt_requests = [], []

    def commit_observed_user(self, said: Optional[int] = None) -> bool:
        """Realtime: the user's speech as observed (its start and end), given to the core once,
        before the answer's agent side; False if there is none to give."""
        if self.user_applied:
            return True
        self.flush_deferred()     # an interrupted answer still waiting: this speech is the next turn
        start = self.carried_start or self.user_speaking_at or said
        if start is None:
            return False
        end = self.user_listening_at
        self.call("turn_mark", _S.USER_SPEECH, _M.START, start)
        if end is not None:
            self.call("turn_mark", _S.USER_SPEECH, _M.END, end)
        self.turn_anchor = end
        self.user_lk = {}
        self.user_side_done(all_of_it=end is not None)
        return True

    def commit_model_transcript(self, msg: Any, committed: int) -> None:
        said = self.t((msg.metrics or {}).get("started_speaking_at"))
        if said is not None and self.late(said):
            # the transcript of a turn already recorded: it cannot join it
            self.call("emit", "livekit.late_transcript",
                      {"chars": len(msg.text_content or ""), "started_speaking_ns": said}, t_ns=committed)
            return
        self.commit_observed_user(said)
        self.first_interim_at = self.final_at = None
        calls: List[Item] = []
        self.transcript_calls(msg, committed, lambda t, fn, *a: calls.append((t, len(calls), fn, a, {})))
        self.apply(calls)

    # -- turns: the agent's side ---------------------------------------------------------------

    def commit_agent(self, msg: Any, committed: int) -> None:
        if msg.interrupted and self.realtime_mode() and \
                not any(r.first is not None for r in self.answer_requests(self.rt_requests)):
            # a realtime answer cut by the user: its response's metrics (response.done after the
            # cancel) usually come after the message; the record waits for them (or the next turn)
            self.flush_deferred()
            self.deferred = (msg, committed)
            return
        self.finish_agent(msg, committed)

    def flush_deferred(self) -> None:
        if self.deferred is not None:
            msg, committed = self.deferred
            self.deferred = None
            self.finish_agent(msg, committed)

    def answer_requests(self, requests: List[_Request]) -> List[_Request]:
        """The requests that answered this turn's user speech (earlier ones answered speech the
        user went on from)."""
        anchor = self.turn_anchor
        return [r for r in requests if anchor is None or r.start >= anchor]

    def finish_agent(self, msg: Any, committed: int) -> None:
        m = msg.metrics or {}
        observed_stop = self.agent_stopped_at if self.agent_stopped_at is not None else committed
        start, stop = self._checked_span("assistant", m, committed,
                                         (self.agent_speaking_at, observed_stop))
        items, self.pending = self.pending, []
        items += self.llm_items(m, start) + self.realtime_items(start)
        s = self.vs
        if start is not None:
            items.append((start, 0, s.turn_mark, (_S.AGENT_SPEECH, _M.START, start), {}))
        if msg.interrupted:
            stop = self.barge_in_items(items, start, stop)
        text = msg.text_content
        if text:
            t_text = start if start is not None else committed
            items.append((t_text, 0, s.turn_text, (TurnTextKind.AGENT_RESPONSE, text, t_text), {}))
        self.apply(items)
        end = stop if stop is not None else committed
        guarded(s.refused, "turn_mark", s.turn_mark, _S.AGENT_SPEECH, _M.END, end)
        self.report_turn(m, end)
        self.last_agent_start = start if start is not None else committed
        self.overlap = self.thinking_at = self.turn_anchor = self.agent_speaking_at = None
        self.tts_seen = self.agent_speaking = False    # LiveKit may leave "speaking" just after
        self.llm_requests, self.rt_requests = [], []
        self.user_lk = {}

    def llm_items(self, m: Mapping[str, Any], start: Optional[int]) -> List[Item]:
        s = self.vs
        if self.llm_requests:
            # FIRST: the first token of the request whose answer was spoken (after a tool call,
            # the reply's request, not the call's).
            spoken = [r for r in self.llm_requests if start is None or r.start <= start] or self.llm_requests
            first = spoken[-1].first
            return [(first, 0, s.turn_mark, (_S.LLM, _M.FIRST, first), {})] if first is not None else []
        if self.thinking_at is None or not isinstance(m.get("llm_node_ttft"), (int, float)):
            return []
        # No LLMMetrics (metrics_collected is deprecated in LiveKit): the llm node runs from the
        # agent's "thinking" state; its first token llm_node_ttft later.
        t0 = self.thinking_at
        first = t0 + _ns(m["llm_node_ttft"])
        items = [(t0, 0, s.turn_mark, (_S.LLM, _M.START, t0), {}),
                 (first, 0, s.turn_mark, (_S.LLM, _M.FIRST, first), {})]
        if not self.tts_seen and isinstance(m.get("tts_node_ttfb"), (int, float)):
            # tts_node_ttfb runs from the first text the TTS received: the LLM's first token
            ttfb = first + _ns(m["tts_node_ttfb"])
            items += [(first, 1, s.turn_mark, (_S.TTS, _M.START, first), {}),
                      (ttfb, 0, s.turn_mark, (_S.TTS, _M.FIRST, ttfb), {})]
        return items

    def realtime_items(self, start: Optional[int]) -> List[Item]:
        """The realtime stage: START of the turn's first response, FIRST (first audio) of the one
        that was spoken (after a tool call, the reply), END of the last."""
        reqs = self.answer_requests(self.rt_requests)
        if not reqs:
            return []
        s = self.vs
        spoken = [r for r in reqs if start is None or r.start <= start] or reqs
        first, t0, t1 = spoken[-1].first, reqs[0].start, max(r.end for r in reqs)
        items = [(t0, 0, s.turn_mark, (_S.REALTIME, _M.START, t0), {}),
                 (t1, 0, s.turn_mark, (_S.REALTIME, _M.END, t1), {})]
        if first is not None:
            items.append((first, 0, s.turn_mark, (_S.REALTIME, _M.FIRST, first), {}))
        return items

    def barge_in_items(self, items: List[Item], start: Optional[int], stop: Optional[int]) -> Optional[int]:
        """An interrupted answer: the user's overlapping speech START (the next turn's speech, as
        the core counts it), the barge-in (when LiveKit judged it, else that speech start), and
        the agent's speech END at its first stop after it (a pause is when the user stopped
        hearing it). Without overlapping speech (interrupted by the app): the barge-in at the end."""
        s, ov = self.vs, self.overlap
        if ov is None or (start is not None and ov.start < start):
            if stop is not None:
                items.append((stop, 0, s.turn_mark, (_S.INTERRUPTION, _M.START, stop), {}))
            return stop
        items.append((ov.start, 0, s.turn_mark, (_S.USER_SPEECH, _M.START, ov.start), {}))
        barge = ov.detected if ov.detected is not None else ov.start
        items.append((barge, 1, s.turn_mark, (_S.INTERRUPTION, _M.START, barge), {}))
        self.carried_start = ov.start
        if ov.silenced is not None and (stop is None or ov.silenced < stop):
            stop = ov.silenced
        return stop

    def report_turn(self, m: Mapping[str, Any], end: int) -> None:
        """LiveKit's own per-turn figures beside ours (framework_turns, livekit.turn_metrics)."""
        s = self.vs
        record = guarded(s.refused, "last_turn", s.last_turn)
        ours = record.get("e2e_latency_ns") if record else None
        lk = {
            "turn_id": record.get("turn_id") if record else None,
            "e2e_latency_s": ours / 1e9 if ours is not None else None,
            "livekit_e2e_latency_s": m.get("e2e_latency"),
            "livekit_llm_node_ttft_s": m.get("llm_node_ttft"),
            "livekit_tts_node_ttfb_s": m.get("tts_node_ttfb"),
            "livekit_transcription_delay_s": self.user_lk.get("transcription_delay"),
            "livekit_end_of_turn_delay_s": self.user_lk.get("end_of_turn_delay"),
        }
        s.framework_turns.append(lk)
        self.call("emit", "livekit.turn_metrics", lk,
                  turn_id=str(lk["turn_id"]) if lk["turn_id"] is not None else None, t_ns=end)

    # -- wiring --------------------------------------------------------------------------------

    def attach(self) -> None:
        for name in _EVENTS:
            method = getattr(self, "on_" + name)

            def handler(ev: Any, _m: Callable[[Any], None] = method, _n: str = name) -> None:
                try:
                    _m(ev)
                except Exception:  # never break the agent for telemetry
                    log.exception("voicetelemetry: handling LiveKit %s failed", _n)

            self.agent_session.on(name, handler)
            self.handlers.append((name, handler))

    def detach(self) -> None:
        for name, handler in self.handlers:
            try:
                self.agent_session.off(name, handler)
            except Exception:  # pragma: no cover
                pass
        self.handlers = []


def instrument(
    session: Any,
    *,
    labels: Optional[Mapping[str, str]] = None,
    session_id: Optional[str] = None,
    text_policy: int = TextPolicy.REDACT,
    max_text_chars: int = 0,
    turn_history: int = 0,
    metadata: Optional[Mapping[str, Any]] = None,
    wall_anchor: Optional[float] = None,
) -> IntegrationSession:
    """Instrument a LiveKit ``AgentSession``: returns its voicetelemetry session (ended at ``close``).

    labels: session labels (default ``{"transport": "livekit"}``, yours merged over it).
    wall_anchor: the wall-clock time (``time.time()``) that maps to ``ANCHOR_T_NS`` on the
    session's clock; default: now. Call it before ``session.start(...)``.
    """
    anchor = time.time() if wall_anchor is None else float(wall_anchor)
    vs = IntegrationSession(session_id=session_id,
                            labels=merged_labels({"transport": "livekit"}, labels),
                            clock=Clock.MEDIA, start_t_ns=ANCHOR_T_NS, text_policy=text_policy,
                            max_text_chars=max_text_chars, turn_history=turn_history,
                            metadata=dict(metadata) if metadata else None)
    adapter = _Adapter(session, vs, anchor)
    adapter.attach()
    return vs
