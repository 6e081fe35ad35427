"""The resolved run plan: scenario × profile × target, fully concrete, written into run.json.

This is the contract between the spec (which builds it with `harness.spec.plan_run`) and the
engine (which executes it inside Locust processes). Everything is plain data: the engine reads
it back from JSON with `RunPlan.from_dict`, so no pydantic model crosses into Locust processes.
The table of built-in journeys (`BUILTIN_JOURNEYS`) is part of the contract too: the spec plans
with it (which operations a journey reports), the engine runs one function per entry.

    RunPlan, Scale, StagePlan      the plan, the profile's factors, one stage of the timeline
    JourneyPlan, StepPlan          a weighted journey, one request of a flow journey
    ResponseCheckPlan              what a flow step's response must look like (`check:`)
    BuiltinJourney                 one built-in journey: the operations it reports, in order
    BUILTIN_JOURNEYS               built-in journey name -> BuiltinJourney (the one table)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

WorkloadModel = Literal["closed", "open"]
ArrivalProcess = Literal["uniform", "poisson"]
JourneyKind = Literal["builtin", "flow", "locustfile"]


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
    extract: dict[str, str] = field(default_factory=dict)
    """Variable name -> dotted path into the JSON response ("items.0.id")."""
    check: ResponseCheckPlan = field(default_factory=ResponseCheckPlan)
    """What a successful response looks like."""
    think_time_min_s: float = 0.0
    """Pause after the step, lower bound."""
    think_time_max_s: float = 0.0
    """Pause after the step, upper bound."""


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
                    "steps": tuple(
                        StepPlan(
                            **{
                                **step,
                                "check": ResponseCheckPlan(
                                    **{
                                        **step["check"],
                                        "status": tuple(step["check"]["status"]),
                                    }
                                ),
                            }
                        )
                        for step in journey["steps"]
                    ),
                    "operations": tuple(journey["operations"]),
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
        return (*unique, f"journey.{journey_name}") if self.multi_step else unique


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
        ),
        BuiltinJourney(
            "checkout",
            "searches, adds to the cart, places the order (reserve, price, charge, persist)",
            ("product_search", "cart_add", "order_processing"),
            3.0,
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
