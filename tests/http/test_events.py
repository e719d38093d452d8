"""/api/v1/events: Server-Sent Events of the turn.complete, session.start and session.end events the
plugin receives, bounded per client."""
from __future__ import annotations

import json
import socket
import time
from typing import Dict, List, Optional


from conftest import MS, get, parse_responses

START = 1000 * MS


class Stream:
    """One SSE client on a raw socket: the response head, then events as dicts
    {"id", "event", "data"} and comments as {"comment": text}."""

    def __init__(self, port: int, headers: str = "", rcvbuf: Optional[int] = None) -> None:
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("the server closed the stream")
        self.buf += chunk

    def next(self, timeout: float = 5.0) -> Dict[str, str]:
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            self._fill()
        block, _, self.buf = self.buf.partition(b"\n\n")
        ev: Dict[str, str] = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                ev["comment"] = line[1:].strip()
            else:
                k, _, v = line.partition(": ")
                ev[k] = v
        return ev

    def events(self, n: int, timeout: float = 10.0) -> List[Dict[str, str]]:
        """The next n events (comments skipped)."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            ev = self.next(max(0.01, deadline - time.monotonic()))
            if "comment" not in ev:
                out.append(ev)
        return out

    def close(self) -> None:
        self.sock.close()


def test_the_stream_carries_exactly_the_turns_recorded_after_connecting(engine):
    engine.session("before", start_t_ns=START, clock="media")
    for k in range(2):
        engine.turn("before", (5000 + 10000 * k) * MS)
    engine.flush()  # those turns' events have reached the plugin: they are not the stream's
    s = Stream(engine.port)
    assert s.status == 200 and s.headers["content-type"] == "text/event-stream"
    assert "content-length" not in s.headers
    assert s.next() == {"comment": "connected"}
    after = [engine.turn("before", (25000 + 10000 * k) * MS, llm_ms=200 + k) for k in range(3)]
    engine.session("new-call", labels={"transport": "webrtc"}, start_t_ns=START, clock="media")
    new = engine.turn("new-call", 3000 * MS, llm_ms=333)
    engine.end("new-call", new.end_ns + 1000 * MS)
    engine.flush()
    evs = s.events(6)
    got = [(e["event"], json.loads(e["data"])) for e in evs]
    for e, (t, d) in zip(evs, got):
        assert d["event_type"] == t and d["type_id"] == "core::telemetry/event@1"
    # in order within a session (the host renders turn.complete later than it sends session.start,
    # so the two sessions' events may interleave either way)
    by_session = {sid: [(t, d["data"]) for t, d in got if d["session_id"] == sid] for sid in ("before", "new-call")}
    assert [t for t, _ in by_session["before"]] == ["turn.complete"] * 3
    assert [t for t, _ in by_session["new-call"]] == ["session.start", "turn.complete", "session.end"]
    turns = [d for t, d in by_session["before"]] + [by_session["new-call"][1][1]]
    assert [t["turn_id"] for t in turns] == [3, 4, 5, 1]
    assert [t["e2e_latency_ns"] for t in turns] == [t.e2e_ns for t in after + [new]]
    ids = [int(e["id"]) for e in evs]
    assert ids == list(range(ids[0], ids[0] + 6))
    s.close()


def test_events_other_than_the_three_are_not_streamed(engine):
    engine.session("c", start_t_ns=START, clock="media")
    engine.flush()
    s = Stream(engine.port)
    s.next()
    engine.calls([["c", "record_interruption", 2000 * MS], ["c", "record_usage", 100, 10, 5, 0, 3000 * MS]])
    t = engine.turn("c", 5000 * MS)
    engine.flush()
    ev = s.events(1)[0]
    assert ev["event"] == "turn.complete" and json.loads(ev["data"])["data"]["e2e_latency_ns"] == t.e2e_ns
    s.close()


def test_heartbeat_comments_keep_an_idle_stream_alive(start_engine):
    e = start_engine(sse_heartbeat_ms=200)
    s = Stream(e.port)
    t0 = time.monotonic()
    got = [s.next(2.0) for _ in range(4)]
    assert got == [{"comment": "connected"}] + [{"comment": "heartbeat"}] * 3
    assert time.monotonic() - t0 < 1.5  # every 200 ms (the worker's timer may add a few ms each)
    s.close()


def test_a_client_that_falls_behind_is_told_how_many_events_it_lost(start_engine):
    e = start_engine(sse_queue_events=4)
    e.session("c", start_t_ns=START, clock="media")
    e.flush()
    s = Stream(e.port, rcvbuf=4096)  # a small window: the server cannot push much ahead
    assert s.next() == {"comment": "connected"}
    n = 300  # about 1 MB of turn.complete events, while the client reads nothing
    for k in range(0, n, 20):  # 20 at a time: the host renders turn.complete from the session's last 32 turns
        e.calls([c for i in range(k, k + 20) for c in turn_calls("c", (5000 + 10000 * i) * MS)])
        e.flush()
    received, dropped, last_turn = 0, 0, 0
    while received + dropped < n:
        ev = s.events(1)[0]
        if ev["event"] == "dropped":
            assert json.loads(ev["data"])["by"] == "stream"
            dropped += json.loads(ev["data"])["dropped"]
        else:
            turn_id = json.loads(ev["data"])["data"]["turn_id"]
            assert turn_id > last_turn  # in order, never twice
            last_turn = turn_id
            received += 1
    assert received + dropped == n and dropped > 0 and last_turn == n  # every event delivered or counted
    s.close()


def turn_calls(sid, t0):
    """A minimal turn (the anchor and the first audio) as engine calls."""
    return [[sid, "record_vad_start", t0 - 500 * MS], [sid, "record_vad_end", t0],
            [sid, "record_audio_out", 640, t0 + 400 * MS], [sid, "record_turn_complete", t0 + 1000 * MS]]


def test_last_event_id_resumes_after_that_event(engine):
    engine.session("c", start_t_ns=START, clock="media")
    engine.flush()
    s = Stream(engine.port)
    s.next()
    for k in range(5):
        engine.calls(turn_calls("c", (5000 + 10000 * k) * MS))
    engine.flush()
    evs = s.events(5)
    s.close()
    r = Stream(engine.port, f"Last-Event-ID: {evs[1]['id']}\r\n")
    r.next()
    assert [e["id"] for e in r.events(3)] == [e["id"] for e in evs[2:]]
    r.close()


def test_sse_max_clients(start_engine):
    e = start_engine(sse_max_clients=2)
    a, b = Stream(e.port), Stream(e.port)
    assert (a.status, b.status) == (200, 200)
    r = get(e.port, "/api/v1/events")
    assert (r.status, r.json()) == (503, {"error": "too many event stream clients"})
    assert get(e.port, "/api/v1/events", method="HEAD").status == 200  # HEAD takes no slot
    a.close()
    deadline = time.monotonic() + 5
    while True:  # the server notices the close at its next wakeup
        c = Stream(e.port)
        if c.status == 200:
            break
        c.close()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    c.close()
    b.close()


def test_head_events_sends_the_headers_and_keeps_the_connection(engine):
    out = b""
    with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as sk:
        sk.sendall(b"HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        while chunk := sk.recv(4096):
            out += chunk
    head, _, rest = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head
    assert parse_responses(rest)[0].body == b"ok"
