"""OTLP metrics: the Prometheus families as OTLP (values equal to vt_prom_text at the same moment),
the GenAI histograms from turn records, delta temporality, and the periodic export."""
from __future__ import annotations

import math
import re
import time

import pytest

from conftest import SCENARIOS, attrs, otlp_plugin, play, read_stats, vt, wait_stats, SO
from fakehost import FakeHost

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v: str) -> str:
    return v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def key(name, labels):
    out = []
    for k, v in labels.items():
        out.append((k, float(v) if k in ("le", "quantile") else v))
    return (name, tuple(sorted(out)))


def prom_samples(text: str):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        out[key(m.group(1), labels)] = float(m.group(3))
    return out


def otlp_samples(metrics, prefix="voicetelemetry_"):
    """The OTLP metrics written back as Prometheus samples (cumulative temporality)."""
    out = {}
    for m in metrics:
        if not m.name.startswith(prefix):
            continue
        kind = m.WhichOneof("data")
        for p in getattr(m, kind).data_points:
            a = attrs(p)
            if kind in ("sum", "gauge"):
                out[key(m.name, a)] = p.as_double
            elif kind == "histogram":
                cum = 0
                bounds = list(p.explicit_bounds) + [math.inf]
                for b, c in zip(bounds, p.bucket_counts):
                    cum += c
                    out[key(m.name + "_bucket", {**a, "le": b})] = float(cum)
                out[key(m.name + "_sum", a)] = p.sum
                out[key(m.name + "_count", a)] = float(p.count)
            elif kind == "summary":
                for q in p.quantile_values:
                    out[key(m.name, {**a, "quantile": q.quantile})] = q.value
                out[key(m.name + "_sum", a)] = p.sum
                out[key(m.name + "_count", a)] = float(p.count)
    return out


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def last_metrics(receiver):
    req = receiver.metric_requests()[-1]
    (rm,) = req.resource_metrics
    (sm,) = rm.scope_metrics
    return rm, sm.metrics


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_metrics_equal_prom_text(so, receiver, tmp_path, protocol):
    with otlp_plugin(so, receiver.endpoint, tmp_path, protocol=protocol):
        for n in ("cascaded", "barge_in", "tools_kb", "realtime"):
            play(SCENARIOS / f"{n}.txt")
        vt.flush_events(10.0)  # flush exports the metrics of this moment
        prom = vt.prom_text()
        rm, metrics = last_metrics(receiver)
    want, got = prom_samples(prom), otlp_samples(metrics)
    assert len(want) > 500
    assert want.keys() == got.keys()
    diff = [k for k in want if not same(want[k], got[k])]
    assert not diff, [(k, want[k], got[k]) for k in diff[:5]]
    by = {m.name: m for m in metrics}
    # the types and temporality the mapping promises
    assert by["voicetelemetry_sessions_total"].sum.is_monotonic
    assert by["voicetelemetry_sessions_total"].sum.aggregation_temporality == 2
    assert by["voicetelemetry_turn_e2e_latency_seconds"].histogram.aggregation_temporality == 2
    assert by["voicetelemetry_turn_e2e_latency_seconds"].unit == "s"
    assert list(by["voicetelemetry_turn_e2e_latency_seconds"].histogram.data_points[0].explicit_bounds)[:3] == [
        0.005, 0.01, 0.025]
    assert by["voicetelemetry_sessions_active"].WhichOneof("data") == "gauge"
    assert by["voicetelemetry_turn_e2e_latency_seconds_quantiles"].WhichOneof("data") == "summary"
    assert by["voicetelemetry_sessions_total"].description == "Sessions created."
    assert attrs(rm.resource)["service.name"] == "voicetelemetry"


def test_genai_metrics_from_turn_records(so, receiver, tmp_path):
    with otlp_plugin(so, receiver.endpoint, tmp_path, service_name="agent-x", resource={"deployment.environment": "test"}):
        for n in ("cascaded", "realtime"):
            play(SCENARIOS / f"{n}.txt")
        vt.flush_events(10.0)
        rm, metrics = last_metrics(receiver)
    assert attrs(rm.resource)["service.name"] == "agent-x"
    assert attrs(rm.resource)["deployment.environment"] == "test"
    got = {}
    for m in metrics:
        if m.name.startswith("gen_ai."):
            for p in m.histogram.data_points:
                a = attrs(p)
                got[(m.name, a["gen_ai.operation.name"], a.get("gen_ai.token.type"))] = (
                    p.count, round(p.sum, 9), p.min, p.max, a.get("gen_ai.provider.name"), a.get("gen_ai.request.model"))
    assert got == {
        ("gen_ai.client.token.usage", "chat", "input"): (1, 100, 100, 100, "openai", "gpt-4o"),
        ("gen_ai.client.token.usage", "chat", "output"): (1, 20, 20, 20, "openai", "gpt-4o"),
        ("gen_ai.client.token.usage", "realtime", "input"): (1, 500, 500, 500, "openai", "gpt-realtime"),
        ("gen_ai.client.token.usage", "realtime", "output"): (1, 300, 300, 300, "openai", "gpt-realtime"),
        ("gen_ai.client.operation.duration", "chat", None): (1, 0.65, 0.65, 0.65, "openai", "gpt-4o"),
        ("gen_ai.client.operation.duration", "realtime", None): (1, 0.7, 0.7, 0.7, "openai", "gpt-realtime"),
        ("gen_ai.server.time_to_first_token", "chat", None): (1, 0.3, 0.3, 0.3, "openai", "gpt-4o"),
        ("gen_ai.server.time_to_first_token", "realtime", None): (1, 0.3, 0.3, 0.3, "openai", "gpt-realtime"),
    }
    usage = next(m for m in metrics if m.name == "gen_ai.client.token.usage")
    assert usage.unit == "{token}" and list(usage.histogram.data_points[0].explicit_bounds)[:3] == [1, 4, 16]
    p = next(p for p in usage.histogram.data_points if attrs(p)["gen_ai.token.type"] == "input"
             and attrs(p)["gen_ai.operation.name"] == "chat")
    assert list(p.bucket_counts) == [0] * 4 + [1] + [0] * 10  # 100 is in (64, 256], the fifth of 15


