"""What a flow step takes from its response (`extract:`) and asserts on it (`check.assert`).

Sources read like Artillery's `capture` and Gatling's checks: the key names where the value
comes from, its value says what to take.

    extract:
      pid: items.0.product_id                         # short form: a dotted path into the JSON
      token: {json: $.access_token}                   # JSONPath (RFC 9535) when it starts with $
      ids: {json: "$.items[*].id", all: true}         # every match, as a list
      request_id: {header: X-Request-Id}
      session: {cookie: session_id}                   # a cookie this response sets
      csrf: {regex: 'name="csrf" value="([^"]+)"'}    # group 1 when the pattern has groups
      next: {json: $.next_page, default: null}        # nothing there: go on with the default
    check:
      status: 200
      json_schema: schemas/order.json                 # or an inline schema mapping
      assert:
        - {name: token issued, value: "{token}", matches: '^[A-Za-z0-9._-]{20,}$'}
        - {name: JSON answer, header: Content-Type, contains: application/json}
        - {name: some items, json: $.items, length: {ge: 1}}
        - {name: total is positive, json: $.total, gt: 0}

A bad JSONPath or regular expression is an error when the file is read, with its line.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from harness.plan import is_jsonpath
from harness.spec._types import StrictModel

_SOURCES = ("json", "header", "cookie", "regex")
_SUBJECTS = ("value", "json", "header", "cookie")
_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "matches",
    "lt",
    "le",
    "gt",
    "ge",
    "length",
    "exists",
)
_LENGTH_OPERATORS = ("equals", "lt", "le", "gt", "ge")


def check_json_expression(expr: str) -> str:
    """A JSONPath (starting with `$`) that compiles, or a dotted path without empty parts."""
    if is_jsonpath(expr):
        import jsonpath  # 150 ms to import: only for files that use JSONPath

        try:
            jsonpath.compile(expr)
        except jsonpath.JSONPathError as error:
            reason = str(error).splitlines()[0]
            raise ValueError(f"bad JSONPath ({reason})") from None
        return expr
    if not expr or any(not part for part in expr.split(".")):
        raise ValueError(
            f"expected a dotted path such as 'items.0.id' or a JSONPath such as "
            f"'$.items[0].id', got {expr!r}"
        )
    return expr


def check_regex(pattern: str) -> str:
    """A regular expression that compiles (Python's `re` syntax)."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"bad regular expression ({error})") from None
    return pattern


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


JsonExpression = Annotated[str, AfterValidator(check_json_expression)]
"""A JSONPath (`$.items[0].id`, RFC 9535) or a dotted path (`items.0.id`)."""
Regex = Annotated[str, AfterValidator(check_regex)]
"""A regular expression, Python's `re` syntax."""
Name = Annotated[str, AfterValidator(_non_empty)]


def _given(model: StrictModel, keys: tuple[str, ...]) -> list[str]:
    """The keys of `keys` the file sets on `model` (by their YAML spelling)."""
    fields = type(model).model_fields
    return [
        key
        for key in keys
        if any(
            (field.alias or name) == key and name in model.model_fields_set
            for name, field in fields.items()
        )
    ]


class ExtractSpec(StrictModel):
    """One variable a step takes from its response: exactly one of `json`, `header`,
    `cookie` or `regex`. Nothing found fails the step (`check_failed`) and ends the
    iteration, unless `default` is given."""

    json_expr: JsonExpression | None = Field(
        default=None,
        alias="json",
        description="JSONPath into the JSON body ('$.items[0].id'), or a dotted path ('items.0.id').",
    )
    header: Name | None = Field(default=None, description="A response header (any case).")
    cookie: Name | None = Field(
        default=None, description="A cookie the response sets (its Set-Cookie headers)."
    )
    regex: Regex | None = Field(
        default=None, description="A regular expression searched in the body text."
    )
    group: int | str | None = Field(
        default=None,
        description="regex: the group to take, by number or name (default: 1 if the pattern "
        "has groups, else the whole match).",
    )
    all: bool = Field(
        default=False, description="Every match as a list (none: the extraction fails)."
    )
    default: Any = Field(
        default=None, description="Stored when nothing matches; the iteration then goes on."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ExtractSpec:
        sources = _given(self, _SOURCES)
        if len(sources) != 1:
            raise ValueError(
                "an extraction takes its value from one of json, header, cookie or regex, "
                f"got {', '.join(sources) or 'none'}"
            )
        if self.group is not None:
            if self.regex is None:
                raise ValueError("`group` is for regex extractions only")
            compiled = re.compile(self.regex)
            if isinstance(self.group, int) and not 0 <= self.group <= compiled.groups:
                raise ValueError(
                    f"the pattern has {compiled.groups} group(s), got group {self.group}"
                )
            if isinstance(self.group, str) and self.group not in compiled.groupindex:
                named = ", ".join(compiled.groupindex) or "none"
                raise ValueError(f"no group named {self.group!r} in the pattern (named: {named})")
        return self

    @property
    def has_default(self) -> bool:
        """Whether the file gives a default (null included)."""
        return "default" in self.model_fields_set


def _short_extraction(value: object) -> object:
    """`pid: items.0.id` is `pid: {json: items.0.id}`."""
    return {"json": value} if isinstance(value, str) else value


ExtractEntry = Annotated[
    ExtractSpec,
    BeforeValidator(_short_extraction, json_schema_input_type=str | ExtractSpec),
]
"""A dotted path or JSONPath into the JSON body (short form), or an `ExtractSpec` mapping."""


class LengthSpec(StrictModel):
    """Bounds on a length: any of equals, lt, le, gt, ge."""

    equals: int | None = Field(default=None, ge=0)
    lt: int | None = None
    le: int | None = None
    gt: int | None = None
    ge: int | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> LengthSpec:
        if not self.model_fields_set:
            raise ValueError("give a length bound: equals, lt, le, gt or ge")
        return self


def _exact_length(value: object) -> object:
    """`length: 3` is `length: {equals: 3}`."""
    return {"equals": value} if isinstance(value, int) and not isinstance(value, bool) else value


Length = Annotated[
    LengthSpec,
    BeforeValidator(_exact_length, json_schema_input_type=Annotated[int, Field(ge=0)] | LengthSpec),
]
"""An exact length, or bounds such as `{ge: 1, le: 50}`."""


class AssertionSpec(StrictModel):
    """A named assertion (k6's named check): one subject (`value`, `json`, `header` or
    `cookie`) and one or more conditions that must all hold. A failed one records the
    request as `check_failed`, its name in the run's errors."""

    name: Name | None = Field(
        default=None,
        description="Name in the run's errors (default: the assertion written out).",
    )
    value: str | None = Field(
        default=None, description='A "{variable}" template (variables extracted so far).'
    )
    json_expr: JsonExpression | None = Field(
        default=None, alias="json", description="JSONPath or dotted path into the JSON body."
    )
    header: Name | None = Field(default=None, description="A response header (any case).")
    cookie: Name | None = Field(default=None, description="A cookie the response sets.")
    equals: Any = Field(default=None, description="Equal (a number and its text are equal).")
    not_equals: Any = Field(default=None, description="Not equal.")
    contains: Any = Field(
        default=None, description="Substring of a text, element of a list, key of a mapping."
    )
    not_contains: Any = Field(default=None, description="The opposite of contains.")
    matches: Regex | None = Field(
        default=None, description="A regular expression found in the value's text."
    )
    lt: float | None = Field(default=None, description="A number below this.")
    le: float | None = Field(default=None, description="A number at most this.")
    gt: float | None = Field(default=None, description="A number above this.")
    ge: float | None = Field(default=None, description="A number at least this.")
    length: Length | None = Field(
        default=None, description="Length of a text or list: a number or {ge: 1, le: 50}."
    )
    exists: bool | None = Field(
        default=None, description="true: the value must be there; false: it must not."
    )

    @model_validator(mode="after")
    def _one_subject_some_condition(self) -> AssertionSpec:
        subjects = _given(self, _SUBJECTS)
        if len(subjects) != 1:
            raise ValueError(
                "an assertion checks one of value, json, header or cookie, "
                f"got {', '.join(subjects) or 'none'}"
            )
        if not self.operators:
            raise ValueError(f"an assertion needs a condition: one of {', '.join(_OPERATORS)}")
        return self

    @property
    def subject(self) -> tuple[str, str]:
        """(subject key, its value): ("header", "Content-Type")."""
        key = _given(self, _SUBJECTS)[0]
        return key, str(getattr(self, "json_expr" if key == "json" else key))

    @property
    def operators(self) -> list[str]:
        """The condition keys the file sets, in the order of `_OPERATORS`."""
        return _given(self, _OPERATORS)


LENGTH_OPERATORS = _LENGTH_OPERATORS
"""The bounds a `length` mapping may give."""
