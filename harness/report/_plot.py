"""Shared pieces of every plotly figure: layout, stage shading, limit lines, safe text.

Plotly draws trace names, annotations and hover text as its own small HTML dialect (it reads
`<b>`, `<a href>` ... and decodes entities), so every user-controlled string placed in a figure
goes through `text()` first: escaped, it is shown literally and never interpreted.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from harness.plan import RunPlan

Figure = dict[str, Any]
"""A figure ready for Plotly.newPlot: {"data": [...], "layout": {...}}."""

PERCENTILE_COLOURS = {50.0: "#2a9d8f", 95.0: "#e9a03b", 99.0: "#d1495b"}
OUTCOME_COLOURS = {
    "http_4xx": "#e9a03b",
    "http_5xx": "#d1495b",
    "timeout": "#8e5ea2",
    "connection_error": "#6c757d",
    "check_failed": "#3c6e9f",
    "dropped": "#b5651d",
    "interrupted": "#adb5bd",
}
PALETTE = (
    "#3c6e9f",
    "#e9a03b",
    "#2a9d8f",
    "#d1495b",
    "#8e5ea2",
    "#6c757d",
    "#9c6644",
    "#c9184a",
    "#4d908e",
    "#577590",
)
TIME_AXIS = "seconds since the start of the load"


def text(value: object) -> str:
    """A user-controlled string made safe for plotly's text rendering."""
    return html.escape(str(value), quote=True)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def rounded(values: Sequence[float | None], digits: int = 3) -> list[float | None]:
    """Values rounded for the page (the figures show, they do not judge)."""
    return [None if v is None else round(v, digits) for v in values]


def base_layout(title: str, y_title: str, *, height: int = 320, x_title: str = TIME_AXIS) -> Any:
    """The layout every figure starts from: no template (it would weigh ~8 kB per figure)."""
    return {
        "title": {"text": text(title), "font": {"size": 14}, "x": 0.01},
        "template": "none",
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 45},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.22},
        "xaxis": {"title": {"text": x_title}, "gridcolor": "#eeeeee", "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#eeeeee", "rangemode": "tozero"},
    }


def time_layout(plan: RunPlan, title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    """The layout of a figure over the run's time axis: the plan's stages shaded."""
    layout: dict[str, Any] = base_layout(title, y_title, **extra)
    shapes, labels = stage_shading(plan)
    layout["shapes"], layout["annotations"] = shapes, labels
    return layout


def stage_shading(plan: RunPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Shapes and labels that shade every stage of the plan on a time axis."""
    shapes: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for index, stage in enumerate(plan.stages):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": stage.start_s,
                "x1": stage.end_s,
                "y0": 0,
                "y1": 1,
                "fillcolor": "#f1f3f5" if index % 2 == 0 else "#e7ebef",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        labels.append(
            {
                "x": (stage.start_s + stage.end_s) / 2,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": text(stage.name),
                "showarrow": False,
                "font": {"size": 10, "color": "#555555"},
            }
        )
    if plan.warmup_s > 0:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": 0,
                "x1": plan.warmup_s,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(255, 236, 179, 0.45)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    return shapes, labels


def line_trace(
    x: Sequence[float],
    y: Sequence[float | None],
    name: str,
    line_colour: str,
    dash: str = "solid",
) -> dict[str, Any]:
    """A plotly line trace of `y` over `x` (values rounded), in `line_colour`."""
    return {
        "type": "scatter",
        "mode": "lines",
        "x": list(x),
        "y": rounded(y),
        "name": name,
        "line": {"color": line_colour, "dash": dash, "width": 1.6},
    }


def limit_line(value: float, label: str, line_colour: str, *, dash: str = "dash") -> Any:
    """A horizontal line across the plot at `value`, with its label at the right end."""
    shape = {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": value,
        "y1": value,
        "line": {"color": line_colour, "width": 1.5, "dash": dash},
    }
    note = {
        "x": 1,
        "y": value,
        "xref": "paper",
        "yref": "y",
        "xanchor": "right",
        "yanchor": "bottom",
        "text": text(label),
        "showarrow": False,
        "font": {"size": 10, "color": line_colour},
    }
    return shape, note


def show_sparse_points(traces: list[dict[str, Any]]) -> None:
    """Mark the points of line traces that hold a lone point between gaps (it draws no line)."""
    for trace in traces:
        if trace.get("type") != "scatter" or trace.get("mode") != "lines":
            continue
        y = list(trace.get("y") or [])
        present = [value is not None for value in y]
        lone = any(
            here and not (i > 0 and present[i - 1]) and not (i + 1 < len(y) and present[i + 1])
            for i, here in enumerate(present)
        )
        if lone:
            trace["mode"] = "lines+markers"
            trace["marker"] = {**trace.get("marker", {}), "size": 4}


def finish(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    """Validate the figure with plotly and return it as plain JSON-ready data."""
    import plotly.graph_objects as go

    show_sparse_points(data)
    figure = go.Figure(data=data, layout=layout)
    result: Figure = figure.to_plotly_json()
    result["layout"].pop("template", None)
    return result
