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

**What maps to what**

* user ``ChatMessage`` (``conversation_item_added``): user_speech START/END (its metrics, checked as
  above), stt START at the speech start, stt INTERIM (first interim transcript), stt FINAL (the last
  final transcript), eou START at the speech end and END at the commit; transcript and confidence.
* ``metrics_collected`` ``LLMMetrics``: llm START = ``timestamp - duration``, END = ``timestamp``,
  FIRST = START + ``ttft`` of the request that produced the speech (after a tool call, the reply's
  request); tokens by stage llm; provider and model from its metadata. ``TTSMetrics``: tts
  START/FIRST (``ttfb``)/END and characters. ``STTMetrics``: the stt provider. Without them
  (``metrics_collected`` is deprecated in LiveKit), the assistant message's ``llm_node_ttft`` from the
  agent's ``thinking`` state and ``tts_node_ttfb`` from that first token.
* ``function_tools_executed``: a tool call per call (``created_at`` of the call and of its output,
  ``ok = not is_error``).
* assistant ``ChatMessage``: agent_speech START/END (its metrics, checked as above); when
  ``interrupted``: interruption START at the user's speech start observed while the agent spoke.
  The turn's agent-side events are applied here, in time order, so the record completes whole.
* ``agent_false_interruption``: false_interruption START (when the user spoke) and RESUMED.
* ``error``: an error of the stage of its source (LLM, STT, TTS, realtime model).
* ``close``: the session ends at the event's time.

**LiveKit's own numbers beside ours.** After each turn a ``livekit.turn_metrics`` event (to the loaded
sink plugins) carries LiveKit's ``e2e_latency``, ``llm_node_ttft``, ``tts_node_ttfb``,
``transcription_delay`` and ``end_of_turn_delay`` with our ``turn_id`` and ``e2e_latency_s``; the same
dict is appended to ``vt_session.framework_turns``. The turn record itself is the core's.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from livekit.agents import llm as lk_llm
from livekit.agents import stt as lk_stt
from livekit.agents import tts as lk_tts
from livekit.agents.metrics import LLMMetrics, STTMetrics, TTSMetrics

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
           "conversation_item_added", "metrics_collected", "function_tools_executed",
           "agent_false_interruption", "speech_created", "error", "close")


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


