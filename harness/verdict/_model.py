"""Checks and the verdict they add up to: plain values, written to verdict.json (schema 1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.errors import EXIT_INTERRUPTED, EXIT_PASS, EXIT_RUN, EXIT_SLA_FAILED
from harness.spec import CONFIDENCE
from harness.verdict._coverage import UNJUDGED_STATUSES, Coverage, measure_coverage
from harness.verdict._finding import Finding

VERDICT_SCHEMA = 1

CheckStatus = Literal[
    "pass", "warn", "fail", "marginal", "not_exercised", "no_data", "inconclusive"
]
VerdictStatus = Literal["pass", "warn", "fail", "marginal", "aborted", "inconclusive"]
Severity = Literal["critical", "high", "medium", "low"]
JudgedBy = Literal["run", "capacity"]

CHECK_STATUSES: tuple[CheckStatus, ...] = (
    "marginal",
    "fail",
    "warn",
    "inconclusive",
    "no_data",
    "not_exercised",
    "pass",
)
"""Every check status, most urgent first (the order tables and reports list them in).
`marginal` (too close to call: the interval straddles the limit) comes first: a failure is
settled, a marginal check is the one a person has to decide on (run longer, or accept)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One objective of the SLA judged on one run."""

    id: str
    """Stable id of the objective, e.g. "product_search.latency.p95"."""
    operation: str
    """Operation (or component) the objective is about."""
    metric: str
    """latency, error_rate, availability, throughput, cpu, memory, drift, ..."""
    statistic: str
    """p50, p95, p99, mean, max, ratio, rate, slope ..."""
    comparator: str
    """How measured is compared with the limit: "<", "<=", ">", ">="."""
    limit: float
    """The limit after scaling (what the run is judged against)."""
    unit: str
    """Unit of limit, warn_limit and measured: ms, ratio, rps, percent, ..."""
    status: CheckStatus
    """The judgement."""
    severity: Severity
    """Severity of a breach, from the SLA."""
    measured: float | None = None
    """The measured value (worst window for windowed objectives); None when not measured."""
    warn_limit: float | None = None
    """Alert threshold: between limit and warn_limit is a warning, beyond it a failure."""
    seed_limit: float | None = None
    """The limit as the SLA states it, before profile scaling (throughput)."""
    window: str = "run"
    """Evaluation window: "run" for the whole scope, or a length such as "1m"."""
    scope: str = "run"
    """Part of the run judged: "run" (minus warm-up) or a stage name."""
    windows_total: int = 0
    """Windows judged (windowed objectives)."""
    windows_passed: int = 0
    """Windows that met the limit."""
    samples: int = 0
    """Requests (or points) the measured value rests on."""
    min_samples: int = 0
    """Fewer samples than this gives no_data."""
    latency_kind: str | None = None
    """For latency: "corrected" (from intended start, open model) or "service"."""
    optional: bool = False
    """An optional objective may go unexercised without a spec error."""
    message: str = ""
    """One line a person reads: measured vs limit, or why it could not be judged."""
    actions: tuple[str, ...] = ()
    """Recommended actions for a failed or warned check, from the seed's incident flow."""
    out_of_scope: str | None = None
    """Why the run was never designed to judge this objective (an `OutOfScope` value:
    stage_absent, throughput_capacity, sample_size, no_baseline, operation_absent); None
    when it was in scope. Only an unjudged check (not_exercised, no_data) is out of scope."""
    judged_by: JudgedBy = "run"
    """"run": from the run's own measurements; "capacity": from a capacity search's knee,
    extrapolated to the instances the SLA's scaling row allows (harness/verdict/_capacity_checks.py)."""
    basis: dict[str, Any] | None = None
    """For a capacity check, the measured inputs and the extrapolation: capacity run, knee
    bound, rps per instance, CPU at the knee, efficiency, law, instances needed, max instances."""
    ci_low: float | None = None
    """Lower end of the interval around `measured` (same unit); None when there is no
    interval (see `ci_method`) or the lower end is unbounded (too few samples)."""
    ci_high: float | None = None
    """Upper end of the interval around `measured`; None as for `ci_low`."""
    confidence: float | None = None
    """The interval's confidence (0.95); None when the check has no interval."""
    ci_method: str | None = None
    """How the interval was computed (an `IntervalMethod` value: order_statistics, wilson,
    t_per_second, normal_mean); None when the figure has no sampling interval (unjudged, a
    min or max, a drift slope, a server-side figure, a baseline comparison, a capacity knee)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["actions"] = list(self.actions)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(**{**data, "actions": tuple(data.get("actions", ()))})


@dataclass(frozen=True, slots=True)
class Verdict:
    """All checks of a run and the overall status they add up to."""

    status: VerdictStatus
    """Overall: fail beats aborted beats inconclusive beats marginal beats warn beats pass."""
    checks: tuple[Check, ...]
    """One per objective, in SLA order."""
    run_status: str = "completed"
    """Status of the run as run.json records it (completed, aborted, degraded, failed)."""
    reasons: tuple[str, ...] = ()
    """Why the status is not simply the checks' (aborted run, degraded run, nothing judged)."""
    strict: bool = False
    """Whether warnings and marginal checks fail the gate."""
    baseline: str | None = None
    """Run directory of the baseline relative objectives were judged against."""
    run: dict[str, Any] = field(default_factory=dict)
    """What was run: run id, scenario, profile, scale, target, duration, workers."""
    capacity: dict[str, Any] | None = None
    """Capacity plan (informational, never judged): instances per component from the
    measured throughput and server CPU; see harness/verdict/_cpu_estimate.py. None without components."""
    require_coverage: bool = False
    """Whether an in-scope objective left unjudged (no_data, not_exercised) fails the gate."""
    capacity_run: str | None = None
    """The capacity directory whose knee judged the throughput objectives the run could not
    offer (`judged_by: capacity`); None when none was used."""
    diagnosis: tuple[Finding, ...] = ()
    """A few ranked sentences on why the run came out as it did, each citing its figures
    (harness/verdict/_diagnosis.py); empty before the run directory was diagnosed."""

    @property
    def coverage(self) -> Coverage:
        """Objectives in scope, judged and met, and those out of scope by design."""
        return measure_coverage(
            [(check.status, check.out_of_scope) for check in self.checks],
            required=self.require_coverage,
        )

    @property
    def headline(self) -> str:
        """`PASS — 35 of 35 in-scope objectives met; 25 out of scope (throughput capacity)`."""
        return f"{self.status.upper()} — {self.coverage.describe()}"

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(check.status for check in self.checks)
        return {status: tally.get(status, 0) for status in CHECK_STATUSES}

    @property
    def exit_code(self) -> int:
        """The CI gate: 0 pass (and warn or marginal unless strict), 1 fail, 3 inconclusive or a
        run whose perfctl was killed (the run failed, whatever it measured), 130 interrupted."""
        if self.run_status == "interrupted":
            return EXIT_INTERRUPTED
        if self.run_status == "killed":
            return EXIT_RUN
        if self.status == "pass" or (self.status in ("warn", "marginal") and not self.strict):
            return EXIT_PASS
        if self.status in ("inconclusive", "aborted"):
            # aborted without a failed objective: the run failed (deadline, lost workers, a
            # stopped engine), not the SLA; exit 1 is kept for objectives that failed
            return EXIT_RUN
        return EXIT_SLA_FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": VERDICT_SCHEMA,
            "status": self.status,
            "exit_code": self.exit_code,
            "run_status": self.run_status,
            "reasons": list(self.reasons),
            "strict": self.strict,
            "baseline": self.baseline,
            "run": self.run,
            "counts": self.counts,
            "coverage": self.coverage.to_dict(),
            "headline": self.headline,
            "checks": [check.to_dict() for check in self.checks],
            "capacity": self.capacity,
            "capacity_run": self.capacity_run,
            "diagnosis": [finding.to_dict() for finding in self.diagnosis],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            status=data["status"],
            checks=tuple(Check.from_dict(item) for item in data["checks"]),
            run_status=data.get("run_status", "completed"),
            reasons=tuple(data.get("reasons", ())),
            strict=data.get("strict", False),
            baseline=data.get("baseline"),
            run=data.get("run", {}),
            capacity=data.get("capacity"),
            require_coverage=bool(data.get("coverage", {}).get("required", False)),
            capacity_run=data.get("capacity_run"),
            diagnosis=tuple(Finding.from_dict(item) for item in data.get("diagnosis", ())),
        )


