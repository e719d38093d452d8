"""The README driver's own rules: how blocks and notes are read, how output is matched, and that a
block no rule runs fails instead of slipping by."""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_blocks  # noqa: E402
from blocks import output_matches, parse  # noqa: E402

DOC = """# t

<!-- readme-test: skip -- only words -->

```sh
exit 1
```

Text between a note and a block drops the note:
<!-- readme-test: output -->
Here.

1. indented:

   ```python
   print("x")   # -> x
   ```
<!-- readme-test: stdout-has 'a b' c -->
```
plain
```
"""


def test_blocks_notes_and_indentation(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(DOC)
    skip, py, plain = parse(readme, "t/README.md")
    assert (skip.where, skip.lang, skip.text) == ("t/README.md:5", "sh", "exit 1\n")
    assert (skip.note("skip").args, skip.note("skip").reason) == ([], "only words")
    assert (py.line, py.lang, py.notes) == (15, "python", {})  # "Here." dropped the output note
    assert py.text == 'print("x")   # -> x\n'
    assert (plain.lang, plain.note("stdout-has").args) == ("", ["a b", "c"])


@pytest.mark.parametrize("note, message", [
    ("skip", "readme-test skip needs a reason after ' -- '"),
    ("checked-by x.py", "readme-test checked-by needs a reason"),
    ("run fast", "unknown readme-test note 'run fast'"),
])
def test_a_bad_note_is_refused_with_its_line(tmp_path, note, message):
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n<!-- readme-test: {note} -->\n```sh\ntrue\n```\n")
    with pytest.raises(ValueError, match="README.md:2: " + message.replace("'", ".")):
        parse(readme)


def test_output_is_matched_line_by_line_with_ellipsis():
    assert output_matches("a 1\nb …x… end\n", "a 1\nb 22x33 end\n") is None
    assert output_matches("a 1\n", "a 1\nb\n") == "1 lines shown, 2 printed"
    assert output_matches("a 1\nb\n", "a 2\nb\n") == "line 1: shown 'a 1', printed 'a 2'"
    assert output_matches("…", "anything") is None


def session(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    (tmp_path / "logs").mkdir()
    return run_blocks.Session(tmp_path / "README.md", tmp_path, env, tmp_path / "logs")


@pytest.mark.parametrize("doc, failure", [
    ("```\nloose text\n```\n", "a block without language needs a note: output, skip or checked-by"),
    ("```rust\nfn main() {}\n```\n", "no rule runs a ```rust block"),
    ("```go\nx := 1\n```\n", "Go that is not a `package main` program needs a readme-test note"),
    ("```sh\necho hi\nfalse\necho never\n```\n", "exit status 1"),
    ("```python\nprint('a')   # -> b\n```\n", "promises the line 'b'"),
    ("```sh\necho 'a 1'\n```\n<!-- readme-test: output -->\n```\na 2\n```\n", "line 1: shown 'a 2', printed 'a 1'"),
])
def test_a_block_no_rule_runs_or_that_fails_is_a_failure(tmp_path, doc, failure):
    (tmp_path / "README.md").write_text(doc)
    s = session(tmp_path)
    with pytest.raises(run_blocks.BlockFailed) as e:
        for block in parse(tmp_path / "README.md"):
            s.run(block)
    assert failure in str(e.value)


def test_exports_carry_over_and_background_jobs_are_stopped(tmp_path):
    (tmp_path / "README.md").write_text(
        "```sh\nexport GREETING=hi\nsleep 300 &\necho $! > pid\n```\n\n"
        "```python\nimport os\nprint(os.environ['GREETING'])   # -> hi\n```\n")
    s = session(tmp_path)
    first, second = parse(tmp_path / "README.md")
    s.run(first)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the block's background job ended with the block
    assert s.run(second) == "ran (python3), 1 promised lines printed"


def test_a_block_whose_port_is_taken_fails_before_it_runs(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        (tmp_path / "README.md").write_text(f"```sh\ntouch ran\ncurl -s http://127.0.0.1:{port}/metrics\n```\n")
        (block,) = parse(tmp_path / "README.md")
        with pytest.raises(run_blocks.BlockFailed, match=f"port {port} is in use by another process"):
            session(tmp_path).run(block)
    assert not (tmp_path / "ran").exists()
