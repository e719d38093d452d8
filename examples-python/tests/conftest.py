"""Shared fixtures. The library's state is process-global: use unique metric names per test."""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
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


def _build_plugin(tmp_factory, name: str, source: Path, defines=()) -> Path:
    """Compile a plugin from ``source`` into a temporary directory (when build/ lacks it)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.skip(f"{name}.so is not built (make lib) and no C compiler is available")
    out = tmp_factory.mktemp("plugins") / f"{name}.so"
    cmd = [cc, "-std=c99", "-O2", "-fPIC", "-shared", "-fvisibility=hidden",
           f"-I{REPO / 'include'}", *defines, "-o", str(out), str(source)]
    subprocess.run(cmd, check=True)
    out.chmod(0o755)
    return out


@pytest.fixture(scope="session")
def jsonl_sink_so(tmp_path_factory) -> Path:
    """The example sink: build/plugins/jsonl_sink.so (``make lib``), or compiled from its source."""
    built = REPO / "build" / "plugins" / "jsonl_sink.so"
    if built.is_file():
        return built
    return _build_plugin(tmp_path_factory, "jsonl_sink", REPO / "examples-c" / "plugins" / "jsonl_sink.c")


@pytest.fixture(scope="session")
def hostile_so(tmp_path_factory):
    """A factory of the C suite's misbehaving plugins (tests/plugins/hostile.c), e.g. "fatal"."""
    cache = {}

    def get(variant: str) -> Path:
        if variant not in cache:
            built = REPO / "build" / "tests" / "plugins" / f"{variant}.so"
            cache[variant] = built if built.is_file() else _build_plugin(
                tmp_path_factory, variant, REPO / "tests" / "plugins" / "hostile.c",
                (f"-DHOSTILE_{variant}", f'-DHOSTILE_NAME="{variant}"'))
        return cache[variant]

    return get
