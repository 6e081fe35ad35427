"""What `perfctl run SCENARIO` means: a scenario, a team's locustfile, or a saved plan.

- `my_locustfile.py`: a plain locustfile, run Locust-style with -u/-r/-t;
- `reports/<run-id>/plan.json` (any `.json`): a resolved plan, rerun exactly as it was;
- anything else: a scenario name in scenarios/ or a scenario file, through the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.plan import RunPlan, plan_locustfile
from harness.spec import (
    MAX_DURATION_S,
    MAX_SPAWN_RATE_PER_S,
    MAX_USERS,
    plan_limit_problems,
)

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


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything on the command line that decides the plan."""

    scenario: str
    """Scenario name, scenario file, locustfile or plan.json."""
    profile: str | None = None
    """Profile of the scenario; None is the scenario's default."""
    target: str = ""
    """Target URL with secrets stripped ("" until the embedded backend has a port)."""
    tags: dict[str, str] = field(default_factory=dict)
    """From --tag key=value."""
    locust: LocustOptions = field(default_factory=LocustOptions)
    """-u/-r/-t for a locustfile."""


def resolve_plan(request: PlanRequest) -> RunPlan:
    """The plan `request` asks for; a UsageError or SpecError before anything starts."""
    scenario = request.scenario
    if scenario.endswith(".py"):
        return _plan_for_locustfile(request)
    if request.locust.given:
        raise UsageError(
            "-u/--users, -r/--spawn-rate and -t/--run-time apply to a locustfile (*.py) only; "
            f"{scenario!r} sets its own stages"
        )
    if scenario.endswith(".json"):
        return _plan_from_file(request)
    return _plan_for_scenario(request)


def _plan_for_locustfile(request: PlanRequest) -> RunPlan:
    path = Path(request.scenario)
    if not path.is_file():
        raise UsageError(f"locustfile {request.scenario} does not exist")
    if request.profile is not None:
        raise UsageError("--profile applies to scenarios; a locustfile takes -u, -r and -t")
    options = request.locust
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
    return plan_locustfile(
        str(path.resolve()), users, spawn_rate, options.run_time_s, request.target, request.tags
    )


def _plan_from_file(request: PlanRequest) -> RunPlan:
    path = Path(request.scenario)
    if request.profile is not None:
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
    problems = plan_limit_problems(plan)
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems))
    return replace(plan, target=request.target, tags={**plan.tags, **request.tags})


def _plan_for_scenario(request: PlanRequest) -> RunPlan:
    # the spec is the one place that reads scenario files and applies profiles
    from harness.spec import plan_scenario

    return plan_scenario(
        request.scenario, profile=request.profile, target=request.target, tags=request.tags
    )
