"""`perfctl capacity`: the knee of one instance of the target, searched for by steps of load,
then (with `--instances N`) the same search on N instances for the scaling efficiency, written
as `capacity.json` in a capacity directory beside the runs, with the capacity checks judged
from it.

How finely the search refines depends on the profile: `ci` finishes in about three minutes on
a 2-core machine with a knee known to about ±15 %; `full` (and any other profile) refines to
±5 % with steps long enough for one-minute windows. Every setting can be overridden.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from harness.capacity._machine import MachineCpu
from harness.capacity._probe import StepRunner
from harness.capacity._scaling import measure_scaling
from harness.capacity._search import Knee, SearchPlan, find_knee
from harness.errors import UsageError
from harness.redaction import redact_url
from harness.run import BackendOptions, EmbeddedBackend
from harness.rundir import (
    CAPACITY_FILE,
    CAPACITY_SCHEMA,
    CapacityKnee,
    CapacityRecord,
    CapacitySearch,
    create_run_dir,
    iso_utc,
    make_run_id,
    sla_digest,
    utc_now,
    write_json_atomically,
)
from harness.spec import default_sla_path, load_sla, plan_run
from harness.verdict import capacity_checks

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class SearchSettings:
    """How one profile searches: where it starts, how it climbs, how long each step lasts."""

    start_rate_per_s: float
    """Arrivals per second of the first step."""
    ceiling_rate_per_s: float
    """The highest rate offered (far beyond one instance: the generator's limit comes first)."""
    growth: float
    """Each coarse step offers this many times the last."""
    precision: float
    """Refine until the knee's half-width is at most this fraction of it."""
    hold_s: float
    """Judged seconds of each step."""
    warmup_s: float
    """Seconds at the step's rate before judging starts."""
    max_steps: int
    """No search runs more steps than this."""

    def search_plan(self) -> SearchPlan:
        return SearchPlan(
            start_rate_per_s=self.start_rate_per_s,
            ceiling_rate_per_s=self.ceiling_rate_per_s,
            growth=self.growth,
            precision=self.precision,
            max_steps=self.max_steps,
        )


QUICK = SearchSettings(
    start_rate_per_s=20.0,
    ceiling_rate_per_s=100_000.0,
    growth=2.0,
    precision=0.15,
    hold_s=8.0,
    warmup_s=2.0,
    max_steps=9,
)
"""smoke, ci and demo: a knee to about ±15 % in about three minutes."""
THOROUGH = SearchSettings(
    start_rate_per_s=20.0,
    ceiling_rate_per_s=100_000.0,
    growth=2.0,
    precision=0.05,
    hold_s=60.0,
    warmup_s=10.0,
    max_steps=20,
)
"""full and every other profile: a knee to ±5 %, each step long enough for 1-minute windows."""
SETTINGS_BY_PROFILE = {"smoke": QUICK, "ci": QUICK, "demo": QUICK}


@dataclass(frozen=True, slots=True)
class SettingsOverride:
    """Search settings given on the command line (None: the profile's)."""

    start_rate_per_s: float | None = None
    """The first step's rate."""
    precision: float | None = None
    """The knee's relative half-width to refine to."""
    hold_s: float | None = None
    """Judged seconds of each step."""
    warmup_s: float | None = None
    """Seconds of each step before judging."""
    max_steps: int | None = None
    """Step budget of each search."""

    def applied_to(self, settings: SearchSettings) -> SearchSettings:
        given = {name: value for name, value in asdict(self).items() if value is not None}
        return replace(settings, **given)


@dataclass(frozen=True, slots=True)
class CapacityRequest:
    """Everything `perfctl capacity` was asked for."""

    scenario: str = "capacity"
    """An open-model scenario whose journey mix every step offers."""
    profile: str | None = None
    """Profile; it picks the search's settings (see SETTINGS_BY_PROFILE)."""
    target: str | None = None
    """Target URL of one instance; None starts the embedded reference backend for each search."""
    scaled_target: str | None = None
    """With a target URL and instances > 1: the same service running `instances` instances."""
    instances: int = 1
    """Above 1, a second search on that many instances measures the scaling efficiency."""
    sla: Path | None = None
    """SLA file; None is ./sla.yaml."""
    out_dir: Path = Path("reports")
    """Parent of the capacity directory."""
    override: SettingsOverride = SettingsOverride()
    """Search settings given explicitly."""


def measure_capacity(request: CapacityRequest, console: Console) -> tuple[Path, CapacityRecord]:
    """Search for the knee (and the scaled knee), write `capacity.json`, return its directory
    and the record."""
    base = plan_run(request.scenario, profile=request.profile)
    # the profile picks the search's settings; the concurrency cap stays the scenario's own
    max_concurrency = plan_run(request.scenario).max_concurrency
    if base.model != "open":
        raise UsageError(f"capacity needs an open-model scenario; {base.scenario} is closed")
    sla_path = request.sla if request.sla is not None else default_sla_path()
    if sla_path is None or not sla_path.is_file():
        raise UsageError(f"SLA file {sla_path or 'sla.yaml'} does not exist")
    sla = load_sla(sla_path)
    _check_instances(request)
    settings = request.override.applied_to(SETTINGS_BY_PROFILE.get(base.profile, THOROUGH))
    _check_settings(settings)
    stem = base.scenario if base.scenario == "capacity" else f"{base.scenario}-capacity"
    capacity_dir = create_run_dir(request.out_dir, make_run_id(stem, utc_now()))
    console.print(
        f"capacity of {request.target or 'the embedded reference backend'}: {capacity_dir}"
    )

    def search(instances: int, target: str | None, machine: MachineCpu) -> CapacitySearch:
        console.print(f"search with {instances} instance{'s' if instances > 1 else ''}:")
        log = capacity_dir / "logs" / f"backend-{instances}x.log"
        with EmbeddedBackend(log, BackendOptions(workers=instances)) as backend:
            runner = StepRunner(
                base=base,
                target_url=target if target is not None else backend.start(),
                sla_path=sla_path,
                capacity_dir=capacity_dir,
                hold_s=settings.hold_s,
                warmup_s=settings.warmup_s,
                max_concurrency=max_concurrency,
                console=console,
                instances=instances,
                machine=machine,
            )
            knee = find_knee(settings.search_plan(), runner)
        console.print(f"  knee with {instances}: {knee.describe()}")
        return CapacitySearch(instances=instances, knee=knee_record(knee), steps=knee.steps)

    with MachineCpu() as machine:
        searches = [search(1, request.target, machine)]
        if request.instances > 1:
            scaled = request.scaled_target if request.target is not None else None
            searches.append(search(request.instances, scaled, machine))
    shares_cores = request.target is None or _is_loopback(request.target)
    cores = _machine_cores()
    record = CapacityRecord(
        schema=CAPACITY_SCHEMA,
        capacity_id=capacity_dir.name,
        created_at=iso_utc(utc_now()),
        scenario=request.scenario,
        profile=base.profile,
        target=redact_url(request.target) if request.target is not None else "embedded",
        sla=str(sla_path),
        sla_sha256=sla_digest(sla_path),
        machine_cores=cores,
        settings=asdict(settings),
        searches=tuple(searches),
        scaling=measure_scaling(searches, cores if shares_cores else None),
    )
    checks = capacity_checks(sla, record, capacity_dir.name)
    record = replace(record, checks=tuple(check.to_dict() for check in checks))
    write_json_atomically(capacity_dir / CAPACITY_FILE, asdict(record))
    return capacity_dir, record


def knee_record(knee: Knee) -> CapacityKnee:
    """What capacity.json keeps of a search's knee (its figures from the knee step)."""
    step = knee.knee_step
    return CapacityKnee(
        bound=knee.bound.value,
        summary=knee.describe(),
        held_rate_per_s=knee.held_rate_per_s,
        broke_rate_per_s=knee.broke_rate_per_s,
        relative_half_width=knee.relative_half_width,
        limiting_objective=knee.limiting_objective,
        achieved_rps=step.achieved_rps if step else None,
        achieved_rps_by_operation=dict(step.achieved_rps_by_operation) if step else {},
        cpu_ratio=step.cpu_ratio if step else None,
        memory_ratio=step.memory_ratio if step else None,
    )


def _check_instances(request: CapacityRequest) -> None:
    if request.instances < 1:
        raise UsageError("--instances must be 1 or more")
    if request.scaled_target is not None and request.target is None:
        raise UsageError("--scaled-target needs --target (the same service on one instance)")
    if request.scaled_target is not None and request.instances < 2:
        raise UsageError("--scaled-target needs --instances N (how many instances it runs)")
    if request.target is not None and request.instances > 1 and request.scaled_target is None:
        raise UsageError(
            f"--instances {request.instances} with --target needs --scaled-target URL: the same "
            f"service running {request.instances} instances behind one address"
        )


def _check_settings(settings: SearchSettings) -> None:
    if not 0 < settings.precision < 1:
        raise UsageError(f"--precision must lie between 0 and 1, got {settings.precision:g}")
    if settings.hold_s <= 0:
        raise UsageError("--hold must be a positive duration")
    if settings.max_steps < 1:
        raise UsageError("--max-steps must be 1 or more")
    if not 1 <= settings.start_rate_per_s <= settings.ceiling_rate_per_s:
        raise UsageError(
            f"--start-rate must lie between 1/s and {settings.ceiling_rate_per_s:,.0f}/s"
        )


def _is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host in _LOOPBACK_HOSTS


def _machine_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
