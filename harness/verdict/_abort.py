"""Abort on breach: objectives whose limit stays broken for a sustained time stop the run.

Like k6's `abortOnFail` with `delayAbortEval` and Taurus's `for 30s`: each second, the
objective's statistic is computed over the trailing `TRAILING_S` seconds; when it has failed
(beyond the alert threshold `warn` when there is one, else beyond the limit) in every second
of the last `abort.after`, the run stops and the verdict says why.
Only request metrics can abort (latency, error rate, availability, checks); warm-up never does.
A rule honours its objective's `scenarios` (it watches only runs of those) and `scope` (an
objective scoped on a stage is watched, and its trailing seconds read, only in that stage).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.plan import RunPlan
from harness.spec import Objective
from harness.timeline import JOURNEY_PREFIX, LatencyHistogram, OutcomeCounts, WindowLine
from harness.verdict._format import format_value
from harness.verdict._judge import request_ratio

TRAILING_S = 5
"""Seconds of data each per-second evaluation looks at (one second alone is too noisy)."""
_ABORTABLE = ("latency", "error_rate", "availability", "checks")


@dataclass(frozen=True, slots=True)
class AbortDecision:
    """Why the run must stop."""

    objective_id: str
    """The objective whose breach lasted."""
    measured: float
    """Its value in the last evaluated second."""
    reason: str
    """One line for run.json and the verdict."""


class AbortWatch:
    """Fed the timeline lines as they are written, says when a breach has lasted long enough."""

    def __init__(self, objectives: Iterable[Objective], plan: RunPlan, *, started_t: float) -> None:
        self._judged_from_t = started_t + plan.warmup_s
        self._seconds_of: dict[str, tuple[int, int]] = {}
        """Objective id -> [first, end) whole seconds it is watched in (its scope)."""
        for objective in objectives:
            if (
                objective.abort_after_s is None
                or objective.limit is None
                or objective.metric not in _ABORTABLE
                or not objective.applies_to(plan.scenario)
            ):
                continue
            watched = _scope_seconds(objective.scope, plan, self._judged_from_t, started_t)
            if watched is not None:
                self._seconds_of[objective.id] = watched
        self.objectives = tuple(o for o in objectives if o.id in self._seconds_of)
        self._seconds: dict[str, dict[int, list[WindowLine]]] = defaultdict(dict)
        self._breached_since: dict[str, int | None] = {o.id: None for o in self.objectives}
        self._evaluated_t: int | None = None

    def __bool__(self) -> bool:
        return bool(self.objectives)

    def observe(self, lines: Iterable[WindowLine]) -> None:
        """Take new timeline.jsonl lines (any order; late lines for a second are added)."""
        for line in lines:
            self._seconds[line.op].setdefault(line.t, []).append(line)

    def check(self, now_t: float) -> AbortDecision | None:
        """Evaluate every finished second up to `now_t`; a decision once a breach has lasted."""
        last_complete = int(now_t) - 2  # a second is merged across workers within ~1 s
        start = self._evaluated_t + 1 if self._evaluated_t is not None else int(self._judged_from_t)
        for second in range(max(start, int(self._judged_from_t)), last_complete + 1):
            self._evaluated_t = second
            for objective in self.objectives:
                decision = self._step(objective, second)
                if decision is not None:
                    return decision
        self._forget_before(last_complete - TRAILING_S)
        return None

    def _step(self, objective: Objective, second: int) -> AbortDecision | None:
        first, end = self._seconds_of[objective.id]
        if not first <= second < end:
            self._breached_since[objective.id] = None
            return None
        value = self._value(objective, max(second - TRAILING_S + 1, first), second + 1)
        assert objective.limit is not None
        assert objective.abort_after_s is not None
        # a breach is a failure: beyond the alert threshold when there is one, else the limit
        bound = objective.warn if objective.warn is not None else objective.limit
        if value is None or bound.holds(value):
            self._breached_since[objective.id] = None
            return None
        since = self._breached_since[objective.id]
        if since is None:
            since = self._breached_since[objective.id] = second
        if second - since + 1 < objective.abort_after_s:
            return None
        unit = bound.unit
        reason = (
            f"{objective.id} broke {bound.text} for {objective.abort_after_s:g}s "
            f"(last {format_value(value, unit)}): abort on breach"
        )
        return AbortDecision(objective.id, value, reason)

    def _lines(self, op: str, start_t: int, end_t: int) -> list[WindowLine]:
        if op == "*":
            names = [name for name in self._seconds if not name.startswith(JOURNEY_PREFIX)]
        else:
            names = [op]
        return [
            line
            for name in names
            for t, lines in self._seconds.get(name, {}).items()
            if start_t <= t < end_t
            for line in lines
        ]

    def _value(self, objective: Objective, start_t: int, end_t: int) -> float | None:
        lines = self._lines(objective.operation, start_t, end_t)
        if objective.metric == "latency":
            merged = LatencyHistogram()
            for line in lines:
                try:
                    merged.add(line.latency())
                except ValueError:
                    continue  # a corrupt histogram: the evaluation afterwards names its line
            if merged.count < objective.min_samples:
                return None
            percentile = objective.percentile
            if percentile is not None:
                return merged.percentile_ms(percentile)
            return merged.max_ms if objective.statistic == "max" else merged.mean_ms
        return request_ratio(objective, sum((line.counts for line in lines), OutcomeCounts()))

    def _forget_before(self, t: int) -> None:
        for seconds in self._seconds.values():
            for old in [second for second in seconds if second < t]:
                del seconds[old]


def _scope_seconds(
    scope: str, plan: RunPlan, judged_from_t: float, started_t: float
) -> tuple[int, int] | None:
    """[first, end) whole seconds of `scope` after warm-up; None for a stage the plan lacks."""
    if scope == "run":
        return math.ceil(judged_from_t), 2**62
    stage = next((stage for stage in plan.stages if stage.name == scope), None)
    if stage is None:
        return None
    first = math.ceil(max(started_t + stage.start_s, judged_from_t))
    return first, math.floor(started_t + stage.end_s)
