"""A capacity estimate from one run's CPU: instances each component would need for its target,
peak and burst throughput, against the seed's scaling parameters, by extrapolating CPU
linearly. Informational: the measured answer is a capacity search's knee
(`perfctl capacity`, harness/verdict/_capacity_checks.py), which judges the objectives.

One instance is the target as it ran. At the scaling row's target CPU it sustains

    sustainable_rps = measured_rps / measured_cpu_ratio × target_cpu

of a component's operation (the run's request mix assumed: every instance serves the mix the
run sent), so the component needs ceil(rps / sustainable_rps) instances for each figure, and
cannot meet its burst when that exceeds the row's max_instances. Informational: it never
changes the verdict's status.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from harness.spec import Component

MIN_CPU_RATIO = 0.01
"""Below this the CPU measurement is too small to extrapolate from."""


@dataclass(frozen=True, slots=True)
class ComponentCapacity:
    """One component's need against its scaling row."""

    name: str
    """Component key in the SLA."""
    title: str
    """Its label."""
    operation: str
    """Operation it serves ("*": every request)."""
    runs_on: str | None
    """Scaling row (its title when given)."""
    target_cpu: float | None
    """CPU ratio the row scales at."""
    measured_rps: float
    """Throughput of the operation in the run (after warm-up)."""
    rps_per_instance: float | None
    """Sustainable throughput of one instance at target CPU; None when it cannot be told."""
    target_rps: float | None
    """The component's sustained throughput (the seed's figure, never scaled)."""
    peak_rps: float | None
    """Its peak throughput."""
    burst_rps: float | None
    """Its burst capacity."""
    instances_target: int | None
    """Instances needed for target_rps at target CPU."""
    instances_peak: int | None
    """Instances needed for peak_rps."""
    instances_burst: int | None
    """Instances needed for burst_rps."""
    min_instances: int | None
    """The scaling row's floor."""
    max_instances: int | None
    """The scaling row's ceiling."""
    meets_burst: bool | None
    """Burst within max_instances; None when unknown."""
    note: str = ""
    """Why a figure is missing."""


def instances_needed(rps: float | None, rps_per_instance: float | None) -> int | None:
    """Instances that serve `rps` at `rps_per_instance` each (at least one)."""
    if rps is None or not rps_per_instance or rps_per_instance <= 0:
        return None
    return max(1, math.ceil(round(rps / rps_per_instance, 9)))


def sustainable_rps(measured_rps: float, cpu_ratio: float, target_cpu: float) -> float | None:
    """Throughput of one instance at `target_cpu`, from a run at `cpu_ratio`; None when the
    CPU is too low to extrapolate from."""
    if cpu_ratio < MIN_CPU_RATIO or measured_rps <= 0:
        return None
    return measured_rps / cpu_ratio * target_cpu


def component_capacity(
    component: Component, measured_rps: float, cpu_ratio: float | None
) -> ComponentCapacity:
    """The plan of one component from the run's throughput of its operation and server CPU."""
    scaling = component.scaling
    target_cpu = float(scaling.target_cpu) if scaling is not None else None
    note = ""
    per_instance = None
    if cpu_ratio is None:
        note = "no server CPU was measured"
    elif target_cpu is None:
        note = "no scaling row (runs_on) gives a target CPU"
    elif measured_rps <= 0:
        note = "the run did not exercise its operation"
    else:
        per_instance = sustainable_rps(measured_rps, cpu_ratio, target_cpu)
        if per_instance is None:
            note = f"server CPU {cpu_ratio:.1%} is too low to extrapolate from"
    burst = instances_needed(component.burst_rps, per_instance)
    max_instances = scaling.max_instances if scaling is not None else None
    return ComponentCapacity(
        name=component.name,
        title=component.title,
        operation=component.operation,
        runs_on=(scaling.title or None) if scaling is not None else None,
        target_cpu=target_cpu,
        measured_rps=measured_rps,
        rps_per_instance=per_instance,
        target_rps=component.target_rps,
        peak_rps=component.peak_rps,
        burst_rps=component.burst_rps,
        instances_target=instances_needed(component.target_rps, per_instance),
        instances_peak=instances_needed(component.peak_rps, per_instance),
        instances_burst=burst,
        min_instances=scaling.min_instances if scaling is not None else None,
        max_instances=max_instances,
        meets_burst=(burst <= max_instances)
        if burst is not None and max_instances is not None
        else None,
        note=note,
    )


def plan_capacity(
    components: Sequence[Component],
    rps_of: Callable[[str], float],
    cpu_ratio: float | None,
    basis: dict[str, Any],
) -> dict[str, Any] | None:
    """The capacity plan as verdict.json holds it; None when the SLA has no components.

    `rps_of(operation)` is the run's throughput of an operation ("*": every request).
    """
    if not components:
        return None
    rows = [component_capacity(item, rps_of(item.operation), cpu_ratio) for item in components]
    return {
        "basis": {**basis, "cpu_ratio": cpu_ratio},
        "components": [asdict(row) for row in rows],
        "cannot_meet_burst": [row.name for row in rows if row.meets_burst is False],
    }


def print_capacity(capacity: dict[str, Any] | None, console: Console) -> None:
    """The capacity plan as a table at the terminal: instances for target / peak / burst."""
    if not capacity:
        return
    cpu = capacity["basis"].get("cpu_ratio")
    title = (
        f"Capacity estimate from this run's CPU (informational; the instance at {cpu:.1%} CPU)"
        if cpu is not None
        else "Capacity estimate from this run's CPU (informational; no server CPU measured)"
    )
    table = Table(
        title=title,
        title_justify="left",
        caption="instances: needed for the target/peak/burst throughput at the row's target CPU",
        caption_justify="left",
    )
    table.add_column("component", no_wrap=True)
    table.add_column("rps/instance", justify="right", no_wrap=True)
    table.add_column("instances", justify="right", no_wrap=True)
    table.add_column("max", justify="right", no_wrap=True)
    table.add_column("burst")
    for row in capacity["components"]:
        needed = "/".join(
            _count(row[f"instances_{kind}"], row[f"{kind}_rps"])
            for kind in ("target", "peak", "burst")
        )
        if row["meets_burst"] is False:
            verdict = Text("over max", style="bold red")
        elif row["meets_burst"]:
            verdict = Text("ok", style="green")
        else:
            verdict = Text(row["note"], style="dim")
        table.add_row(
            row["name"],
            f"{row['rps_per_instance']:,.1f}" if row["rps_per_instance"] else "—",
            needed,
            str(row["max_instances"] or "—"),
            verdict,
        )
    console.print(table)
    short = capacity["cannot_meet_burst"]
    if short:
        console.print(f"  cannot meet burst within their max instances: {', '.join(short)}")


def _count(instances: int | None, rps: float | None) -> str:
    if rps is None:
        return "—"
    return str(instances) if instances is not None else "?"
