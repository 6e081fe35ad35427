"""Builds `Objective`s from written objective options (an SLA table cell or an objective
entry), checked against the SLA's defaults and monitoring windows, collecting every problem."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.spec._document import Document, PathKey, Problem
from harness.spec._objective import (
    METRIC_UNITS,
    Objective,
    auto_min_samples,
    percentile_of,
)
from harness.spec._sla_models import DefaultsSpec, Metric, MonitoringKey, ObjectiveOptions
from harness.spec._types import Severity
from harness.spec._units import Limit, RelativeLimit, parse_limit, parse_relative

_STATISTICS: dict[Metric, tuple[str, ...]] = {
    "latency": ("percentile", "mean", "min", "max"),
    "error_rate": ("ratio", "requests"),
    "availability": ("ratio",),
    "throughput": ("rate",),
    "cpu": ("percentile", "mean", "max"),
    "memory": ("percentile", "mean", "max"),
    "latency_drift": ("percentile", "mean"),
    "memory_drift": ("slope",),
    "breaking_point": ("rate",),
    "checks": ("ratio",),
}

_DEFAULT_STATISTIC: dict[Metric, str] = {
    "error_rate": "ratio",
    "availability": "ratio",
    "throughput": "rate",
    "cpu": "mean",
    "memory": "mean",
    "memory_drift": "slope",
    "breaking_point": "rate",
    "checks": "ratio",
}

_MONITORING: dict[Metric, MonitoringKey] = {
    "latency": "response_time",
    "availability": "availability",
    "error_rate": "error_rate",
    "throughput": "throughput",
    "cpu": "resource_usage",
    "memory": "resource_usage",
}


@dataclass(frozen=True, slots=True)
class Written:
    """What an objective says, with the paths its parts were written at."""

    path: PathKey
    """Path of the objective's mapping (or of the table cell)."""
    id: str
    operation: str
    metric: Metric
    statistic: str | None
    statistic_path: PathKey
    options: ObjectiveOptions
    query: str | None = None
    title: str = ""
    severity: Severity | None = None
    """Severity from the context (tier, component) when the objective sets none."""
    scope: str = "run"
    """Scope from the context (component peak/burst) when the objective sets none."""


