"""What both integrations share: the /metrics endpoint and a guard for the core's calls."""
from __future__ import annotations

import logging
import threading
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Dict, Mapping, Optional

from .. import MetricsHandler, VoiceTelemetryError

log = logging.getLogger("voicetelemetry.integrations")

__all__ = ["MetricsServer", "serve_metrics", "guarded", "merged_labels"]


class MetricsServer:
    """A running ``/metrics`` server (a daemon thread) answering as every endpoint of the library does
    (:class:`voicetelemetry.MetricsHandler`: OpenMetrics with exemplars when asked, gzip, HEAD).
    ``url``, ``port``, ``close()``. For the dashboard and the JSON API too, use
    :func:`voicetelemetry.serve` (the HTTP endpoint plugin) instead."""

    def __init__(self, host: str, port: int) -> None:
        self._server = ThreadingHTTPServer((host, port), MetricsHandler)
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
