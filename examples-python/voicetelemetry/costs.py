"""Prices and costs: the process's price table (``vt_set_prices``, ``vt_prices_json``) and the types of
the cost fields the library adds to turn records and snapshots (docs/cost.md has the schema, when usage
is charged and how each token count is priced).

    vt.set_prices({"currency": "USD", "prices": [
        {"stage": "llm", "provider": "openai", "model": "gpt-4o-mini",
         "input": 0.15, "cached_input": 0.075, "output": 0.6}]})
    cost = s.snapshot()["cost"]            # a SessionCost: integer micro-units of the currency
    rows = s.snapshot()["usage_by_model"]  # ModelUsage rows

Prices are given in currency units (per million tokens, per audio minute or second, per million
characters, per minute of session) and read by the library from their decimal text exactly; amounts
come back as integers of micro-units (1e-6 of the currency, keys ending in ``_micros``).
"""
from __future__ import annotations

import decimal
import json
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _raw
from ._util import cstr, invalid, text_call
from .errors import raise_last_error

try:  # Python 3.8+: TypedDict in typing
    from typing import TypedDict
except ImportError:  # pragma: no cover
    from typing_extensions import TypedDict  # type: ignore

__all__ = [
    "set_prices",
    "prices",
    "PriceTable",
    "PriceEntry",
    "TurnCost",
    "SessionCost",
    "ModelUsage",
]


class PriceEntry(TypedDict, total=False):
    """One entry of a price table: ``stage``, ``provider``, ``model`` ("*": any) and its prices."""
    stage: str
    provider: str
    model: str
    input: Union[int, float, decimal.Decimal]
    cached_input: Union[int, float, decimal.Decimal]
    output: Union[int, float, decimal.Decimal]
    reasoning: Union[int, float, decimal.Decimal]
    input_audio: Union[int, float, decimal.Decimal]
    input_image: Union[int, float, decimal.Decimal]
    output_audio: Union[int, float, decimal.Decimal]
    per_minute: Union[int, float, decimal.Decimal]
    per_second: Union[int, float, decimal.Decimal]
    per_million_characters: Union[int, float, decimal.Decimal]


class PriceTable(TypedDict, total=False):
    """A price table: ``currency``, optional ``description``, ``prices``."""
    currency: str
    description: str
    prices: List[PriceEntry]


class TurnCost(TypedDict):
    """A turn record's ``cost`` (None when no price table was active at any of its charges)."""
    currency: str
    stt_micros: int
    llm_micros: int
    tts_micros: int
    realtime_micros: int
    total_micros: int
    unpriced_charges: int
    unpriced: List[str]


class SessionCost(TypedDict):
    """A snapshot's ``cost`` (transport is a live estimate until the session ends)."""
    currency: str
    stt_micros: int
    llm_micros: int
    tts_micros: int
    realtime_micros: int
    transport_micros: int
    total_micros: int
    unpriced_charges: int


class ModelUsage(TypedDict):
    """One row of a snapshot's ``usage_by_model``: usage and cost of one stage, provider and model."""
    stage: str
    provider: Optional[str]
    model: Optional[str]
    reports: int
    turns: int
    tokens: Dict[str, int]
    audio_duration_ns: int
    characters: int
    cost_micros: int
    unpriced_charges: int


def _json(value: Any) -> str:
    """The table as JSON text. Numbers keep their digits: a Decimal its exact text, a float its
    shortest round-trip text (NaN and infinities are written as such, for the library to refuse with
    the path of the value)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + _json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else "NaN"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "NaN"
    raise invalid(f"price table: a {type(value).__name__} is not a JSON value")


def set_prices(table: Optional[Union[Mapping[str, Any], str, bytes]]) -> None:
    """Replace the process's price table (``vt_set_prices``); None clears it.

    ``table`` is a mapping (written as JSON: a ``decimal.Decimal`` price keeps its exact digits, a
    float its shortest round-trip digits) or
    JSON text. The library validates it: an invalid table raises InvalidArgumentError whose message
    names the path of the bad value (``$.prices[2].input``); another currency while sessions are
    open raises OrderError; the active table is then unchanged.
    """
    if table is None:
        text = None
    elif isinstance(table, (str, bytes)):
        text = cstr(table, "price table")
    elif isinstance(table, Mapping):
        text = cstr(_json(table), "price table")
    else:
        raise invalid(f"price table must be a mapping, JSON text or None, not {type(table).__name__}")
    rc = _raw.vt_set_prices(text)
    if rc:
        raise_last_error(rc)


def prices() -> Optional[PriceTable]:
    """The active price table, normalised by the library (``vt_prices_json``: entries sorted, every
    model spelled out), prices as exact ``decimal.Decimal`` (whole ones as int); None when none."""
    text = text_call(_raw.vt_prices_json).decode("utf-8")
    return json.loads(text, parse_float=decimal.Decimal)
