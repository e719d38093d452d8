"""Serving ``/metrics`` from Python: one negotiation function, a WSGI app and an ``http.server`` handler.

Both serve the process's metrics exactly as ``http_exporter.so`` (:func:`voicetelemetry.serve`) and
the Go binding's ``MetricsHandler`` do; the rules are in ``docs/http.md`` ("Negotiation"):

- ``GET`` and ``HEAD`` only; any other method is ``405`` with ``Allow: GET, HEAD`` and the JSON body
  ``{"error":"only GET and HEAD are served"}``.
- Each format gets the q-value of the most specific ``Accept`` range that matches it (``*/*``, then
  ``type/*``, then the exact type, then the exact type with its ``version``; a range naming another
  version does not match; an element with a malformed q-value is ignored). OpenMetrics 1.0.0
  (``application/openmetrics-text``, version 1.0.0; served as
  :data:`~voicetelemetry.OPENMETRICS_CONTENT_TYPE`, with exemplars) when its q-value is above 0
  and above that of text 0.0.4 (``text/plain``, version 0.0.4); otherwise text 0.0.4
  (:data:`~voicetelemetry.PROM_CONTENT_TYPE`): on a tie, without ``Accept``, or when it names
  neither (never ``406``).
- gzip when ``Accept-Encoding`` gives ``gzip`` (or ``x-gzip``) a q-value above 0, or, naming
  neither, gives ``*`` one: ``Content-Encoding: gzip``.
- ``Content-Length`` always (for ``HEAD``: the length ``GET`` would send), ``Vary: Accept-Encoding,
  Accept``, ``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``, no ``ETag``. A failure
  to render is ``500`` with a JSON ``{"error": ...}`` body holding the library's message.

WSGI (mount it at ``/metrics``; like Go's handler it does not look at the path)::

    from wsgiref.simple_server import make_server
    import voicetelemetry as vt
    make_server("127.0.0.1", 9464, vt.metrics_wsgi_app).serve_forever()

``http.server`` (answers at :attr:`MetricsHandler.metrics_path`; elsewhere ``404``
``{"error":"no such path"}``)::

    from http.server import ThreadingHTTPServer
    ThreadingHTTPServer(("127.0.0.1", 9464), vt.MetricsHandler).serve_forever()
"""
from __future__ import annotations

import gzip
import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from .errors import VoiceTelemetryError
from .metrics import FORMAT_OPENMETRICS, FORMAT_PROMETHEUS, ExpositionFormat, content_type, prom_text_as

__all__ = ["MetricsResponse", "negotiate_format", "accepts_gzip", "metrics_response", "error_response",
           "metrics_wsgi_app", "MetricsHandler"]

_log = logging.getLogger("voicetelemetry.exposition")

#: The methods /metrics answers (the Allow header of a 405).
ALLOWED_METHODS = "GET, HEAD"
#: gzip level: 1, http_exporter.so's default (its ``gzip_level``).
GZIP_LEVEL = 1

Headers = List[Tuple[str, str]]
_OWS = " \t"  # optional whitespace around list elements and parameters (RFC 9110)


class MetricsResponse(NamedTuple):
    """What to answer a request for /metrics: status, headers (in order), body (empty for HEAD)."""

    status: int
    headers: Headers
    body: bytes


def _ieq(s: str, word: str) -> bool:
    """ASCII case-insensitive ``s == word`` (``word`` in lower case)."""
    return s.encode("utf-8", "surrogateescape").lower() == word.encode("ascii")


def _list_items(header: str) -> Iterator[Tuple[str, str]]:
    """The elements of a comma-separated header list (quoted strings may hold commas), each as
    (value, parameters after the first ``;``); empty elements are skipped."""
    i, n = 0, len(header)
    while i < n:
        start, quoted = i, False
        while i < n and (quoted or header[i] != ","):
            if header[i] == '"':
                quoted = not quoted
            elif header[i] == "\\" and quoted and i + 1 < n:
                i += 1
            i += 1
        item = header[start:i].strip(_OWS)
        i += 1
        if item:
            value, _, params = item.partition(";")
            yield value.strip(_OWS), params


def _param(params: str, name: str) -> Optional[str]:
    """The value of parameter ``name`` in ``a=1; b="2"`` (one pair of quotes removed), or None."""
    pos, n = 0, len(params)
    while pos < n:
        i, quoted = pos, False
        while i < n and (quoted or params[i] != ";"):
            if params[i] == '"':
                quoted = not quoted
            i += 1
        key, eq, value = params[pos:i].strip(_OWS).partition("=")
        pos = i + 1
        if eq and _ieq(key.strip(_OWS), name):
            value = value.strip(_OWS)
            return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return None


def _qvalue(params: str) -> int:
    """The q-value in thousandths (1000 when absent); -1 when malformed (the element is ignored)."""
    v = _param(params, "q")
    if v is None:
        return 1000
    if not 1 <= len(v) <= 5 or v[0] not in "01" or (len(v) > 1 and v[1] != "."):
        return -1
    if not all(c in "0123456789" for c in v[2:]):
        return -1
    q = int(v[0]) * 1000 + int((v[2:] + "000")[:3])
    return q if q <= 1000 else -1


