"""What both integrations share: the /metrics endpoint and a guard for the core's calls."""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Mapping, Optional

from .. import PROM_CONTENT_TYPE, VoiceTelemetryError, prom_text

log = logging.getLogger("voicetelemetry.integrations")

__all__ = ["MetricsServer", "serve_metrics", "guarded", "merged_labels"]


class _MetricsHandler(BaseHTTPRequestHandler):
    """Serves ``voicetelemetry.prom_text()`` at ``/metrics`` (as ``agent_sim.py`` does)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404, "try /metrics")
            return
        body = prom_text().encode()
        self.send_response(200)
        self.send_header("Content-Type", PROM_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # scrapes are not worth a log line
        pass


class MetricsServer:
    """A running ``/metrics`` server (a daemon thread). ``url``, ``port``, ``close()``."""

    def __init__(self, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), _MetricsHandler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}/metrics"
        self._thread = threading.Thread(target=self._server.serve_forever, name="vt-metrics",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "MetricsServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def serve_metrics(port: int = 9464, host: str = "127.0.0.1") -> MetricsServer:
    """Serve the process's Prometheus text at ``http://host:port/metrics`` (port 0: ephemeral).

    Every session of every integration (and anything else using the library) is in it: the
    ``voicetelemetry_turn_*`` histograms are fed as each turn completes, not at session end.
    """
    return MetricsServer(host, port)


def merged_labels(default: Mapping[str, str], labels: Optional[Mapping[str, str]]) -> Dict[str, str]:
    out = dict(default)
    if labels:
        out.update({str(k): str(v) for k, v in dict(labels).items()})
    return out


def guarded(counter: Dict[str, int], what: str, fn: Callable[..., Any], *args: Any,
            **kwargs: Any) -> Any:
    """Call a core method; a refusal (e.g. an event after the session ended) is counted and logged,
    never raised into the framework's event loop."""
    try:
        return fn(*args, **kwargs)
    except VoiceTelemetryError as e:
        counter[what] = counter.get(what, 0) + 1
        log.debug("voicetelemetry: %s refused: %s", what, e)
        return None
