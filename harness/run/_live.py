"""What a person sees while a run goes, and the short summary when it ends.

The live view tails RUN_DIR/load.jsonl and timeline.jsonl incrementally (only the bytes
appended since the last look), keeps the last few one-second windows per operation, and
shows a rich Live table: stage, users or arrival rate, RPS, p95 and error rate per
operation, elapsed / total. With --quiet, or when stdout is not a terminal, it prints one
summary line every few seconds instead.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.errors import RunDirError
from harness.plan import RunPlan
from harness.rundir import RunRecord
from harness.timeline import (
    JOURNEY_PREFIX,
    LOAD_FILE,
    TIMELINE_FILE,
    LatencyHistogram,
    LineTail,
    LoadSample,
    Timeline,
    WindowLine,
    WindowRecord,
    read_timeline,
)

RECENT_WINDOWS_S = 10
"""The live view's RPS, p95 and error rate cover the last this many seconds."""
LIVE_REFRESH_S = 1.0
QUIET_LINE_EVERY_S = 5.0


@dataclass(slots=True)
class OperationProgress:
    """One operation's recent windows and running totals."""

    recent: deque[WindowRecord] = field(default_factory=deque)
    requests: int = 0
    failed: int = 0

    def add(self, window: WindowRecord) -> None:
        counts = window.outcome_counts
        self.requests += counts.total
        self.failed += counts.failed
        self.recent.append(window)

    def forget_before(self, t: int) -> None:
        while self.recent and self.recent[0].t < t:
            self.recent.popleft()

    def recent_figures(self, span_s: int) -> tuple[float, float | None, float]:
        """(RPS, p95 ms, error rate 0-1) over the recent windows."""
        latency = LatencyHistogram()
        total = failed = 0
        for window in self.recent:
            latency.add(window.latency)
            counts = window.outcome_counts
            total += counts.total
            failed += counts.failed
        return total / span_s, latency.percentile_ms(95.0), (failed / total if total else 0.0)


class RunProgress:
    """The state of a run as far as its files tell, read incrementally."""

    def __init__(self, run_dir: Path) -> None:
        self._timeline = LineTail(run_dir / TIMELINE_FILE, WindowLine)
        self._load = LineTail(run_dir / LOAD_FILE, LoadSample)
        self.operations: dict[str, OperationProgress] = {}
        self.load: LoadSample | None = None
        self.first_t: int | None = None
        self.latest_t = 0

    def update(self) -> None:
        for line in self._timeline.read_new():
            try:
                window = line.to_record()
            except ValueError:
                continue  # a corrupt histogram: the evaluation afterwards names its line
            self.operations.setdefault(window.op, OperationProgress()).add(window)
            self.latest_t = max(self.latest_t, window.t)
            self.first_t = window.t if self.first_t is None else min(self.first_t, window.t)
        for progress in self.operations.values():
            progress.forget_before(self.latest_t - RECENT_WINDOWS_S + 1)
        rows = self._load.read_new()
        if rows:
            self.load = rows[-1]

    @property
    def recent_span_s(self) -> int:
        """Seconds the recent figures cover: RECENT_WINDOWS_S, fewer early in the run."""
        if self.first_t is None:
            return RECENT_WINDOWS_S
        return max(1, min(RECENT_WINDOWS_S, self.latest_t - self.first_t + 1))

    def _requests_only(self) -> list[OperationProgress]:
        # journey.<name> lines time whole journeys: not requests of their own
        return [p for op, p in self.operations.items() if not op.startswith(JOURNEY_PREFIX)]

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self._requests_only())

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self._requests_only())


def _load_words(load: LoadSample | None) -> str:
    if load is None:
        return "waiting for the first second of load"
    words = [f"stage {load.stage or '-'}"]
    if load.users is not None:
        words.append(f"{load.users} users")
    if load.planned_arrivals is not None:
        words.append(f"{load.planned_arrivals} arrivals/s planned")
    words.append(f"{load.achieved_rps:.0f} RPS")
    if load.workers:
        words.append(f"{load.workers} workers")
    if load.dropped_arrivals:
        words.append(f"{load.dropped_arrivals} dropped")
    return ", ".join(words)


