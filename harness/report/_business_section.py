"""The business view: the target's own metrics, whatever it names them, over the run.

The report knows no target's business. Every series of server.jsonl that is not one of the
server's resources (`RESOURCE_METRICS`: CPU, memory, pools, traffic, ...) is a metric the
target exposes of its own, and this section shows each one it finds: one card per metric and
one row of the figure per metric. Names carry their unit, and the unit decides the card:

- `<what>_per_s`, a rate: its total over the run (the integral of the rate), e.g.
  `orders_per_s` -> "orders"; `<what>_cents_per_s` is shown in currency units.
- anything else, a level: its mean over the run.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

from harness.report._data import ServerSample
from harness.report._plot import Figure, base_layout, colour, rounded, show_sparse_points, text
from harness.report._series import RunSeries
from harness.report._server_section import RESOURCE_METRICS, binned, by_series

RATE_SUFFIX = "_per_s"
CENTS_SUFFIX = "_cents"


@dataclass(frozen=True, slots=True)
class BusinessCard:
    """One of the target's own metrics, summed up over the run."""

    metric: str
    """The series name in server.jsonl, e.g. "orders_per_s"."""
    label: str
    """What the value is, in words: "orders", "revenue (currency units)", "queue depth (mean)"."""
    value: float
    """The total of a rate over the run, or the mean of a level."""

    @property
    def shown(self) -> str:
        """The value as the card shows it: whole numbers without decimals, others with two."""
        value = round(self.value, 2)
        return f"{int(value):,}" if value.is_integer() else f"{value:,.2f}"


def business_metrics(samples: tuple[ServerSample, ...]) -> list[str]:
    """The metrics of server.jsonl that are the target's own (not resources), sorted."""
    return sorted({sample.metric for sample in samples} - RESOURCE_METRICS)


def _integral(rows: list[ServerSample]) -> float:
    """∫ rate dt over the samples: each rate holds until the next sample (the last for the
    median spacing)."""
    if not rows:
        return 0.0
    gaps = [later.t - earlier.t for earlier, later in itertools.pairwise(rows)]
    typical = statistics.median(gaps) if gaps else 1.0
    return sum(row.value * (gaps[i] if i < len(gaps) else typical) for i, row in enumerate(rows))


def _card(metric: str, series: list[list[ServerSample]]) -> BusinessCard:
    words = metric.removesuffix(RATE_SUFFIX)
    if metric.endswith(RATE_SUFFIX):
        total = sum(_integral(rows) for rows in series)
        if words.endswith(CENTS_SUFFIX):
            label = f"{words.removesuffix(CENTS_SUFFIX).replace('_', ' ')} (currency units)"
            return BusinessCard(metric, label, total / 100.0)
        return BusinessCard(metric, words.replace("_", " "), total)
    values = [sample.value for rows in series for sample in rows]
    return BusinessCard(metric, f"{words.replace('_', ' ')} (mean)", statistics.fmean(values))


def business_cards(samples: tuple[ServerSample, ...]) -> list[BusinessCard]:
    """One card per metric of the target's own; [] when server.jsonl holds none."""
    grouped = by_series(samples)
    return [
        _card(metric, [rows for (name, _), rows in sorted(grouped.items()) if name == metric])
        for metric in business_metrics(samples)
    ]


def business_figure(samples: tuple[ServerSample, ...], series: RunSeries) -> Figure | None:
    """Each of the target's own metrics over time, one row each (their scales differ)."""
    from plotly.subplots import make_subplots

    metrics = business_metrics(samples)
    if not metrics:
        return None
    grouped = by_series(samples)
    figure = make_subplots(
        rows=len(metrics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08 if len(metrics) > 1 else 0.0,
        subplot_titles=[text(metric) for metric in metrics],
    )
    index = 0
    for row, metric in enumerate(metrics, start=1):
        for (found, labels), rows in sorted(grouped.items()):
            if found != metric:
                continue
            name = ", ".join(f"{key}={value}" for key, value in labels) or metric
            figure.add_trace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": series.x_s,
                    "y": rounded(binned(rows, series.bins, 1.0), 2),
                    "name": text(name),
                    "line": {"color": colour(index + 2)},
                },
                row=row,
                col=1,
            )
            index += 1
        figure.update_yaxes(rangemode="tozero", row=row, col=1)
    layout = base_layout("Business view: metrics of the target", "", height=90 + 200 * len(metrics))
    layout.pop("xaxis")
    layout.pop("yaxis")
    figure.update_layout(layout)
    figure.update_xaxes(gridcolor="#eeeeee")
    figure.update_xaxes(title_text="seconds since the start of the load", row=len(metrics), col=1)
    result: Figure = figure.to_plotly_json()
    result["layout"].pop("template", None)
    show_sparse_points(result["data"])
    return result
