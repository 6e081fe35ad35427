"""The tables and words of a run's report: banner, SLA table, errors, journeys, funnel, metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.report._capacity_checks_section import judged_by_capacity
from harness.report._data import RunData
from harness.report._series import ALL_REQUESTS, PERCENTILES, OperationTotals, RunSeries
from harness.rundir import ProcessRecord, RunRecord
from harness.timeline import JOURNEY_PREFIX
from harness.verdict import (
    CHECK_STATUSES,
    Check,
    OutOfScope,
    format_limit,
    format_measured,
    format_value,
    format_windows,
)

TOP_ERRORS = 20


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One check as the report's tables show it."""

    id: str
    operation: str
    what: str
    limit: str
    measured: str
    """The measured value with its confidence interval: `477 ms [471, 484]`."""
    status: str
    windows: str
    scope: str
    severity: str
    samples: int
    message: str
    actions: tuple[str, ...]


def _row(check: Check) -> CheckRow:
    statistic = f" {check.statistic}" if check.statistic else ""
    kind = f" ({check.latency_kind})" if check.latency_kind else ""
    warn = f"; warn {format_value(check.warn_limit, check.unit)}" if check.warn_limit else ""
    return CheckRow(
        id=check.id,
        operation=check.operation,
        what=f"{check.metric}{statistic}{kind}",
        limit=format_limit(check) + warn,
        measured=format_measured(check),
        status=check.status,
        windows=format_windows(check),
        scope=check.scope if check.window == "run" else f"{check.scope}, {check.window} windows",
        severity=check.severity,
        samples=check.samples,
        message=_scoped_message(check),
        actions=check.actions,
    )


def _scoped_message(check: Check) -> str:
    """The check's message, saying first when the run was never designed to judge it."""
    if check.out_of_scope is None:
        return check.message
    return f"out of scope ({OutOfScope(check.out_of_scope).label}): {check.message}"


def urgent_checks(data: RunData) -> list[CheckRow]:
    """Checks too close to call, then failed, then warned ones, for the banner."""
    if data.verdict is None:
        return []
    order = {status: index for index, status in enumerate(CHECK_STATUSES)}
    urgent = [
        check for check in data.verdict.checks if check.status in ("marginal", "fail", "warn")
    ]
    return [_row(check) for check in sorted(urgent, key=lambda check: order[check.status])]


def checks_by_operation(data: RunData) -> list[tuple[str, list[CheckRow]]]:
    """Every check the run judged itself grouped by operation (SLA order), most urgent first
    within a group; those judged from a capacity run have their own table."""
    if data.verdict is None:
        return []
    order = {status: index for index, status in enumerate(CHECK_STATUSES)}
    groups: dict[str, list[Check]] = {}
    for check in data.verdict.checks:
        if judged_by_capacity(check):
            continue
        groups.setdefault(check.operation, []).append(check)
    return [
        (op, [_row(c) for c in sorted(checks, key=lambda check: order[check.status])])
        for op, checks in groups.items()
    ]


def what_was_run(data: RunData) -> list[tuple[str, str]]:
    """Scenario, profile and scale, model, target, duration, workers, as label/value pairs."""
    record, plan = data.record, data.plan
    scale = plan.scale
    duration = record.duration_s
    planned = plan.duration_s
    rows = [
        ("run", record.run_id),
        ("scenario", plan.scenario),
        (
            "profile",
            f"{plan.profile} (users ×{scale.users:g}, rate ×{scale.rate:g}, time ×{scale.time:g})",
        ),
        ("model", f"{plan.model} ({'users' if plan.model == 'closed' else 'arrival rate'})"),
        ("target", record.target or plan.target or "—"),
        (
            "duration",
            f"{duration:,.0f} s of {planned:,.0f} s planned"
            if duration is not None
            else f"{planned:,.0f} s planned",
        ),
        ("workers", _workers(record)),
        ("started", record.started_at),
        ("run status", f"{data.run_status}: {record.exit_reason or '—'}"),
    ]
    rows.extend(("note", note) for note in data.notes)
    if record.tags:
        rows.append(("tags", ", ".join(f"{k}={v}" for k, v in record.tags.items())))
    return rows


def _workers(record: RunRecord) -> str:
    expected = record.workers_expected
    if not expected:
        return "local (one process)"
    lost = record.workers_lost
    return f"{expected} workers behind a master" + (f", {lost} lost" if lost else "")


@dataclass(frozen=True, slots=True)
class Headline:
    """The figures the runs index shows for a run (judged span, every request)."""

    requests: int
    requests_per_s: float | None
    error_rate: float | None
    p95_ms: float | None
    p99_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_per_s": self.requests_per_s,
            "error_rate": self.error_rate,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
        }


def headline(data: RunData, series: RunSeries) -> Headline:
    total = series.totals.get(ALL_REQUESTS)
    if total is None or not total.counts.total:
        return Headline(0, None, None, None, None)
    span = data.judged.duration_s if data.judged else None
    return Headline(
        requests=total.counts.total,
        requests_per_s=total.counts.total / span if span else None,
        error_rate=total.counts.failed / total.counts.total,
        p95_ms=total.percentiles_ms[95.0],
        p99_ms=total.percentiles_ms[99.0],
    )


def top_errors(data: RunData) -> list[tuple[str, int, str]]:
    """(message, count, operations) of the most frequent error messages."""
    rows = [
        (message, sum(per_op.values()), ", ".join(sorted(per_op)))
        for message, per_op in data.errors.items()
    ]
    rows.sort(key=lambda row: -row[1])
    return rows[:TOP_ERRORS]


