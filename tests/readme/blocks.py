"""The fenced blocks of a Markdown file and the readme-test notes written above them.

A note is an HTML comment on its own line(s) right above a block's opening fence (blank lines may
separate them; any other text in between drops it):

    <!-- readme-test: KEY ARGS -- reason -->

ARGS are split like a shell line. The keys (run_blocks.py acts on them):

    skip -- REASON            not run; the reason is required and printed
    checked-by PATH -- REASON another test runs or checks this block; PATH must exist and either
                              hold every line of the block or read the README it is in
    output                    a block without language: exactly what the last run block printed on
                              stdout (a "…" in a line matches any text)
    save PATH                 the block is also written to PATH (from the clone's root)
    stdout-has TEXT...        the block's stdout contains each TEXT
    serve URL                 an sh block that runs until Ctrl-C: it is started, URL must answer
                              200, then its process group gets SIGINT
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

NOTE = re.compile(r"^\s*<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,})([\w+-]*)\s*$")
KEYS = {"skip", "checked-by", "output", "save", "stdout-has", "serve"}
NEEDS_REASON = {"skip", "checked-by"}


@dataclass
class Note:
    key: str
    args: List[str]
    reason: str


@dataclass
class Block:
    readme: Path
    name: str                 # the README's path as printed
    line: int                 # of the opening fence, 1-based
    lang: str                 # "" for a block without language
    text: str
    notes: Dict[str, Note] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.name}:{self.line}"

    def note(self, key: str) -> Optional[Note]:
        return self.notes.get(key)


def parse_note(body: str, where: str) -> Note:
    spec, _, reason = body.partition(" -- ")
    words = shlex.split(spec)
    if not words or words[0] not in KEYS:
        raise ValueError(f"{where}: unknown readme-test note {body!r} (keys: {', '.join(sorted(KEYS))})")
    if words[0] in NEEDS_REASON and not reason.strip():
        raise ValueError(f"{where}: readme-test {words[0]} needs a reason after ' -- '")
    return Note(words[0], words[1:], reason.strip())


def read_block(lines: List[str], start: int, indent: str, ticks: str) -> Tuple[str, int]:
    """The text of the block whose fence opens at lines[start]; and the index after its close."""
    body = []
    for i in range(start + 1, len(lines)):
        m = FENCE.match(lines[i])
        if m and not m.group(3) and len(m.group(2)) >= len(ticks):
            return "\n".join(body) + "\n", i + 1
        line = lines[i]
        body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
    raise ValueError(f"line {start + 1}: the block is never closed")


def parse(readme: Path, name: str = "") -> List[Block]:
    lines = readme.read_text(encoding="utf-8").splitlines()
    blocks: List[Block] = []
    pending: Dict[str, Note] = {}
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        note = NOTE.match(lines[i])
        if note:
            n = parse_note(note.group(1), f"{readme.name}:{i + 1}")
            pending[n.key] = n
        elif m:
            text, after = read_block(lines, i, m.group(1), m.group(2))
            blocks.append(Block(readme, name or readme.name, i + 1, m.group(3), text, pending))
            pending, i = {}, after
            continue
        elif lines[i].strip():
            pending = {}
        i += 1
    return blocks


def output_matches(shown: str, printed: str) -> Optional[str]:
    """None when `printed` is exactly the lines of `shown` ("…" matches any text in a line),
    else what differs."""
    want = [l.rstrip() for l in shown.strip("\n").splitlines()]
    got = [l.rstrip() for l in printed.strip("\n").splitlines()]
    if len(want) != len(got):
        return f"{len(want)} lines shown, {len(got)} printed"
    for n, (w, g) in enumerate(zip(want, got), 1):
        pattern = ".*".join(re.escape(part) for part in w.split("\u2026"))
        if not re.fullmatch(pattern, g):
            return f"line {n}: shown {w!r}, printed {g!r}"
    return None
