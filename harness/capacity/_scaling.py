"""Scaling efficiency: how much of N instances' ideal capacity the target really gets.

    raw efficiency = knee_N / (N × knee_1)            (requests per second at each knee)

On a machine the load generator shares with the target, the generator's own CPU grows with
the rate, so the N instances had fewer cores than N while the single instance had a whole
one: the raw figure then measures the machine, not the target. The generator's CPU is
measured at every step (cores its Locust processes used), so the cores left to the target
at each knee are known:

    cores_I = min(I, machine cores - generator cores - other cores, at the knee with I)
    efficiency = (knee_N / cores_N) / (knee_1 / cores_1)      (throughput per available core)

Other cores are what the machine spent beside the target and the generator (a database or a
cache on the same machine, the system): its busy cores are sampled through the search
(harness/capacity/_machine.py). When the N-instance search broke with the machine's cores
all busy but its instances' own not, the machine set that knee: the efficiency is then a
lower bound (`efficiency_is_lower_bound`), and the verdict judges with it and with linear
scaling, inconclusive where the two disagree.

This per-core efficiency is what extrapolates to a platform whose instances each have their
own cores. With the target elsewhere (not on loopback) the raw figure is the efficiency.
Amdahl's law, C(n) = n / (1 + sigma (n - 1)), fitted to the efficiency at N, extrapolates it
(harness/verdict/_capacity_checks.py); without a second search, linear scaling is assumed and
the record says so. sigma is at most 1 (the whole work serial: no gain from more instances);
an efficiency below that (N instances delivered less than one) is judged as no gain, not
extrapolated downwards from one point.

Both searches offer the same doubling rates before refining, so the target's CPU time per
request can be compared at the highest rate both held: a rise there is coordination the
instances pay in CPU; none means the loss lies elsewhere (a lock, a shared database, the
machine's cores).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.rundir import CapacitySearch, CapacityStep, Scaling

MIN_TARGET_CORES = 0.1
"""Below this the cores left to the target are too few to divide by."""
SATURATED_SHARE = 0.9
"""Busy cores at or above this share of all of them: nothing left to give."""
MAX_SIGMA = 1.0
"""Amdahl's serial fraction when nothing parallelises: capacity flat in the instance count."""
MATCHED_RATE_TOLERANCE = 0.01
"""Two steps' offered rates within this fraction are the same rate."""
LAW = "amdahl"


def sigma_for(efficiency: float, instances: int) -> float:
    """Amdahl's serial fraction giving `efficiency` at `instances`: 0 for an efficiency of 1
    or more, at most MAX_SIGMA (an efficiency of 1/instances or less: no gain)."""
    if instances <= 1 or efficiency >= 1:
        return 0.0
    return min(MAX_SIGMA, (1 / efficiency - 1) / (instances - 1))


