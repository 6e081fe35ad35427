"""The resolved run plan: scenario × profile × target, fully concrete, written into run.json.

This is the contract between the spec (which builds it with `harness.spec.plan_run`) and the
engine (which executes it inside Locust processes). Everything is plain data: the engine reads
it back from JSON with `RunPlan.from_dict`, so no pydantic model crosses into Locust processes.
The table of built-in journeys (`BUILTIN_JOURNEYS`) is part of the contract too: the spec plans
with it (which operations a journey reports), the engine runs one function per entry.

    RunPlan, Scale, StagePlan      the plan, the profile's factors, one stage of the timeline
    JourneyPlan, StepPlan          a weighted journey, one request of a flow journey
    DataSourcePlan                 a file of rows flow journeys draw variables from (`data:`)
    ResponseCheckPlan              what a flow step's response must look like (`check:`)
    ExtractPlan                    one variable a flow step takes from its response (`extract:`)
    AssertionPlan, ConditionPlan   one named assertion of a step (`check.assert`), its conditions
    BuiltinJourney                 one built-in journey: the operations it reports, in order
    BUILTIN_JOURNEYS               built-in journey name -> BuiltinJourney (the one table)
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

WorkloadModel = Literal["closed", "open"]
ArrivalProcess = Literal["uniform", "poisson"]
JourneyKind = Literal["builtin", "flow", "locustfile"]
ExtractSource = Literal["json", "header", "cookie", "regex"]
AssertionSubject = Literal["value", "json", "header", "cookie"]
ConditionOp = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "matches",
    "lt",
    "le",
    "gt",
    "ge",
    "exists",
    "length",
    "length_lt",
    "length_le",
    "length_gt",
    "length_ge",
]


VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
"""What a flow variable's name is made of."""
PLACEHOLDER = re.compile(r"\{(" + VARIABLE_NAME + r")\}")
"""A `{variable}` placeholder in a flow step's strings (the spec checks the names, the
engine substitutes them)."""


def is_jsonpath(expr: str) -> bool:
    """Whether a `json:` expression is a JSONPath (it starts with `$`), not a dotted path."""
    return expr.startswith("$")


@dataclass(frozen=True, slots=True)
class Scale:
    """Explicit factors a profile applies to the seed's full-scale scenario."""

    users: float = 1.0
    """Factor on user counts (closed model)."""
    rate: float = 1.0
    """Factor on arrival rates (open model) and on throughput limits."""
    time: float = 1.0
    """Factor on stage durations."""

    def load(self, model: WorkloadModel) -> float:
        """The load scale that throughput objectives follow for this workload model."""
        return self.users if model == "closed" else self.rate


@dataclass(frozen=True, slots=True)
class StagePlan:
    """One stage on the absolute timeline of the run; targets ramp linearly from start to end."""

    name: str
    """Stage name, e.g. "ramp-up", "peak"; stage-scoped objectives refer to it."""
    start_s: float
    """Offset of the stage from the start of the run."""
    duration_s: float
    """Length of the stage."""
    users_start: int | None = None
    """Closed model: concurrent users at the start of the stage."""
    users_end: int | None = None
    """Closed model: concurrent users at the end of the stage."""
    rate_start_per_s: float | None = None
    """Open model: arrivals per second at the start of the stage."""
    rate_end_per_s: float | None = None
    """Open model: arrivals per second at the end of the stage."""
    spawn_rate_per_s: float | None = None
    """Closed model: users started or stopped per second (derived from the ramp if unset)."""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True, slots=True)
