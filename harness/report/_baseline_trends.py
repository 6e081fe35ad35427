"""Trends across runs of one scenario and profile: p95/p99, failed requests and throughput of
every request, run after run, with a named baseline's band and the runs it flagged.

The figures are the runs' headline figures (report.json: every request over the judged span,
the same span a baseline's figures cover). A baseline of the same scenario, profile and target
(reports/baselines/NAME.json) adds its band per figure: the prediction interval a run of the
same code falls in (shaded) and the limit beyond which a run regresses (dashed). A run whose
baseline.json flagged a regression is marked with a red cross, its flagged figures on hover.
The report judges nothing: bands and flags are read as perfctl baseline wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import RunDirError
from harness.redaction import scrub_text
from harness.report._plot import Figure, base_layout, colour, finish, limit_line, text
from harness.report._run_entries import RunEntry
from harness.rundir import (
    BASELINES_DIR,
    BaselineBand,
    BaselineManifest,
    baseline_names,
    read_baseline,
)

_REGRESSION_COLOUR = "#cf222e"
_BAND_COLOUR = "rgba(60, 110, 159, 0.14)"


@dataclass(frozen=True, slots=True)
class _Chart:
    """One chart: which headline figures it draws, against which baseline figure."""

    title: str
    unit: str
    factor: float
    """Headline value to shown value (a 0-1 error rate shown in per cent)."""
    lines: tuple[tuple[str, str, str], ...]
    """(headline field, baseline figure, line name) per line."""


_CHARTS = (
    _Chart(
        "p95 and p99 latency, every request",
        "ms",
        1.0,
        (("p95_ms", "p95_ms", "p95"), ("p99_ms", "p99_ms", "p99")),
    ),
    _Chart("Failed requests, every request", "%", 100.0, (("error_rate", "error_rate", "failed"),)),
    _Chart(
        "Throughput, every request",
        "requests per second",
        1.0,
        (("requests_per_s", "throughput_rps", "throughput"),),
    ),
)


def read_baselines(reports_dir: Path) -> list[BaselineManifest]:
    """Every readable baseline in `reports_dir/baselines` (an unreadable one is left out)."""
    directory = reports_dir / BASELINES_DIR
    manifests = []
    for name in baseline_names(directory):
        try:
            manifest = read_baseline(directory, name)
        except RunDirError:
            continue
        if manifest is not None:
            manifests.append(manifest)
    return manifests


def baseline_for(
    runs: Sequence[RunEntry], baselines: Sequence[BaselineManifest]
) -> BaselineManifest | None:
    """The baseline of the runs' scenario and profile on the newest run's target, if any."""
    if not runs:
        return None
    newest = max(runs, key=lambda run: (run.started_at, run.name))
    for manifest in baselines:
        key = manifest.key
        if (key.scenario, key.profile, scrub_text(key.target)) == (
            newest.scenario,
            newest.profile,
            newest.target_key,
        ):
            return manifest
    return None


def _layout(title: str, unit: str) -> dict[str, Any]:
    layout: dict[str, Any] = base_layout(title, unit, height=300, x_title="run started")
    layout["hovermode"] = "closest"
    layout["xaxis"]["type"] = "date"
    layout["shapes"], layout["annotations"] = [], []
    return layout


def _band_shapes(
    band: BaselineBand, factor: float, name: str, line_colour: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The band shaded across the chart and the regression limit as a dashed line."""
    shade = {
        "type": "rect",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": round(band.low * factor, 4),
        "y1": round(band.high * factor, 4),
        "fillcolor": _BAND_COLOUR,
        "line": {"width": 0},
        "layer": "below",
    }
    sign = ">" if band.direction == "higher_is_worse" else "<"
    shape, note = limit_line(
        round(band.limit * factor, 4),
        f"{name}: regression {sign} {band.limit * factor:.3g}",
        line_colour,
    )
    return [shade, shape], [note]


def baseline_trend_figures(
    runs: Sequence[RunEntry], baseline: BaselineManifest | None
) -> list[Figure]:
    """The charts of one scenario and profile's runs (none below two runs)."""
    ordered = sorted((run for run in runs if run.started_at), key=lambda r: (r.started_at, r.name))
    if len(ordered) < 2:
        return []
    bands = {
        band.figure: band
        for band in (baseline.bands if baseline is not None else ())
        if band.operation == "*"
    }
    figures = []
    for chart in _CHARTS:
        layout = _layout(chart.title, chart.unit)
        traces = []
        for index, (field, figure, name) in enumerate(chart.lines):
            rows = [
                (run, float(run.headline[field]) * chart.factor)
                for run in ordered
                if isinstance(run.headline.get(field), int | float)
            ]
            if not rows:
                continue
            traces.append(_line(rows, name, colour(index)))
            band = bands.get(figure)
            if band is not None:
                shapes, notes = _band_shapes(band, chart.factor, name, colour(index))
                layout["shapes"] += shapes
                layout["annotations"] += notes
            flagged = [(run, value) for run, value in rows if run.regressions]
            if flagged:
                traces.append(_regressions(flagged, name))
        if traces:
            if baseline is not None:
                layout["title"]["text"] += text(f" (baseline {baseline.name})")
            figures.append(finish(traces, layout))
    return figures


def _line(rows: list[tuple[RunEntry, float]], name: str, line_colour: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [run.started_at for run, _ in rows],
        "y": [round(value, 4) for _, value in rows],
        "customdata": [text(run.name) for run, _ in rows],
        "name": text(name),
        "line": {"color": line_colour},
        "marker": {"size": 7, "color": line_colour},
        "hovertemplate": "%{customdata}<br>%{y}<extra>%{fullData.name}</extra>",
    }


def _regressions(rows: list[tuple[RunEntry, float]], name: str) -> dict[str, Any]:
    """Red crosses on the runs a baseline flagged, the flagged figures on hover."""
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [run.started_at for run, _ in rows],
        "y": [round(value, 4) for _, value in rows],
        "customdata": [
            text(f"{run.name}: regression: {', '.join(run.regressions)}") for run, _ in rows
        ],
        "name": text(f"{name}: regression against the baseline"),
        "marker": {"symbol": "x", "size": 13, "color": _REGRESSION_COLOUR},
        "hovertemplate": "%{customdata}<br>%{y}<extra></extra>",
    }
