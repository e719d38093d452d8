"""The Pipecat observer in a real Pipeline run by a real PipelineTask/PipelineRunner
(``PipelineWorker`` / ``WorkerRunner`` since Pipecat 1.3, which deprecated the old names).

The pipeline is input -> STT -> LLM -> TTS -> output, the three services subclassing Pipecat's own
STTService / LLMService / TTSService. Each processor pushes, with its own ``push_frame``, the frames
its real counterpart pushes (VAD and user turn frames and interruptions from the input; transcripts
and TTFB metrics from the STT; response start/text/end, function calls, TTFB and usage metrics from
the LLM; TTS started/audio/stopped, TTFB and usage from the TTS; bot started speaking -- one each
way -- and stopped from the output). The task runs on a scripted pipeline clock (``clock=`` of
PipelineTask, a BaseClock): the driver sets the clock, then pushes, so every ``FramePushed.timestamp``
is a scripted value and the turn records are asserted EXACTLY (tolerance 0 ns).

Pipecat delivers frames to observers through one queue per observer; the driver waits for every
observer queue to drain after each push (``asyncio.Queue.join`` on the task's observer proxies)
before it moves the clock, so Pipecat's ``UserBotLatencyObserver`` -- given the same scripted clock
as its ``time_source`` -- also reads the scripted time and both e2e figures are exact.
"""
from __future__ import annotations

import asyncio
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from _frameworks import require  # noqa: E402

require("pipecat", "pipecat")

