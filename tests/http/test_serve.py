"""make serve's engine (examples-c/voice_engine.c --serve): it prints the address, plays calls in real
time behind the endpoint, and stops cleanly on Ctrl-C (SIGINT)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, get

ENGINE = Path(os.environ.get("HTTP_VOICE_ENGINE", REPO / "build/tests/http/voice_engine"))


def test_serve_mode_plays_calls_live_until_ctrl_c(http_exporter, tmp_path):
    if not ENGINE.is_file():
        pytest.fail(f"{ENGINE} is missing: make -o build/lib/libvoicetelemetry.so build/tests/http/voice_engine")
    p = subprocess.Popen([str(ENGINE), "--serve", str(http_exporter), "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, "VOICE_ENGINE_OUT": str(tmp_path)})
    try:
        line = p.stdout.readline()
        m = re.fullmatch(r"serving: open http://127\.0\.0\.1:(\d+)/ \(the dashboard; /metrics, /api/v1/sessions, "
                         r"/api/v1/events\)\. Ctrl-C stops\.\n", line)
        assert m, line
        port = int(m.group(1))
        assert get(port, "/").headers["content-type"] == "text/html; charset=utf-8"
        # three calls open at once; each plays its first turn within 3 s of its start (real time)
        deadline = time.monotonic() + 10
        while True:
            sessions = get(port, "/api/v1/sessions").json()
            if len(sessions) == 3 and all(s["turns_completed"] >= 1 for s in sessions):
                break
            assert time.monotonic() < deadline, sessions
            time.sleep(0.2)
        assert sorted(s["labels"]["transport"] for s in sessions) == ["sip", "webrtc", "webrtc"]
        assert all(s["last_e2e_ns"] > 0 for s in sessions)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
        assert out.strip() == "stopped after 3 calls"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
