"""Scaling efficiency: how much of N instances' ideal capacity the target really gets.

    raw efficiency = knee_N / (N × knee_1)            (requests per second at each knee)

On a machine the load generator shares with the target, the generator's own CPU grows with
the rate, so the N instances had fewer cores than N while the single instance had a whole
one: the raw figure then measures the machine, not the target. The generator's CPU is
measured at every step (cores its Locust processes used), so the cores left to the target
at each knee are known:

    cores_I = min(I, machine cores - generator cores at the knee of the search on I instances)
    efficiency = (knee_N / cores_N) / (knee_1 / cores_1)      (throughput per available core)

This per-core efficiency is what extrapolates to a platform whose instances each have their
own cores. With the target elsewhere (not on loopback) the raw figure is the efficiency.
Amdahl's law, C(n) = n / (1 + sigma (n - 1)), fitted to the efficiency at N, extrapolates it
(harness/verdict/_capacity_checks.py); without a second search, linear scaling is assumed and
the record says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.rundir import CapacitySearch, Scaling

MIN_TARGET_CORES = 0.1
"""Below this the cores left to the target are too few to divide by."""
LAW = "amdahl"


def sigma_for(efficiency: float, instances: int) -> float:
    """Amdahl's serial fraction giving `efficiency` at `instances` (0 for 1 or more)."""
    if instances <= 1 or efficiency >= 1:
        return 0.0
    return (1 / efficiency - 1) / (instances - 1)


def assumed(note: str, instances: int = 1) -> Scaling:
    """Linear scaling, not measured, and why (`instances`: of the second search, if it ran)."""
    return Scaling(
        measured=False, instances=instances, efficiency=1.0, law=LAW, sigma=0.0, note=note
    )


def measure_scaling(searches: Sequence[CapacitySearch], shared_cores: int | None) -> Scaling:
    """The efficiency between the one-instance search and the N-instance one, if it ran.

    `shared_cores`: the machine's cores when the generator shares them with the target (a
    loopback target), else None."""
    if len(searches) < 2:
        return assumed("linear scaling assumed: no search on more than one instance ran")
    one, many = searches[0], searches[1]
    count = many.instances
    single, scaled = one.knee_step, many.knee_step
    if one.knee.is_lower_bound:
        return assumed(
            "linear scaling assumed: the one-instance knee is only a lower bound "
            f"({one.knee.summary}), so no efficiency can be measured from it",
            count,
        )
    if single is None or scaled is None or not single.achieved_rps or not scaled.achieved_rps:
        return assumed("linear scaling assumed: a search found no rate that held", count)
    raw = scaled.achieved_rps / (count * single.achieved_rps)
    lower = " (at least: the scaled knee is a lower bound)" if many.knee.is_lower_bound else ""
    if shared_cores is None:
        return Scaling(
            measured=True,
            instances=count,
            efficiency=raw,
            law=LAW,
            sigma=sigma_for(raw, count),
            raw_efficiency=raw,
            note=f"measured: {raw:.0%} at {count} instances{lower}; the generator runs elsewhere",
        )
    cores_one = _target_cores(1, shared_cores, single.generator_cpu_cores)
    cores_many = _target_cores(count, shared_cores, scaled.generator_cpu_cores)
    efficiency = (scaled.achieved_rps / cores_many) / (single.achieved_rps / cores_one)
    generator = scaled.generator_cpu_cores or 0.0
    per_request_s = scaled.generator_cpu_s_per_request
    per_request = f", {per_request_s * 1000:.2f} ms per request" if per_request_s else ""
    return Scaling(
        measured=True,
        instances=count,
        efficiency=efficiency,
        law=LAW,
        sigma=sigma_for(efficiency, count),
        raw_efficiency=raw,
        target_cores={"1": cores_one, str(count): cores_many},
        note=(
            f"measured: {efficiency:.0%} per available core at {count} instances{lower} "
            f"(raw {raw:.0%}); the generator shared the machine's {shared_cores} cores and "
            f"used {generator:.2f} of them at the {count}-instance knee{per_request}, leaving "
            f"{cores_many:.2f} to the target"
        ),
    )


def _target_cores(instances: int, machine_cores: int, generator_cores: float | None) -> float:
    left = machine_cores - (generator_cores or 0.0)
    return max(MIN_TARGET_CORES, min(float(instances), left))
