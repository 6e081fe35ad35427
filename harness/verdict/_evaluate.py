"""spec × run directory → Verdict: every objective of the SLA judged, nothing silently passed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.observe import (
    ServerSeries,
    read_server_series,
)
from harness.plan import RunPlan
from harness.rundir import CapacityRecord, EndCause, RunRecord, open_run_dir
from harness.spec import Limit, Objective, Sla, objectives_for_plan
from harness.timeline import LoadSample
from harness.verdict._capacity_checks import CAPACITY_METRICS, capacity_check
from harness.verdict._coverage import UNJUDGED_STATUSES, OutOfScope, out_of_scope
from harness.verdict._delivery import judge_delivery
from harness.verdict._drift import judge_drift
from harness.verdict._incident import actions_for
from harness.verdict._judge import (
    CLIENT_METRICS,
    Reading,
    failed_requests_breach,
    judge,
    read,
)
from harness.verdict._measurements import ALL_OPERATIONS, Measurements
from harness.verdict._model import Check, CheckStatus, Verdict, overall_status
from harness.verdict._scope import NoSpan, RunClock, offered_rps, run_clock, scope_span
from harness.verdict._server_kpis import SERVER_SERIES, judge_memory_drift, judge_utilisation


@dataclass(frozen=True, slots=True)
class JudgedRun:
    """A run directory read for judging: its record, plan, clock and measurements."""

    run_dir: Path
    """The run directory."""
    record: RunRecord
    """run.json."""
    plan: RunPlan
    """The resolved plan the run executed."""
    clock: RunClock
    """When offset 0 happened and when the load stopped."""
    data: Measurements
    """Timeline and engine events, indexed."""
    saturated: bool
    """The engine reported the generator saturated or behind plan at some point."""
    server: ServerSeries | None = None
    """Server-side series (RUN_DIR/server.jsonl); None when the run collected none."""
    load: tuple[LoadSample, ...] = ()
    """load.jsonl, in time order."""
    run_status: str = "completed"
    """interrupted, killed (perfctl was killed mid-run), or run.json's status."""
    notes: tuple[str, ...] = ()
    """What the run-directory reader found that the verdict must say (a killed run, a last
    line cut off mid-write)."""


def read_judged_run(run_dir: Path) -> JudgedRun:
    """Everything the verdict needs from `run_dir`, read through the run-directory reader;
    RunDirError (exit 3) naming file, line and field when anything is unreadable."""
    run = open_run_dir(run_dir)
    data = Measurements(run)
    engine = run.engine
    saturated = bool(engine and (engine.saturated or engine.behind_plan))
    clock = run_clock(run.record, data.time_range(), engine)
    return JudgedRun(
        run_dir,
        run.record,
        run.plan,
        clock,
        data,
        saturated,
        read_server_series(run_dir),
        load=run.load(),
        run_status=run.run_status,
        notes=run.notes,
    )


def evaluate(
    run: JudgedRun,
    sla: Sla,
    *,
    baseline: JudgedRun | None = None,
    strict: bool | None = None,
    require_coverage: bool | None = None,
    capacity: tuple[CapacityRecord, str] | None = None,
) -> Verdict:
    """Judge every objective of the run: the SLA's that apply to its scenario (unless the
    scenario opted out with `sla: false`), then the scenario's own thresholds.

    `require_coverage` (None: the SLA's `defaults.require_coverage`) fails the gate on an
    in-scope objective left unjudged; `strict` (None: the SLA's `defaults.strict`) on a
    warning or a check too close to call. `capacity` (a capacity record and its directory's
    name) judges the throughput objectives the run could not offer from a measured knee."""
    if require_coverage is None:
        require_coverage = sla.require_coverage
    if strict is None:
        strict = sla.strict
    checks: list[Check] = []
    for objective in objectives_for_plan(sla, run.plan):
        if objective.limit is not None:
            check = _check(objective, objective.limit, run, sla)
            checks.append(_scoped(check, objective, run.plan, baseline_given=baseline is not None))
        if objective.baseline is not None:
            check = _baseline_check(objective, run, baseline, sla)
            checks.append(
                _scoped(
                    check, objective, run.plan, relative=True, baseline_given=baseline is not None
                )
            )
    # a span the generator fell short in judges nothing (pass included)
    checks, delivery_reasons = judge_delivery(
        checks,
        run.plan,
        run.clock,
        run.load,
        run.data.events,
        sla.spec.defaults.generator_tolerance,
    )
    if capacity is not None:  # measured by a capacity search, not by this run's delivery
        checks = [_from_capacity(check, sla, *capacity) for check in checks]
    status, reasons = overall_status(
        tuple(checks),
        run.run_status,
        strict=strict,
        require_coverage=require_coverage,
        aborted_on_breach=run.record.end_cause == EndCause.ABORT_ON_BREACH,
    )
    exit_reason = run.record.exit_reason
    if exit_reason and run.run_status != "completed":
        reasons = (*reasons, f"the run ended: {exit_reason}")
    reasons = (*reasons, *run.notes)
    reasons = (*reasons, *delivery_reasons)
    return Verdict(
        status=status,
        checks=tuple(checks),
        run_status=run.run_status,
        reasons=reasons,
        strict=strict,
        baseline=str(baseline.run_dir) if baseline is not None else None,
        run=_run_summary(run),
        capacity=_capacity(run, sla),
        require_coverage=require_coverage,
        capacity_run=capacity[1] if capacity is not None else None,
    )


def _from_capacity(check: Check, sla: Sla, record: CapacityRecord, capacity_run: str) -> Check:
    """A throughput or breaking_point check the run could not judge (it could not offer the
    load), judged from the capacity record's knee instead; any other check as it was."""
    if (
        check.metric not in CAPACITY_METRICS
        or check.status not in UNJUDGED_STATUSES
        or check.out_of_scope != OutOfScope.THROUGHPUT_CAPACITY
    ):
        return check
    judged = capacity_check(sla.objective(check.id), sla, record, capacity_run)
    return replace(judged, message=f"the run could not offer this load; {judged.message}")


def _scoped(
    check: Check,
    objective: Objective,
    plan: RunPlan,
    *,
    relative: bool = False,
    baseline_given: bool,
) -> Check:
    """`check`, marked out of scope when it went unjudged because the run was never designed
    to judge it (see harness/verdict/_coverage.py)."""
    if check.status not in UNJUDGED_STATUSES:
        return check
    reason = out_of_scope(
        objective,
        plan,
        limit_value=None if relative else check.limit,
        relative=relative,
        baseline_given=baseline_given,
    )
    return replace(check, out_of_scope=reason.value) if reason is not None else check


def _capacity(run: JudgedRun, sla: Sla) -> dict[str, Any] | None:
    """The capacity plan from the run's throughput and server CPU (informational)."""
    from harness.verdict._cpu_estimate import plan_capacity

    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        return None
    cpu = run.server.values("cpu_ratio", {}, span.start_t, span.end_t) if run.server else []
    cpu_ratio = sum(value for _, value in cpu) / len(cpu) if cpu else None

    def rps_of(operation: str) -> float:
        return run.data.counts(operation, span.start_t, span.end_t).total / span.duration_s

    basis = {
        "span_s": span.duration_s,
        "rps": rps_of(ALL_OPERATIONS),
        "server_source": run.server.source if run.server else None,
    }
    return plan_capacity(sla.components, rps_of, cpu_ratio, basis)


def _run_summary(run: JudgedRun) -> dict[str, Any]:
    record, plan = run.record, run.plan
    return {
        "run_id": record.run_id,
        "scenario": plan.scenario,
        "profile": plan.profile,
        "model": plan.model,
        "scale": {"users": plan.scale.users, "rate": plan.scale.rate, "time": plan.scale.time},
        "load_scale": plan.scale.load(plan.model),
        "target": record.target,
        "started_at": record.started_at,
        "duration_s": record.duration_s,
        "planned_duration_s": plan.duration_s,
        "workers": record.workers_expected,
        "tags": dict(record.tags),
    }


def _base_check(objective: Objective, run: JudgedRun, sla: Sla, limit: Limit) -> dict[str, Any]:
    return {
        "id": objective.id,
        "operation": objective.operation,
        "metric": objective.metric,
        "statistic": objective.statistic,
        "comparator": limit.comparator,
        "unit": limit.unit,
        "severity": objective.severity,
        "window": _window_label(objective.window_s),
        "scope": objective.scope,
        "min_samples": objective.min_samples,
        "optional": objective.optional,
        "latency_kind": _latency_kind(objective, run),
    }


def _window_label(window_s: float | None) -> str:
    if window_s is None:
        return "run"
    return f"{window_s / 60:g}m" if window_s % 60 == 0 else f"{window_s:g}s"


def _latency_kind(objective: Objective, run: JudgedRun) -> str | None:
    if objective.metric not in ("latency", "latency_drift"):
        return None
    if run.plan.model == "open":
        return "corrected"
    return "response"


