"""/metrics from Python: prom_text_as (both formats, exemplars of scripted turns), the open sessions
(sessions, find_session), the negotiation shared by the WSGI app and the http.server handler, gzip,
HEAD, 405, agent_sim.py, and serve() with the real http_exporter.so.

Every turn is scripted (explicit timestamps on the session's clock), so latencies, bucket counts,
exemplar labels, values and wall-clock times are exact. Each test labels its sessions with its own
transport value, which makes its series its own in the process-wide registry.
"""
from __future__ import annotations

import gc
import gzip
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

import voicetelemetry as vt
from voicetelemetry import TurnMark as M
from voicetelemetry import TurnStage as S
from voicetelemetry.exposition import accepts_gzip, negotiate_format

PKG_ROOT = Path(__file__).resolve().parents[1]
REPO = PKG_ROOT.parent

SEC = 1_000_000_000
MS = 1_000_000
TRACE_A = "0af7651916cd43dd8448eb211c80319c"
TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736"
E2E = "voicetelemetry_turn_e2e_latency_seconds"
# The default buckets (README "Prometheus metrics"), as the exposition prints their bounds.
BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5",
          "0.6", "0.75", "1", "1.25", "1.5", "2", "2.5", "3", "4", "5", "7.5", "10", "+Inf"]
# What Prometheus 2.42 sends when it scrapes.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

_serial = itertools.count()


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-b7ad6b7169203331-01"


def play_turn(s: vt.Session, start_ns: int, e2e_ns: int) -> int:
    """One turn: the user speaks 1 s from start_ns, the agent's first audio comes e2e_ns after the
    end of speech and plays 500 ms. Returns the turn's end (agent speech end) on the session clock."""
    s.turn_mark(S.USER_SPEECH, M.START, start_ns)
    s.turn_mark(S.USER_SPEECH, M.END, start_ns + SEC)
    s.turn_mark(S.AGENT_SPEECH, M.START, start_ns + SEC + e2e_ns)
    end = start_ns + SEC + e2e_ns + 500 * MS
    s.turn_mark(S.AGENT_SPEECH, M.END, end)
    return end


def wall_ms(s: vt.Session, t_ns: int) -> str:
    """The exposition's exemplar time of session-clock time t_ns: seconds since the epoch with the
    milliseconds (truncated)."""
    snap = s.snapshot()
    unix_ns = snap["start_unix_ns"] + t_ns - snap["start_ns"]
    return f"{unix_ns // SEC}.{unix_ns // MS % 1000:03d}"


def series_lines(text: str, sample: str, transport: str) -> List[str]:
    return [line for line in text.splitlines()
            if line.startswith(sample + "{") and f'transport="{transport}"' in line]


@pytest.fixture
def transport() -> str:
    """A transport label value no other test uses."""
    return f"pyhttp{next(_serial)}"


@pytest.fixture
def scripted(transport):
    """Two sessions of the fixture's transport, three scripted turns: A's turns of 750 ms (on the
    0.75 bound: buckets are upper-inclusive) and 1.2 s, then B's of 700 ms (the newer turn in the
    0.75 bucket, so its exemplar there). Both start now on the monotonic clock (t0); the turns are
    scripted after that. Yields (a, b, {(session, turn_id): end_ns}, t0)."""
    t0 = vt.now_ns()
    a = vt.Session(session_id=f"{transport}-a", labels={"transport": transport}, start_t_ns=t0,
                   traceparent=traceparent(TRACE_A))
    b = vt.Session(session_id=f"{transport}-b", labels={"transport": transport}, start_t_ns=t0,
                   traceparent=traceparent(TRACE_B))
    ends = {("a", 1): play_turn(a, t0 + SEC, 750 * MS)}
    ends[("a", 2)] = play_turn(a, t0 + 10 * SEC, 1200 * MS)
    ends[("b", 1)] = play_turn(b, t0 + 2 * SEC, 700 * MS)
    yield a, b, ends, t0
    a.end()
    b.end()


