"""dashboards/perfctl.json, the Grafana dashboard shipped for perfctl's /metrics: every PromQL
expression names only metrics perfctl exports, and every exported metric has a panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.live import LiveState, metrics_registry

DASHBOARD = Path(__file__).resolve().parents[3] / "dashboards" / "perfctl.json"

_SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "info": ("_info",),
    "gauge": ("",),
}
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def exported_names() -> set[str]:
    """Every sample name perfctl's registry can export (a family's name with its type's
    suffixes: what a PromQL expression selects)."""
    names = set()
    for family in metrics_registry(LiveState()).collect():
        for suffix in _SAMPLE_SUFFIXES[family.type]:
            names.add(family.name + suffix)
    return names


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions,
    keywords, label names (in braces or `by (...)`), durations or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors ($__rate_interval, 5m)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    found = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name = match.group()
        following = text[match.end() :].lstrip()
        if following.startswith("(") or name.lower() in _KEYWORDS:
            continue  # a function call, or a keyword
        found.add(name)
    return found


def _expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in _expressions(value)]
    return []


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text())
    assert isinstance(data, dict)
    return data


def test_the_parser_finds_metric_names_and_nothing_else() -> None:
    expression = (
        "histogram_quantile(0.95, sum by (operation, le) (rate(perfctl_request_duration_"
        'seconds_bucket{job=~"$job",outcome!="ok"}[$__rate_interval]))) / perfctl_users > bool 0'
    )
    assert metric_names(expression) == {"perfctl_request_duration_seconds_bucket", "perfctl_users"}


def test_every_expression_uses_only_metrics_perfctl_exports(dashboard: dict[str, Any]) -> None:
    expressions = _expressions(dashboard["panels"])
    assert len(expressions) >= 10
    exported = exported_names()
    for expression in expressions:
        names = metric_names(expression)
        assert names, expression
        assert names <= exported, f"{expression}: {sorted(names - exported)} not exported"


def test_every_exported_metric_has_a_panel(dashboard: dict[str, Any]) -> None:
    used = {name for e in _expressions(dashboard["panels"]) for name in metric_names(e)}
    families = {family.name for family in metrics_registry(LiveState()).collect()}
    for family in families:
        assert any(name.startswith(family) for name in used), f"no panel shows {family}"


def test_the_dashboard_is_importable_grafana_json(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "perfctl-load-test"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval"}
            assert used <= variables, target["expr"]
