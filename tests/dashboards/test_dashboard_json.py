"""dashboards/voicetelemetry.json's structure, as Grafana (schemaVersion 39) reads it, without a
Grafana: it is what dashboards/generate.py writes; the data source is the `datasource` variable
everywhere; `transport` comes from label_values; ids are unique; panels sit on the 24-column grid
without overlapping; every query uses only variables the tests (and Grafana) know."""
from __future__ import annotations

import re
import subprocess
import sys
from itertools import combinations

from grafana_queries import (DASHBOARD, INTERVALS, REPO, VARIABLE, data_panels, load_dashboard, queries,
                             substitute)

DS = {"type": "prometheus", "uid": "${datasource}"}


def test_the_json_is_what_generate_py_writes():
    r = subprocess.run([sys.executable, str(REPO / "dashboards" / "generate.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_top_level_fields():
    d = load_dashboard()
    assert d["schemaVersion"] == 39
    assert (d["uid"], d["title"], d["id"]) == ("voicetelemetry", "Voice agents (voicetelemetry)", None)
    assert d["time"] == {"from": "now-1h", "to": "now"}
    assert DASHBOARD.read_text(encoding="utf-8").endswith("}\n")


def test_datasource_and_transport_variables():
    variables = {v["name"]: v for v in load_dashboard()["templating"]["list"]}
    assert sorted(variables) == ["datasource", "transport"]
    ds = variables["datasource"]
    assert (ds["type"], ds["query"]) == ("datasource", "prometheus")
    tr = variables["transport"]
    assert tr["type"] == "query" and tr["datasource"] == DS
    assert tr["query"]["query"] == tr["definition"] == "label_values(voicetelemetry_sessions_total, transport)"
    assert (tr["includeAll"], tr["multi"], tr["allValue"]) == (True, True, ".*")


def test_ids_are_unique_and_every_data_panel_queries_the_datasource_variable():
    d = load_dashboard()
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    panels = data_panels(d)
    assert len(panels) >= 20
    for p in panels:
        assert p["title"] and p["datasource"] == DS, p["title"]
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == DS and t["expr"].strip(), (p["title"], t["refId"])
    for row in (p for p in d["panels"] if p["type"] == "row"):
        assert "targets" not in row and row["panels"] == [] and row["collapsed"] is False


def test_panels_fill_the_grid_without_overlapping():
    panels = load_dashboard()["panels"]
    for p in panels:
        g = p["gridPos"]
        assert g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["w"] <= 24, p["title"]

    def overlap(a, b):
        ga, gb = a["gridPos"], b["gridPos"]
        return (ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"]
                and ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"])

    assert [(a["title"], b["title"]) for a, b in combinations(panels, 2) if overlap(a, b)] == []


def test_queries_use_only_known_variables_and_filter_on_transport():
    known = set(INTERVALS) | {"transport"}
    for q in queries(load_dashboard()):
        assert set(VARIABLE.findall(q.expr)) <= known, q
        assert "$" not in substitute(q.expr, ".*"), q
        # Every selector of a family with a transport label is filtered by the variable; the
        # plugin families have none.
        for name, selector in re.findall(r"(voicetelemetry_\w+)(\{[^}]*\})?", q.expr):
            want = "" if name.startswith("voicetelemetry_plugin_") else '{transport=~"$transport"}'
            assert selector == want, (q, name)
