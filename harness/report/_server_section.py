"""The server's own view (server.jsonl): resources time-aligned with latency, and the business view."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from harness.report._data import ServerSample
from harness.report._plot import (
    Figure,
    base_layout,
    colour,
    finish,
    rounded,
    show_sparse_points,
    text,
)
from harness.report._series import Bins, RunSeries

BUSINESS_METRICS = ("orders_per_s", "revenue_cents_per_s", "payment_declines_per_s")

# (panel title, unit, [(metric, factor, name)]): every panel with data becomes one row
_PANELS: tuple[tuple[str, str, tuple[tuple[str, float, str], ...]], ...] = (
    ("CPU and memory", "%", (("cpu_ratio", 100.0, "CPU"), ("memory_ratio", 100.0, "memory"))),
    ("Cache hit ratio", "%", (("cache_hit_ratio", 100.0, "hit ratio"),)),
    (
        "Database pool",
        "connections",
        (("db_pool_in_use", 1.0, "in use"), ("db_pool_size", 1.0, "size")),
    ),
    (
        "Circuit breakers (0 closed, 1 half-open, 2 open)",
        "state",
        (("breaker_state", 1.0, "state"),),
    ),
    (
        "Server requests",
        "per second",
        (("rps", 1.0, "requests/s"), ("rate_limited_per_s", 1.0, "rate-limited/s")),
    ),
    ("Server error ratio", "%", (("error_ratio", 100.0, "errors"),)),
)


def _label_text(labels: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{key}={value}" for key, value in labels)


def _binned(samples: list[ServerSample], bins: Bins, factor: float) -> list[float | None]:
    sums = [0.0] * bins.count
    counts = [0] * bins.count
    for sample in samples:
        b = bins.index(int(sample.t))
        if 0 <= b < bins.count:
            sums[b] += sample.value * factor
            counts[b] += 1
    return [sums[b] / counts[b] if counts[b] else None for b in range(bins.count)]


def _by_series(
    samples: tuple[ServerSample, ...],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[ServerSample]]:
    grouped: dict[tuple[str, tuple[tuple[str, str], ...]], list[ServerSample]] = defaultdict(list)
    for sample in samples:
        grouped[(sample.metric, sample.labels)].append(sample)
    return grouped


def server_figure(samples: tuple[ServerSample, ...], series: RunSeries) -> Figure | None:
    """Client p95 on top, then every server panel with data, on one shared time axis."""
    from plotly.subplots import make_subplots

    grouped = _by_series(samples)
    panels: list[tuple[str, str, list[tuple[str, list[float | None]]]]] = []
    for title, unit, metrics in _PANELS:
        traces: list[tuple[str, list[float | None]]] = []
        for metric, factor, name in metrics:
            for (found, labels), samples_of_series in sorted(grouped.items()):
                if found != metric:
                    continue
                label = f"{name} ({_label_text(labels)})" if labels else name
                traces.append((label, _binned(samples_of_series, series.bins, factor)))
        if traces:
            panels.append((title, unit, traces))
    if not panels:
        return None
    everything = series.operations.get("*")
    rows = 1 + len(panels)
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=[
            "Client latency p95 (every request), ms",
            *[f"{text(title)}, {unit}" for title, unit, _ in panels],
        ],
    )
    if everything is not None:
        figure.add_trace(
            {
                "type": "scatter",
                "mode": "lines",
                "x": series.x_s,
                "y": rounded(everything.percentiles_ms[95.0]),
                "name": "client p95 ms",
                "line": {"color": colour(1)},
            },
            row=1,
            col=1,
        )
    index = 0
    for row, (_, _, panel_traces) in enumerate(panels, start=2):
        for name, values in panel_traces:
            figure.add_trace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": series.x_s,
                    "y": rounded(values),
                    "name": text(name),
                    "line": {"color": colour(index)},
                },
                row=row,
                col=1,
            )
            index += 1
    layout = base_layout("Server metrics, aligned with client latency", "", height=170 * rows + 80)
    layout.pop("xaxis")
    layout.pop("yaxis")
    layout["legend"] = {"orientation": "v", "x": 1.02, "y": 1}
    layout["margin"]["r"] = 180
    figure.update_layout(layout)
    figure.update_xaxes(title_text=None, gridcolor="#eeeeee")
    figure.update_xaxes(title_text="seconds since the start of the load", row=rows, col=1)
    result: Figure = figure.to_plotly_json()
    result["layout"].pop("template", None)
    show_sparse_points(result["data"])
    return result


@dataclass(frozen=True, slots=True)
class BusinessTotals:
    """The reference backend's business figures over the run."""

    orders: float
    """Orders placed."""
    revenue_cents: float
    """Revenue of those orders, in cents."""
    declines: float
    """Payments declined."""

    @property
    def decline_ratio(self) -> float | None:
        attempts = self.orders + self.declines
        return self.declines / attempts if attempts else None


def _integral(rows: list[ServerSample]) -> float:
    """∫ rate dt over the samples: each rate holds until the next sample (the last for the
    median spacing)."""
    if not rows:
        return 0.0
    gaps = [later.t - earlier.t for earlier, later in itertools.pairwise(rows)]
    typical = statistics.median(gaps) if gaps else 1.0
    return sum(row.value * (gaps[i] if i < len(gaps) else typical) for i, row in enumerate(rows))


def business_totals(samples: tuple[ServerSample, ...]) -> BusinessTotals | None:
    """Orders, revenue and declines from the business metrics; None when there are none."""
    grouped = _by_series(samples)
    found = {metric for metric, _ in grouped}
    if not found & set(BUSINESS_METRICS):
        return None
    totals = {
        metric: sum(_integral(rows) for (name, _), rows in grouped.items() if name == metric)
        for metric in BUSINESS_METRICS
    }
    return BusinessTotals(
        totals["orders_per_s"], totals["revenue_cents_per_s"], totals["payment_declines_per_s"]
    )


def business_figure(samples: tuple[ServerSample, ...], series: RunSeries) -> Figure | None:
    """Orders and declines per second, revenue per second on its own axis."""
    grouped = _by_series(samples)
    data: list[dict[str, Any]] = []
    for index, (metric, factor, name, axis) in enumerate(
        (
            ("orders_per_s", 1.0, "orders/s", "y"),
            ("payment_declines_per_s", 1.0, "payment declines/s", "y"),
            ("revenue_cents_per_s", 0.01, "revenue/s", "y2"),
        )
    ):
        rows = [s for (found, _), group in grouped.items() if found == metric for s in group]
        if rows:
            rows.sort(key=lambda sample: sample.t)
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": series.x_s,
                    "y": rounded(_binned(rows, series.bins, factor), 2),
                    "name": name,
                    "yaxis": axis,
                    "line": {"color": colour(index + 2)},
                }
            )
    if not data:
        return None
    layout = base_layout("Business view (reference backend)", "per second")
    layout["yaxis"]["rangemode"] = "tozero"
    layout["yaxis2"] = {
        "title": {"text": "revenue per second"},
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "showgrid": False,
    }
    layout["margin"]["r"] = 70
    return finish(data, layout)
