"""The Locust users perfctl runs: closed-model journey users and the open-model arrival driver
(which starts a team's locustfile users too, see `team_users`)."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import gevent
from gevent import GreenletExit
from gevent.lock import Semaphore
from gevent.pool import Pool
from locust import task
from locust.contrib.fasthttp import FastHttpSession, FastHttpUser
from locust.runners import WorkerRunner

from harness.engine._drops import drop_cause, first_operation
from harness.engine._feeders import HeldRows
from harness.engine._iteration import Iteration, Slots
from harness.engine._journeys import DEFAULT_CATALOG_SIZE, JOURNEY_FUNCTIONS, builtin_key
from harness.engine._runtime import LOCAL_SOURCE, RUNTIME
from harness.engine._schedule import arrival_offsets
from harness.engine._session import UserState, arrival_session, run_flow_session, stop_user
from harness.engine._team_users import run_team_arrival
from harness.plan import BUILTIN_JOURNEYS, JourneyPlan, RunPlan

REPLACEMENT_AFTER_S = 3.0
"""A driver created this long after offset 0 is a replacement for a lost worker's driver."""
BEHIND_YIELD_EVERY = 32
"""When the scheduler is late it still yields to the journeys every this many arrivals."""
KILL_WAIT_S = 5.0
"""After the graceful stop, at most this long is spent waiting for the cut-off journeys to
record what they had in flight."""
NO_DATA_PAUSE_S = 1.0
"""A closed-model user whose every journey's data ran out waits this long between picks."""


def draw_data(
    journey: JourneyPlan, rng: random.Random, environment: Any, held: HeldRows | None = None
) -> dict[str, Any] | None:
    """The variables the journey's data sources give this iteration ({} without sources);
    None when a source has run out and stops. The first draw reads the files, taking this
    worker's share of each unique source (`_feeders`)."""
    if not journey.data:
        return {}
    feeders = RUNTIME.feeders
    if not feeders.loaded:
        plan = RUNTIME.plan
        assert plan is not None
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            index = runner.worker_index
            feeders.load(plan, index, RUNTIME.drivers, f"worker-{index + 1}")
        else:
            feeders.load(plan, 0, 1, LOCAL_SOURCE)
    return feeders.draw(journey, rng, held)


def with_data(
    journey: JourneyPlan, rng: random.Random, environment: Any, held: HeldRows | None = None
) -> tuple[JourneyPlan, dict[str, Any]] | None:
    """The journey to run and its data: `journey` itself, or, when its data has run out
    (`on_exhausted: stop`), another journey of the mix drawn by weight among those whose data
    has not; None when every journey of the mix has stopped."""
    plan = RUNTIME.plan
    assert plan is not None
    for _ in range(len(plan.journeys) + 1):
        data = draw_data(journey, rng, environment, held)
        if data is not None:
            return journey, data
        stopped = RUNTIME.feeders.stopped
        rest = [j for j in plan.journeys if j.kind != "locustfile" and j.name not in stopped]
        if not rest:
            return None
        journey = rng.choices(rest, [max(j.weight, 1e-9) for j in rest])[0]
    return None


def run_iteration(
    journey: JourneyPlan,
    client: FastHttpSession,
    rng: random.Random,
    *,
    intended_start: float | None = None,
    connections: Semaphore | None = None,
    slots: Slots | None = None,
    data: dict[str, Any] | None = None,
    user: UserState | None = None,
) -> None:
    """One iteration of a built-in or flow journey; multi-step ones are timed as a whole.
    Cut off by the end of the graceful stop, it records what it had in flight. `data`: the
    variables its data sources gave it (`draw_data`). `user`: the closed-model user's state
    (None: an open-model arrival, a new visitor, see `_session`)."""
    plan = RUNTIME.plan
    assert plan is not None
    it = Iteration(
        journey.name,
        client,
        RUNTIME.recorder,
        rng,
        intended_start=intended_start,
        connections=connections,
        slots=slots,
        data=data,
        user=user.builtin if user is not None else None,
    )
    if journey.kind == "builtin":
        multi_step = BUILTIN_JOURNEYS[builtin_key(journey)].multi_step
    else:
        multi_step = journey.flow_requests(plan.model) > 1
    try:
        if journey.kind == "builtin":
            function = JOURNEY_FUNCTIONS[builtin_key(journey)]
            function(it, plan.catalog_size or DEFAULT_CATALOG_SIZE)
        else:
            run_flow_session(journey, it, user.scope(journey) if user is not None else None)
    except GreenletExit:
        if multi_step:
            it.interrupt()
        raise
    if multi_step:
        it.finish()


def _think_s(journey: JourneyPlan, rng: random.Random) -> float:
    low = journey.think_time_min_s
    high = max(journey.think_time_max_s, low)
    return rng.uniform(low, high) if high > 0 else 0.0


