"""A rough request rate for a plan, so `scenarios show` can say what load a stage offers.

Closed model: each user loops over journeys picked by weight; one iteration sends the
journey's requests and pauses for its think times, so a user offers
E[requests] / E[iteration time] requests per second. Open model: each arrival runs one
journey, so the rate is arrivals × E[requests]. Response times are assumed to be
`ASSUMED_LATENCY_S` each: an estimate of offered load, not a prediction of the result.
"""

from __future__ import annotations

from harness.plan import BUILTIN_JOURNEYS, JourneyPlan, RunPlan, StagePlan

ASSUMED_LATENCY_S = 0.05
"""Response time assumed per request in the estimate."""


def requests_per_iteration(journey: JourneyPlan) -> float:
    """Average requests one iteration of the journey sends (1 for a locustfile task)."""
    if journey.kind == "flow":
        return float(len(journey.steps))
    if journey.kind == "builtin":
        return BUILTIN_JOURNEYS[journey.builtin or journey.name].requests_per_iteration
    return 1.0


def iteration_time_s(journey: JourneyPlan) -> float:
    """Mean time of one iteration: requests, pauses after steps, pause between iterations."""
    pauses = sum((step.think_time_min_s + step.think_time_max_s) / 2 for step in journey.steps)
    think = (journey.think_time_min_s + journey.think_time_max_s) / 2
    return requests_per_iteration(journey) * ASSUMED_LATENCY_S + pauses + think


def requests_of(journey: JourneyPlan, operation: str) -> float:
    """Average requests of `operation` ("*": every request) one iteration of the journey sends."""
    total = requests_per_iteration(journey)
    if operation == "*":
        return total
    if journey.kind == "flow":
        return float(sum(step.operation == operation for step in journey.steps))
    if journey.kind == "builtin":
        steps = BUILTIN_JOURNEYS[journey.builtin or journey.name].steps
        # repeated steps (browse opens several product pages) share the journey's average
        return total * steps.count(operation) / len(steps)
    return total if operation in journey.operations else 0.0


def estimated_rps(plan: RunPlan, stage: StagePlan, operation: str = "*") -> float:
    """Requests per second (of one operation, or "*" for all) the plan offers at the end of
    `stage`."""
    total_weight = sum(journey.weight for journey in plan.journeys)
    if total_weight <= 0:
        return 0.0
    mean_requests = sum(j.weight * requests_of(j, operation) for j in plan.journeys) / total_weight
    if plan.model == "open":
        return (stage.rate_end_per_s or 0.0) * mean_requests
    mean_time_s = sum(j.weight * iteration_time_s(j) for j in plan.journeys) / total_weight
    return (stage.users_end or 0) * mean_requests / mean_time_s if mean_time_s > 0 else 0.0
