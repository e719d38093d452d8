"""The exporter from C: tests/otlp/c_call.c (built by make test-otlp, or here) plays one turn through
the C ABI with otlp_sink.so loaded; the receiver sees its trace. (Go: examples-go/otlp_test.go.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, attrs, tree

MS = 1_000_000


@pytest.fixture(scope="module")
def c_call(tmp_path_factory) -> Path:
    built = os.environ.get("OTLP_C_CALL")
    if built and Path(built).is_file():
        return Path(built)
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    out = tmp_path_factory.mktemp("c") / "c_call"
    lib = Path(os.environ["VOICETELEMETRY_LIB"]).resolve().parent
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", f"-I{REPO / 'include'}", "-o", str(out),
                    str(REPO / "tests" / "otlp" / "c_call.c"), f"-L{lib}", "-lvoicetelemetry", f"-Wl,-rpath,{lib}"],
                   check=True)
    return out


def test_c_call_trace(c_call, so, receiver):
    p = subprocess.run([str(c_call), str(so), receiver.endpoint], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    emitted, delivered, dropped, reported, joined = map(int, p.stdout.split())
    assert emitted == delivered == 3 and dropped == reported == 0  # session.start, turn.complete, session.end
    spans = [s for _, s in receiver.spans()]
    root = next(s for s in spans if s.name == "voice_session")
    off = root.start_time_unix_nano - 1000 * MS
    (session,) = tree(spans, off)
    assert session[:2] == ("voice_session", 1000 * MS)
    if joined:  # library 1.1: the caller's trace, metadata, a media clock anchored to the wall clock
        assert abs(root.start_time_unix_nano - time.time_ns()) < 30 * 1_000_000_000
        assert (root.trace_id.hex(), root.parent_span_id.hex()) == ("0af7651916cd43dd8448eb211c80319c",
                                                                    "b7ad6b7169203331")
        assert {s.trace_id.hex() for s in spans} == {"0af7651916cd43dd8448eb211c80319c"}
        assert session[2] == 4500 * MS  # vt_end_session_at on the session's clock
        a = attrs(root)
        assert (a["voicetelemetry.metadata.agent_version"], a["voicetelemetry.metadata.locale"],
                a["voicetelemetry.session.clock"]) == ("2.4.1", "de-DE", "media")
    assert session[3] == [("invoke_agent", 1000 * MS, 4000 * MS, [
        ("user_speech", 1000 * MS, 2000 * MS, []),
        ("chat gpt-4o-mini", 2100 * MS, 2600 * MS, [("time_to_first_token", 2100 * MS, 2300 * MS, [])]),
        ("speech_to_text", 2100 * MS, 2100 * MS, []),
        ("text_to_speech", 2300 * MS, 2500 * MS, [("time_to_first_byte", 2300 * MS, 2500 * MS, [])]),
        ("execute_tool lookup", 2350 * MS, 2450 * MS, []),
        ("agent_speech", 2600 * MS, 4000 * MS, [])])]
    turn = next(s for s in spans if s.name == "invoke_agent")
    assert attrs(turn)["voicetelemetry.turn.e2e_latency_ns"] == 600 * MS
    assert attrs(root)["voicetelemetry.label.transport"] == "c"
