"""pandas views of a run's timeline and load samples (pandas is imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas

from harness.timeline._reader import read_load
from harness.timeline._window import OUTCOMES

if TYPE_CHECKING:
    from harness.timeline._reader import Timeline


def _column(percentile: float) -> str:
    return f"p{percentile:g}_ms".replace(".", "_")


def timeline_frame(timeline: Timeline, percentiles: tuple[float, ...]) -> pandas.DataFrame:
    """One row per (second, operation), duplicates of a window already merged."""
    rows: list[dict[str, Any]] = []
    for op in timeline.operations():
        for window in timeline.series(op, percentiles):
            row: dict[str, Any] = {"t": window.t, "op": op}
            row.update(window.counts.as_dict())
            row["total"] = window.counts.total
            row["bytes"] = window.bytes
            for percentile, value in window.percentiles_ms.items():
                row[_column(percentile)] = value
            row["max_ms"] = window.max_ms
            rows.append(row)
    columns = ["t", "op", *OUTCOMES, "total", "bytes", *map(_column, percentiles), "max_ms"]
    frame = pandas.DataFrame(rows, columns=columns)
    return frame.sort_values(["t", "op"], ignore_index=True)


def load_frame(run_dir: str | Path) -> pandas.DataFrame:
    """One row per second of load.jsonl; CPU per process as `cpu_<process>` columns."""
    rows: list[dict[str, Any]] = []
    for sample in read_load(run_dir):
        row: dict[str, Any] = {
            "t": sample.t,
            "stage": sample.stage,
            "users": sample.users,
            "planned_arrivals": sample.planned_arrivals,
            "started_arrivals": sample.started_arrivals,
            "dropped_arrivals": sample.dropped_arrivals,
            "achieved_rps": sample.achieved_rps,
            "workers": sample.workers,
        }
        for process, cpu in sample.cpu_percent.items():
            row[f"cpu_{process}"] = cpu
        rows.append(row)
    return pandas.DataFrame(rows)
