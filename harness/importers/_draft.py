"""What an importer produces before it is written: a scenario and an SLA as plain data.

The importers (HAR, OpenAPI) fill these; the writer turns them into commented YAML. They hold
exactly what the scenario and SLA formats can say (harness/spec's models), plus the comments
that tell a reader where each value came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_USERS = 10
"""Users of the imported scenario's steady stage: a starter load, not a capacity figure."""
DEFAULT_P95_MS = 500.0
"""Starter latency limits of every imported operation (the seed's product_search figures)."""
DEFAULT_P99_MS = 1000.0
DEFAULT_ERROR_RATE_PERCENT = 1.0
"""Starter error-rate limit of every imported operation."""


@dataclass(frozen=True, slots=True)
class StepDraft:
    """One request of a flow journey (a `steps:` entry)."""

    operation: str
    """Operation it reports under: the join key with the SLA."""
    method: str
    """HTTP method, upper case."""
    path: str
    """Path with `{variable}` placeholders (a repeated query key stays in it)."""
    query: dict[str, Any] = field(default_factory=dict)
    """Query parameters; values may hold placeholders."""
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers worth replaying; secrets as `${env:NAME}`."""
    json_body: Any = None
    """JSON body (None: no body)."""
    extract: dict[str, str] = field(default_factory=dict)
    """Variable -> dotted path into the JSON response."""
    extract_notes: dict[str, str] = field(default_factory=dict)
    """Variable -> comment written beside its extraction (the recorded value, where it is used)."""
    status: tuple[int, ...] = (200,)
    """Status codes the response must have."""
    json_path: str | None = None
    """A dotted path the JSON response must hold (a missing extraction shows as a failed check)."""
    think_time_s: float = 0.0
    """Pause after the request, in seconds."""
    note: str = ""
    """Comment written above the step."""


@dataclass(frozen=True, slots=True)
class JourneyDraft:
    """A weighted flow journey."""

    name: str
    """Journey name (a key of `journeys:`)."""
    steps: tuple[StepDraft, ...]
    """Its requests, in order."""
    weight: float = 1.0
    """Relative weight in the mix."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Variables with their starting values."""
    variable_notes: dict[str, str] = field(default_factory=dict)
    """Variable -> comment written beside it."""
    think_time: str = "1s..3s"
    """Pause between iterations, as the scenario format writes it."""
    note: str = ""
    """Comment written above the journey."""


@dataclass(frozen=True, slots=True)
class ScenarioDraft:
    """A whole scenario file."""

    name: str
    """Scenario name (also the SLA's scenario)."""
    title: str
    """One-line title."""
    description: str
    """What it was imported from."""
    journeys: tuple[JourneyDraft, ...]
    """The journey mix."""
    header: tuple[str, ...] = ()
    """Comment lines at the top of the file (how it was made, what to check)."""
    footer: tuple[str, ...] = ()
    """Comment lines at the end (what was left out and why)."""
    users: int = DEFAULT_USERS
    """Users of the steady stage."""


@dataclass(frozen=True, slots=True)
class SlaOperation:
    """One operation of the starter SLA."""

    name: str
    """Operation name (a key of `services:`)."""
    title: str
    """What it is, e.g. `GET /api/products/{id}` or the API's summary."""


@dataclass(frozen=True, slots=True)
class SlaDraft:
    """A starter sla.yaml: the same objectives for every operation, to be tuned."""

    name: str
    """The SLA's name."""
    description: str
    """What it was imported from."""
    operations: tuple[SlaOperation, ...]
    """One service entry (p95, p99, error rate) each."""
    p95_ms: float = DEFAULT_P95_MS
    """Starter p95 latency limit."""
    p99_ms: float = DEFAULT_P99_MS
    """Starter p99 latency limit."""
    error_rate_percent: float = DEFAULT_ERROR_RATE_PERCENT
    """Starter error-rate limit, in percent."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What an importer found: the files to write and what to tell the person who ran it."""

    scenario: ScenarioDraft
    """The scenario to write."""
    sla: SlaDraft
    """The starter SLA to write."""
    notes: tuple[str, ...] = ()
    """Lines printed after writing: what was filtered, correlated or left out."""
    env_vars: tuple[str, ...] = ()
    """Environment variables the scenario reads (`${env:NAME}`) in place of recorded secrets."""
    target: str | None = None
    """The base URL the recording or the API document points at (`perfctl run --target`)."""
