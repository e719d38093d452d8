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
sys.path.insert(0, str(REPO / "examples-python" / "tests"))   # turn_scenario: the scenario call lines
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))
# the receivers are on loopback: never through a proxy the machine may configure (libcurl reads these)
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get(_var, "")]))

import voicetelemetry as vt  # noqa: E402
from receiver import Receiver  # noqa: E402
from turn_scenario import config_session, turn_step  # noqa: E402

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

def play(path: Path) -> str:
    """Replays a scenario file (its `expect` lines are the turn suite's business); returns the
    session id. The session starts at t = 1000 ns on its scripted clock and is ended."""
    s: Optional[vt.Session] = None
    for line in path.read_text().split("\n"):
        if not line or line[0] == "#" or line.startswith("expect "):
            continue
        if line.startswith("config "):
            s, sid = config_session(line), line.split()[1]
        else:
            turn_step(s, line)
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
