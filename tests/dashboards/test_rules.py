"""prometheus/rules.yml with promtool: it parses and lints clean, and its unit tests
(prometheus/rules_test.yml: exact recording values, each alert firing and not firing) pass."""
from __future__ import annotations

import subprocess

from grafana_queries import RULES, rule_names

RULES_TEST = RULES.parent / "rules_test.yml"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


def test_promtool_check_rules_finds_every_rule():
    r = promtool("check", "rules", str(RULES))
    assert r.returncode == 0, r.stdout + r.stderr
    names = rule_names(RULES.read_text())
    assert f"SUCCESS: {len(names)} rules found" in r.stdout, r.stdout
    assert len(names) == len(set(names)), "a rule name is used twice"


def test_promtool_unit_tests_pass():
    r = promtool("test", "rules", str(RULES_TEST))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout, r.stdout


def test_every_alert_has_a_severity_summary_and_description():
    text = RULES.read_text()
    alerts = [name for name in rule_names(text) if ":" not in name]
    assert alerts == ["VoiceTelemetryTurnLatencyHigh", "VoiceTelemetrySinkDroppingEvents",
                      "VoiceTelemetryPluginDisabled"]
    for block in text.split("- alert: ")[1:]:
        for key in ("severity: ", "summary: ", "description: "):
            assert key in block, f"{block.splitlines()[0]}: no {key.strip()}"
