"""Finding the library, error messages naming every place tried, and the major-version check."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voicetelemetry import _loader

PKG_DIR = Path(_loader.__file__).resolve().parent
REPO = PKG_DIR.parents[1]


def test_search_order_without_env():
    places = _loader.candidates(environ={})
    assert [p for p, _ in places] == [
        "next to the package",
        "the project's build output",
        'ctypes.util.find_library("voicetelemetry")',
        "the system loader",
    ]
    assert places[0][1] == str(PKG_DIR / "libvoicetelemetry.so")
    assert places[1][1] == str(REPO / "build" / "lib" / "libvoicetelemetry.so")
    assert places[3][1] == "libvoicetelemetry.so"


def test_env_var_is_the_only_place_when_set():
    places = _loader.candidates(environ={"VOICETELEMETRY_LIB": "/x/y.so"})
    assert places == [("$VOICETELEMETRY_LIB=/x/y.so", "/x/y.so")]
    with pytest.raises(_loader.LibraryNotFoundError) as ei:
        _loader.load(environ={"VOICETELEMETRY_LIB": "/nonexistent/libvoicetelemetry.so"})
    assert "/nonexistent/libvoicetelemetry.so" in str(ei.value)
    assert "no such file" in str(ei.value)


def test_project_build_output_is_found():
    if not (REPO / "build" / "lib" / "libvoicetelemetry.so").exists():
        pytest.skip("library not built in this checkout")
    _, _, where = _loader.load(environ={})
    assert where in (str(PKG_DIR / "libvoicetelemetry.so"),
                     str(REPO / "build" / "lib" / "libvoicetelemetry.so"))


def test_not_found_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setattr(_loader.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    fake_pkg = tmp_path / "site" / "pkg" / "voicetelemetry"
    fake_pkg.mkdir(parents=True)
    with pytest.raises(_loader.LibraryNotFoundError) as ei:
        _loader.load(environ={}, package_dir=fake_pkg)
    msg = str(ei.value)
    for place, _ in _loader.candidates(environ={}, package_dir=fake_pkg):
        assert place in msg
    assert str(fake_pkg / "libvoicetelemetry.so") in msg
    assert "VOICETELEMETRY_LIB" in msg and "make lib" in msg
    # an installed package (not inside a checkout) lists no "build output" beside site-packages
    assert "build output" not in msg and "site/build" not in msg
    assert len(ei.value.tried) == 3
    assert isinstance(ei.value, OSError)


def test_import_error_message_in_fresh_process(tmp_path):
    env = dict(os.environ, VOICETELEMETRY_LIB=str(tmp_path / "missing.so"))
    r = subprocess.run([sys.executable, "-c", "import voicetelemetry"], cwd=str(PKG_DIR.parent),
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "LibraryNotFoundError" in r.stderr and "missing.so" in r.stderr


def _build_fake(tmp_path: Path, number: int, name: str) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / f"{name}.c"
    src.write_text(f"#include <stdint.h>\nuint32_t vt_version_number(void) {{ return {number}u; }}\n")
    out = tmp_path / f"lib{name}.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


def test_major_version_mismatch(tmp_path):
    fake = _build_fake(tmp_path, 2_001_000, "vt2")
    with pytest.raises(_loader.LibraryVersionError) as ei:
        _loader.load(path=str(fake))
    msg = str(ei.value)
    assert "2.1.0" in msg and "major version 1" in msg and str(fake) in msg


def test_not_voicetelemetry(tmp_path):
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "other.c"
    src.write_text("int something_else(void) { return 0; }\n")
    out = tmp_path / "libother.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    with pytest.raises(_loader.LibraryNotFoundError, match="not libvoicetelemetry"):
        _loader.load(path=str(out))
    (tmp_path / "garbage.so").write_text("not an ELF file")
    with pytest.raises(_loader.LibraryNotFoundError, match="garbage.so"):
        _loader.load(path=str(tmp_path / "garbage.so"))
