"""Loading scenarios/*.yaml: find the file, validate it, merge the shared profiles, check it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError
from harness.plan import BUILTIN_JOURNEYS, DataSourcePlan
from harness.spec._data import data_columns, plan_data_sources
from harness.spec._document import PathKey, Problem, read_document
from harness.spec._env import resolve_env
from harness.spec._locate import scenarios_dir
from harness.spec._locustfile import team_locustfile_problems
from harness.spec._objective import Objective
from harness.spec._response_plan import response_problems
from harness.spec._scenario_models import (
    JourneySpec,
    ProfilesFile,
    ProfileSpec,
    ScenarioFile,
    StepSpec,
)
from harness.spec._sla import resolve_entries
from harness.spec._validation import validate_document

PROFILES_FILE_NAME = "profiles.yaml"
FULL_PROFILE = "full"
"""The profile that runs the scenario exactly as written: the seed's numbers."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario with its profiles merged and its own objectives resolved."""

    name: str
    """Scenario name (the file name without .yaml unless the file sets `name`)."""
    spec: ScenarioFile
    """The file as validated."""
    path: Path
    """The file it was read from (absolute)."""
    profiles: dict[str, ProfileSpec] = field(default_factory=dict)
    """Profile name -> profile: the shared ones, overridden by the scenario's own."""
    objectives: tuple[Objective, ...] = ()
    """The scenario's own thresholds (e.g. the k6 script's), in the SLA's format."""
    data_sources: tuple[DataSourcePlan, ...] = ()
    """The `data:` sources, their files read and checked."""

    @property
    def profile_names(self) -> tuple[str, ...]:
        """Every profile `plan_run` accepts for this scenario, `full` first."""
        return (FULL_PROFILE, *sorted(self.profiles))


def resolve_scenario_path(name: str | Path) -> Path:
    """The file for a scenario name (looked up in scenarios/) or a path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path("."):
        if not candidate.exists():
            raise UsageError(f"{name}: no such scenario file")
        return candidate
    directory = scenarios_dir()
    if str(name) == Path(PROFILES_FILE_NAME).stem:
        raise UsageError(
            f"{directory / PROFILES_FILE_NAME} holds the shared profiles, not a scenario"
        )
    for suffix in (".yaml", ".yml"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    known = ", ".join(list_scenario_names()) or "none found"
    raise UsageError(f"unknown scenario {str(name)!r}; known scenarios in {directory}: {known}")


def list_scenario_names() -> tuple[str, ...]:
    """Names of the scenario files in scenarios/, sorted."""
    directory = scenarios_dir()
    if not directory.is_dir():
        return ()
    return tuple(
        sorted(
            path.stem
            for path in directory.iterdir()
            if path.suffix in (".yaml", ".yml") and path.stem != Path(PROFILES_FILE_NAME).stem
        )
    )


def load_profiles(path: Path) -> dict[str, ProfileSpec]:
    """The shared profiles of a profiles.yaml file, checked."""
    document = read_document(path)
    profiles = validate_document(ProfilesFile, document).profiles
    problems = _profile_problems(profiles, ("profiles",))
    if problems:
        raise document.error(problems)
    return profiles


def _shared_profiles(scenario_path: Path) -> dict[str, ProfileSpec]:
    for directory in (scenario_path.parent, scenarios_dir()):
        path = directory / PROFILES_FILE_NAME
        if path.is_file():
            return load_profiles(path)
    return {}


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by name (scenarios/NAME.yaml) or path; every problem at once."""
    path = resolve_scenario_path(name_or_path)
    document = resolve_env(read_document(path))
    spec = validate_document(ScenarioFile, document)
    data_sources, problems = plan_data_sources(spec, path)
    problems += scenario_problems(spec, path, data_sources)
    if problems:
        raise document.error(problems)
    objectives = resolve_entries(spec.objectives, document, ("objectives",), None)
    profiles = {**_shared_profiles(path.resolve()), **spec.profiles}
    return Scenario(
        name=spec.name or path.stem,
        spec=spec,
        path=path.resolve(),
        profiles=profiles,
        objectives=objectives,
        data_sources=data_sources,
    )


