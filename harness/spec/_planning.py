"""The one way to plan a run: what `perfctl run SOURCE` names, as the `RunPlan` to execute.

- a loaded `Scenario`, a scenario name in scenarios/ or a scenario file: planned under a
  profile (`_scenario_plan.py`);
- `my_locustfile.py`: a team's plain locustfile, run Locust-style with -u/-r/-t;
- `reports/<run-id>/plan.json` (any `.json`): a resolved plan, rerun exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from harness.errors import UsageError
from harness.plan import JourneyPlan, RunPlan, Scale, StagePlan
from harness.spec._env import check_plan_env
from harness.spec._limits import (
    MAX_DURATION_S,
    MAX_SPAWN_RATE_PER_S,
    MAX_USERS,
    plan_limit_problems,
)
from harness.spec._scenario import FULL_PROFILE, Scenario, load_scenario
from harness.spec._scenario_plan import plan_scenario

DEFAULT_LOCUST_USERS = 1
"""Locust's own default for -u."""
DEFAULT_LOCUST_SPAWN_RATE_PER_S = 1.0
"""Locust's own default for -r."""


@dataclass(frozen=True, slots=True)
class LocustOptions:
    """Locust's own words for a plain locustfile run; None means not given."""

    users: int | None = None
    """-u/--users."""
    spawn_rate_per_s: float | None = None
    """-r/--spawn-rate."""
    run_time_s: float | None = None
    """-t/--run-time."""

    @property
    def given(self) -> bool:
        return any(
            value is not None for value in (self.users, self.spawn_rate_per_s, self.run_time_s)
        )


def plan_run(
    source: Scenario | str | Path,
    profile: str | None = None,
    target: str = "",
    tags: Mapping[str, str] | None = None,
    locust: LocustOptions | None = None,
) -> RunPlan:
    """The plan `source` names (see the module docstring) under `profile` (None: `full`), aimed
    at `target` (secrets stripped) with `tags`; `locust` holds -u/-r/-t for a locustfile.
    A UsageError or SpecError before anything starts."""
    locust = locust or LocustOptions()
    tags = dict(tags or {})
    if isinstance(source, Scenario):
        return _plan_for_scenario(source, profile, target, tags, locust)
    if str(source).endswith(".py"):
        return _plan_for_locustfile(str(source), profile, target, tags, locust)
    if str(source).endswith(".json"):
        _refuse_locust_options(source, locust)
        return _plan_from_file(Path(source), profile, target, tags)
    return _plan_for_scenario(source, profile, target, tags, locust)


def _refuse_locust_options(source: Scenario | str | Path, locust: LocustOptions) -> None:
    if locust.given:
        name = source.name if isinstance(source, Scenario) else str(source)
        raise UsageError(
            "-u/--users, -r/--spawn-rate and -t/--run-time apply to a locustfile (*.py) only; "
            f"{name!r} sets its own stages"
        )


def _plan_for_scenario(
    source: Scenario | str | Path,
    profile: str | None,
    target: str,
    tags: dict[str, str],
    locust: LocustOptions,
) -> RunPlan:
    _refuse_locust_options(source, locust)
    scenario = source if isinstance(source, Scenario) else load_scenario(source)
    return plan_scenario(scenario, profile or FULL_PROFILE, target, tags)


def _plan_for_locustfile(
    source: str, profile: str | None, target: str, tags: dict[str, str], options: LocustOptions
) -> RunPlan:
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"locustfile {source} does not exist")
    if profile is not None:
        raise UsageError("--profile applies to scenarios; a locustfile takes -u, -r and -t")
    if options.run_time_s is None:
        raise UsageError(f"a locustfile run needs -t/--run-time (e.g. -t 5m) for {path}")
    users = DEFAULT_LOCUST_USERS if options.users is None else options.users
    spawn_rate = (
        DEFAULT_LOCUST_SPAWN_RATE_PER_S
        if options.spawn_rate_per_s is None
        else options.spawn_rate_per_s
    )
    if not 1 <= users <= MAX_USERS:
        raise UsageError(f"-u/--users must be at least 1 and at most {MAX_USERS:,}, got {users:,}")
    if not 0 < spawn_rate <= MAX_SPAWN_RATE_PER_S:
        raise UsageError(
            f"-r/--spawn-rate must be positive and at most {MAX_SPAWN_RATE_PER_S:,.0f} users/s, "
            f"got {spawn_rate:,.6g}"
        )
    if not 0 < options.run_time_s <= MAX_DURATION_S:
        raise UsageError(
            f"-t/--run-time must be positive and at most {MAX_DURATION_S:,.0f} s (7 days), "
            f"got {options.run_time_s:,.6g} s"
        )
    return _locustfile_plan(
        str(path.resolve()), users, spawn_rate, options.run_time_s, target, tags
    )


def _locustfile_plan(
    path: str,
    users: int,
    spawn_rate_per_s: float,
    run_time_s: float,
    target: str,
    tags: dict[str, str],
) -> RunPlan:
    """A team's locustfile under perfctl's measurement, Locust-style: `users` started at
    `spawn_rate_per_s`, held for `run_time_s` (one closed-model stage)."""
    return RunPlan(
        scenario=PurePath(path).stem,
        profile="locustfile",
        scale=Scale(),
        model="closed",
        stages=(
            StagePlan(
                name="run",
                start_s=0.0,
                duration_s=run_time_s,
                users_start=users,
                users_end=users,
                spawn_rate_per_s=spawn_rate_per_s,
            ),
        ),
        journeys=(
            JourneyPlan(
                name="locustfile",
                weight=1.0,
                kind="locustfile",
                think_time_min_s=0.0,
                think_time_max_s=0.0,
            ),
        ),
        locustfile=path,
        target=target,
        tags=tags,
    )


def _plan_from_file(path: Path, profile: str | None, target: str, tags: dict[str, str]) -> RunPlan:
    if profile is not None:
        raise UsageError(f"--profile does not apply to a resolved plan ({path})")
    try:
        data: Any = json.loads(path.read_text())
        plan = RunPlan.from_dict(data)
    except FileNotFoundError:
        raise UsageError(f"plan file {path} does not exist") from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise UsageError(f"{path} is not a perfctl plan.json: {error}") from None
    if not plan.stages or plan.duration_s <= 0:
        raise UsageError(f"{path}: the plan has no stages to run")
    check_plan_env(data, str(path))
    for source in plan.data_sources:
        if not Path(source.file).is_file():
            raise UsageError(f"{path}: data source {source.name!r}: no file {source.file}")
    problems = plan_limit_problems(plan)
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems))
    return replace(plan, target=target, tags={**plan.tags, **tags})
