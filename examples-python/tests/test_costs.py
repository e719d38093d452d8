"""Prices and costs through the Python API: the scripted call of tests/scenarios/costs (the file the C
runner tests/c/test_costs.c replays, with the same commands and expectations), the session.end event's
costs, the table's validation errors as exceptions, exact Decimal prices both ways, and the typed
fields matching what the library writes.
"""
from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import voicetelemetry as vt
from turn_scenario import turn_step
from voicetelemetry import TurnMark, TurnStage

REPO = Path(__file__).resolve().parents[2]
COSTS_DIR = REPO / "tests" / "scenarios" / "costs"
SEC = 1_000_000_000


@pytest.fixture(autouse=True)
def no_table_left():
    yield
    vt.set_prices(None)


def _step(s: Optional[vt.Session], line: str) -> Optional[vt.Session]:
    """One call line of the cost scenario format (tests/scenarios/costs/README.txt): prices, config
    and end here, the rest as in the turn scenarios."""
    f = line.split()
    cmd, a = f[0], f[1:]
    if cmd == "prices":
        vt.set_prices((REPO / a[0]).read_text(encoding="utf-8"))
        return s
    if cmd == "config":
        return vt.Session(session_id=a[0], labels={"transport": a[1]}, start_t_ns=int(a[2]))
    assert s is not None, "a command before `config`"
    if cmd == "end":
        s.end(int(a[0]))
    else:
        turn_step(s, line)
    return s


def _text(s: vt.Session, target: str, rest: str) -> (str, str):
    """The text an expectation names, and its needle."""
    if target == "last":
        return s.last_turn_json(), rest
    if target == "prom":
        return vt.prom_text(), rest
    at, needle = rest.split(" ", 1)
    return s.snapshot_json(int(at)), needle


def replay(path: Path) -> List[str]:
    failures: List[str] = []
    s: Optional[vt.Session] = None
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line or line[0] == "#":
            continue
        where = f"{path.name}:{lineno}: {line}"
        verb = line.split(" ", 1)[0]
        if verb in ("expect", "reject"):
            target = line.split()[1]
            text, needle = _text(s, target, line[len(verb) + len(target) + 2:])
            if (needle in text) != (verb == "expect"):
                failures.append(f"{where}\n    got: {text[:900]}")
            continue
        try:
            s = _step(s, line)
        except (vt.VoiceTelemetryError, AssertionError, ValueError) as exc:
            failures.append(f"{where} -> {exc!r}")
    return failures


def test_scripted_call_costs_to_the_micro_unit():
    assert replay(COSTS_DIR / "scripted_call.txt") == []