def _check(objective: Objective, written_limit: Limit, run: JudgedRun, sla: Sla) -> Check:
    scale = run.plan.scale.load(run.plan.model) if objective.scales_with_load else 1.0
    limit = written_limit.scaled(scale)
    warn = objective.warn.scaled(scale) if objective.warn is not None else None
    base = _base_check(objective, run, sla, limit)
    base |= {
        "limit": limit.value,
        "warn_limit": warn.value if warn is not None else None,
        "seed_limit": written_limit.value if scale != 1.0 else None,
    }

    def unjudged(status: CheckStatus, message: str) -> Check:
        return Check(**base, status=status, message=message)

    server_side = objective.metric in SERVER_SERIES
    if (
        not server_side
        and objective.operation != ALL_OPERATIONS
        and objective.operation not in run.data.all_operations
    ):
        known = ", ".join(run.data.operations) or "none"
        return unjudged(
            "not_exercised",
            f"the run never produced operation {objective.operation!r} (measured: {known})",
        )
    span = scope_span(run.plan, run.clock, objective.scope)
    if isinstance(span, NoSpan):
        return unjudged("not_exercised", span.reason)
    if objective.metric == "breaking_point":
        return unjudged(
            "not_exercised",
            "a breaking point is judged from a capacity search's knee (`perfctl capacity`), "
            "not from one run",
        )
    if objective.metric == "throughput" and limit.is_upper is False:
        offered = offered_rps(run.plan, objective.scope, objective.operation)
        if offered is not None and offered < limit.value:
            return unjudged(
                "not_exercised",
                f"the plan offers about {offered:,.1f} rps here, below the {limit.value:,.1f} rps "
                "the objective needs: the run never offered that load",
            )
    if objective.metric == "latency_drift":
        judgement = judge_drift(objective, limit, run.data, span)
    elif objective.metric == "memory_drift":
        judgement = judge_memory_drift(objective, limit, warn, run.server, span)
    elif server_side:
        judgement = judge_utilisation(objective, limit, warn, run.server, span)
    else:
        judgement = judge(objective, limit, warn, run.data, span)
    status, message = judgement.status, judgement.message
    if status == "fail" and objective.metric in ("latency", "throughput"):
        # A CPU-saturated generator adds its own delay to every latency and lowers the
        # throughput. Falling behind the plan is judged on figures, for every check
        # (harness/verdict/_delivery.py), and leaves out arrivals the target had dropped.
        saturated = [
            event
            for event in run.data.generator_trouble(span.start_t, span.end_t)
            if event.kind == "generator_saturated"
        ]
        if saturated:
            status = "inconclusive"
            message += f"; the load generator saturated ({saturated[0].detail})"
    if objective.metric == "latency" and status in ("pass", "warn", "marginal", "no_data"):
        breach = failed_requests_breach(
            objective, run.data.counts(objective.operation, span.start_t, span.end_t)
        )
        if breach is not None and not _errors_judged(objective, run, sla):
            status, message = "fail", f"{message}; {breach}"
    interval = judgement.interval
    return Check(
        **base,
        status=status,
        measured=judgement.measured,
        windows_total=judgement.windows_total,
        windows_passed=judgement.windows_passed,
        samples=judgement.samples,
        message=message,
        actions=actions_for(objective, sla, status),
        ci_low=interval.low if interval is not None else None,
        ci_high=interval.high if interval is not None else None,
        confidence=interval.confidence if interval is not None else None,
        ci_method=interval.method.value if interval is not None else None,
    )


def _errors_judged(objective: Objective, run: JudgedRun, sla: Sla) -> bool:
    """Whether an error_rate or availability objective judges the failures of the latency
    objective's operation in this run (then the failures are its business)."""
    return any(
        other.metric in ("error_rate", "availability")
        and other.operation == objective.operation
        and other.limit is not None
        for other in objectives_for_plan(sla, run.plan)
    )


def _baseline_check(
    objective: Objective, run: JudgedRun, baseline: JudgedRun | None, sla: Sla
) -> Check:
    """The objective's value against the same value in a baseline run (Keptn's relative criteria)."""
    relative = objective.baseline
    assert relative is not None
    unit = objective.limit.unit if objective.limit is not None else objective.unit
    reference = Limit(relative.comparator, 0.0, unit, relative.text)
    base = _base_check(objective, run, sla, reference)
    base |= {"id": f"{objective.id}.vs_baseline", "limit": relative.change_ratio, "unit": "ratio"}
    base["comparator"] = relative.comparator
    if baseline is None:
        return Check(**base, status="not_exercised", message="no --baseline run was given")
    now = _whole_scope(objective, run)
    before = _whole_scope(objective, baseline)
    if isinstance(now, str) or isinstance(before, str):
        reason = now if isinstance(now, str) else f"baseline: {before}"
        return Check(**base, status="not_exercised", message=reason)
    if now.value is None or before.value is None or now.samples < objective.min_samples:
        return Check(**base, status="no_data", samples=now.samples, message="too few samples")
    change = (now.value - before.value) / before.value if before.value else 0.0
    status: CheckStatus = "pass" if relative.holds(now.value, before.value) else "fail"
    warn_rel = objective.baseline_warn
    if status == "fail" and warn_rel is not None and warn_rel.holds(now.value, before.value):
        status = "warn"
    message = f"{change:+.1%} against the baseline (allowed {relative.text})"
    return Check(
        **base,
        status=status,
        measured=change,
        warn_limit=warn_rel.change_ratio if warn_rel is not None else None,
        samples=now.samples,
        message=message,
        actions=actions_for(objective, sla, status),
    )


def _whole_scope(objective: Objective, run: JudgedRun) -> Reading | str:
    span = scope_span(run.plan, run.clock, objective.scope)
    if isinstance(span, NoSpan):
        return span.reason
    if objective.metric not in CLIENT_METRICS:
        return f"{objective.metric} is not compared against a baseline"
    return read(objective, run.data, span)
