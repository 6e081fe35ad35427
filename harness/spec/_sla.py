"""Loading sla.yaml: validate the file, expand its tables into objectives, check consistency."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.spec._document import Document, Problem, read_document
from harness.spec._locate import find_project_file
from harness.spec._objective import Objective
from harness.spec._objective_builder import ObjectiveBuilder, Written
from harness.spec._sla_models import (
    ComponentSpec,
    IncidentResponseSpec,
    ObjectiveEntry,
    ObjectiveOptions,
    ScalingSpec,
    SlaFile,
)
from harness.spec._types import Severity
from harness.spec._validation import validate_document

SLA_FILE_NAME = "sla.yaml"

# Stage names the component throughput figures are judged in, unless an entry sets `scope`.
_THROUGHPUT_SCOPES = {"target": "run", "peak": "peak", "burst": "spike"}


@dataclass(frozen=True, slots=True)
class Component:
    """A component's throughput figures and the scaling row it runs on (capacity planning)."""

    name: str
    """Key in `components`, e.g. "api_gateway"."""
    title: str
    """Label from the seed, e.g. "API Gateway"."""
    operation: str
    """The operation it serves; "*" for every request."""
    target_rps: float | None
    """Sustained throughput it must serve."""
    peak_rps: float | None
    """Throughput during the peak."""
    burst_rps: float | None
    """Burst capacity."""
    scaling: ScalingSpec | None
    """Min/max instances and target utilisation of what runs it."""


@dataclass(frozen=True, slots=True)
class Sla:
    """A loaded SLA: the validated file and the objectives expanded from it."""

    spec: SlaFile
    """The file as validated (tiers, scaling, monitoring, incident response as written)."""
    objectives: tuple[Objective, ...]
    """Every objective, tables expanded, defaults applied."""
    components: tuple[Component, ...] = ()
    """Throughput components with their scaling rows."""
    source: str = ""
    """The file as the user named it."""
    operation_titles: dict[str, str] = field(default_factory=dict)
    """Operation -> title from `services` ("product_search" -> "Product Search")."""

    @property
    def name(self) -> str:
        return self.spec.name

    def objective(self, objective_id: str) -> Objective:
        """The objective with this id; KeyError when there is none."""
        for objective in self.objectives:
            if objective.id == objective_id:
                return objective
        raise KeyError(objective_id)

    @property
    def require_coverage(self) -> bool:
        """`defaults.require_coverage`: an in-scope objective left unjudged fails the gate."""
        return self.spec.defaults.require_coverage

    @property
    def strict(self) -> bool:
        """`defaults.strict`: a warning or a check too close to call fails the gate."""
        return self.spec.defaults.strict

    def incident_response(self, severity: Severity) -> IncidentResponseSpec | None:
        """The seed's response and recommended actions for a breach of this severity."""
        return self.spec.incident_response.get(severity)


def default_sla_path() -> Path:
    """sla.yaml in the current directory, else the example perfctl ships (checkout or wheel)."""
    return find_project_file(SLA_FILE_NAME)


def load_sla(path: str | Path | None = None) -> Sla:
    """Load, validate and expand an SLA file; every problem is raised at once as SpecError."""
    file_path = Path(path) if path is not None else default_sla_path()
    document = read_document(file_path)
    spec = validate_document(SlaFile, document)
    return expand_sla(spec, document)


def expand_sla(spec: SlaFile, document: Document) -> Sla:
    """The SLA's objectives from its tables and list, or a SpecError naming every problem."""
    builder = ObjectiveBuilder(
        document,
        defaults=spec.defaults,
        monitoring_s={key: entry.every for key, entry in spec.monitoring.items()},
    )
    problems = builder.problems
    written: list[Written] = []
    written += _service_objectives(spec, problems)
    written += _component_objectives(spec, problems)
    written += [
        _entry(entry, ("kpis", name), f"kpi.{name}", title=entry.title or name)
        for name, entry in spec.kpis.items()
    ]
    written += [
        _entry(entry, ("objectives", index), None) for index, entry in enumerate(spec.objectives)
    ]
    objectives = [obj for obj in (builder.build(item) for item in written) if obj is not None]
    for name, row in spec.scaling.items():
        if row.min_instances > row.max_instances:
            problems.append(
                Problem(
                    ("scaling", name, "min_instances"),
                    f"min_instances {row.min_instances} exceeds max_instances {row.max_instances}",
                )
            )
    if problems:
        raise document.error(problems)
    return Sla(
        spec=spec,
        objectives=tuple(objectives),
        components=tuple(_component(name, item, spec) for name, item in spec.components.items()),
        source=document.label,
        operation_titles={
            op: service.title for op, service in spec.services.items() if service.title
        },
    )


