"""The server's resources (server.jsonl), time-aligned with client latency in one figure."""

from __future__ import annotations

from collections import defaultdict

from harness.report._data import ServerSample
from harness.report._plot import (
    Figure,
    base_layout,
    colour,
    rounded,
    show_sparse_points,
    text,
)
from harness.report._series import Bins, RunSeries

# (panel title, unit, [(metric, factor, name)]): every panel with data becomes one row
PANELS: tuple[tuple[str, str, tuple[tuple[str, float, str], ...]], ...] = (
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

RESOURCE_METRICS = frozenset(
    {metric for _, _, metrics in PANELS for metric, _, _ in metrics}
    | {"cpu_cores", "memory_bytes", "latency_p95_ms"}
)
"""The canonical metrics of the server's resources and traffic (what `harness.observe` makes of
any target's /metrics or Prometheus); every other series of server.jsonl is the target's own."""


def _label_text(labels: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{key}={value}" for key, value in labels)


def binned(samples: list[ServerSample], bins: Bins, factor: float) -> list[float | None]:
    """The mean of the samples falling in each display bin, times `factor` (None if none)."""
    sums = [0.0] * bins.count
    counts = [0] * bins.count
    for sample in samples:
        b = bins.index(int(sample.t))
        if 0 <= b < bins.count:
            sums[b] += sample.value * factor
            counts[b] += 1
    return [sums[b] / counts[b] if counts[b] else None for b in range(bins.count)]


def by_series(
    samples: tuple[ServerSample, ...],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[ServerSample]]:
    """The samples of each (metric, labels) series, in time order."""
    grouped: dict[tuple[str, tuple[tuple[str, str], ...]], list[ServerSample]] = defaultdict(list)
    for sample in samples:
        grouped[(sample.metric, sample.labels)].append(sample)
    return grouped


def server_figure(samples: tuple[ServerSample, ...], series: RunSeries) -> Figure | None:
    """Client p95 on top, then every server panel with data, on one shared time axis."""
    from plotly.subplots import make_subplots

    grouped = by_series(samples)
    panels: list[tuple[str, str, list[tuple[str, list[float | None]]]]] = []
    for title, unit, metrics in PANELS:
        traces: list[tuple[str, list[float | None]]] = []
        for metric, factor, name in metrics:
            for (found, labels), samples_of_series in sorted(grouped.items()):
                if found != metric:
                    continue
                label = f"{name} ({_label_text(labels)})" if labels else name
                traces.append((label, binned(samples_of_series, series.bins, factor)))
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
