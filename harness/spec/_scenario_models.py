"""The scenarios/*.yaml format: pydantic models of a load shape, its journeys and its profiles.

A scenario holds the seed's full-scale numbers unchanged; named profiles scale users, rates
and time explicitly (`smoke`, `ci`, `demo`; `full` is the file as written).

    model: closed                  # closed: a number of users; open: an arrival rate
    warmup: 1m                     # excluded from judgement
    graceful_stop: 30s             # in-flight iterations may finish after the end (0: none)
    stages:                        # each stage ramps linearly from the previous target
      - {name: ramp-up, duration: 5m, users: 1000}
      - {name: steady, duration: 30m, users: 1000}
    journeys:                      # weighted mix; think time between iterations
      browse: {weight: 30, think_time: 1s..3s}
      checkout: {weight: 10}
      my_flow:                     # a declarative request flow
        steps:
          - operation: product_search
            path: /api/products/search
            query: {q: laptop}
            extract: {pid: $.items[0].product_id}   # see _response_models: json/header/cookie/regex
            check: {status: 200, assert: [{name: found some, json: $.items, length: {ge: 1}}]}
      legacy: {locustfile: tests/locustfile.py, operations: [home]}
    profiles:                      # override the shared scenarios/profiles.yaml
      smoke: {duration: 20s, max_users: 5}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from harness.spec._limits import (
    MAX_CONCURRENCY,
    MAX_DURATION_S,
    MAX_RATE_PER_S,
    MAX_REQUEST_TIMEOUT_S,
    MAX_SPAWN_RATE_PER_S,
    MAX_THINK_TIME_S,
    MAX_USERS,
)
from harness.spec._response_models import AssertionSpec, ExtractEntry, JsonExpression
from harness.spec._sla_models import ObjectiveEntry
from harness.spec._types import Duration, Rate, StrictModel
from harness.spec._units import parse_duration_s

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _think_time(value: object) -> tuple[float, float]:
    """`1s..3s` (uniform between), `2s` or a number of seconds (fixed)."""
    if isinstance(value, str) and ".." in value:
        low_text, high_text = value.split("..", 1)
        low, high = parse_duration_s(low_text), parse_duration_s(high_text)
        if low > high:
            raise ValueError(f"the lower bound is above the upper bound, got {value!r}")
    else:
        low = high = parse_duration_s(value)
    if high > MAX_THINK_TIME_S:
        raise ValueError(f"a think time is at most {MAX_THINK_TIME_S:g} s (1h), got {value!r}")
    return (low, high)


ThinkTime = Annotated[
    tuple[float, float],
    BeforeValidator(_think_time),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
            "examples": ["1s..3s", "2s", 0],
        }
    ),
]
"""Pause, written `1s..3s` (uniform between the bounds), `2s` or a number of seconds."""


def _statuses(value: object) -> object:
    """One status code or a list of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list) and all(
        isinstance(code, int) and not isinstance(code, bool) for code in value
    ):
        return value
    raise ValueError(
        f"expected a status code or a list of them, such as [200, 201], got {value!r:.60}"
    )


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


_SCALAR = str | int | float | bool


def _variable(value: object) -> object:
    """A scalar, a list (one random element per iteration) or `{range: [first, last]}`."""
    if isinstance(value, dict):
        bounds = value.get("range")
        if (
            set(value) == {"range"}
            and isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            and bounds[0] <= bounds[1]
            and bounds[1] - bounds[0] < 1_000_000
        ):
            return value
        raise ValueError(
            "a variable is a value, a list of values or {range: [first, last]} with "
            f"integer bounds, got {value!r:.60}"
        )
    if isinstance(value, list):
        if not value or not all(isinstance(item, _SCALAR) for item in value):
            raise ValueError(f"a list variable needs at least one plain value, got {value!r:.60}")
        return value
    if value is None or not isinstance(value, _SCALAR):
        raise ValueError(f"a variable is a value, a list of values or a range, got {value!r:.60}")
    return value


