"""capacity.json: what a capacity search measured, read back typed.

A capacity directory (`reports/<UTC time>-capacity/`) holds one search per instance count
(one instance, and N when scaling was measured), each step a run directory of its own
(`1x-step-01/`, ...), and `capacity.json`: the knee of each search, the scaling efficiency
measured between them, the generator's share of the machine, and the capacity checks built
from them. The verdict of a later run reads it back (`--capacity`) to judge the throughput
objectives the run could not offer; the report and the runs index show it. Like run.json it
is read strictly: anything malformed is a RunDirError naming the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt
from pydantic import ConfigDict

from harness.errors import RunDirError
from harness.timeline import MalformedError, parse_json

CAPACITY_FILE = "capacity.json"
CAPACITY_SCHEMA: Literal[2] = 2

KneeBoundName = Literal["found", "generator", "ceiling", "floor", "steps"]
Ratio = Annotated[float, Ge(0)]
Rate = Annotated[float, Ge(0)]


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One step of a search: the plan held at one arrival rate, judged on its own."""

    rate_per_s: Annotated[float, Gt(0)]
    """Journey arrivals per second the step offered."""
    held: bool
    """Every latency and error objective with enough samples held."""
    delivered: bool = True
    """False when the generator fell short of the rate (its limit, not the target's)."""
    run_id: str = ""
    """The step's run directory, inside the capacity directory."""
    limiting_objective: str = ""
    """The objective furthest past its limit ("" when the step held)."""
    achieved_rps: Rate | None = None
    """Requests per second the target completed over the judged span."""
    achieved_rps_by_operation: dict[str, Rate] = field(default_factory=dict)
    """The same, per operation."""
    latency_p95_ms: Rate | None = None
    """95th percentile latency of every request over the judged span."""
    latency_p99_ms: Rate | None = None
    """99th percentile latency of every request over the judged span."""
    cpu_ratio: Ratio | None = None
    """Server CPU (mean, one core = 1) over the step; None without server metrics."""
    memory_ratio: Ratio | None = None
    """Server memory (mean, 0-1)."""
    server_cpu_cores: Ratio | None = None
    """Cores the target's processes used (mean over the step)."""
    generator_cpu_cores: Ratio | None = None
    """Cores the load generator's processes used (mean over the judged span)."""
    machine_cpu_cores: Ratio | None = None
    """Cores busy on the generator's machine over the step: the generator, the target when
    it runs there, and everything else (a database, a cache, the system)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def generator_cpu_s_per_request(self) -> float | None:
        """Generator CPU seconds spent per request the target completed."""
        if self.generator_cpu_cores is None or not self.achieved_rps:
            return None
        return self.generator_cpu_cores / self.achieved_rps


@dataclass(frozen=True, slots=True)
class CapacityKnee:
    """Where one search's knee lies and what bounds it."""

    bound: KneeBoundName
    """found (between held and broke), generator or ceiling (at least held), floor (below
    broke), steps (the step budget ran out: still an interval)."""
    summary: str
    """One line a person reads."""
    held_rate_per_s: Rate | None = None
    """The highest arrival rate that held."""
    broke_rate_per_s: Rate | None = None
    """The lowest arrival rate that broke."""
    relative_half_width: Ratio | None = None
    """(broke - held) / (broke + held): the knee's uncertainty."""
    limiting_objective: str = ""
    """The objective that broke first as the rate rose."""
    achieved_rps: Rate | None = None
    """Requests per second completed at the knee (the highest rate that held)."""
    achieved_rps_by_operation: dict[str, Rate] = field(default_factory=dict)
    """The same, per operation: the knee in each operation's own requests."""
    cpu_ratio: Ratio | None = None
    """Server CPU at the knee."""
    memory_ratio: Ratio | None = None
    """Server memory at the knee."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def is_lower_bound(self) -> bool:
        """True when nothing broke: the capacity is at least the knee, not about it."""
        return self.bound in ("generator", "ceiling") or (
            self.bound == "steps" and self.broke_rate_per_s is None
        )


@dataclass(frozen=True, slots=True)
class CapacitySearch:
    """One search: the knee of the target running `instances` instances."""

    instances: Annotated[int, Ge(1)]
    """Instances of the target behind the URL the search drove."""
    knee: CapacityKnee
    """Its knee."""
    steps: tuple[CapacityStep, ...]
    """Every step, in the order it ran."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def knee_step(self) -> CapacityStep | None:
        """The step at the highest rate that held."""
        held = [step for step in self.steps if step.held and step.delivered]
        return max(held, key=lambda step: step.rate_per_s) if held else None


