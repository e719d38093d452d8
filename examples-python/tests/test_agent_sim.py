"""agent_sim.py runs briefly, serves /metrics on loopback from before the library loads, and ends by itself."""
from __future__ import annotations

import http.client
import json
import os
import select
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PKG_ROOT = Path(__file__).resolve().parents[1]


def test_agent_sim_serves_metrics_and_terminates():
    env = dict(os.environ, PYTHONPATH=str(PKG_ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(PKG_ROOT / "agent_sim.py"), "--duration", "1.5", "--speed", "0.5",
         "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving metrics at http://127.0.0.1:"), first
        url = first.split(" at ", 1)[1].strip()
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = resp.read().decode("utf-8")
        names = {f.name for f in text_string_to_metric_families(text)}
        assert {"voicetelemetry_sessions_active", "voicetelemetry_audio_out_chunks",
                "agent_sim_calls"} <= names
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    # Each call's snapshot is printed as JSON after a "--- snapshot <id>" line.
    chunks = out.split("--- snapshot ")[1:]
    assert len(chunks) == 2
    for chunk in chunks:
        name, body = chunk.split("\n", 1)
        snap = json.loads(body.rsplit("}", 1)[0] + "}")
        assert snap["session_id"] == name.strip()
        assert snap["audio_chunks_out"] > 0 and snap["response_count"] >= 1
        assert snap["total_token_count"] is not None
        assert snap["interruptions"] == 1  # the barge-in of the first turn
        for ms in (snap["min_response_latency_ms"], snap["max_response_latency_ms"]):
            assert 150 <= ms <= 900  # 300-900 ms at --speed 0.5, plus scheduling slack


# Runs agent_sim.main with its start-up held between listening and loading the library: the test
# scrapes in that gap (what `agent_sim.py &` then `curl` does while the interpreter loads the binding).
HELD_START = """
import sys
import agent_sim
listen, load = agent_sim.listen, agent_sim.load_binding
def listen_and_tell(port):
    server = listen(port)
    print("listening", server.server_address[1], flush=True)
    return server
def load_when_told():
    sys.stdin.readline()
    load()
agent_sim.listen, agent_sim.load_binding = listen_and_tell, load_when_told
sys.exit(agent_sim.main(sys.argv[1:]))
"""


def test_a_scrape_during_start_up_waits_and_gets_the_whole_exposition():
    env = dict(os.environ, PYTHONPATH=str(PKG_ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD_START, "--duration", "0.2", "--speed", "0.1", "--port", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "agent_sim.main did not listen before loading the library"
        word, port = proc.stdout.readline().split()
        assert word == "listening"
        conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
        conn.request("GET", "/metrics")  # connects now: the library is not loaded yet
        proc.stdin.write("go\n")
        proc.stdin.flush()
        resp = conn.getresponse()
        body = resp.read().decode("utf-8").splitlines()
        conn.close()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
        at = body.index("# HELP agent_sim_calls Simulated calls running.")
        assert body[at:at + 3] == ["# HELP agent_sim_calls Simulated calls running.",
                                   "# TYPE agent_sim_calls gauge", "agent_sim_calls 2"]
        assert "# TYPE voicetelemetry_sessions_active gauge" in body
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.startswith(f"serving metrics at http://127.0.0.1:{port}/metrics\n")
