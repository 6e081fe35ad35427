"""pandas views of a run's timeline and load samples (pandas is imported only here)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas

from harness.timeline._records import LoadSample
from harness.timeline._window import OUTCOMES, WindowStats


def _column(percentile: float) -> str:
    return f"p{percentile:g}_ms".replace(".", "_")


def timeline_frame(
    windows: Iterable[WindowStats], percentiles: tuple[float, ...]
) -> pandas.DataFrame:
    """One row per (second, operation), duplicates of a window already merged; the
    connection phases as `new_connections`, `connect_p<N>_ms` and `ttfb_p<N>_ms`."""
    rows: list[dict[str, Any]] = []
    for window in windows:
        row: dict[str, Any] = {"t": window.t, "op": window.op}
        row.update(window.counts.as_dict())
        row["total"] = window.counts.total
        row["bytes"] = window.bytes
        for percentile, value in window.percentiles_ms.items():
            row[_column(percentile)] = value
        row["max_ms"] = window.max_ms
        row["new_connections"] = window.new_connections
        for phase, values in (
            ("connect", window.connect_percentiles_ms),
            ("ttfb", window.ttfb_percentiles_ms),
        ):
            for percentile in percentiles:
                row[f"{phase}_{_column(percentile)}"] = values.get(percentile) if values else None
        rows.append(row)
    columns = [
        "t",
        "op",
        *OUTCOMES,
        "total",
        "bytes",
        *map(_column, percentiles),
        "max_ms",
        "new_connections",
        *(f"{phase}_{_column(q)}" for phase in ("connect", "ttfb") for q in percentiles),
    ]
    frame = pandas.DataFrame(rows, columns=columns)
    return frame.sort_values(["t", "op"], ignore_index=True)


def load_frame(samples: Iterable[LoadSample]) -> pandas.DataFrame:
    """One row per load sample; CPU per process as `cpu_<process>` columns."""
    rows: list[dict[str, Any]] = []
    for sample in samples:
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