class JourneyUser(FastHttpUser):
    """Closed model: a user that runs weighted journeys one after another, with think time.

    The think time is Locust's wait between tasks, so a user stopped while thinking stops
    at once, and a user stopped in an iteration finishes it (within the graceful stop)."""

    concurrency = 1

    def __init__(self, environment: Any) -> None:
        plan = RUNTIME.plan
        if plan is not None:
            self.network_timeout = self.connection_timeout = plan.request_timeout_s
        super().__init__(environment)
        self.rng = random.Random()
        self._think_s = 0.0
        self.held_rows: HeldRows = {}
        """This user's rows of `scope: user` data sources."""
        self.state = UserState()
        """This user's logins and flow variables (`_session`)."""

    def wait_time(self) -> float:
        """The think time after the journey just run."""
        return self._think_s

    @task
    def iterate(self) -> None:
        RUNTIME.wait_ready()
        journey = RUNTIME.pick_journey(self.rng)
        self._think_s = 0.0
        chosen = with_data(journey, self.rng, self.environment, self.held_rows)
        if chosen is None:
            # every journey's data ran out (on_exhausted: stop): no iteration, no request
            self._think_s = NO_DATA_PAUSE_S
            return
        journey, data = chosen
        run_iteration(journey, self.client, self.rng, data=data, user=self.state)
        self._think_s = _think_s(journey, self.rng)

    def on_stop(self) -> None:
        """Runs the on_stop steps (a logout) of the flow journeys this user started."""
        plan = RUNTIME.plan
        if plan is not None and self.state.flows:
            it = Iteration("on_stop", self.client, RUNTIME.recorder, self.rng)
            stop_user(self.state, plan.journeys, it)


class ArrivalDriver(FastHttpUser):
    """Open model: schedules this process's share of the arrivals, independently of
    response times, each starting a journey iteration in a pool of capped size.

    After the last arrival the journeys in flight get the plan's graceful stop to finish;
    the ones still running are then stopped and record what they had in flight."""

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

    def wait_time(self) -> float:
        """A finished driver waits (so Locust stops it at once); a new one starts now."""
        return 3600.0 if self.finished else 0.0

    @task
    def drive(self) -> None:
        if self.finished:
            return
        plan, epoch = RUNTIME.wait_ready()
        pool = Pool(self.slots)
        connections = Semaphore(self.connection_slots) if self.connection_slots else None
        slots = Slots()
        RUNTIME.drivers_started += 1
        RUNTIME.drivers_running += 1
        try:
            self._schedule(plan, epoch, pool, connections, slots)
            pool.join(timeout=plan.graceful_stop_s)
        finally:
            # stopped here (graceful stop over, or the run aborted): the journeys still in
            # flight record their requests as interrupted before the driver reports done
            pool.kill(block=True, timeout=KILL_WAIT_S)
            self.finished = True
            RUNTIME.drivers_running -= 1
            if RUNTIME.drivers_done():
                RUNTIME.drained.add(LOCAL_SOURCE)

    def _schedule(
        self,
        plan: RunPlan,
        epoch: float,
        pool: Pool,
        connections: Semaphore | None,
        slots: Slots,
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
            journey = RUNTIME.pick_journey(self.rng, with_locustfile=True)
            if pool.full():
                self._drop(journey, intended, len(pool), slots)
                continue
            recorder.count_arrival(time.time(), started=1)
            if journey.kind == "locustfile":
                # a fresh user of the team's locustfile: on_start, one task, on_stop
                pool.spawn(
                    run_team_arrival,
                    journey,
                    self.environment,
                    self.rng,
                    intended_start=intended,
                    slots=slots,
                )
                continue
            # every arrival is a new user: user-scoped rows are drawn per arrival too
            chosen = with_data(journey, self.rng, self.environment)
            if chosen is None:
                continue  # every journey's data ran out (on_exhausted: stop): nothing to do
            journey, data = chosen
            pool.spawn(
                run_iteration,
                journey,
                arrival_session(self),  # a new visitor: its own cookies, the shared pool
                self.rng,
                intended_start=intended,
                connections=connections,
                slots=slots,
                data=data,
            )

    def _drop(self, journey: JourneyPlan, intended: float, busy: int, slots: Slots) -> None:
        """Counts an arrival dropped because every slot is busy, by cause (`drop_cause`)."""
        recorder = RUNTIME.recorder
        late_s = max(time.time() - intended, 0.0)
        operation = first_operation(journey)
        if drop_cause(busy, slots.awaiting_response, late_s) == "target" and operation:
            recorder.count_arrival(intended, dropped=1, dropped_by_target=1)
            recorder.record(
                operation,
                "dropped",
                None,
                error=f"arrival dropped: all {busy} journey slots awaiting responses",
            )
        else:
            recorder.count_arrival(intended, dropped=1)
