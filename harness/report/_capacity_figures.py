"""The figure of one capacity search: per step, against the arrival rate it offered, the
requests per second the target completed (top) and its p95/p99 latency (bottom), each step
marked held, broke or generator-short, the knee shaded between the highest rate that held and
the lowest that broke.

The rate axis is logarithmic: the search climbs geometrically, then bisects geometrically, so
equal ratios get equal room.
"""

from __future__ import annotations

import math
from typing import Any

from harness.report._capacity_view import (
    OUTCOME_LABELS,
    StepOutcome,
    outcome_text,
    step_outcome,
)
from harness.report._plot import PERCENTILE_COLOURS, Figure, base_layout, finish, rounded, text
from harness.rundir import CapacityKnee, CapacitySearch

RATE_AXIS = "offered arrival rate (journeys per second, log scale)"
OUTCOME_MARKERS: dict[StepOutcome, tuple[str, str]] = {
    "held": ("#1a7f37", "circle"),
    "broke": ("#cf222e", "x"),
    "short": ("#6c757d", "triangle-down"),
}
"""(colour, plotly marker symbol) of each step outcome."""
HELD_COLOUR = "#1a7f37"
BROKE_COLOUR = "#cf222e"


def search_title(search: CapacitySearch) -> str:
    instances = "1 instance" if search.instances == 1 else f"{search.instances} instances"
    return f"{instances}: achieved req/s and latency per step"


def _vertical(rate: float, colour: str, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A vertical line across both panels at `rate`, labelled at the top."""
    shape = {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": rate,
        "x1": rate,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1.5, "dash": "dash"},
    }
    note = {
        # annotations on a log axis are placed in log10 units (shapes in data units)
        "x": math.log10(rate),
        "y": 1,
        "xref": "x",
        "yref": "paper",
        "yanchor": "bottom",
        "text": text(label),
        "showarrow": False,
        "font": {"size": 10, "color": colour},
    }
    return shape, note


def _knee_marks(knee: CapacityKnee) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The held rate, the broken rate and the band between them (the knee lies inside)."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    held, broke = knee.held_rate_per_s, knee.broke_rate_per_s
    if held and broke and held < broke:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": held,
                "x1": broke,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(233, 160, 59, 0.18)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    for rate, colour, word in ((held, HELD_COLOUR, "held"), (broke, BROKE_COLOUR, "broke")):
        if rate:
            shape, note = _vertical(rate, colour, f"{word} {rate:,.4g}/s")
            shapes.append(shape)
            notes.append(note)
    return shapes, notes


def search_figure(search: CapacitySearch) -> Figure | None:
    """The search's steps sorted by offered rate, both panels; None when it ran no step."""
    steps = sorted(search.steps, key=lambda step: step.rate_per_s)
    if not steps:
        return None
    rates = [step.rate_per_s for step in steps]
    outcomes = [step_outcome(step) for step in steps]
    hover = [text(f"{step.run_id or 'step'}: {outcome_text(step)}") for step in steps]
    symbols = [OUTCOME_MARKERS[outcome][1] for outcome in outcomes]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": rates,
            "y": rounded([step.achieved_rps for step in steps]),
            "name": "achieved req/s",
            "line": {"color": "#3c6e9f", "width": 1.6},
            "yaxis": "y",
        }
    ]
    for outcome, (colour, symbol) in OUTCOME_MARKERS.items():
        chosen = [i for i, each in enumerate(outcomes) if each == outcome]
        if not chosen:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [rates[i] for i in chosen],
                "y": rounded([steps[i].achieved_rps for i in chosen]),
                "name": OUTCOME_LABELS[outcome],
                "text": [hover[i] for i in chosen],
                "marker": {"color": colour, "symbol": symbol, "size": 10},
                "yaxis": "y",
            }
        )
    for level, values in (
        (95.0, [step.latency_p95_ms for step in steps]),
        (99.0, [step.latency_p99_ms for step in steps]),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": rates,
                "y": rounded(values),
                "name": f"p{level:g} latency",
                "text": hover,
                "line": {"color": PERCENTILE_COLOURS[level], "width": 1.6},
                "marker": {"symbol": symbols, "size": 8},
                "yaxis": "y2",
            }
        )
    layout: dict[str, Any] = base_layout(
        search_title(search), "achieved req/s", height=520, x_title=RATE_AXIS
    )
    layout["hovermode"] = "closest"
    # ticks at the lowest rate times powers of two: where a doubling climb's steps fall
    layout["xaxis"].update(
        type="log", anchor="y2", tick0=math.log10(rates[0]), dtick=math.log10(2.0)
    )
    layout["yaxis"]["domain"] = [0.56, 1.0]
    layout["yaxis2"] = {
        "title": {"text": "latency (ms)"},
        "domain": [0.0, 0.44],
        "anchor": "x",
        "gridcolor": "#eeeeee",
        "rangemode": "tozero",
    }
    layout["legend"]["y"] = -0.16
    shapes, notes = _knee_marks(search.knee)
    layout["shapes"], layout["annotations"] = shapes, notes
    return finish(data, layout)
