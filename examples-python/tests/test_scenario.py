"""The shared scripted scenario (tests/scenarios/scripted_call.*), played through the Python API.

The C and Go suites play the same file and compare with the same expectations, so all bindings are
held to identical numbers. Expected values are compared as parsed JSON values: numbers with ==,
strings, null and booleans exactly.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import voicetelemetry as vt
from voicetelemetry import EventKind

SCEN = Path(__file__).resolve().parents[2] / "tests" / "scenarios"

Call = Tuple[str, List[str]]


def parse_script(path: Path) -> List[Call]:
    calls: List[Call] = []
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        name, *args = line.split()
        calls.append((name, args))
    return calls


def parse_expected(path: Path) -> List[Tuple[str, Any]]:
    out: List[Tuple[str, Any]] = []
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.split(None, 1)
        out.append((key, json.loads(value)))
    return out


def lookup(doc: Dict[str, Any], dotted: str) -> Any:
    cur: Any = doc
    for part in dotted.split("."):
        assert isinstance(cur, dict) and part in cur, f"snapshot has no {dotted!r} (at {part!r})"
        cur = cur[part]
    return cur


def open_session(args: List[str]) -> vt.Session:
    sid, *rest = args
    labels = dict(a.split("=", 1) for a in rest[:-1])
    return vt.Session(session_id=sid, labels=labels, start_t_ns=int(rest[-1]))


def usage_args(args: List[str]) -> Dict[str, Any]:
    names = ("total", "prompt", "response", "cached", "thoughts")
    return {n: (None if int(a) < 0 else int(a)) for n, a in zip(names, args)}


_SINGLE = {
    "vad_start": "record_vad_start",
    "vad_end": "record_vad_end",
    "text_send": "record_text_send",
    "text_out": "record_text_out",
    "interruption": "record_interruption",
    "turn_start": "record_turn_start",
    "turn_complete": "record_turn_complete",
}
_KIND = {
    "audio_out": EventKind.AUDIO_OUT,
    "vad_start": EventKind.VAD_START,
    "vad_end": EventKind.VAD_END,
    "text_send": EventKind.TEXT_SEND,
    "text_out": EventKind.TEXT_OUT,
    "interruption": EventKind.INTERRUPTION,
    "turn_start": EventKind.TURN_START,
    "turn_complete": EventKind.TURN_COMPLETE,
}


def play_single(calls: List[Call]) -> Dict[str, Any]:
    """One idiomatic call per script line."""
    snap = None
    s = None
    try:
        for name, args in calls:
            if name == "config":
                s = open_session(args)
            elif name == "audio_out":
                s.record_audio_out(int(args[0]), int(args[1]))
            elif name == "usage":
                s.record_usage(**usage_args(args))
            elif name == "snapshot_at":
                snap = s.snapshot(int(args[0]))
            elif name in _SINGLE:
                getattr(s, _SINGLE[name])(int(args[0]))
            else:
                raise AssertionError(f"unknown scenario call {name!r}")
    finally:
        if s is not None:
            s.end()
    assert snap is not None, "scenario has no snapshot_at"
    return snap


def play_record_batch(calls: List[Call]) -> Dict[str, Any]:
    """Every record event between usage reports goes through one Session.record_batch call."""
    snap = None
    s = None
    pending: List[vt.Event] = []

    def flush() -> None:
        if pending:
            assert s.record_batch(pending) == len(pending)
            pending.clear()

    try:
        for name, args in calls:
            if name == "config":
                s = open_session(args)
            elif name == "audio_out":
                pending.append(vt.Event(_KIND[name], int(args[0]), int(args[1])))
            elif name in _KIND:
                pending.append(vt.Event(_KIND[name], 0, int(args[0])))
            elif name == "usage":
                flush()
                s.record_usage(**usage_args(args))
            elif name == "snapshot_at":
                flush()
                snap = s.snapshot(int(args[0]))
    finally:
        if s is not None:
            s.end()
    return snap


def play_audio_batch(calls: List[Call]) -> Dict[str, Any]:
    """Audio through an AudioBatch (capacity 2, so it also auto-flushes), the rest single calls."""
    snap = None
    s = None
    try:
        for name, args in calls:
            if name == "config":
                s = open_session(args)
                batch = s.audio_batch(capacity=2)
            elif name == "audio_out":
                batch.append(int(args[0]), int(args[1]))
            elif name == "usage":
                s.record_usage(**usage_args(args))
            elif name == "snapshot_at":
                snap = s.snapshot(int(args[0]))
            else:
                getattr(s, _SINGLE[name])(int(args[0]))
    finally:
        if s is not None:
            s.end()
    return snap


CALLS = parse_script(SCEN / "scripted_call.txt")
EXPECTED = parse_expected(SCEN / "scripted_call.expected")


def test_files_parse():
    assert CALLS[0][0] == "config" and CALLS[-1][0] == "snapshot_at"
    assert len(EXPECTED) > 30


@pytest.mark.parametrize("player", [play_single, play_record_batch, play_audio_batch],
                         ids=["single-calls", "record_batch", "AudioBatch"])
def test_scripted_call(player):
    snap = player(CALLS)
    mismatches = []
    for key, want in EXPECTED:
        got = lookup(snap, key)
        same = (type(got) is type(want) or (isinstance(got, (int, float)) and
                                            isinstance(want, (int, float))
                                            and not isinstance(got, bool)
                                            and not isinstance(want, bool))) and got == want
        if not same:
            mismatches.append(f"{key}: got {got!r}, expected {want!r}")
    assert not mismatches, "\n".join(mismatches)
