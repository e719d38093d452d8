"""Imported by the integration tests: the real frameworks from PyPI (requirements-test.txt / the extras).

Outside ``make test-integrations`` a framework that is not installed skips its tests; with
VT_REQUIRE_INTEGRATIONS=1 (what mk/integrations.mk sets) it fails them.
"""
from __future__ import annotations

import importlib
import os

import pytest


def require(module: str, extra: str):
    if os.environ.get("VT_REQUIRE_INTEGRATIONS"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"pip install './examples-python[{extra}]'")
