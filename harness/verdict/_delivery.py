"""Whether the load generator delivered the load its plan asked for, over a judged span.

A figure measured while the generator fell short of its plan is not the figure the SLA is
about: half the planned arrivals make a latency look better than it is. So a span in which
the generator's shortfall exceeds a tolerance (SLA `defaults.generator_tolerance`, 1 % by
default) makes every check judged on it `inconclusive`, pass included.

The shortfall is the generator's own, read from load.jsonl:

- open model: arrivals the plan asked for (`planned_arrivals`) that were neither started nor
  dropped because of the target; i.e. arrivals dropped by the generator (`dropped_arrivals -
  dropped_by_target`: journey slots busy without a response outstanding) plus arrivals that
  started late or never (a starved scheduler), beyond Poisson noise (3 standard deviations);
- closed model: user-seconds the plan asked for that no user ran (users missing against the
  plan's users, allowing the engine a few seconds to start them).

Arrivals dropped because the target kept every journey slot waiting on a response are the
target's failure, not the generator's: the engine records them as requests with outcome
`dropped`, which error rate and availability count, and they never make a check
inconclusive. A span without load.jsonl figures (a run directory of an older perfctl) falls
back on the engine's `behind_plan` events.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from harness.plan import RunPlan, StagePlan
from harness.timeline import EngineEvent, LoadSample
from harness.verdict._model import Check, CheckStatus
from harness.verdict._scope import NoSpan, RunClock, Span, scope_span

DEFAULT_TOLERANCE = 0.01
"""Shortfall allowed before a span is inconclusive: 1 % of its planned arrivals or user-seconds."""
START_LAG_S = 3
"""Closed model: seconds the engine may take to reach a new user count (spawning, and the
worker heartbeat that reports it) before a missing user counts as a shortfall."""
POISSON_SIGMAS = 3.0
"""Open model, Poisson arrivals: how many standard deviations of the planned count the
started count may fall below the plan by chance."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the generator delivered over one span against what the plan asked for."""

    span: Span
    """The span measured."""
    unit: Literal["arrivals", "user-seconds"]
    """Open model: arrivals; closed model: user-seconds."""
    planned: float
    """Arrivals (or user-seconds) the plan asked for in the span."""
    shortfall: float
    """Of those, how many the generator failed to deliver (its own shortfall only)."""
    generator_dropped: int = 0
    """Open model: arrivals dropped with a journey slot busy but no response outstanding."""
    late: float = 0.0
    """Open model: arrivals neither started nor dropped (started late or never), beyond noise."""
    target_dropped: int = 0
    """Open model: arrivals dropped because the target kept every journey slot waiting."""
    tolerance: float = DEFAULT_TOLERANCE
    """Share of `planned` the shortfall may reach."""
    events: tuple[str, ...] = ()
    """Details of the engine's behind_plan and generator_saturated events in the span."""
    measured: bool = True
    """False when load.jsonl had no figure for the span and the engine's events decided."""

    @property
    def short(self) -> bool:
        """The generator fell short of the plan beyond the tolerance."""
        if not self.measured:
            return bool(self.events)
        return self.planned > 0 and self.shortfall > self.tolerance * self.planned

    @property
    def share(self) -> float:
        """The shortfall as a share of the plan."""
        return self.shortfall / self.planned if self.planned > 0 else 0.0

    def describe(self) -> str:
        """One line: the figures and the cause, e.g. for the verdict's reasons."""
        if not self.measured:
            return (
                "the load generator fell behind the plan (engine: "
                + "; ".join(self.events)
                + "); load.jsonl has no figures to say by how much"
            )
        delivered = self.planned - self.shortfall
        text = (
            f"the load generator delivered {delivered:,.0f} of {self.planned:,.0f} planned "
            f"{self.unit} ({self.share:.1%} short, tolerance {self.tolerance:.1%})"
        )
        causes = []
        if self.unit == "user-seconds":
            causes.append(f"{self.shortfall:,.0f} user-seconds without a running user")
        if self.generator_dropped:
            causes.append(
                f"{self.generator_dropped:,} arrivals dropped by the generator (journey slots "
                "busy without a response outstanding)"
            )
        if self.late >= 0.5:
            causes.append(f"{self.late:,.0f} arrivals started late or never (scheduler behind)")
        causes += [f"engine: {event}" for event in self.events]
        return text + (": " + "; ".join(causes) if causes else "")