def scenario_problems(
    spec: ScenarioFile, path: Path, data_sources: tuple[DataSourcePlan, ...] = ()
) -> list[Problem]:
    """Every inconsistency pydantic cannot see: model vs stage targets, journeys, profiles
    (the data sources' own problems come from `plan_data_sources`)."""
    problems: list[Problem] = []
    problems += _stage_problems(spec)
    for name, journey in spec.journeys.items():
        columns = data_columns(journey.data, data_sources)
        problems += _journey_problems(name, journey, ("journeys", name), path, columns)
    locustfiles = {j.locustfile for j in spec.journeys.values() if j.locustfile is not None}
    if len(locustfiles) > 1:
        problems.append(
            Problem(("journeys",), f"a scenario may use one locustfile, got {sorted(locustfiles)}")
        )
    team = min(locustfiles, default=None)
    problems += team_locustfile_problems(spec, locate_locustfile(team, path) if team else None)
    problems += _profile_problems(spec.profiles, ("profiles",))
    return problems


def _stage_problems(spec: ScenarioFile) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, int] = {}
    for index, stage in enumerate(spec.stages or ()):
        at: PathKey = ("stages", index)
        if stage.duration <= 0:
            problems.append(
                Problem(
                    (*at, "duration"), f"a stage needs a positive duration, got {stage.duration:g}s"
                )
            )
        if spec.model == "closed":
            if stage.users is None:
                problems.append(
                    Problem(at, "a closed-model stage needs `users` (users at its end)")
                )
            if stage.rate is not None:
                problems.append(
                    Problem((*at, "rate"), "`rate` belongs to the open model; set `model: open`")
                )
        else:
            if stage.rate is None:
                problems.append(
                    Problem(at, "an open-model stage needs `rate` (arrivals per second)")
                )
            if stage.users is not None:
                problems.append(
                    Problem((*at, "users"), "`users` belongs to the closed model; use `rate`")
                )
            if stage.spawn_rate is not None:
                problems.append(
                    Problem((*at, "spawn_rate"), "`spawn_rate` belongs to the closed model")
                )
        if stage.name is not None:
            if stage.name in names:
                problems.append(
                    Problem(
                        (*at, "name"),
                        f"duplicate stage name {stage.name!r} (also stage {names[stage.name]})",
                    )
                )
            names.setdefault(stage.name, index)
    total_s = sum(stage.duration for stage in spec.stages or ())
    if spec.warmup >= total_s > 0:
        problems.append(
            Problem(
                ("warmup",),
                f"warm-up {spec.warmup:g}s leaves nothing of a {total_s:g}s run to judge",
            )
        )
    return problems