def _media_q(accept: str, mtype: str, subtype: str, version: str) -> int:
    """The q of the most specific range of ``accept`` matching ``mtype/subtype`` (``*/*`` < ``type/*``
    < ``type/subtype`` < ``type/subtype;version=<version>``; a range naming another version does not
    match); 0 when none matches."""
    best_spec, best_q = 0, 0
    for value, params in _list_items(accept):
        t, slash, st = value.partition("/")
        if not slash:
            continue
        if _ieq(t, "*") and _ieq(st, "*"):
            spec = 1
        elif _ieq(t, mtype) and _ieq(st, "*"):
            spec = 2
        elif _ieq(t, mtype) and _ieq(st, subtype):
            ver = _param(params, "version")
            if ver is not None and ver != version:
                continue
            spec = 3 if ver is None else 4
        else:
            continue
        q = _qvalue(params)
        if q < 0 or spec < best_spec:
            continue
        if spec > best_spec or q > best_q:
            best_q = q
        best_spec = spec
    return best_q


def negotiate_format(accept: Optional[str]) -> ExpositionFormat:
    """The exposition format an ``Accept`` header asks for: OpenMetrics when its q-value is above 0
    and above the text format's (the rule in the module's documentation)."""
    if accept is None:
        return FORMAT_PROMETHEUS
    om = _media_q(accept, "application", "openmetrics-text", "1.0.0")
    text = _media_q(accept, "text", "plain", "0.0.4")
    return FORMAT_OPENMETRICS if om > 0 and om > text else FORMAT_PROMETHEUS


def accepts_gzip(accept_encoding: Optional[str]) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (the rule in the module's documentation)."""
    gzip_q, star_q = -1, -1
    for coding, params in _list_items(accept_encoding or ""):
        q = _qvalue(params)
        if q < 0:
            continue
        if _ieq(coding, "gzip") or _ieq(coding, "x-gzip"):
            gzip_q = max(gzip_q, q)
        elif _ieq(coding, "*"):
            star_q = q
    return gzip_q > 0 if gzip_q >= 0 else star_q > 0


def error_response(status: int, message: str, extra: Headers = ()) -> MetricsResponse:
    """An error answer as http_exporter.so gives it: ``{"error": message}``."""
    body = json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra,
               ("X-Content-Type-Options", "nosniff")]
    return MetricsResponse(status, headers, body)


def metrics_response(method: str, accept: Optional[str] = None,
                     accept_encoding: Optional[str] = None) -> MetricsResponse:
    """The answer to ``method /metrics`` with these request headers (None: header absent).

    Renders the process's metrics now (:func:`~voicetelemetry.prom_text_as`). The one function the
    WSGI app and :class:`MetricsHandler` share.
    """
    if method not in ("GET", "HEAD"):
        return error_response(405, "only GET and HEAD are served", [("Allow", ALLOWED_METHODS)])
    fmt = negotiate_format(accept)
    try:
        body = prom_text_as(fmt).encode("utf-8")
    except VoiceTelemetryError as exc:
        return error_response(500, f"cannot render metrics: {exc.message}")
    encoding = []
    if accepts_gzip(accept_encoding):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        encoding = [("Content-Encoding", "gzip")]
    headers = [("Content-Type", content_type(fmt)), ("Content-Length", str(len(body))), *encoding,
               ("Vary", "Accept-Encoding, Accept"), ("Cache-Control", "no-store"),
               ("X-Content-Type-Options", "nosniff")]
    return MetricsResponse(200, headers, b"" if method == "HEAD" else body)


def metrics_wsgi_app(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI application serving :func:`metrics_response` (mount it at ``/metrics``)."""
    resp = metrics_response(environ.get("REQUEST_METHOD", "GET"), environ.get("HTTP_ACCEPT"),
                            environ.get("HTTP_ACCEPT_ENCODING"))
    start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", resp.headers)
    return [resp.body]


class MetricsHandler(BaseHTTPRequestHandler):
    """An ``http.server`` request handler serving :func:`metrics_response` at :attr:`metrics_path`.

    Every method reaches the shared negotiation (so ``POST`` is ``405``, not http.server's ``501``);
    other paths are ``404``. HTTP/1.1 with keep-alive. Requests are logged to the
    ``voicetelemetry.exposition`` logger at DEBUG, not to stderr. Subclass it to change the path.
    """

    protocol_version = "HTTP/1.1"
    #: The path (query string ignored) that serves the metrics.
    metrics_path = "/metrics"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # http.server dispatches request method X to do_X
            return self._serve_metrics
        raise AttributeError(name)

    def _serve_metrics(self) -> None:
        if self.path.split("?", 1)[0] != self.metrics_path:
            resp = error_response(404, "no such path")
        else:
            resp = metrics_response(self.command, self.headers.get("Accept"),
                                    self.headers.get("Accept-Encoding"))
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        _log.debug("%s - %s", self.address_string(), format % args)