class ResponseCheckPlan:
    """What a step's response must look like; a failed check records the request as
    `check_failed` (written `check:` in a scenario and in plan.json)."""

    status: tuple[int, ...] = (200,)
    """Accepted HTTP status codes (a declared 4xx here is expected, not an error)."""
    body_contains: str | None = None
    """Substring the body must contain."""
    json_path: str | None = None
    """Dotted path into the JSON body (e.g. "items.0.id") that must exist."""
    max_latency_ms: float | None = None
    """A latency above this fails the check (k6's `r.timings.duration < 500`)."""
    json_schema: dict[str, Any] | None = None
    """JSON Schema the JSON body must match (inline, or read from the scenario's file)."""
    assertions: tuple[AssertionPlan, ...] = ()
    """Named assertions (`check.assert`), run after the step's extraction."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResponseCheckPlan:
        return cls(
            **{
                **data,
                "status": tuple(data["status"]),
                "assertions": tuple(
                    AssertionPlan.from_dict(item) for item in data.get("assertions", ())
                ),
            }
        )


@dataclass(frozen=True, slots=True)
class ExtractPlan:
    """One variable a flow step takes from its response; a failed extraction fails the step
    (`check_failed`) and ends the iteration, unless it has a default."""

    variable: str
    """Name the value is stored under (`{variable}` in later steps)."""
    source: ExtractSource
    """json: the JSON body; header: a response header; cookie: a cookie the response sets;
    regex: a regular expression on the body text."""
    expr: str
    """json: a JSONPath (`$.items[0].id`) or a dotted path (`items.0.id`); header or cookie:
    its name; regex: the pattern."""
    group: int | str = 0
    """regex: the group whose text is taken (0: the whole match)."""
    all: bool = False
    """Take every match as a list (none: the extraction fails) instead of the first."""
    default: Any = None
    """Value stored when nothing matches, if `has_default`."""
    has_default: bool = False
    """Whether a failed extraction stores `default` and the iteration goes on."""


@dataclass(frozen=True, slots=True)
class ConditionPlan:
    """One condition of an assertion: `op` applied to the value and `operand`."""

    op: ConditionOp
    """equals, not_equals, contains, not_contains, matches (a regex), lt/le/gt/ge (numbers),
    exists (operand true or false), length and length_lt/le/gt/ge (of a string or list)."""
    operand: Any
    """What the value is compared with; strings may hold `{variable}` placeholders."""

    @property
    def written(self) -> str:
        """The condition as a person reads it: `< 10`, `length >= 1`, `matches '^ab'`."""
        symbols = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        op, operand = self.op, self.operand
        if op in symbols:
            return f"{symbols[op]} {operand:g}"
        if op.startswith("length"):
            return f"length {symbols.get(op.removeprefix('length_'), '==')} {operand}"
        if op == "exists":
            return "exists" if operand else "must be absent"
        shown = repr(operand) if isinstance(operand, str) else json.dumps(operand, default=str)
        return f"{op.replace('_', ' ')} {shown}"


@dataclass(frozen=True, slots=True)
class AssertionPlan:
    """A named assertion on a value of the response; a failed one records the request as
    `check_failed` with its name in the error message (k6's named checks)."""

    name: str
    """Name shown in the run's errors."""
    subject: AssertionSubject
    """value: a `{variable}` template; json: a path into the JSON body; header; cookie."""
    expr: str
    """The template, the JSONPath or dotted path, or the header's or cookie's name."""
    conditions: tuple[ConditionPlan, ...]
    """Conditions that must all hold."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssertionPlan:
        return cls(
            **{
                **data,
                "conditions": tuple(ConditionPlan(**item) for item in data["conditions"]),
            }
        )


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One declarative request of a flow journey."""

    operation: str
    """Operation the request reports under (the join key with the SLA)."""
    method: str
    """HTTP method."""
    path: str
    """Path with `{variable}` placeholders."""
    query: dict[str, str] = field(default_factory=dict)
    """Query parameters, values may hold `{variable}` placeholders."""
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers, values may hold `{variable}` placeholders."""
    json_body: Any = None
    """JSON body; strings inside may hold `{variable}` placeholders."""
    extract: tuple[ExtractPlan, ...] = ()
    """Variables taken from the response, in order, before the check's assertions."""
    check: ResponseCheckPlan = field(default_factory=ResponseCheckPlan)
    """What a successful response looks like."""
    think_time_min_s: float = 0.0
    """Pause after the step, lower bound."""
    think_time_max_s: float = 0.0
    """Pause after the step, upper bound."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepPlan:
        extract = data.get("extract", ())
        if isinstance(extract, dict):  # plan.json of earlier versions: variable -> dotted path
            extract = [{"variable": k, "source": "json", "expr": v} for k, v in extract.items()]
        return cls(
            **{
                **data,
                "extract": tuple(ExtractPlan(**item) for item in extract),
                "check": ResponseCheckPlan.from_dict(data["check"]),
            }
        )


@dataclass(frozen=True, slots=True)
class JourneyPlan:
    """A weighted user journey: built-in, a declarative flow, or a team's locustfile."""

    name: str
    """Journey name; its whole duration reports as operation `journey.<name>`."""
    weight: float
    """Relative weight in the mix."""
    kind: JourneyKind
    """builtin: implemented by the engine for the reference backend; flow: `steps`; locustfile."""
    think_time_min_s: float = 1.0
    """Pause between iterations, lower bound."""
    think_time_max_s: float = 3.0
    """Pause between iterations, upper bound."""
    steps: tuple[StepPlan, ...] = ()
    """Flow journeys: the requests in order."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Flow journeys: initial variables; a list value means one random element per iteration."""
    operations: tuple[str, ...] = ()
    """Operations this journey reports (built-in journeys declare theirs)."""
    builtin: str | None = None
    """Built-in journeys: the engine's journey to run (the name may be an alias of it)."""
    data: tuple[str, ...] = ()
    """Flow journeys: data sources (`RunPlan.data_sources`) whose row columns become
    variables of each iteration."""
    on_start: tuple[StepPlan, ...] = ()
    """Flow journeys: steps a user runs once before its first iteration (closed model) or an
    arrival before its steps (open model), e.g. a login; the variables they leave are the
    user's for every later iteration."""
    on_stop: tuple[StepPlan, ...] = ()
    """Flow journeys: steps a user runs when it stops (closed model) or an arrival after its
    steps (open model), e.g. a logout."""
    reauth_on: tuple[int, ...] = ()
    """Flow journeys: statuses (e.g. 401) on which the `on_start` steps run again and the
    request is retried once."""

    def flow_requests(self, model: WorkloadModel) -> int:
        """Requests one iteration of a flow journey sends: its steps, and under the open
        model (where each arrival is a new visitor) its on_start and on_stop steps too."""
        visit = len(self.on_start) + len(self.on_stop) if model == "open" else 0
        return len(self.steps) + visit


DataStrategy = Literal["sequential", "random", "unique"]


@dataclass(frozen=True, slots=True)
class DataSourcePlan:
    """A file of rows flow journeys draw variables from (a scenario's `data:`)."""

    name: str
    """Name journeys refer to it by."""
    file: str
    """Absolute path of the file; every engine process reads it once."""
    format: Literal["csv", "json", "jsonl"]
    """CSV with a header row, a JSON array of objects, or one JSON object a line."""
    strategy: DataStrategy
    """sequential: in file order, in each process; random: any row each draw; unique: each
    row once across every user and process (workers split the rows by worker index)."""
    on_exhausted: Literal["recycle", "stop"]
    """sequential or unique rows used up: start over, or stop the journeys using them."""
    scope: Literal["iteration", "user"]
    """iteration: a row each iteration; user: one row a user keeps (open model: an arrival)."""
    rows: int
    """Rows the file held when the plan was made."""
    columns: tuple[str, ...] = ()
    """Column names, which journeys use as `{variable}`."""


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything the engine needs to drive a run, with the scale it was derived with."""

    scenario: str
    """Scenario name."""
    profile: str
    """Profile name ("full" is the seed's numbers unchanged)."""
    scale: Scale
    """Factors applied by the profile."""
    model: WorkloadModel
    """closed: a number of users; open: an arrival rate independent of response times."""
    stages: tuple[StagePlan, ...]
    """Stages on the absolute timeline, contiguous from 0."""
    journeys: tuple[JourneyPlan, ...]
    """The journey mix."""
    warmup_s: float = 0.0
    """Leading seconds excluded from judgement."""
    arrivals: ArrivalProcess = "poisson"
    """Open model: how arrivals are spaced within a second."""
    max_concurrency: int = 1000
    """Open model: cap on journeys in flight; arrivals beyond it are dropped and counted."""
    connections: int | None = None
    """Open model: HTTP connections the in-flight journeys share (like wrk2's -c); a request
    waits for a free one, and that wait counts in the corrected latency, not in the service
    time. None: one per journey slot (no waiting)."""
    request_timeout_s: float = 30.0
    """A request slower than this records outcome `timeout`."""
    graceful_stop_s: float = 30.0
    """When the plan (or a ramp-down that removes users) ends, in-flight iterations get this
    long to finish and are recorded; a request still in flight after it is recorded with
    outcome `interrupted` and its elapsed time (k6's gracefulStop). 0: stop at once."""
    locustfile: str | None = None
    """Path of a team's locustfile whose users run under perfctl's shape and measurement."""
    locustfile_shape: bool = False
    """Closed model: the team locustfile's LoadTestShape drives users and spawn rate (the
    scenario gave no stages); the one stage `run` spans the planned length, which the shape
    ends earlier by returning None."""
    target: str = ""
    """Base URL of the target (secrets stripped)."""
    catalog_size: int | None = None
    """Products the embedded backend seeds for this run (volume scenarios)."""
    tags: dict[str, str] = field(default_factory=dict)
    """User tags from `--tag key=value`."""
    uses_sla: bool = True
    """Whether the SLA file's objectives judge this run (a scenario may set `sla: false`)."""
    scenario_objectives: tuple[dict[str, Any], ...] = ()
    """The scenario's own objectives (e.g. k6 thresholds), resolved, as plain data; the verdict
    reads them back with `harness.spec.objectives_for_plan`."""
    data_sources: tuple[DataSourcePlan, ...] = ()
    """Data files the flow journeys draw rows from (`JourneyPlan.data` names them)."""

    @property
    def duration_s(self) -> float:
        return self.stages[-1].end_s if self.stages else 0.0

    @property
    def operations(self) -> tuple[str, ...]:
        """Every operation the plan's journeys report, in first-seen order."""
        seen: dict[str, None] = {}
        for journey in self.journeys:
            for name in journey.operations:
                seen.setdefault(name, None)
            for step in journey.steps:
                seen.setdefault(step.operation, None)
        return tuple(seen)

    def stage_at(self, offset_s: float) -> StagePlan | None:
        """The stage running at `offset_s` seconds into the run, None after the end."""
        for stage in self.stages:
            if stage.start_s <= offset_s < stage.end_s:
                return stage
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        journeys = tuple(
            JourneyPlan(
                **{
                    **journey,
                    "steps": tuple(StepPlan.from_dict(step) for step in journey["steps"]),
                    "on_start": tuple(StepPlan.from_dict(s) for s in journey.get("on_start", ())),
                    "on_stop": tuple(StepPlan.from_dict(s) for s in journey.get("on_stop", ())),
                    "reauth_on": tuple(journey.get("reauth_on", ())),
                    "operations": tuple(journey["operations"]),
                    "data": tuple(journey.get("data", ())),
                }
            )
            for journey in data["journeys"]
        )
        return cls(
            **{
                **data,
                "scale": Scale(**data["scale"]),
                "stages": tuple(StagePlan(**stage) for stage in data["stages"]),
                "journeys": journeys,
                "scenario_objectives": tuple(data.get("scenario_objectives", ())),
                "data_sources": tuple(
                    DataSourcePlan(**{**source, "columns": tuple(source.get("columns", ()))})
                    for source in data.get("data_sources", ())
                ),
            }
        )


@dataclass(frozen=True, slots=True)
class BuiltinJourney:
    """One built-in journey: what it does and the operations it reports."""

    name: str
    """Key scenarios use, e.g. "checkout"."""
    description: str
    """What a user on this journey does."""
    steps: tuple[str, ...]
    """Operations of its requests, in order (product_detail may repeat in browse)."""
    requests_per_iteration: float
    """Average requests one iteration sends (used to estimate the request rate)."""
    signs_in: bool = False
    """Needs a login: a closed-model user logs in once (operation `login`) and keeps its
    token; an open-model arrival, a new visitor, logs in first."""

    @property
    def multi_step(self) -> bool:
        """Whether it sends more than one request (then it also reports its whole duration)."""
        return len(self.steps) > 1

    @property
    def operations(self) -> tuple[str, ...]:
        """Operations it reports, the whole-journey operation last for multi-step journeys."""
        return self.operations_as(self.name)

    def operations_as(self, journey_name: str) -> tuple[str, ...]:
        """Operations it reports when a scenario names it `journey_name` (an alias)."""
        unique = tuple(dict.fromkeys(self.steps))
        if self.signs_in:
            unique = (LOGIN_OPERATION, *unique)
        return (*unique, f"journey.{journey_name}") if self.multi_step else unique


LOGIN_OPERATION = "login"
"""Operation the built-in journeys' login reports (the reference backend's POST /api/login)."""

BUILTIN_JOURNEYS: dict[str, BuiltinJourney] = {
    journey.name: journey
    for journey in (
        BuiltinJourney(
            "browse",
            "opens the category list, then a few product pages",
            ("category_list", "product_detail"),
            4.0,
        ),
        BuiltinJourney(
            "search",
            "searches the catalog, then opens up to two results",
            ("product_search", "product_detail"),
            3.0,
        ),
        BuiltinJourney(
            "add_to_cart",
            "searches, then adds a result to the cart",
            ("product_search", "cart_add"),
            2.0,
            signs_in=True,
        ),
        BuiltinJourney(
            "checkout",
            "searches, adds to the cart, places the order (reserve, price, charge, persist)",
            ("product_search", "cart_add", "order_processing"),
            3.0,
            signs_in=True,
        ),
        BuiltinJourney(
            "recommendations",
            "asks for the user's recommendations",
            ("recommendations",),
            1.0,
        ),
        BuiltinJourney(
            "support",
            "sends a question to customer support",
            ("customer_support",),
            1.0,
        ),
        BuiltinJourney(
            "inventory",
            "checks the stock of a product",
            ("inventory_check",),
            1.0,
        ),
        BuiltinJourney("pricing", "looks up the price of a product", ("price_lookup",), 1.0),
        BuiltinJourney(
            "payment",
            "charges a card directly with a fresh Idempotency-Key",
            ("payment_processing",),
            1.0,
        ),
    )
}
"""Built-in journey name -> journey: the one table of what the engine's built-in journeys (for
the reference backend) report. A scenario names one by its key; the plan copies its operations
into `JourneyPlan.operations`, which is how perfctl knows, before any load is sent, which SLA
objectives a scenario can exercise."""
