"""Capacity: the highest sustained arrival rate one instance of the target takes with every
latency and error objective holding (its knee), found by a search over steps of load.

Public names:

    find_knee(plan, probe) -> Knee   climb in coarse steps, then bisect around the knee
    SearchPlan                       where the search starts, its ceiling, growth and precision
    Knee                             the knee: the highest rate that held, the lowest that broke
    KneeBound                        what bounds the answer (found, generator, ceiling, floor, steps)
    measure_capacity(request, console)   `perfctl capacity`: search (and the scaled search),
                                     judge the throughput objectives, write capacity.json
    CapacityRequest                  everything `perfctl capacity` was asked for
    SettingsOverride                 search settings given on the command line
    measure_scaling(searches, cores) the scaling efficiency between two searches
    step_plan(base, rate, hold, warmup)   an open-model plan held at one arrival rate
    judge_step(rate, verdict) -> CapacityStep   a step's verdict read as held, broken or short
"""

from harness.capacity._measure import CapacityRequest, SettingsOverride, measure_capacity
from harness.capacity._scaling import measure_scaling
from harness.capacity._search import Knee, KneeBound, SearchPlan, find_knee
from harness.capacity._step import judge_step, step_plan

__all__ = [
    "CapacityRequest",
    "Knee",
    "KneeBound",
    "SearchPlan",
    "SettingsOverride",
    "find_knee",
    "judge_step",
    "measure_capacity",
    "measure_scaling",
    "step_plan",
]
