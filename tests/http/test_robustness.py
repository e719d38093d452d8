"""Garbage in, a 4xx (or a close) out, never a crash: a seeded fuzz-ish corpus of malformed and mutated
requests, against a real engine process and against the plugin built with AddressSanitizer and UBSan
(loaded by tests/http/fakehost.c, a scripted host), whose run must end with no report and no leak."""
from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import List

import pytest

from conftest import REPO, get

ASAN_SO = Path(os.environ.get("HTTP_EXPORTER_ASAN", REPO / "build/tests/http/asan/http_exporter.so"))
FAKEHOST = Path(os.environ.get("HTTP_FAKEHOST", REPO / "build/tests/http/asan/fakehost"))
ALLOWED = {200, 400, 401, 404, 405, 408, 431, 503, 505}
SEED = 20261202

VALID = [
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0;q=0.9,*/*;q=0.1\r\n"
    b"Accept-Encoding: gzip, deflate\r\n\r\n",
    b"HEAD /api/v1/sessions HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    b"GET /api/v1/sessions/s1/turns?limit=10&x=%20 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\n\r\n",
    b"GET /api/v1/sessions/caf%C3%A9%2Fx HTTP/1.0\r\nUser-Agent: fuzz\r\n\r\n",
    b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 18446744073709551615\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: *;q=0.5, gzip;q=0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
]
ODD = [b"\x00", b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b"%", b"%0", b"%00", b"?", b"#", b"\xff", b"\x80",
       b";q=", b",", b'"', b"\\", b"Content-Length: 7\r\n", b"Transfer-Encoding: chunked\r\n", b"Host: y\r\n"]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.choice(ODD)
        elif op == 2:
            del b[i:i + rng.randint(1, 8)]
        elif op == 3:
            j = rng.randrange(len(b) + 1)
            b[i:i] = b[min(i, j):max(i, j)] * rng.randint(1, 40)
        elif op == 4:
            b = b[:i]
        else:
            b[i:i] = b"X-" + bytes(rng.randrange(33, 127) for _ in range(rng.randint(1, 20))) + b": " + \
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))) + b"\r\n"
    return bytes(b)


def corpus(n: int) -> List[bytes]:
    rng = random.Random(SEED)
    out = []
    for k in range(n):
        if k % 5 == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000))))
        else:
            out.append(mutate(rng, rng.choice(VALID)))
    return out


def send(port: int, data: bytes) -> bytes:
    """Send, half-close, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):  # answered and closed before it all went
            pass
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except ConnectionResetError:
            pass
        return out


def check_answer(data: bytes, out: bytes) -> None:
    """Every response in `out` is a well-formed HTTP/1.1 head with an allowed status."""
    pos = 0
    while pos < len(out):
        assert out.startswith(b"HTTP/1.1 ", pos), (data[:120], out[pos:pos + 120])
        assert int(out[pos + 9:pos + 12]) in ALLOWED, (data[:120], out[pos:pos + 120])
        head_end = out.index(b"\r\n\r\n", pos) + 4
        head = out[pos:head_end].decode("latin-1").lower()
        if "text/event-stream" in head or data.lstrip(b"\r\n").startswith(b"HEAD "):
            return  # a stream, or an answer to HEAD (its length is the GET's): nothing to frame after it
        m = re.search(r"\r\ncontent-length: (\d+)\r\n", head)
        assert m, head
        pos = head_end + int(m.group(1))


def test_garbage_never_crashes_the_engine(start_engine):
    e = start_engine(request_timeout_ms=300, max_header_bytes=2048)
    for data in corpus(300):
        check_answer(data, send(e.port, data))
    assert get(e.port, "/healthz").body == b"ok"
    assert e.proc.poll() is None
    assert e.cmd("session", id="after", labels={"transport": "sip"}, start_t_ns=0, text_policy="redact",
                 turn_history=0, clock=None) == "after"


class AsanHost:
    """The ASan/UBSan build of the plugin under fakehost. cfg: its config (a value None drops the key;
    _raw: the config text as given)."""

    def __init__(self, tmp: Path, env=None, _raw=None, **cfg) -> None:
        if not (ASAN_SO.is_file() and FAKEHOST.is_file()):
            pytest.fail(f"{ASAN_SO} or {FAKEHOST} missing: make -o build/lib/libvoicetelemetry.so test-http builds them")
        config = {"listen": "127.0.0.1:0", "port_file": str(tmp / "port")}
        config.update(cfg)
        config = {k: v for k, v in config.items() if v is not None}
        self.err = tmp / "fakehost.err"
        self.proc = subprocess.Popen([str(FAKEHOST), str(ASAN_SO), _raw or json.dumps(config)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(self.err, "wb"),
                                     env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                                          **(env or {})})
        self.first = self.proc.stdout.readline().decode().strip()
        self.port = int((tmp / "port").read_text()) if self.first == "ready" else 0

    def event(self, ev) -> None:
        """One event line: a dict (as JSON) or raw bytes."""
        self.proc.stdin.write(ev if isinstance(ev, bytes) else (json.dumps(ev) + "\n").encode())
        self.proc.stdin.flush()

    def finish(self) -> str:
        """Close stdin (the plugin shuts down), wait; the sanitizers' report, if any."""
        self.proc.stdin.close()
        rc = self.proc.wait(30)
        report = self.err.read_text()
        assert rc == 0 and "ERROR:" not in report and "runtime error" not in report, report[-4000:]
        return report


def turn_event(k: int) -> dict:
    return {"type_id": "core::telemetry/event@1", "session_id": "s1", "event_type": "turn.complete",
            "turn_id": str(k), "timestamp_us": k, "data": {"turn_id": k, "pad": "x" * 30000}}


class Reader:
    """An event-stream client (token abc) keeping everything it read."""

    def __init__(self, port: int, rcvbuf: int = 0) -> None:
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\n\r\n")
        self.got = b""
        while b": connected" not in self.got:
            self.got += self.sock.recv(65536)

    def until(self, n: int = 0, text: bytes = b"") -> None:
        """Read until n turn.complete events (or `text`) arrived."""
        while self.got.count(b"event: turn.complete") < n or text not in self.got:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the stream"
            self.got += chunk


def test_garbage_and_every_path_under_address_sanitizer(tmp_path):
    h = AsanHost(tmp_path, request_timeout_ms=200, max_header_bytes=2048, max_connections=16, sse_queue_events=64,
                 sse_heartbeat_ms=50, token="abc")
    assert h.first == "ready", h.first
    for data in corpus(200):
        check_answer(data, send(h.port, data))
    auth = {"authorization": "Bearer abc"}
    for path in ("/metrics", "/", "/api/v1/sessions", "/api/v1/sessions/s1", "/api/v1/sessions/s1/turns?limit=3",
                 "/api/v1/sessions/gone", "/api/v1/sessions/gone/turns", "/api/v1/sessions/%ff"):
        for extra in ({}, {"accept-encoding": "gzip"}, {"accept": "application/openmetrics-text"}):
            assert get(h.port, path, {**auth, **extra}).status in (200, 400, 404)
    # the host's text grows at every call: the plugin must ask again with a larger buffer
    sizes = {len(get(h.port, "/metrics", auth).body) for _ in range(30)}
    assert len(sizes) == 30
    # event streams: one that keeps up, one that reads nothing (its events are overwritten: dropped notices)
    fast = Reader(h.port)
    slow = Reader(h.port, rcvbuf=4096)
    for k in range(200):
        h.event(turn_event(k))
        h.event({"event_type": "interruption", "data": {}})
        h.event(b'{"data": [1, {"x": "}\\"event_type\\""}], "event_type": 7}\n')  # no string event_type: skipped
        h.event(b'not json\n')
        if k % 16 == 15:
            fast.until(k + 1)  # the fast reader catches up before the ring (64) can wrap
    fast.until(200)
    assert b"event: dropped" not in fast.got
    # 6 MB of events: more than the socket buffers between the server and the slow client hold
    slow.until(text=b'"turn_id": "199"')  # the last event comes, after the notices
    assert b"event: dropped" in slow.got and slow.got.count(b"event: turn.complete") < 200
    # the connection limit while streams are open, and a slow head cut by the timer (408)
    held = [socket.create_connection(("127.0.0.1", h.port), timeout=5) for _ in range(16)]
    for s in held:
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
    answers = [s.recv(4096)[:12] for s in held]
    assert answers.count(b"HTTP/1.1 503") == 2 and answers.count(b"HTTP/1.1 408") == 14, answers
    for s in held:
        s.close()
    fast.sock.close()
    slow.sock.close()
    h.finish()


def test_a_host_table_without_the_abi_1_1_functions_is_refused(tmp_path):
    h = AsanHost(tmp_path, env={"FAKEHOST_TABLE_SIZE": "48"})
    assert h.first == ("init failed: http_exporter needs plugin ABI 1.1 (libvoicetelemetry 1.2 or later): the host "
                       "table has 48 bytes, 88 needed for prom_text_as, sessions_json, session_find and "
                       "turn_history_json")
    h.proc.stdin.close()
    assert h.proc.wait(10) == 1
