"""The Locust users perfctl runs: closed-model journey users, the open-model arrival driver,
and a team's locustfile users."""

from __future__ import annotations

import importlib.util
import inspect
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.lock import Semaphore
from gevent.pool import Pool
from locust import User, constant, task
from locust.contrib.fasthttp import FastHttpSession, FastHttpUser

from harness.engine.flow import run_flow
from harness.engine.iteration import Iteration
from harness.engine.journeys import BUILTIN_JOURNEYS, DEFAULT_CATALOG_SIZE
from harness.engine.runtime import RUNTIME
from harness.engine.schedule import arrival_offsets
from harness.plan import JourneyPlan, RunPlan

REPLACEMENT_AFTER_S = 3.0
"""A driver created this long after offset 0 is a replacement for a lost worker's driver."""
BEHIND_YIELD_EVERY = 32
"""When the scheduler is late it still yields to the journeys every this many arrivals."""


def run_iteration(
    journey: JourneyPlan,
    client: FastHttpSession,
    rng: random.Random,
    *,
    intended_start: float | None = None,
    connections: Semaphore | None = None,
) -> None:
    """One iteration of a built-in or flow journey; multi-step ones are timed as a whole."""
    plan = RUNTIME.plan
    assert plan is not None
    it = Iteration(
        journey.name,
        client,
        RUNTIME.recorder,
        rng,
        intended_start=intended_start,
        connections=connections,
    )
    if journey.kind == "builtin":
        BUILTIN_JOURNEYS[journey.name](it, plan.catalog_size or DEFAULT_CATALOG_SIZE)
        multi_step = journey.name not in (
            "recommendations",
            "support",
            "inventory",
            "pricing",
            "payment",
        )
    else:
        run_flow(journey, it)
        multi_step = len(journey.steps) > 1
    if multi_step:
        it.finish()


def _think(journey: JourneyPlan, rng: random.Random) -> None:
    low = journey.think_time_min_s
    high = max(journey.think_time_max_s, low)
    if high > 0:
        gevent.sleep(rng.uniform(low, high))


class JourneyUser(FastHttpUser):
    """Closed model: a user that runs weighted journeys one after another, with think time."""

    wait_time = constant(0)
    concurrency = 1

    def __init__(self, environment: Any) -> None:
        plan = RUNTIME.plan
        if plan is not None:
            self.network_timeout = self.connection_timeout = plan.request_timeout_s
        super().__init__(environment)
        self.rng = random.Random()

    @task
    def iterate(self) -> None:
        RUNTIME.wait_ready()
        journey = RUNTIME.pick_journey(self.rng)
        run_iteration(journey, self.client, self.rng)
        _think(journey, self.rng)


class ArrivalDriver(FastHttpUser):
    """Open model: schedules this process's share of the arrivals, independently of
    response times, each starting a journey iteration in a pool of capped size."""

    wait_time = constant(0)

    def __init__(self, environment: Any) -> None:
        plan, _ = RUNTIME.wait_ready()
        drivers = RUNTIME.drivers
        self.slots = max(math.ceil(plan.max_concurrency / drivers), 1)
        connections = plan.connections
        self.connection_slots = max(math.ceil(connections / drivers), 1) if connections else None
        self.concurrency = self.connection_slots or self.slots
        self.network_timeout = self.connection_timeout = plan.request_timeout_s
        super().__init__(environment)
        self.rng = random.Random()
        self.finished = False

    @task
    def drive(self) -> None:
        if self.finished:
            gevent.sleep(3600)
            return
        plan, epoch = RUNTIME.wait_ready()
        pool = Pool(self.slots)
        connections = Semaphore(self.connection_slots) if self.connection_slots else None
        RUNTIME.drivers_started += 1
        RUNTIME.drivers_running += 1
        try:
            self._schedule(plan, epoch, pool, connections)
            pool.join(timeout=plan.request_timeout_s + 1.0)
        finally:
            pool.kill(block=False)
            self.finished = True
            RUNTIME.drivers_running -= 1
            if RUNTIME.drivers_done():
                RUNTIME.drained.add("local")

    def _schedule(
        self, plan: RunPlan, epoch: float, pool: Pool, connections: Semaphore | None
    ) -> None:
        recorder = RUNTIME.recorder
        index = self.environment.runner.worker_index if self.environment.runner else 0
        drivers = RUNTIME.drivers
        late = 0
        # a driver started well after the run began replaces one on a lost worker: it takes
        # over the arrivals from now on (the past ones were that worker's)
        joined_at = time.time()
        replacement = joined_at - epoch > REPLACEMENT_AFTER_S
        for offset in arrival_offsets(
            plan, plan.arrivals, 1.0 / drivers, (max(index, 0) % drivers) / drivers, self.rng
        ):
            intended = epoch + offset
            if replacement and intended < joined_at:
                continue
            delay = intended - time.time()
            if delay > 0:
                gevent.sleep(delay)
                late = 0
            else:
                late += 1
                if late % BEHIND_YIELD_EVERY == 0:
                    gevent.sleep(0)
            recorder.count_arrival(intended, planned=1)
            if pool.full():
                recorder.count_arrival(intended, dropped=1)
                continue
            recorder.count_arrival(time.time(), started=1)
            journey = RUNTIME.pick_journey(self.rng)
            pool.spawn(
                run_iteration,
                journey,
                self.client,
                self.rng,
                intended_start=intended,
                connections=connections,
            )


def load_team_users(path: str) -> list[type[User]]:
    """The concrete User classes of a team's locustfile (imported under a private name)."""
    source = Path(path)
    if not source.is_file():
        raise SystemExit(f"perfctl engine: locustfile {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"perfctl_team_{source.stem}", source)
    if spec is None or spec.loader is None:
        raise SystemExit(f"perfctl engine: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, User)
        and not getattr(value, "abstract", True)
        and value.__module__ == module.__name__
    ]
    if not found:
        raise SystemExit(f"perfctl engine: {path} defines no User class")
    return found
