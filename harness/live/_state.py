"""What the live view knows about a run: every finished second fed in, figures read out.

`LiveState` is fed the lines the engine appended to the run directory (load.jsonl,
timeline.jsonl, events.jsonl) in the order the engine writes them: a second's timeline lines
before its load line. Per operation it keeps running totals (outcome counts, one HDR
histogram since the start, the Prometheus buckets) and the last `RECENT_S` seconds; per load
second one history point for the charts (capped at `HISTORY_CAP`). Memory stays bounded by
the number of operations, not the run's length, except the provisional judge's lines
(`lines`), which the verdict needs whole.

It is not thread-safe by itself: the feed and the HTTP handlers hold `lock` around it.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.plan import RunPlan
from harness.rundir import RunRecord
from harness.timeline import (
    JOURNEY_PREFIX,
    EngineEvent,
    LatencyHistogram,
    LoadSample,
    OutcomeCounts,
    WindowLine,
)

RECENT_S = 10
"""The "recent" figures (RPS, percentiles, errors) cover the last this many seconds."""
HISTORY_CAP = 3600
"""History points kept for the charts (one a second: the last hour)."""
EVENTS_KEPT = 20
"""Engine events shown (the latest)."""
PERCENTILES = (50.0, 95.0, 99.0)
DURATION_BUCKETS_S = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
"""Upper bounds of perfctl_request_duration_seconds (1 ms .. 60 s, then +Inf)."""


def _percentiles(histogram: LatencyHistogram) -> dict[str, float | None]:
    values = histogram.percentiles_ms(PERCENTILES)
    return {f"p{p:g}_ms": _rounded(values[p]) for p in PERCENTILES}


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(slots=True)
class _Recent:
    t: int
    counts: OutcomeCounts
    latency: LatencyHistogram


@dataclass(slots=True)
class OperationState:
    """One operation's totals since the start and its last seconds."""

    counts: OutcomeCounts = field(default_factory=OutcomeCounts)
    """Requests since the start, by outcome."""
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """Every latency since the start."""
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS_S) + 1))
    """Latencies per DURATION_BUCKETS_S bucket (not cumulative; the last is +Inf)."""
    latency_sum_s: float = 0.0
    """Sum of the latencies, at bucket precision."""
    recent: deque[_Recent] = field(default_factory=deque)

    def add(self, line: WindowLine, latency: LatencyHistogram) -> None:
        self.counts = self.counts + line.counts
        self.latency.add(latency)
        for value_ms, count in latency.buckets_ms():
            value_s = value_ms / 1000.0
            self.buckets[bisect.bisect_left(DURATION_BUCKETS_S, value_s)] += count
            self.latency_sum_s += value_s * count
        self.recent.append(_Recent(line.t, line.counts, latency))

    def forget_before(self, t: int) -> None:
        while self.recent and self.recent[0].t < t:
            self.recent.popleft()

    def recent_figures(self, span_s: int) -> dict[str, Any]:
        latency = LatencyHistogram()
        counts = OutcomeCounts()
        for second in self.recent:
            latency.add(second.latency)
            counts = counts + second.counts
        return {
            "rps": round(counts.total / span_s, 2),
            "requests": counts.total,
            "failed": counts.failed,
            "error_rate": round(counts.failed / counts.total, 4) if counts.total else 0.0,
            **_percentiles(latency),
        }

    def total_figures(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "requests": counts.total,
            "failed": counts.failed,
            "error_rate": round(counts.failed / counts.total, 4) if counts.total else 0.0,
            "outcomes": {name: n for name, n in counts.as_dict().items() if n},
            **_percentiles(self.latency),
        }


@dataclass(frozen=True, slots=True)
class CheckView:
    """One objective's provisional status, as the page and /metrics show it."""

    id: str
    """The objective's id."""
    operation: str
    """Its operation (or component)."""
    status: str
    """The verdict's check status, judged on the data so far."""
    limit: str
    """The limit as a person reads it (`< 300 ms`)."""
    measured: str
    """The measured value so far as a person reads it."""
    message: str
    """The verdict's one-line explanation."""


@dataclass(slots=True)
class Ending:
    """How the run came out, once perfctl has judged and reported it."""

    status: str
    """run.json's status (completed, degraded, aborted, failed)."""
    reason: str
    """run.json's exit reason."""
    verdict: str | None = None
    """The verdict's status; None until verdict.json exists."""
    report: bool = False
    """The run's index.html has been written."""