class LiveProgress:
    """The live view (rich table, or quiet lines) of one run; a context manager."""

    def __init__(self, run_dir: Path, plan: RunPlan, *, console: Console, quiet: bool) -> None:
        self._plan = plan
        self._console = console
        self._quiet = quiet or not console.is_terminal
        self._progress = RunProgress(run_dir)
        self._started = time.monotonic()
        self._last_shown = 0.0
        self._live: Live | None = None

    def __enter__(self) -> LiveProgress:
        if not self._quiet:
            self._live = Live(
                self._render(), console=self._console, auto_refresh=False, transient=False
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def refresh(self, *, final: bool = False) -> None:
        """Read what the engine appended and redraw, at most once a second (or a quiet line
        every few seconds)."""
        now = time.monotonic()
        every_s = QUIET_LINE_EVERY_S if self._quiet else LIVE_REFRESH_S
        if not final and now - self._last_shown < every_s:
            return
        self._last_shown = now
        self._progress.update()
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
        elif not final:
            self._console.print(self._line(), highlight=False, soft_wrap=True)

    def _elapsed(self) -> str:
        elapsed_s = time.monotonic() - self._started
        return f"{elapsed_s:.0f}/{self._plan.duration_s:.0f} s"

    def _line(self) -> str:
        progress = self._progress
        errors = progress.failed / progress.requests if progress.requests else 0.0
        return (
            f"[{self._elapsed()}] {_load_words(progress.load)}; "
            f"{progress.requests} requests, {errors:.2%} errors"
        )

    def _render(self) -> Group:
        progress = self._progress
        table = Table(title=None, expand=False, show_edge=False)
        table.add_column("operation")
        table.add_column(f"RPS ({RECENT_WINDOWS_S} s)", justify="right")
        table.add_column("p95 ms", justify="right")
        table.add_column("errors", justify="right")
        table.add_column("requests", justify="right")
        for name in sorted(progress.operations):
            operation = progress.operations[name]
            rps, p95_ms, error_rate = operation.recent_figures(progress.recent_span_s)
            table.add_row(
                name,
                f"{rps:.1f}",
                f"{p95_ms:.1f}" if p95_ms is not None else "-",
                f"{error_rate:.2%}",
                str(operation.requests),
            )
        header = Text(
            f"{self._plan.scenario} ({self._plan.profile}) {self._elapsed()}: "
            f"{_load_words(progress.load)}"
        )
        return Group(header, table)


def print_summary(console: Console, run_dir: Path, record: RunRecord) -> None:
    """Status, duration, requests, RPS and p95 per operation, and where the run directory is."""
    duration_s = record.duration_s or 0.0
    console.print(
        f"run {record.status}: {record.exit_reason}; {duration_s:.1f} s", highlight=False, end=""
    )
    try:
        _print_measurements(console, read_timeline(run_dir))
    except RunDirError as error:
        console.print(f"; the timeline is unreadable: {error}", highlight=False, soft_wrap=True)
    console.print(f"run directory: {run_dir}", highlight=False, soft_wrap=True)


def _print_measurements(console: Console, timeline: Timeline) -> None:
    counts = timeline.counts()
    console.print(
        f", {counts.total} requests, {timeline.achieved_rps():.1f} RPS, {counts.failed} failed",
        highlight=False,
        soft_wrap=True,
    )
    operations = timeline.operations()
    if operations:
        table = Table(show_edge=False)
        table.add_column("operation")
        table.add_column("requests", justify="right")
        table.add_column("errors", justify="right")
        table.add_column("p95 ms", justify="right")
        for name in operations:
            op_counts = timeline.counts(name)
            p95_ms = timeline.percentile_ms(name, 95.0)
            table.add_row(
                name,
                str(op_counts.total),
                f"{op_counts.failed / op_counts.total:.2%}" if op_counts.total else "-",
                f"{p95_ms:.1f}" if p95_ms is not None else "-",
            )
        console.print(table)
