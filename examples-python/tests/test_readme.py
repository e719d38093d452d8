"""The README's Python quick start runs as written and prints what it says."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_quick_start_runs():
    blocks = python_blocks()
    assert blocks, "README has no python block"
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
        lines = out.getvalue().splitlines()
        expected = [c.split("# -> ", 1)[1].strip() for c in code.splitlines() if "# -> " in c]
        for want in expected:
            assert want in lines, f"README promises {want!r}; printed {lines[:3]}"
        assert any(line.startswith("error -2 ") for line in lines)
        assert any("demo_tool_calls_total" in line for line in lines)