@dataclass(frozen=True, slots=True)
class OperationRow:
    """One operation over the judged span."""

    name: str
    requests: int
    failed: int
    p50: str
    p95: str
    p99: str
    max: str


def _ms(value: float | None) -> str:
    return format_value(value, "ms")


def operation_rows(totals: dict[str, OperationTotals], journeys: bool) -> list[OperationRow]:
    rows = []
    for name, total in sorted(totals.items()):
        if name == ALL_REQUESTS or name.startswith(JOURNEY_PREFIX) != journeys:
            continue
        p = total.percentiles_ms
        label = name.removeprefix(JOURNEY_PREFIX) if journeys else name
        rows.append(
            OperationRow(
                label,
                total.counts.total,
                total.counts.failed,
                _ms(p[PERCENTILES[0]]),
                _ms(p[PERCENTILES[1]]),
                _ms(p[PERCENTILES[2]]),
                _ms(total.max_ms),
            )
        )
    return rows


def funnel(data: RunData, series: RunSeries) -> list[tuple[str, int]]:
    """Sessions reaching each operation, most reached first; [] when the journeys tell nothing.

    A session is one iteration of a journey (a `journey.<name>` timing). It reaches every
    operation its journey issues, so an operation's sessions are those of every journey that
    issues it. Ties keep the order the plan's journeys issue them in, so a funnel follows the
    journeys' own flow (the plan, not the report, knows what the operations mean).
    """
    sessions = {
        journey.name: series.totals[f"{JOURNEY_PREFIX}{journey.name}"].counts.total
        for journey in data.plan.journeys
        if f"{JOURNEY_PREFIX}{journey.name}" in series.totals
    }
    if not sessions:
        return []
    reached: dict[str, int] = {}
    for journey in data.plan.journeys:
        issued = [step.operation for step in journey.steps] + list(journey.operations)
        for operation in dict.fromkeys(issued):
            reached[operation] = reached.get(operation, 0) + sessions.get(journey.name, 0)
    steps = sorted(reached.items(), key=lambda step: -step[1])  # stable: ties keep plan order
    return steps if steps and steps[0][1] else []


def worker_events(data: RunData) -> list[tuple[float, str, str]]:
    """(seconds since start, kind, detail) of every generator event, runner's and engine's."""
    seen: set[tuple[float, str, str]] = set()
    rows: list[tuple[float, str, str]] = []
    candidates = [(e.t, e.kind, e.detail) for e in data.events] + [
        (e.t, e.kind, e.detail) for e in data.record.worker_events
    ]
    for t, kind, detail in candidates:
        key = (round(t, 1), kind, detail)
        if key not in seen:
            seen.add(key)
            rows.append((t, kind, detail))
    rows.sort(key=lambda row: row[0])
    return [(round(t - data.offset_s, 1), kind, detail) for t, kind, detail in rows]


def metadata(data: RunData) -> dict[str, Any]:
    """Versions, host, engine summary, processes and the resolved plan (as indented JSON)."""
    record = data.record
    return {
        "versions": dict(record.versions),
        "host": {k: str(v) for k, v in record.host.items()},
        "engine": data.engine.to_dict() if data.engine else None,
        "processes": [_process(p) for p in record.processes],
        "plan_json": json.dumps(record.plan, indent=2),
        "workers_lost": record.workers_lost,
    }


def _process(process: ProcessRecord) -> dict[str, str]:
    """A child process row; its log is linked only as a plain relative path."""
    log = process.log
    plain = log and ":" not in log and not log.startswith(("/", "\\")) and ".." not in log
    return {
        "role": process.role,
        "pid": str(process.pid),
        "exit_code": str(process.exit_code) if process.exit_code is not None else "—",
        "log": log,
        "href": log if plain else "",
    }


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a generic capacity plan: label/value pairs or a table."""

    title: str
    pairs: list[tuple[str, str]]
    columns: list[str]
    rows: list[list[str]]


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "—"}[value]
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value) if value else "none"
    return str(value)


def _table(title: str, items: list[tuple[str | None, dict[str, Any]]]) -> Block:
    """Rows of dicts as a table; columns empty in every row are left out."""
    keys = list(dict.fromkeys(k for _, item in items for k in item))
    columns = [k for k in keys if any(item.get(k) is not None for _, item in items)]
    named = any(name is not None for name, _ in items)
    rows = [
        ([name or ""] if named else []) + [_cell(item.get(c)) for c in columns]
        for name, item in items
    ]
    return Block(title, [], ([""] if named else []) + columns, rows)


def capacity_blocks(capacity: dict[str, Any] | None) -> list[Block]:
    """The verdict's capacity plan as pairs and tables, whatever its exact shape."""
    if not capacity:
        return []

    def nested(value: object) -> bool:
        return isinstance(value, dict | list) and bool(value)

    scalars = [(k, _cell(v)) for k, v in capacity.items() if not nested(v)]
    blocks = [Block("summary", scalars, [], [])] if scalars else []
    for key, value in capacity.items():
        if not nested(value):
            continue
        if isinstance(value, list) and all(isinstance(i, dict) for i in value):
            blocks.append(_table(key, [(None, item) for item in value]))
        elif isinstance(value, dict) and all(isinstance(i, dict) for i in value.values()):
            blocks.append(_table(key, [(str(name), item) for name, item in value.items()]))
        elif isinstance(value, dict):
            blocks.append(Block(key, [(k, _cell(v)) for k, v in value.items()], [], []))
        else:
            blocks.append(Block(key, [("", ", ".join(_cell(v) for v in value))], [], []))
    return blocks
