"""HTTP/1.1 behaviour of http_exporter.so in a real engine process: methods, paths, HEAD, malformed
requests, limits, keep-alive and pipelining, the bearer token."""
from __future__ import annotations

import http.client
import socket
import time

import pytest

from conftest import get, parse_responses, raw

REQ = "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"


def req(path="/healthz", extra="", method="GET"):
    return REQ.format(path=path, extra=extra).replace("GET", method, 1).encode()


def status_of(data: bytes) -> int:
    assert data.startswith(b"HTTP/1.1 "), data[:100]
    return int(data[9:12])


@pytest.fixture(scope="module")
def shared(request, tmp_path_factory, http_exporter):
    """One engine for the read-only tests of this module (starting one costs about a second)."""
    from conftest import Engine
    d = tmp_path_factory.mktemp("shared")
    e = Engine(http_exporter, {"listen": "127.0.0.1:0", "port_file": str(d / "port")}, d)
    e.session("call-1")
    yield e
    e.stop()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "get", "BREW"])
def test_other_methods_are_405_with_allow(shared, method):
    for path in ("/metrics", "/api/v1/sessions", "/", "/nowhere"):
        r = get(shared.port, path, method=method)
        assert r.status == 405, (method, path)
        assert r.headers["allow"] == "GET, HEAD"
        assert r.json() == {"error": "only GET and HEAD are served"}


def test_unknown_paths_are_404_and_nothing_else_is_served(shared):
    for path in ("/metrics/", "/METRICS", "/metric", "/index.html", "/dashboard.html", "/../etc/passwd",
                 "/%2e%2e/%2e%2e/etc/passwd", "/api/v1", "/api/v1/", "/api/v1/sessions/", "/api/v2/sessions",
                 "/healthz/", "//metrics", "/api/v1/events/x", "*"):
        r = get(shared.port, path)
        assert (r.status, r.json()) == (404, {"error": "no such path"}), path
        assert r.headers["content-type"] == "application/json"


def test_every_response_has_a_content_length_and_no_etag(shared):
    for path in ("/metrics", "/api/v1/sessions", "/api/v1/sessions/call-1", "/api/v1/sessions/call-1/turns",
                 "/healthz", "/", "/nowhere"):
        for enc in ({}, {"accept-encoding": "gzip"}):
            r = get(shared.port, path, enc)
            assert int(r.headers["content-length"]) == len(r.body), path
            assert "etag" not in r.headers and "transfer-encoding" not in r.headers