Variable = Annotated[
    Any,
    BeforeValidator(_variable),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "array", "minItems": 1},
                {
                    "type": "object",
                    "properties": {"range": {"type": "array", "minItems": 2, "maxItems": 2}},
                    "required": ["range"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class CheckSpec(StrictModel):
    """What a successful response looks like; a declared 4xx is expected, not an error.

    In order: status, max_latency, body_contains, json_path, json_schema, then the step's
    `extract`, then the named assertions of `assert` (which may use what was extracted)."""

    status: Annotated[
        list[int],
        BeforeValidator(_statuses),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer"},
                    {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                ]
            }
        ),
    ] = Field(default_factory=lambda: [200], min_length=1, description="Accepted status code(s).")
    body_contains: str | None = None
    json_path: JsonExpression | None = Field(
        default=None,
        description='Path that must match in the JSON body: dotted ("items.0.id") or a '
        'JSONPath ("$.items[0].id").',
    )
    max_latency: Duration | None = Field(
        default=None, description="A slower response fails the check (k6's timings.duration)."
    )
    json_schema: dict[str, Any] | str | None = Field(
        default=None,
        description="JSON Schema the JSON body must match: inline, or a .json/.yaml file "
        "relative to the scenario.",
    )
    assertions: list[AssertionSpec] = Field(
        default_factory=list,
        alias="assert",
        description="Named assertions on extracted values, headers, cookies and the JSON body "
        "(k6's named checks); a failed one is `check_failed` with its name in the errors.",
    )


class StepSpec(StrictModel):
    """One request of a declarative flow."""

    operation: str = Field(
        description="Operation the request reports under (join key with the SLA)."
    )
    method: Annotated[HttpMethod, BeforeValidator(_upper)] = "GET"
    path: str = Field(description="Path with {variable} placeholders; may carry a ?query.")
    query: dict[str, _SCALAR] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json", description="JSON body.")
    extract: dict[str, ExtractEntry] = Field(
        default_factory=dict,
        description="Variable -> where its value comes from: a dotted path or JSONPath into "
        "the JSON body, or {json|header|cookie|regex: ..., all, group, default}.",
    )
    check: CheckSpec = Field(default_factory=CheckSpec)
    think_time: ThinkTime = Field(default=(0.0, 0.0), description="Pause after this request.")


def _names(value: object) -> object:
    """One name or a list of them."""
    return [value] if isinstance(value, str) else value


class DataSourceSpec(StrictModel):
    """Rows journeys draw their variables from (Gatling's feeders, k6's SharedArray)."""

    file: str = Field(
        description="CSV (header row), JSON (array of objects) or JSONL file, relative to the "
        "scenario file."
    )
    format: Literal["csv", "json", "jsonl"] | None = Field(
        default=None, description="Default: from the file's extension."
    )
    strategy: Literal["sequential", "random", "unique"] = Field(
        default="sequential",
        description="sequential: in file order (each process); random: any row each time; "
        "unique: each row once across every user and worker.",
    )
    on_exhausted: Literal["recycle", "stop"] | None = Field(
        default=None,
        description="When sequential or unique rows run out: recycle (start over) or stop "
        "(the journeys using them stop). Default: recycle for sequential, stop for unique.",
    )
    scope: Literal["iteration", "user"] = Field(
        default="iteration",
        description="iteration: a new row each iteration; user: one row per user, kept.",
    )


