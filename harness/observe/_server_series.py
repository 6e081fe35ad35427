"""The server-side series of a run: `server.jsonl` points and the `server.json` summary.

One JSON object per line, appended during the run (direct scrape) or written after it
(Prometheus range queries):

    {"t": 1764222000.0, "metric": "cpu_ratio", "labels": {}, "value": 0.43}

Metric names carry their unit; ratios are 0-1 fractions. The canonical metrics (`METRICS`)
describe the server's resources and traffic; every other series is a metric family of the
target's own, discovered in its exposition and summed over its labels: a counter as
`<counter>_per_s`, its rate (`tickets_sold_total` -> `tickets_sold_per_s`), a gauge under
its own name.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from harness.errors import RunDirError

SERVER_FILE = "server.jsonl"
SERVER_INFO_FILE = "server.json"

METRICS: dict[str, str] = {
    "cpu_ratio": "CPU of the target's processes / CPU cores available to it (0-1)",
    "cpu_cores": "cores busy in the target's processes",
    "memory_ratio": "resident memory of the target / memory available to it (0-1)",
    "memory_bytes": "resident memory of the target's processes",
    "rps": "requests per second the server saw (health, ready and metrics routes excluded)",
    "latency_p95_ms": "p95 server-side latency per route (labels: route)",
    "error_ratio": "5xx answers / all answers",
    "cache_hit_ratio": "cache hits / look-ups per cache type (labels: cache_type)",
    "db_pool_in_use": "database connections checked out",
    "db_pool_size": "database connections open",
    "breaker_state": "circuit breaker per dependency: 0 closed, 1 half-open, 2 open",
    "rate_limited_per_s": "requests the gateway refused with 429, per second",
}
"""Every canonical metric (the server's resources and traffic) and what it measures; the
target's own counters are discovered and written as `<counter>_per_s`, its gauges by name."""

Source = Literal["scrape", "prometheus"]
Labels = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ServerPoint:
    """One value of one server-side series at one moment."""

    t: float
    """Unix time of the value."""
    metric: str
    """Canonical metric name (see METRICS), or a series of the target's own
    (`<counter>_per_s`, a gauge's name)."""
    labels: dict[str, str]
    """Labels that tell series of one metric apart (route, cache_type, dependency, objective)."""
    value: float
    """The value in the metric's unit."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "t": round(self.t, 3),
                "metric": self.metric,
                "labels": self.labels,
                "value": self.value,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """How the server-side series of a run were obtained (`server.json`)."""

    source: Source
    """"scrape" (the target's /metrics, read during the run) or "prometheus"."""
    url: str
    """Where they came from, secrets stripped."""
    interval_s: float
    """Scrape interval, or the step of the range queries."""
    samples: int
    """Points written to server.jsonl."""
    errors: tuple[str, ...] = ()
    """What went wrong on the way (failed scrapes, queries without data)."""
    cpu_cores_available: float | None = None
    """Cores cpu_ratio is relative to."""
    memory_bytes_available: float | None = None
    """Bytes memory_ratio is relative to."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "url": self.url,
            "interval_s": self.interval_s,
            "samples": self.samples,
            "errors": list(self.errors),
            "cpu_cores_available": self.cpu_cores_available,
            "memory_bytes_available": self.memory_bytes_available,
        }


@dataclass(slots=True)
class ServerSeries:
    """Every server-side point of a run, grouped by metric, ready for range questions."""

    points: dict[str, list[ServerPoint]] = field(default_factory=dict)
    """Metric -> its points in time order."""
    info: dict[str, Any] = field(default_factory=dict)
    """server.json as written (empty when absent)."""
    _times: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, points: Iterable[ServerPoint], info: dict[str, Any] | None = None) -> ServerSeries:
        grouped: dict[str, list[ServerPoint]] = defaultdict(list)
        for point in points:
            grouped[point.metric].append(point)
        for rows in grouped.values():
            rows.sort(key=lambda point: point.t)
        return cls(dict(grouped), info or {})

    def metrics(self) -> set[str]:
        """Metric names with at least one point."""
        return {metric for metric, rows in self.points.items() if rows}

    def values(
        self,
        metric: str,
        labels: Labels | None = None,
        start_t: float | None = None,
        end_t: float | None = None,
    ) -> list[tuple[float, float]]:
        """(t, value) of `metric` in [start_t, end_t), time order.

        `labels=None` takes every series of the metric; a mapping (`{}` included) takes only
        the series whose labels are exactly that mapping.
        """
        rows = self.points.get(metric, [])
        times = self._times.get(metric)
        if times is None:
            times = self._times[metric] = [point.t for point in rows]
        first = bisect.bisect_left(times, start_t) if start_t is not None else 0
        last = bisect.bisect_left(times, end_t) if end_t is not None else len(rows)
        wanted = dict(labels) if labels is not None else None
        return [
            (point.t, point.value)
            for point in rows[first:last]
            if wanted is None or point.labels == wanted
        ]

    def label_sets(self, metric: str) -> list[dict[str, str]]:
        """The distinct label sets of `metric`, in first-seen order."""
        seen: list[dict[str, str]] = []
        for point in self.points.get(metric, ()):
            if point.labels not in seen:
                seen.append(point.labels)
        return seen

    @property
    def source(self) -> str:
        return str(self.info.get("source", "unknown"))


def read_server_series(run_dir: Path) -> ServerSeries | None:
    """The server-side series of `run_dir`; None when the run collected none.

    A torn last line (the scraper stopped mid-write) is skipped; any other malformed line
    is a RunDirError naming the file and line.
    """
    path = run_dir / SERVER_FILE
    if not path.is_file():
        return None
    info: dict[str, Any] = {}
    info_path = run_dir / SERVER_INFO_FILE
    if info_path.is_file():
        try:
            info = json.loads(info_path.read_text())
        except (OSError, ValueError) as error:
            raise RunDirError(f"{info_path} is unreadable: {error}") from None
    lines = path.read_text().splitlines()
    points: list[ServerPoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            points.append(_point(json.loads(line)))
        except (ValueError, KeyError, TypeError) as error:
            if number == len(lines):
                break
            raise RunDirError(f"{path}:{number}: not a server metrics point ({error})") from None
    return ServerSeries.of(points, info)


def _point(row: dict[str, Any]) -> ServerPoint:
    value = float(row["value"])
    labels = row.get("labels") or {}
    if not isinstance(labels, dict):
        raise TypeError("labels must be an object")
    return ServerPoint(
        float(row["t"]), str(row["metric"]), {str(k): str(v) for k, v in labels.items()}, value
    )


class SeriesWriter:
    """Appends points to RUN_DIR/server.jsonl, one flushed line each (a crash loses none)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / SERVER_FILE
        self._file: IO[str] | None = None
        self.samples = 0

    def write(self, points: Iterable[ServerPoint]) -> None:
        lines = [point.to_json() for point in points if math.isfinite(point.value)]
        if not lines:
            return
        if self._file is None:
            self._file = self.path.open("a")
        self._file.write("\n".join(lines) + "\n")
        self._file.flush()
        self.samples += len(lines)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_server_info(run_dir: Path, info: ServerInfo) -> None:
    """Write RUN_DIR/server.json."""
    from harness.rundir import write_json_atomically

    write_json_atomically(run_dir / SERVER_INFO_FILE, info.to_dict())
