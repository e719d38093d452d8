"""A real Prometheus 2.42 (Debian's /usr/bin/prometheus) scrapes a fleet of three engine processes
(tests/http/engine.py: the Python binding with http_exporter.so on its own loopback port) every second
while they play calls whose turn latencies this test draws from a seeded RNG and logs.

Every turn is recorded with explicit timestamps on CLOCK_MONOTONIC (the same clock in every process),
laid out so that its end-to-end latency is exactly the drawn value: user speech for 600 ms, the agent's
first audio the drawn e2e after it, 400 ms of agent speech; a turn is recorded once real time has
passed its end, so every exemplar time is in the past and increases per bucket.

Checks
- `up` is 1 for the three targets.
- The fleet's bucket counts in Prometheus, `sum by (le) (..._bucket)` after the last turn was scraped,
  equal the counts of the logged samples exactly, and `histogram_quantile(0.95, ...)` of them is
  exactly the interpolation Prometheus defines, computed here from the logged samples and the bucket
  bounds read from the exposition. That estimate is within one bucket of the exact p95 (nearest rank)
  of the logged samples, and so is `histogram_quantile(0.95, sum by (le) (rate(...[window])))`.
  The exact form uses the cumulative counters themselves: the processes start with empty
  histograms and never restart (checked: `resets` is 0), so at an instant after the last turn was
  scraped they hold every logged sample. rate()/increase() extrapolate each series to the window's
  edges (by a different factor per target) and miss what a series held at its first scrape (the
  warm-up turns), so they are an approximation -- checked with the one-bucket tolerance only.
- Exemplars reach Prometheus (scraped as OpenMetrics: `--enable-feature=exemplar-storage`,
  `/api/v1/query_exemplars`): every one names a session and turn its engine really recorded, with
  that session's trace id, the turn's e2e latency as its value, the turn's end as its time, and
  lies in the bucket of its series.

Real time: the test runs ~35 s (PLAY_S of calls, Prometheus start-up and scrape waits); each wait is
bounded; Prometheus and the engines are killed at the end.
"""
from __future__ import annotations

import bisect
import json
import math
import random
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import get

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SEED = 20261202
ENGINES = 3
CALLS_PER_ENGINE = 4  # calls played at once by each engine
PLAY_S = 22.0  # seconds of calls after Prometheus scrapes all three targets
MS = 1_000_000
SPEECH_NS, AGENT_NS, GAP_NS = 600 * MS, 400 * MS, 150 * MS
E2E = "voicetelemetry_turn_e2e_latency_seconds"
# A drawn e2e is a whole number of ms plus this: never within 1 us of a bucket bound (whole ms).
SUB_MS_NS = 317_531


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def draw_e2e_ns(rng: random.Random) -> int:
    """A turn latency: log-normal around 900 ms, kept within 120 ms .. 6 s."""
    ms = min(6000, max(120, round(900 * math.exp(rng.gauss(0.0, 0.55)))))
    return ms * MS + SUB_MS_NS


@dataclass
class Call:
    """One call (session) of an engine; each turn's latency is drawn when the turn before ends."""
    sid: str
    start_ns: int
    turns_left: int
    next_start_ns: int
    next_e2e_ns: int
    trace_id: str = ""
    start_unix_ns: int = 0
    e2e: List[int] = field(default_factory=list)


@dataclass
class Sample:
    engine: int
    session_id: str
    turn_id: int
    e2e_ns: int
    end_ns: int  # agent speech end: the turn's end, the exemplar's time
    unix_ms: int  # the same moment on the wall clock, in ms (the exemplar's precision)
    trace_id: str