from pipecat.clocks.base_clock import BaseClock  # noqa: E402
from pipecat.frames.frames import (  # noqa: E402
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
from pipecat.metrics.metrics import (  # noqa: E402
    LLMTokenUsage,
    LLMUsageMetricsData,
    TTFBMetricsData,
    TTSUsageMetricsData,
)
from pipecat.observers.user_bot_latency_observer import UserBotLatencyObserver  # noqa: E402
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
# PipelineTask / PipelineRunner are these classes' names before 1.3 (deprecated aliases since).
from pipecat.pipeline.worker import PipelineWorker as PipelineTask  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.services.llm_service import LLMService  # noqa: E402
from pipecat.services.stt_service import STTService  # noqa: E402
from pipecat.services.tts_service import TTSService  # noqa: E402

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations.pipecat import (  # noqa: E402
    INTERRUPTED_TTFB_COUNTER,
    TTFB_HISTOGRAM,
    VoiceTelemetryObserver,
)

MS = 1_000_000
REPO_ROOT = Path(__file__).resolve().parents[3]
DOWN, UP = FrameDirection.DOWNSTREAM, FrameDirection.UPSTREAM
RUN_TIMEOUT_S = 60


def setup_module(module):
    print(f"\npipecat-ai {version('pipecat-ai')}, voicetelemetry library {vt.version()}")


class ScriptedClock(BaseClock):
    """The pipeline clock, set by the test: ns, as Pipecat's SystemClock (which counts from 0)."""

    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def get_time(self) -> int:
        return self.now

    def start(self) -> None:  # the pipeline starts it; the script already did
        pass

    def seconds(self) -> float:  # for UserBotLatencyObserver(time_source=...)
        return self.now / 1e9


class _PassThrough:
    """The scripted services push their frames themselves; what reaches them just flows on."""

    async def process_frame(self, frame, direction):
        await FrameProcessor.process_frame(self, frame, direction)
        if isinstance(frame, StartFrame):
            self.started.set()
        await self.push_frame(frame, direction)


class Input(_PassThrough, FrameProcessor):
    def __init__(self):
        super().__init__(name="input")
        self.started = asyncio.Event()


class ScriptedSTT(_PassThrough, STTService):
    def __init__(self):
        super().__init__(name="stt")
        self.started = asyncio.Event()

    async def run_stt(self, audio):  # pragma: no cover - the script pushes the transcripts
        yield None


class ScriptedLLM(_PassThrough, LLMService):
    def __init__(self):
        super().__init__(name="llm")
        self.started = asyncio.Event()


class ScriptedTTS(_PassThrough, TTSService):
    def __init__(self):
        super().__init__(name="tts")
        self.started = asyncio.Event()

    async def run_tts(self, text, context_id=None):  # pragma: no cover
        yield None


class Output(_PassThrough, FrameProcessor):
    def __init__(self):
        super().__init__(name="output")
        self.started = asyncio.Event()


def ttfb(proc, seconds, model=None):
    return MetricsFrame(data=[TTFBMetricsData(processor=proc, model=model, value=seconds)])


def llm_usage(prompt, completion, cached=None):
    return MetricsFrame(data=[LLMUsageMetricsData(
        processor="llm", model="scripted-llm-1",
        value=LLMTokenUsage(prompt_tokens=prompt, completion_tokens=completion,
                            total_tokens=prompt + completion, cache_read_input_tokens=cached))])


def audio(n=640):
    return TTSAudioRawFrame(audio=b"\0" * n, sample_rate=16000, num_channels=1)


def transcript(text):
    return TranscriptionFrame(text=text, user_id="u", timestamp="")


def script(p, clock):
    """(ms, processor, frame[, direction]) in push order: three turns (plain, tool call, barge-in).
    Turn 1 pushes the frames Pipecat broadcasts (VAD, user turn, interruption) one copy each way."""
    inp, stt, llm, tts, out = p
    S = clock.seconds
    return [
        # turn 1: plain -- speech 800..1800 (VAD start_secs/stop_secs 0.2)
        (1000, inp, lambda: VADUserStartedSpeakingFrame(start_secs=0.2, timestamp=S())),
        (1000, inp, lambda: VADUserStartedSpeakingFrame(start_secs=0.2, timestamp=S()), UP),
        (1050, inp, UserStartedSpeakingFrame),
        (1050, inp, UserStartedSpeakingFrame, UP),
        (1060, inp, InterruptionFrame),               # Pipecat interrupts at every user start
        (1060, inp, InterruptionFrame, UP),
        (1500, stt, lambda: InterimTranscriptionFrame(text="what's", user_id="u", timestamp="")),
        (2000, inp, lambda: VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=S())),
        (2000, inp, lambda: VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=S()), UP),
        (2100, stt, lambda: transcript("what's the weather")),
        (2150, stt, lambda: ttfb("stt", 0.3)),
        (2200, inp, UserStoppedSpeakingFrame),
        (2210, inp, UserStoppedSpeakingFrame, UP),    # a later copy must not move the eou end
        (2250, llm, LLMFullResponseStartFrame),
        (2600, llm, lambda: LLMTextFrame(text="It is")),
        (2650, llm, lambda: ttfb("llm", 0.35, "scripted-llm-1")),
        (2700, tts, TTSStartedFrame),
        (2800, llm, lambda: LLMTextFrame(text=" sunny.")),
        (2850, llm, LLMFullResponseEndFrame),
        (2860, llm, lambda: llm_usage(100, 20, cached=40)),
        (2950, tts, audio),
        (2960, tts, lambda: ttfb("tts", 0.25)),
        (3000, out, BotStartedSpeakingFrame),
        (3000, out, BotStartedSpeakingFrame, UP),
        (3020, tts, audio),
        (3500, tts, TTSStoppedFrame),
        (3510, tts, lambda: MetricsFrame(data=[TTSUsageMetricsData(processor="tts", value=12)])),
        (4000, out, BotStoppedSpeakingFrame),
        (4000, out, BotStoppedSpeakingFrame, UP),
        # turn 2: a tool call, then a barge-in during the answer -- speech 4800..5800
        (5000, inp, lambda: VADUserStartedSpeakingFrame(start_secs=0.2, timestamp=S())),
        (5050, inp, UserStartedSpeakingFrame),
        (6000, inp, lambda: VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=S())),
        (6200, stt, lambda: transcript("and tomorrow in Paris?")),
        (6300, inp, UserStoppedSpeakingFrame),
        (6400, llm, LLMFullResponseStartFrame),
        (6700, llm, lambda: FunctionCallInProgressFrame(function_name="get_weather", tool_call_id="c1",
                                                        arguments={"city": "Paris"})),
        (6750, llm, LLMFullResponseEndFrame),
        (6760, llm, lambda: llm_usage(150, 10)),
        (7200, llm, lambda: FunctionCallResultFrame(function_name="get_weather", tool_call_id="c1",
                                                    arguments={"city": "Paris"}, result={"t": 21})),
        (7250, llm, LLMFullResponseStartFrame),
        (7500, llm, lambda: LLMTextFrame(text="Tomorrow: 21 degrees.")),
        (7600, tts, TTSStartedFrame),
        (7700, tts, audio),
        (7800, out, BotStartedSpeakingFrame),
        (7800, out, BotStartedSpeakingFrame, UP),
        (7900, llm, LLMFullResponseEndFrame),
        (7910, llm, lambda: llm_usage(200, 30)),
        (8500, tts, TTSStoppedFrame),
        (8600, tts, TTSStartedFrame),                 # the next sentence's request ...
        # ... cut by the user before its first byte (turn 3's speech starts at 8800)
        (9000, inp, lambda: VADUserStartedSpeakingFrame(start_secs=0.2, timestamp=S())),
        (9005, inp, UserStartedSpeakingFrame),
        (9010, inp, InterruptionFrame),
        (9020, tts, lambda: ttfb("tts", 0.42)),       # Pipecat #1682: a TTFB of the cut request
        (9100, out, BotStoppedSpeakingFrame),
        (9100, out, BotStoppedSpeakingFrame, UP),
        # turn 3: the barge-in's turn -- speech 8800..9400
        (9600, inp, lambda: VADUserStoppedSpeakingFrame(stop_secs=0.2, timestamp=S())),
        (9700, stt, lambda: transcript("stop, what about Rome?")),
        (9750, inp, UserStoppedSpeakingFrame),
        (9800, llm, LLMFullResponseStartFrame),
        (10100, llm, lambda: LLMTextFrame(text="Rome: 25.")),
        (10150, tts, TTSStartedFrame),
        (10300, tts, audio),
        (10350, llm, LLMFullResponseEndFrame),
        (10400, out, BotStartedSpeakingFrame),
        (10400, out, BotStartedSpeakingFrame, UP),
        (11000, tts, TTSStoppedFrame),
        (11500, out, BotStoppedSpeakingFrame),
        (11500, out, BotStoppedSpeakingFrame, UP),
    ]


