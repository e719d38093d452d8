"""Integration tests: the run's header names the installed framework versions."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def pytest_report_header(config):
    found = []
    for dist in ("pipecat-ai", "livekit-agents"):
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            found.append(f"{dist} not installed")
    return "integrations: " + ", ".join(found)
