"""Frames per second through a Pipecat pipeline of no-op processors, with and without
VoiceTelemetryObserver, in the same process, runs alternated (A B C A B C ...); the best run of each
(interference from other processes only ever slows a run down).

A run: a fresh PipelineWorker (Pipecat's defaults, so its own TurnTrackingObserver is there in both
cases) over ``--processors`` pass-through FrameProcessors and a counting sink; ``--frames`` frames are
queued into the task: half 20 ms input audio frames (the observer ignores them), 40 % TTS audio
frames (it records each one's bytes: its costliest path), 10 % LLM text frames. The time runs from
the first queue to the sink having counted every frame AND every observer queue being drained (the
observer's work happens on its own task; leaving it out would flatter it), measured as this
process's CPU time (``time.process_time``): the pipeline is one asyncio thread, so frames per CPU
second is its throughput on an idle core, and other processes on a shared machine do not move it.

Usage: python3 bench/integrations/pipecat_fps.py [--frames N] [--processors P] [--reps R]
Prints: ``without <fps> empty <fps> with <fps> overhead <pct>% vs_empty <pct>%`` -- "empty" is a
BaseObserver that does nothing: what Pipecat itself charges for delivering frames to one more
observer (its per-observer queue and task), so ``vs_empty`` is the cost of this observer's own work.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples-python"))

from loguru import logger  # noqa: E402

logger.remove()
logger.add(sys.stderr, level="WARNING")

from pipecat.frames.frames import (  # noqa: E402
    EndFrame,
    InputAudioRawFrame,
    LLMTextFrame,
    StartFrame,
    TTSAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineWorker  # noqa: E402
from pipecat.processors.frame_processor import FrameProcessor  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from pipecat.observers.base_observer import BaseObserver, FramePushed  # noqa: E402
from pipecat.processors.frame_processor import FrameDirection  # noqa: E402

from voicetelemetry.integrations.pipecat import VoiceTelemetryObserver  # noqa: E402


class EmptyObserver(BaseObserver):
    """Does nothing with the frames it is given: what Pipecat's delivery to one more observer costs."""

    def __init__(self):
        super().__init__(observe_every_push=False)

    async def on_push_frame(self, data):
        pass


class NoOp(FrameProcessor):
    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)


class Sink(FrameProcessor):
    def __init__(self, n):
        super().__init__()
        self.n, self.count = n, 0
        self.started, self.done = asyncio.Event(), asyncio.Event()

    async def process_frame(self, frame, direction):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            self.started.set()
        elif isinstance(frame, (InputAudioRawFrame, TTSAudioRawFrame, LLMTextFrame)):
            self.count += 1
            if self.count == self.n:
                self.done.set()
        await self.push_frame(frame, direction)


def frames(n):
    audio = b"\0" * 640
    out = []
    for i in range(n):
        k = i % 10
        if k < 5:
            out.append(InputAudioRawFrame(audio=audio, sample_rate=16000, num_channels=1))
        elif k < 9:
            out.append(TTSAudioRawFrame(audio=audio, sample_rate=16000, num_channels=1))
        else:
            out.append(LLMTextFrame(text="word "))
    return out


MODES = ("without", "empty", "with")


async def one_run(n, processors, mode):
    sink = Sink(n)
    observers = {"without": [], "empty": [EmptyObserver()],
                 "with": [VoiceTelemetryObserver(emit_metrics_events=False)]}[mode]
    task = PipelineWorker(Pipeline([*(NoOp() for _ in range(processors)), sink]),
                          observers=observers, idle_timeout_secs=None, enable_rtvi=False)
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(task)
    batch = frames(n)

    async def drive():
        await sink.started.wait()
        t0 = time.process_time()
        await task.queue_frames(batch)
        await sink.done.wait()
        for proxy in (task._observer._proxies or {}).values():
            await proxy.queue.join()
        elapsed = time.process_time() - t0
        await task.queue_frame(EndFrame())
        return elapsed

    _, elapsed = await asyncio.wait_for(asyncio.gather(runner.run(), drive()), 300)
    return n / elapsed


async def handler_cost(n):
    """CPU us per frame of VoiceTelemetryObserver.on_push_frame itself, over the same frame mix."""
    obs = VoiceTelemetryObserver(emit_metrics_events=False)
    src, dst = NoOp(), NoOp()
    pushes = [FramePushed(source=src, destination=dst, frame=f, direction=FrameDirection.DOWNSTREAM,
                          timestamp=1_000_000 * (i + 1)) for i, f in enumerate(frames(n))]
    await obs.on_push_frame(pushes[0])
    t0 = time.process_time()
    for d in pushes:
        await obs.on_push_frame(d)
    us = (time.process_time() - t0) / n * 1e6
    obs.session.end()
    return us


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=int(os.environ.get("VT_BENCH_PIPECAT_FRAMES", 4000)))
    ap.add_argument("--processors", type=int, default=5)
    ap.add_argument("--reps", type=int, default=int(os.environ.get("VT_BENCH_PIPECAT_REPS", 7)))
    a = ap.parse_args()
    asyncio.run(one_run(1000, a.processors, "with"))      # warm-up: imports, first session
    res = {m: [] for m in MODES}
    for _ in range(a.reps):
        for mode in MODES:
            gc.collect()
            res[mode].append(asyncio.run(one_run(a.frames, a.processors, mode)))
    # The best run of each: on a shared machine interference only ever slows a run down.
    med = {m: max(v) for m, v in res.items()}
    print(f"without {med['without']:.0f} empty {med['empty']:.0f} with {med['with']:.0f} "
          f"overhead {100 * (1 - med['with'] / med['without']):.1f}% "
          f"vs_empty {100 * (1 - med['with'] / med['empty']):.1f}%")
    us = asyncio.run(handler_cost(a.frames))
    print(f"handler {us:.2f} us/frame = {100 * us * med['without'] / 1e6:.2f}% of a frame's CPU time "
          f"through the pipeline")
    for m in MODES:
        print(f"# {m}: {' '.join(f'{x:.0f}' for x in res[m])}", file=sys.stderr)


if __name__ == "__main__":
    main()
