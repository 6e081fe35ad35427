"""`perfctl capacity`: the knee of one instance of the target, searched for by steps of load,
written as `capacity.json` in a capacity directory beside the runs.

How finely the search refines depends on the profile: `ci` finishes in about three minutes on
a 2-core machine with a knee known to about ±15 %; `full` (and any other profile) refines to
±5 % with steps long enough for one-minute windows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.capacity._probe import StepRunner
from harness.capacity._search import Knee, SearchPlan, find_knee
from harness.errors import UsageError
from harness.run import BackendOptions, EmbeddedBackend
from harness.rundir import create_run_dir, make_run_id, utc_now, write_json_atomically
from harness.spec import default_sla_path, plan_run

CAPACITY_FILE = "capacity.json"
CAPACITY_SCHEMA = 1


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
class CapacityRequest:
    """Everything `perfctl capacity` was asked for."""

    scenario: str = "capacity"
    """An open-model scenario whose journey mix every step offers."""
    profile: str | None = None
    """Profile; it picks the search's settings (see SETTINGS_BY_PROFILE)."""
    target: str | None = None
    """Target URL; None starts the embedded reference backend once for every step."""
    sla: Path | None = None
    """SLA file; None is ./sla.yaml."""
    out_dir: Path = Path("reports")
    """Parent of the capacity directory."""


def measure_capacity(request: CapacityRequest, console: Console) -> tuple[Path, Knee]:
    """Search for the knee, write `capacity.json`, and return its directory and the knee."""
    base = plan_run(request.scenario, profile=request.profile)
    # the profile picks the search's settings; the concurrency cap stays the scenario's own
    max_concurrency = plan_run(request.scenario).max_concurrency
    if base.model != "open":
        raise UsageError(f"capacity needs an open-model scenario; {base.scenario} is closed")
    sla_path = request.sla if request.sla is not None else default_sla_path()
    if sla_path is None or not sla_path.is_file():
        raise UsageError(f"SLA file {sla_path or 'sla.yaml'} does not exist")
    settings = SETTINGS_BY_PROFILE.get(base.profile, THOROUGH)
    stem = base.scenario if base.scenario == "capacity" else f"{base.scenario}-capacity"
    capacity_dir = create_run_dir(request.out_dir, make_run_id(stem, utc_now()))
    console.print(
        f"capacity of {request.target or 'the embedded reference backend'}: {capacity_dir}"
    )
    with EmbeddedBackend(capacity_dir / "logs" / "backend.log", BackendOptions()) as backend:
        target_url = request.target if request.target is not None else backend.start()
        runner = StepRunner(
            base=base,
            target_url=target_url,
            sla_path=sla_path,
            capacity_dir=capacity_dir,
            hold_s=settings.hold_s,
            warmup_s=settings.warmup_s,
            max_concurrency=max_concurrency,
            console=console,
        )
        knee = find_knee(settings.search_plan(), runner)
    write_json_atomically(
        capacity_dir / CAPACITY_FILE,
        capacity_record(request, base.profile, settings, target_url, sla_path, knee),
    )
    return capacity_dir, knee


def capacity_record(
    request: CapacityRequest,
    profile: str,
    settings: SearchSettings,
    target_url: str,
    sla_path: Path,
    knee: Knee,
) -> dict[str, Any]:
    """What `capacity.json` holds."""
    from harness.redaction import redact_url

    knee_step = knee.knee_step
    return {
        "schema": CAPACITY_SCHEMA,
        "scenario": request.scenario,
        "profile": profile,
        "target": redact_url(target_url) if request.target is not None else "embedded",
        "sla": str(sla_path),
        "settings": asdict(settings),
        "knee": {
            "bound": knee.bound.value,
            "held_rate_per_s": knee.held_rate_per_s,
            "broke_rate_per_s": knee.broke_rate_per_s,
            "relative_half_width": knee.relative_half_width,
            "limiting_objective": knee.limiting_objective,
            "achieved_rps": knee_step.achieved_rps if knee_step else None,
            "cpu_ratio": knee_step.cpu_ratio if knee_step else None,
            "memory_ratio": knee_step.memory_ratio if knee_step else None,
            "summary": knee.describe(),
        },
        "steps": [asdict(step) for step in knee.steps],
    }