def test_session_end_event_and_typed_fields():
    """session.end carries the final snapshot's cost; the TypedDicts name exactly the keys written."""
    ends: List[Dict[str, Any]] = []
    turns: List[Dict[str, Any]] = []
    hooks = vt.Hooks("pytest_costs")
    hooks.on("session.end", ends.append)
    hooks.on("turn.complete", turns.append)
    hooks.load()
    try:
        vt.set_prices({"currency": "USD", "prices": [
            {"stage": "llm", "provider": "py-acme", "model": "m1", "input": decimal.Decimal("0.15"), "output": 0.6},
            {"stage": "transport", "provider": "py-net", "per_minute": 0.004}]})
        s = vt.Session(session_id="py-costs-1", labels={"transport": "py-net"}, start_t_ns=SEC)
        s.turn_provider(TurnStage.LLM, "py-acme", "m1", SEC)
        s.turn_mark(TurnStage.LLM, TurnMark.START, 2 * SEC)
        s.turn_mark(TurnStage.LLM, TurnMark.FIRST, 2 * SEC + SEC // 5)
        s.turn_usage(TurnStage.LLM, input=1000, output=100, t_ns=2 * SEC + SEC // 4)   # 150 + 60 = 210 µ
        s.record_turn_complete(3 * SEC)
        snap = s.snapshot(61 * SEC)
        s.end(61 * SEC)   # 60 s of py-net at 0.004/min: 4000 µ
        vt.flush_events()
    finally:
        hooks.close()
    assert len(ends) == 1 and len(turns) == 1
    final = ends[0]["data"]
    assert final["cost"] == {"currency": "USD", "stt_micros": 0, "llm_micros": 210, "tts_micros": 0,
                             "realtime_micros": 0, "transport_micros": 4000, "total_micros": 4210,
                             "unpriced_charges": 0}
    assert snap["cost"] == final["cost"], "the live estimate at 61 s equals the charge at the end at 61 s"
    assert final["usage_by_model"] == [
        {"stage": "llm", "provider": "py-acme", "model": "m1", "reports": 1, "turns": 0,
         "tokens": {"input": 1000, "output": 100}, "audio_duration_ns": 0, "characters": 0,
         "cost_micros": 210, "unpriced_charges": 0}]
    assert final["usage_by_model_overflow"] == 0
    turn_cost = turns[0]["data"]["cost"]
    assert turn_cost["llm_micros"] == 210 and turn_cost["unpriced"] == []
    assert set(vt.SessionCost.__annotations__) == set(final["cost"])
    assert set(vt.ModelUsage.__annotations__) == set(final["usage_by_model"][0])
    assert set(vt.TurnCost.__annotations__) == set(turn_cost)


def test_table_errors_are_exceptions_and_the_table_stays():
    good = {"currency": "USD", "prices": [{"stage": "tts", "provider": "py-tts", "per_million_characters": 15}]}
    vt.set_prices(good)
    before = vt.prices()
    bad = {"currency": "USD", "prices": [{"stage": "tts", "provider": "py-tts", "per_million_characters": -1}]}
    with pytest.raises(vt.InvalidArgumentError) as err:
        vt.set_prices(bad)
    assert "price table: $.prices[0].per_million_characters is -1: a price must not be negative" in err.value.message
    with pytest.raises(vt.InvalidArgumentError) as err:
        vt.set_prices({"currency": "USD", "prices": [{"stage": "llm", "provider": "x", "input": float("nan"),
                                                       "output": 1}]})
    assert "unexpected character 'N'" in err.value.message and "$.prices[0].input" in err.value.message
    with pytest.raises(vt.InvalidArgumentError) as err:
        vt.set_prices('{"currency":"USD","currency":"USD","prices":[]}')
    assert 'duplicate key "currency" at byte 18 (in $)' in err.value.message
    with pytest.raises(vt.InvalidArgumentError):
        vt.set_prices(42)  # type: ignore[arg-type]
    with vt.Session(session_id="py-costs-open") as s:
        with pytest.raises(vt.OrderError) as err:
            vt.set_prices({"currency": "EUR", "prices": []})
        assert "its currency EUR differs from USD" in err.value.message
        assert s.snapshot()["cost"] is not None  # a table is active: the session shows its (zero) cost
    assert vt.prices() == before


def test_prices_round_trip_exactly():
    vt.set_prices({"currency": "USD", "description": "EXAMPLE", "prices": [
        {"stage": "llm", "provider": "b", "input": decimal.Decimal("0.000000000001"), "output": 1e-05},
        {"stage": "stt", "provider": "a", "model": "x", "per_second": decimal.Decimal("1234567.123456789012")}]})
    table = vt.prices()
    assert table == {"currency": "USD", "description": "EXAMPLE", "prices": [
        {"stage": "llm", "provider": "b", "model": "*", "input": decimal.Decimal("1E-12"),
         "output": decimal.Decimal("0.00001")},
        {"stage": "stt", "provider": "a", "model": "x", "per_second": decimal.Decimal("1234567.123456789012")}]}
    vt.set_prices(json.dumps({"currency": "USD", "prices": []}))
    assert vt.prices() == {"currency": "USD", "prices": []}
    vt.set_prices(None)
    assert vt.prices() is None
