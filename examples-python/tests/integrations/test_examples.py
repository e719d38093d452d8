"""The example apps in examples-python/integrations/ run offline, serve /metrics and end by themselves."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from _frameworks import require

REPO = Path(__file__).resolve().parents[3]
APPS = REPO / "examples-python" / "integrations"

def run(app, *args):
    env = dict(os.environ)
    env.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))
    p = subprocess.run([sys.executable, "-W", "ignore", str(APPS / app), "--port", "0", *args],
                       capture_output=True, text=True, timeout=90, cwd=REPO, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout

def test_pipecat_app(jsonl_sink_so):
    require("pipecat", "pipecat")
    out = run("pipecat_app.py", "--scale", "0.2", "--sink", str(jsonl_sink_so))
    turns = re.findall(r"^turn (\d): completed, e2e (\d+) ms", out, re.M)
    assert [t[0] for t in turns] == ["1", "2"]
    assert "tools ['get_forecast']" in out
    assert 'voicetelemetry_turn_e2e_latency_seconds_count{transport="offline"}' in out
    assert "'turn.complete'" in out and "'session.end'" in out

def test_livekit_app():
    require("livekit.agents", "livekit")
    for args, stage in (((), "llm ttft"), (("--realtime",), "realtime ttfa")):
        out = run("livekit_app.py", "--scale", "0.2", *args)
        rows = re.findall(r"^turn (\d): e2e ours ([\d.]+) ms, LiveKit's ([\d.]+) ms; (\w+ \w+)", out, re.M)
        assert [(r[0], r[3]) for r in rows] == [("1", stage), ("2", stage)]
        # the script's LiveKit e2e is the same two time.time() stamps ours converts: equal to 0.1 ms
        # (the printed rounding)
        assert all(abs(float(ours) - float(lk)) <= 0.1 for _, ours, lk, _ in rows)
        assert "ended: True" in out
    assert "audio tokens in/out 120/80" in out and "session tokens: 470" in out
