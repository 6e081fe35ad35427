"""Named assertions (`check.assert`) and the JSON Schema check of a flow step, compiled once.

A failed assertion's message is `check 'NAME' failed: <condition as written>`: it names the
assertion and the condition, never the value seen, so the run's error breakdown counts every
failure of one assertion under one message (k6's named checks), however the values vary.

Comparisons are forgiving where YAML and HTTP disagree on types: a header is text, so
`equals: 200` matches the header "200"; numeric conditions read numbers from text; `true`
and `1` are not equal.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from harness.engine._extract import JsonQuery
from harness.engine._response_view import MISSING, ResponseView
from harness.plan import PLACEHOLDER, AssertionPlan, ConditionPlan

Assertion = Callable[[ResponseView, dict[str, Any]], str | None]
"""A compiled assertion: the failure message, or None when it holds."""

_SYMBOLS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def compile_assertion(plan: AssertionPlan) -> Assertion:
    """The assertion, ready to run on responses with the iteration's variables."""
    read = _subject(plan)
    conditions = [(_condition(condition), condition.written) for condition in plan.conditions]
    failed = f"check {plan.name!r} failed: "
    missing = failed + f"{plan.subject} {plan.expr} missing"

    def check(view: ResponseView, variables: dict[str, Any]) -> str | None:
        value = read(view, variables)
        for holds, written in conditions:
            verdict = holds(value, variables)
            if verdict is None:
                return missing
            if not verdict:
                return failed + written
        return None

    return check


def _subject(plan: AssertionPlan) -> Callable[[ResponseView, dict[str, Any]], Any]:
    expr = plan.expr
    if plan.subject == "json":
        query = JsonQuery(expr)
        return lambda view, _: MISSING if view.json is MISSING else query.first(view.json)
    if plan.subject == "header":
        return lambda view, _: next(iter(view.headers(expr)), MISSING)
    if plan.subject == "cookie":
        return lambda view, _: next(iter(view.cookies(expr)), MISSING)
    return _template(expr)


def _template(text: str) -> Callable[[Any, dict[str, Any]], Any]:
    """A `{variable}` template: exactly one placeholder keeps the variable's type."""
    whole = PLACEHOLDER.fullmatch(text)
    if whole is not None:
        name = whole.group(1)
        return lambda _, variables: variables.get(name, MISSING)
    if "{" not in text:
        return lambda _, __: text

    def fill(_: Any, variables: dict[str, Any]) -> Any:
        return PLACEHOLDER.sub(
            lambda m: _text(variables[m.group(1)]) if m.group(1) in variables else m.group(0),
            text,
        )

    return fill


Condition = Callable[[Any, dict[str, Any]], bool | None]
"""Whether a condition holds for a value; None when the value is missing (and it is not
`exists: false`)."""


def _condition(condition: ConditionPlan) -> Condition:
    op, operand = condition.op, condition.operand
    if op == "exists":
        if operand:
            return lambda value, _: None if value is MISSING else True
        return lambda value, _: value is MISSING
    test = _test(op, operand)
    return lambda value, variables: None if value is MISSING else test(value, variables)


def _test(op: str, operand: Any) -> Callable[[Any, dict[str, Any]], bool]:
    if op == "matches":
        pattern = re.compile(str(operand))
        return lambda value, _: pattern.search(_text(value)) is not None
    if op in _SYMBOLS:
        limit = float(operand)
        compare = _COMPARE[op]
        return lambda value, _: (number := _number(value)) is not None and compare(number, limit)
    if op.startswith("length"):
        bound = int(operand)
        compare = _COMPARE.get(op.removeprefix("length_"), _COMPARE["eq"])
        return lambda value, _: (size := _length(value)) is not None and compare(size, bound)
    expected = _template(operand) if isinstance(operand, str) else (lambda _, __: operand)
    if op == "equals":
        return lambda value, variables: _equal(value, expected(None, variables))
    if op == "not_equals":
        return lambda value, variables: not _equal(value, expected(None, variables))
    if op == "contains":
        return lambda value, variables: _contains(value, expected(None, variables))
    return lambda value, variables: not _contains(value, expected(None, variables))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str:
    """A value as the text a header or a template would hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def _equal(actual: Any, expected: Any) -> bool:
    if type(actual) is type(expected) or (_is_number(actual) and _is_number(expected)):
        return bool(actual == expected)
    if isinstance(actual, str) or isinstance(expected, str):
        return _text(actual) == _text(expected)
    return False


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_equal(item, expected) for item in actual)
    if isinstance(actual, dict):
        return _text(expected) in actual
    return _text(expected) in _text(actual)


def _number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | dict) else None


SchemaCheck = Callable[[ResponseView], str | None]
"""A compiled JSON Schema check of the body: the failure message, or None."""


def compile_schema_check(schema: dict[str, Any]) -> SchemaCheck:
    """Validates bodies against `schema` with a validator built once (its own `$schema`
    dialect, draft 2020-12 by default); the message names the failing keyword and where."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for  # type: ignore[import-untyped]

    validator = validator_for(schema, default=Draft202012Validator)(schema)

    def check(view: ResponseView) -> str | None:
        document = view.json
        if document is MISSING:
            return "json_schema failed: the body is not JSON"
        if validator.is_valid(document):
            return None
        # the first failure in document order (best_match looks inside anyOf/oneOf)
        error = best_match(itertools.islice(validator.iter_errors(document), 1))
        if error is None:
            return "json_schema failed"
        expected = json.dumps(error.validator_value, default=str)
        if len(expected) > 60:
            expected = expected[:57] + "..."
        return f"json_schema failed at {error.json_path}: {error.validator} {expected}"

    return check