def _journey_problems(
    name: str, journey: JourneySpec, at: PathKey, path: Path, columns: set[str] | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    kinds = [key for key in ("builtin", "steps", "locustfile") if getattr(journey, key) is not None]
    if len(kinds) > 1:
        problems.append(
            Problem(at, f"a journey is one of builtin, steps or locustfile, got {kinds}")
        )
        return problems
    if not kinds or kinds == ["builtin"]:
        builtin = journey.builtin or name
        if builtin not in BUILTIN_JOURNEYS:
            known = ", ".join(BUILTIN_JOURNEYS)
            where = (*at, "builtin") if journey.builtin else at
            problems.append(
                Problem(
                    where,
                    f"unknown built-in journey {builtin!r}; built-in journeys: {known} "
                    "(or give `steps` or `locustfile`)",
                )
            )
    if journey.operations is not None and journey.locustfile is None:
        problems.append(
            Problem((*at, "operations"), "`operations` is for locustfile journeys only")
        )
    if journey.variables and journey.steps is None:
        problems.append(Problem((*at, "variables"), "`variables` is for step journeys only"))
    if journey.locustfile is not None:
        locustfile = locate_locustfile(journey.locustfile, path)
        if locustfile.suffix != ".py" or not locustfile.is_file():
            problems.append(
                Problem(
                    (*at, "locustfile"),
                    f"no Python file {journey.locustfile!r} (looked next to {path.name} and in "
                    "the current directory)",
                )
            )
    if journey.steps is not None:
        problems += _step_problems(journey, at, path, columns or set())
    else:
        for key in ("on_start", "on_stop", "reauth_on"):
            if getattr(journey, key):
                problems.append(Problem((*at, key), f"`{key}` is for step journeys only"))
    if journey.reauth_on and not journey.on_start:
        problems.append(
            Problem(
                (*at, "reauth_on"),
                "`reauth_on` re-runs the on_start steps (a login), but the journey has none",
            )
        )
    return problems


def locate_locustfile(written: str, scenario_path: Path) -> Path:
    """A locustfile path, relative to the scenario's directory, else to the current directory."""
    candidate = Path(written)
    if candidate.is_absolute():
        return candidate
    beside = scenario_path.resolve().parent / candidate
    return beside if beside.exists() else candidate.resolve()


def _step_problems(
    journey: JourneySpec, at: PathKey, path: Path, columns: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    known = set(journey.variables) | columns
    # on_start's variables are the user's in every step; on_stop sees the user's only
    sections = (("on_start", journey.on_start), ("steps", journey.steps or []))
    for key, steps in sections:
        problems += _section_problems(steps, (*at, key), path, known)
    user_known = set(journey.variables) | columns
    problems += _section_problems(journey.on_start, (*at, "on_start"), path, user_known, False)
    problems += _section_problems(journey.on_stop, (*at, "on_stop"), path, user_known)
    return problems


def _section_problems(
    steps: list[StepSpec], at: PathKey, path: Path, known: set[str], report: bool = True
) -> list[Problem]:
    """The problems of one list of steps; `known` grows by what they extract."""
    problems: list[Problem] = []
    for index, step in enumerate(steps):
        here: PathKey = (*at, index)
        if not step.path.startswith("/"):
            problems.append(Problem((*here, "path"), f"a path starts with '/', got {step.path!r}"))
        if not step.operation.strip():
            problems.append(Problem((*here, "operation"), "operation must not be empty"))
        texts = [
            step.path,
            *(str(v) for v in step.query.values()),
            *step.headers.values(),
            *_strings(step.json_body),
        ]
        for text in texts:
            for variable in _PLACEHOLDER.findall(text):
                if variable not in known:
                    problems.append(
                        Problem(
                            here,
                            f"unknown variable {{{variable}}}; declare it in `variables` or "
                            f"extract it in an earlier step (known: {', '.join(sorted(known)) or 'none'})",
                        )
                    )
        for code in step.check.status:
            if not 100 <= code <= 599:
                problems.append(
                    Problem(
                        (*here, "check", "status"), f"an HTTP status lies in 100-599, got {code}"
                    )
                )
        problems += response_problems(step, here, path, known)
        known |= set(step.extract)
    return problems if report else []


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _profile_problems(profiles: dict[str, ProfileSpec], at: PathKey) -> list[Problem]:
    problems: list[Problem] = []
    for name, profile in profiles.items():
        here: PathKey = (*at, name)
        if name == FULL_PROFILE:
            problems.append(
                Problem(here, "profile 'full' is reserved: it runs the scenario exactly as written")
            )
        for factor, bound in (("users", "max_users"), ("rate", "max_rate"), ("time", "duration")):
            if getattr(profile, factor) is not None and getattr(profile, bound) is not None:
                problems.append(
                    Problem(
                        (*here, bound), f"give either `{factor}` (a factor) or `{bound}`, not both"
                    )
                )
        if profile.duration is not None and profile.duration <= 0:
            problems.append(Problem((*here, "duration"), "a profile duration must be positive"))
        if profile.max_rate is not None and profile.max_rate <= 0:
            problems.append(Problem((*here, "max_rate"), "max_rate must be positive"))
    return problems


def require_profile(scenario: Scenario, profile: str) -> ProfileSpec | None:
    """The profile's spec (None for `full`); UsageError listing the profiles when unknown."""
    if profile == FULL_PROFILE:
        return None
    if profile not in scenario.profiles:
        raise UsageError(
            f"unknown profile {profile!r} for scenario {scenario.name!r}; "
            f"profiles: {', '.join(scenario.profile_names)}"
        )
    return scenario.profiles[profile]
