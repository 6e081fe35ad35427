"""Everything a flow step does with its response beyond the status code, compiled once.

In order: latency, body_contains, json_path, json_schema, the extractions (which store
variables), then the named assertions (which may read them). The first failure is the
request's `check_failed` message and ends the iteration. A step that checks and extracts
nothing has no `StepChecks` at all: its requests cost nothing extra.

Steps are compiled the first time this process runs them and kept for the life of the plan
(regular expressions, JSONPath queries, the schema's validator); a request only looks the
compiled step up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.engine._assertions import compile_assertion, compile_schema_check
from harness.engine._extract import JsonQuery, compile_extraction
from harness.engine._response_view import MISSING, ResponseView
from harness.plan import ResponseCheckPlan, StepPlan

if TYPE_CHECKING:
    # locust is imported by the engine's process; these modules run without it in tests
    from locust.contrib.fasthttp import ResponseContextManager

_Check = Callable[[ResponseView, float], str | None]


class StepChecks:
    """The compiled checks and extractions of one step."""

    __slots__ = ("_assertions", "_checks", "_extractions")

    def __init__(self, step: StepPlan) -> None:
        self._checks = _response_checks(step.check)
        self._extractions = [(plan.variable, compile_extraction(plan)) for plan in step.extract]
        self._assertions = [compile_assertion(plan) for plan in step.check.assertions]

    def run(
        self, variables: dict[str, Any], response: ResponseContextManager, latency_ms: float
    ) -> str | None:
        """Checks the response and stores its extractions in `variables`; returns the first
        failure's message, None when everything held."""
        view = ResponseView(response)
        for check in self._checks:
            failed = check(view, latency_ms)
            if failed:
                return failed
        for variable, extract in self._extractions:
            value, failed = extract(view)
            if failed:
                return failed
            variables[variable] = value
        for assertion in self._assertions:
            failed = assertion(view, variables)
            if failed:
                return failed
        return None


def _response_checks(plan: ResponseCheckPlan) -> list[_Check]:
    checks: list[_Check] = []
    if plan.max_latency_ms is not None:
        limit_ms = plan.max_latency_ms
        checks.append(
            lambda _, latency_ms: (
                f"latency {latency_ms:.0f} ms above {limit_ms:g} ms"
                if latency_ms > limit_ms
                else None
            )
        )
    if plan.body_contains is not None:
        needle = plan.body_contains
        checks.append(
            lambda view, _: None if needle in view.text else f"body does not contain {needle!r}"
        )
    if plan.json_path is not None:
        query, path = JsonQuery(plan.json_path), plan.json_path

        def has_path(view: ResponseView, _: float) -> str | None:
            document = view.json
            if document is MISSING:
                return f"body is not JSON (wanted {path})"
            return f"no {path} in the JSON body" if query.first(document) is MISSING else None

        checks.append(has_path)
    if plan.json_schema is not None:
        schema_check = compile_schema_check(plan.json_schema)
        checks.append(lambda view, _: schema_check(view))
    return checks


_COMPILED: dict[int, tuple[StepPlan, StepChecks | None]] = {}
"""id(step) -> (the step, kept alive so its id is not reused; its compiled checks)."""


def step_checks(step: StepPlan) -> StepChecks | None:
    """The compiled checks of `step`, None when it checks nothing beyond its status."""
    entry = _COMPILED.get(id(step))
    if entry is not None and entry[0] is step:
        return entry[1]
    check = step.check
    compiled = (
        StepChecks(step)
        if step.extract
        or check.assertions
        or check.json_schema is not None
        or check.json_path is not None
        or check.body_contains is not None
        or check.max_latency_ms is not None
        else None
    )
    _COMPILED[id(step)] = (step, compiled)
    return compiled
