"""A scenario's `data:` sources, checked when it loads: each file read, its rows counted.

A source's file is relative to the scenario file (else to the current directory). Every
problem is located at the scenario's line (`data.users.file`), and a malformed file also
names its own line: `scenario.yaml:9: data.users.file: users.csv:17: the row has 3 fields...`.
"""

from __future__ import annotations

from pathlib import Path

from harness.data_rows import DataFileError, format_of, read_rows
from harness.plan import DataSourcePlan
from harness.spec._document import PathKey, Problem, display_path
from harness.spec._scenario_models import DataSourceSpec, ScenarioFile


def locate_data_file(written: str, scenario_path: Path) -> Path:
    """A data file, relative to the scenario's directory, else to the current directory."""
    candidate = Path(written).expanduser()
    if candidate.is_absolute():
        return candidate
    beside = scenario_path.resolve().parent / candidate
    return beside if beside.exists() else candidate.resolve()


def plan_data_sources(
    spec: ScenarioFile, scenario_path: Path
) -> tuple[tuple[DataSourcePlan, ...], list[Problem]]:
    """The scenario's data sources as planned, and every problem with them or their use."""
    sources: list[DataSourcePlan] = []
    problems: list[Problem] = []
    for name, source in spec.data.items():
        planned = _source(name, source, scenario_path, problems)
        if planned is not None:
            sources.append(planned)
    problems += _usage_problems(spec, {source.name: source for source in sources})
    return tuple(sources), problems


def _source(
    name: str, source: DataSourceSpec, scenario_path: Path, problems: list[Problem]
) -> DataSourcePlan | None:
    at: PathKey = ("data", name)
    if source.strategy == "random" and source.on_exhausted is not None:
        problems.append(
            Problem(
                (*at, "on_exhausted"),
                "`on_exhausted` is for sequential and unique sources (random rows never run out)",
            )
        )
    data_format = format_of(source.file, source.format)
    if data_format is None:
        problems.append(
            Problem(
                (*at, "file"),
                f"cannot tell the format of {source.file!r} from its extension; "
                "set `format: csv`, `json` or `jsonl`",
            )
        )
        return None
    path = locate_data_file(source.file, scenario_path)
    try:
        rows = read_rows(path, data_format, label=display_path(path))
    except DataFileError as error:
        problems.append(Problem((*at, "file"), str(error)))
        return None
    return DataSourcePlan(
        name=name,
        file=str(path),
        format=data_format,
        strategy=source.strategy,
        on_exhausted=source.on_exhausted or ("stop" if source.strategy == "unique" else "recycle"),
        scope=source.scope,
        rows=len(rows),
        columns=rows.columns,
    )


def _usage_problems(spec: ScenarioFile, read: dict[str, DataSourcePlan]) -> list[Problem]:
    problems: list[Problem] = []
    for journey_name, journey in spec.journeys.items():
        at: PathKey = ("journeys", journey_name, "data")
        if journey.data and journey.steps is None:
            problems.append(Problem(at, "`data` is for step journeys only"))
            continue
        owners: dict[str, str] = dict.fromkeys(journey.variables, "a variable")
        for index, source_name in enumerate(journey.data):
            if source_name not in spec.data:
                known = ", ".join(sorted(spec.data)) or "none"
                problems.append(
                    Problem(
                        (*at, index),
                        f"unknown data source {source_name!r}; declared under `data:`: {known}",
                    )
                )
                continue
            source = read.get(source_name)
            if source is None:
                continue  # its file is already a problem
            for column in source.columns:
                if column in owners:
                    problems.append(
                        Problem(
                            (*at, index),
                            f"column {column!r} of data source {source_name!r} is also "
                            f"{owners[column]}; rename one",
                        )
                    )
                owners.setdefault(column, f"a column of data source {source_name!r}")
    return problems


def data_columns(journey_data: list[str], sources: tuple[DataSourcePlan, ...]) -> set[str]:
    """The variables a journey's data sources give it."""
    by_name = {source.name: source for source in sources}
    return {column for name in journey_data if name in by_name for column in by_name[name].columns}