def test_absolute_form_targets_are_served(shared):
    out = raw(shared.port, b"GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert parse_responses(out)[0].body == b"ok"


def test_head_answers_the_get_headers_without_a_body(shared):
    for path in ("/metrics", "/api/v1/sessions", "/api/v1/sessions/call-1", "/", "/healthz", "/nowhere"):
        for extra in ("", "Accept-Encoding: gzip\r\n"):
            # HEAD then GET on one connection: if HEAD sent a body, the second response would not parse
            out = raw(shared.port, req(path, extra, "HEAD") + req(path, extra + "Connection: close\r\n"))
            head_end = out.index(b"\r\n\r\n") + 4
            head, get_resp = parse_responses(out[:head_end])[0], parse_responses(out[head_end:])[0]
            assert head.status == get_resp.status, path
            assert head.body == b""
            same = lambda r: {k: v for k, v in r.headers.items() if k not in ("date", "connection", "content-length")}
            assert same(head) == same(get_resp), path
            if path in ("/", "/healthz", "/nowhere"):  # the others move between two renders (uptime, counters)
                assert head.headers["content-length"] == get_resp.headers["content-length"], path


def test_healthz_is_ok(shared):
    r = get(shared.port, "/healthz")
    assert (r.status, r.body, r.headers["content-type"]) == (200, b"ok", "text/plain; charset=utf-8")


def test_dashboard_is_the_embedded_page(shared):
    from conftest import REPO
    r = get(shared.port, "/")
    assert r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.body == (REPO / "examples-c" / "plugins" / "http" / "dashboard.html").read_bytes()


GARBAGE = [
    b"\x00\x01\x02\x03\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /metrics\r\n\r\n",
    b"GET /metrics HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
    b"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",  # white space before the colon
    b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  # obsolete line folding
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad\x01Name: y\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",  # a CR alone
    b"GET /met rics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /metrics#frag HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /m\xe9trics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n",
    b"GET /metrics HTTPS/1.1\r\nHost: x\r\n\r\n",
    b"GET /metrics http/1.1\r\nHost: x\r\n\r\n",
    b"G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",  # a body on GET
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
    b"\xff\xfe\xfd garbage that is not HTTP at all",
]


@pytest.mark.parametrize("data", GARBAGE, ids=range(len(GARBAGE)))
def test_malformed_requests_get_400_and_the_connection_closes(shared, data):
    out = raw(shared.port, data)
    assert status_of(out) == 400, out[:200]
    r = parse_responses(out)
    assert len(r) == 1 and r[0].json()["error"]
    assert r[0].headers["connection"] == "close"


def test_the_connection_goes_on_after_a_bad_session_id(shared):
    out = raw(shared.port, req("/api/v1/sessions/%zz") + req("/healthz", "Connection: close\r\n"))
    assert [r.status for r in parse_responses(out)] == [400, 200]


def test_http2_and_other_versions_are_505(shared):
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"):
        out = raw(shared.port, b"GET /healthz " + v + b"\r\nHost: x\r\n\r\n")
        assert status_of(out) == 505, v


def test_a_post_with_a_body_is_405_and_closes(shared):
    out = raw(shared.port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd" + req())
    r = parse_responses(out)
    assert [x.status for x in r] == [405] and r[0].headers["connection"] == "close"


def test_oversized_heads_are_431(start_engine):
    e = start_engine(max_header_bytes=1024)
    assert status_of(raw(e.port, req(extra="X-Pad: " + "a" * 880 + "\r\nConnection: close\r\n"))) == 200  # under it
    for data in (req(extra="X-Pad: " + "a" * 1100 + "\r\n"),
                 req(extra="".join(f"X-{i}: {'b' * 20}\r\n" for i in range(60))),
                 b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"c" * 5000):  # the head never ends
        out = raw(e.port, data)
        assert status_of(out) == 431, data[:40]
        assert parse_responses(out)[0].json() == {"error": "request head too large"}
    assert get(e.port, "/healthz").status == 200


def test_keep_alive_serves_many_requests_on_one_connection(shared):
    c = http.client.HTTPConnection("127.0.0.1", shared.port, timeout=5)
    socks = set()
    for path in ["/healthz", "/metrics", "/nowhere", "/api/v1/sessions"] * 5:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        socks.add(id(c.sock))
        assert r.status in (200, 404)
    assert len(socks) == 1  # http.client reconnects if the server closed: it never had to
    c.close()


def test_pipelined_requests_are_answered_in_order(shared):
    paths = ["/healthz", "/nowhere", "/api/v1/sessions", "/metrics", "/api/v1/sessions/call-1/turns"] * 20
    data = b"".join(req(p) for p in paths) + req("/healthz", "Connection: close\r\n")
    responses = parse_responses(raw(shared.port, data))
    expect = [200 if p != "/nowhere" else 404 for p in paths] + [200]
    assert [r.status for r in responses] == expect
    assert all(r.body == b"ok" for r, p in zip(responses, paths) if p == "/healthz")
    assert all(r.body.startswith(b"# HELP") for r, p in zip(responses, paths) if p == "/metrics")


def test_connection_close_and_http10(shared):
    out = raw(shared.port, req(extra="Connection: close\r\n") + req())
    r = parse_responses(out)
    assert len(r) == 1 and r[0].headers["connection"] == "close"
    out = raw(shared.port, b"GET /healthz HTTP/1.0\r\n\r\n" + req())  # 1.0: closes by default
    r = parse_responses(out)
    assert len(r) == 1 and r[0].headers["connection"] == "close"
    out = raw(shared.port, b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + req(extra="Connection: close\r\n"))
    r = parse_responses(out)
    assert [x.status for x in r] == [200, 200] and r[0].headers["connection"] == "keep-alive"
    # leading empty lines before a request line are skipped (RFC 9112 2.2); bare LF ends lines
    out = raw(shared.port, b"\r\n\r\nGET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n")
    assert parse_responses(out)[0].body == b"ok"


def test_bearer_token(start_engine):
    e = start_engine(token="s3cret-token")
    for path in ("/metrics", "/api/v1/sessions", "/", "/api/v1/events", "/nowhere"):
        r = get(e.port, path)
        assert r.status == 401, path
        assert r.headers["www-authenticate"] == 'Bearer realm="voicetelemetry"'
        assert r.json() == {"error": "a bearer token is required"}
        for bad in ("Bearer wrong", "Bearer s3cret-token2", "Bearer s3cret-toke", "Basic czNjcmV0LXRva2Vu",
                    "s3cret-token", "Bearer"):
            r = get(e.port, path, {"authorization": bad})
            assert r.status == 401, (path, bad)
            assert r.headers["www-authenticate"] == 'Bearer realm="voicetelemetry", error="invalid_token"'
    assert get(e.port, "/metrics", {"authorization": "Bearer s3cret-token"}).status == 200
    assert get(e.port, "/metrics", {"authorization": "bearer s3cret-token"}).status == 200  # scheme: any case
    assert get(e.port, "/nowhere", {"authorization": "Bearer s3cret-token"}).status == 404
    r = get(e.port, "/healthz")
    assert (r.status, r.body) == (200, b"ok")


def test_access_token_in_the_url(start_engine):
    """RFC 6750 2.3: ?access_token= is how a browser opens the dashboard (an address bar sends no
    header) and how EventSource follows /api/v1/events; percent-encoded like any query value."""
    e = start_engine(token="s3cret/tok+en")
    good = "access_token=s3cret%2Ftok%2Ben"
    assert get(e.port, "/?" + good).status == 200
    assert get(e.port, "/metrics?" + good).status == 200
    assert get(e.port, "/api/v1/sessions?limit=1&" + good).status == 200
    for bad in ("access_token=s3cret/tok", "access_token=s3cret%2Ftok%2Bex", "access_token=",
                "access_token=%zz", "token=s3cret%2Ftok%2Ben", good + "&" + good):   # a repeated one counts as none
        r = get(e.port, "/metrics?" + bad)
        assert r.status == 401, bad
        assert r.json() == {"error": "a bearer token is required"}


def open_idle(port: int) -> socket.socket:
    """A keep-alive connection the server has accepted and answered once."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req())
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    return s


def test_connections_beyond_max_connections_get_503(start_engine):
    e = start_engine(max_connections=4)
    held = [open_idle(e.port) for _ in range(4)]
    for _ in range(3):
        out = raw(e.port, req())
        assert status_of(out) == 503
        assert parse_responses(out)[0].json() == {"error": "too many connections"}
    held.pop().close()
    deadline = time.monotonic() + 5
    while status_of(raw(e.port, req(extra="Connection: close\r\n"))) == 503:  # the server sees the close at its next wakeup
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for s in held:
        s.close()


def test_a_slowloris_client_is_cut_at_request_timeout_while_others_are_served(start_engine):
    e = start_engine(request_timeout_ms=1500, max_connections=8)
    slow = [socket.create_connection(("127.0.0.1", e.port), timeout=10) for _ in range(4)]
    text = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 100
    t0 = time.monotonic()
    served = 0
    cut_at = {}
    for i in range(len(text)):  # one header byte per second from each slow client
        for k, s in enumerate(slow):
            if k in cut_at:
                continue
            try:
                s.sendall(text[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut_at[k] = time.monotonic() - t0
        while time.monotonic() - t0 < i + 1 and len(cut_at) < len(slow):  # others are served meanwhile
            assert get(e.port, "/healthz", timeout=2).status == 200
            served += 1
            time.sleep(0.05)
        for k, s in enumerate(slow):
            s.setblocking(False)
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            if k not in cut_at:
                cut_at[k] = time.monotonic() - t0
                assert status_of(data) == 408
                assert b'{"error":"the request head did not arrive in time"}' in data
        if len(cut_at) == len(slow):
            break
    # cut after 1.5 s of the head: not before, and within a second after (timer and scheduling slack)
    assert all(1.4 <= t <= 2.6 for t in cut_at.values()), cut_at
    assert served >= 10
    for s in slow:
        s.close()


def test_a_connection_that_sends_nothing_is_closed_without_a_response(start_engine):
    e = start_engine(request_timeout_ms=300, idle_timeout_ms=600)
    s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
    t0 = time.monotonic()
    assert s.recv(100) == b""  # closed, nothing sent: no 408 for a request that never began
    assert 0.25 <= time.monotonic() - t0 <= 1.5
    s = open_idle(e.port)  # after a response, the idle timeout applies
    t0 = time.monotonic()
    assert s.recv(100) == b""
    assert 0.55 <= time.monotonic() - t0 <= 2.0
