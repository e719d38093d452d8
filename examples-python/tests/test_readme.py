"""The README's Python blocks run as written and print what they say (``# -> `` lines).

Each block runs in a fresh namespace from the repository root, as a reader would paste it there.
The sink plugin block uses ``build/plugins/jsonl_sink.so``; when the tests run against a plugin
built elsewhere (see conftest), that path is replaced by the one the tests use.
"""
from __future__ import annotations

import contextlib
import gc
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
REPO = README.parents[1]
SINK_IN_README = "build/plugins/jsonl_sink.so"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def promised(code: str):
    """The printed lines a block promises: the text after each ``# -> ``."""
    return [c.split("# -> ", 1)[1].strip() for c in code.splitlines() if "# -> " in c]


def run_block(code: str, monkeypatch) -> list:
    monkeypatch.chdir(REPO)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    lines = out.getvalue().splitlines()
    for want in promised(code):
        assert want in lines, f"README promises {want!r}; printed {lines[:5]}"
    return lines


def test_readme_has_blocks():
    blocks = python_blocks()
    assert len(blocks) >= 2, "README lost a python block"
    assert all(promised(b) for b in blocks), "every python block promises some output"


def test_readme_quick_start_runs(monkeypatch):
    (quick,) = [b for b in python_blocks() if "vt.prom_text()" in b and "load_plugin" not in b]
    lines = run_block(quick, monkeypatch)
    assert any(line.startswith("error -2 ") for line in lines)
    assert any("demo_tool_calls_total" in line for line in lines)


def test_readme_plugin_block_runs(monkeypatch, jsonl_sink_so):
    import voicetelemetry as vt

    (block,) = [b for b in python_blocks() if "load_plugin" in b]
    assert SINK_IN_README in block
    block = block.replace(SINK_IN_README, str(jsonl_sink_so))
    gc.collect()  # sessions other tests dropped end now, not into the README's sink
    assert vt.list_plugins() == []
    run_block(block, monkeypatch)
    assert vt.list_plugins() == []  # the block unloads what it loads