@dataclass
class ObjectiveBuilder:
    """Builds the objectives of one document against the SLA's defaults and monitoring windows."""

    document: Document
    defaults: DefaultsSpec = field(default_factory=DefaultsSpec)
    monitoring_s: dict[MonitoringKey, float] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _ids: dict[str, PathKey] = field(default_factory=dict)

    def build(self, written: Written) -> Objective | None:
        """The resolved objective, or None after recording why it cannot be resolved."""
        before = len(self.problems)
        options = written.options
        statistic = self._statistic(written)
        unit = METRIC_UNITS[written.metric]
        limit = self._limit(options.limit, written.path, "limit", unit)
        warn = self._limit(options.warn, written.path, "warn", unit)
        baseline = self._relative(options.baseline, written.path, "baseline")
        baseline_warn = self._relative(options.baseline_warn, written.path, "baseline_warn")
        self._check_bounds(written, limit, warn, baseline, baseline_warn)
        self._check_id(written)
        if len(self.problems) > before or statistic is None:
            return None
        return Objective(
            id=written.id,
            operation=written.operation,
            metric=written.metric,
            statistic=statistic,
            limit=limit,
            warn=warn,
            window_s=self._window_s(written),
            windows_required=(
                options.windows_required
                if options.windows_required is not None
                else self.defaults.windows_required
            ),
            scope=options.scope or written.scope,
            scope_written=options.scope is not None,
            severity=options.severity or written.severity or self.defaults.severity,
            optional=options.optional,
            min_samples=options.min_samples
            or max(self.defaults.min_samples or 1, auto_min_samples(statistic)),
            abort_after_s=options.abort.after if options.abort else None,
            baseline=baseline,
            baseline_warn=baseline_warn,
            query=written.query,
            scenarios=tuple(options.scenarios or ()),
            title=written.title or written.id,
            description=options.description,
            source=f"{self.document.label}:{self.document.line_of(written.path)}",
        )

    def _statistic(self, written: Written) -> str | None:
        metric = written.metric
        statistic = written.statistic or _DEFAULT_STATISTIC.get(metric)
        allowed = _STATISTICS[metric]
        shown = ", ".join("p50/p95/p99..." if kind == "percentile" else kind for kind in allowed)
        if statistic is None:
            self.problems.append(
                Problem(written.statistic_path, f"a {metric} objective needs a statistic: {shown}")
            )
            return None
        statistic = statistic.strip().lower()
        percentile = percentile_of(statistic)
        if percentile is not None:
            if not 0 < percentile < 100:
                self.problems.append(
                    Problem(
                        written.statistic_path,
                        f"a percentile must lie strictly between 0 and 100, got {statistic!r}",
                    )
                )
                return None
            if "percentile" in allowed:
                return f"p{percentile:g}"
        elif statistic in allowed:
            return statistic
        self.problems.append(
            Problem(
                written.statistic_path,
                f"statistic {statistic!r} does not apply to metric {metric}; use {shown}",
            )
        )
        return None

    def _limit(self, text: str | None, path: PathKey, key: str, unit: str) -> Limit | None:
        if text is None:
            return None
        try:
            return parse_limit(text, unit)  # type: ignore[arg-type]
        except ValueError as error:
            message = str(error)
            if "got " not in message:
                message += f", got {text!r}"
            self.problems.append(Problem((*path, key), message))
            return None

    def _relative(self, text: str | None, path: PathKey, key: str) -> RelativeLimit | None:
        return parse_relative(text) if text is not None else None

    def _check_bounds(
        self,
        written: Written,
        limit: Limit | None,
        warn: Limit | None,
        baseline: RelativeLimit | None,
        baseline_warn: RelativeLimit | None,
    ) -> None:
        options, path = written.options, written.path
        if options.limit is None and options.baseline is None:
            self.problems.append(
                Problem(path, "an objective needs a limit (e.g. '< 500 ms') or a baseline")
            )
        if options.warn is not None and options.limit is None:
            self.problems.append(Problem((*path, "warn"), "warn needs a limit to be looser than"))
        if limit is not None and warn is not None and not warn.is_looser_than(limit):
            self.problems.append(
                Problem(
                    (*path, "warn"),
                    f"warn {warn.text!r} must be looser than limit {limit.text!r} "
                    "(the same direction and a wider bound)",
                )
            )
        if options.baseline_warn is not None and baseline is None:
            self.problems.append(
                Problem(
                    (*path, "baseline_warn"), "baseline_warn needs a baseline to be looser than"
                )
            )
        if (
            baseline is not None
            and baseline_warn is not None
            and not _looser_relative(baseline_warn, baseline)
        ):
            self.problems.append(
                Problem(
                    (*path, "baseline_warn"),
                    f"baseline_warn {baseline_warn.text!r} must be looser than baseline "
                    f"{baseline.text!r}",
                )
            )
        if options.abort is not None and options.limit is None:
            self.problems.append(Problem((*path, "abort"), "abort needs a limit to watch"))
        if options.scope is not None and not options.scope.strip():
            self.problems.append(Problem((*path, "scope"), "scope must be 'run' or a stage name"))
        if not written.operation.strip():
            self.problems.append(Problem((*path, "operation"), "operation must not be empty"))

    def _check_id(self, written: Written) -> None:
        earlier = self._ids.get(written.id)
        if earlier is not None:
            line = self.document.line_of(earlier)
            self.problems.append(
                Problem(
                    written.path, f"duplicate objective id {written.id!r} (also at line {line})"
                )
            )
        else:
            self._ids[written.id] = written.path

    def _window_s(self, written: Written) -> float | None:
        window = written.options.window
        if window is None:
            key = _MONITORING.get(written.metric)
            if key is not None and key in self.monitoring_s:
                return self.monitoring_s[key]
            window = self.defaults.window
        return None if window == "run" else float(window)


def _looser_relative(warn: RelativeLimit, limit: RelativeLimit) -> bool:
    if (warn.comparator in ("<", "<=")) != (limit.comparator in ("<", "<=")):
        return False
    if limit.comparator in ("<", "<="):
        return warn.change_ratio > limit.change_ratio
    return warn.change_ratio < limit.change_ratio
