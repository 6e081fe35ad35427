"""The resolved run plan: scenario × profile × target, fully concrete, written into run.json.

This is the contract between the spec (which builds it with `plan_run`) and the engine
(which executes it inside Locust processes). Everything is plain data: the engine reads it
back from JSON with `RunPlan.from_dict`, so no pydantic model crosses into Locust processes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from harness.spec import Scenario

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
class CheckPlan:
    """A check on a response; a failed check records the request as `check_failed`."""

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
    check: CheckPlan = field(default_factory=CheckPlan)
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
                                "check": CheckPlan(
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


_TIMESPAN = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


def parse_run_time_s(text: str) -> float:
    """Seconds in a Locust run time: `30`, `30s`, `5m`, `1h30m`, `1h30m15s`; ValueError else."""
    match = _TIMESPAN.match(text.strip().lower())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise ValueError(f"expected a duration such as 30s, 5m or 1h30m, got {text!r}")
    hours, minutes, seconds = (match.group(unit) for unit in ("h", "m", "s"))
    return int(hours or 0) * 3600.0 + int(minutes or 0) * 60.0 + float(seconds or 0)


def plan_locustfile(
    path: str,
    users: int,
    spawn_rate_per_s: float,
    run_time_s: float,
    target: str,
    tags: dict[str, str] | None = None,
) -> RunPlan:
    """A plan that runs a team's locustfile under perfctl's measurement, Locust-style:
    `users` started at `spawn_rate_per_s`, held for `run_time_s` (one closed-model stage)."""
    return RunPlan(
        scenario=PurePath(path).stem,
        profile="locustfile",
        scale=Scale(),
        model="closed",
        stages=(
            StagePlan(
                name="run",
                start_s=0.0,
                duration_s=run_time_s,
                users_start=users,
                users_end=users,
                spawn_rate_per_s=spawn_rate_per_s,
            ),
        ),
        journeys=(
            JourneyPlan(
                name="locustfile",
                weight=1.0,
                kind="locustfile",
                think_time_min_s=0.0,
                think_time_max_s=0.0,
            ),
        ),
        locustfile=path,
        target=target,
        tags=dict(tags or {}),
    )


def plan_run(
    scenario: Scenario,
    profile: str = "full",
    target: str = "",
    tags: Mapping[str, str] | None = None,
) -> RunPlan:
    """The resolved plan of a loaded scenario under a profile: absolute stage times, users or
    rates, and the scale factors; UsageError for an unknown profile or a malformed target."""
    from harness.spec import build_plan

    return build_plan(scenario, profile, target, tags)
