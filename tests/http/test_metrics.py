"""/metrics: content negotiation (text 0.0.4 / OpenMetrics 1.0.0 by Accept and its q-values), gzip,
HEAD, and bodies that the reference parsers (prometheus_client) accept."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from conftest import MS, get

TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_2_42 = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                   "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


@pytest.fixture(scope="module")
def scraped(tmp_path_factory, http_exporter):
    """An engine with two sessions, a few turns, an engine counter and histogram."""
    from conftest import Engine
    d = tmp_path_factory.mktemp("metrics")
    e = Engine(http_exporter, {"listen": "127.0.0.1:0", "port_file": str(d / "port")}, d)
    for i, transport in enumerate(("sip", "webrtc")):
        sid = f"call-{i}"
        e.session(sid, labels={"transport": transport}, start_t_ns=1000 * MS, clock="media")
        for k in range(3):
            t = e.turn(sid, (5000 + 10000 * k) * MS, llm_ms=200 + 100 * k + 50 * i)
            e.calls([[sid, "record_turn_complete", t.end_ns + MS]])
    e.vt("counter_add", "engine_calls_total", 3, "Calls answered.", {"provider": "acme"})
    e.vt("observe", "engine_tts_first_byte_seconds", 0.25, "TTS first byte.", {"provider": "acme"})
    yield e
    e.stop()


CASES = json.loads((Path(__file__).parent / "negotiation_cases.json").read_text())  # shared with the bindings
CONTENT_TYPE = {"prometheus": TEXT, "openmetrics": OPENMETRICS}


@pytest.mark.parametrize("accept, fmt", CASES["format"], ids=lambda a: repr(a))
def test_content_negotiation(scraped, accept, fmt):
    r = get(scraped.port, "/metrics", {} if accept is None else {"accept": accept})
    if accept and any(ord(c) < 0x20 and c != "\t" for c in accept):  # not a valid header value on the wire
        assert (r.status, r.json()) == (400, {"error": "bad character in the request head"})
        return
    assert r.status == 200
    assert r.headers["content-type"] == CONTENT_TYPE[fmt]
    assert r.headers["vary"] == "Accept-Encoding, Accept"
    text = r.body.decode()
    if fmt == "openmetrics":
        assert text.endswith("# EOF\n")
        list(parse_openmetrics(text))
    else:
        assert "# EOF" not in text
        list(parse_text(text))


def families(text, parser):
    return {f.name: f for f in parser(text)}


def test_text_format_parses_with_the_scripted_values(scraped):
    fams = families(get(scraped.port, "/metrics").body.decode(), parse_text)
    calls = fams["engine_calls"]
    assert [(s.name, s.labels, s.value) for s in calls.samples] == [("engine_calls_total", {"provider": "acme"}, 3.0)]
    e2e = fams["voicetelemetry_turn_e2e_latency_seconds"]
    count = {s.labels["transport"]: s.value for s in e2e.samples if s.name.endswith("_count")}
    assert count == {"sip": 3.0, "webrtc": 3.0}
    total = {s.labels["transport"]: s.value for s in e2e.samples if s.name.endswith("_sum")}
    # e2e = 120 + 80 + llm + 90 + 30 ms, llm = 200 + 100 k (+ 50 on webrtc)
    assert total["sip"] == pytest.approx(3 * 0.320 + 0.2 + 0.3 + 0.4)
    assert total["webrtc"] == pytest.approx(3 * 0.320 + 0.25 + 0.35 + 0.45)


def test_openmetrics_has_exemplars_naming_the_turns(scraped):
    r = get(scraped.port, "/metrics", {"accept": PROMETHEUS_2_42})
    fams = families(r.body.decode(), parse_openmetrics)
    e2e = fams["voicetelemetry_turn_e2e_latency_seconds"]
    exemplars = [s.exemplar for s in e2e.samples if s.name.endswith("_bucket") and s.exemplar]
    assert exemplars, "no exemplar on the e2e histogram"
    for ex in exemplars:
        assert ex.labels["session_id"] in ("call-0", "call-1")
        assert ex.labels["turn_id"] in ("1", "2", "3")
        assert re.fullmatch("[0-9a-f]{32}", ex.labels["trace_id"])
    values = sorted(round(ex.value, 6) for ex in exemplars)
    assert set(values) <= {0.52, 0.57, 0.62, 0.67, 0.72, 0.77}  # the scripted turns' e2e, in seconds
    assert fams["engine_calls"].type == "counter"


def moved(before, after):
    """Series (name + labels) whose value differs between two texts of the same process."""
    a, b = samples(before), samples(after)
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def samples(text):
    out = {}
    for fam in parse_text(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.mark.parametrize("accept_encoding", [ae for ae, gz in CASES["gzip"] if gz])
def test_gzip_when_allowed_is_the_same_text(scraped, accept_encoding):
    plain1 = get(scraped.port, "/metrics").body.decode()
    r = get(scraped.port, "/metrics", {"accept-encoding": accept_encoding})
    plain2 = get(scraped.port, "/metrics").body.decode()
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding, Accept"
    assert int(r.headers["content-length"]) == len(r.body)
    unzipped = gzip.decompress(r.body).decode()
    # The engine is idle; only the series that moved between the two plain fetches on both sides of
    # it (none, here: no plugin metric changes while the plugin only serves) may differ.
    allowed = moved(plain1, plain2)
    assert moved(plain1, unzipped) <= allowed and moved(unzipped, plain2) <= allowed
    assert samples(unzipped).keys() == samples(plain1).keys()
    if not allowed:
        assert unzipped == plain1
    assert len(r.body) * 4 < len(unzipped)


@pytest.mark.parametrize("accept_encoding", [ae for ae, gz in CASES["gzip"] if not gz])
def test_no_gzip_unless_allowed(scraped, accept_encoding):
    r = get(scraped.port, "/metrics", {} if accept_encoding is None else {"accept-encoding": accept_encoding})
    assert "content-encoding" not in r.headers
    assert r.body.startswith(b"# HELP")


def test_gzip_openmetrics(scraped):
    r = get(scraped.port, "/metrics", {"accept": PROMETHEUS_2_42, "accept-encoding": "gzip"})
    assert r.headers["content-type"] == OPENMETRICS and r.headers["content-encoding"] == "gzip"
    text = gzip.decompress(r.body).decode()
    assert text.endswith("# EOF\n")
    list(parse_openmetrics(text))


def test_head_metrics_has_the_headers_and_no_body(scraped):
    for hdrs in ({}, {"accept-encoding": "gzip"}, {"accept": PROMETHEUS_2_42}):
        h = get(scraped.port, "/metrics", hdrs, method="HEAD")
        g = get(scraped.port, "/metrics", hdrs)
        assert h.status == 200 and h.body == b""
        assert {k: v for k, v in h.headers.items() if k not in ("date", "content-length")} == \
               {k: v for k, v in g.headers.items() if k not in ("date", "content-length")}
        # the length is that of the body a GET gets at that moment: same order of magnitude here
        assert abs(int(h.headers["content-length"]) - len(g.body)) < len(g.body) // 10


def test_the_json_api_and_the_page_are_gzipped_too(scraped):
    for path in ("/api/v1/sessions", "/api/v1/sessions/call-0/turns", "/"):
        r = get(scraped.port, path, {"accept-encoding": "gzip"})
        plain = get(scraped.port, path)
        assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
        if path == "/":
            assert gzip.decompress(r.body) == plain.body
        else:
            assert gzip.decompress(r.body)[:20] == plain.body[:20]
    assert "content-encoding" not in get(scraped.port, "/healthz", {"accept-encoding": "gzip"}).headers