class JourneySpec(StrictModel):
    """A weighted journey: built-in (by name), a declarative flow (`steps`) or a locustfile."""

    weight: float = Field(default=1.0, gt=0, description="Relative weight in the mix.")
    think_time: ThinkTime = Field(
        default=(1.0, 3.0), description="Pause between iterations (default 1s..3s)."
    )
    builtin: str | None = Field(
        default=None, description="Built-in journey to run (default: the journey's own name)."
    )
    steps: list[StepSpec] | None = Field(default=None, min_length=1)
    on_start: list[StepSpec] = Field(
        default_factory=list,
        description=(
            "Steps run once per user before its first iteration (closed model), or by each "
            "arrival before its steps (open model), e.g. a login; what they extract stays the "
            "user's."
        ),
    )
    on_stop: list[StepSpec] = Field(
        default_factory=list,
        description=(
            "Steps run when a user stops (closed model), or by each arrival after its steps "
            "(open model), e.g. a logout."
        ),
    )
    reauth_on: Annotated[
        list[int],
        BeforeValidator(_statuses),
        WithJsonSchema(
            {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]}
        ),
    ] = Field(
        default_factory=list,
        description=(
            "Status(es), e.g. 401: a request answered so runs the on_start steps again "
            "(a token refresh) and is retried once."
        ),
    )
    variables: dict[str, Variable] = Field(default_factory=dict)
    data: Annotated[
        list[str],
        BeforeValidator(_names),
        WithJsonSchema(
            {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        ),
    ] = Field(
        default_factory=list,
        description="Data source(s) whose row columns become variables of each iteration.",
    )
    locustfile: str | None = Field(
        default=None, description="A team's locustfile, run under perfctl's shape and gate."
    )
    operations: list[str] | None = Field(
        default=None, description="Request names a locustfile reports (for the SLA cross-check)."
    )


class StageSpec(StrictModel):
    """A stage: ramps linearly from the previous stage's target to its own."""

    name: str | None = Field(default=None, description="Stage name; objectives scope on it.")
    duration: Duration = Field(le=MAX_DURATION_S)
    users: int | None = Field(
        default=None, ge=0, le=MAX_USERS, description="Closed model: users at the end."
    )
    rate: Rate | None = Field(
        default=None, le=MAX_RATE_PER_S, description="Open model: journey arrivals per second."
    )
    spawn_rate: float | None = Field(
        default=None,
        gt=0,
        le=MAX_SPAWN_RATE_PER_S,
        description="Closed model: users started per second.",
    )


class ProfileSpec(StrictModel):
    """How a profile scales the scenario: a factor, or a bound the factor is derived from."""

    description: str = ""
    users: float | None = Field(default=None, gt=0, description="Factor on user counts.")
    max_users: int | None = Field(
        default=None, ge=1, le=MAX_USERS, description="Scale so the most users is this."
    )
    rate: float | None = Field(default=None, gt=0, description="Factor on arrival rates.")
    max_rate: Rate | None = Field(
        default=None, le=MAX_RATE_PER_S, description="Scale so the highest rate is this."
    )
    time: float | None = Field(default=None, gt=0, description="Factor on durations.")
    duration: Duration | None = Field(
        default=None, le=MAX_DURATION_S, description="Scale so the run lasts this."
    )
    catalog_size: int | None = Field(default=None, ge=1, description="Products to seed.")


class ProfilesFile(StrictModel):
    """scenarios/profiles.yaml: profiles every scenario shares unless it overrides them."""

    version: Literal[1] = 1
    profiles: dict[str, ProfileSpec]


class ScenarioFile(StrictModel):
    """A load shape: stages, workload model, journey mix, profiles and optional thresholds."""

    version: Literal[1] = 1
    name: str | None = Field(default=None, description="Default: the file name without .yaml.")
    title: str = ""
    description: str = ""
    model: Literal["closed", "open"] = "closed"
    warmup: Duration = Field(
        default=0.0, le=MAX_DURATION_S, description="Leading time excluded from judgement."
    )
    arrivals: Literal["uniform", "poisson"] = "poisson"
    max_concurrency: int = Field(
        default=1000, ge=1, le=MAX_CONCURRENCY, description="Open model: journeys in flight."
    )
    request_timeout: Duration = Field(default=30.0, le=MAX_REQUEST_TIMEOUT_S)
    graceful_stop: Duration = Field(
        default=30.0,
        le=3600.0,
        description=(
            "When the run or a ramp-down ends, in-flight iterations get this long to finish "
            "(k6's gracefulStop); a request still in flight then is recorded as `interrupted`."
        ),
    )
    catalog_size: int | None = Field(default=None, ge=1, description="Products to seed (volume).")
    sla: bool = Field(
        default=True, description="Judge against sla.yaml too (false: only `objectives` below)."
    )
    stages: list[StageSpec] | None = Field(
        default=None,
        min_length=1,
        description="The load over time. Omit it to run the locustfile journey's LoadTestShape "
        "(closed model; then `duration` bounds the run).",
    )
    duration: Duration | None = Field(
        default=None,
        gt=0,
        le=MAX_DURATION_S,
        description="Scenarios without `stages`: the run's planned length; the team's "
        "LoadTestShape drives the users until it returns None or this much time has passed.",
    )
    journeys: dict[str, JourneySpec] = Field(min_length=1)
    data: dict[str, DataSourceSpec] = Field(
        default_factory=dict, description="Named data sources the journeys draw rows from."
    )
    public_env: list[str] = Field(
        default_factory=list,
        description="Environment variables whose values are not secret: substituted into "
        "the plan (every other ${env:NAME} is secret and masked).",
    )
    profiles: dict[str, ProfileSpec] = Field(default_factory=dict)
    objectives: list[ObjectiveEntry] = Field(
        default_factory=list,
        description="Thresholds of this scenario, in the SLA's format (window defaults to run).",
    )
