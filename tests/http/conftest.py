"""Fixtures of the HTTP suite (tests/http): engine processes serving themselves with http_exporter.so,
and plain HTTP clients. Other test files here (the dashboard, the Prometheus fleet) use them too:
these names and signatures are kept stable.

Fixtures
  http_exporter         Path of the plugin (env HTTP_EXPORTER, else build/plugins/http_exporter.so).
  start_engine(**cfg)   Factory: starts a real engine process (tests/http/engine.py: the Python
                        binding + the plugin, listen 127.0.0.1:0 + port_file) and returns an Engine
                        once it listens; cfg is merged into the plugin's config. Every engine started
                        is stopped at teardown (stdin closed, then killed after 10 s).
  engine                One Engine with the default config.

Engine (one process)
  .port, .base (http://127.0.0.1:PORT), .url(path)
  .session(id, labels=None, start_t_ns=..., text_policy="redact"|"include", turn_history=0,
           clock=None|"media")                          opens a session (explicit start time)
  .calls([[session_id, method, *args], ...])            Session methods in one round trip; an arg
                                                        "@TurnStage.LLM" names a binding enum member
  .turn(session_id, t0_ns, **stage_ms) -> Turn          one scripted cascaded turn (see Turn)
  .end(id, t_ns), .flush(), .vt(fn, *args, **kwargs) (a voicetelemetry function), .unload(), .stop()

Turn (the expected record of a scripted turn): user speech end at t0 (the anchor); STT final at
  t0 + stt_ms, end of utterance at final + eou_ms, LLM first token eou + llm_ms, TTS first byte
  llm + tts_ms, first agent audio tts + remainder_ms, agent speech for speak_ms, then
  turn_complete. Fields: the *_ns times and e2e_ns (= the sum of the five parts).

HTTP helpers
  get(port, path, headers=None, method="GET", timeout=5.0) -> Response(status, headers, body)
      one request on a fresh connection (http.client); headers is a dict (lower-case names)
  raw(port, data, timeout=5.0) -> bytes  send bytes, read until the server closes or timeout
  parse_responses(data) -> [Response]    split raw bytes into responses (Content-Length bodies)
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))
SO = Path(os.environ.get("HTTP_EXPORTER", REPO / "build" / "plugins" / "http_exporter.so"))
MS = 1_000_000


@pytest.fixture(scope="session")
def http_exporter() -> Path:
    if not SO.is_file():
        pytest.fail(f"{SO} is missing: make -o build/lib/libvoicetelemetry.so http-exporter")
    return SO


# ---- HTTP helpers -------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: Dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    header_names: List[str] = field(default_factory=list)  # as sent, in order

    def json(self) -> Any:
        return json.loads(self.body)


def get(port: int, path: str, headers: Optional[Dict[str, str]] = None, method: str = "GET",
        timeout: float = 5.0) -> Response:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        hs: Dict[str, str] = {}
        for k, v in r.getheaders():
            hs[k.lower()] = f"{hs[k.lower()]}, {v}" if k.lower() in hs else v
        return Response(r.status, hs, body, [k for k, _ in r.getheaders()])
    finally:
        c.close()


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(socket.timeout, ConnectionResetError):
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        return out


def parse_responses(data: bytes) -> List[Response]:
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"no end of head in {data[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hs = {}
        names = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hs[k.strip().lower()] = v.strip()
            names.append(k.strip())
        n = int(hs.get("content-length", len(rest)))
        out.append(Response(status, hs, rest[:n], names))
        data = rest[n:]
    return out


# ---- engines ------------------------------------------------------------------------------------

@dataclass
class Turn:
    t0: int
    stt_final_ns: int
    eou_end_ns: int
    llm_first_ns: int
    tts_first_ns: int
    first_audio_ns: int
    end_ns: int
    parts: Dict[str, int]

    @property
    def e2e_ns(self) -> int:
        return self.first_audio_ns - self.t0


class EngineError(AssertionError):
    pass


class Engine:
    def __init__(self, so: Path, config: Dict[str, Any], tmp: Path) -> None:
        self.config = config
        self.proc = subprocess.Popen([sys.executable, str(HERE / "engine.py"), str(so), json.dumps(config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(tmp / "engine.err", "wb"),
                                     text=True, bufsize=1)
        self.err_path = tmp / "engine.err"
        first = self._read()
        if "port" not in first:
            self.stop()
            raise EngineError(f"engine did not start: {first.get('error')}")
        self.port: int = first["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def _read(self) -> Dict[str, Any]:
        line = self.proc.stdout.readline()
        if not line:
            raise EngineError(f"engine exited: {self.err_path.read_text()[-2000:]}")
        return json.loads(line)

    def cmd(self, op: str, **kw) -> Any:
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        out = self._read()
        if "error" in out:
            raise EngineError(f"{op} {kw}: {out['error']}")
        return out["ok"]

    def url(self, path: str) -> str:
        return self.base + path

    def session(self, sid: str, labels: Optional[Dict[str, str]] = None, start_t_ns: int = 1000 * MS,
                text_policy: str = "redact", turn_history: int = 0, clock: Optional[str] = None) -> str:
        return self.cmd("session", id=sid, labels=labels or {"transport": "sip"}, start_t_ns=start_t_ns,
                        text_policy=text_policy, turn_history=turn_history, clock=clock)

    def calls(self, calls: List[List[Any]]) -> int:
        return self.cmd("calls", calls=calls)

    def turn(self, sid: str, t0: int, speech_ms: int = 1500, stt_ms: int = 120, eou_ms: int = 80,
             llm_ms: int = 250, tts_ms: int = 90, remainder_ms: int = 30, speak_ms: int = 2000,
             transcript: Optional[str] = None) -> Turn:
        """Records one cascaded turn whose user speech ends at t0 (ns on the session clock)."""
        stt = t0 + stt_ms * MS
        eou = stt + eou_ms * MS
        llm = eou + llm_ms * MS
        tts = llm + tts_ms * MS
        audio = tts + remainder_ms * MS
        end = audio + speak_ms * MS
        S = "@TurnStage."
        c: List[List[Any]] = [
            [sid, "record_vad_start", t0 - speech_ms * MS],
            [sid, "turn_mark", S + "STT", "@TurnMark.START", t0 - speech_ms * MS],
            [sid, "record_vad_end", t0],
            [sid, "record_turn_start", t0],
            [sid, "turn_mark", S + "STT", "@TurnMark.FINAL", stt],
        ]
        if transcript is not None:
            c.append([sid, "turn_text", "@TurnTextKind.USER_TRANSCRIPT", transcript, stt])
        c += [
            [sid, "turn_mark", S + "EOU", "@TurnMark.START", t0],
            [sid, "turn_mark", S + "EOU", "@TurnMark.END", eou],
            [sid, "turn_mark", S + "LLM", "@TurnMark.START", eou],
            [sid, "turn_mark", S + "LLM", "@TurnMark.FIRST", llm],
            [sid, "turn_mark", S + "TTS", "@TurnMark.START", llm],
            [sid, "turn_mark", S + "TTS", "@TurnMark.FIRST", tts],
            [sid, "record_audio_out", 640, audio],
            [sid, "record_audio_out", 640, audio + 20 * MS],
            [sid, "turn_mark", S + "AGENT_SPEECH", "@TurnMark.END", end],
        ]
        self.calls(c)
        parts = {"stt_ns": stt_ms * MS, "eou_ns": eou_ms * MS, "llm_ttft_ns": llm_ms * MS, "tts_ttfb_ns": tts_ms * MS,
                 "realtime_ns": 0, "remainder_ns": remainder_ms * MS}
        return Turn(t0, stt, eou, llm, tts, audio, end, parts)

    def end(self, sid: str, t_ns: int = 0) -> None:
        self.cmd("end", id=sid, t_ns=t_ns)

    def flush(self) -> None:
        self.cmd("flush")

    def vt(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        return self.cmd("vt", fn=fn, args=list(args), kwargs=kwargs)

    def unload(self) -> None:
        self.cmd("unload")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stdin):
            with contextlib.suppress(Exception):
                f.close()


@pytest.fixture
def start_engine(http_exporter: Path, tmp_path: Path) -> Iterator[Any]:
    engines: List[Engine] = []

    def start(**cfg: Any) -> Engine:
        d = tmp_path / f"engine{len(engines)}"
        d.mkdir()
        config = {"listen": "127.0.0.1:0", "port_file": str(d / "port")}
        config.update(cfg)
        e = Engine(http_exporter, config, d)
        engines.append(e)
        return e

    yield start
    for e in engines:
        e.stop()


@pytest.fixture
def engine(start_engine) -> Engine:
    return start_engine()
