"""Trends across runs of one scenario: the key objectives' measured values, run after run.

Key objectives are the run-wide ones (operation "*": the seed's KPIs such as response time,
error rate, throughput, availability), one chart each, and the p95 latency objective of every
operation, together in one chart. Runs judged by no SLA fall back to their headline figures.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from harness.report._plot import Figure, base_layout, colour, finish, limit_line, text
from harness.report._run_entries import RunEntry

_STATUS_COLOURS = {"pass": "#1a7f37", "warn": "#bf8700", "fail": "#cf222e", "marginal": "#0969da"}
_HEADLINES = (
    ("p95_ms", "p95 latency, every request", "ms", 1.0),
    ("requests_per_s", "Throughput, every request", "requests per second", 1.0),
    ("error_rate", "Failed requests", "%", 100.0),
)


def _scaled(value: float, unit: str) -> tuple[float, str]:
    return (value * 100.0, "%") if unit == "ratio" else (value, unit)


def _layout(title: str, unit: str) -> dict[str, Any]:
    layout: dict[str, Any] = base_layout(title, unit, height=280, x_title="run started")
    layout["hovermode"] = "closest"
    layout["xaxis"]["type"] = "date"
    return layout


def _points(rows: list[tuple[str, str, float, str]], name: str, line_colour: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [started for started, _, _, _ in rows],
        "y": [round(value, 4) for _, _, value, _ in rows],
        "customdata": [text(run) for _, run, _, _ in rows],
        "name": text(name),
        "line": {"color": line_colour},
        "marker": {
            "size": 9,
            "color": [_STATUS_COLOURS.get(status, "#59636e") for _, _, _, status in rows],
        },
        "hovertemplate": "%{customdata}<br>%{y}<extra>%{fullData.name}</extra>",
    }


def trend_figures(runs: list[RunEntry]) -> list[Figure]:
    """Charts of the key objectives over the runs of one scenario (none for a single run)."""
    ordered = sorted((run for run in runs if run.started_at), key=lambda run: run.started_at)
    if len(ordered) < 2:
        return []
    kpis: dict[str, list[tuple[str, str, float, str]]] = defaultdict(list)
    kpi_meta: dict[str, tuple[str, float | None]] = {}
    p95: dict[str, list[tuple[str, str, float, str]]] = defaultdict(list)
    for run in ordered:
        for check in run.checks:
            measured = check.get("measured")
            if not isinstance(measured, int | float):
                continue
            unit = str(check.get("unit", ""))
            value, shown_unit = _scaled(float(measured), unit)
            row = (run.started_at, run.name, value, str(check.get("status", "")))
            if check.get("operation") == "*":
                key = str(check.get("id"))
                kpis[key].append(row)
                limit = check.get("limit")
                kpi_meta[key] = (
                    shown_unit,
                    _scaled(float(limit), unit)[0] if isinstance(limit, int | float) else None,
                )
            elif check.get("metric") == "latency" and check.get("statistic") == "p95":
                p95[str(check.get("operation"))].append(row)
    figures: list[Figure] = []
    for key, rows in sorted(kpis.items()):
        if len(rows) < 2:
            continue
        unit, limit = kpi_meta[key]
        layout = _layout(key, unit)
        if limit is not None:
            shape, note = limit_line(limit, f"limit {limit:g} {unit}", "#cf222e")
            layout["shapes"], layout["annotations"] = [shape], [note]
        figures.append(finish([_points(rows, key, colour(0))], layout))
    lines = [
        _points(rows, op, colour(i))
        for i, (op, rows) in enumerate(sorted(p95.items()))
        if len(rows) >= 2
    ]
    if lines:
        figures.append(finish(lines, _layout("p95 latency objective per operation", "ms")))
    if figures:
        return figures
    for field, title, unit, factor in _HEADLINES:
        rows = [
            (run.started_at, run.name, float(run.headline[field]) * factor, run.verdict)
            for run in ordered
            if isinstance(run.headline.get(field), int | float)
        ]
        if len(rows) >= 2:
            figures.append(finish([_points(rows, title, colour(0))], _layout(title, unit)))
    return figures
