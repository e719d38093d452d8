"""A loopback OTLP/HTTP receiver for the tests: decodes every request with opentelemetry-proto
(protobuf, or OTLP/JSON checked against the same messages), stores spans and metrics, and answers
as scripted (status codes, Retry-After, partial_success, a hang)."""
from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as msvc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as tsvc

ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON carries ids as hex; protobuf's JSON mapping wants base64 for bytes fields."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                out[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                out[k] = _hex_ids_to_base64(v)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


@dataclass
class Reply:
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    rejected: int = 0          # partial_success rejected count on a 200
    hang_s: float = 0.0        # sleep before answering (the request is stored with status -1)


@dataclass
class Received:
    path: str
    t: float
    status: int
    content_type: str
    encoding: str
    message: Any               # the decoded request
    headers: Dict[str, str] = field(default_factory=dict)  # lower-case names


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.script: Dict[str, List[Reply]] = {}  # per path: replies for its next requests (then default)
        self.requests: List[Received] = []
        self.errors: List[str] = []
        self.default = Reply()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0) -> "Receiver":
        handler = self._handler()
        srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
        srv.daemon_threads = True
        self._server = srv
        self.port = srv.server_address[1]
        self._thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- what arrived ----------------------------------------------------------------------
    def spans(self) -> List[Tuple[Any, Any]]:
        """(resource, span) of every accepted traces request."""
        out = []
        with self.lock:
            for r in self.requests:
                if r.path == "/v1/traces" and r.status == 200:
                    for rs in r.message.resource_spans:
                        for ss in rs.scope_spans:
                            out.extend((rs.resource, s) for s in ss.spans)
        return out

    def metric_requests(self) -> List[Any]:
        with self.lock:
            return [r.message for r in self.requests if r.path == "/v1/metrics" and r.status == 200]

    def traces_requests(self) -> List[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == "/v1/traces"]

    def wait_for(self, pred, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.02)
        return pred()

    # ---- the handler -----------------------------------------------------------------------
    def _decode(self, path: str, ctype: str, body: bytes) -> Any:
        cls = tsvc.ExportTraceServiceRequest if path == "/v1/traces" else msvc.ExportMetricsServiceRequest
        if ctype == "application/x-protobuf":
            return cls.FromString(body)
        if ctype == "application/json":
            return json_format.ParseDict(_hex_ids_to_base64(json.loads(body)), cls())
        raise ValueError(f"unexpected content type {ctype!r}")

    def _answer(self, path: str, ctype: str, reply: Reply) -> bytes:
        if path == "/v1/traces":
            resp = tsvc.ExportTraceServiceResponse()
            if reply.rejected:
                resp.partial_success.rejected_spans = reply.rejected
                resp.partial_success.error_message = "scripted rejection"
        else:
            resp = msvc.ExportMetricsServiceResponse()
            if reply.rejected:
                resp.partial_success.rejected_data_points = reply.rejected
                resp.partial_success.error_message = "scripted rejection"
        if ctype == "application/json":
            return json_format.MessageToJson(resp).encode()
        return resp.SerializeToString()

    def _handler(self):
        rcv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                enc = self.headers.get("Content-Encoding", "")
                ctype = self.headers.get("Content-Type", "")
                with rcv.lock:
                    queue = rcv.script.get(self.path)
                    reply = queue.pop(0) if queue else rcv.default
                if reply.hang_s:
                    time.sleep(reply.hang_s)  # the client has given up by then: recorded as -1
                try:
                    raw = gzip.decompress(body) if enc == "gzip" else body
                    msg = rcv._decode(self.path, ctype, raw)
                except Exception as exc:  # a malformed request is a test failure
                    with rcv.lock:
                        rcv.errors.append(f"{self.path}: {exc!r}")
                    reply = Reply(status=400)
                    msg = None
                with rcv.lock:
                    status = -1 if reply.hang_s else reply.status
                    rcv.requests.append(Received(self.path, time.monotonic(), status, ctype, enc, msg,
                                                 {k.lower(): v for k, v in self.headers.items()}))
                out = rcv._answer(self.path, ctype, reply) if reply.status == 200 else b""
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", ctype or "application/x-protobuf")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return H
