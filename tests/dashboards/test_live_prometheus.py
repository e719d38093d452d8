"""The dashboard and the rules against a real Prometheus scraping a running engine (conftest.py).

The engine plays the same turn over and over (fleet_engine.py): every stage histogram holds one
value, so histogram_quantile over any window lands on one number, lower + (upper - lower) * q of the
bucket holding it, whatever the scrape timing. Those numbers are asserted (to 1e-9 relative: q*c/c
need not give back q exactly in floating point). The wait is real time, bounded: Prometheus needs
two scrapes with new turns in a window before a rate exists, and the drop alert two evaluations.
"""
from __future__ import annotations

import math
import re
import time
from typing import Dict, List, Optional, Set, Tuple

import pytest

import fleet_engine as fe
from grafana_queries import (RULES, TRANSPORT_CHOICES, load_dashboard, metric_names, queries, rule_names,
                             substitute)

SETTLE_TIMEOUT_S = 40.0
EXPECTED_ALERTS = {("VoiceTelemetryPluginDisabled", "firing", "fatal", None),
                   ("VoiceTelemetrySinkDroppingEvents", "pending", "slow", "queue_full")}
STAGE_RULES = {"stt_latency": "stt", "eou_delay": "eou", "llm_ttft": "llm_ttft", "tts_ttfb": "tts_ttfb",
               "barge_in_latency": "barge_in"}


def empty_queries(fleet) -> List[str]:
    """Every dashboard query (for each $transport choice) whose result is empty."""
    out = []
    for q in queries(load_dashboard()):
        for transport in TRANSPORT_CHOICES:
            expr = substitute(q.expr, transport)
            if not fleet.query(expr):
                out.append(f"panel {q.panel_id} {q.panel!r} {q.ref} (transport {transport}): {expr}")
    return out


def number(sample: dict) -> float:
    return float(sample["value"][1])


def recorded(fleet) -> Dict[str, List[dict]]:
    return {name: fleet.query(name) for name in rule_names(RULES.read_text()) if ":" in name}


def alert_states(fleet) -> Set[Tuple[str, str, str, Optional[str]]]:
    return {(a["labels"]["alertname"], a["state"], a["labels"].get("plugin"), a["labels"].get("reason"))
            for a in fleet.api("alerts")["alerts"]}


def settled(fleet) -> bool:
    rules_have_numbers = all(samples and not any(math.isnan(number(s)) for s in samples)
                             for samples in recorded(fleet).values())
    return rules_have_numbers and alert_states(fleet) == EXPECTED_ALERTS and not empty_queries(fleet)


@pytest.fixture(scope="module")
def live(fleet):
    """The fleet once every query has data, every recorded series a number and the alerts their
    states (or SETTLE_TIMEOUT_S passed: the tests then say what is missing)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline and not settled(fleet):
        time.sleep(1.0)
    return fleet


def buckets(metrics_text: str) -> List[float]:
    """The `le` bounds of the e2e histogram as the engine exposes them (the library's defaults)."""
    les = re.findall(r'^voicetelemetry_turn_e2e_latency_seconds_bucket\{[^}]*le="([^"]+)"', metrics_text, re.M)
    return sorted({float(le) for le in les})


def in_bucket(value_s: float, q: float, bounds: List[float]) -> float:
    """histogram_quantile of q over observations that all equal value_s."""
    upper = next(b for b in bounds if b >= value_s)
    lower = max([0.0] + [b for b in bounds if b < value_s])
    return lower + (upper - lower) * q


def test_every_panel_query_returns_data(live):
    assert empty_queries(live) == []


def test_the_transport_variable_lists_the_engine_transports(live):
    assert sorted(live.api("label/transport/values", **{"match[]": "voicetelemetry_sessions_total"})) == \
        ["sip", "webrtc"]


def test_every_metric_the_dashboard_and_rules_read_is_exposed(live):
    exposed = set(re.findall(r"^(voicetelemetry_\w+)[{ ]", live.metrics_text(), re.M))
    read = {m for q in queries(load_dashboard()) for m in metric_names(q.expr)}
    read |= set(metric_names(RULES.read_text()))
    assert read - exposed == set()
    assert len(read) >= 20, read


def test_the_rules_are_loaded_and_healthy(live):
    groups = live.api("rules")["groups"]
    loaded = [(r["name"], r["health"], r.get("lastError", "")) for g in groups for r in g["rules"]]
    assert sorted(g["name"] for g in groups) == ["voicetelemetry-alerts", "voicetelemetry-turn-latency"]
    assert sorted(loaded) == sorted((name, "ok", "") for name in rule_names(RULES.read_text()))


def test_per_transport_e2e_quantiles_are_the_bucket_interpolation(live):
    bounds = buckets(live.metrics_text())
    for q in (50, 95, 99):
        got = {s["metric"]["transport"]: number(s)
               for s in live.query(f"voicetelemetry_transport:turn_e2e_latency_seconds:p{q}_5m")}
        want = {t: in_bucket(fe.e2e_ms(t) / 1000, q / 100, bounds) for t in fe.REMAINDER_MS}
        assert got.keys() == want.keys()
        for t in want:
            assert got[t] == pytest.approx(want[t], rel=1e-9), (q, t)


def test_fleet_e2e_quantiles_lie_in_the_bucket_of_their_rank(live):
    # Two thirds of the turns are webrtc (590 ms, bucket (0.5, 0.6]), one third sip (610 ms,
    # (0.6, 0.75]): p50 is among the webrtc turns, p95 and p99 among the sip ones. The exact value
    # depends on how many of each the window holds, which scrape timing shifts.
    for q, (lower, upper) in ((50, (0.5, 0.6)), (95, (0.6, 0.75)), (99, (0.6, 0.75))):
        [sample] = live.query(f"voicetelemetry:turn_e2e_latency_seconds:p{q}_5m")
        assert lower < number(sample) <= upper, q


def test_stage_quantiles_are_the_bucket_interpolation(live):
    bounds = buckets(live.metrics_text())
    for family, timing in STAGE_RULES.items():
        for q in (50, 95):
            [sample] = live.query(f"voicetelemetry:turn_{family}_seconds:p{q}_5m")
            want = in_bucket(fe.TIMINGS_MS[timing] / 1000, q / 100, bounds)
            assert number(sample) == pytest.approx(want, rel=1e-9), (family, q)


def test_turn_rate_per_transport_is_positive(live):
    rates = {s["metric"]["transport"]: number(s)
             for s in live.query("voicetelemetry_transport:turn_e2e_latency_seconds_count:rate5m")}
    assert sorted(rates) == ["sip", "webrtc"] and min(rates.values()) > 0


def test_alerts_follow_the_sinks(live):
    # The FATAL sink's alert fires at once; the slow sink's drops are pending (they must last 5 min);
    # the endpoint itself drops nothing, and the scripted turns (e2e 610 ms at most) are fast.
    assert alert_states(live) == EXPECTED_ALERTS
    for a in live.api("alerts")["alerts"]:
        assert a["labels"]["job"] == "voice" and a["labels"]["instance"] == f"127.0.0.1:{live.engine_port}"