def resolve_entries(
    entries: list[ObjectiveEntry], document: Document, path: tuple[str, ...], sla: Sla | None
) -> tuple[Objective, ...]:
    """Objectives written in another file (a scenario's thresholds), with the SLA's defaults."""
    builder = ObjectiveBuilder(document)
    if sla is not None:
        builder.defaults = sla.spec.defaults
        builder.monitoring_s = {key: entry.every for key, entry in sla.spec.monitoring.items()}
    written = [_entry(entry, (*path, index), None) for index, entry in enumerate(entries)]
    objectives = [obj for obj in (builder.build(item) for item in written) if obj is not None]
    if builder.problems:
        raise document.error(builder.problems)
    return tuple(objectives)


def _entry(
    entry: ObjectiveEntry, path: tuple[str | int, ...], default_id: str | None, title: str = ""
) -> Written:
    statistic = entry.statistic
    scope = entry.scope or "run"
    derived = f"{entry.operation}.{entry.metric}" + (f".{statistic}" if statistic else "")
    if scope != "run":
        derived += f"@{scope}"
    return Written(
        path=path,
        id=entry.id or default_id or derived,
        operation=entry.operation,
        metric=entry.metric,
        statistic=statistic,
        statistic_path=(*path, "statistic"),
        options=entry,
        query=entry.query,
        title=title,
    )


def _service_objectives(spec: SlaFile, problems: list[Problem]) -> list[Written]:
    written: list[Written] = []
    for operation, service in spec.services.items():
        base = ("services", operation)
        label = service.title or operation
        tier = spec.tiers.get(service.tier) if service.tier else None
        if service.tier and tier is None:
            known = ", ".join(sorted(spec.tiers)) or "none declared"
            problems.append(
                Problem((*base, "tier"), f"unknown tier {service.tier!r}; known tiers: {known}")
            )
        severity = tier.severity if tier else None
        for statistic, options in service.latency.items():
            written.append(
                Written(
                    path=(*base, "latency", statistic),
                    id=f"{operation}.latency.{statistic}",
                    operation=operation,
                    metric="latency",
                    statistic=statistic,
                    statistic_path=(*base, "latency", statistic),
                    options=options,
                    title=f"{label} {statistic}",
                    severity=severity,
                )
            )
        availability: ObjectiveOptions | None = service.availability
        if availability is None and tier is not None:
            availability = ObjectiveOptions(limit=f">= {tier.availability * 100:g} %")
        cells: tuple[tuple[str, ObjectiveOptions | None], ...] = (
            ("error_rate", service.error_rate),
            ("availability", availability),
            ("throughput", service.throughput),
        )
        for metric, cell in cells:
            if cell is None:
                continue
            written.append(
                Written(
                    path=(*base, metric)
                    if getattr(service, metric) is not None
                    else (*base, "tier"),
                    id=f"{operation}.{metric}",
                    operation=operation,
                    metric=metric,  # type: ignore[arg-type]
                    statistic=None,
                    statistic_path=(*base, metric),
                    options=cell,
                    title=f"{label} {metric.replace('_', ' ')}",
                    severity=severity,
                )
            )
    return written


def _component_objectives(spec: SlaFile, problems: list[Problem]) -> list[Written]:
    written: list[Written] = []
    for name, component in spec.components.items():
        base = ("components", name)
        if component.runs_on is not None and component.runs_on not in spec.scaling:
            known = ", ".join(sorted(spec.scaling)) or "none declared"
            problems.append(
                Problem(
                    (*base, "runs_on"),
                    f"unknown scaling row {component.runs_on!r}; known rows: {known}",
                )
            )
        for kind, scope in _THROUGHPUT_SCOPES.items():
            options = getattr(component.throughput, kind)
            if options is None:
                continue
            written.append(
                Written(
                    path=(*base, "throughput", kind),
                    id=f"{name}.throughput.{kind}",
                    operation=component.operation,
                    metric="throughput",
                    statistic=None,
                    statistic_path=(*base, "throughput", kind),
                    options=options,
                    title=f"{component.title or name} {kind} throughput",
                    severity=component.severity,
                    scope=scope,
                )
            )
    return written


def _component(name: str, component: ComponentSpec, spec: SlaFile) -> Component:
    def rps(options: ObjectiveOptions | None) -> float | None:
        if options is None or options.limit is None:
            return None
        from harness.spec._units import parse_limit

        return parse_limit(options.limit, "rps").value

    figures = component.throughput
    return Component(
        name=name,
        title=component.title or name,
        operation=component.operation,
        target_rps=rps(figures.target),
        peak_rps=rps(figures.peak),
        burst_rps=rps(figures.burst),
        scaling=spec.scaling.get(component.runs_on) if component.runs_on else None,
    )
