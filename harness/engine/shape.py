"""The LoadTestShape that drives Locust from the plan's stages and ends the test after them."""

from __future__ import annotations

import math
import time
from typing import Any

from locust import LoadTestShape, User

from harness.engine.runtime import EPOCH_OPTION, RUNTIME
from harness.engine.schedule import users_at

OPEN_MODEL_DRAIN_S = 1.0
"""Open model: the test ends once every driver has seen its journeys finish, at the latest
this long after the request timeout past the last arrival."""


class PlanShape(LoadTestShape):
    """Closed model: users ramp per stage. Open model: one arrival driver per load-generating
    process for the whole run (the drivers schedule the arrivals themselves)."""

    driver_class: type[User] | None = None
    """The open-model driver user class."""
    journey_class: type[User] | None = None
    """The closed-model journey user class."""
    team_classes: list[type[User]] = []  # noqa: RUF012 - set once by the locustfile
    """A team's locustfile users, when the plan runs a locustfile."""
    on_stage: Any = None
    """Called with (stage name, unix start) when a new stage begins (master or local)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._stage: str | None = None

    def reset_time(self) -> None:
        """Locust calls this when the test starts: offset 0 of the plan."""
        # offset 0 is the next whole second, so the plan's seconds are the timeline's windows
        super().reset_time()  # type: ignore[no-untyped-call]
        now = time.time()
        RUNTIME.epoch = float(math.ceil(now))
        self.start_time = time.perf_counter() + (RUNTIME.epoch - now)
        if self.runner is not None and self.runner.environment.parsed_options is not None:
            setattr(self.runner.environment.parsed_options, EPOCH_OPTION, RUNTIME.epoch)
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
            drained = RUNTIME.all_drained()
            if offset >= plan.duration_s + plan.request_timeout_s + OPEN_MODEL_DRAIN_S or (
                drained and offset >= plan.duration_s
            ):
                RUNTIME.plan_completed = True
                return None
            assert self.driver_class is not None
            return RUNTIME.drivers, float(RUNTIME.drivers), [self.driver_class]
        target = users_at(plan, offset)
        if target is None:
            RUNTIME.plan_completed = True
            return None
        classes = self.team_classes if self.team_classes else [self.journey_class]
        return target.users, target.spawn_rate_per_s, [c for c in classes if c is not None]
