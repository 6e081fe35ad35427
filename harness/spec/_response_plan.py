"""A flow step's extraction and assertions: checked against the scenario's files and
variables, then turned into the plan's `ExtractPlan`, `AssertionPlan` and JSON Schema.

A `json_schema:` names a .json or .yaml file relative to the scenario, or is the schema
inline; either way it must be a valid JSON Schema (its own `$schema`, draft 2020-12 when it
has none) and travels inline in the plan, so remote workers need no file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SpecError
from harness.plan import (
    PLACEHOLDER,
    VARIABLE_NAME,
    AssertionPlan,
    ConditionOp,
    ConditionPlan,
    ExtractPlan,
    ExtractSource,
)
from harness.spec._document import PathKey, Problem
from harness.spec._response_models import LENGTH_OPERATORS, AssertionSpec, ExtractSpec
from harness.spec._scenario_models import StepSpec

_OPERAND_OPERATORS = ("equals", "not_equals", "contains", "not_contains")
"""Conditions whose text operands may hold `{variable}` placeholders."""


def response_problems(
    step: StepSpec, at: PathKey, scenario_path: Path, known: set[str]
) -> list[Problem]:
    """What the models cannot see: variable names, the JSON Schema (file and content), and
    placeholders of assertions naming variables that neither the journey nor an
    extraction up to this step sets (`known` holds the ones set before this step)."""
    problems: list[Problem] = []
    for variable in step.extract:
        if not re.fullmatch(VARIABLE_NAME, variable):
            problems.append(
                Problem(
                    (*at, "extract", variable),
                    f"a variable name is letters, digits and '_' (not first), got {variable!r}",
                )
            )
    if step.check.json_schema is not None:
        try:
            load_json_schema(step.check.json_schema, scenario_path, (*at, "check", "json_schema"))
        except _SchemaProblem as problem:
            problems.append(problem.problem)
    available = known | set(step.extract)
    for index, assertion in enumerate(step.check.assertions):
        here: PathKey = (*at, "check", "assert", index)
        texts = [assertion.value or ""]
        for operator in _OPERAND_OPERATORS:
            texts += _strings(getattr(assertion, operator))
        for text in texts:
            for variable in PLACEHOLDER.findall(text):
                if variable not in available:
                    problems.append(
                        Problem(
                            here,
                            f"unknown variable {{{variable}}}; extract it in this or an earlier "
                            f"step or declare it (known: {', '.join(sorted(available)) or 'none'})",
                        )
                    )
    return problems


class _SchemaProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def load_json_schema(
    written: dict[str, Any] | str, scenario_path: Path, at: PathKey
) -> dict[str, Any]:
    """The schema a step's `json_schema` names, checked against its metaschema."""
    from jsonschema import Draft202012Validator, SchemaError  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for  # type: ignore[import-untyped]

    if isinstance(written, str):
        schema = _read_schema_file(written, scenario_path, at)
        inside: PathKey = ()
    else:
        schema, inside = written, at
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as error:
        where = "".join(f"[{part!r}]" for part in error.absolute_path)
        detail = f"{error.message}" + (f" (at {where})" if where and not inside else "")
        raise _SchemaProblem(
            Problem(
                (*inside, *error.absolute_path) if inside else at, f"not a JSON Schema: {detail}"
            )
        ) from None
    return schema


def _read_schema_file(written: str, scenario_path: Path, at: PathKey) -> dict[str, Any]:
    path = Path(written) if Path(written).is_absolute() else scenario_path.parent / written
    if not path.is_file():
        raise _SchemaProblem(
            Problem(at, f"no JSON Schema file {written!r} (looked next to {scenario_path.name})")
        )
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _SchemaProblem(
            Problem(at, f"{written}: cannot be read as a schema: {reason}")
        ) from None
    if not isinstance(data, dict | bool):
        raise _SchemaProblem(Problem(at, f"{written}: a JSON Schema is a mapping"))
    return data if isinstance(data, dict) else {"not": {}} if data is False else {}


def plan_json_schema(step: StepSpec, scenario_path: Path) -> dict[str, Any] | None:
    """The step's JSON Schema for the plan (already checked when the scenario was loaded)."""
    if step.check.json_schema is None:
        return None
    try:
        return load_json_schema(step.check.json_schema, scenario_path, ())
    except _SchemaProblem as problem:  # the file changed since the scenario was loaded
        raise SpecError(f"{scenario_path.name}: json_schema: {problem.problem.message}") from None


def plan_extractions(step: StepSpec) -> tuple[ExtractPlan, ...]:
    """The step's `extract:` entries in the plan's form, in the file's order."""
    return tuple(_extraction(variable, entry) for variable, entry in step.extract.items())


def _extraction(variable: str, entry: ExtractSpec) -> ExtractPlan:
    source: ExtractSource
    if entry.json_expr is not None:
        source, expr = "json", entry.json_expr
    elif entry.header is not None:
        source, expr = "header", entry.header
    elif entry.cookie is not None:
        source, expr = "cookie", entry.cookie
    else:
        source, expr = "regex", str(entry.regex)
    group: int | str = 0
    if source == "regex":
        group = entry.group if entry.group is not None else (1 if re.compile(expr).groups else 0)
    return ExtractPlan(
        variable=variable,
        source=source,
        expr=expr,
        group=group,
        all=entry.all,
        default=entry.default,
        has_default=entry.has_default,
    )


def plan_assertions(step: StepSpec) -> tuple[AssertionPlan, ...]:
    """The step's `check.assert` entries in the plan's form, in the file's order."""
    return tuple(_assertion(spec) for spec in step.check.assertions)


def _assertion(spec: AssertionSpec) -> AssertionPlan:
    subject, expr = spec.subject
    conditions: list[ConditionPlan] = []
    for operator in spec.operators:
        operand = getattr(spec, operator)
        if operator == "length":
            for bound in LENGTH_OPERATORS:
                if bound in operand.model_fields_set:
                    op: ConditionOp = "length" if bound == "equals" else _length_op(bound)
                    conditions.append(ConditionPlan(op, getattr(operand, bound)))
        else:
            conditions.append(ConditionPlan(_op(operator), operand))
    name = spec.name or _describe(subject, expr, conditions)
    return AssertionPlan(
        name=name,
        subject=subject,  # type: ignore[arg-type]  # one of the model's subject keys
        expr=expr,
        conditions=tuple(conditions),
    )


def _op(operator: str) -> ConditionOp:
    ops: dict[str, ConditionOp] = {
        "equals": "equals",
        "not_equals": "not_equals",
        "contains": "contains",
        "not_contains": "not_contains",
        "matches": "matches",
        "lt": "lt",
        "le": "le",
        "gt": "gt",
        "ge": "ge",
        "exists": "exists",
        "length": "length",
    }
    return ops[operator]


def _length_op(bound: str) -> ConditionOp:
    ops: dict[str, ConditionOp] = {
        "lt": "length_lt",
        "le": "length_le",
        "gt": "length_gt",
        "ge": "length_ge",
    }
    return ops[bound]


def _describe(subject: str, expr: str, conditions: list[ConditionPlan]) -> str:
    """A default name: the assertion written out, e.g. "header Content-Type contains 'json'"."""
    return f"{subject} {expr} " + ", ".join(condition.written for condition in conditions)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []
