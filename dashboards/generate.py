#!/usr/bin/env python3
"""Writes dashboards/voicetelemetry.json, the Grafana dashboard, from the panel list below.

    python3 dashboards/generate.py            # rewrite the JSON
    python3 dashboards/generate.py --check    # exit 1 if the JSON differs from what this writes

Edit the panels here, not in the JSON (tests/dashboards checks the two agree). Every query filters
on the `transport` variable where its family carries that label (the plugin families do not), and
rates use Grafana's $__rate_interval. Metric names are the library's own (README "Prometheus
metrics", Sources/VoiceTelemetry/TurnState/TurnFamilies.swift, Sources/VoiceTelemetry/Plugins/PluginMetrics.swift).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

OUT = Path(__file__).resolve().parent / "voicetelemetry.json"
UID = "voicetelemetry"
TITLE = "Voice agents (voicetelemetry)"
DS = {"type": "prometheus", "uid": "${datasource}"}
T = 'transport=~"$transport"'
RATE = "[$__rate_interval]"
GRID_WIDTH = 24

# The stages of a turn's critical path: (family, legend).
STAGES = [
    ("voicetelemetry_turn_stt_latency_seconds", "STT (speech end to final transcript)"),
    ("voicetelemetry_turn_eou_delay_seconds", "End of utterance"),
    ("voicetelemetry_turn_llm_ttft_seconds", "LLM time to first token"),
    ("voicetelemetry_turn_tts_ttfb_seconds", "TTS time to first byte"),
]
E2E = "voicetelemetry_turn_e2e_latency_seconds"
BARGE_IN = "voicetelemetry_turn_barge_in_latency_seconds"

Target = Tuple[str, str]  # (expr, legend)


def rate(family: str, by: str = "", labels: str = T) -> str:
    """sum [by (...)] (rate(family{labels}[$__rate_interval]))"""
    group = f" by ({by}) " if by else ""
    selector = f"{{{labels}}}" if labels else ""
    return f"sum{group}(rate({family}{selector}{RATE}))"


def quantile(q: float, family: str, by: str = "") -> str:
    """histogram_quantile(q, sum by ([by, ]le) (rate(family_bucket{transport}[$__rate_interval])))"""
    return f"histogram_quantile({q}, {rate(family + '_bucket', f'{by}, le' if by else 'le')})"


def quantiles(family: str, by: str, qs: Sequence[float] = (0.5, 0.95, 0.99)) -> List[Target]:
    legend = f" {{{{{by}}}}}" if by else ""
    return [(quantile(q, family, by), f"p{round(q * 100)}{legend}") for q in qs]


def mean(family: str) -> str:
    return f"{rate(family + '_sum')} / {rate(family + '_count')}"


class Panel:
    def __init__(self, kind: str, title: str, targets: List[Target], *, w: int, h: int = 8, unit: str = "short",
                 description: str = "", stack: bool = False, options: Optional[Dict[str, Any]] = None,
                 field_extra: Optional[Dict[str, Any]] = None, fmt: str = "time_series") -> None:
        self.kind, self.title, self.targets, self.w, self.h = kind, title, targets, w, h
        self.unit, self.description, self.stack, self.fmt = unit, description, stack, fmt
        self.options = options
        self.field_extra = field_extra or {}


def timeseries(title: str, targets: List[Target], **kw: Any) -> Panel:
    return Panel("timeseries", title, targets, **kw)


STAT_OPTIONS = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "colorMode": "value", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
                "textMode": "auto"}
DISABLED_MAPPINGS = {"mappings": [{"type": "value", "options": {
    "0": {"text": "ok", "color": "green", "index": 0},
    "1": {"text": "disabled", "color": "red", "index": 1}}}]}

ROWS: List[Tuple[str, List[Panel]]] = [
    ("Calls", [
        Panel("stat", "Active calls", [(f"sum(voicetelemetry_sessions_active{{{T}}})", "active")], w=6,
              options=STAT_OPTIONS, description="Sessions open now, summed over every process."),
        timeseries("Active calls by transport",
                   [(f"sum by (transport) (voicetelemetry_sessions_active{{{T}}})", "{{transport}}")], w=9),
        timeseries("Calls started per second",
                   [(rate("voicetelemetry_sessions_total", "transport"), "{{transport}}")], w=9, unit="cps"),
    ]),
    ("Turn latency: end of the caller's speech to the agent's first audio", [
        timeseries("Turn e2e latency by transport", quantiles(E2E, "transport"), w=12, unit="s",
                   description="p50, p95 and p99 of the end-to-end latency of turns (the record's e2e: "
                               "user speech end, or the STT final without VAD, to the first agent audio)."),
        timeseries("Turn e2e latency by provider", quantiles(E2E, "provider"), w=12, unit="s",
                   description="The same by the session label `provider`. The turn families carry it when "
                               "the process registers it before creating sessions: vt_register_labels("
                               "\"voicetelemetry_turn_e2e_latency_seconds\", {\"transport\", \"provider\"}). "
                               "Without it there is one line with an empty provider."),
        Panel("heatmap", "Turn e2e latency distribution",
              [(f"sum by (le) (increase({E2E}_bucket{{{T}}}{RATE}))", "{{le}}")], w=24, unit="s", fmt="heatmap",
              options={"calculate": False, "cellGap": 1, "yAxis": {"unit": "s"},
                       "color": {"mode": "scheme", "scheme": "Oranges", "exponent": 0.5, "steps": 64},
                       "legend": {"show": True}, "tooltip": {"mode": "single", "yHistogram": True}},
              description="Turns per latency bucket in each interval."),
    ]),
    ("Where the time goes", [
        timeseries("Stage latency p50", [(quantile(0.5, f), name) for f, name in STAGES], w=12, unit="s"),
        timeseries("Stage latency p95", [(quantile(0.95, f), name) for f, name in STAGES], w=12, unit="s",
                   description="Each stage's own latency (STT: speech end to final transcript; end of "
                               "utterance: detection start to end; LLM: request to first token; TTS: request "
                               "to first byte). Its part of a turn's critical path (the turn record's e2e "
                               "breakdown) can be shorter when stages overlap."),
        Panel("bargauge", "Mean time per stage", [(mean(f), name) for f, name in STAGES], w=12, unit="s",
              options={"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                       "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}),
        timeseries("Barge-in latency", quantiles(BARGE_IN, "", (0.5, 0.95)), w=12, unit="s",
                   description="From user speech during agent speech to the end of the agent's speech: "
                               "how fast the agent stops talking when interrupted."),
    ]),
    ("Turns, tools, errors and fallbacks", [
        timeseries("Turn outcomes per second", [(rate("voicetelemetry_turn_outcomes_total", "outcome"), "{{outcome}}")],
                   w=8, unit="cps", stack=True),
        timeseries("Tool calls per second",
                   [(rate("voicetelemetry_turn_tool_calls_total", "tool, kind, outcome"),
                     "{{tool}} ({{kind}}) {{outcome}}")],
                   w=8, unit="cps"),
        timeseries("Turn errors per second by source",
                   [(rate("voicetelemetry_turn_errors_total", "source"), "{{source}}")], w=8, unit="cps"),
        timeseries("Provider fallbacks per second",
                   [(rate("voicetelemetry_turn_fallbacks_total", "stage, kind, from, to"),
                     "{{stage}} {{kind}}: {{from}} -> {{to}}")], w=12, unit="cps"),
        timeseries("False interruptions per second",
                   [(rate("voicetelemetry_turn_false_interruptions_total", "outcome"), "{{outcome}}")],
                   w=12, unit="cps",
                   description="Speech during the agent's speech that turned out not to be a barge-in "
                               "(resumed) or became one (escalated)."),
    ]),
    ("Tokens", [
        timeseries("Tokens per second by type and stage",
                   [(rate("voicetelemetry_turn_tokens_total", "stage, type"), "{{stage}} {{type}}")],
                   w=12, unit="short"),
        timeseries("Tokens per second by modality",
                   [(rate("voicetelemetry_turn_modality_tokens_total", "direction, modality"),
                     "{{direction}} {{modality}}")],
                   w=12, unit="short"),
    ]),
    ("Sinks (event plugins)", [
        timeseries("Events per second by sink",
                   [(rate("voicetelemetry_plugin_events_emitted_total", "plugin", labels=""), "{{plugin}} emitted"),
                    (rate("voicetelemetry_plugin_events_delivered_total", "plugin", labels=""),
                     "{{plugin}} delivered")],
                   w=8, unit="cps", description="Emitted = delivered + dropped + queued, per sink."),
        timeseries("Events dropped per second",
                   [(rate("voicetelemetry_plugin_events_dropped_total", "plugin, reason", labels=""),
                     "{{plugin}} {{reason}}")],
                   w=8, unit="cps",
                   description="queue_full: the sink is slower than the events; rate_limited: over the event "
                               "rate limit; too_large: over the size limit; plugin: the sink answered DROP; "
                               "disabled: the sink is disabled (or events were left at unload)."),
        timeseries("Queue depth", [("max by (plugin) (voicetelemetry_plugin_queue_depth)", "{{plugin}}")], w=8),
        Panel("stat", "Disabled sinks", [("max by (instance, plugin) (voicetelemetry_plugin_disabled)",
                                          "{{plugin}} {{instance}}")], w=12, options=STAT_OPTIONS,
              field_extra=DISABLED_MAPPINGS,
              description="A sink that answered FATAL is disabled until its process loads it again."),
        timeseries("Sink retries per second",
                   [(rate("voicetelemetry_plugin_retries_total", "plugin", labels=""), "{{plugin}}")],
                   w=12, unit="cps"),
    ]),
]


def target(expr: str, legend: str, ref: str, fmt: str) -> Dict[str, Any]:
    t = {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend, "range": True, "refId": ref}
    if fmt != "time_series":
        t["format"] = fmt
    return t


def field_config(p: Panel) -> Dict[str, Any]:
    defaults: Dict[str, Any] = {"unit": p.unit, "color": {"mode": "palette-classic"}}
    if p.kind == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if p.stack else 0,
                              "showPoints": "never", "spanNulls": False,
                              "stacking": {"mode": "normal" if p.stack else "none", "group": "A"}}
    if p.kind in ("stat", "bargauge"):
        defaults["color"] = {"mode": "thresholds"}
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    defaults.update(p.field_extra)
    return {"defaults": defaults, "overrides": []}


def panel_options(p: Panel) -> Dict[str, Any]:
    if p.options is not None:
        return p.options
    return {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                       "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"}}


def layout() -> List[Dict[str, Any]]:
    panels: List[Dict[str, Any]] = []
    y = 0
    for row_title, row in ROWS:
        panels.append({"type": "row", "title": row_title, "id": len(panels) + 1, "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}, "panels": []})
        y += 1
        x, line_h = 0, 0
        for p in row:
            if x + p.w > GRID_WIDTH:
                x, y, line_h = 0, y + line_h, 0
            refs = [chr(ord("A") + i) for i in range(len(p.targets))]
            panels.append({
                "type": p.kind, "title": p.title, "description": p.description, "id": len(panels) + 1,
                "gridPos": {"h": p.h, "w": p.w, "x": x, "y": y}, "datasource": DS,
                "fieldConfig": field_config(p), "options": panel_options(p),
                "targets": [target(e, leg, r, p.fmt) for (e, leg), r in zip(p.targets, refs)],
            })
            x += p.w
            line_h = max(line_h, p.h)
        y += line_h
    return panels


def templating() -> Dict[str, Any]:
    transports = "label_values(voicetelemetry_sessions_total, transport)"
    return {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
         "regex": "", "skipUrlSync": False},
        {"name": "transport", "label": "Transport", "type": "query", "datasource": DS,
         "definition": transports,
         "query": {"query": transports, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
         "current": {}, "hide": 0, "includeAll": True, "allValue": ".*", "multi": True, "options": [],
         "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1},
    ]}


def dashboard() -> Dict[str, Any]:
    return {
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": "Calls, turn latency and where it goes, outcomes, tools, errors, fallbacks, tokens "
                       "and event sinks of processes using libvoicetelemetry.",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": layout(),
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["voicetelemetry", "voice"],
        "templating": templating(),
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": TITLE,
        "uid": UID,
        "version": 1,
        "weekStart": "",
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: List[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} differs from what {Path(__file__).name} writes: run python3 {__file__}", file=sys.stderr)
            return 1
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