async def drain(task):
    """Wait until every observer of the task has handled every frame pushed so far."""
    for proxy in (task._observer._proxies or {}).values():
        await proxy.queue.join()


async def run_three_turns(observer, end_ms=12000, script=script, end_frame=EndFrame):
    clock = ScriptedClock(500 * MS)
    procs = (Input(), ScriptedSTT(), ScriptedLLM(), ScriptedTTS(), Output())
    ublo = UserBotLatencyObserver(time_source=clock.seconds)
    ublo_latencies = []

    @ublo.event_handler("on_latency_measured")
    async def _measured(_obs, latency):
        ublo_latencies.append(latency)

    task = PipelineTask(Pipeline(list(procs)), clock=clock, observers=[observer, ublo],
                        idle_timeout_secs=None, enable_rtvi=False)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(task)

    async def drive():
        for p in procs:
            await p.started.wait()
        await drain(task)
        for step in script(procs, clock):
            ms, proc, make = step[:3]
            direction = step[3] if len(step) > 3 else DOWN
            assert ms * MS >= clock.now
            clock.now = ms * MS
            await proc.push_frame(make(), direction)
            await drain(task)
        clock.now = end_ms * MS
        if end_frame is EndFrame:
            await task.queue_frame(EndFrame())
        else:
            await task.cancel()

    await asyncio.wait_for(asyncio.gather(runner.run(), drive()), RUN_TIMEOUT_S)
    return ublo_latencies