def overall_status(
    checks: tuple[Check, ...],
    run_status: str,
    *,
    strict: bool = False,
    require_coverage: bool = False,
    aborted_on_breach: bool = False,
) -> tuple[VerdictStatus, tuple[str, ...]]:
    """The overall status of a run and the reasons it is not simply the checks' own.

    `aborted_on_breach`: an objective's abort rule stopped the run, so an objective failed
    even when its whole-scope check, judged on the shortened run, did not."""
    statuses = {check.status for check in checks}
    reasons: list[str] = []
    uncovered = [c for c in checks if c.status in UNJUDGED_STATUSES and c.out_of_scope is None]
    if require_coverage and uncovered:
        names = ", ".join(check.id for check in uncovered[:5])
        more = f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else ""
        reasons.append(
            f"coverage required: {len(uncovered)} in-scope objective(s) not judged ({names}{more})"
        )
    finished = run_status in ("completed", "degraded")
    if not finished:
        reasons.append(f"the run is {run_status}, not completed: it never counts as a pass")
    if run_status == "degraded":
        reasons.append(
            "the run was degraded (a load generator was lost): it never counts as a pass"
        )
    judged = statuses & {"pass", "warn", "fail", "marginal"}
    if not checks:
        reasons.append("no objective applies to this run: name an SLA with --sla")
    elif not judged:
        reasons.append("no objective could be judged on this run")
    if aborted_on_breach:
        reasons.append("an objective's abort rule stopped the run: its breach lasted")
    if "fail" in statuses or (require_coverage and uncovered) or aborted_on_breach:
        return "fail", tuple(reasons)
    if not finished:
        return "aborted", tuple(reasons)
    if "inconclusive" in statuses or run_status == "degraded" or not judged:
        if "inconclusive" in statuses:
            count = sum(check.status == "inconclusive" for check in checks)
            reasons.append(
                f"{count} check(s) inconclusive: measured while the load generator did not "
                "deliver the plan"
            )
        return "inconclusive", tuple(reasons)
    if "marginal" in statuses:
        count = sum(check.status == "marginal" for check in checks)
        reasons.append(
            f"{count} check(s) too close to call: the {CONFIDENCE * 100:g} % interval straddles the "
            + ("limit; --strict: fails the gate" if strict else "limit (passes unless --strict)")
        )
        return "marginal", tuple(reasons)
    if "warn" in statuses:
        if strict:
            reasons.append("--strict: a warning fails the gate")
        return "warn", tuple(reasons)
    return "pass", tuple(reasons)
