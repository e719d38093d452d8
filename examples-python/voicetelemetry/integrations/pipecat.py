"""Pipecat integration: a frame observer that feeds voicetelemetry's turn collector.

Two lines::

    from voicetelemetry.integrations.pipecat import VoiceTelemetryObserver
    task = PipelineTask(pipeline, observers=[VoiceTelemetryObserver(labels={"transport": "daily"})])

No processor is added to the pipeline: the observer sees each frame once, when it is first pushed
(``observe_every_push=False``; of a frame Pipecat broadcasts, one copy each way, the second copy
changes nothing), with the pipeline clock's timestamp of that push
(``FramePushed.timestamp``, ns). The observer's :class:`~voicetelemetry.Session` is on
``Clock.MEDIA`` and its ``t_ns`` ARE the pipeline clock's ns (a timestamp of 0, before the clock
starts, is taken as 1: 0 means "now" to the core), so every stage of a turn is measured between two
pushes on one clock.

What maps to what (``docs/turn-schema.md`` for the record):

========================================  ==========================================================
frame (first push)                        turn collector
========================================  ==========================================================
VADUserStartedSpeakingFrame               user_speech START at push - ``start_secs``; stt START there
VADUserStoppedSpeakingFrame               user_speech END at push - ``stop_secs`` (the e2e anchor)
UserStartedSpeakingFrame                  user_speech START (+ stt START) when no VAD frame came
UserStoppedSpeakingFrame                  eou START at the last speech end, END here (turn released);
                                          user_speech END when no VAD frame came (server-side-VAD
                                          STT: Pipecat #4927)
InterimTranscriptionFrame / Transcription stt INTERIM / FINAL; user transcript; stt provider
LLMFullResponseStartFrame / first LLMText llm START / FIRST; LLMFullResponseEndFrame llm END
TTSStartedFrame / first TTSAudioRawFrame  tts START / FIRST (+ audio bytes); TTSStoppedFrame END
BotStartedSpeakingFrame / Stopped         agent_speech START (first audio) / END (completes the turn)
InterruptionFrame while the bot speaks    interruption START (barge-in)
FunctionCallInProgress / ResultFrame      a tool call (start, end, ok = no ``error``)
MetricsFrame                              LLMUsage -> tokens of stage llm; TTSUsage -> tts
                                          characters; TurnMetrics -> eou probability; TTFB and
                                          processing -> ``pipecat.metrics`` events and histograms
ErrorFrame                                an error of the stage of its processor
EndFrame / CancelFrame                    the session ends at that push
========================================  ==========================================================

A ``TTFBMetricsData`` of an LLM or TTS request that an interruption cut before its first token/byte
(Pipecat #1682) is not counted: its event carries ``"interrupted": true`` and it goes to
``pipecat_interrupted_ttfb_total{stage}`` instead of ``pipecat_ttfb_seconds{stage}``.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Mapping, Optional

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    ErrorFrame,
    FunctionCallInProgressFrame,
    FunctionCallResultFrame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    MetricsFrame,
    StartFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import (
    LLMUsageMetricsData,
    ProcessingMetricsData,
    TTFBMetricsData,
    TTSUsageMetricsData,
    TurnMetricsData,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed

from .. import Clock, TextPolicy, ToolKind, TurnMark, TurnStage, TurnTextKind, TurnValueKey
from .. import counter_add, observe, register_labels
from ._common import guarded, merged_labels
from ._session import IntegrationSession

__all__ = ["VoiceTelemetryObserver", "TTFB_HISTOGRAM", "INTERRUPTED_TTFB_COUNTER"]

log = logging.getLogger("voicetelemetry.integrations.pipecat")

TTFB_HISTOGRAM = "pipecat_ttfb_seconds"  # the core keeps voicetelemetry_* for its own families
INTERRUPTED_TTFB_COUNTER = "pipecat_interrupted_ttfb_total"
_NS = 1_000_000_000

_S, _M = TurnStage, TurnMark
_STAGE_NAMES = {_S.STT: "stt", _S.LLM: "llm", _S.TTS: "tts"}


_families_ready = False


def _register_families() -> None:
    global _families_ready
    if not _families_ready:
        _families_ready = True
        for name in (TTFB_HISTOGRAM, INTERRUPTED_TTFB_COUNTER):
            guarded({}, "register_labels", register_labels, name, ["stage"])


def _service_stage(processor: Any) -> Optional[int]:
    """The stage a Pipecat service serves, by its base class (None for other processors)."""
    try:
        from pipecat.services.llm_service import LLMService
        from pipecat.services.stt_service import STTService
        from pipecat.services.tts_service import TTSService
    except Exception:  # pragma: no cover - a Pipecat without these modules
        return None
    if isinstance(processor, STTService):
        return _S.STT
    if isinstance(processor, LLMService):
        return _S.LLM
    if isinstance(processor, TTSService):
        return _S.TTS
    return None


def _model_of(processor: Any) -> Optional[str]:
    model = getattr(getattr(processor, "_settings", None), "model", None)
    return model if isinstance(model, str) and model else None


class VoiceTelemetryObserver(BaseObserver):
    """Feeds one :class:`~voicetelemetry.Session` per pipeline run from the frames pushed in it.

    labels: session labels (default ``{"transport": "pipecat"}``; yours are merged over it), e.g.
    the transport and the providers. session_id: None for a generated id. text_policy,
    max_text_chars, turn_history, metadata: as for :class:`~voicetelemetry.Session`.
    emit_metrics_events: send each Pipecat ``MetricsFrame`` datum as a ``pipecat.metrics`` event
    (to the loaded sink plugins).

    The session is created at the ``StartFrame``'s push (the pipeline clock is running then) and ended
    at the ``EndFrame``/``CancelFrame`` (or at the observer's cleanup). Read ``session`` while it
    runs; ``turns`` (the turn records, oldest first) and ``final_snapshot`` stay readable after it
    ended. Calls the core refuses are counted in ``refused`` (by call), never raised into the
    pipeline.
    """

    def __init__(
        self,
        *,
        labels: Optional[Mapping[str, str]] = None,
        session_id: Optional[str] = None,
        text_policy: int = TextPolicy.REDACT,
        max_text_chars: int = 0,
        turn_history: int = 0,
        metadata: Optional[Mapping[str, Any]] = None,
        emit_metrics_events: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(observe_every_push=False, **kwargs)
        _register_families()
        self._labels = merged_labels({"transport": "pipecat"}, labels)
        self._session_kwargs = dict(session_id=session_id, text_policy=text_policy,
                                    max_text_chars=max_text_chars, turn_history=turn_history,
                                    metadata=dict(metadata) if metadata else None)
        self._emit_metrics = emit_metrics_events
        self.session: Optional[IntegrationSession] = None
        self.refused: Dict[str, int] = {}
        self._ended = False
        # per-run state
        self._vad_turn = False        # the current user turn's speech came from VAD frames
        self._vad_speaking = False    # between VAD started and stopped
        self._user_turn = False       # between user turn started and stopped
        self._speech_end: Optional[int] = None   # the last VAD speech end (push - stop_secs)
        self._bot_speaking = False
        self._llm_open = False
        self._llm_first = False
        self._tts_open = False
        self._tts_first = False
        self._interrupted_before_first: Dict[int, bool] = {}   # stage -> cut before FIRST
        self._tools: Dict[str, Any] = {}
        self._transcript: List[str] = []
        self._response: List[str] = []
        self._stage_by_source: Dict[int, int] = {}
        self._stage_by_name: Dict[str, int] = {}
        self._provider_done: Dict[int, Optional[str]] = {}
        self._dispatch: Dict[type, Optional[Callable[[Any, int, FramePushed], None]]] = {}
        self._handlers: Dict[type, Callable[[Any, int, FramePushed], None]] = {
            VADUserStartedSpeakingFrame: self._vad_start,
            VADUserStoppedSpeakingFrame: self._vad_stop,
            UserStartedSpeakingFrame: self._user_start,
            UserStoppedSpeakingFrame: self._user_stop,
            InterimTranscriptionFrame: self._interim,
            TranscriptionFrame: self._final,
            LLMFullResponseStartFrame: self._llm_start,
            LLMTextFrame: self._llm_text,
            LLMFullResponseEndFrame: self._llm_end,
            TTSStartedFrame: self._tts_start,
            TTSAudioRawFrame: self._tts_audio,
            TTSStoppedFrame: self._tts_stop,
            BotStartedSpeakingFrame: self._bot_start,
            BotStoppedSpeakingFrame: self._bot_stop,
            InterruptionFrame: self._interruption,
            FunctionCallInProgressFrame: self._tool_start,
            FunctionCallResultFrame: self._tool_result,
            MetricsFrame: self._metrics,
            ErrorFrame: self._error,
            EndFrame: self._end,
            CancelFrame: self._end,
            StartFrame: self._start,    # opens the session at the pipeline's start
        }

    # -- reading -----------------------------------------------------------------------------

    @property
    def turns(self) -> List[Dict[str, Any]]:
        """The session's turn records, oldest first (kept after the session ended)."""
        return self.session.turn_history() if self.session is not None else []

    @property
    def final_snapshot(self) -> Optional[Dict[str, Any]]:
        """The session's snapshot at its end (None while it runs)."""
        return self.session.final_snapshot if self.session is not None else None

    # -- Pipecat hooks -----------------------------------------------------------------------

    async def on_push_frame(self, data: FramePushed) -> None:
        frame = data.frame
        cls = type(frame)
        try:
            handler = self._dispatch[cls]
        except KeyError:
            handler = self._resolve(cls)
        if handler is None or self._ended:
            return
        t = data.timestamp if data.timestamp > 0 else 1
        if self.session is None:
            self._open(t)
        try:
            handler(frame, t, data)
        except Exception:  # never break the pipeline for telemetry
            log.exception("voicetelemetry: handling %s failed", cls.__name__)

    async def cleanup(self) -> None:
        await super().cleanup()
        if not self._ended and self.session is not None:
            self._close(0)

    # -- internals ---------------------------------------------------------------------------

    def _resolve(self, cls: type) -> Optional[Callable[[Any, int, FramePushed], None]]:
        handler = None
        for base in cls.__mro__:
            if base in self._handlers:
                handler = self._handlers[base]
                break
        self._dispatch[cls] = handler
        return handler

    def _open(self, t: int) -> None:
        self.session = IntegrationSession(labels=self._labels, clock=Clock.MEDIA, start_t_ns=t,
                               **self._session_kwargs)

    def _call(self, what: str, *args: Any, **kwargs: Any) -> Any:
        return guarded(self.refused, what, getattr(self.session, what), *args, **kwargs)

    def _mark(self, stage: int, mark: int, t: int) -> None:
        guarded(self.refused, "turn_mark", self.session.turn_mark, stage, mark, max(t, 1))

    def _stage_of(self, source: Any, learn: Optional[int] = None) -> Optional[int]:
        if source is None:
            return None
        key = id(source)
        if learn is not None and key not in self._stage_by_source:
            self._stage_by_source[key] = learn
            self._stage_by_name[getattr(source, "name", "")] = learn
        stage = self._stage_by_source.get(key)
        if stage is None:
            stage = _service_stage(source)
            if stage is not None:
                self._stage_by_source[key] = stage
                self._stage_by_name[getattr(source, "name", "")] = stage
        return stage

    def _provider(self, stage: int, source: Any, t: int, model: Optional[str] = None) -> None:
        model = model or _model_of(source)
        if stage in self._provider_done and self._provider_done[stage] == model:
            return
        self._provider_done[stage] = model
        name = type(source).__name__ if source is not None else "unknown"
        self._call("turn_provider", stage, name, model, t)

    def _start(self, f: Any, t: int, d: FramePushed) -> None:
        pass

    # user speech. Pipecat broadcasts these frames (one copy each way): the state drops the copy.
    def _vad_start(self, f: Any, t: int, d: FramePushed) -> None:
        if self._vad_speaking:
            return
        self._vad_speaking = self._vad_turn = True
        start = t - int(round(f.start_secs * _NS))
        self._mark(_S.USER_SPEECH, _M.START, start)
        self._mark(_S.STT, _M.START, start)

    def _vad_stop(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._vad_speaking:
            return
        self._vad_speaking = False
        self._speech_end = t - int(round(f.stop_secs * _NS))
        self._mark(_S.USER_SPEECH, _M.END, self._speech_end)

    def _user_start(self, f: Any, t: int, d: FramePushed) -> None:
        if self._user_turn:
            return
        self._user_turn = True
        if not self._vad_turn:
            self._mark(_S.USER_SPEECH, _M.START, t)
            self._mark(_S.STT, _M.START, t)

    def _user_stop(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._user_turn:
            return
        self._user_turn = False
        if self._vad_turn and self._speech_end is not None:
            # end of utterance: from the last speech end to the turn's release
            self._mark(_S.EOU, _M.START, self._speech_end)
            self._mark(_S.EOU, _M.END, t)
        elif not self._vad_turn:
            self._mark(_S.USER_SPEECH, _M.END, t)
        self._vad_turn = False
        self._speech_end = None

    # STT
    def _interim(self, f: Any, t: int, d: FramePushed) -> None:
        self._stage_of(d.source, _S.STT)
        self._mark(_S.STT, _M.INTERIM, t)

    def _final(self, f: Any, t: int, d: FramePushed) -> None:
        self._stage_of(d.source, _S.STT)
        self._provider(_S.STT, d.source, t)
        self._mark(_S.STT, _M.FINAL, t)
        if f.text:
            self._transcript.append(f.text)
            self._call("turn_text", TurnTextKind.USER_TRANSCRIPT, " ".join(self._transcript), t)

    # LLM
    def _llm_start(self, f: Any, t: int, d: FramePushed) -> None:
        self._stage_of(d.source, _S.LLM)
        self._provider(_S.LLM, d.source, t)
        self._transcript = []
        self._llm_open, self._llm_first = True, False
        # a new request: a cut one that never reported its TTFB must not flag this one's
        self._interrupted_before_first.pop(_S.LLM, None)
        self._mark(_S.LLM, _M.START, t)

    def _llm_text(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._llm_open:
            return
        if not self._llm_first:
            self._llm_first = True
            self._mark(_S.LLM, _M.FIRST, t)
        self._response.append(f.text)

    def _llm_end(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._llm_open:
            return
        self._llm_open = False
        self._mark(_S.LLM, _M.END, t)
        if self._response:
            self._call("turn_text", TurnTextKind.AGENT_RESPONSE, "".join(self._response), t)
            self._response = []

    # TTS
    def _tts_start(self, f: Any, t: int, d: FramePushed) -> None:
        self._stage_of(d.source, _S.TTS)
        self._provider(_S.TTS, d.source, t)
        if not self._tts_open:
            self._tts_open, self._tts_first = True, False
            self._interrupted_before_first.pop(_S.TTS, None)
        self._mark(_S.TTS, _M.START, t)

    def _tts_audio(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._tts_first:
            self._tts_first = True
            self._mark(_S.TTS, _M.FIRST, t)
        n = len(f.audio)
        if n:
            self._call("turn_value", TurnValueKey.TTS_AUDIO_BYTES, n, t)

    def _tts_stop(self, f: Any, t: int, d: FramePushed) -> None:
        self._tts_open = False
        self._mark(_S.TTS, _M.END, t)

    # agent speech
    def _bot_start(self, f: Any, t: int, d: FramePushed) -> None:
        if self._bot_speaking:      # the output transport pushes one each way
            return
        self._bot_speaking = True
        self._mark(_S.AGENT_SPEECH, _M.START, t)

    def _bot_stop(self, f: Any, t: int, d: FramePushed) -> None:
        if not self._bot_speaking:
            return
        self._bot_speaking = False
        self._tts_first = False
        self._mark(_S.AGENT_SPEECH, _M.END, t)

    def _interruption(self, f: Any, t: int, d: FramePushed) -> None:
        # A request cut before its first token/byte: its TTFB (if Pipecat reports one) is flagged.
        if self._llm_open and not self._llm_first:
            self._interrupted_before_first[_S.LLM] = True
        if self._tts_open and not self._tts_first:
            self._interrupted_before_first[_S.TTS] = True
        self._llm_open = self._tts_open = False
        self._response = []
        if self._bot_speaking:
            self._mark(_S.INTERRUPTION, _M.START, t)

    # tools
    def _tool_start(self, f: Any, t: int, d: FramePushed) -> None:
        self._tools[f.tool_call_id] = (f.function_name, t)

    def _tool_result(self, f: Any, t: int, d: FramePushed) -> None:
        name, start = self._tools.pop(f.tool_call_id, (f.function_name, t))
        self._call("turn_tool_call", ToolKind.FUNCTION, name, start, t, ok=f.error is None)

    # metrics, errors, end
    def _metrics(self, f: Any, t: int, d: FramePushed) -> None:
        source_stage = self._stage_of(d.source)
        for m in f.data:
            stage = self._stage_by_name.get(m.processor, source_stage)
            if isinstance(m, LLMUsageMetricsData):
                u = m.value
                self._call("turn_usage", _S.LLM, input=u.prompt_tokens, output=u.completion_tokens,
                           cached_input=u.cache_read_input_tokens, reasoning=u.reasoning_tokens,
                           input_audio=u.input_audio_tokens, output_audio=u.output_audio_tokens,
                           t_ns=t)
                if m.model:
                    self._provider(_S.LLM, d.source, t, m.model)
            elif isinstance(m, TTSUsageMetricsData):
                self._call("turn_value", TurnValueKey.TTS_CHARACTERS, m.value, t)
            elif isinstance(m, TurnMetricsData):
                self._call("turn_value", TurnValueKey.EOU_PROBABILITY,
                           min(max(float(m.probability), 0.0), 1.0), t)
            elif isinstance(m, (TTFBMetricsData, ProcessingMetricsData)):
                kind = "ttfb" if isinstance(m, TTFBMetricsData) else "processing"
                name = _STAGE_NAMES.get(stage, "other")
                interrupted = False
                if kind == "ttfb":
                    interrupted = self._interrupted_before_first.pop(stage, False) if stage else False
                    if interrupted:
                        guarded(self.refused, "counter_add", counter_add, INTERRUPTED_TTFB_COUNTER,
                                1, labels={"stage": name}, help="Pipecat TTFB reports of requests cut by an interruption "
                                        "before their first token/byte (not counted as TTFB).")
                    elif m.value >= 0:
                        guarded(self.refused, "observe", observe, TTFB_HISTOGRAM, m.value,
                                labels={"stage": name}, help="Pipecat's own TTFB reports (seconds), interrupted requests "
                                     "left out.")
                if self._emit_metrics:
                    self._call("emit", "pipecat.metrics",
                                {"kind": kind, "stage": name, "processor": m.processor,
                                 "model": m.model or None, "value_s": m.value,
                                 "interrupted": interrupted}, t_ns=t)

    def _error(self, f: Any, t: int, d: FramePushed) -> None:
        stage = self._stage_of(getattr(f, "processor", None)) or self._stage_of(d.source)
        if stage is not None:
            self._call("turn_error", stage, t)
        self._call("emit", "pipecat.error",
                   {"error": str(f.error)[:500], "stage": _STAGE_NAMES.get(stage),
                    "fatal": bool(getattr(f, "fatal", False))}, t_ns=t)

    def _end(self, f: Any, t: int, d: FramePushed) -> None:
        self._close(t)

    def _close(self, t: int) -> None:
        if self._ended or self.session is None:
            return
        self._ended = True
        # IntegrationSession.end completes the open turn at t and keeps the records readable.
        guarded(self.refused, "end", self.session.end, t)