PROM1 = """# HELP app_requests_total Requests.
# TYPE app_requests_total counter
app_requests_total{code="200"} 5
# HELP app_latency_seconds Latency.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{le="0.1"} 1
app_latency_seconds_bucket{le="1"} 3
app_latency_seconds_bucket{le="+Inf"} 4
app_latency_seconds_sum 2.5
app_latency_seconds_count 4
# HELP app_open Open things.
# TYPE app_open gauge
app_open 7
"""


def test_delta_temporality_and_interval(receiver, tmp_path):
    h = FakeHost(str(SO), {"endpoint": receiver.endpoint, "metrics_temporality": "delta", "metrics_interval_ms": 200,
                           "traces": False}, prom=PROM1)
    try:
        assert receiver.wait_for(lambda: len(receiver.metric_requests()) >= 2, 5.0)  # every 200 ms
        h.prom = PROM1.replace("} 5", "} 8").replace('le="1"} 3', 'le="1"} 5').replace("} 4\n", "} 6\n") \
            .replace("_sum 2.5", "_sum 3.5").replace("_count 4", "_count 6").replace("app_open 7", "app_open 2")
        n = len(receiver.metric_requests())
        assert receiver.wait_for(lambda: len(receiver.metric_requests()) > n + 1, 5.0)
    finally:
        h.shutdown()
    # the first export after the change carries the differences; the next ones zeros
    reqs = receiver.metric_requests()
    def pts(req):
        ms = {m.name: m for m in req.resource_metrics[0].scope_metrics[0].metrics}
        c = ms["app_requests_total"].sum
        hist = ms["app_latency_seconds"].histogram
        return (c.data_points[0].as_double, c.aggregation_temporality, list(hist.data_points[0].bucket_counts),
                hist.data_points[0].count, hist.data_points[0].sum, ms["app_open"].gauge.data_points[0].as_double)
    seq = [pts(r) for r in reqs]
    assert seq[0] == (5.0, 1, [1, 2, 1], 4, 2.5, 7.0)
    assert (0.0, 1, [0, 0, 0], 0, 0.0, 7.0) in seq
    assert (3.0, 1, [0, 2, 0], 2, 1.0, 2.0) in seq
    assert seq[-1] == (0.0, 1, [0, 0, 0], 0, 0.0, 2.0)
    first = reqs[0].resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    second = reqs[1].resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    assert second.start_time_unix_nano == first.time_unix_nano  # delta windows follow each other


def test_long_label_values_stay_valid_utf8(receiver):
    long = "é" * 700  # 1400 bytes: cut on a character boundary, never inside one
    prom = (f'# HELP app_x_total X with {"ü" * 600}.\n# TYPE app_x_total counter\n'
            f'app_x_total{{name="{long}",k="v"}} 1\n')
    h = FakeHost(str(SO), {"endpoint": receiver.endpoint, "traces": False, "metrics_interval_ms": 0}, prom=prom)
    try:
        assert h.flush() == 0
    finally:
        h.shutdown()
    (m,) = [m for m in receiver.metric_requests()[0].resource_metrics[0].scope_metrics[0].metrics]
    a = attrs(m.sum.data_points[0])
    assert a["k"] == "v" and long.startswith(a["name"]) and 1000 <= len(a["name"].encode()) < 1024
    assert m.description.startswith("X with ü") and len(m.description.encode()) < 1024


def test_metrics_exports_are_skipped_while_the_queue_is_full(tmp_path):
    """Receiver down: the first export fills the (64 KiB) queue; later ones are skipped, not piled up."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    series = "".join(f'app_big_total{{n="{i:05d}"}} {i}\n' for i in range(3000))
    prom = "# HELP app_big_total Big.\n# TYPE app_big_total counter\n" + series
    h = FakeHost(str(SO), {"endpoint": f"http://127.0.0.1:{port}", "traces": False, "metrics_interval_ms": 50,
                           "max_queue_kib": 64, "compression": "none", "stats_path": str(tmp_path / "st.json")},
                 prom=prom)
    try:
        st = wait_stats(tmp_path / "st.json", lambda st: st["metric_exports_skipped"] >= 4, 5.0)
    finally:
        h.shutdown(0.2)
    st = read_stats(tmp_path / "st.json")
    assert st["metric_exports"] == 1 and st["metric_exports_skipped"] >= 4
    assert st["points"]["created"] == st["points"]["dropped"] == 3000 and st["points"]["pending"] == 0