class LiveState:
    """Everything the live view shows, fed one batch of new lines at a time."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.record: RunRecord | None = None
        self.plan: RunPlan | None = None
        self.operations: dict[str, OperationState] = {}
        self.load: LoadSample | None = None
        self.arrivals = {"planned": 0, "started": 0, "dropped": 0}
        self.history: list[dict[str, Any]] = []
        self.history_dropped = 0
        """Points removed from the front of `history` (the cap): point n is history[n - this]."""
        self.events: deque[EngineEvent] = deque(maxlen=EVENTS_KEPT)
        self.lines: list[WindowLine] = []
        """Every timeline line so far, for the provisional judge."""
        self.load_samples: list[LoadSample] = []
        self.all_events: list[EngineEvent] = []
        self.checks: tuple[CheckView, ...] = ()
        self.checks_note = "waiting for the first seconds of load"
        self.ending: Ending | None = None
        self.corrupt_lines = 0
        self._pending: dict[int, dict[str, LatencyHistogram]] = {}
        self._latest_t = 0

    # -- feeding ----------------------------------------------------------------------------

    def start(self, record: RunRecord, plan: RunPlan) -> None:
        """The run this state follows (run.json as last read, and its plan)."""
        self.record = record
        self.plan = plan

    def add(
        self,
        load: Sequence[LoadSample],
        lines: Iterable[WindowLine],
        events: Iterable[EngineEvent] = (),
    ) -> None:
        """New lines of the three files; `lines` read after `load`, so a load second's
        timeline lines are always in (the engine writes them first)."""
        for line in lines:
            try:
                latency = line.latency()
            except ValueError:
                self.corrupt_lines += 1  # the evaluation afterwards names its line
                continue
            self.lines.append(line)
            self.operations.setdefault(line.op, OperationState()).add(line, latency)
            self._pending.setdefault(line.t, {})
            pending = self._pending[line.t].setdefault(line.op, LatencyHistogram())
            pending.add(latency)
            self._latest_t = max(self._latest_t, line.t)
        for sample in load:
            self._add_load(sample)
        for event in events:
            self.events.append(event)
            self.all_events.append(event)
        for operation in self.operations.values():
            operation.forget_before(self._latest_t - RECENT_S + 1)

    def _add_load(self, sample: LoadSample) -> None:
        self.load = sample
        self.load_samples.append(sample)
        self._latest_t = max(self._latest_t, sample.t)
        self.arrivals["planned"] += sample.planned_arrivals or 0
        self.arrivals["started"] += sample.started_arrivals or 0
        self.arrivals["dropped"] += sample.dropped_arrivals
        seconds = self._pending.pop(sample.t, {})
        for old in [t for t in self._pending if t < sample.t]:
            del self._pending[old]  # a late worker's line for a second already charted
        self.history.append(self._point(sample, seconds))
        if len(self.history) > HISTORY_CAP:
            del self.history[0]
            self.history_dropped += 1

    def _point(self, sample: LoadSample, seconds: dict[str, LatencyHistogram]) -> dict[str, Any]:
        started_t = self.started_t
        return {
            "t": sample.t,
            "elapsed_s": sample.t - int(started_t) if started_t is not None else 0,
            "stage": sample.stage,
            "rps": sample.achieved_rps,
            "users": sample.users,
            "planned_arrivals": sample.planned_arrivals,
            "started_arrivals": sample.started_arrivals,
            "dropped_arrivals": sample.dropped_arrivals,
            "cpu_percent": {name: round(v, 1) for name, v in sample.cpu_percent.items()},
            "p95_ms": {
                op: _rounded(histogram.percentile_ms(95.0))
                for op, histogram in sorted(seconds.items())
                if histogram.count
            },
            "errors": self._errors_at(sample.t),
        }

    def _errors_at(self, t: int) -> dict[str, int]:
        """Failed requests completed in second `t`, by outcome (journeys left out)."""
        counts = OutcomeCounts()
        for op, operation in self.operations.items():
            if op.startswith(JOURNEY_PREFIX):
                continue
            for second in operation.recent:
                if second.t == t:
                    counts = counts + second.counts
        return {name: n for name, n in counts.as_dict().items() if n and name != "ok"}

    def set_checks(self, checks: tuple[CheckView, ...], note: str) -> None:
        """The provisional statuses, and a line saying how far they reach."""
        self.checks = checks
        self.checks_note = note

    def finish(self, ending: Ending) -> None:
        """The run has ended (and, once `ending.report`, been reported)."""
        self.ending = ending

    # -- reading ----------------------------------------------------------------------------

    @property
    def started_t(self) -> float | None:
        """Unix time the load started, as run.json says."""
        if self.record is None:
            return None
        return datetime.fromisoformat(self.record.started_at.replace("Z", "+00:00")).timestamp()

    def request_operations(self) -> list[tuple[str, OperationState]]:
        """Operations that are requests (journey timings left out), by name."""
        return [
            (name, self.operations[name])
            for name in sorted(self.operations)
            if not name.startswith(JOURNEY_PREFIX)
        ]

    def totals(self) -> OutcomeCounts:
        """Requests since the start, by outcome, every operation (journeys left out)."""
        return sum((op.counts for _, op in self.request_operations()), OutcomeCounts())

    def recent_span_s(self) -> int:
        """Seconds the recent figures cover: RECENT_S, fewer early in the run."""
        if not self.history:
            return RECENT_S
        first_t = self.history[0]["t"] if not self.history_dropped else 0
        return max(1, min(RECENT_S, self._latest_t - first_t + 1))

    def snapshot(self, now_t: float) -> dict[str, Any]:
        """The figures the page shows, JSON-ready (history points excluded: see `points`)."""
        record, plan, load = self.record, self.plan, self.load
        started_t = self.started_t
        span_s = self.recent_span_s()
        totals = self.totals()
        ending = self.ending
        return {
            "run": None
            if record is None or plan is None
            else {
                "run_id": record.run_id,
                "scenario": plan.scenario,
                "profile": plan.profile,
                "model": plan.model,
                "target": record.target,
                "planned_duration_s": plan.duration_s,
                "warmup_s": plan.warmup_s,
                "stages": [
                    {"name": s.name, "start_s": s.start_s, "end_s": s.end_s} for s in plan.stages
                ],
            },
            "status": record.status if record is not None else "starting",
            "elapsed_s": self._elapsed_s(now_t),
            "load": None
            if load is None
            else {
                "t": load.t,
                "stage": load.stage,
                "users": load.users,
                "planned_arrivals": load.planned_arrivals,
                "started_arrivals": load.started_arrivals,
                "dropped_arrivals": load.dropped_arrivals,
                "achieved_rps": load.achieved_rps,
                "workers": load.workers,
                "cpu_percent": {n: round(v, 1) for n, v in sorted(load.cpu_percent.items())},
            },
            "arrivals": dict(self.arrivals) if plan is not None and plan.model == "open" else None,
            "recent_s": span_s,
            "totals": {
                "requests": totals.total,
                "failed": totals.failed,
                "error_rate": round(totals.failed / totals.total, 4) if totals.total else 0.0,
                "outcomes": {n: c for n, c in totals.as_dict().items() if c},
                "rps": round(
                    sum(
                        op.recent_figures(span_s)["requests"] for _, op in self.request_operations()
                    )
                    / span_s,
                    2,
                ),
            },
            "operations": [
                {
                    "name": name,
                    "journey": name.startswith(JOURNEY_PREFIX),
                    "recent": operation.recent_figures(span_s),
                    "total": operation.total_figures(),
                }
                for name, operation in sorted(self.operations.items())
            ],
            "checks": {
                "provisional": ending is None or ending.verdict is None,
                "note": self.checks_note,
                "items": [
                    {
                        "id": c.id,
                        "operation": c.operation,
                        "status": c.status,
                        "limit": c.limit,
                        "measured": c.measured,
                        "message": c.message,
                    }
                    for c in self.checks
                ],
            },
            "events": [
                {
                    "elapsed_s": round(e.t - started_t, 1) if started_t else None,
                    "kind": e.kind,
                    "detail": e.detail,
                }
                for e in self.events
            ],
            "ended": None
            if ending is None
            else {
                "status": ending.status,
                "reason": ending.reason,
                "verdict": ending.verdict,
                "report": "report/index.html" if ending.report else None,
            },
        }

    def _elapsed_s(self, now_t: float) -> float:
        """Seconds since the load started; the run's duration once it has ended."""
        record, started_t = self.record, self.started_t
        if record is None or started_t is None:
            return 0.0
        if record.duration_s is not None:
            return round(record.duration_s, 1)
        return round(max(now_t - started_t, 0.0), 1)

    def points_since(self, index: int) -> tuple[list[dict[str, Any]], int]:
        """History points from point number `index` on (every kept one when it fell off the
        front), and the number of the next point."""
        end = self.history_dropped + len(self.history)
        start = max(index - self.history_dropped, 0)
        return self.history[start:], end
