"""Fixtures of the OTLP exporter suite: the loopback receiver, the plugin loaded through the real
library (Python binding), a scenario replayer (tests/scenarios/turns format) and span-tree helpers."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "examples-python"))
sys.path.insert(0, str(HERE))
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))
# the receivers are on loopback: never through a proxy the machine may configure (libcurl reads these)
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get(_var, "")]))

import voicetelemetry as vt  # noqa: E402
from receiver import Receiver  # noqa: E402

SO = Path(os.environ.get("OTLP_SINK", REPO / "build" / "plugins" / "otlp_sink.so"))
JSONL = REPO / "build" / "plugins" / "jsonl_sink.so"
SCENARIOS = REPO / "tests" / "scenarios" / "turns"


@pytest.fixture(scope="session")
def so() -> Path:
    if not SO.is_file():
        pytest.fail(f"{SO} is missing: make -o build/lib/libvoicetelemetry.so otlp-sink")
    return SO


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()
    assert not r.errors, r.errors


def read_stats(path: Path) -> Dict[str, Any]:
    return json.loads(path.read_text())


@contextlib.contextmanager
def otlp_plugin(so: Path, endpoint: str, tmp: Path, **cfg) -> Iterator[Any]:
    """otlp_sink loaded with the receiver's endpoint, no periodic metrics, a stats file in tmp."""
    config = {"endpoint": endpoint, "metrics_interval_ms": 0, "stats_path": str(tmp / "otlp-stats.json")}
    config.update(cfg)
    p = vt.load_plugin(str(so), config)
    try:
        yield p
    finally:
        with contextlib.suppress(vt.NotFoundError):
            p.unload()


@contextlib.contextmanager
def captured_events(tmp: Path) -> Iterator[List[Dict]]:
    """The library's events as the plugins see them (jsonl_sink beside otlp_sink)."""
    path = tmp / "events.jsonl"
    p = vt.load_plugin(str(JSONL), {"path": str(path)})
    events: List[Dict] = []
    try:
        yield events
    finally:
        vt.flush_events(5.0)
        p.unload()
        events.extend(json.loads(l) for l in path.read_text().splitlines() if l)


# ---- scenarios ----------------------------------------------------------------------------------

def _enum(cls, name: str):
    return cls[name.upper()]


def play(path: Path) -> str:
    """Replays a scenario file (its `expect` lines are the turn suite's business); returns the
    session id. The session starts at t = 1000 ns on its scripted clock and is ended."""
    S, M = vt.TurnStage, vt.TurnMark
    s: Optional[vt.Session] = None
    for line in path.read_text().split("\n"):
        if not line or line[0] == "#" or line.startswith("expect "):
            continue
        f = line.split()
        cmd, a = f[0], f[1:]
        if cmd == "config":
            s = vt.Session(session_id=a[0], labels={"transport": a[1]}, start_t_ns=1000,
                           text_policy=vt.TextPolicy.INCLUDE if a[2] == "include" else vt.TextPolicy.REDACT,
                           max_text_chars=int(a[3]), turn_history=int(a[4]))
            sid = a[0]
        elif cmd == "mark":
            s.turn_mark(_enum(S, a[0]), _enum(M, a[1]), int(a[2]))
        elif cmd == "value":
            s.turn_value(_enum(vt.TurnValueKey, a[0]), float(a[1]), int(a[2]))
        elif cmd == "text":
            parts = line.split(" ", 3)
            s.turn_text(_enum(vt.TurnTextKind, a[0]), parts[3] if len(parts) > 3 else "", int(a[1]))
        elif cmd == "usage":
            counts = [int(v) for v in a[1:10]]
            s.turn_usage(_enum(S, a[0]), t_ns=int(a[10]),
                         **{k: (None if v < 0 else v) for k, v in zip(vt.turns.TOKEN_FIELDS, counts)})
        elif cmd == "error":
            s.turn_error(_enum(S, a[0]), int(a[1]))
        elif cmd == "provider":
            s.turn_provider(_enum(S, a[0]), a[1], None if a[2] == "-" else a[2], int(a[3]))
        elif cmd == "fallback":
            s.turn_fallback(_enum(S, a[0]), _enum(vt.FallbackKind, a[1]), a[2], a[3],
                            None if a[4] == "-" else a[4], int(a[5]))
        elif cmd == "tool":
            s.turn_tool_call(_enum(vt.ToolKind, a[0]), a[1], int(a[2]), int(a[3]), ok=int(a[4]))
        elif cmd in ("vad_start", "vad_end", "interruption", "turn_complete"):
            getattr(s, "record_" + cmd)(int(a[0]))
        elif cmd == "audio_out":
            s.record_audio_out(int(a[0]), int(a[1]))
        else:
            raise AssertionError(f"unknown command {cmd!r}")
    assert s is not None
    s.end()
    return sid


# ---- spans ---------------------------------------------------------------------------------------

def any_value(v) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def attrs(span_or_point) -> Dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in span_or_point.attributes}


def tree(spans: List[Any], offset: int) -> Any:
    """Nested (name, start, end, [children]) with times on the session clock (unix - offset),
    children ordered by start time then name."""
    by_id = {s.span_id: s for s in spans}
    kids: Dict[bytes, List[Any]] = {}
    roots = []
    for s in spans:
        (kids.setdefault(s.parent_span_id, []) if s.parent_span_id in by_id else roots).append(s)

    def node(s):
        ch = sorted(kids.get(s.span_id, []), key=lambda c: (c.start_time_unix_nano, c.name))
        return (s.name, s.start_time_unix_nano - offset, s.end_time_unix_nano - offset, [node(c) for c in ch])

    return [node(r) for r in sorted(roots, key=lambda r: r.start_time_unix_nano)]


def session_offset(spans: List[Any], events: List[Dict], sid: str) -> int:
    """unix ns - session clock ns, as the plugin must have used it: start_unix_ns - start_ns when the
    core sends them; otherwise the plugin's own clock offset (checked to be the machine's, within 1 s)."""
    start = next(e for e in events if e["event_type"] == "session.start" and e["session_id"] == sid)
    root = next(s for s in spans if s.name in ("voice_session", f"Agent Session: {sid}")
                and attrs(s)["gen_ai.conversation.id"] == sid)
    data = start["data"]
    if "start_unix_ns" in data and "start_ns" in data:
        return data["start_unix_ns"] - data["start_ns"]
    offset = root.start_time_unix_nano - start["timestamp_us"] * 1000
    assert abs(offset - (time.time_ns() - time.monotonic_ns())) < 1_000_000_000
    return offset


def wait_stats(path: Path, pred, timeout: float = 10.0) -> Dict[str, Any]:
    end = time.monotonic() + timeout
    st: Dict[str, Any] = {}
    while time.monotonic() < end:
        if path.exists():
            st = read_stats(path)
            if pred(st):
                return st
        time.sleep(0.05)
    return st
