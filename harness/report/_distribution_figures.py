"""Latency distributions: the HDR percentile spectrum, journey timing, two runs overlaid."""

from __future__ import annotations

import math
from typing import Any

from harness.report._plot import PERCENTILE_COLOURS, Figure, base_layout, colour, finish, text
from harness.report._series import PERCENTILES, OperationTotals

_TICKS = (0.0, 90.0, 99.0, 99.9, 99.99, 99.999, 99.9999)


def _x(percentile: float) -> float:
    """Position of a percentile on the spectrum's log axis: 1 / (1 - q)."""
    return 1.0 / max(1.0 - percentile / 100.0, 1e-7)


def _log_ticks(values: list[float]) -> list[float]:
    """1-2-5 ticks covering `values` on a log axis (plotly's own log ticks label digits only)."""
    low, high = max(min(values), 0.001), max(max(values), 0.001)
    digits = (1,) if high / low > 1000 else (1, 2, 5)  # wide ranges: powers of ten only
    ticks = []
    exponent = math.floor(math.log10(low))
    while 10.0**exponent <= high * 10:
        for digit in digits:
            tick = digit * 10.0**exponent
            if low / 2 <= tick <= high * 2:
                ticks.append(round(tick, 6))
        exponent += 1
    return ticks


def _spectrum_layout(title: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    layout: dict[str, Any] = base_layout(title, "latency (ms)", height=380, x_title="percentile")
    layout["hovermode"] = "closest"
    layout["xaxis"].update(
        {
            "type": "log",
            "tickvals": [_x(q) for q in _TICKS],
            "ticktext": [f"{q:g}%" for q in _TICKS],
        }
    )
    ticks = _log_ticks([v for trace in data for v in trace["y"]])
    layout["yaxis"].update(
        {
            "type": "log",
            "rangemode": "normal",
            "tickvals": ticks,
            "ticktext": [f"{t:g}" for t in ticks],
        }
    )
    return layout


def _trace(
    points: list[tuple[float, float]], name: str, line_colour: str, dash: str = "solid"
) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": [round(_x(q), 4) for q, _ in points],
        "y": [round(max(v, 0.001), 3) for _, v in points],
        "customdata": [round(q, 5) for q, _ in points],
        "name": text(name),
        "line": {"color": line_colour, "dash": dash, "shape": "hv"},
        "hovertemplate": "p%{customdata}: %{y} ms<extra>%{fullData.name}</extra>",
    }


def spectrum_figure(totals: dict[str, OperationTotals], title: str) -> Figure | None:
    """One line per operation: the latency at every percentile, on a log(1/(1-q)) axis."""
    data = []
    for index, (op, total) in enumerate(sorted(totals.items())):
        if total.spectrum:
            data.append(_trace(total.spectrum, op, colour(index)))
        if total.service_spectrum:
            data.append(_trace(total.service_spectrum, f"{op} service time", colour(index), "dot"))
    if not data:
        return None
    return finish(data, _spectrum_layout(title, data))


def journey_figure(journeys: dict[str, OperationTotals]) -> Figure | None:
    """p50/p95/p99 of every whole journey, as grouped bars."""
    names = [name for name, total in sorted(journeys.items()) if total.counts.total]
    if not names:
        return None
    data = [
        {
            "type": "bar",
            "x": [text(name.removeprefix("journey.")) for name in names],
            "y": [
                None
                if journeys[name].percentiles_ms[q] is None
                else round(journeys[name].percentiles_ms[q] or 0.0, 3)
                for name in names
            ],
            "name": f"p{q:g}",
            "marker": {"color": PERCENTILE_COLOURS[q]},
        }
        for q in PERCENTILES
    ]
    layout = base_layout("Whole-journey duration", "ms", x_title="journey")
    layout["barmode"] = "group"
    layout["hovermode"] = "closest"
    return finish(data, layout)


def funnel_figure(steps: list[tuple[str, int]]) -> Figure | None:
    """Sessions reaching each operation of the journeys, most reached first."""
    if not steps or not any(count for _, count in steps):
        return None
    data = [
        {
            "type": "funnel",
            "y": [text(name) for name, _ in steps],
            "x": [count for _, count in steps],
            "textinfo": "value+percent initial",
            "marker": {"color": [colour(i) for i in range(len(steps))]},
        }
    ]
    layout = base_layout(
        "Journey funnel (sessions reaching each operation)", "", x_title="sessions"
    )
    layout["hovermode"] = "closest"
    layout["margin"]["l"] = 110
    return finish(data, layout)


def overlay_figure(
    op: str, base: list[tuple[float, float]], new: list[tuple[float, float]]
) -> Figure | None:
    """The percentile spectra of one operation in the base and the new run, overlaid."""
    if not base and not new:
        return None
    data = []
    if base:
        data.append(_trace(base, "base run", colour(5), "dash"))
    if new:
        data.append(_trace(new, "new run", colour(0)))
    label = "every request" if op == "*" else op
    layout = _spectrum_layout(f"{label}: latency distribution, base vs new", data)
    layout["height"] = 320
    return finish(data, layout)
