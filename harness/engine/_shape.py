"""The LoadTestShape that drives Locust from the plan's stages and ends the test after them.

The graceful stop: once the last stage has ended, the closed model asks for zero users, so
Locust stops every user the way a ramp-down does (a user in its think time at once, a user
in an iteration when the iteration ends, at the latest after the plan's `graceful_stop_s`,
Locust's stop timeout, when it is stopped and records what it had in flight as
`interrupted`). The open model's drivers stop their own journeys the same way. The test ends
when every load-generating process says it has stopped its load and sent all it recorded,
or at the latest `STOP_MARGIN_S` after the graceful stop.
"""

from __future__ import annotations

import math
import time
from typing import Any

from locust import LoadTestShape, User
from locust.runners import MasterRunner

from harness.engine._runtime import EPOCH_OPTION, LOCAL_SOURCE, RUNTIME
from harness.engine._schedule import users_at
from harness.engine._team_shape import TeamShape

STOP_MARGIN_S = 5.0
"""The test ends at the latest this long after the graceful stop ended (time for the
processes to report their last windows)."""


class PlanShape(LoadTestShape):
    """Closed model: users ramp per stage. Open model: one arrival driver per load-generating
    process for the whole run (the drivers schedule the arrivals themselves)."""

    driver_class: type[User] | None = None
    """The open-model driver user class."""
    journey_class: type[User] | None = None
    """The closed-model journey user class."""
    team_classes: list[type[User]] = []  # noqa: RUF012 - set once by the locustfile
    """Closed model, when the plan runs a team's locustfile: its User classes (and the journey
    class when the plan mixes in other journeys), weighted (`team_users`)."""
    team_shape: TeamShape | None = None
    """The team's LoadTestShape, when it drives the users (the plan has no stages)."""
    on_stage: Any = None
    """Called with (stage name, unix start) when a new stage begins (master or local)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._stage: str | None = None
        self._end_s: float | None = None
        """Offset at which the team's shape ended the load, before the plan's end."""

    def reset_time(self) -> None:
        """Locust calls this when the test starts: offset 0 of the plan."""
        # offset 0 is the next whole second, so the plan's seconds are the timeline's windows
        super().reset_time()  # type: ignore[no-untyped-call]
        now = time.time()
        RUNTIME.epoch = float(math.ceil(now))
        self.start_time = time.perf_counter() + (RUNTIME.epoch - now)
        if self.runner is not None and self.runner.environment.parsed_options is not None:
            setattr(self.runner.environment.parsed_options, EPOCH_OPTION, RUNTIME.epoch)
        if self.team_shape is not None:
            self.team_shape.start(self.runner, self.start_time)
        if RUNTIME.plan is not None:
            RUNTIME.ready.set()

    def tick(self) -> tuple[int, float, list[type[User]] | None] | None:
        plan = RUNTIME.plan
        if plan is None:
            return None
        # before offset 0 (less than a second) the first stage's target applies
        offset = max(self.get_run_time(), 0.0)  # type: ignore[no-untyped-call]
        stage = plan.stage_at(offset)
        if stage is not None and stage.name != self._stage:
            self._stage = stage.name
            if self.on_stage is not None and RUNTIME.epoch is not None:
                self.on_stage(stage.name, RUNTIME.epoch + stage.start_s)
        if plan.model == "open":
            if self._stopped(offset):
                return None
            assert self.driver_class is not None
            return RUNTIME.drivers, float(RUNTIME.drivers), [self.driver_class]
        chosen: list[type[User] | None] = [*self.team_classes] or [self.journey_class]
        classes = [c for c in chosen if c is not None]
        if self.team_shape is not None:
            shaped = self._team_tick(offset)
            if shaped is not None:
                return shaped
            target = None
        else:
            target = users_at(plan, offset)
        if target is not None:
            return target.users, target.spawn_rate_per_s, classes
        runner = self.runner
        if runner is not None and not isinstance(runner, MasterRunner) and runner.user_count == 0:
            RUNTIME.drained.add(LOCAL_SOURCE)
        if self._stopped(offset):
            return None
        # the graceful stop: every user stops as in a ramp-down (Locust's stop timeout)
        most = max((max(s.users_start or 0, s.users_end or 0) for s in plan.stages), default=1)
        if self.team_shape is not None:
            most = self.team_shape.peak_users
        return 0, float(max(most, 1)), classes

    def _team_tick(self, offset: float) -> tuple[int, float, list[type[User]]] | None:
        """The team's shape until it ends (returns None) or the plan ends; None after."""
        assert self.team_shape is not None
        assert RUNTIME.plan is not None
        if self._end_s is None and offset < RUNTIME.plan.duration_s:
            shaped = self.team_shape.tick(offset)
            if shaped is not None:
                return shaped
            # the shape has ended the load: the graceful stop starts now
            self._end_s = offset
        return None

    def _stopped(self, offset: float) -> bool:
        """After the last stage: every process has stopped its load and reported it all, or
        the graceful stop and its margin are over."""
        plan = RUNTIME.plan
        assert plan is not None
        end_s = plan.duration_s if self._end_s is None else min(self._end_s, plan.duration_s)
        if offset < end_s:
            return False
        if RUNTIME.all_drained() or offset >= end_s + plan.graceful_stop_s + STOP_MARGIN_S:
            RUNTIME.plan_completed = True
            return True
        return False
