"""Declarative flow journeys: steps with `{var}` substitution, JSON extraction and checks."""

from __future__ import annotations

import re
from typing import Any

import gevent
from locust.contrib.fasthttp import ResponseContextManager

from harness.engine._iteration import Iteration, ResponseCheck
from harness.plan import JourneyPlan, ResponseCheckPlan

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MISSING = object()


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


def lookup(document: Any, path: str) -> Any:
    """The value at a dotted path ("items.0.id") or `_MISSING`."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def make_response_check(plan: ResponseCheckPlan) -> ResponseCheck | None:
    """The body, JSON-path and latency checks of a step (its status is checked by `expect`);
    None when the step checks nothing beyond its status."""
    if plan.max_latency_ms is None and plan.body_contains is None and plan.json_path is None:
        return None

    def check(response: ResponseContextManager, latency_ms: float) -> str | None:
        if plan.max_latency_ms is not None and latency_ms > plan.max_latency_ms:
            return f"latency {latency_ms:.0f} ms above {plan.max_latency_ms:g} ms"
        if plan.body_contains is not None and plan.body_contains not in (response.text or ""):
            return f"body does not contain {plan.body_contains!r}"
        if plan.json_path is not None:
            try:
                document = response.json()
            except ValueError:
                return f"body is not JSON (wanted {plan.json_path})"
            if lookup(document, plan.json_path) is _MISSING:
                return f"no {plan.json_path} in the JSON body"
        return None

    return check


def initial_variables(journey: JourneyPlan, it: Iteration) -> dict[str, Any]:
    """The journey's variables for one iteration; a list value draws one element."""
    return {
        name: it.rng.choice(value) if isinstance(value, list) and value else value
        for name, value in journey.variables.items()
    }


def run_flow(journey: JourneyPlan, it: Iteration) -> None:
    """Runs the steps in order; a step whose extraction fails ends the iteration."""
    variables = initial_variables(journey, it)
    for step in journey.steps:
        result = it.request(
            step.operation,
            step.method.upper(),
            str(substitute(step.path, variables)),
            query={k: substitute(v, variables) for k, v in step.query.items()} or None,
            json_body=substitute(step.json_body, variables),
            headers={k: str(substitute(v, variables)) for k, v in step.headers.items()} or None,
            expect=tuple(step.check.status),
            check=make_response_check(step.check),
        )
        if result.outcome != "ok":
            return
        for name, path in step.extract.items():
            value = lookup(result.body, path)
            if value is _MISSING:
                return
            variables[name] = value
        pause_s = it.rng.uniform(
            step.think_time_min_s, max(step.think_time_max_s, step.think_time_min_s)
        )
        if pause_s > 0:
            gevent.sleep(pause_s)