def cpu_cost_at_matched_rate(
    one: CapacitySearch, many: CapacitySearch
) -> tuple[float | None, dict[str, float]]:
    """The highest offered rate both searches held, and the target's CPU ms per request there
    ("1" and the instance count as keys); (None, {}) without such a rate or its CPU."""
    best: tuple[float, float, float] | None = None
    for single in one.steps:
        if not single.held or not single.achieved_rps or single.server_cpu_cores is None:
            continue
        for scaled in many.steps:
            if not scaled.held or not scaled.achieved_rps or scaled.server_cpu_cores is None:
                continue
            if abs(scaled.rate_per_s - single.rate_per_s) > MATCHED_RATE_TOLERANCE * (
                single.rate_per_s
            ):
                continue
            if best is None or single.rate_per_s > best[0]:
                best = (
                    single.rate_per_s,
                    single.server_cpu_cores / single.achieved_rps * 1000,
                    scaled.server_cpu_cores / scaled.achieved_rps * 1000,
                )
    if best is None:
        return None, {}
    rate, ms_one, ms_many = best
    return rate, {"1": ms_one, str(many.instances): ms_many}


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
    matched_rate, cpu_ms = cpu_cost_at_matched_rate(one, many)
    cost = _cost_text(matched_rate, cpu_ms, count)
    lower = " (at least: the scaled knee is a lower bound)" if many.knee.is_lower_bound else ""
    if shared_cores is None:
        return Scaling(
            measured=True,
            instances=count,
            efficiency=raw,
            law=LAW,
            sigma=sigma_for(raw, count),
            raw_efficiency=raw,
            matched_rate_per_s=matched_rate,
            server_cpu_ms_per_request=cpu_ms,
            note=(
                f"measured: {raw:.0%} at {count} instances{lower}; the generator runs "
                f"elsewhere{_no_gain_text(raw, count)}{cost}"
            ),
        )
    others = {"1": _other_cores(single), str(count): _other_cores(scaled)}
    cores_one = _target_cores(1, shared_cores, single, others["1"])
    cores_many = _target_cores(count, shared_cores, scaled, others[str(count)])
    efficiency = (scaled.achieved_rps / cores_many) / (single.achieved_rps / cores_one)
    generator = scaled.generator_cpu_cores or 0.0
    per_request_s = scaled.generator_cpu_s_per_request
    per_request = f", {per_request_s * 1000:.2f} ms per request" if per_request_s else ""
    other = others[str(count)]
    beside = f" and {other:.2f} went to other processes (a database, a cache, the system)"
    saturated = machine_ran_out(many, shared_cores)
    if saturated:
        lower = (
            f" (at least: when {saturated} broke, the machine's cores were all busy while the "
            f"{count} instances had not used theirs: the machine, not the target, set that knee)"
        )
    return Scaling(
        measured=True,
        instances=count,
        efficiency=efficiency,
        law=LAW,
        sigma=sigma_for(efficiency, count),
        raw_efficiency=raw,
        target_cores={"1": cores_one, str(count): cores_many},
        other_cpu_cores=others if any(others.values()) else {},
        efficiency_is_lower_bound=many.knee.is_lower_bound or bool(saturated),
        matched_rate_per_s=matched_rate,
        server_cpu_ms_per_request=cpu_ms,
        note=(
            f"measured: {efficiency:.0%} per available core at {count} instances{lower} "
            f"(raw {raw:.0%}); the generator shared the machine's {shared_cores} cores and "
            f"used {generator:.2f} of them at the {count}-instance knee{per_request}"
            f"{beside if other else ''}, leaving {cores_many:.2f} to the target"
            f"{_no_gain_text(efficiency, count)}{cost}"
        ),
    )


def machine_ran_out(search: CapacitySearch, machine_cores: int) -> str:
    """The step above the knee of `search` when the machine's cores were all busy there
    (SATURATED_SHARE or more) while the target's instances used less of theirs; "" else."""
    broke_rate = search.knee.broke_rate_per_s
    for step in search.steps:
        if step.held or broke_rate is None or step.rate_per_s != broke_rate:
            continue
        if step.machine_cpu_cores is None or step.server_cpu_cores is None:
            return ""
        machine_full = step.machine_cpu_cores >= SATURATED_SHARE * machine_cores
        target_full = step.server_cpu_cores >= SATURATED_SHARE * min(
            search.instances, machine_cores
        )
        return step.run_id if machine_full and not target_full else ""
    return ""


def _no_gain_text(efficiency: float, instances: int) -> str:
    if sigma_for(efficiency, instances) < MAX_SIGMA:
        return ""
    return (
        f"; {instances} instances gave no more than one, so capacity is judged as one "
        "instance's at any count"
    )


def _cost_text(matched_rate: float | None, cpu_ms: dict[str, float], instances: int) -> str:
    if matched_rate is None:
        return ""
    one, many = cpu_ms["1"], cpu_ms[str(instances)]
    change = many / one - 1 if one else 0.0
    return (
        f"; at {matched_rate:,.0f} arrivals/s, held by both, the target spent "
        f"{one:.2f} ms of CPU per request on 1 instance and {many:.2f} ms on {instances} "
        f"({change:+.0%})"
    )


def _other_cores(step: CapacityStep) -> float:
    """Cores the machine spent beside the target and the generator during `step`."""
    if step.machine_cpu_cores is None:
        return 0.0
    spent = (step.server_cpu_cores or 0.0) + (step.generator_cpu_cores or 0.0)
    return max(0.0, step.machine_cpu_cores - spent)


def _target_cores(
    instances: int, machine_cores: int, step: CapacityStep, other_cores: float
) -> float:
    left = machine_cores - (step.generator_cpu_cores or 0.0) - other_cores
    return max(MIN_TARGET_CORES, min(float(instances), left))
