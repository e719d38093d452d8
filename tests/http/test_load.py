"""64 parallel scrapers for 10 s against an engine that keeps recording turns: every response is 200,
every body parses (prometheus_client's text and OpenMetrics parsers), counters never go backwards."""
from __future__ import annotations

import gzip
import http.client
import threading
import time

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from conftest import MS

SCRAPERS = 64
SECONDS = 10.0
PROMETHEUS = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def scraper(port, k, go, stop, results):
    """One keep-alive client; its request kind rotates (text, gzip, OpenMetrics, OpenMetrics + gzip)."""
    go.wait()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    n, last_turns, errors = 0, -1.0, []
    try:
        while not stop.is_set():
            kind = (n + k) % 4
            headers = {}
            if kind & 1:
                headers["Accept-Encoding"] = "gzip"
            if kind & 2:
                headers["Accept"] = PROMETHEUS
            c.request("GET", "/metrics", headers=headers)
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                errors.append(f"status {r.status}")
                break
            if r.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            text = body.decode()
            fams = list((parse_openmetrics if kind & 2 else parse_text)(text))
            turns = sum(s.value for f in fams if f.name == "voicetelemetry_turn_outcomes"
                        for s in f.samples if s.name == "voicetelemetry_turn_outcomes_total")
            if turns < last_turns:
                errors.append(f"turn count went back from {last_turns} to {turns}")
            last_turns = turns
            n += 1
    except Exception as e:  # reported below with the scraper's number
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        c.close()
    results[k] = (n, last_turns, errors)


def test_64_parallel_scrapers_for_10_seconds_get_parseable_bodies(start_engine):
    e = start_engine()  # default max_connections: exactly 64
    e.session("busy", labels={"transport": "sip"}, start_t_ns=1000 * MS, clock="media")
    go, stop = threading.Event(), threading.Event()
    results = {}
    threads = [threading.Thread(target=scraper, args=(e.port, k, go, stop, results)) for k in range(SCRAPERS)]
    for t in threads:
        t.start()
    go.set()  # all at once (a thread started while others parse waits long for the GIL)
    t0 = time.monotonic()
    recorded = 0
    while time.monotonic() - t0 < SECONDS:  # the engine keeps completing turns meanwhile
        e.turn("busy", (5000 + 10000 * recorded) * MS)
        recorded += 1
    stop.set()
    for t in threads:
        t.join(30)
    assert len(results) == SCRAPERS
    errors = {k: r[2] for k, r in results.items() if r[2]}
    assert not errors, errors
    counts = [r[0] for r in results.values()]
    # every scraper was served (how often depends on its thread's share of the GIL: the parsing is
    # the client's, and one loaded machine gave a thread only 2 turns in 10 s)
    assert min(counts) >= 1 and sum(counts) >= 4 * SCRAPERS, counts
    final = max(r[1] for r in results.values())
    assert 0 < final <= recorded
