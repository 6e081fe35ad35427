"""The largest load a plan may ask for, checked before anything starts.

A typo such as `users: 10000000000` must be a usage error naming the file and the bound, not
a generator that stalls computing its schedule. The bounds sit well above what one machine
can drive (a few thousand users or arrivals per second per core) so that a legitimate
distributed run is never refused, and far below what stalls the planner or the engine.
"""

from __future__ import annotations

from harness.plan import RunPlan

MAX_USERS = 1_000_000
"""Concurrent users of a closed-model stage. Locust's largest distributed tests hold a few
hundred thousand users over dozens of workers; a million leaves room above that."""
MAX_RATE_PER_S = 1_000_000.0
"""Journey arrivals per second of an open-model stage: a fleet of hundreds of workers at a
few thousand each. Every arrival is scheduled one by one, so a typo of 10^10/s would stall."""
MAX_SPAWN_RATE_PER_S = float(MAX_USERS)
"""Users started per second: starting more than the largest stage holds in one second never
changes the ramp."""
MAX_DURATION_S = 7 * 24 * 3600.0
"""A whole run (and so any stage): a week-long soak is the longest endurance test in common
use; a longer one is better run as consecutive runs that each get a verdict."""
MAX_THINK_TIME_S = 3600.0
"""One pause between requests or iterations: an hour-long pause is a session break, not
think time; a journey that waits longer is a different stage."""
MAX_REQUEST_TIMEOUT_S = 3600.0
"""A request slower than an hour is not a response time any objective judges."""
MAX_CONCURRENCY = 1_000_000
"""Open model: journeys in flight, like `MAX_USERS`."""


def plan_limit_problems(plan: RunPlan) -> list[str]:
    """Every number of `plan` above its bound, as `what is N; at most BOUND` sentences."""
    problems: list[str] = []
    for stage in plan.stages:
        named = f"stage {stage.name!r}"
        users = max(stage.users_start or 0, stage.users_end or 0)
        if users > MAX_USERS:
            problems.append(f"{named} has {users:,} users; a plan has at most {MAX_USERS:,}")
        rate = max(stage.rate_start_per_s or 0.0, stage.rate_end_per_s or 0.0)
        if rate > MAX_RATE_PER_S:
            problems.append(
                f"{named} has {rate:,.6g} arrivals/s; a plan has at most {MAX_RATE_PER_S:,.0f}/s"
            )
        spawn = stage.spawn_rate_per_s
        if spawn is not None and spawn > MAX_SPAWN_RATE_PER_S:
            problems.append(
                f"{named} starts {spawn:,.6g} users/s; at most {MAX_SPAWN_RATE_PER_S:,.0f}/s"
            )
    if plan.duration_s > MAX_DURATION_S:
        problems.append(
            f"the run lasts {plan.duration_s:,.0f} s; a plan lasts at most "
            f"{MAX_DURATION_S:,.0f} s (7 days)"
        )
    for journey in plan.journeys:
        pauses = [journey.think_time_max_s, *(step.think_time_max_s for step in journey.steps)]
        if max(pauses) > MAX_THINK_TIME_S:
            problems.append(
                f"journey {journey.name!r} thinks {max(pauses):,.0f} s; a think time is at most "
                f"{MAX_THINK_TIME_S:,.0f} s (1 hour)"
            )
    if plan.model == "open" and plan.max_concurrency > MAX_CONCURRENCY:
        problems.append(f"max_concurrency is {plan.max_concurrency:,}; at most {MAX_CONCURRENCY:,}")
    if plan.request_timeout_s > MAX_REQUEST_TIMEOUT_S:
        problems.append(
            f"the request timeout is {plan.request_timeout_s:,.0f} s; at most "
            f"{MAX_REQUEST_TIMEOUT_S:,.0f} s (1 hour)"
        )
    return problems
