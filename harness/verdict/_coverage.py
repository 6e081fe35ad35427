"""How much of the SLA a run judged: objectives in scope for the run, and those out of it by design.

A PASS is only worth the objectives behind it. Every check the run could not judge
(`not_exercised`, `no_data`) is either *out of scope by design* — the run was never meant
to judge it, for one of the reasons of `OutOfScope` — or *in scope and not judged*: the run
should have judged it and did not (the operation never ran, too few samples came back, no
server metrics arrived). Coverage is judged / in scope; `--require-coverage` (or the SLA's
`defaults.require_coverage`) fails the gate on any in-scope objective left unjudged.

How far is "far" for the plan's reach: the plan's offered load is estimated from its users
or arrival rates, journeys and think times (`harness.spec._estimate`, 50 ms assumed per
response). A throughput limit above that estimate cannot be met by the plan, whatever the
target does: out of scope. A percentile needs `min_samples` requests in one window; when
the plan offers fewer than `SAMPLE_MARGIN` (3) times that in its busiest window, the figure
was never safely within the run's reach: out of scope. The margin keeps an objective the
plan only just reaches (where sampling noise and the estimate's error decide) from flipping
between in and out of scope from one run to the next; above it, a missing figure is the
run's shortfall. Either way a figure that did get enough samples is judged: only an
unjudged objective is ever out of scope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.plan import RunPlan
from harness.spec import (
    OPERATION_ALL,
    Objective,
)
from harness.verdict._scope import offered_rps

SAMPLE_MARGIN = 3.0
"""A percentile is within the plan's reach when its busiest window is planned to hold at
least this many times the samples the objective needs. The per-operation estimate is rough
(`normal --profile ci`: recommendations estimated at 0.8 rps, measured 0.48 rps, while the
total of 21.3 rps was met), and a count of ~20 varies by ±20 % from run to run; a factor of
3 keeps both from deciding whether the objective was in scope."""

JUDGED_STATUSES = ("pass", "warn", "fail", "marginal")
"""Statuses that judged the objective: a value was measured and compared with the limit."""
UNJUDGED_STATUSES = ("not_exercised", "no_data")
"""Statuses of an objective the run did not judge (inconclusive is measured, not trusted)."""


class OutOfScope(StrEnum):
    """Why an objective lies outside what a run was designed to judge."""

    STAGE_ABSENT = "stage_absent"
    """Scoped to a stage the scenario does not have (a burst figure in a run without a spike)."""
    THROUGHPUT_CAPACITY = "throughput_capacity"
    """A throughput limit above the most the plan can offer."""
    SAMPLE_SIZE = "sample_size"
    """A statistic needing more samples than the plan can produce in one window."""
    NO_BASELINE = "no_baseline"
    """A relative objective, and no baseline run was given."""
    OPERATION_ABSENT = "operation_absent"
    """An optional objective whose operation the scenario does not produce."""

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    OutOfScope.STAGE_ABSENT: "stage not in scenario",
    OutOfScope.THROUGHPUT_CAPACITY: "throughput capacity",
    OutOfScope.SAMPLE_SIZE: "sample size",
    OutOfScope.NO_BASELINE: "no baseline",
    OutOfScope.OPERATION_ABSENT: "optional operation not run",
}


def out_of_scope(
    objective: Objective,
    plan: RunPlan,
    *,
    limit_value: float | None,
    relative: bool = False,
    baseline_given: bool = False,
) -> OutOfScope | None:
    """Why `plan` was never designed to judge `objective` (already found unjudged), or None
    when it was in scope and the run fell short.

    Args:
        limit_value: the limit after profile scaling (throughput reach is judged on it).
        relative: the check is the objective's baseline comparison.
        baseline_given: a baseline run was given to judge relative objectives against.
    """
    if relative and not baseline_given:
        return OutOfScope.NO_BASELINE
    if objective.scope != "run" and objective.scope not in {s.name for s in plan.stages}:
        return OutOfScope.STAGE_ABSENT
    if (
        objective.optional
        and not objective.server_side
        and objective.operation != OPERATION_ALL
        and objective.operation not in plan.operations
    ):
        return OutOfScope.OPERATION_ABSENT
    if relative:
        return None
    if objective.metric == "breaking_point":
        return OutOfScope.THROUGHPUT_CAPACITY  # a capacity search's knee judges it
    if objective.metric == "throughput" and limit_value is not None:
        offered = offered_rps(plan, objective.scope, objective.operation)
        if offered is not None and offered < limit_value:
            return OutOfScope.THROUGHPUT_CAPACITY
    if objective.percentile is not None and objective.min_samples > 1:
        planned = planned_window_requests(plan, objective)
        if planned is not None and planned < SAMPLE_MARGIN * objective.min_samples:
            return OutOfScope.SAMPLE_SIZE
    return None


def planned_window_requests(plan: RunPlan, objective: Objective) -> float | None:
    """Requests of the objective's operation the plan offers in its busiest judged window:
    the peak rate of the scope times the window (or the judged part of the scope, when it is
    shorter). None for a locustfile plan."""
    operation = "*" if objective.operation == OPERATION_ALL else objective.operation
    rate = offered_rps(plan, objective.scope, operation)
    if rate is None:
        return None
    if objective.scope == "run":
        judged_s = max(0.0, plan.duration_s - plan.warmup_s)
    else:
        stage = next(stage for stage in plan.stages if stage.name == objective.scope)
        judged_s = max(0.0, min(stage.end_s, plan.duration_s) - max(stage.start_s, plan.warmup_s))
    window_s = judged_s if objective.window_s is None else min(objective.window_s, judged_s)
    return rate * window_s


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the SLA a run judged."""

    in_scope: int
    """Objectives the run was designed to judge."""
    judged: int
    """In-scope objectives judged (pass, warn or fail)."""
    met: int
    """Judged objectives that met their limit (pass or warn)."""
    failed: int
    """Judged objectives that failed."""
    marginal: int = 0
    """Judged objectives too close to call (neither met nor failed: the interval straddles
    the limit)."""
    unjudged: dict[str, int] = field(default_factory=dict)
    """In-scope objectives not judged, by status (no_data, not_exercised, inconclusive)."""
    out_of_scope: dict[str, int] = field(default_factory=dict)
    """Objectives out of scope by design, by `OutOfScope` value."""
    required: bool = False
    """Whether an in-scope objective left unjudged fails the gate."""

    @property
    def ratio(self) -> float | None:
        """judged / in scope; None when nothing is in scope."""
        return self.judged / self.in_scope if self.in_scope else None

    @property
    def unjudged_total(self) -> int:
        return sum(self.unjudged.values())

    @property
    def out_of_scope_total(self) -> int:
        return sum(self.out_of_scope.values())

    def describe(self) -> str:
        """`35 of 35 in-scope objectives met; 25 out of scope (throughput capacity)`."""
        text = f"{self.met} of {self.in_scope} in-scope objectives met"
        notes = []
        if self.failed:
            notes.append(f"{self.failed} failed")
        if self.marginal:
            notes.append(f"{self.marginal} too close to call")
        if self.unjudged_total:
            detail = ", ".join(f"{n} {status}" for status, n in sorted(self.unjudged.items()))
            notes.append(f"{self.unjudged_total} not judged ({detail})")
        if notes:
            text += f" ({'; '.join(notes)})"
        if self.out_of_scope_total:
            reasons = ", ".join(
                f"{OutOfScope(key).label} {n}"
                if len(self.out_of_scope) > 1
                else OutOfScope(key).label
                for key, n in sorted(
                    self.out_of_scope.items(), key=lambda item: (-item[1], item[0])
                )
            )
            text += f"; {self.out_of_scope_total} out of scope ({reasons})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_scope": self.in_scope,
            "judged": self.judged,
            "met": self.met,
            "failed": self.failed,
            "marginal": self.marginal,
            "ratio": self.ratio,
            "unjudged": dict(self.unjudged),
            "out_of_scope": dict(self.out_of_scope),
            "required": self.required,
            "headline": self.describe(),
        }


def measure_coverage(statuses: list[tuple[str, str | None]], *, required: bool = False) -> Coverage:
    """Coverage from each check's (status, out-of-scope reason or None)."""
    in_scope = [status for status, reason in statuses if reason is None]
    tally = Counter(in_scope)
    return Coverage(
        in_scope=len(in_scope),
        judged=sum(tally[s] for s in JUDGED_STATUSES),
        met=tally["pass"] + tally["warn"],
        failed=tally["fail"],
        marginal=tally["marginal"],
        unjudged={s: n for s, n in tally.items() if s not in JUDGED_STATUSES and n},
        out_of_scope=dict(Counter(reason for _, reason in statuses if reason is not None)),
        required=required,
    )
