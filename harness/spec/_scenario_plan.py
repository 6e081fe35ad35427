"""Scenario × profile × target → the concrete `RunPlan` the engine executes.

A profile scales the scenario's full-scale numbers by explicit factors, recorded in the plan:
users (closed model), arrival rates (open model) and time (stage durations and warm-up). A
bound such as `max_users: 40` becomes the factor that brings the scenario's largest stage
target to 40 (never above 1). Under the closed model the rate factor equals the users factor
(throughput follows users), under the open model the users factor equals the rate factor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from harness.errors import SpecError, UsageError
from harness.plan import (
    BUILTIN_JOURNEYS,
    JourneyPlan,
    ResponseCheckPlan,
    RunPlan,
    Scale,
    StagePlan,
    StepPlan,
)
from harness.spec._document import display_path
from harness.spec._limits import plan_limit_problems
from harness.spec._locustfile import SHAPE_STAGE
from harness.spec._response_plan import plan_assertions, plan_extractions, plan_json_schema
from harness.spec._scenario import Scenario, locate_locustfile, require_profile
from harness.spec._scenario_models import JourneySpec, ProfileSpec, ScenarioFile, StepSpec


def plan_scenario(
    scenario: Scenario,
    profile: str,
    target: str = "",
    tags: Mapping[str, str] | None = None,
) -> RunPlan:
    """The resolved plan of `scenario` under `profile`; UsageError for an unknown profile."""
    spec = scenario.spec
    chosen = require_profile(scenario, profile)
    if spec.stages is None:
        _refuse_user_bounds(scenario, profile, chosen)
    scale = profile_scale(spec, chosen)
    profile_spec = scenario.profiles.get(profile)
    catalog_size = (
        profile_spec.catalog_size
        if profile_spec is not None and profile_spec.catalog_size is not None
        else spec.catalog_size
    )
    journeys = tuple(_journey(name, journey, scenario) for name, journey in spec.journeys.items())
    locustfiles = [j.locustfile for j in spec.journeys.values() if j.locustfile is not None]
    plan = RunPlan(
        scenario=scenario.name,
        profile=profile,
        scale=scale,
        model=spec.model,
        stages=_stages(spec, scale),
        journeys=journeys,
        warmup_s=round(spec.warmup * scale.time, 3),
        arrivals=spec.arrivals,
        max_concurrency=(
            spec.max_concurrency
            if spec.model == "closed" or scale.rate == 1.0
            else max(10, round(spec.max_concurrency * scale.rate))
        ),
        request_timeout_s=spec.request_timeout,
        graceful_stop_s=spec.graceful_stop,
        locustfile=(str(locate_locustfile(locustfiles[0], scenario.path)) if locustfiles else None),
        locustfile_shape=spec.stages is None,
        target=strip_secrets(target),
        catalog_size=catalog_size,
        tags=dict(tags or {}),
        uses_sla=spec.sla,
        scenario_objectives=tuple(objective.to_dict() for objective in scenario.objectives),
        data_sources=scenario.data_sources,
    )
    # the file's own numbers were bounded when it was read; a profile can still scale them up
    problems = plan_limit_problems(plan)
    if problems:
        raise SpecError(
            f"{display_path(scenario.path)}: under profile {profile!r}, " + "; ".join(problems)
        )
    return plan


def profile_scale(spec: ScenarioFile, profile: ProfileSpec | None) -> Scale:
    """The factors a profile applies to a scenario (all 1 for `full`)."""
    if profile is None:
        return Scale()
    stages = spec.stages or ()
    peak_users = max((stage.users or 0 for stage in stages), default=0)
    peak_rate = max((stage.rate or 0.0 for stage in stages), default=0.0)
    # without stages the team's LoadTestShape runs for the scenario's `duration`
    total_s = sum(stage.duration for stage in stages) if stages else spec.duration or 0.0
    users = _factor(profile.users, profile.max_users, peak_users)
    rate = _factor(profile.rate, profile.max_rate, peak_rate)
    # a duration bounds the run like max_users bounds the users: it shortens, never stretches
    time = profile.time or (
        min(1.0, profile.duration / total_s) if profile.duration and total_s else 1.0
    )
    if spec.model == "closed":
        rate = users
    else:
        users = rate
    return Scale(users=users, rate=rate, time=time)


def _factor(factor: float | None, bound: float | None, peak: float) -> float:
    if factor is not None:
        return factor
    if bound is not None and peak > 0:
        return min(1.0, bound / peak)
    return 1.0


def _refuse_user_bounds(scenario: Scenario, profile: str, spec: ProfileSpec | None) -> None:
    """A SpecError for a profile that bounds users (`max_users`) of a scenario whose users
    come from its locustfile's LoadTestShape: the shape's peak is known only as it runs."""
    if spec is not None and spec.max_users is not None and spec.users is None:
        raise SpecError(
            f"{display_path(scenario.path)}: profile {profile!r} bounds users (max_users: "
            f"{spec.max_users}), but scenario {scenario.name!r} has no stages: its users come "
            "from its locustfile's LoadTestShape, whose peak is known only as it runs; use a "
            "profile that gives `users` (a factor on the shape's users) and `duration` or `time`"
        )


def _shape_stage(spec: ScenarioFile, scale: Scale) -> StagePlan:
    """The one stage of a run that its locustfile's LoadTestShape drives: `run`, as long as
    the scenario's `duration` (scaled by the profile's time factor)."""
    duration_s = round((spec.duration or 0.0) * scale.time, 3)
    return StagePlan(name=SHAPE_STAGE, start_s=0.0, duration_s=duration_s)


def _stages(spec: ScenarioFile, scale: Scale) -> tuple[StagePlan, ...]:
    if spec.stages is None:
        return (_shape_stage(spec, scale),)
    stages: list[StagePlan] = []
    start_s = 0.0
    users_before = 0
    rate_before = 0.0
    for index, stage in enumerate(spec.stages):
        # Round the boundaries, not the lengths, so rounding never accumulates.
        end_s = round(start_s + stage.duration * scale.time, 3)
        duration_s = round(end_s - round(start_s, 3), 3)
        name = stage.name or f"stage-{index + 1}"
        if spec.model == "closed":
            users = _scaled_users(stage.users or 0, scale.users)
            spawn = (
                stage.spawn_rate * scale.users / scale.time
                if stage.spawn_rate is not None
                else None
            )
            stages.append(
                StagePlan(
                    name=name,
                    start_s=round(start_s, 3),
                    duration_s=duration_s,
                    users_start=users_before,
                    users_end=users,
                    spawn_rate_per_s=spawn,
                )
            )
            users_before = users
        else:
            rate = (stage.rate or 0.0) * scale.rate
            stages.append(
                StagePlan(
                    name=name,
                    start_s=round(start_s, 3),
                    duration_s=duration_s,
                    rate_start_per_s=rate_before,
                    rate_end_per_s=rate,
                )
            )
            rate_before = rate
        start_s += stage.duration * scale.time
    return tuple(stages)


def _scaled_users(users: int, factor: float) -> int:
    """Scaled users, at least one when the scenario has any (a smoke run is never empty)."""
    return max(1, round(users * factor)) if users > 0 else 0


def _journey(name: str, journey: JourneySpec, scenario: Scenario) -> JourneyPlan:
    low, high = journey.think_time
    if journey.steps is not None:
        steps = tuple(_step(step, scenario.path) for step in journey.steps)
        on_start = tuple(_step(step, scenario.path) for step in journey.on_start)
        on_stop = tuple(_step(step, scenario.path) for step in journey.on_stop)
        operations = tuple(dict.fromkeys(step.operation for step in (*on_start, *steps, *on_stop)))
        plan = JourneyPlan(
            name=name,
            weight=journey.weight,
            kind="flow",
            think_time_min_s=low,
            think_time_max_s=high,
            steps=steps,
            variables={key: _variable(value) for key, value in journey.variables.items()},
            operations=operations,
            data=tuple(journey.data),
            on_start=on_start,
            on_stop=on_stop,
            reauth_on=tuple(journey.reauth_on),
        )
        if plan.flow_requests(scenario.spec.model) > 1:
            plan = dataclasses.replace(plan, operations=(*operations, f"journey.{name}"))
        return plan
    if journey.locustfile is not None:
        return JourneyPlan(
            name=name,
            weight=journey.weight,
            kind="locustfile",
            think_time_min_s=low,
            think_time_max_s=high,
            operations=tuple(journey.operations or ()),
        )
    builtin = BUILTIN_JOURNEYS[journey.builtin or name]
    return JourneyPlan(
        name=name,
        weight=journey.weight,
        kind="builtin",
        think_time_min_s=low,
        think_time_max_s=high,
        operations=builtin.operations_as(name),
        builtin=builtin.name,
    )


def _step(step: StepSpec, scenario_path: Path) -> StepPlan:
    path, _, query_text = step.path.partition("?")
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    query.update({key: _text(value) for key, value in step.query.items()})
    return StepPlan(
        operation=step.operation,
        method=step.method,
        path=path,
        query=query,
        headers=dict(step.headers),
        json_body=step.json_body,
        extract=plan_extractions(step),
        check=ResponseCheckPlan(
            status=tuple(step.check.status),
            body_contains=step.check.body_contains,
            json_path=step.check.json_path,
            max_latency_ms=(
                step.check.max_latency * 1000 if step.check.max_latency is not None else None
            ),
            json_schema=plan_json_schema(step, scenario_path),
            assertions=plan_assertions(step),
        ),
        think_time_min_s=step.think_time[0],
        think_time_max_s=step.think_time[1],
    )


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _variable(value: Any) -> Any:
    """A `{range: [first, last]}` variable becomes the list of its integers."""
    if isinstance(value, dict):
        first, last = value["range"]
        return list(range(first, last + 1))
    return value


def strip_secrets(target: str) -> str:
    """The target URL without user:password; UsageError when it is not an http(s) URL."""
    if not target:
        return ""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"target must be an http:// or https:// URL, got {target!r}")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"target has an invalid port: {target!r}") from None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
