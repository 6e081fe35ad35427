"""The master's (or local process's) side: exact merge, run-dir files, generator health.

Open model: `planned_arrivals` are the plan's (the integral of its rate over the second),
so arrivals a lost worker never scheduled show as started < planned.

Sources (the local recorder, or each worker through Locust's worker reports) hand in
`Drained` batches. A second is finished when every live source has reported past it, or
`GRACE_S` after it ended; finished seconds are appended to timeline.jsonl and load.jsonl
and dropped from memory, so the master's memory does not grow with the run's length.
Data that arrives for a second already written is appended as an extra line (readers add).

Dropped arrivals (open model): each second's `dropped_arrivals` and the part the target
caused (`dropped_by_target`, see `drops.drop_cause`) go to load.jsonl; an `arrivals_dropped`
event tells each run of consecutive seconds with drops, its cause and its numbers.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

from harness.engine._recorder import ArrivalCounts, Drained
from harness.engine._schedule import expected_arrivals, users_at
from harness.plan import RunPlan
from harness.timeline import (
    JOURNEY_PREFIX,
    EngineStatus,
    EngineSummary,
    LoadSample,
    RunDirWriter,
    WindowRecord,
)

GRACE_S = 3.0
"""A second is written at the latest this long after it ended."""
SOURCE_SILENT_S = 5.0
"""A source that has not reported for this long no longer holds seconds back."""
SATURATED_CPU_PERCENT = 90.0
"""CPU of one Locust process above which the generator counts as saturated..."""
SUSTAINED_S = 5
"""...when it lasts this many consecutive seconds (also for falling behind the plan)."""
BEHIND_FRACTION = 0.95
"""Started arrivals (or running users) below this fraction of the plan count as behind."""


@dataclass(slots=True)
class _Source:
    label: str
    watermark: float = 0.0
    last_report: float = field(default_factory=time.monotonic)
    cpu_percent: float = 0.0


@dataclass(slots=True)
class _DropEpisode:
    """Consecutive seconds in which arrivals were dropped."""

    first_t: int
    last_t: int = 0
    planned: int = 0
    dropped: int = 0
    by_target: int = 0

    def describe(self) -> str:
        by_generator = self.dropped - self.by_target
        cause = (
            "target and generator"
            if self.by_target and by_generator
            else "target"
            if self.by_target
            else "generator"
        )
        return (
            f"cause: {cause}; {self.dropped} of {self.planned} planned arrivals dropped in "
            f"{self.last_t - self.first_t + 1} s: {self.by_target} by the target (every busy "
            f"journey slot awaiting a response; counted as `dropped` requests), "
            f"{by_generator} by the generator (slots in think time or waiting for a "
            "connection, or the scheduler late)"
        )


class Collector:
    """Merges batches from every source and writes the run directory as seconds finish."""

    def __init__(self, writer: RunDirWriter, plan: RunPlan, started_at: float) -> None:
        self.writer = writer
        self.plan = plan
        self.started_at = started_at
        self._sources: dict[str, _Source] = {}
        self._pending: dict[int, dict[str, WindowRecord]] = {}
        self._arrivals: dict[int, ArrivalCounts] = {}
        self._users: dict[int, int] = {}
        self._next_t = int(started_at)
        self._cpu_streak: dict[str, int] = {}
        self._saturated_now: set[str] = set()
        self._behind: deque[tuple[float, float]] = deque(maxlen=SUSTAINED_S)
        self._behind_now = False
        self._drops: _DropEpisode | None = None
        self.saturated = False
        self.behind_plan = False
        self.totals = ArrivalCounts()
        self.lines_written = 0

    def receive(self, source: str, batch: Drained, *, label: str, cpu_percent: float) -> None:
        """Merges one batch from `source` (a worker id, or "local")."""
        state = self._sources.get(source)
        if state is None:
            state = self._sources[source] = _Source(label=label)
        state.label = label
        state.watermark = max(state.watermark, batch.watermark)
        state.last_report = time.monotonic()
        state.cpu_percent = cpu_percent
        late: list[WindowRecord] = []
        for window in batch.windows:
            if window.t < self._next_t:
                late.append(window)
                continue
            ops = self._pending.setdefault(window.t, {})
            existing = ops.get(window.op)
            if existing is None:
                ops[window.op] = window
            else:
                existing.merge(window)
        for t, counts in batch.arrivals.items():
            self.totals.add(counts)
            if t < self._next_t:
                continue
            self._arrivals.setdefault(t, ArrivalCounts()).add(counts)
        if late:
            self.lines_written += self.writer.append_windows(late)

    def forget(self, source: str) -> None:
        """Stops waiting for a source that is gone."""
        self._sources.pop(source, None)

    def note_users(self, t: int, users: int) -> None:
        """Closed model: users running during second `t` (ignored once `t` is written)."""
        if t >= self._next_t:
            self._users[t] = users

    def flush(self, master_cpu: dict[str, float], final: bool = False) -> None:
        """Writes every finished second (every second with data when `final`)."""
        now_wall = time.time()
        now = time.monotonic()
        live = [
            s.watermark for s in self._sources.values() if now - s.last_report < SOURCE_SILENT_S
        ]
        limit = min(int(min(live)), int(now_wall)) if live else int(now_wall)
        limit = max(limit, int(now_wall - GRACE_S))
        if final:
            limit = max([int(now_wall) + 1, *(t + 1 for t in self._pending)])
        cpu = dict(master_cpu)
        for state in self._sources.values():
            if state.label not in cpu:
                cpu[state.label] = state.cpu_percent
        while self._next_t < limit:
            self._write_second(self._next_t, cpu)
            self._next_t += 1

    def _write_second(self, t: int, cpu: dict[str, float]) -> None:
        windows = self._pending.pop(t, {})
        arrivals = self._arrivals.pop(t, None)
        users = self._users.pop(t, None)
        offset = max(t - self.started_at, 0.0)
        stage = self.plan.stage_at(offset + 0.5)
        requests = sum(
            sum(w.counts.values()) for op, w in windows.items() if not op.startswith(JOURNEY_PREFIX)
        )
        self.lines_written += self.writer.append_windows(windows[op] for op in sorted(windows))
        open_model = self.plan.model == "open"
        sample = LoadSample(
            t=t,
            stage=stage.name if stage else None,
            users=None if open_model else users,
            planned_arrivals=(
                round(expected_arrivals(self.plan, t - self.started_at, t + 1 - self.started_at))
                if open_model
                else None
            ),
            started_arrivals=(arrivals.started if arrivals else 0) if open_model else None,
            dropped_arrivals=arrivals.dropped if arrivals else 0,
            achieved_rps=float(requests),
            workers=max(len(self._sources), 1),
            cpu_percent=cpu,
            dropped_by_target=arrivals.dropped_by_target if arrivals else 0,
        )
        self.writer.append_load(sample)
        self._check_health(sample, offset)
        self._check_drops(sample)

    def _check_drops(self, sample: LoadSample | None) -> None:
        """Extends or closes the current run of seconds with dropped arrivals; a closed run
        becomes one `arrivals_dropped` event (None: the run directory is being finished)."""
        if sample is not None and sample.dropped_arrivals:
            episode = self._drops or _DropEpisode(first_t=sample.t)
            episode.last_t = sample.t
            episode.planned += sample.planned_arrivals or 0
            episode.dropped += sample.dropped_arrivals
            episode.by_target += sample.dropped_by_target
            self._drops = episode
            return
        if self._drops is not None:
            self.writer.append_event(
                "arrivals_dropped", self._drops.describe(), t=self._drops.first_t
            )
            self._drops = None

    def _check_health(self, sample: LoadSample, offset: float) -> None:
        for label, percent in sample.cpu_percent.items():
            streak = self._cpu_streak.get(label, 0) + 1 if percent > SATURATED_CPU_PERCENT else 0
            self._cpu_streak[label] = streak
            if streak >= SUSTAINED_S and label not in self._saturated_now:
                self._saturated_now.add(label)
                self.saturated = True
                self.writer.append_event(
                    "generator_saturated",
                    f"{label} above {SATURATED_CPU_PERCENT:g}% CPU for {streak} s",
                    t=sample.t,
                )
            elif streak == 0:
                self._saturated_now.discard(label)
        if self.plan.stage_at(offset + 0.5) is None:
            return
        if self.plan.model == "open":
            planned = expected_arrivals(self.plan, offset, offset + 1.0)
            achieved = float(sample.started_arrivals or 0)
        else:
            if sample.users is None:
                return
            target = users_at(self.plan, max(offset - 2.0, 0.0))
            planned = float(target.users) if target else 0.0
            achieved = float(sample.users or 0)
        self._behind.append((planned, achieved))
        window_planned = sum(p for p, _ in self._behind)
        window_achieved = sum(a for _, a in self._behind)
        # Poisson arrivals vary around the plan: allow three standard deviations
        noise = (
            3.0 * math.sqrt(window_planned)
            if self.plan.model == "open" and self.plan.arrivals == "poisson"
            else 0.0
        )
        behind = (
            len(self._behind) == SUSTAINED_S
            and window_planned >= SUSTAINED_S
            and window_achieved < BEHIND_FRACTION * window_planned - noise
        )
        if behind and not self._behind_now:
            self.behind_plan = True
            what = "arrivals started" if self.plan.model == "open" else "user-seconds"
            self.writer.append_event(
                "behind_plan",
                f"{window_achieved:g} of {window_planned:g} planned {what} in the last {SUSTAINED_S} s",
                t=sample.t,
            )
        self._behind_now = behind

    def finish(
        self,
        status: EngineStatus,
        reason: str,
        *,
        master_cpu: dict[str, float],
        workers_lost: int,
        locust_version: str,
    ) -> EngineSummary:
        """Writes every remaining second and engine.json."""
        self.flush(master_cpu, final=True)
        self._check_drops(None)
        open_model = self.plan.model == "open"
        summary = EngineSummary(
            status=status,
            reason=reason,
            started_at=self.started_at,
            ended_at=time.time(),
            workers_lost=workers_lost,
            saturated=self.saturated,
            behind_plan=self.behind_plan,
            locust_version=locust_version,
            planned_arrivals=round(
                expected_arrivals(
                    self.plan, 0.0, min(self.plan.duration_s, time.time() - self.started_at)
                )
            )
            if open_model
            else None,
            started_arrivals=self.totals.started if open_model else None,
            dropped_arrivals=self.totals.dropped,
            dropped_by_target=self.totals.dropped_by_target,
        )
        self.writer.write_engine(summary)
        return summary
