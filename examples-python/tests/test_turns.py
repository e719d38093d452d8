"""The turn collector through the Python API: every scenario of tests/scenarios/turns (the files the
C runner tests/c/test_turns.c replays, with the same commands and the same `expect` semantics), the
error paths of every turn method, the text policy, the buffer contract and the history ring.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import voicetelemetry as vt
from voicetelemetry import _raw as R
from voicetelemetry import _util
from turn_scenario import config_session, turn_step
from voicetelemetry import (
    FallbackKind,
    ToolKind,
    TurnMark,
    TurnQuality,
    TurnStage,
    TurnTextKind,
    TurnValueKey,
)

REPO = Path(__file__).resolve().parents[2]
TURNS_DIR = REPO / "tests" / "scenarios" / "turns"
SCENARIOS = sorted(p for p in TURNS_DIR.glob("*.txt") if not p.name.startswith("README"))

S, M = TurnStage, TurnMark


# ---- scenario replay (the format of tests/scenarios/turns/README.txt) ---------------------------


def _step(s: Optional[vt.Session], line: str) -> Optional[vt.Session]:
    """Apply one command line to the session (creating it for `config`); returns the session."""
    if line.startswith("config "):
        return config_session(line)
    assert s is not None, "a command before `config`"
    turn_step(s, line)
    return s


_SOURCES: Dict[str, Callable[[vt.Session], str]] = {
    "last": lambda s: s.last_turn_json(),
    "history": lambda s: s.turn_history_json(0),
    "snapshot": lambda s: s.snapshot_json(),
    "prom": lambda s: vt.prom_text(),
}


def replay(path: Path) -> List[str]:
    """Replay a scenario; returns the failures (every command must succeed, every `expect`
    substring must be in the named text), each naming the file and line, as the C runner does."""
    failures: List[str] = []
    s: Optional[vt.Session] = None
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().split("\n")
    for lineno, line in enumerate(lines, 1):
        if not line or line[0] == "#":
            continue
        where = f"{path.name}:{lineno}: {line}"
        if line.startswith("expect "):
            source = line.split()[1]
            needle = line[len("expect ") + len(source) + 1:]
            if source not in _SOURCES or s is None:
                failures.append(f"{where}\n    bad expect source or no session")
                continue
            text = _SOURCES[source](s)
            if needle not in text:
                failures.append(f"{where}\n    got: {text[:600]}")
            continue
        try:
            s = _step(s, line)
        except (vt.VoiceTelemetryError, AssertionError, ValueError, IndexError) as exc:
            failures.append(f"{where} -> {exc!r}")
    if s is not None:
        s.end()
    return failures


def test_scenario_files_found():
    # The C runner globs the same folder (sorted, README left out): both replay every file.
    assert len(SCENARIOS) >= 10, SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path):
    failures = replay(path)
    assert not failures, "\n".join(failures)


def test_replay_reports_a_wrong_expectation(tmp_path):
    """The runner itself fails on a wrong value and on a failing command (no vacuous passes)."""
    bad = tmp_path / "bad.txt"
    bad.write_text("config bad-1 pyt-bad redact 0 0\n"
                   "mark user_speech start 1000000000\n"
                   "mark user_speech first 1000000000\n"
                   "expect last \"turn_id\":1\n")
    failures = replay(bad)
    assert len(failures) == 2
    assert "InvalidArgumentError" in failures[0] and "bad.txt:3" in failures[0]
    assert "bad.txt:4" in failures[1] and "got: null" in failures[1]


# ---- helpers --------------------------------------------------------------------------------

SEC = 1_000_000_000


def simple_turn(s: vt.Session, t0: int, extra: int = 0) -> None:
    """One minimal turn with e2e latency 100 ms + extra ns (as simple_turn in test_turns.c)."""
    s.turn_mark(S.USER_SPEECH, M.START, t0)
    s.turn_mark(S.USER_SPEECH, M.END, t0 + 1_000_000)
    s.turn_mark(S.AGENT_SPEECH, M.START, t0 + 101_000_000 + extra)
    s.turn_mark(S.AGENT_SPEECH, M.END, t0 + 200_000_000 + extra)


# ---- enums ----------------------------------------------------------------------------------


def test_enums_mirror_the_header():
    pairs = [(TurnStage, "VT_STAGE_"), (TurnMark, "VT_MARK_"), (TurnValueKey, "VT_TV_"),
             (TurnTextKind, "VT_TT_"), (FallbackKind, "VT_FALLBACK_"), (ToolKind, "VT_TOOL_"),
             (TurnQuality, "VT_TQ_"), (vt.TextPolicy, "VT_TEXT_")]
    for cls, prefix in pairs:
        raw = {k[len(prefix):]: v for k, v in vars(R).items()
               if k.startswith(prefix) and isinstance(v, int)}
        assert {m.name: m.value for m in cls} == raw, cls
    assert TurnQuality(9) == TurnQuality.NO_VAD | TurnQuality.OUT_OF_ORDER


def test_quality_flags_of_a_record():
    with vt.Session() as s:
        s.turn_mark(S.STT, M.FINAL, 2 * SEC)
        s.turn_mark(S.AGENT_SPEECH, M.START, 2 * SEC + 500)
        s.turn_mark(S.AGENT_SPEECH, M.END, 3 * SEC)
        rec = s.last_turn()
    assert rec is not None
    flags = TurnQuality(rec["quality_flags"])
    assert TurnQuality.NO_VAD in flags
    assert rec["quality"] == [f.name.lower() for f in TurnQuality if f in flags]


# ---- the methods, happy path -------------------------------------------------------------------


def test_every_method_lands_in_the_record():
    with vt.Session(session_id="py-all", text_policy=vt.TextPolicy.INCLUDE) as s:
        assert s.last_turn() is None and s.last_turn_json() == "null"
        assert s.turn_history() == [] and s.turn_history_json() == "[]"
        s.turn_provider(S.STT, "deepgram", "nova-3", SEC)
        s.turn_provider(S.LLM, b"openai")  # bytes are UTF-8; model None; t_ns 0 = now
        s.turn_mark(S.USER_SPEECH, M.START, SEC)
        s.turn_mark(S.USER_SPEECH, M.END, 2 * SEC)
        s.turn_mark(S.STT, M.FINAL, 2 * SEC + 100)
        s.turn_value(TurnValueKey.STT_CONFIDENCE, 0.25, 2 * SEC + 100)
        s.turn_value(TurnValueKey.TTS_CHARACTERS, 7, 2 * SEC + 100)
        s.turn_value(TurnValueKey.TTS_CHARACTERS, 5, 2 * SEC + 100)  # adds
        s.turn_text(TurnTextKind.USER_TRANSCRIPT, "héllo", 2 * SEC + 100)
        s.turn_text(TurnTextKind.AGENT_RESPONSE, b"first", 2 * SEC + 100)
        s.turn_text(TurnTextKind.AGENT_RESPONSE, "second", 2 * SEC + 100)  # replaces
        s.turn_mark(S.LLM, M.START, 2 * SEC + 100)
        s.turn_usage(S.LLM, input=10, output=4, t_ns=2 * SEC + 200)
        s.turn_usage(S.LLM, input=1, reasoning=2)  # adds
        s.turn_error(S.TTS, 2 * SEC + 300)
        s.turn_fallback(S.TTS, FallbackKind.SWITCH, "a", "b", "timeout", 2 * SEC + 300)
        s.turn_fallback(S.TTS, FallbackKind.RECOVERY, "b", "a", None, 2 * SEC + 400)
        s.turn_tool_call(ToolKind.FUNCTION, "lookup", 2 * SEC + 400, 2 * SEC + 900)
        s.turn_tool_call(ToolKind.MCP, "search", 2 * SEC + 900, 2 * SEC + 950, ok=False)
        s.turn_mark(S.LLM, M.FIRST, 2 * SEC + 1000)
        s.turn_mark(S.AGENT_SPEECH, M.START, 2 * SEC + 2000)
        s.turn_mark(S.AGENT_SPEECH, M.END, 3 * SEC)
        rec = s.last_turn()
        assert rec is not None
        assert json.loads(s.last_turn_json()) == rec
        assert s.turn_history() == [rec]
    assert rec["session_id"] == "py-all" and rec["turn_id"] == 1
    assert rec["e2e_latency_ns"] == 2000
    assert sum(rec["e2e_breakdown_ns"].values()) == rec["e2e_latency_ns"]
    assert rec["stt"]["provider"] == "deepgram" and rec["stt"]["model"] == "nova-3"
    assert rec["stt"]["confidence"] == 0.25
    assert rec["llm"]["provider"] == "openai" and rec["llm"]["model"] is None
    assert rec["tts"]["provider"] == "a"  # the recovery switched it back
    assert rec["playback"]["tts_characters_generated"] == 12
    assert rec["texts"]["user_transcript"] == {"chars": 5, "redacted": False, "truncated": False,
                                               "text": "héllo"}
    assert rec["texts"]["agent_response"]["text"] == "second"
    assert rec["tokens"]["input"] == 11 and rec["tokens"]["output"] == 4
    assert rec["tokens"]["reasoning"] == 2 and rec["tokens"]["cached_input"] is None
    assert rec["errors"] == {"tts": 1}
    assert [f["kind"] for f in rec["fallbacks"]] == ["switch", "recovery"]
    assert rec["fallbacks"][0]["reason"] == "timeout" and rec["fallbacks"][1]["reason"] is None
    assert [(t["name"], t["kind"], t["ok"], t["duration_ns"]) for t in rec["tool_calls"]] == \
        [("lookup", "function", True, 500), ("search", "mcp", False, 50)]


def test_pending_audio_batch_is_flushed_before_turn_calls():
    """Turn calls keep call order with AudioBatch events (the first audio is the agent's start)."""
    with vt.Session() as s:
        s.record_vad_start(1 * SEC)
        s.record_vad_end(2 * SEC)
        batch = s.audio_batch(capacity=64)
        batch.append(640, 2 * SEC + 300_000_000)
        batch.append(640, 2 * SEC + 320_000_000)
        assert len(batch) == 2
        s.turn_mark(S.AGENT_SPEECH, M.END, 3 * SEC)
        assert len(batch) == 0
        rec = s.last_turn()
    assert rec is not None
    assert rec["e2e_latency_ns"] == 300_000_000
    assert rec["playback"]["audio_bytes_sent"] == 1280


def test_session_end_completes_the_open_turn():
    key = 'voicetelemetry_turn_outcomes_total{outcome="completed",transport="pyt-end"} '

    def count() -> float:
        text = vt.prom_text()
        i = text.find(key)
        return float(text[i + len(key):].split("\n", 1)[0]) if i >= 0 else 0.0

    before = count()
    s = vt.Session(labels={"transport": "pyt-end"})
    s.turn_mark(S.USER_SPEECH, M.START, SEC)
    s.turn_mark(S.USER_SPEECH, M.END, 2 * SEC)
    s.turn_mark(S.AGENT_SPEECH, M.START, 2 * SEC + 500_000_000)
    s.end()
    assert count() == before + 1


# ---- error paths -------------------------------------------------------------------------------


def _raises(exc_type, fn, *args, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err, vt.VoiceTelemetryError)
    assert err.code == exc_type.CODE and err.message
    return err


INV = vt.InvalidArgumentError


def test_mark_errors(session):
    # Library answers: unknown stage or mark, a pair the stage does not have.
    for stage, mark in ((0, M.START), (99, M.START), (S.USER_SPEECH, M.FIRST), (S.STT, M.END),
                        (S.TOOL, M.START), (S.LLM, 0), (S.LLM, 99), (2**32 - 1, M.START)):
        _raises(INV, session.turn_mark, stage, mark, 1)
    err = _raises(INV, session.turn_mark, S.USER_SPEECH, M.FIRST, 1)
    assert "mark" in err.message
    # Binding checks: what a uint32/uint64 cannot hold is refused, never wrapped (2**32 + 4
    # would otherwise become the valid stage 4).
    for args in ((-1, M.START, 1), (2**32 + S.LLM, M.START, 1), (S.LLM, M.START, -1),
                 (S.LLM, M.START, 2**64), ("llm", M.START, 1), (4.0, M.START, 1),
                 (None, M.START, 1), (S.LLM, M.START, 1.5)):
        _raises(INV, session.turn_mark, *args)
    assert session.last_turn() is None  # nothing was recorded by the failures


def test_value_errors(session):
    V = TurnValueKey
    for key, value in ((0, 1), (10, 1), (V.STT_CONFIDENCE, 1.5), (V.STT_CONFIDENCE, -0.1),
                       (V.EOU_PROBABILITY, 2), (V.EOU_WAIT_SECONDS, 1e7),
                       (V.TTS_CHARACTERS, 1.5), (V.TTS_CHARACTERS, 1e300),
                       (V.TTS_CHARACTERS, 2.0**40), (V.TTS_CHARACTERS, math.nan),
                       (V.STT_AUDIO_SECONDS, math.inf)):
        _raises(INV, session.turn_value, key, value, 1)
    for args in ((V.STT_CONFIDENCE, "0.5", 1), (V.STT_CONFIDENCE, None, 1), (-1, 0.5, 1),
                 (V.STT_CONFIDENCE, 0.5, -1), (V.TTS_CHARACTERS, 10**400, 1)):
        _raises(INV, session.turn_value, *args)
    session.turn_value(V.STT_CONFIDENCE, 1, 1)  # ints are numbers; 1 is in range
    session.turn_value(V.TTS_CHARACTERS, 2**34, 1)
    session.turn_value(V.EOU_WAIT_SECONDS, 1e6, 1)


def test_large_valid_counts_do_not_crash():
    """Run in a child process: the trap kills the interpreter, not just the call."""
    code = (
        "import voicetelemetry as vt\n"
        "with vt.Session() as s:\n"
        "    for key in (5, 6, 7, 9):\n"
        "        s.turn_value(key, 2.0**40 - 1, 1)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "examples-python"),
               VOICETELEMETRY_LIB=os.path.abspath(vt.LIBRARY_PATH))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", \
        f"child exited with {proc.returncode}: {proc.stderr[-300:]}"


def test_text_errors(session):
    K = TurnTextKind
    _raises(INV, session.turn_text, 0, "x", 1)
    _raises(INV, session.turn_text, 4, "x", 1)
    _raises(INV, session.turn_text, K.USER_TRANSCRIPT, None, 1)  # NULL: the library refuses
    # Invalid UTF-8 reaches the library, which refuses it with its own message.
    for bad in (b"bad \xc3\x28 utf8", b"\xed\xa0\x80", b"\xe0\x80\xaf", b"\xff", "lone \ud800"):
        err = _raises(INV, session.turn_text, K.USER_TRANSCRIPT, bad, 1)
        assert "UTF-8" in err.message or "utf" in err.message.lower(), err.message
    # An embedded NUL would truncate the C string: the binding refuses it.
    err = _raises(INV, session.turn_text, K.USER_TRANSCRIPT, "a\x00b", 1)
    assert "NUL" in err.message
    _raises(INV, session.turn_text, K.USER_TRANSCRIPT, b"a\x00b", 1)
    _raises(INV, session.turn_text, K.USER_TRANSCRIPT, 123, 1)
    _raises(INV, session.turn_text, K.USER_TRANSCRIPT, "x", -1)
    _raises(INV, session.turn_text, K.USER_TRANSCRIPT, "x" * ((1 << 20) + 1), 1)  # over 1 MiB
    session.turn_text(K.USER_TRANSCRIPT, "x" * (1 << 20), 1)  # exactly 1 MiB is fine
    session.turn_text(K.USER_TRANSCRIPT, "", 1)


def test_usage_errors(session):
    _raises(INV, session.turn_usage, S.EOU, input=1)
    _raises(INV, session.turn_usage, 0, input=1)
    _raises(INV, session.turn_usage, S.LLM, input=1 << 41)  # library: below 2**40
    _raises(INV, session.turn_usage, S.LLM, output_audio=1 << 40)
    _raises(INV, session.turn_usage, S.LLM, input=-1)  # binding: None means "not reported"
    _raises(INV, session.turn_usage, S.LLM, input=1 << 63)
    _raises(INV, session.turn_usage, S.LLM, input=1.0)
    _raises(INV, session.turn_usage, S.LLM, input=True)
    _raises(INV, session.turn_usage, -1, input=1)
    _raises(INV, session.turn_usage, S.LLM, input=1, t_ns=-5)
    with pytest.raises(TypeError):
        session.turn_usage(S.LLM, prompt=1)  # not a vt_token_usage field
    for stage in (S.LLM, S.REALTIME, S.STT, S.TTS):
        session.turn_usage(stage, input=1)
    session.turn_usage(S.LLM)  # nothing reported is fine


def test_usage_raw_struct_size():
    with vt.Session() as s:
        u = R.vt_token_usage()
        u.struct_size = 4  # does not cover `input`
        assert R.vt_turn_usage(s.handle, S.LLM, u, 1) == R.VT_E_INVALID_ARG
        assert R.vt_turn_usage(s.handle, S.LLM, None, 1) == R.VT_E_INVALID_ARG
        u.struct_size = R.vt_token_usage.output.offset  # covers only `input`: the rest unreported
        u.input, u.output = 5, 99
        assert R.vt_turn_usage(s.handle, S.LLM, u, 1) == R.VT_OK
        simple_turn(s, SEC)
        rec = s.last_turn()
    assert rec is not None and rec["tokens"]["input"] == 5 and rec["tokens"]["output"] is None


def test_error_errors(session):
    _raises(INV, session.turn_error, 0, 1)
    _raises(INV, session.turn_error, max(TurnStage) + 1, 1)  # the first unknown source
    _raises(INV, session.turn_error, -1, 1)
    _raises(INV, session.turn_error, "llm", 1)
    for stage in TurnStage:
        session.turn_error(stage, 1)


def test_provider_errors(session):
    _raises(INV, session.turn_provider, S.AGENT_SPEECH, "p")
    _raises(INV, session.turn_provider, S.TOOL, "p")
    _raises(INV, session.turn_provider, S.LLM, None)
    _raises(INV, session.turn_provider, S.LLM, "")
    _raises(INV, session.turn_provider, S.LLM, "p", b"\xff")
    _raises(INV, session.turn_provider, S.LLM, "p", "lone \udc80")
    _raises(INV, session.turn_provider, S.LLM, "a" * (R.VT_TURN_MAX_NAME_BYTES + 1))
    _raises(INV, session.turn_provider, S.LLM, "p", "m" * (R.VT_TURN_MAX_NAME_BYTES + 1))
    _raises(INV, session.turn_provider, S.LLM, "p\x00q")
    _raises(INV, session.turn_provider, 2**32 + S.LLM, "p")
    _raises(INV, session.turn_provider, S.LLM, 42)
    session.turn_provider(S.LLM, "a" * R.VT_TURN_MAX_NAME_BYTES, "")  # "" = no model
    for stage in (S.STT, S.EOU, S.LLM, S.TTS, S.REALTIME):
        session.turn_provider(stage, "p", "m", 1)


def test_fallback_errors(session):
    F = FallbackKind
    _raises(INV, session.turn_fallback, S.LLM, 3, "a", "b")
    _raises(INV, session.turn_fallback, S.LLM, 0, "a", "b")
    _raises(INV, session.turn_fallback, 0, F.SWITCH, "a", "b")
    _raises(INV, session.turn_fallback, S.LLM, F.SWITCH, None, "b")
    _raises(INV, session.turn_fallback, S.LLM, F.SWITCH, "a", "")
    _raises(INV, session.turn_fallback, S.LLM, F.SWITCH, "a", b"\xc3")
    _raises(INV, session.turn_fallback, S.LLM, F.SWITCH, "a", "b", "r" * 129)
    _raises(INV, session.turn_fallback, S.LLM, F.SWITCH, "a", "b", "x\x00")
    _raises(INV, session.turn_fallback, S.LLM, -F.SWITCH, "a", "b")
    session.turn_fallback(S.LLM, F.SWITCH, "a", "b", "", 1)  # "" = no reason


def test_tool_call_errors(session):
    T = ToolKind
    _raises(INV, session.turn_tool_call, 0, "t", 1, 2)
    _raises(INV, session.turn_tool_call, 3, "t", 1, 2)
    _raises(INV, session.turn_tool_call, T.MCP, None, 1, 2)
    _raises(INV, session.turn_tool_call, T.MCP, "", 1, 2)
    _raises(INV, session.turn_tool_call, T.MCP, "t" * 129, 1, 2)
    err = _raises(INV, session.turn_tool_call, T.MCP, "t", 1, 2, ok=2)
    assert "ok is 2" in err.message  # the library's own message
    _raises(INV, session.turn_tool_call, T.MCP, "t", 1, 2, ok=-1)
    _raises(INV, session.turn_tool_call, T.MCP, "t", 1, 2, ok=2**40)  # not an int32: binding
    _raises(INV, session.turn_tool_call, T.MCP, "t", 1, 2, ok="yes")
    _raises(INV, session.turn_tool_call, T.MCP, "t", -1, 2)
    session.turn_tool_call(T.MCP, "t", 5, 2, ok=1)  # end before start: recorded, flagged
    session.turn_tool_call(T.FUNCTION, "t")  # both times "now"


def _turn_with_backwards_tool_call() -> Dict:
    with vt.Session() as s:
        s.turn_mark(S.USER_SPEECH, M.START, SEC)
        s.turn_tool_call(ToolKind.FUNCTION, "t", 2 * SEC, SEC, ok=True)
        s.turn_mark(S.USER_SPEECH, M.END, SEC + 1_000_000)
        s.turn_mark(S.AGENT_SPEECH, M.START, SEC + 101_000_000)
        s.turn_mark(S.AGENT_SPEECH, M.END, 3 * SEC)
        rec = s.last_turn()
    assert rec is not None
    return rec


def test_tool_call_end_before_start_has_no_duration():
    rec = _turn_with_backwards_tool_call()
    assert rec["tool_calls"][0]["start_ns"] == 2 * SEC
    assert rec["tool_calls"][0]["duration_ns"] is None  # never clamped


def test_tool_call_end_before_start_is_flagged():
    rec = _turn_with_backwards_tool_call()
    assert TurnQuality.OUT_OF_ORDER in TurnQuality(rec["quality_flags"])


def test_ended_and_made_up_handles():
    s = vt.Session()
    simple_turn(s, SEC)
    s.end()
    B = vt.BadHandleError
    calls = [
        lambda: s.turn_mark(S.LLM, M.START, 1),
        lambda: s.turn_value(TurnValueKey.TTS_CHARACTERS, 1, 1),
        lambda: s.turn_text(TurnTextKind.USER_TRANSCRIPT, "x", 1),
        lambda: s.turn_usage(S.LLM, input=1),
        lambda: s.turn_error(S.LLM, 1),
        lambda: s.turn_provider(S.LLM, "p"),
        lambda: s.turn_fallback(S.LLM, FallbackKind.SWITCH, "a", "b"),
        lambda: s.turn_tool_call(ToolKind.FUNCTION, "t", 1, 2),
        s.last_turn,
        s.last_turn_json,
        s.turn_history,
        lambda: s.turn_history(3),
    ]
    for call in calls:
        _raises(B, call)
    # The raw calls on a made-up handle give the same status.
    n = ctypes.c_size_t(0)
    assert R.vt_turn_mark(0, S.LLM, M.START, 1) == R.VT_E_BAD_HANDLE
    assert R.vt_turn_last_json(s.handle + 1, None, 0, ctypes.byref(n)) == R.VT_E_BAD_HANDLE
    assert R.vt_turn_history_json(12345, 0, None, 0, ctypes.byref(n)) == R.VT_E_BAD_HANDLE


# ---- buffer contract ---------------------------------------------------------------------------


def test_raw_buffer_contract():
    with vt.Session() as s:
        n = ctypes.c_size_t(0)
        buf = ctypes.create_string_buffer(8)
        assert R.vt_turn_last_json(s.handle, buf, 8, None) == R.VT_E_INVALID_ARG
        assert R.vt_turn_last_json(s.handle, None, 5, ctypes.byref(n)) == R.VT_E_INVALID_ARG
        assert R.vt_turn_last_json(s.handle, buf, 8, ctypes.byref(n)) == R.VT_OK
        assert buf.value == b"null" and n.value == 4
        assert R.vt_turn_history_json(s.handle, 0, buf, 8, ctypes.byref(n)) == R.VT_OK
        assert buf.value == b"[]" and n.value == 2
        simple_turn(s, SEC)
        assert R.vt_turn_last_json(s.handle, buf, 8, ctypes.byref(n)) == R.VT_E_BUFFER_TOO_SMALL
        need = n.value
        assert need > 100
        small = ctypes.create_string_buffer(need)  # no room for the NUL
        assert R.vt_turn_last_json(s.handle, small, need, ctypes.byref(n)) == \
            R.VT_E_BUFFER_TOO_SMALL
        big = ctypes.create_string_buffer(need + 1)
        assert R.vt_turn_last_json(s.handle, big, need + 1, ctypes.byref(n)) == R.VT_OK
        assert n.value == need and len(big.value) == need
        assert json.loads(big.value)["turn_id"] == 1


def test_readers_grow_the_buffer_and_retry():
    with vt.Session(text_policy=vt.TextPolicy.INCLUDE, max_text_chars=4096, turn_history=8) as s:
        for i in range(8):
            s.turn_text(TurnTextKind.AGENT_RESPONSE, "é" * 4000, (i + 1) * SEC)
            simple_turn(s, (i + 1) * SEC, i)
        _util.set_buffer_size(16)  # every read starts too small
        rec = s.last_turn()
        assert rec is not None and rec["turn_id"] == 8
        _util.set_buffer_size(16)
        hist = s.turn_history()
        # 8 texts of 4000 two-byte characters: beyond the default 16 KiB buffer as well.
        assert len(s.turn_history_json()) > _util.INITIAL_BUFFER_BYTES
        assert [t["turn_id"] for t in hist] == list(range(1, 9))
        assert all(t["texts"]["agent_response"]["text"] == "é" * 4000 for t in hist)


def test_readers_from_many_threads_while_recording():
    with vt.Session(turn_history=8) as s:
        stop = threading.Event()
        errors: List[BaseException] = []

        def reader() -> None:
            try:
                while not stop.is_set():
                    assert isinstance(s.turn_history(), list)
                    s.last_turn()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            for i in range(300):
                simple_turn(s, (i + 1) * SEC, i)
        finally:
            stop.set()
            for t in readers:
                t.join()
        assert not errors, errors
        assert [t["turn_id"] for t in s.turn_history()] == list(range(293, 301))


# ---- text policy ------------------------------------------------------------------------------


def test_texts_are_redacted_by_default():
    with vt.Session() as s:
        s.turn_text(TurnTextKind.USER_TRANSCRIPT, "secret words", SEC)
        simple_turn(s, SEC)
        raw = s.last_turn_json()
        rec = s.last_turn()
    assert "secret" not in raw
    assert rec is not None
    assert rec["texts"]["user_transcript"] == {"chars": 12, "redacted": True, "truncated": False}
    assert rec["texts"]["agent_response"] is None


def test_texts_included_and_truncated_on_character_boundary():
    with vt.Session(text_policy=vt.TextPolicy.INCLUDE, max_text_chars=5) as s:
        s.turn_text(TurnTextKind.AGENT_RESPONSE, 'héllo "world"\n', SEC)
        s.turn_text(TurnTextKind.STT_PREFLIGHT, 'a"b\\c', SEC)
        s.turn_text(TurnTextKind.USER_TRANSCRIPT, "日本語テキスト🙂", SEC)
        simple_turn(s, SEC)
        rec = s.last_turn()
        raw = s.last_turn_json()
    assert rec is not None
    texts = rec["texts"]
    assert texts["agent_response"] == {"chars": 14, "redacted": False, "truncated": True,
                                       "text": "héllo"}
    assert texts["stt_preflight"] == {"chars": 5, "redacted": False, "truncated": False,
                                      "text": 'a"b\\c'}
    assert texts["user_transcript"] == {"chars": 8, "redacted": False, "truncated": True,
                                        "text": "日本語テキ"}
    assert '"text":"h\u00e9llo"' in raw or '"text":"héllo"' in raw


def test_include_default_and_hard_text_limits():
    with vt.Session(text_policy=vt.TextPolicy.INCLUDE) as s:  # max_text_chars 0 = 200
        s.turn_text(TurnTextKind.USER_TRANSCRIPT, "x" * 250, SEC)
        simple_turn(s, SEC)
        t = s.last_turn()["texts"]["user_transcript"]  # type: ignore[index]
        assert (t["chars"], t["truncated"], len(t["text"])) == (250, True,
                                                                R.VT_DEFAULT_MAX_TEXT_CHARS)
    with vt.Session(text_policy=vt.TextPolicy.INCLUDE, max_text_chars=100000) as s:
        s.turn_text(TurnTextKind.USER_TRANSCRIPT, "y" * 5000, SEC)
        simple_turn(s, SEC)
        t = s.last_turn()["texts"]["user_transcript"]  # type: ignore[index]
        assert (t["chars"], t["truncated"], len(t["text"])) == (5000, True,
                                                                R.VT_TURN_MAX_TEXT_CHARS)


def test_unknown_text_policy_is_refused():
    with pytest.raises(vt.InvalidArgumentError):
        vt.Session(text_policy=7)


# ---- history ring -------------------------------------------------------------------------------


def test_history_ring_keeps_the_configured_number():
    with vt.Session(turn_history=4) as s:
        for i in range(10):
            simple_turn(s, (i + 1) * SEC, i)
        hist = s.turn_history()
        assert [t["turn_id"] for t in hist] == [7, 8, 9, 10]  # oldest first
        assert [t["turn_id"] for t in s.turn_history(2)] == [9, 10]
        assert [t["turn_id"] for t in s.turn_history(100)] == [7, 8, 9, 10]
        assert s.turn_history(1) == [s.last_turn()]
        assert s.last_turn()["e2e_latency_ns"] == 100_000_009  # type: ignore[index]
        snap = s.snapshot()
    assert snap["turns"]["completed"] == 10
    assert snap["turns"]["window_turns"] == 4


def test_history_ring_default_and_maximum():
    with vt.Session() as s:  # 0 = VT_DEFAULT_TURN_HISTORY
        for i in range(R.VT_DEFAULT_TURN_HISTORY + 5):
            simple_turn(s, (i + 1) * SEC)
        hist = s.turn_history()
        assert len(hist) == R.VT_DEFAULT_TURN_HISTORY
        assert hist[0]["turn_id"] == 6 and hist[-1]["turn_id"] == R.VT_DEFAULT_TURN_HISTORY + 5
    with vt.Session(turn_history=R.VT_MAX_TURN_HISTORY) as s:
        for i in range(R.VT_MAX_TURN_HISTORY + 1):
            simple_turn(s, (i + 1) * SEC)
        hist = s.turn_history()
        assert len(hist) == R.VT_MAX_TURN_HISTORY and hist[0]["turn_id"] == 2
    with pytest.raises(vt.InvalidArgumentError):
        vt.Session(turn_history=R.VT_MAX_TURN_HISTORY + 1)
    with pytest.raises(vt.InvalidArgumentError):
        vt.Session(turn_history=2**32)


def test_history_argument_checks(session):
    _raises(INV, session.turn_history, -1)
    _raises(INV, session.turn_history, "all")
    assert session.turn_history(2**64 - 1) == []
