"""Fixtures of the dashboard suite: a fleet engine process serving /metrics with http_exporter.so,
and a real Prometheus (Debian's 2.42 binary) on a loopback port of its own with its own storage,
scraping the engine every second and evaluating prometheus/rules.yml every second.

    fleet   (module scope) Fleet: .prom (base URL), .engine_port, .query(expr), .api(path, **params)

Everything started is stopped at teardown: the engine by closing its stdin (it exits at once),
Prometheus by SIGTERM; either is killed after 10 s.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from grafana_queries import REPO, RULES

HERE = Path(__file__).resolve().parent
os.environ.setdefault("VOICETELEMETRY_LIB", str(REPO / "build" / "lib" / "libvoicetelemetry.so"))
HTTP_EXPORTER = Path(os.environ.get("HTTP_EXPORTER", REPO / "build" / "plugins" / "http_exporter.so"))
TEST_PLUGINS = Path(os.environ.get("TEST_PLUGINS_DIR", REPO / "build" / "tests" / "plugins"))
#: The sinks the engine loads beside the endpoint: one too slow for its 4-slot queue (it drops
#: events as queue_full), one that answers FATAL (disabled at its first batch).
EXTRA_SINKS = [f"{TEST_PLUGINS / 'slow.so'}:4", str(TEST_PLUGINS / "fatal.so")]
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Fleet:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: List[subprocess.Popen] = []
        self.engine_port = 0
        self.prom = ""

    def start(self) -> None:
        self.engine_port = self._start_engine()
        self.prom = self._start_prometheus()

    # ---- processes --------------------------------------------------------------------------

    def _start_engine(self) -> int:
        for so in [HTTP_EXPORTER] + [Path(s.partition(":")[0]) for s in EXTRA_SINKS]:
            if not so.is_file():
                pytest.fail(f"{so} is missing: make -o build/lib/libvoicetelemetry.so test-dashboards builds it")
        err = open(self.tmp / "engine.err", "wb")
        proc = subprocess.Popen([sys.executable, str(HERE / "fleet_engine.py"), str(HTTP_EXPORTER),
                                 str(self.tmp / "port"), *EXTRA_SINKS],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        err.close()
        self.procs.append(proc)
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        first = json.loads(proc.stdout.readline() or "{}") if ready else {}
        if "port" not in first:
            pytest.fail(f"engine did not start: {first.get('error')} {self._tail('engine.err')}")
        return int(first["port"])

    def _start_prometheus(self) -> str:
        config = self.tmp / "prometheus.yml"
        config.write_text(json.dumps({   # JSON is YAML
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "voice", "static_configs": [
                {"targets": [f"127.0.0.1:{self.engine_port}"]}]}],
        }))
        for _ in range(3):  # the port picked can be taken before Prometheus binds it
            port = free_port()
            log = open(self.tmp / "prometheus.log", "wb")
            proc = subprocess.Popen([shutil.which("prometheus") or "prometheus", f"--config.file={config}",
                                     f"--storage.tsdb.path={self.tmp / 'data'}",
                                     f"--web.listen-address=127.0.0.1:{port}"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.procs.append(proc)
            base = f"http://127.0.0.1:{port}"
            if self._wait_ready(proc, base):
                return base
            stop(proc)
        pytest.fail(f"Prometheus did not start: {self._tail('prometheus.log')}")

    def _wait_ready(self, proc: subprocess.Popen, base: str) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return True
            time.sleep(0.2)
        return False

    def _tail(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.tmp / name).read_text(errors="replace")[-3000:]
        return ""

    def close(self) -> None:
        if not self.procs:
            return
        engine = self.procs[0]
        with contextlib.suppress(OSError):
            engine.stdin.close()   # the engine exits when its stdin closes
        with contextlib.suppress(subprocess.TimeoutExpired):
            engine.wait(10)
        for proc in reversed(self.procs):
            stop(proc)
        with contextlib.suppress(OSError):
            engine.stdout.close()

    # ---- HTTP API ---------------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; returns "data" of a success, raises AssertionError with the error."""
        url = f"{self.prom}/api/v1/{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> List[dict]:
        """An instant query's vector (raises on a query error or a non-vector result)."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", f"{expr}: {data['resultType']}"
        return data["result"]

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.engine_port}/metrics", timeout=10) as r:
            return r.read().decode()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    f = Fleet(tmp_path_factory.mktemp("fleet"))
    try:
        f.start()
        yield f
    finally:
        f.close()
