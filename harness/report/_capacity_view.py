"""The words and tables of a capacity report: the knee's bound, one row per step, the scaling
measured between searches, and one row per capacity check (instances needed against the
SLA's scaling limits).

Everything here reads `capacity.json` (a `CapacityRecord`) and the step directories' names;
it judges nothing: held, broke and short are the steps' own outcomes, the checks' statuses
are the verdict's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from harness.errors import RunDirError
from harness.redaction import scrub, scrub_text
from harness.rundir import CAPACITY_FILE, CapacityKnee, CapacityRecord, CapacityStep, Scaling
from harness.verdict import VERDICT_FILE, Check, format_limit, format_value

RUN_PAGE_FILE = "index.html"
"""A step's run report, when `perfctl report` was run on it."""

StepOutcome = Literal["held", "broke", "short"]

OUTCOME_LABELS: dict[StepOutcome, str] = {
    "held": "held",
    "broke": "broke",
    "short": "generator fell short",
}


def step_outcome(step: CapacityStep) -> StepOutcome:
    """Short when the generator could not offer the rate (whatever the target did), else
    held or broke."""
    if not step.delivered:
        return "short"
    return "held" if step.held else "broke"


def outcome_text(step: CapacityStep) -> str:
    """`held`, `broke <objective>` or `generator fell short`."""
    outcome = step_outcome(step)
    if outcome == "broke" and step.limiting_objective:
        return f"broke {step.limiting_objective}"
    return OUTCOME_LABELS[outcome]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.4g}"


def knee_range(knee: CapacityKnee) -> str:
    """Where the knee lies, in arrivals per second, worded by its bound: an interval when a
    held and a broken rate bracket it, `at least` when nothing broke, `below` when the first
    step already broke."""
    held, broke = knee.held_rate_per_s, knee.broke_rate_per_s
    if knee.bound == "floor" or (held is None and broke is not None):
        return f"below {_rate(broke)} arrivals/s"
    if knee.is_lower_bound or (held is not None and broke is None):
        return f"at least {_rate(held)} arrivals/s"
    if held is not None and broke is not None:
        return f"between {_rate(held)} and {_rate(broke)} arrivals/s"
    return "unknown: no step held or broke"


BOUND_NOTES: dict[str, str] = {
    "found": "a held and a broken step bracket it",
    "generator": "nothing broke before the load generator reached its own limit",
    "ceiling": "nothing broke up to the search's highest rate",
    "floor": "the lowest rate offered already broke",
    "steps": "the step budget ran out before the search refined it further",
}
"""What bounds the answer, for a person (keyed by `CapacityKnee.bound`)."""


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step of a search as the step table shows it (in the order the steps ran)."""

    run_id: str
    """The step's run directory name ("" when the record names none)."""
    href: str
    """Relative link to the step's run report, else its verdict.json, else ""."""
    linked: str
    """What `href` opens: "report", "verdict.json" or "" (no step directory)."""
    offered_per_s: float
    """Journey arrivals per second offered."""
    achieved_rps: float | None
    """Requests per second the target completed."""
    p95_ms: float | None
    """p95 latency of every request over the judged span."""
    p99_ms: float | None
    """p99 latency of every request over the judged span."""
    server_cpu_ratio: float | None
    """Server CPU (mean) over the step."""
    server_cpu_cores: float | None
    """Cores the target's processes used."""
    generator_cpu_cores: float | None
    """Cores the load generator used."""
    outcome: StepOutcome
    """held, broke or short."""
    outcome_text: str
    """`held`, `broke <objective>` or `generator fell short`."""


