"""The client-side time figures of a run: latency, offered and achieved load, errors, generator CPU."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.report._plot import (
    OUTCOME_COLOURS,
    PERCENTILE_COLOURS,
    Figure,
    colour,
    finish,
    limit_line,
    line_trace,
    rounded,
    text,
    time_layout,
)
from harness.report._series import PERCENTILES, Bins, OperationSeries, RunSeries

if TYPE_CHECKING:
    from collections.abc import Sequence

    from harness.plan import RunPlan
    from harness.timeline import LoadSample
    from harness.verdict import Check

LATENCY_STATISTICS = {"p50": 50.0, "p95": 95.0, "p99": 99.0}


def latency_figure(
    op: str,
    title: str,
    series: OperationSeries,
    x_s: list[float],
    plan: RunPlan,
    checks: list[Check],
) -> Figure:
    """p50/p95/p99 of one operation over time, service time dashed, the SLA's limits as lines."""
    data: list[dict[str, Any]] = []
    corrected = series.service_ms is not None
    for q in PERCENTILES:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x_s,
                "y": rounded(series.percentiles_ms[q]),
                "name": f"p{q:g}" + (" (from intended start)" if corrected else ""),
                "line": {"color": PERCENTILE_COLOURS[q], "width": 1.6},
            }
        )
    if series.service_ms is not None:
        for q in PERCENTILES:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x_s,
                    "y": rounded(series.service_ms[q]),
                    "name": f"p{q:g} service time",
                    "line": {"color": PERCENTILE_COLOURS[q], "width": 1, "dash": "dot"},
                }
            )
    layout = time_layout(plan, title, "latency (ms)")
    for check in checks:
        level = LATENCY_STATISTICS.get(check.statistic)
        if check.metric != "latency" or level is None or check.operation != op:
            continue
        kind = f", {check.latency_kind}" if check.latency_kind else ""
        bounds: tuple[tuple[float | None, str, str], ...] = (
            (check.limit, "limit", "dash"),
            (check.warn_limit, "warn", "dot"),
        )
        for value, word, dash in bounds:
            if value is None:
                continue
            shape, note = limit_line(
                value,
                f"{check.statistic} {word} {value:g} ms{kind}",
                PERCENTILE_COLOURS[level],
                dash=dash,
            )
            layout["shapes"].append(shape)
            layout["annotations"].append(note)
    return finish(data, layout)


def planned_at(plan: RunPlan, offset_s: float) -> tuple[float | None, float | None]:
    """(users, arrivals per second) the plan asks for at `offset_s`, linear within a stage."""
    stage = plan.stage_at(offset_s)
    if stage is None:
        return None, None
    share = (offset_s - stage.start_s) / stage.duration_s if stage.duration_s else 0.0

    def ramp(start: float | None, end: float | None) -> float | None:
        if start is None:
            return None
        return start + ((end if end is not None else start) - start) * share

    return ramp(stage.users_start, stage.users_end), ramp(
        stage.rate_start_per_s, stage.rate_end_per_s
    )


@dataclass(frozen=True, slots=True)
class LoadBins:
    """load.jsonl aggregated per display bin."""

    users: list[float | None]
    planned_per_s: list[float | None]
    started_per_s: list[float | None]
    dropped_per_s: list[float]
    workers: list[int | None]
    cpu_percent: dict[str, list[float | None]]
    """Highest CPU of each Locust process within the bin."""


def bin_load(samples: tuple[LoadSample, ...], bins: Bins) -> LoadBins:
    n = bins.count
    users: dict[int, list[int]] = defaultdict(list)
    planned: list[float | None] = [None] * n
    started: list[float | None] = [None] * n
    dropped = [0.0] * n
    workers: list[int | None] = [None] * n
    cpu: dict[str, list[float | None]] = {}
    for sample in samples:
        b = bins.index(sample.t)
        if not 0 <= b < n:
            continue
        if sample.users is not None:
            users[b].append(sample.users)
        if sample.planned_arrivals is not None:
            planned[b] = (planned[b] or 0.0) + sample.planned_arrivals / bins.width_s
        if sample.started_arrivals is not None:
            started[b] = (started[b] or 0.0) + sample.started_arrivals / bins.width_s
        dropped[b] += sample.dropped_arrivals / bins.width_s
        workers[b] = max(workers[b] or 0, sample.workers)
        for process, percent in sample.cpu_percent.items():
            column = cpu.setdefault(process, [None] * n)
            column[b] = max(column[b] or 0.0, percent)
    return LoadBins(
        users=[sum(users[b]) / len(users[b]) if users[b] else None for b in range(n)],
        planned_per_s=planned,
        started_per_s=started,
        dropped_per_s=dropped,
        workers=workers,
        cpu_percent=cpu,
    )