@pytest.fixture
def quiet_gc():
    """No garbage collection while a test compares two renderings: a leaked Session of another test
    ended by the collector in between would change voicetelemetry_sessions_active."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


# ---- prom_text_as ------------------------------------------------------------------------------


def test_prometheus_format_is_prom_text(scripted, quiet_gc):
    assert vt.prom_text_as(vt.FORMAT_PROMETHEUS) == vt.prom_text()
    assert vt.FORMAT_PROMETHEUS == vt.ExpositionFormat.PROMETHEUS == 0
    assert vt.FORMAT_OPENMETRICS == vt.ExpositionFormat.OPENMETRICS == 1


def test_openmetrics_exemplars_name_the_scripted_turns(scripted, transport):
    a, b, ends, _ = scripted
    text = vt.prom_text_as(vt.FORMAT_OPENMETRICS)
    ex_b1 = (f' # {{session_id="{transport}-b",turn_id="1",trace_id="{TRACE_B}"}} 0.7 '
             f'{wall_ms(b, ends["b", 1])}')
    ex_a2 = (f' # {{session_id="{transport}-a",turn_id="2",trace_id="{TRACE_A}"}} 1.2 '
             f'{wall_ms(a, ends["a", 2])}')
    counts = [0] * 13 + [2, 2, 3] + [3] * 9
    exemplars = {"0.75": ex_b1, "1.25": ex_a2}
    want = [f'{E2E}_bucket{{le="{le}",transport="{transport}"}} {n}{exemplars.get(le, "")}'
            for le, n in zip(BOUNDS, counts)]
    want += [f'{E2E}_sum{{transport="{transport}"}} 2.65', f'{E2E}_count{{transport="{transport}"}} 3']
    assert series_lines(text, E2E + "_bucket", transport) + series_lines(text, E2E + "_sum", transport) \
        + series_lines(text, E2E + "_count", transport) == want
    # The family's metadata, counters without _total in their TYPE line, and the end.
    assert f"# TYPE {E2E} histogram\n# UNIT {E2E} seconds\n" in text
    assert "# TYPE voicetelemetry_turn_outcomes counter\n" in text
    assert series_lines(text, "voicetelemetry_turn_outcomes_total", transport) == [
        f'voicetelemetry_turn_outcomes_total{{outcome="{o}",transport="{transport}"}} {n}'
        for o, n in (("completed", 3), ("discarded", 0), ("interrupted", 0))]
    assert text.endswith("\n# EOF\n")
    # A strict OpenMetrics parser reads all of it, exemplars included.
    fams = {f.name: f for f in parse_openmetrics(text)}
    got = {(s.labels["le"], s.exemplar.labels["session_id"], s.exemplar.labels["turn_id"], s.exemplar.value)
           for s in fams[E2E].samples if s.labels.get("transport") == transport and s.exemplar}
    assert got == {("0.75", f"{transport}-b", "1", 0.7), ("1.25", f"{transport}-a", "2", 1.2)}


def test_prometheus_format_has_no_exemplars(scripted, transport):
    text = vt.prom_text_as(vt.FORMAT_PROMETHEUS)
    lines = series_lines(text, E2E + "_bucket", transport)
    assert lines[13] == f'{E2E}_bucket{{le="0.75",transport="{transport}"}} 2' and "#" not in "".join(lines)
    assert "# TYPE voicetelemetry_turn_outcomes_total counter\n" in text and "# EOF" not in text
    assert {f.name for f in parse_prometheus(text)} >= {E2E, "voicetelemetry_turn_outcomes"}


def test_format_errors_and_content_types():
    with pytest.raises(vt.InvalidArgumentError, match="FORMAT_PROMETHEUS"):
        vt.prom_text_as(2)
    with pytest.raises(vt.InvalidArgumentError):
        vt.prom_text_as("openmetrics")
    assert vt.content_type(vt.FORMAT_PROMETHEUS) == vt.PROM_CONTENT_TYPE == \
        "text/plain; version=0.0.4; charset=utf-8"
    assert vt.content_type(vt.FORMAT_OPENMETRICS) == vt.OPENMETRICS_CONTENT_TYPE == \
        "application/openmetrics-text; version=1.0.0; charset=utf-8"


# ---- open sessions -------------------------------------------------------------------------------


def test_sessions_lists_the_open_sessions(scripted, transport):
    a, b, _, t0 = scripted
    before = vt.now_ns()
    mine = [s for s in vt.sessions() if s["session_id"].startswith(transport)]
    after = vt.now_ns()
    for info in mine:  # real time: the uptime is "now" (read during the call) minus t0
        assert before - t0 <= info.pop("uptime_ns") <= after - t0
    assert mine == [
        {"session_id": f"{transport}-a", "labels": {"transport": transport},
         "start_unix_ns": a.snapshot()["start_unix_ns"], "turns_completed": 2, "turns_interrupted": 0,
         "last_e2e_ns": 1200 * MS, "trace_id": TRACE_A},
        {"session_id": f"{transport}-b", "labels": {"transport": transport},
         "start_unix_ns": b.snapshot()["start_unix_ns"], "turns_completed": 1, "turns_interrupted": 0,
         "last_e2e_ns": 700 * MS, "trace_id": TRACE_B},
    ]
    a.end()
    assert [s["session_id"] for s in vt.sessions() if s["session_id"].startswith(transport)] == [f"{transport}-b"]
    assert [s for s in json.loads(vt.sessions_json()) if s["session_id"] == f"{transport}-b"][0]["trace_id"] \
        == TRACE_B


def test_a_session_without_turns_has_null_last_e2e(transport):
    with vt.Session(session_id=transport, labels={"transport": transport}) as s:
        (info,) = [i for i in vt.sessions() if i["session_id"] == transport]
        assert info["last_e2e_ns"] is None and info["turns_completed"] == 0
        assert info["trace_id"] == s.snapshot()["trace_id"]


def test_find_session_borrows_the_session(scripted, transport):
    a, _, _, t0 = scripted
    found = vt.find_session(f"{transport}-a")
    assert isinstance(found, vt.Session) and found.handle == a.handle
    assert found.session_id == f"{transport}-a" and "borrowed" in repr(found)
    assert found.snapshot(t0 + 20 * SEC) == a.snapshot(t0 + 20 * SEC)
    assert found.last_turn()["e2e_latency_ns"] == 1200 * MS
    del found
    gc.collect()  # dropping the borrowed object leaves the session open
    assert a.snapshot()["turns"]["completed"] == 2
    again = vt.find_session(f"{transport}-a".encode())
    a.end()  # the owner ends it: the borrowed object gets the library's answer for an ended handle
    with pytest.raises(vt.BadHandleError):
        again.snapshot()
    with pytest.raises(vt.NotFoundError):
        vt.find_session(f"{transport}-a")


def test_find_session_picks_the_newest_of_a_shared_id(transport):
    with vt.Session(session_id=transport) as old, vt.Session(session_id=transport) as new:
        assert vt.find_session(transport).handle == new.handle != old.handle
        new.end()
        assert vt.find_session(transport).handle == old.handle


@pytest.mark.parametrize("bad", ["", None, "x" * (vt.raw.VT_MAX_SESSION_ID_BYTES + 1), b"\xff\xfe", 42])
def test_find_session_refuses_bad_ids(bad):
    with pytest.raises(vt.InvalidArgumentError):
        vt.find_session(bad)


# ---- negotiation ---------------------------------------------------------------------------------

# One list of cases for both bindings (the Go tests read it too).
CASES = json.loads((REPO / "tests" / "http" / "negotiation_cases.json").read_text())
FORMATS = {"openmetrics": vt.FORMAT_OPENMETRICS, "prometheus": vt.FORMAT_PROMETHEUS}


@pytest.mark.parametrize("accept,want", CASES["format"])
def test_negotiate_format(accept, want):
    assert negotiate_format(accept) == FORMATS[want]


@pytest.mark.parametrize("header,want", CASES["gzip"])
def test_accepts_gzip(header, want):
    assert accepts_gzip(header) is want


# ---- the WSGI app and the http.server handler share metrics_response ----------------------------

# What http_exporter.so answers too (examples-c/plugins/http/routes.c).
SAME_FOR_EVERY_SCRAPE = {"Vary": "Accept-Encoding, Accept", "Cache-Control": "no-store",
                         "X-Content-Type-Options": "nosniff"}
NOT_ALLOWED = b'{"error":"only GET and HEAD are served"}'


def wsgi(method: str, **headers: str) -> Tuple[str, Dict[str, str], bytes]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/metrics"}
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    seen = []
    body = b"".join(vt.metrics_wsgi_app(environ, lambda status, hdrs: seen.append((status, hdrs))))
    (status, hdrs), = seen
    assert len({k for k, _ in hdrs}) == len(hdrs)
    return status, dict(hdrs), body


def test_wsgi_openmetrics_with_gzip_round_trip(scripted, transport, quiet_gc):
    status, headers, body = wsgi("GET", accept=PROMETHEUS_ACCEPT, accept_encoding="gzip")
    text = gzip.decompress(body).decode()
    assert status == "200 OK" and text == vt.prom_text_as(vt.FORMAT_OPENMETRICS)
    assert headers == {"Content-Type": vt.OPENMETRICS_CONTENT_TYPE, "Content-Encoding": "gzip",
                       "Content-Length": str(len(body)), **SAME_FOR_EVERY_SCRAPE}
    assert f'session_id="{transport}-b",turn_id="1"' in text


def test_wsgi_text_head_and_405(scripted, quiet_gc):
    status, headers, body = wsgi("GET")
    assert status == "200 OK" and body.decode() == vt.prom_text()
    assert headers == {"Content-Type": vt.PROM_CONTENT_TYPE, "Content-Length": str(len(body)),
                       **SAME_FOR_EVERY_SCRAPE}
    status, head_headers, head_body = wsgi("HEAD")
    assert status == "200 OK" and head_body == b"" and head_headers == headers
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, body = wsgi(method)
        assert (status, body) == ("405 Method Not Allowed", NOT_ALLOWED)
        assert headers == {"Content-Type": "application/json", "Content-Length": str(len(NOT_ALLOWED)),
                           "Allow": "GET, HEAD", "X-Content-Type-Options": "nosniff"}


@pytest.fixture
def handler_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), vt.MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(10)


def request(port: int, method: str, path: str = "/metrics", conn=None, **headers: str):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    resp = c.getresponse()
    return resp.status, resp.headers, resp.read()


def test_handler_negotiates_like_the_wsgi_app(scripted, handler_server, quiet_gc):
    conn = http.client.HTTPConnection("127.0.0.1", handler_server, timeout=10)
    for accept in (PROMETHEUS_ACCEPT, "text/plain"):
        for enc in ("gzip", "identity"):
            status, headers, body = request(handler_server, "GET", conn=conn, Accept=accept,
                                            Accept_Encoding=enc)
            w_status, w_headers, w_body = wsgi("GET", accept=accept, accept_encoding=enc)
            assert (status, body) == (200, w_body) and w_status == "200 OK"
            for name, value in w_headers.items():
                assert headers[name] == value, name
            assert headers.get("Content-Encoding") == w_headers.get("Content-Encoding")
    # HEAD on the same (kept-alive) connection: GET's headers, no body.
    status, headers, body = request(handler_server, "HEAD", conn=conn, Accept_Encoding="gzip")
    _, w_headers, w_body = wsgi("GET", accept_encoding="gzip")
    assert (status, body, headers["Content-Length"]) == (200, b"", str(len(w_body)))
    conn.close()


def test_handler_405_and_404(handler_server):
    status, headers, body = request(handler_server, "POST")
    assert (status, headers["Allow"], body) == (405, "GET, HEAD", NOT_ALLOWED)
    status, headers, body = request(handler_server, "BREW")  # any method, not http.server's 501
    assert status == 405
    status, _, body = request(handler_server, "GET", "/other")
    assert (status, body) == (404, b'{"error":"no such path"}')
    status, _, _ = request(handler_server, "GET", "/metrics?x=1")
    assert status == 200


def test_agent_sim_serves_head_and_openmetrics():
    env = dict(os.environ, PYTHONPATH=str(PKG_ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(PKG_ROOT / "agent_sim.py"), "--duration", "1",
                             "--speed", "0.25", "--port", "0", "--linger", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()
        port = int(first.rsplit(":", 1)[1].split("/")[0])
        status, headers, body = request(port, "HEAD")
        assert (status, body) == (200, b"") and int(headers["Content-Length"]) > 0
        status, headers, body = request(port, "GET", Accept=PROMETHEUS_ACCEPT, Accept_Encoding="gzip")
        assert status == 200 and headers["Content-Type"] == vt.OPENMETRICS_CONTENT_TYPE
        text = gzip.decompress(body).decode()
        assert text.endswith("# EOF\n") and "# TYPE agent_sim_calls gauge" in text
        assert request(port, "POST")[0] == 405
    finally:
        proc.kill()
        proc.communicate(timeout=30)


# ---- serve(): the real http_exporter.so ----------------------------------------------------------


def http_exporter() -> str:
    path = REPO / "build" / "plugins" / "http_exporter.so"
    if not path.is_file():
        pytest.fail(f"{path} is missing: make -o build/lib/libvoicetelemetry.so {path.relative_to(REPO)}")
    return str(path)


def fetch(url: str, **headers: str):
    req = urllib.request.Request(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_find_plugin_places():
    assert vt.find_plugin("http_exporter.so") == http_exporter()
    with pytest.raises(vt.NotFoundError) as ei:
        vt.find_plugin("http_exporter.so", environ={"VOICETELEMETRY_PLUGINS": "/nonexistent"})
    assert "$VOICETELEMETRY_PLUGINS=/nonexistent: /nonexistent/http_exporter.so: no such file" in ei.value.message
    with pytest.raises(vt.InvalidArgumentError):
        vt.find_plugin("../http_exporter.so")


def test_serve_metrics_with_exemplars(scripted, transport):
    http_exporter()
    with vt.serve("127.0.0.1:0") as endpoint:
        assert endpoint.port > 0 and endpoint.url == f"http://127.0.0.1:{endpoint.port}"
        status, headers, body = fetch(endpoint.url + "/metrics", Accept=PROMETHEUS_ACCEPT,
                                      Accept_Encoding="gzip")
        assert (status, headers["Content-Type"], headers["Content-Encoding"]) == \
            (200, vt.OPENMETRICS_CONTENT_TYPE, "gzip")
        text = gzip.decompress(body).decode()
        a, b, ends, _ = scripted
        assert series_lines(text, E2E + "_bucket", transport)[13] == (
            f'{E2E}_bucket{{le="0.75",transport="{transport}"}} 2 # {{session_id="{transport}-b",'
            f'turn_id="1",trace_id="{TRACE_B}"}} 0.7 {wall_ms(b, ends["b", 1])}')
        status, headers, body = fetch(endpoint.url + "/metrics")
        assert (status, headers["Content-Type"]) == (200, vt.PROM_CONTENT_TYPE)
        assert series_lines(body.decode(), E2E + "_count", transport) == [
            f'{E2E}_count{{transport="{transport}"}} 3']
        status, _, body = fetch(endpoint.url + "/api/v1/sessions")
        ids = [s["session_id"] for s in json.loads(body) if s["session_id"].startswith(transport)]
        assert (status, ids) == (200, [f"{transport}-a", f"{transport}-b"])
        url = endpoint.url
    with pytest.raises(urllib.error.URLError):  # closed: nothing listens there any more
        urllib.request.urlopen(url + "/healthz", timeout=5)


def test_serve_with_a_token(transport):
    http_exporter()
    with vt.serve("127.0.0.1:0", token="s3cret") as endpoint:
        assert fetch(endpoint.url + "/metrics")[0] == 401
        assert fetch(endpoint.url + "/metrics", Authorization="Bearer s3cret")[0] == 200
        assert fetch(endpoint.url + "/healthz")[0] == 200


def test_serve_errors():
    """Each failure is a PluginError carrying the plugin's own reason, or the binding's check."""
    http_exporter()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(vt.PluginError, match=f"listen 127.0.0.1:{port}: Address already in use"):
            vt.serve(f"127.0.0.1:{port}")
    with vt.serve("127.0.0.1:0"):  # one endpoint per process: plugin names are unique
        with pytest.raises(vt.PluginError, match="a plugin named 'http_exporter' is already loaded"):
            vt.serve("127.0.0.1:0")
    with pytest.raises(vt.PluginError, match="'max_connections' must be an integer from 1 to 100000"):
        vt.serve("127.0.0.1:0", max_connections=0)
    with pytest.raises(vt.InvalidArgumentError, match="listen must be 'host:port'"):
        vt.serve("no-port")
    with pytest.raises(vt.NotFoundError):
        vt.serve("127.0.0.1:0", plugin_path="/nonexistent/http_exporter.so")
    assert vt.list_plugins() == []


NEGOTIATION_CASES = [(method, accept, enc)
                     for method in ("GET", "HEAD", "POST", "DELETE")
                     for accept in (None, PROMETHEUS_ACCEPT, "*/*", "application/*", "text/plain;q=0, */*",
                                    "application/openmetrics-text;q=0.5, text/plain;q=0.5")
                     for enc in (None, "gzip", "gzip;q=0, *", "x-gzip;q=0.5")]


def test_plugin_and_binding_negotiate_alike():
    """http_exporter.so and metrics_response answer every request alike: status, the headers that
    carry the negotiation, and (error answers) the body."""
    http_exporter()
    compared = ("content-type", "content-encoding", "vary", "cache-control", "allow", "x-content-type-options")
    with vt.serve("127.0.0.1:0") as endpoint:
        conn = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
        for method, accept, enc in NEGOTIATION_CASES:
            headers = {k: v for k, v in (("Accept", accept), ("Accept-Encoding", enc)) if v is not None}
            conn.request(method, "/metrics", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.getheader("Connection") == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
            want = vt.metrics_response(method, accept, enc)
            want_headers = {k.lower(): v for k, v in want.headers}
            case = (method, accept, enc)
            assert resp.status == want.status, case
            assert {k: resp.getheader(k) for k in compared} == {k: want_headers.get(k) for k in compared}, case
            if want.status != 200 or method == "HEAD":
                assert body == want.body, case
        conn.close()