def test_three_turns_exact(tmp_path, jsonl_sink_so):
    events_file = tmp_path / "events.jsonl"
    before = vt.prom_text()
    with vt.load_plugin(str(jsonl_sink_so), {"path": str(events_file)}):
        observer = VoiceTelemetryObserver(session_id="pipecat-3turns",
                                          labels={"transport": "scripted"},
                                          text_policy=vt.TextPolicy.INCLUDE)
        ublo = asyncio.run(run_three_turns(observer))
        vt.flush_events(timeout_s=5.0)
    assert observer.refused == {}
    turns = observer.turns
    assert [t["turn_id"] for t in turns] == [1, 2, 3]
    t1, t2, t3 = turns

    # turn 1: every stage on the pipeline clock, exactly
    assert t1["outcome"] == "completed" and t1["completed_by"] == "agent_speech_end"
    assert t1["user_speech"]["start_ns"] == 800 * MS and t1["user_speech"]["end_ns"] == 1800 * MS
    assert t1["anchor"] == "user_speech_end" and t1["anchor_ns"] == 1800 * MS
    assert t1["stt"]["final_ns"] == 2100 * MS and t1["stt"]["latency_ns"] == 300 * MS
    assert t1["stt"]["first_interim_ns"] == 1500 * MS and t1["stt"]["interim_count"] == 1
    assert t1["stt"]["provider"] == "ScriptedSTT"
    assert t1["eou"]["start_ns"] == 1800 * MS and t1["eou"]["end_ns"] == 2200 * MS
    assert t1["eou"]["delay_ns"] == 400 * MS
    assert t1["llm"]["ttft_ns"] == 350 * MS and t1["llm"]["duration_ns"] == 600 * MS
    assert (t1["llm"]["provider"], t1["llm"]["model"]) == ("ScriptedLLM", "scripted-llm-1")
    assert t1["tts"]["ttfb_ns"] == 250 * MS and t1["tts"]["duration_ns"] == 800 * MS
    assert t1["agent_speech"] == {"start_ns": 3000 * MS, "end_ns": 4000 * MS, "duration_ns": 1000 * MS}
    assert t1["e2e_latency_ns"] == 1200 * MS
    assert t1["e2e_breakdown_ns"] == {"stt_ns": 300 * MS, "eou_ns": 100 * MS, "llm_ttft_ns": 400 * MS,
                                      "tts_ttfb_ns": 350 * MS, "realtime_ns": 0, "remainder_ns": 50 * MS}
    assert sum(t1["e2e_breakdown_ns"].values()) == t1["e2e_latency_ns"]
    assert t1["tokens"]["input"] == 100 and t1["tokens"]["output"] == 20
    assert t1["tokens"]["cached_input"] == 40
    assert t1["playback"]["tts_characters_generated"] == 12
    assert t1["playback"]["audio_bytes_generated"] == 1280
    assert t1["texts"]["user_transcript"]["text"] == "what's the weather"
    assert t1["texts"]["agent_response"]["text"] == "It is sunny."
    assert t1["interruption"]["interrupted"] is False
    assert t1["quality"] == []

    # turn 2: the tool call inside the LLM stage; cut by the barge-in
    assert t2["outcome"] == "interrupted"
    assert t2["anchor_ns"] == 5800 * MS and t2["e2e_latency_ns"] == 2000 * MS
    assert t2["llm"]["start_ns"] == 6400 * MS and t2["llm"]["first_token_ns"] == 7500 * MS
    assert t2["llm"]["ttft_ns"] == 1100 * MS          # the first token after the tool's result
    assert t2["tts"]["ttfb_ns"] == 100 * MS
    assert t2["tool_calls_total"] == 1
    call = t2["tool_calls"][0]
    assert (call["name"], call["kind"], call["ok"]) == ("get_weather", "function", True)
    assert (call["start_ns"], call["end_ns"], call["duration_ns"]) == (6700 * MS, 7200 * MS, 500 * MS)
    assert t2["tokens"]["input"] == 350 and t2["tokens"]["output"] == 40
    assert t2["interruption"]["interrupted"] is True
    assert t2["interruption"]["barge_in_ns"] == 9010 * MS
    assert t2["interruption"]["overlap_start_ns"] == 8800 * MS
    assert t2["interruption"]["barge_in_latency_ns"] == 300 * MS   # overlap start -> agent stops
    assert t2["agent_speech"]["end_ns"] == 9100 * MS
    assert sum(t2["e2e_breakdown_ns"].values()) == t2["e2e_latency_ns"]

    # turn 3: the interrupting speech's own turn
    assert t3["outcome"] == "completed"
    assert t3["user_speech"]["start_ns"] == 8800 * MS
    assert t3["user_speech"]["from_interrupting_speech"] is True
    assert t3["anchor_ns"] == 9400 * MS and t3["e2e_latency_ns"] == 1000 * MS
    assert t3["stt"]["latency_ns"] == 300 * MS and t3["eou"]["delay_ns"] == 350 * MS
    assert t3["llm"]["ttft_ns"] == 300 * MS and t3["tts"]["ttfb_ns"] == 150 * MS

    # Pipecat's own UserBotLatencyObserver on the same run: the same three e2e figures (it measures
    # VAD stop - stop_secs -> BotStartedSpeaking, our anchor -> first agent audio).
    assert ublo == pytest.approx([t["e2e_latency_ns"] / 1e9 for t in turns], abs=1e-9)

    # the session started at the StartFrame's push and ended at the EndFrame's; events went to the sink
    assert observer.final_snapshot["start_ns"] == 500 * MS
    assert observer.final_snapshot["turns"]["completed"] == 2
    assert observer.final_snapshot["turns"]["interrupted"] == 1
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    mine = [e for e in events if e["session_id"] == "pipecat-3turns"]
    types = [e["event_type"] for e in mine]
    assert types[0] == "session.start" and types[-1] == "session.end"
    assert types.count("turn.complete") == 3
    assert mine[-1]["timestamp_us"] == 12000 * 1000
    ttfbs = [e["data"] for e in mine if e["event_type"] == "pipecat.metrics" and e["data"]["kind"] == "ttfb"]
    assert [(d["stage"], d["value_s"], d["interrupted"]) for d in ttfbs] == [
        ("stt", 0.3, False), ("llm", 0.35, False), ("tts", 0.25, False), ("tts", 0.42, True)]

    # the interrupted request's TTFB is counted apart, not as a TTFB
    after = vt.prom_text()
    assert _sample(after, TTFB_HISTOGRAM + "_count") - _sample(before, TTFB_HISTOGRAM + "_count") == 3
    assert _sample(after, INTERRUPTED_TTFB_COUNTER) - _sample(before, INTERRUPTED_TTFB_COUNTER) == 1


