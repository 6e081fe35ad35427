"""Declarative flow journeys: steps with `{var}` substitution, extraction and checks
(compiled once per step in `step_checks`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import gevent
from locust.contrib.fasthttp import ResponseContextManager

from harness.engine._iteration import Iteration, ResponseCheck, StepResult
from harness.engine._step_checks import step_checks
from harness.plan import PLACEHOLDER as _PLACEHOLDER
from harness.plan import JourneyPlan, StepPlan


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replaces `{name}` in every string of `value`; a string that is exactly one
    placeholder takes the variable's value with its type (so `"{qty}"` can be an int)."""
    if isinstance(value, str):
        if "{" not in value:
            return value
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in variables:
            return variables[whole.group(1)]
        return _PLACEHOLDER.sub(
            lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), value
        )
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value


def initial_variables(journey: JourneyPlan, it: Iteration) -> dict[str, Any]:
    """The journey's variables for one iteration (a list value draws one element) and the
    columns of the rows its data sources gave it."""
    variables = {
        name: it.rng.choice(value) if isinstance(value, list) and value else value
        for name, value in journey.variables.items()
    }
    variables.update(it.data)
    return variables


Refresh = Callable[[dict[str, Any]], bool]
"""Runs the journey's on_start steps again (a login) and updates the variables it is given;
False when that failed."""


def run_flow(journey: JourneyPlan, it: Iteration) -> None:
    """Runs the steps in order; a step whose check or extraction fails (`check_failed`)
    ends the iteration."""
    run_steps(journey.steps, it, initial_variables(journey, it))


def run_steps(
    steps: tuple[StepPlan, ...],
    it: Iteration,
    variables: dict[str, Any],
    refresh: Refresh | None = None,
    refresh_on: tuple[int, ...] = (),
) -> bool:
    """Runs `steps` in order on `variables`; False when one failed (the rest are skipped).

    A step answered with a status of `refresh_on` (and not one it accepts) is an expected
    answer, not a failure: `refresh` runs (the login again), then the step is sent once more
    and judged as usual."""
    for step in steps:
        retry = tuple(code for code in refresh_on if code not in step.check.status)
        result = _send_step(step, it, variables, retry if refresh is not None else ())
        if refresh is not None and result.status in retry:
            if not refresh(variables):
                return False
            result = _send_step(step, it, variables, ())
        if result.outcome != "ok":
            return False
        pause_s = it.rng.uniform(
            step.think_time_min_s, max(step.think_time_max_s, step.think_time_min_s)
        )
        if pause_s > 0:
            gevent.sleep(pause_s)
    return True


def _send_step(
    step: StepPlan, it: Iteration, variables: dict[str, Any], also_expect: tuple[int, ...]
) -> StepResult:
    """Sends one step; a status in `also_expect` is accepted without checks or extraction."""
    checks = step_checks(step)
    check: ResponseCheck | None = partial(checks.run, variables) if checks is not None else None
    if also_expect and check is not None:
        judge = check

        def unless_refreshing(response: ResponseContextManager, latency_ms: float) -> str | None:
            return None if response.status_code in also_expect else judge(response, latency_ms)

        check = unless_refreshing

    return it.request(
        step.operation,
        step.method.upper(),
        str(substitute(step.path, variables)),
        query={k: substitute(v, variables) for k, v in step.query.items()} or None,
        json_body=substitute(step.json_body, variables),
        headers={k: str(substitute(v, variables)) for k, v in step.headers.items()} or None,
        expect=(*step.check.status, *also_expect),
        check=check,
    )