TROUBLE_EVENTS = ("worker_lost", "worker_exited", "generator_saturated", "behind_plan", "abort")
"""Generator events marked on the throughput figure: they explain a dip or a plateau."""


def _event_marks(layout: dict[str, Any], events: Sequence[tuple[float, str, str]]) -> None:
    for offset_s, kind, detail in events:
        if kind not in TROUBLE_EVENTS:
            continue
        layout["shapes"].append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": offset_s,
                "x1": offset_s,
                "y0": 0,
                "y1": 1,
                "line": {"color": OUTCOME_COLOURS["http_5xx"], "width": 1, "dash": "dot"},
            }
        )
        layout["annotations"].append(
            {
                "x": offset_s,
                "y": 0.95,
                "xref": "x",
                "yref": "paper",
                "text": text(kind.replace("_", " ")),
                "hovertext": text(detail),
                "showarrow": False,
                "xanchor": "left",
                "font": {"size": 10, "color": OUTCOME_COLOURS["http_5xx"]},
            }
        )


def load_figures(
    plan: RunPlan,
    series: RunSeries,
    load: LoadBins | None,
    events: Sequence[tuple[float, str, str]] = (),
) -> list[Figure]:
    """Achieved requests per second (generator trouble marked), and what the plan offered
    against what ran. `events` are (seconds since start, kind, detail)."""
    x = series.x_s
    width = series.bins.width_s
    achieved = series.operations.get("*")
    figures: list[Figure] = []
    if achieved is not None:
        layout = time_layout(plan, "Achieved throughput (every request)", "requests per second")
        _event_marks(layout, events)
        figures.append(
            finish(
                [
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": x,
                        "y": rounded(achieved.requests_per_s),
                        "name": "achieved requests/s",
                        "line": {"color": colour(0)},
                    }
                ],
                layout,
            )
        )
    planned = [planned_at(plan, offset + width / 2) for offset in x]
    data: list[dict[str, Any]] = []
    if plan.model == "closed":
        data.append(
            line_trace(x, [users for users, _ in planned], "planned users", colour(5), "dash")
        )
        if load is not None:
            data.append(line_trace(x, load.users, "running users", colour(0)))
        title, unit = "Offered load: users", "users"
    else:
        data.append(
            line_trace(x, [rate for _, rate in planned], "planned arrivals/s", colour(5), "dash")
        )
        if load is not None:
            data.append(line_trace(x, load.planned_per_s, "scheduled arrivals/s", colour(2)))
            data.append(line_trace(x, load.started_per_s, "started arrivals/s", colour(0)))
            data.append(
                {
                    "type": "bar",
                    "x": x,
                    "y": rounded(load.dropped_per_s),
                    "name": "dropped arrivals/s",
                    "marker": {"color": OUTCOME_COLOURS["http_5xx"]},
                }
            )
        title, unit = "Offered load: arrival rate", "journeys per second"
    figures.append(finish(data, time_layout(plan, title, unit)))
    return figures


def errors_figure(plan: RunPlan, series: RunSeries) -> Figure | None:
    """Failed requests per second, stacked by kind; None when nothing failed."""
    data = [
        {
            "type": "bar",
            "x": series.x_s,
            "y": rounded(values),
            "name": outcome.replace("_", " "),
            "marker": {"color": OUTCOME_COLOURS[outcome]},
        }
        for outcome, values in series.outcomes_per_s.items()
        if outcome != "ok" and any(values)
    ]
    if not data:
        return None
    layout = time_layout(plan, "Failed requests by kind", "requests per second")
    layout["barmode"] = "stack"
    layout["bargap"] = 0
    return finish(data, layout)


def generator_cpu_figure(plan: RunPlan, x_s: list[float], load: LoadBins) -> Figure | None:
    """CPU of every Locust process (highest in each bin); None without CPU samples."""
    if not load.cpu_percent:
        return None
    data = [
        line_trace(x_s, values, text(process), colour(index))
        for index, (process, values) in enumerate(sorted(load.cpu_percent.items()))
    ]
    return finish(data, time_layout(plan, "Load generator CPU", "% of one core"))
