#!/usr/bin/env python3
"""agent_sim.py -- an asyncio voice-agent simulation instrumented with voicetelemetry.

A couple of simulated calls run at once. In each turn the user speaks (VAD start/end), the agent
answers 300-900 ms after the end of speech with 20 ms frames of 16 kHz 16-bit mono audio (640
bytes), reports token usage, and completes the turn; one turn per call has a barge-in. Audio frames
go through an AudioBatch (one foreign call per batch, not per frame).

Prometheus metrics are served on 127.0.0.1 at /metrics while the simulation runs, by the binding's
http.server handler (voicetelemetry.MetricsHandler: text 0.0.4 or OpenMetrics as Accept asks, gzip,
HEAD, 405 for other methods). The port listens before the binding loads the library, so a scrape
that comes during start-up waits and gets the full answer; it is never refused once the interpreter
runs this file. The program ends by itself after --duration seconds (the turns in progress finish
first) and prints each session's snapshot.

    python3 agent_sim.py --duration 5 --port 9464
    curl http://127.0.0.1:9464/metrics
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List

FRAME_BYTES = 640  # 20 ms of 16 kHz, 16-bit mono
FRAME_S = 0.020
vt = None  # the binding, imported by load_binding() once the port listens


def load_binding() -> None:
    global vt
    try:
        import voicetelemetry
    except ImportError:  # running from a source checkout without installing
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import voicetelemetry
    vt = voicetelemetry


def listen(port: int) -> ThreadingHTTPServer:
    """Bound and listening: connections wait in the backlog until serve() answers them."""
    return ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)


def serve(server: ThreadingHTTPServer) -> None:
    server.RequestHandlerClass = vt.MetricsHandler
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


async def play_audio(session: vt.Session, batch: vt.AudioBatch, seconds: float,
                     barge_in_after: float = -1.0) -> bool:
    """Send `seconds` of agent audio in 20 ms frames; returns True if the user barged in."""
    frames = max(1, int(seconds / FRAME_S))
    start = time.monotonic()
    for i in range(frames):
        batch.append(FRAME_BYTES)
        if i % 10 == 9:
            batch.flush()  # a real agent would flush per network packet or every ~200 ms
        if 0 <= barge_in_after <= time.monotonic() - start:
            batch.flush()
            session.record_interruption()
            return True
        await asyncio.sleep(FRAME_S)
    batch.flush()
    return False


async def call(name: str, deadline: float, rng: random.Random, speed: float,
               snapshots: Dict[str, dict]) -> None:
    """One simulated call: turns until the deadline."""
    labels = {"transport": rng.choice(["sip", "webrtc"]), "provider": "sim", "model": "sim-1"}
    with vt.Session(session_id=name, labels=labels) as s:
        batch = s.audio_batch(capacity=64)
        turn = 0
        barge_turn = 1
        while time.monotonic() < deadline:
            turn += 1
            s.record_vad_start()
            await asyncio.sleep(rng.uniform(0.4, 1.0) * speed)  # the user speaks
            s.record_vad_end()
            s.record_turn_start()
            await asyncio.sleep(rng.uniform(0.3, 0.9) * speed)  # STT + LLM + TTS latency
            barge = turn == barge_turn
            interrupted = await play_audio(s, batch, rng.uniform(0.4, 1.2) * speed,
                                           barge_in_after=0.2 * speed if barge else -1.0)
            prompt = rng.randint(50, 400)
            response = rng.randint(20, 120)
            s.record_usage(total=prompt + response, prompt=prompt, response=response,
                           cached=rng.randint(0, prompt // 2))
            vt.observe("agent_sim_llm_seconds", rng.uniform(0.15, 0.6),
                       help="Simulated LLM call duration.", labels={"model": "sim-1"})
            s.record_turn_complete()
            if interrupted:
                vt.counter_add("agent_sim_barge_ins_total", 1, help="Barge-ins in the simulation.")
                continue  # the user is speaking again: the next turn starts right away
            await asyncio.sleep(rng.uniform(0.1, 0.3) * speed)  # pause before the user talks
        snapshots[name] = s.snapshot()


async def main_async(args: argparse.Namespace) -> Dict[str, dict]:
    rng = random.Random(args.seed)
    vt.register_labels("agent_sim_llm_seconds", ["model"])
    deadline = time.monotonic() + args.duration
    snapshots: Dict[str, dict] = {}
    await asyncio.gather(*(call(f"sim-call-{i + 1}", deadline, random.Random(rng.random()),
                                args.speed, snapshots) for i in range(args.calls)))
    vt.gauge_set("agent_sim_calls", 0)
    return snapshots


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=int(os.environ.get("AGENT_SIM_PORT", "0")),
                   help="port for /metrics on 127.0.0.1 (env AGENT_SIM_PORT; 0 = ephemeral)")
    p.add_argument("--duration", type=float, default=4.0,
                   help="seconds of simulation before it stops by itself (default 4)")
    p.add_argument("--calls", type=int, default=2, help="concurrent calls (default 2)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="time scale of the conversation (0.5 = twice as fast)")
    p.add_argument("--linger", type=float, default=0.0,
                   help="seconds to keep serving /metrics after the simulation ends")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    server = listen(args.port)  # before the slow part: importing the binding loads the library
    host, port = server.server_address[:2]
    load_binding()
    # Set before serving, so that the first scrape, however early, already sees it.
    vt.gauge_set("agent_sim_calls", args.calls, help="Simulated calls running.")
    serve(server)
    print(f"serving metrics at http://{host}:{port}/metrics", flush=True)
    try:
        snapshots = asyncio.run(main_async(args))
        for name in sorted(snapshots):
            print(f"--- snapshot {name}")
            print(json.dumps(snapshots[name], indent=2, sort_keys=True))
        print(f"library {vt.version()} from {vt.LIBRARY_PATH}", flush=True)
        if args.linger > 0:
            time.sleep(args.linger)
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