@dataclass(frozen=True, slots=True)
class Scaling:
    """How capacity grows with instances: measured between two searches, or assumed."""

    measured: bool
    """True when a search with `instances` instances ran beside the one-instance search."""
    instances: Annotated[int, Ge(1)]
    """The instance count of the second search (1 when none ran)."""
    efficiency: Annotated[float, Gt(0)]
    """capacity_N / (N × capacity_1) after the generator's share of the cores is accounted
    for (1.0 when assumed): what the extrapolation uses."""
    law: str
    """How capacity is extrapolated to more instances (e.g. "amdahl")."""
    sigma: Ratio
    """Amdahl's serial fraction fitted to the efficiency: C(n) = n / (1 + sigma (n - 1))."""
    raw_efficiency: Annotated[float, Gt(0)] | None = None
    """capacity_N / (N × capacity_1) as measured, before accounting for the generator."""
    target_cores: dict[str, Ratio] = field(default_factory=dict)
    """Cores left to the target at each search's knee ("1", "N"), after the generator's."""
    matched_rate_per_s: Rate | None = None
    """The highest arrival rate both searches held: where their CPU costs are compared."""
    other_cpu_cores: dict[str, Ratio] = field(default_factory=dict)
    """Cores busy at each search's knee beside the target and the generator ("1", "N"): a
    database, a cache, the system; taken out of the target's cores like the generator's."""
    efficiency_is_lower_bound: bool = False
    """True when the N-instance search ran out of something other than the target (the
    machine's cores, the generator): the instances could have delivered more."""
    server_cpu_ms_per_request: dict[str, Ratio] = field(default_factory=dict)
    """The target's CPU time per request at `matched_rate_per_s` ("1", "N"): a rise says the
    instances' coordination costs CPU; none says the loss is elsewhere (locks, the machine)."""
    note: str = ""
    """What was assumed and why, for a person."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class CapacityRecord:
    """Everything capacity.json holds."""

    schema: Literal[2]
    """The file's schema version."""
    capacity_id: str
    """The capacity directory's name."""
    created_at: str
    """When the search finished (ISO, UTC)."""
    scenario: str
    """The scenario whose journey mix every step offered."""
    profile: str
    """The profile that chose the search's settings."""
    target: str
    """"embedded", or the target URL (credentials redacted)."""
    sla: str
    """The SLA file the steps were judged with."""
    sla_sha256: str
    """Its content's digest: a run judged with another SLA does not use this record."""
    machine_cores: Annotated[int, Ge(1)]
    """CPU cores of the machine the generator and the target shared."""
    settings: dict[str, Any]
    """The search's settings (start rate, growth, precision, hold, warm-up, step budget)."""
    searches: tuple[CapacitySearch, ...]
    """The one-instance search first, then the scaling search if it ran."""
    scaling: Scaling
    """Scaling efficiency, measured or assumed."""
    checks: tuple[dict[str, Any], ...] = ()
    """The capacity checks judged from the knee when the search ended (verdict Check dicts)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def single(self) -> CapacitySearch:
        """The one-instance search."""
        return self.searches[0]


def sla_digest(path: Path) -> str:
    """The SHA-256 of an SLA file's bytes (what ties a capacity record to its SLA)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_capacity_record(capacity_dir: Path) -> CapacityRecord:
    """capacity.json of `capacity_dir`, typed; a RunDirError (exit 3) naming what is wrong."""
    path = capacity_dir / CAPACITY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDirError(
            f"{path} is missing: is {capacity_dir} a perfctl capacity directory?"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RunDirError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    if data.get("schema") != CAPACITY_SCHEMA:
        raise RunDirError(
            f"{path}: schema {data.get('schema')!r}, this perfctl reads schema {CAPACITY_SCHEMA}"
            " (run `perfctl capacity` again)"
        )
    try:
        record = parse_json(CapacityRecord, text)
    except MalformedError as error:
        raise RunDirError(f"{path}: {error}") from None
    if not record.searches or record.searches[0].instances != 1:
        raise RunDirError(f"{path}: searches must start with the one-instance search")
    return record


def is_capacity_dir(path: Path) -> bool:
    """True when `path` holds a capacity.json (it may still be unreadable)."""
    return (path / CAPACITY_FILE).is_file()


def latest_capacity_dir(parent: Path, target: str, sla_sha256: str) -> Path | None:
    """The newest readable capacity directory under `parent` measured on `target` ("embedded"
    or a redacted URL) with the SLA of digest `sla_sha256`; None when there is none."""
    if not parent.is_dir():
        return None
    candidates = sorted(
        (path for path in parent.iterdir() if is_capacity_dir(path)),
        key=lambda path: path.name,
        reverse=True,
    )
    for path in candidates:
        try:
            record = read_capacity_record(path)
        except RunDirError:
            continue
        if record.target == target and record.sla_sha256 == sla_sha256:
            return path
    return None
