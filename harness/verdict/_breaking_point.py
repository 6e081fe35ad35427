"""The breaking point of a stress run: the highest load at which every latency objective held.

The scope is cut into windows (the objective's, else 10 s). In each window the load is the
request rate the target completed (all operations; the plan's arrival rate is shown beside
it for open-model runs), and each operation with latency objectives either held (every
objective with enough samples in the window met its limit) or broke. Going through the
windows in time order, an operation's breaking point is the highest load of the windows
before its first broken one; the run's is the highest load before any operation broke.
An operation that never broke held "at least" up to the highest load it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.plan import RunPlan
from harness.spec import Limit, Objective
from harness.verdict._judge import Judgement, read
from harness.verdict._measurements import ALL_OPERATIONS, Measurements
from harness.verdict._model import CheckStatus
from harness.verdict._scope import Span, windows

DEFAULT_WINDOW_S = 10.0
"""Window the load and the latencies are judged on when the objective names none."""


@dataclass(frozen=True, slots=True)
class OperationBreak:
    """Where one operation's latency objectives stopped holding."""

    operation: str
    """Operation name ("*" for objectives on every request)."""
    held_up_to_rps: float | None
    """Highest load before the first broken window; None when no window before it held."""
    broke_at_rps: float | None
    """Load of the first window in which an objective broke; None when none did."""
    broke_in_window: int | None = None
    """Index of that window."""
    broken_objective: str = ""
    """Id of the objective that broke first."""
    held_windows: tuple[int, ...] = ()
    """Indexes of the windows before the break in which every judged objective held."""


def planned_rate_per_s(plan: RunPlan, offset_s: float) -> float | None:
    """Open model: the plan's arrival rate at `offset_s` (linear within a stage)."""
    stage = plan.stage_at(offset_s)
    if stage is None or stage.rate_start_per_s is None:
        return None
    end = stage.rate_end_per_s if stage.rate_end_per_s is not None else stage.rate_start_per_s
    progress = (offset_s - stage.start_s) / stage.duration_s if stage.duration_s else 1.0
    return stage.rate_start_per_s + (end - stage.rate_start_per_s) * progress


def _broken(objectives: Sequence[Objective], data: Measurements, part: Span) -> str | None:
    """The id of an objective broken in `part`; "" when every judged one held; None if none
    had enough samples to judge."""
    judged = False
    for objective in objectives:
        reading = read(objective, data, part)
        if reading.value is None or reading.samples < objective.min_samples:
            continue
        assert objective.limit is not None
        if not objective.limit.holds(reading.value):
            return objective.id
        judged = True
    return "" if judged else None


def _operation_break(
    operation: str,
    objectives: Sequence[Objective],
    data: Measurements,
    parts: Sequence[Span],
    loads: Sequence[float],
) -> OperationBreak:
    held: list[int] = []
    for index, part in enumerate(parts):
        broken = _broken(objectives, data, part)
        if broken == "":
            held.append(index)
        elif broken is not None:
            return OperationBreak(
                operation,
                max((loads[i] for i in held), default=None),
                loads[index],
                index,
                broken,
                tuple(held),
            )
    return OperationBreak(
        operation, max((loads[i] for i in held), default=None), None, held_windows=tuple(held)
    )


def find_breaks(
    latency_objectives: Sequence[Objective], data: Measurements, parts: Sequence[Span]
) -> tuple[list[float], list[OperationBreak]]:
    """Load per window and where each operation's latency objectives first broke."""
    loads = [
        data.counts(ALL_OPERATIONS, part.start_t, part.end_t).total / part.duration_s
        for part in parts
    ]
    by_operation: dict[str, list[Objective]] = {}
    for objective in latency_objectives:
        by_operation.setdefault(objective.operation, []).append(objective)
    breaks = [
        _operation_break(operation, objectives, data, parts, loads)
        for operation, objectives in by_operation.items()
    ]
    return loads, breaks


def judge_breaking_point(
    objective: Objective,
    limit: Limit,
    latency_objectives: Sequence[Objective],
    plan: RunPlan,
    started_t: float,
    data: Measurements,
    span: Span,
) -> Judgement:
    """The run's breaking point (rps) against `limit`, every operation's in the message."""
    if not latency_objectives:
        return Judgement("no_data", None, 0, 0, 0, "no latency objective applies to this run")
    parts = windows(span, objective.window_s or DEFAULT_WINDOW_S)
    loads, breaks = find_breaks(latency_objectives, data, parts)
    samples = data.counts(ALL_OPERATIONS, span.start_t, span.end_t).total
    if not any(found.held_windows or found.broke_in_window is not None for found in breaks):
        return Judgement(
            "no_data",
            None,
            samples,
            len(parts),
            0,
            "too few samples to judge latency in any window",
        )
    first_break = min(
        (found.broke_in_window for found in breaks if found.broke_in_window is not None),
        default=len(parts),
    )
    held = sorted({i for found in breaks for i in found.held_windows if i < first_break})
    best = max(held, key=lambda i: loads[i], default=None)
    measured = loads[best] if best is not None else 0.0
    status: CheckStatus = "pass" if limit.holds(measured) else "fail"
    where = _arrivals(plan, started_t, parts[best]) if best is not None else ""
    if first_break == len(parts):
        head = f"never broke: held at every load up to {measured:,.1f} rps{where}"
    elif best is None:
        head = "broke in the first judged window"
    else:
        head = f"held up to {measured:,.1f} rps{where}"
    details = "; ".join(_describe(found) for found in breaks)
    return Judgement(
        status,
        measured,
        samples,
        len(parts),
        len(held),
        f"{head} vs {limit.comparator} {limit.value:,.1f} rps; per operation: {details}",
    )


def _arrivals(plan: RunPlan, started_t: float, part: Span) -> str:
    rate = planned_rate_per_s(plan, part.start_t + part.duration_s / 2 - started_t)
    return f" (planned arrivals {rate:,.0f}/s)" if rate is not None else ""


def _describe(found: OperationBreak) -> str:
    name = "all requests" if found.operation == ALL_OPERATIONS else found.operation
    if found.broke_at_rps is None:
        if found.held_up_to_rps is None:
            return f"{name}: too few samples"
        return f"{name}: held throughout (≥ {found.held_up_to_rps:,.1f} rps)"
    held = f"{found.held_up_to_rps:,.1f} rps" if found.held_up_to_rps is not None else "none"
    return f"{name}: held up to {held}, {found.broken_objective} broke at {found.broke_at_rps:,.1f} rps"