def is_plain_name(name: str) -> bool:
    """A single path component (a step's run id read from a file never leads elsewhere)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def _step_link(capacity_dir: Path, run_id: str) -> tuple[str, str]:
    if not is_plain_name(run_id):
        return "", ""
    for page, label in ((RUN_PAGE_FILE, "report"), (VERDICT_FILE, VERDICT_FILE)):
        if (capacity_dir / run_id / page).is_file():
            return f"{quote(run_id)}/{page}", label
    return "", ""


def step_rows(capacity_dir: Path, steps: tuple[CapacityStep, ...]) -> list[StepRow]:
    """The step table, in run order; a step whose directory is gone is listed unlinked."""
    rows = []
    for step in steps:
        href, linked = _step_link(capacity_dir, step.run_id)
        rows.append(
            StepRow(
                run_id=step.run_id,
                href=href,
                linked=linked,
                offered_per_s=step.rate_per_s,
                achieved_rps=step.achieved_rps,
                p95_ms=step.latency_p95_ms,
                p99_ms=step.latency_p99_ms,
                server_cpu_ratio=step.cpu_ratio,
                server_cpu_cores=step.server_cpu_cores,
                generator_cpu_cores=step.generator_cpu_cores,
                outcome=step_outcome(step),
                outcome_text=outcome_text(step),
            )
        )
    return rows


def _instances(key: str, scaling: Scaling) -> str:
    if key == "1":
        return "1 instance"
    if key == "N":
        return f"{scaling.instances} instances"
    return f"{key} instances" if key.isdigit() else key


def scaling_pairs(scaling: Scaling, machine_cores: int) -> list[tuple[str, str]]:
    """How capacity grows with instances, as label/value pairs."""
    how = (
        f"measured: a search with {scaling.instances} instances ran beside the one-instance search"
        if scaling.measured
        else "assumed: no scaling search ran"
    )
    cores = _cores(scaling.target_cores, scaling)
    rows = [
        ("scaling", how),
        (
            "efficiency (used)",
            format_value(scaling.efficiency, "ratio")
            + (
                " (at least: the machine stopped the scaled search)"
                if scaling.efficiency_is_lower_bound
                else ""
            ),
        ),
        ("raw efficiency", format_value(scaling.raw_efficiency, "ratio")),
        ("law", scaling.law),
        ("Amdahl σ (serial fraction)", f"{scaling.sigma:.3g}"),
        ("cores left to the target", cores),
        ("other processes' cores", _cores(scaling.other_cpu_cores, scaling)),
        ("target CPU per request", _cpu_cost(scaling)),
        ("machine cores", f"{machine_cores}"),
    ]
    if scaling.note:
        rows.append(("note", scaling.note))
    return rows


def _cores(by_instances: dict[str, float], scaling: Scaling) -> str:
    text = " · ".join(
        f"{_instances(key, scaling)}: {value:,.2f} cores" for key, value in by_instances.items()
    )
    return text or "—"


def _cpu_cost(scaling: Scaling) -> str:
    if scaling.matched_rate_per_s is None:
        return "—"
    costs = " · ".join(
        f"{_instances(key, scaling)}: {value:.2f} ms"
        for key, value in scaling.server_cpu_ms_per_request.items()
    )
    return f"{costs} (at {scaling.matched_rate_per_s:,.0f} arrivals/s, held by both)"


@dataclass(frozen=True, slots=True)
class InstanceRow:
    """One capacity check: a throughput objective judged from the knee, extrapolated to the
    instances the SLA's scaling row allows."""

    id: str
    """The objective's id."""
    figure: str
    """Its limit as a person reads it (`> 10,000.0 rps`)."""
    rps_per_instance: float | None
    """Requests per second one instance takes at the knee."""
    target_cpu: float | None
    """CPU the scaling row's autoscaler aims for (0-1)."""
    extrapolated: bool
    """Whether the check extrapolated to instances (a breaking point is the knee itself)."""
    instances_needed: int | None
    """Instances the figure needs; None when no count of instances reaches it."""
    max_instances: int | None
    """The scaling row's max_instances."""
    capacity: str
    """Throughput at max_instances by the scaling law (the check's measured value)."""
    margin: str
    """How far that capacity lies above (+) or below (-) the figure, in percent."""
    status: str
    """The check's status."""
    message: str
    """The check's own line."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: object) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def _margin(margin: float | None) -> str:
    """The verdict's margin (capacity at max instances over the figure, minus one) as a
    signed percentage."""
    return "—" if margin is None else f"{margin * 100:+,.0f} %"


def capacity_checks(record: CapacityRecord, capacity_dir: Path) -> list[Check]:
    """The record's checks judged from the knee (`judged_by: capacity`), read as verdict
    checks; a RunDirError naming the check when one is not a check."""
    checks = []
    for index, data in enumerate(record.checks):
        try:
            check = Check.from_dict(scrub(data))
        except (TypeError, KeyError) as error:
            raise RunDirError(
                f"{capacity_dir / CAPACITY_FILE}: checks[{index}] is not a verdict check ({error})"
            ) from None
        if check.judged_by == "capacity":
            checks.append(check)
    return checks


def instance_rows(checks: list[Check]) -> list[InstanceRow]:
    """One row per capacity check, in the record's order."""
    rows = []
    for check in checks:
        basis: dict[str, Any] = check.basis or {}
        needed = _count(basis.get("instances_needed"))
        most = _count(basis.get("max_instances"))
        rows.append(
            InstanceRow(
                id=check.id,
                figure=format_limit(check),
                rps_per_instance=_number(basis.get("rps_per_instance")),
                target_cpu=_number(basis.get("target_cpu")),
                extrapolated="instances_needed" in basis,
                instances_needed=needed,
                max_instances=most,
                capacity=format_value(check.measured, check.unit),
                margin=_margin(_number(basis.get("margin"))),
                status=check.status,
                message=check.message,
            )
        )
    return rows


def what_was_searched(record: CapacityRecord) -> list[tuple[str, str]]:
    """Scenario, profile, target, SLA and when, as label/value pairs."""
    steps = sum(len(search.steps) for search in record.searches)
    searches = len(record.searches)
    return [
        ("capacity run", record.capacity_id),
        ("scenario", record.scenario),
        ("profile", record.profile),
        ("target", scrub_text(record.target)),
        ("SLA", f"{scrub_text(record.sla)} (sha256 {record.sla_sha256[:12]})"),
        ("finished", record.created_at),
        ("steps", f"{steps} in {searches} search{'es' if searches > 1 else ''}"),
    ]