class _Adapter:
    """The per-session state between LiveKit's events and the core's calls."""

    def __init__(self, agent_session: Any, vs: IntegrationSession, wall_anchor: float) -> None:
        self.agent_session = agent_session
        self.vs = vs
        self.wall_anchor = wall_anchor
        self.handlers: List[Tuple[str, Callable[..., None]]] = []
        self.user_speaking_at: Optional[int] = None
        self.user_listening_at: Optional[int] = None
        self.first_interim_at: Optional[int] = None
        self.final_at: Optional[int] = None
        self.agent_speaking = False
        self.agent_speaking_at: Optional[int] = None
        self.agent_stopped_at: Optional[int] = None
        self.barge_in_at: Optional[int] = None
        self.thinking_at: Optional[int] = None
        self.tts_seen = False
        self.pending: List[Tuple[int, int, Callable[..., Any], tuple, dict]] = []
        self.llm_requests: List[Tuple[int, int, int]] = []   # (start, first, end)
        self.user_lk: Dict[str, Any] = {}
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

    def apply(self, items: List[Tuple[int, int, Callable[..., Any], tuple, dict]]) -> None:
        for _t, _seq, fn, args, kwargs in sorted(items, key=lambda x: (x[0], x[1])):
            guarded(self.vs.refused, fn.__name__, fn, *args, **kwargs)

    def provider(self, stage: int, provider: Optional[str], model: Optional[str], t: int) -> None:
        if not provider and not model:
            return
        key = (provider or "unknown", model or None)
        if self.providers.get(stage) != key:
            self.providers[stage] = key
            self.call("turn_provider", stage, key[0], key[1], t)

    # -- events --------------------------------------------------------------------------------

    def on_user_state_changed(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        if ev.new_state == "speaking":
            self.user_speaking_at = t
            if self.agent_speaking and self.barge_in_at is None:
                self.barge_in_at = t
        elif ev.old_state == "speaking":
            self.user_listening_at = t

    def on_agent_state_changed(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        if ev.new_state == "thinking" and self.thinking_at is None:
            self.thinking_at = t
        if ev.new_state == "speaking":
            self.agent_speaking = True
            self.agent_speaking_at = t
            self.agent_stopped_at = None
        elif ev.old_state == "speaking":
            self.agent_speaking = False
            self.agent_stopped_at = t

    def on_user_input_transcribed(self, ev: Any) -> None:
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

    def on_metrics_collected(self, ev: Any) -> None:
        m = ev.metrics
        meta = getattr(m, "metadata", None)
        provider = getattr(meta, "model_provider", None) or getattr(m, "label", None)
        model = getattr(meta, "model_name", None)
        if isinstance(m, LLMMetrics):
            end = self.t(m.timestamp)
            start = self.t(m.timestamp - m.duration)
            first = start + round(m.ttft * 1e6) * 1000 if m.ttft is not None and m.ttft >= 0 else None
            self.llm_requests.append((start, first, end))
            self.provider(_S.LLM, provider, model, start)
            self.later(start, "turn_mark", _S.LLM, _M.START, start)
            self.later(end, "turn_mark", _S.LLM, _M.END, end)
            self.later(end, "turn_usage", _S.LLM, input=m.prompt_tokens, output=m.completion_tokens,
                       cached_input=m.prompt_cached_tokens or None,
                       reasoning=getattr(m, "reasoning_tokens", 0) or None, t_ns=end)
        elif isinstance(m, TTSMetrics):
            self.tts_seen = True
            end = self.t(m.timestamp)
            start = self.t(m.timestamp - m.duration)
            self.provider(_S.TTS, provider, model, start)
            self.later(start, "turn_mark", _S.TTS, _M.START, start)
            if m.ttfb is not None and m.ttfb >= 0:
                first = start + round(m.ttfb * 1e6) * 1000
                self.later(first, "turn_mark", _S.TTS, _M.FIRST, first)
            self.later(end, "turn_mark", _S.TTS, _M.END, end)
            if m.characters_count:
                self.later(end, "turn_value", TurnValueKey.TTS_CHARACTERS, m.characters_count, end)
        elif isinstance(m, STTMetrics):
            self.provider(_S.STT, provider, model, self.t(m.timestamp))

    def on_function_tools_executed(self, ev: Any) -> None:
        for call, out in ev.zipped():
            start, end = self.t(call.created_at), self.t(out.created_at)
            self.later(end, "turn_tool_call", ToolKind.FUNCTION, call.name, start, end,
                       ok=not out.is_error)

    def on_agent_false_interruption(self, ev: Any) -> None:
        t = self.t(ev.created_at)
        start = self.barge_in_at if self.barge_in_at is not None else t
        self.later(start, "turn_mark", _S.FALSE_INTERRUPTION, _M.START, start)
        if ev.resumed:
            self.later(t, "turn_mark", _S.FALSE_INTERRUPTION, _M.RESUMED, t)
            self.barge_in_at = None    # the agent went on: no barge-in

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
        if self.pending:
            self.apply(self.pending)
            self.pending = []
        self.detach()
        guarded(self.vs.refused, "end", self.vs.end, t)

    # -- turns ---------------------------------------------------------------------------------

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
        if self.pending:       # an agent side that never got its assistant message
            self.apply(self.pending)
            self.pending = []
        m = msg.metrics or {}
        calls: List[Tuple[int, int, Callable[..., Any], tuple, dict]] = []
        if m.get("started_speaking_at") is None and m.get("stopped_speaking_at") is None and \
                self.user_speaking_at is None and self.final_at is None:
            # Typed input (session.run / generate_reply(user_input=...)): no speech, no STT; the
            # user's turn ended when LiveKit committed it (the anchor is eou_end).
            self.vs_text_turn(msg, committed)
            return
        start, stop = self._checked_span("user", m, committed,
                                         (self.user_speaking_at, self.user_listening_at or committed))
        final = self.final_at if self.final_at is not None else committed

        def add(t: Optional[int], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
            if t is not None:
                calls.append((t, len(calls), fn, args, kwargs))

        s = self.vs
        add(start, s.turn_mark, _S.USER_SPEECH, _M.START, start)
        add(start, s.turn_mark, _S.STT, _M.START, start)
        add(self.first_interim_at, s.turn_mark, _S.STT, _M.INTERIM, self.first_interim_at)
        add(stop, s.turn_mark, _S.USER_SPEECH, _M.END, stop)
        add(stop, s.turn_mark, _S.EOU, _M.START, stop)
        add(final, s.turn_mark, _S.STT, _M.FINAL, final)
        add(committed, s.turn_mark, _S.EOU, _M.END, committed)
        text = msg.text_content
        if text:
            add(final, s.turn_text, TurnTextKind.USER_TRANSCRIPT, text, final)
        conf = getattr(msg, "transcript_confidence", None)
        if conf is not None and 0 <= conf <= 1:
            add(final, s.turn_value, TurnValueKey.STT_CONFIDENCE, conf, final)
        self.apply(calls)
        self.user_lk = {k: m.get(k) for k in ("transcription_delay", "end_of_turn_delay")}
        self.first_interim_at = self.final_at = None
        if self.user_listening_at is not None:
            self.user_speaking_at = self.user_listening_at = None
        self.llm_requests = []

    def vs_text_turn(self, msg: Any, committed: int) -> None:
        self.call("turn_mark", _S.EOU, _M.END, committed)
        if msg.text_content:
            self.call("turn_text", TurnTextKind.USER_TRANSCRIPT, msg.text_content, committed)
        self.user_lk = {}
        self.first_interim_at = self.final_at = None
        self.llm_requests = []

    def commit_agent(self, msg: Any, committed: int) -> None:
        m = msg.metrics or {}
        observed_stop = self.agent_stopped_at if self.agent_stopped_at is not None else committed
        start, stop = self._checked_span("assistant", m, committed,
                                         (self.agent_speaking_at, observed_stop))
        items, self.pending = self.pending, []
        s = self.vs
        if self.llm_requests:
            # FIRST: the first token of the request whose answer was spoken (after a tool call,
            # the reply's request, not the call's).
            spoken = [r for r in self.llm_requests if start is None or r[0] <= start] or self.llm_requests
            first = spoken[-1][1]
            if first is not None:
                items.append((first, 0, s.turn_mark, (_S.LLM, _M.FIRST, first), {}))
        elif self.thinking_at is not None and isinstance(m.get("llm_node_ttft"), (int, float)):
            # No LLMMetrics (metrics_collected is deprecated in LiveKit): the llm node runs from
            # the agent's "thinking" state; its first token llm_node_ttft later.
            t0 = self.thinking_at
            first = t0 + round(m["llm_node_ttft"] * 1e6) * 1000
            items.append((t0, 0, s.turn_mark, (_S.LLM, _M.START, t0), {}))
            items.append((first, 0, s.turn_mark, (_S.LLM, _M.FIRST, first), {}))
            if not self.tts_seen and isinstance(m.get("tts_node_ttfb"), (int, float)):
                # tts_node_ttfb runs from the first text the TTS received: the LLM's first token
                ttfb = first + round(m["tts_node_ttfb"] * 1e6) * 1000
                items.append((first, 1, s.turn_mark, (_S.TTS, _M.START, first), {}))
                items.append((ttfb, 0, s.turn_mark, (_S.TTS, _M.FIRST, ttfb), {}))
        if start is not None:
            items.append((start, 0, s.turn_mark, (_S.AGENT_SPEECH, _M.START, start), {}))
        if msg.interrupted:
            barge = self.barge_in_at if self.barge_in_at is not None else stop
            if barge is not None:
                items.append((barge, 0, s.turn_mark, (_S.INTERRUPTION, _M.START, barge), {}))
        text = msg.text_content
        if text:
            t_text = start if start is not None else committed
            items.append((t_text, 0, s.turn_text, (TurnTextKind.AGENT_RESPONSE, text, t_text), {}))
        self.apply(items)
        end = stop if stop is not None else committed
        guarded(s.refused, "turn_mark", s.turn_mark, _S.AGENT_SPEECH, _M.END, end)
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
        self.barge_in_at = self.thinking_at = None
        self.tts_seen = False
        self.llm_requests = []
        self.user_lk = {}

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
