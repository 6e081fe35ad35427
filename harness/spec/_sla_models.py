"""The sla.yaml format: pydantic models of the file a team writes once.

An SLA is a list of objectives. Each objective names an operation (the join key with the
scenarios and the measurements), a metric, a statistic and a limit, and optionally a looser
warning limit, a judging window, a scope, a severity, a minimum sample count, an abort rule and
a limit relative to a baseline run. Objectives can be written one by one (`objectives:`), or
from the tables an SLA document usually has, which perfctl expands into objectives:

    services:             # per operation: latency percentiles, error rate, throughput, tier
      product_search:
        tier: important                 # availability and severity come from the tier
        latency: {p50: "< 200 ms", p95: "< 500 ms", p99: "< 1000 ms"}
        error_rate: "< 0.1 %"
    components:           # per component: target / peak / burst throughput
      api_gateway: {operation: "*", throughput: {target: ">= 10000 rps", peak: ">= 50000 rps"}}
    kpis:                 # named whole-system indicators with a warning band
      response_time: {metric: latency, statistic: p95, limit: "< 500 ms", warn: "<= 1000 ms"}

A value that meets `limit` passes; one that misses `limit` but meets `warn` is a warning; one
beyond `warn` fails. So `warn` is always looser than `limit` (Keptn's pass and warning
criteria; the seed's "target" and "alert threshold").

Compared with the formats it learns from:
- k6 `http_req_duration: ['p(95)<500']` is `{operation: "*", metric: latency, statistic: p95,
  limit: "< 500 ms"}`; k6's `abortOnFail` with `delayAbortEval` is `abort: {after: 30s}`.
- Keptn's pass/warning criteria are `limit`/`warn`; its relative criteria `<=+10%` are
  `baseline: "<= +10 %"` (and `baseline_warn`).
- OpenSLO's time windows and timeslice budgeting are `window: 1m` with
  `windows_required: 99 %` (the share of windows that must pass; every window by default).
- Taurus's `for 30s` (a breach must be sustained) is `abort: {after: 30s}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from harness.spec._types import (
    Duration,
    LimitText,
    Ratio,
    RelativeText,
    Severity,
    StrictModel,
    Window,
)

Metric = Literal[
    "latency",
    "error_rate",
    "availability",
    "throughput",
    "cpu",
    "memory",
    "latency_drift",
    "memory_drift",
    "breaking_point",
    "checks",
]
"""What is measured. latency: response time of each request (ms); error_rate: failed / all
requests (statistic `ratio`: every request not ok, failed checks included; `requests`: failed
requests only, as k6's http_req_failed); availability: requests the target answered in time /
all requests; checks: requests that passed every check / all requests (k6's `checks` rate);
throughput: completed requests per second;
cpu, memory: server utilisation (0-1, from Prometheus or the target's /metrics);
latency_drift: growth of a latency percentile per hour (endurance); memory_drift: growth of
server memory in MB per hour; breaking_point: the highest arrival rate at which every latency
objective held (stress)."""

MonitoringKey = Literal[
    "response_time", "availability", "error_rate", "throughput", "resource_usage"
]


class AbortRule(StrictModel):
    """Stop the run early when the objective fails (beyond `warn` when set, else beyond
    `limit`) continuously for `after`."""

    after: Duration = Field(description="How long a failure must last before the run stops.")


class ObjectiveOptions(StrictModel):
    """Everything an objective may say besides what it measures; tables reuse these options."""

    limit: LimitText | None = Field(
        default=None, description="Pass condition, e.g. '< 500 ms', '<= 0.1 %', '>= 10000 rps'."
    )
    warn: LimitText | None = Field(
        default=None,
        description="Looser bound: a value between limit and warn is a warning, beyond it a failure.",
    )
    window: Window | None = Field(
        default=None,
        description="'run' for one value over the scope, or a window length (1m) judged window by window; default from `monitoring`.",
    )
    windows_required: Ratio | None = Field(
        default=None, description="Share of windows that must pass (default every window: 100 %)."
    )
    scope: str | None = Field(
        default=None,
        description="'run' (whole run after warm-up) or the name of a stage, e.g. 'peak'.",
    )
    severity: Severity | None = Field(default=None, description="critical, high, medium or low.")
    optional: bool = Field(
        default=False,
        description="An optional objective may name an operation the scenario does not produce.",
    )
    min_samples: int | None = Field(
        default=None,
        ge=1,
        description="Fewer samples than this is no_data (default for a q-percentile: the fewest whose 95 % interval has both ends inside the sample, ln(0.025)/ln(q): p95 72, p99 368).",
    )
    abort: AbortRule | None = Field(
        default=None, description="Stop the run when the objective fails for this long."
    )
    baseline: RelativeText | None = Field(
        default=None, description="Change allowed against a baseline run, e.g. '<= +10 %'."
    )
    baseline_warn: RelativeText | None = Field(
        default=None, description="Looser change that is only a warning, e.g. '<= +20 %'."
    )
    scenarios: list[str] | None = Field(
        default=None, description="Judge this objective only in these scenarios (default: all)."
    )
    description: str = Field(default="", description="Why this objective exists.")


def _shorthand(value: Any) -> Any:
    """A bare limit string stands for `{limit: ...}`."""
    return {"limit": value} if isinstance(value, str) else value


Shorthand = Annotated[
    ObjectiveOptions,
    BeforeValidator(_shorthand, json_schema_input_type=str | ObjectiveOptions),
]
"""A limit string such as "< 500 ms", or a mapping of objective options."""


class ObjectiveEntry(ObjectiveOptions):
    """One objective written out in full."""

    id: str | None = Field(
        default=None, description="Stable id (default: operation.metric.statistic[.scope])."
    )
    operation: str = Field(description="Operation name, or '*' for every request of the run.")
    metric: Metric
    statistic: str | None = Field(
        default=None,
        description="p50, p95, p99.9, mean, min, max (latency, cpu, memory); ratio (error_rate, availability, checks); requests (error_rate of failed requests only, like k6's http_req_failed); rate (throughput); slope (memory_drift).",
    )
    query: str | None = Field(
        default=None,
        description="PromQL giving this value from Prometheus (cpu, memory, drift); perfctl's defaults fit the reference backend.",
    )


class KpiEntry(ObjectiveEntry):
    """A key performance indicator: an objective on every request unless it names one."""

    operation: str = Field(default="*", description="Operation, '*' (default) for every request.")
    title: str = ""


class ServiceSpec(StrictModel):
    """One row of the SLA table: the objectives of one operation."""

    title: str = ""
    tier: str | None = Field(
        default=None, description="Availability tier (sets availability and severity)."
    )
    latency: dict[str, Shorthand] = Field(
        default_factory=dict, description="Statistic (p50, p95, p99, mean, max) -> limit."
    )
    error_rate: Shorthand | None = None
    availability: Shorthand | None = Field(
        default=None, description="Overrides the tier's availability for this service."
    )
    throughput: Shorthand | None = None


class ComponentThroughput(StrictModel):
    """Target, peak and burst throughput of a component."""

    target: Shorthand | None = Field(default=None, description="Judged over the run.")
    peak: Shorthand | None = Field(default=None, description="Judged during the stage `peak`.")
    burst: Shorthand | None = Field(default=None, description="Judged during the stage `spike`.")


class ComponentSpec(StrictModel):
    """A component of the system whose throughput is an objective and whose scaling is known."""

    title: str = ""
    operation: str = Field(description="The operation it serves, or '*' for every request.")
    runs_on: str | None = Field(default=None, description="Row of `scaling` that runs it.")
    severity: Severity | None = None
    throughput: ComponentThroughput = Field(default_factory=ComponentThroughput)


class TierSpec(StrictModel):
    """An availability tier: availability target, recovery objectives and breach severity."""

    title: str = ""
    availability: Ratio = Field(description="Availability target, e.g. '99.95 %'.")
    rto: Duration = Field(description="Recovery time objective.")
    rpo: Duration = Field(description="Recovery point objective.")
    severity: Severity = Field(description="Severity of a breach of a service in this tier.")


class ScalingSpec(StrictModel):
    """Auto-scaling parameters of one kind of instance, for capacity planning."""

    title: str = ""
    min_instances: int = Field(ge=0)
    max_instances: int = Field(ge=1)
    target_cpu: Ratio = Field(description="CPU utilisation the scaler aims for, e.g. '70 %'.")
    target_memory: Ratio = Field(description="Memory utilisation the scaler aims for.")
    scale_out_cooldown: Duration


class MonitoringSpec(StrictModel):
    """How often a metric family is judged, and the seed's alert response and escalation times."""

    every: Duration = Field(description="Window length objectives of this family are judged on.")
    alert_response: Duration | None = None
    escalation: Duration | None = None


class IncidentResponseSpec(StrictModel):
    """What the seed's incident flow does for one severity."""

    response: str
    actions: list[str] = Field(min_length=1)


class DefaultsSpec(StrictModel):
    """Values every objective takes unless it says otherwise."""

    severity: Severity = "medium"
    window: Window = "run"
    windows_required: Ratio = 1.0
    min_samples: int | None = Field(
        default=None,
        ge=1,
        description="Floor for every objective's minimum sample count (percentiles may need more).",
    )
    require_coverage: bool = Field(
        default=False,
        description="Fail the gate when an objective in scope for the run ends no_data or "
        "not_exercised (as `--require-coverage` does).",
    )
    strict: bool = Field(
        default=False,
        description="Fail the gate on a warning or a check too close to call (marginal), as "
        "`--strict` does.",
    )
    generator_tolerance: Ratio = Field(
        default=0.01,
        description="Shortfall of the load generator allowed in a judged span (arrivals it "
        "dropped or started late, users it did not run), as a share of the planned arrivals "
        "or user-seconds; beyond it every check judged on the span is inconclusive.",
    )


class SlaFile(StrictModel):
    """sla.yaml: the performance contract perfctl judges every run against."""

    version: Literal[1] = 1
    name: str
    description: str = ""
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    monitoring: dict[MonitoringKey, MonitoringSpec] = Field(default_factory=dict)
    incident_response: dict[Severity, IncidentResponseSpec] = Field(default_factory=dict)
    tiers: dict[str, TierSpec] = Field(default_factory=dict)
    services: dict[str, ServiceSpec] = Field(default_factory=dict)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    scaling: dict[str, ScalingSpec] = Field(default_factory=dict)
    kpis: dict[str, KpiEntry] = Field(default_factory=dict)
    objectives: list[ObjectiveEntry] = Field(default_factory=list)
