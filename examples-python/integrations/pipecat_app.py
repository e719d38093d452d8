"""An offline Pipecat bot with voicetelemetry: two turns (the second with a tool call), no network.

The "services" are pass-through processors that push, in real time, the frames Pipecat's VAD, STT,
LLM, TTS and output transport push (a real ``PipelineWorker`` on Pipecat's own clock). The only
voicetelemetry lines are the observer and the /metrics server::

    observer = VoiceTelemetryObserver(labels={"transport": "offline"})
    task = PipelineWorker(pipeline, observers=[observer])        # PipelineTask before Pipecat 1.3

Run from the repository root (``pip install "./examples-python[pipecat]"``):

    python3 examples-python/integrations/pipecat_app.py --port 9464 [--sink build/plugins/jsonl_sink.so]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from loguru import logger  # noqa: E402

logger.remove()
logger.add(sys.stderr, level="WARNING")

from pipecat.frames.frames import (  # noqa: E402
    BotStartedSpeakingFrame, BotStoppedSpeakingFrame, EndFrame, FunctionCallInProgressFrame,
    FunctionCallResultFrame, LLMFullResponseEndFrame, LLMFullResponseStartFrame, LLMTextFrame,
    StartFrame, TranscriptionFrame, TTSAudioRawFrame, TTSStartedFrame, TTSStoppedFrame,
    UserStartedSpeakingFrame, UserStoppedSpeakingFrame, VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineWorker  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

import voicetelemetry as vt  # noqa: E402
from voicetelemetry.integrations import serve_metrics  # noqa: E402
from voicetelemetry.integrations.pipecat import VoiceTelemetryObserver  # noqa: E402


class Stage(FrameProcessor):
    """Passes frames on; the script pushes from here what the real service would."""

    def __init__(self, name):
        super().__init__(name=name)
        self.started = asyncio.Event()

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            self.started.set()
        await self.push_frame(frame, direction)


async def converse(vad, stt, llm, tts, out, scale):
    async def at(proc, frame, wait_s=0.0, direction=FrameDirection.DOWNSTREAM):
        if wait_s:
            await asyncio.sleep(wait_s * scale)
        await proc.push_frame(frame, direction)

    for question, answer, tool in (("What's the weather?", "Sunny, 24 degrees.", None),
                                   ("And tomorrow?", "Rain tomorrow.", "get_forecast")):
        await at(vad, VADUserStartedSpeakingFrame(start_secs=0.2))
        await at(vad, UserStartedSpeakingFrame())
        await at(vad, VADUserStoppedSpeakingFrame(stop_secs=0.2), 0.8)
        await at(stt, TranscriptionFrame(text=question, user_id="caller", timestamp=""), 0.15)
        await at(vad, UserStoppedSpeakingFrame(), 0.05)
        await at(llm, LLMFullResponseStartFrame())
        if tool:
            await at(llm, FunctionCallInProgressFrame(function_name=tool, tool_call_id="t1",
                                                      arguments={}), 0.2)
            await at(llm, FunctionCallResultFrame(function_name=tool, tool_call_id="t1",
                                                  arguments={}, result={"rain": True}), 0.1)
        await at(llm, LLMTextFrame(text=answer), 0.25)
        await at(llm, LLMFullResponseEndFrame(), 0.02)
        await at(tts, TTSStartedFrame())
        # a new frame each time: Pipecat tells a frame's first push by its id
        await at(tts, TTSAudioRawFrame(audio=b"\0" * 640, sample_rate=16000, num_channels=1), 0.12)
        await at(out, BotStartedSpeakingFrame(), 0.03)
        await at(tts, TTSStoppedFrame(), 0.3)
        await at(out, BotStoppedSpeakingFrame(), 0.2)
        await asyncio.sleep(0.2 * scale)


async def main_async(args):
    procs = [Stage(n) for n in ("vad", "stt", "llm", "tts", "output")]
    observer = VoiceTelemetryObserver(labels={"transport": "offline"}, session_id="pipecat-demo")
    task = PipelineWorker(Pipeline(procs), observers=[observer], idle_timeout_secs=None,
                          enable_rtvi=False)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(task)

    async def drive():
        for p in procs:
            await p.started.wait()
        await converse(*procs, scale=args.scale)
        await task.queue_frame(EndFrame())

    await asyncio.gather(runner.run(), drive())
    return observer


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=9464, help="/metrics on 127.0.0.1 (0: ephemeral)")
    ap.add_argument("--sink", help="a sink plugin to load, e.g. build/plugins/jsonl_sink.so")
    ap.add_argument("--scale", type=float, default=1.0, help="time scale of the script")
    args = ap.parse_args()
    plugin = None
    if args.sink:
        events = os.path.join(tempfile.mkdtemp(), "events.jsonl")
        plugin = vt.load_plugin(args.sink, {"path": events})
        print(f"events -> {events}")
    with serve_metrics(port=args.port) as metrics:
        print(f"metrics at {metrics.url}")
        observer = asyncio.run(main_async(args))
        for t in observer.turns:
            b = t["e2e_breakdown_ns"] or {}
            print(f"turn {t['turn_id']}: {t['outcome']}, e2e {t['e2e_latency_ns'] / 1e6:.0f} ms = "
                  + " + ".join(f"{k[:-3]} {v / 1e6:.0f}" for k, v in b.items() if v)
                  + f"; tools {[c['name'] for c in t['tool_calls']]}")
        body = urllib.request.urlopen(metrics.url, timeout=5).read().decode()
        print("\n".join(line for line in body.splitlines()
                        if line.startswith("voicetelemetry_turn_e2e_latency_seconds_count")))
    if plugin is not None:
        vt.flush_events(timeout_s=5.0)
        plugin.unload()
        print("event types:", sorted({json.loads(line)["event_type"] for line in open(events)}))


if __name__ == "__main__":
    main()
