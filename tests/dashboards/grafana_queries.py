"""The dashboard's and the rules' queries as the tests evaluate them.

Grafana replaces its variables before a query reaches Prometheus; the tests do the same with the
values below: $transport as Grafana sends it for "All" (the variable's allValue, ".*"), for one
value and for several (a regex alternation), and the interval variables as Grafana would compute
them for a 1 s scrape interval ($__rate_interval is at least four scrape intervals).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "dashboards" / "voicetelemetry.json"
RULES = REPO / "prometheus" / "rules.yml"

INTERVALS = {"__rate_interval": "10s", "__interval": "2s", "__range": "1m"}
TRANSPORT_CHOICES = [".*", "webrtc", "(sip|webrtc)"]
VARIABLE = re.compile(r"\$\{?(\w+)\}?")
# A library metric name; not a recording rule's name (level:metric:operation, with colons).
METRIC = re.compile(r"(?<![\w:])voicetelemetry_[a-z0-9_]+(?![\w:])")


class Query(NamedTuple):
    panel_id: int
    panel: str
    ref: str
    expr: str


def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def data_panels(dash: dict) -> List[dict]:
    return [p for p in dash["panels"] if p["type"] != "row"]


def queries(dash: dict) -> Iterator[Query]:
    for p in data_panels(dash):
        for t in p["targets"]:
            yield Query(p["id"], p["title"], t["refId"], t["expr"])


def substitute(expr: str, transport: str) -> str:
    """expr with Grafana's variables replaced; a variable the tests do not know raises KeyError."""
    values: Dict[str, str] = dict(INTERVALS, transport=transport)
    return VARIABLE.sub(lambda m: values[m.group(1)], expr)


def rule_names(text: str) -> List[str]:
    """The names of the recording and alerting rules in rules.yml's text, in order."""
    return re.findall(r"^\s*- (?:record|alert): (\S+)\s*$", text, flags=re.M)


def metric_names(expr: str) -> List[str]:
    """The library metric names an expression reads (recorded series are not among them)."""
    return METRIC.findall(expr)