def _sample(text, name):
    """The sum of a family's samples over its label sets."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


def script_server_vad(p, clock):
    """One turn of an STT with its own VAD (Pipecat #4927): user turn frames but no VAD frames,
    an LLM error, and the run is cancelled, not ended."""
    inp, stt, llm, tts, out = p
    return [
        (1000, inp, UserStartedSpeakingFrame),
        (1900, stt, lambda: transcript("hello")),
        (2000, inp, UserStoppedSpeakingFrame),
        (2100, llm, LLMFullResponseStartFrame),
        (2300, llm, lambda: ErrorFrame(error="rate limited", processor=llm)),
        (2400, llm, lambda: LLMTextFrame(text="Hi.")),
        (2450, llm, LLMFullResponseEndFrame),
        (2500, tts, TTSStartedFrame),
        (2600, tts, audio),
        (2700, out, BotStartedSpeakingFrame),
        (3000, tts, TTSStoppedFrame),
        (3300, out, BotStoppedSpeakingFrame),
        (3500, inp, UserStartedSpeakingFrame),        # a second turn, open when the run is cancelled
        (3900, stt, lambda: transcript("bye")),
        (4000, inp, UserStoppedSpeakingFrame),
        (4100, llm, LLMFullResponseStartFrame),
    ]


def test_server_side_vad_error_and_cancel():
    observer = VoiceTelemetryObserver(session_id="pipecat-server-vad")
    ublo = asyncio.run(run_three_turns(observer, end_ms=5000, script=script_server_vad,
                                       end_frame=CancelFrame))
    assert observer.refused == {}
    t1, t2 = observer.turns
    # anchored on the user turn's end, as no VAD frame came; Pipecat's own observer measured nothing
    assert (t1["user_speech"]["start_ns"], t1["user_speech"]["end_ns"]) == (1000 * MS, 2000 * MS)
    assert t1["anchor"] == "user_speech_end" and t1["e2e_latency_ns"] == 700 * MS
    assert t1["stt"]["final_ns"] == 1900 * MS and t1["eou"]["end_ns"] is None
    assert t1["errors"] == {"llm": 1}
    assert ublo == []
    # the open turn completed at the CancelFrame's push, and the session ended there
    assert t2["completed_by"] == "turn_complete" and t2["end_ns"] == 5000 * MS
    assert t2["llm"]["start_ns"] == 4100 * MS and t2["e2e_latency_ns"] is None
    assert t2["stt"]["final_ns"] == 3900 * MS
    assert observer.session.ended


def test_sqlite_sink_unchanged(tmp_path):
    """The trace store's SQLite sink takes the observer's session as any other: its turns table has
    the three records, with the stage values and providers, and our pipecat.metrics events."""
    import sqlite3

    so = REPO_ROOT / "build" / "plugins" / "sqlite_sink.so"
    if not so.is_file():
        pytest.skip("build/plugins/sqlite_sink.so is not built (make plugins)")
    db = tmp_path / "traces.db"
    with vt.load_plugin(str(so), {"path": str(db)}):
        observer = VoiceTelemetryObserver(session_id="pipecat-sqlite")
        asyncio.run(run_three_turns(observer))
        vt.flush_events(timeout_s=10.0)
    con = sqlite3.connect(db)
    rows = con.execute("SELECT turn_number, outcome, e2e_ns, llm_ttft_ns, tts_ttfb_ns, llm_provider, "
                       "tool_calls_total FROM turns WHERE session_id = 'pipecat-sqlite' "
                       "ORDER BY turn_number").fetchall()
    assert rows == [(1, "completed", 1200 * MS, 350 * MS, 250 * MS, "ScriptedLLM", 0),
                    (2, "interrupted", 2000 * MS, 1100 * MS, 100 * MS, "ScriptedLLM", 1),
                    (3, "completed", 1000 * MS, 300 * MS, 150 * MS, "ScriptedLLM", 0)]
    (n,) = con.execute("SELECT count(*) FROM events WHERE session_id = 'pipecat-sqlite' "
                       "AND event_type = 'pipecat.metrics'").fetchone()
    assert n == 4


def test_otlp_sink_unchanged(tmp_path):
    """otlp_sink.so exports the observer's session as any other: one invoke_agent span per turn with
    our e2e, the tool call's span, and our pipecat.metrics events on the session's root span. The
    receiver is the OTLP suite's loopback one (tests/otlp/receiver.py)."""
    so = REPO_ROOT / "build" / "plugins" / "otlp_sink.so"
    if not so.is_file():
        pytest.skip("build/plugins/otlp_sink.so is not built (make plugins)")
    import os
    import sys

    sys.path.insert(0, str(REPO_ROOT / "tests" / "otlp"))
    from receiver import Receiver

    os.environ["NO_PROXY"] = ",".join(filter(None, ["127.0.0.1", os.environ.get("NO_PROXY", "")]))
    receiver = Receiver().start()
    try:
        p = vt.load_plugin(str(so), {"endpoint": receiver.endpoint, "metrics_interval_ms": 0})
        try:
            observer = VoiceTelemetryObserver(session_id="pipecat-otlp")
            asyncio.run(run_three_turns(observer))
        finally:
            p.unload()      # drains: every span is sent before it returns
        spans = [s for _, s in receiver.spans()]
    finally:
        receiver.stop()
    assert not receiver.errors, receiver.errors

    def attr(span, key):
        for kv in span.attributes:
            if kv.key == key:
                v = kv.value
                return getattr(v, v.WhichOneof("value"))
        return None

    roots = [s for s in spans if s.name == "voice_session"
             and attr(s, "gen_ai.conversation.id") == "pipecat-otlp"]
    assert len(roots) == 1
    mine = [s for s in spans if s.trace_id == roots[0].trace_id]
    turns = sorted((s for s in mine if s.name == "invoke_agent"),
                   key=lambda s: attr(s, "voicetelemetry.turn.id"))
    assert [attr(s, "voicetelemetry.turn.e2e_latency_ns") for s in turns] == [1200 * MS, 2000 * MS, 1000 * MS]
    assert [attr(s, "voicetelemetry.turn.outcome") for s in turns] == ["completed", "interrupted", "completed"]
    assert sum(1 for s in mine if s.name == "execute_tool get_weather") == 1
    assert sum(1 for e in roots[0].events if e.name == "pipecat.metrics") == 4