def measure_delivery(
    plan: RunPlan,
    started_t: float,
    loads: Sequence[LoadSample],
    events: Sequence[EngineEvent],
    span: Span,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Delivery:
    """What the generator delivered over `span` (whole unix seconds) against `plan`."""
    samples = [sample for sample in loads if span.start_t <= sample.t < span.end_t]
    trouble = tuple(
        event.detail or event.kind
        for event in events
        if event.kind in ("behind_plan", "generator_saturated")
        and span.start_t <= event.t < span.end_t
    )
    if not samples:
        behind = tuple(
            event.detail or event.kind
            for event in events
            if event.kind == "behind_plan" and span.start_t <= event.t < span.end_t
        )
        unit: Literal["arrivals", "user-seconds"] = (
            "arrivals" if plan.model == "open" else "user-seconds"
        )
        return Delivery(span, unit, 0.0, 0.0, tolerance=tolerance, events=behind, measured=False)
    if plan.model == "open":
        return _open_delivery(plan, samples, span, tolerance, trouble)
    return _closed_delivery(plan, started_t, samples, span, tolerance, trouble)


def _open_delivery(
    plan: RunPlan,
    samples: list[LoadSample],
    span: Span,
    tolerance: float,
    events: tuple[str, ...],
) -> Delivery:
    planned = sum(sample.planned_arrivals or 0 for sample in samples)
    started = sum(sample.started_arrivals or 0 for sample in samples)
    dropped = sum(sample.dropped_arrivals for sample in samples)
    by_target = min(sum(sample.dropped_by_target for sample in samples), dropped)
    generator_dropped = dropped - by_target
    # per-second planned counts are rounded, and Poisson arrivals vary around the plan
    noise = POISSON_SIGMAS * math.sqrt(planned) if plan.arrivals == "poisson" else 0.0
    noise += len(samples) * 0.5
    late = max(0.0, planned - started - dropped - noise)
    return Delivery(
        span,
        "arrivals",
        float(planned),
        generator_dropped + late,
        generator_dropped=generator_dropped,
        late=late,
        target_dropped=by_target,
        tolerance=tolerance,
        events=events,
    )


def _closed_delivery(
    plan: RunPlan,
    started_t: float,
    samples: list[LoadSample],
    span: Span,
    tolerance: float,
    events: tuple[str, ...],
) -> Delivery:
    curve = planned_users_curve(plan)
    planned_total = 0.0
    missing = 0.0
    for sample in samples:
        if sample.users is None:
            continue  # not reported for that second: nothing to compare
        # The engine counts a second's users as it ends (its tick), so compare with the plan
        # from a few seconds before the second up to its end, and take the lowest: a ramp
        # needs time to reach each step, and the users stop as the plan ends.
        first = math.floor(sample.t - started_t) - START_LAG_S
        last = math.floor(sample.t + 1 - started_t)
        window = [
            curve[index] if index < len(curve) else 0.0 for index in range(max(first, 0), last + 1)
        ]
        planned = min(window, default=0.0)
        planned_total += planned
        missing += max(0.0, planned - sample.users)
    return Delivery(
        span, "user-seconds", planned_total, missing, tolerance=tolerance, events=events
    )


def planned_users_curve(plan: RunPlan) -> list[float]:
    """Closed model: users the plan asks for at each whole second of the run: linear within a
    stage, reached at the stage's declared spawn rate (else at once), 0 after the end."""
    curve: list[float] = []
    users = 0.0
    for second in range(math.ceil(plan.duration_s) + 1):
        stage = plan.stage_at(float(second))
        if stage is None:
            curve.append(0.0)
            continue
        target = _linear_users(stage, float(second))
        rate = stage.spawn_rate_per_s or math.inf
        users += max(-rate, min(rate, target - users))
        curve.append(users)
    return curve


def _linear_users(stage: StagePlan, offset_s: float) -> float:
    start = stage.users_start if stage.users_start is not None else stage.users_end or 0
    end = stage.users_end if stage.users_end is not None else start
    if stage.duration_s <= 0:
        return float(end)
    fraction = min(max((offset_s - stage.start_s) / stage.duration_s, 0.0), 1.0)
    return start + (end - start) * fraction


_LOAD_DEPENDENT: tuple[CheckStatus, ...] = ("pass", "warn", "fail", "marginal")
"""Check statuses a shortfall overrides: every judged one (no_data and not_exercised say
already that nothing was judged)."""


def judge_delivery(
    checks: Sequence[Check],
    plan: RunPlan,
    clock: RunClock,
    loads: Sequence[LoadSample],
    events: Sequence[EngineEvent],
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[list[Check], list[str]]:
    """`checks` with every judged check on a span the generator fell short in made
    `inconclusive`, and the verdict's reasons: each short span with its figures and cause,
    and the arrivals the target caused to be dropped."""
    deliveries: dict[str, Delivery | None] = {}

    def delivery_of(scope: str) -> Delivery | None:
        if scope not in deliveries:
            span = scope_span(plan, clock, scope)
            deliveries[scope] = (
                None
                if isinstance(span, NoSpan)
                else measure_delivery(plan, clock.started_t, loads, events, span, tolerance)
            )
        return deliveries[scope]

    judged: list[Check] = []
    for check in checks:
        delivery = delivery_of(check.scope) if check.status in _LOAD_DEPENDENT else None
        if delivery is not None and delivery.short:
            check = replace(
                check,
                status="inconclusive",
                message=f"{check.message}; not judged: {delivery.describe()}",
                actions=(),
            )
        judged.append(check)
    reasons = [
        f"{_where(scope)}: {delivery.describe()}"
        for scope, delivery in deliveries.items()
        if delivery is not None and delivery.short
    ]
    whole = delivery_of("run")
    if whole is not None and whole.target_dropped:
        reasons.append(
            f"{whole.target_dropped:,} arrivals were dropped because the target kept all "
            f"{plan.max_concurrency:,} journey slots waiting on responses: the target's failure, "
            "counted as failed requests (outcome dropped) of their operation, not as a "
            "generator shortfall"
        )
    return judged, reasons


def _where(scope: str) -> str:
    return "over the run" if scope == "run" else f"in stage {scope!r}"
