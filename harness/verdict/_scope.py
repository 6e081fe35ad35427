"""Where in a run an objective is judged: its scope on the run's clock, cut into windows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from harness.plan import RunPlan
from harness.rundir import RunRecord
from harness.spec import estimated_rps
from harness.timeline import EngineSummary


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of whole unix seconds [start_t, end_t)."""

    start_t: int
    """First second included."""
    end_t: int
    """First second excluded."""

    @property
    def duration_s(self) -> int:
        return self.end_t - self.start_t


@dataclass(frozen=True, slots=True)
class NoSpan:
    """Why a scope has no span to judge: a stage the plan lacks, or no time after warm-up."""

    reason: str
    """A sentence for the check's message."""


@dataclass(frozen=True, slots=True)
class RunClock:
    """The run's time axis: when offset 0 of the plan happened and when the load stopped."""

    started_t: float
    """Unix time of offset 0 of the plan's stages."""
    ended_t: float
    """Unix time the load stopped (the last measured second + 1 when unknown)."""


def run_clock(
    record: RunRecord, measured: tuple[int, int] | None, engine: EngineSummary | None
) -> RunClock:
    """The run's time axis: engine.json when the engine finished, else run.json's start and
    the measured seconds (a crashed engine), else run.json alone."""
    if engine is not None:
        return RunClock(engine.started_at, engine.ended_at)
    started = _iso_to_unix(record.started_at)
    if measured is not None:
        return RunClock(started or float(measured[0]), float(measured[1]))
    started = started or 0.0
    return RunClock(started, _iso_to_unix(record.ended_at) or started)


def _iso_to_unix(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def scope_span(plan: RunPlan, clock: RunClock, scope: str) -> Span | NoSpan:
    """The span judged for `scope` ("run" after warm-up, or a stage), or why there is none."""
    warmup_end = clock.started_t + plan.warmup_s
    if scope == "run":
        start, end = warmup_end, clock.ended_t
    else:
        stage = next((stage for stage in plan.stages if stage.name == scope), None)
        if stage is None:
            names = ", ".join(stage.name for stage in plan.stages) or "none"
            return NoSpan(f"the scenario has no stage {scope!r} (stages: {names})")
        start = max(clock.started_t + stage.start_s, warmup_end)
        end = min(clock.started_t + stage.end_s, clock.ended_t)
    span = Span(math.ceil(start), math.floor(end))
    if span.duration_s <= 0:
        where = "the run" if scope == "run" else f"stage {scope!r}"
        return NoSpan(f"{where} has no measured time after warm-up")
    return span


def windows(span: Span, window_s: float | None) -> list[Span]:
    """`span` cut into consecutive windows of `window_s`; the whole span when None.

    A trailing piece shorter than half a window joins the window before it, so every
    window judged holds at least half a window of data; a span shorter than one window is
    judged as a single window.
    """
    if window_s is None or window_s >= span.duration_s:
        return [span]
    width = max(1, round(window_s))
    cuts = list(range(span.start_t, span.end_t, width))
    parts = [Span(start, min(start + width, span.end_t)) for start in cuts]
    if len(parts) > 1 and parts[-1].duration_s < width / 2:
        last = parts.pop()
        parts[-1] = Span(parts[-1].start_t, last.end_t)
    return parts


def offered_rps(plan: RunPlan, scope: str, operation: str) -> float | None:
    """The highest request rate of `operation` the plan offers in `scope` (an estimate from
    its users or arrival rates, journeys and think times); None for a team's locustfile,
    whose request rate perfctl cannot know in advance."""
    if any(journey.kind == "locustfile" for journey in plan.journeys):
        return None
    stages = [stage for stage in plan.stages if scope in ("run", stage.name)]
    rates = [estimated_rps(plan, stage, operation) for stage in stages]
    return max(rates, default=0.0)
