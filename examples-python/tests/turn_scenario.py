"""The call lines of the turn scenario format (tests/scenarios/turns/README.txt), applied through the
Python API: one reader for the turn and cost scenario runners (test_turns.py, test_costs.py). Names are
the binding's enum names in lower case (test_raw.py checks the enums against the header)."""
from __future__ import annotations

from typing import Optional

import voicetelemetry as vt
from voicetelemetry import (
    FallbackKind,
    ToolKind,
    TurnMark,
    TurnStage,
    TurnTextKind,
    TurnValueKey,
)


def enum_by_name(enum_cls, name: str):
    """A scenario name is the C enum name in lower case without its prefix."""
    try:
        return enum_cls[name.upper()]
    except KeyError:
        raise AssertionError(f"unknown {enum_cls.__name__} name {name!r}") from None


def _none_if_dash(v: str) -> Optional[str]:
    return None if v == "-" else v


def _usage(s: vt.Session, a: list) -> None:
    counts = [int(v) for v in a[1:10]]
    tokens = {k: (None if v < 0 else v) for k, v in zip(vt.turns.TOKEN_FIELDS, counts)}
    s.turn_usage(enum_by_name(TurnStage, a[0]), t_ns=int(a[10]), **tokens)


def config_session(line: str) -> vt.Session:
    """The session of a `config <session_id> <transport> <redact|include> <max_text_chars>
    <turn_history>` line, started at 1000 ns."""
    sid, transport, policy, max_chars, history = line.split()[1:6]
    return vt.Session(session_id=sid, labels={"transport": transport}, start_t_ns=1000,
                      text_policy=vt.TextPolicy.INCLUDE if policy == "include" else vt.TextPolicy.REDACT,
                      max_text_chars=int(max_chars), turn_history=int(history))


def turn_step(s: vt.Session, line: str) -> None:
    """Apply one call line other than `config` and `expect` to the session."""
    f = line.split()
    cmd, a = f[0], f[1:]
    if cmd == "mark":
        s.turn_mark(enum_by_name(TurnStage, a[0]), enum_by_name(TurnMark, a[1]), int(a[2]))
    elif cmd == "value":
        s.turn_value(enum_by_name(TurnValueKey, a[0]), float(a[1]), int(a[2]))
    elif cmd == "text":
        parts = line.split(" ", 3)  # the text runs to the end of the line, spaces included
        s.turn_text(enum_by_name(TurnTextKind, a[0]), parts[3] if len(parts) > 3 else "", int(a[1]))
    elif cmd == "usage":
        _usage(s, a)
    elif cmd == "error":
        s.turn_error(enum_by_name(TurnStage, a[0]), int(a[1]))
    elif cmd == "provider":
        s.turn_provider(enum_by_name(TurnStage, a[0]), a[1], _none_if_dash(a[2]), int(a[3]))
    elif cmd == "fallback":
        s.turn_fallback(enum_by_name(TurnStage, a[0]), enum_by_name(FallbackKind, a[1]), a[2], a[3],
                        _none_if_dash(a[4]), int(a[5]))
    elif cmd == "tool":
        s.turn_tool_call(enum_by_name(ToolKind, a[0]), a[1], int(a[2]), int(a[3]), ok=int(a[4]))
    elif cmd in ("vad_start", "vad_end", "interruption", "turn_complete"):
        getattr(s, "record_" + cmd)(int(a[0]))
    elif cmd == "audio_out":
        s.record_audio_out(int(a[0]), int(a[1]))
    else:
        raise AssertionError(f"unknown command {cmd!r}")