class Fleet:
    """Plays calls on the engines from this process and logs every turn (to a JSON Lines file)."""

    def __init__(self, engines: List[Any], rng: random.Random, log: Path) -> None:
        self.engines = engines
        self.rng = rng
        self.samples: List[Sample] = []
        self.calls: List[List[Optional[Call]]] = [[None] * CALLS_PER_ENGINE for _ in engines]
        self.serial = 0
        self.log = log.open("w")

    def open_call(self, e: int, now: int) -> Call:
        self.serial += 1
        call = Call(f"fleet-e{e}-c{self.serial}", now, self.rng.randint(2, 6), now, draw_e2e_ns(self.rng))
        self.engines[e].session(call.sid, labels={"transport": "sip"}, start_t_ns=now)
        (info,) = [s for s in get(self.engines[e].port, "/api/v1/sessions").json() if s["session_id"] == call.sid]
        call.trace_id, call.start_unix_ns = info["trace_id"], info["start_unix_ns"]
        return call

    def play_turn(self, e: int, call: Call) -> None:
        e2e = call.next_e2e_ns
        t0 = call.next_start_ns
        first_audio = t0 + SPEECH_NS + e2e
        end = first_audio + AGENT_NS
        marks = [("USER_SPEECH", "START", t0), ("USER_SPEECH", "END", t0 + SPEECH_NS),
                 ("AGENT_SPEECH", "START", first_audio), ("AGENT_SPEECH", "END", end)]
        self.engines[e].calls([[call.sid, "turn_mark", "@TurnStage." + st, "@TurnMark." + m, t] for st, m, t in marks])
        call.e2e.append(e2e)
        unix_ns = call.start_unix_ns + end - call.start_ns
        s = Sample(e, call.sid, len(call.e2e), e2e, end, unix_ns // MS, call.trace_id)
        self.samples.append(s)
        self.log.write(json.dumps(s.__dict__) + "\n")
        call.turns_left -= 1
        call.next_start_ns = end + GAP_NS
        call.next_e2e_ns = draw_e2e_ns(self.rng)

    @staticmethod
    def due(call: Call) -> int:
        """When the call's next turn ends: it is recorded once real time has passed that."""
        return call.next_start_ns + SPEECH_NS + call.next_e2e_ns + AGENT_NS

    def close_call(self, e: int, call: Call) -> None:
        """The engine's record of the call's turns (the JSON API) is what was drawn; then it ends."""
        turns = get(self.engines[e].port, f"/api/v1/sessions/{call.sid}/turns").json()
        assert [(t["turn_id"], t["e2e_latency_ns"]) for t in turns] == list(enumerate(call.e2e, 1)), call.sid
        self.engines[e].end(call.sid, call.next_start_ns)

    def step(self, now: int, open_new: bool) -> None:
        for e, slots in enumerate(self.calls):
            for i, call in enumerate(slots):
                if call is None:
                    if open_new:
                        slots[i] = self.open_call(e, now)
                    continue
                while call.turns_left and self.due(call) <= now:
                    self.play_turn(e, call)
                if not call.turns_left:
                    self.close_call(e, call)
                    slots[i] = None


class Prometheus:
    def __init__(self, tmp: Path, targets: List[int]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = tmp / "prometheus.yml"
        config.write_text(json.dumps({  # YAML is a superset of JSON
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "engines",
                                "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in targets]}]}],
        }))
        self.log = tmp / "prometheus.log"
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--enable-feature=exemplar-storage",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), cwd=tmp)

    def api(self, path: str, **params: Any) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> List[Dict[str, Any]]:
        return self.api("/api/v1/query", query=promql)["result"]

    def wait(self, what: str, ready, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"prometheus exited: {self.log.read_text()[-2000:]}"
            try:
                last = ready()
                if last is True:
                    return
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.2)
        raise AssertionError(f"{what}: not within {timeout_s} s (last: {last!r}); log: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def bucket_bounds(port: int) -> List[float]:
    """The e2e histogram's bucket bounds, as the exposition gives them (+Inf last)."""
    text = get(port, "/metrics").body.decode()
    les = re.findall(r'^' + E2E + r'_bucket\{le="([^"]+)",transport="sip"\}', text, re.M)
    assert les and les[-1] == "+Inf", text[:500]
    return [float(le) for le in les]


def cumulative_counts(values_s: List[float], bounds: List[float]) -> List[int]:
    return [sum(1 for v in values_s if v <= b) for b in bounds]


def prometheus_quantile(q: float, bounds: List[float], counts: List[float]) -> float:
    """histogram_quantile as Prometheus 2.42 computes it (promql/quantile.go, bucketQuantile):
    the rank q * total located in the cumulative counts, interpolated linearly inside its bucket
    (from 0 for the first bucket; the highest finite bound for a rank in +Inf)."""
    rank = q * counts[-1]
    b = bisect.bisect_left(counts[:-1], rank)  # first bucket whose count >= rank
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end = (0.0, bounds[b]) if b == 0 else (bounds[b - 1], bounds[b])
    below = 0.0 if b == 0 else counts[b - 1]
    return start + (end - start) * ((rank - below) / (counts[b] - below))


def bucket_index(bounds: List[float], v: float) -> int:
    return bisect.bisect_left(bounds, v)  # the bucket holding v: the first bound >= v


def test_prometheus_scrapes_a_fleet(start_engine, tmp_path):
    if not Path(PROMETHEUS).is_file():
        pytest.fail(f"{PROMETHEUS} is missing: apt-get install prometheus (.ci/run installs it)")
    engines = [start_engine() for _ in range(ENGINES)]
    fleet = Fleet(engines, random.Random(SEED), tmp_path / "turns.jsonl")
    wall_start = time.time()
    # Warm-up: one turn per engine before the first scrape, so that the series exist from it on.
    now = time.monotonic_ns()
    for e in range(ENGINES):
        call = fleet.calls[e][0] = fleet.open_call(e, now - 10_000 * MS)
        fleet.play_turn(e, call)
    bounds = bucket_bounds(engines[0].port)
    prom = Prometheus(tmp_path, [e.port for e in engines])
    try:
        prom.wait("prometheus ready", lambda: urllib.request.urlopen(prom.base + "/-/ready", timeout=2).status == 200, 20)
        prom.wait("up == 1 for the three engines",
                  lambda: sorted(r["value"][1] for r in prom.query("up")) == ["1"] * ENGINES, 15)
        prom_start = time.monotonic()
        deadline = time.monotonic_ns() + int(PLAY_S * 1e9)
        while (now := time.monotonic_ns()) < deadline:
            fleet.step(now, open_new=True)
            time.sleep(0.05)
        fleet.log.close()
        values = [s.e2e_ns / 1e9 for s in fleet.samples]
        prom.wait("the last turns scraped",
                  lambda: [r["value"][1] for r in prom.query(f"sum({E2E}_count)")] == [str(len(values))], 10)
        window = f"{math.ceil(time.monotonic() - prom_start) + 5}s"
        check_up(prom, engines)
        check_quantiles(prom, values, bounds, window)
        check_exemplars(prom, fleet, engines, bounds, wall_start)
    finally:
        prom.stop()


def check_up(prom: Prometheus, engines: List[Any]) -> None:
    up = {r["metric"]["instance"]: r["value"][1] for r in prom.query("up")}
    assert up == {f"127.0.0.1:{e.port}": "1" for e in engines}


def check_quantiles(prom: Prometheus, values: List[float], bounds: List[float], window: str) -> None:
    assert len(values) >= 60, f"only {len(values)} turns played"
    assert all(abs(v - b) > 1e-6 for v in values for b in bounds[:-1])  # no sample on a bound
    want_counts = cumulative_counts(values, bounds)
    got = {float(r["metric"]["le"]): float(r["value"][1]) for r in prom.query(f"sum by (le) ({E2E}_bucket)")}
    assert [got[b] for b in bounds] == want_counts
    assert [r["value"][1] for r in prom.query(f"sum(resets({E2E}_count[{window}]))")] == ["0"]
    exact_p95 = sorted(values)[math.ceil(0.95 * len(values)) - 1]  # nearest rank
    want_estimate = prometheus_quantile(0.95, bounds, want_counts)
    (cumulative,) = prom.query(f"histogram_quantile(0.95, sum by (le) ({E2E}_bucket))")
    estimate = float(cumulative["value"][1])
    assert estimate == want_estimate  # the same float operations, in the same order
    (by_rate,) = prom.query(f"histogram_quantile(0.95, sum by (le) (rate({E2E}_bucket[{window}])))")
    rate_estimate = float(by_rate["value"][1])
    truth = bucket_index(bounds, exact_p95)
    print(f"{len(values)} turns: exact p95 {exact_p95:.6f} s (bucket <= {bounds[truth]}); Prometheus "
          f"{estimate:.6f} s from the counts, {rate_estimate:.6f} s from rate over {window}")
    for est in (estimate, rate_estimate):
        assert abs(bucket_index(bounds, est) - truth) <= 1, (est, exact_p95)


def check_exemplars(prom: Prometheus, fleet: Fleet, engines: List[Any], bounds: List[float],
                    wall_start: float) -> None:
    by_turn: Dict[Tuple[int, str, int], Sample] = {(s.engine, s.session_id, s.turn_id): s for s in fleet.samples}
    engine_of = {f"127.0.0.1:{e.port}": i for i, e in enumerate(engines)}
    data = prom.api("/api/v1/query_exemplars", query=f"{E2E}_bucket", start=f"{wall_start - 60:.3f}",
                    end=f"{time.time() + 60:.3f}")
    seen = {i: 0 for i in range(len(engines))}
    for series in data:
        labels = series["seriesLabels"]
        e = engine_of[labels["instance"]]
        le = float(labels["le"])
        for ex in series["exemplars"]:
            key = (e, ex["labels"]["session_id"], int(ex["labels"]["turn_id"]))
            assert key in by_turn, f"exemplar {ex} names no turn engine {e} recorded"
            s = by_turn[key]
            assert ex["labels"]["trace_id"] == s.trace_id, ex
            assert float(ex["value"]) == s.e2e_ns / 1e9, (ex, s)
            assert round(float(ex["timestamp"]) * 1000) == s.unix_ms, (ex, s)
            assert bucket_index(bounds, float(ex["value"])) == bounds.index(le), (ex, labels)
            seen[e] += 1
    print(f"exemplars in Prometheus by engine: {seen}")
    assert all(n >= 3 for n in seen.values()), seen
