"""Shared fixtures. The library's state is process-global: use unique metric names per test."""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

PKG_ROOT = Path(__file__).resolve().parents[1]  # examples-python/
REPO = PKG_ROOT.parent
# Test the source tree even when an older copy is installed.
sys.path.insert(0, str(PKG_ROOT))

_counter = itertools.count()


@pytest.fixture
def uname(request):
    """A factory of metric names unique in this process: uname("x") -> "pytest_<test>_x_<n>"."""
    base = "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]

    def make(suffix: str = "") -> str:
        return f"pyt_{base}_{next(_counter)}{suffix}"

    return make


@pytest.fixture
def session():
    import voicetelemetry as vt

    s = vt.Session()
    yield s
    s.end()


def lib_path() -> str:
    import voicetelemetry as vt

    return os.path.abspath(vt.LIBRARY_PATH)
