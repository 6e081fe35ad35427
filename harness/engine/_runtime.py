"""The engine's state in this Locust process: the plan, the recorder, the run's start time."""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event

from harness.engine._feeders import Feeders
from harness.engine._recorder import Recorder
from harness.engine._secrets import ENV_OPTION, Secrets
from harness.plan import JourneyPlan, RunPlan

PLAN_FILE_ENV = "PERFCTL_PLAN_FILE"
RUN_DIR_ENV = "PERFCTL_RUN_DIR"
PLAN_OPTION = "perfctl_plan"
"""Locust option carrying the plan JSON from the master to its workers (spawn messages)."""
EPOCH_OPTION = "perfctl_epoch"
"""Locust option carrying the run's start (unix seconds) from the master to its workers."""
DRIVERS_OPTION = "perfctl_drivers"
"""Locust option: open-model arrival drivers sharing the rate (one per worker)."""
LOCAL_SOURCE = "local"
"""The source name of the load a master-less process generates itself."""


@dataclass(slots=True)
class Runtime:
    """Per-process engine state, filled as Locust's events arrive."""

    plan: RunPlan | None = None
    """The plan, read from PERFCTL_PLAN_FILE or received from the master."""
    plan_json: str = ""
    """The plan as JSON text (what the master ships to workers)."""
    recorder: Recorder = field(default_factory=Recorder)
    """Every request of this process."""
    epoch: float | None = None
    """Unix time of the plan's offset 0."""
    drivers: int = 1
    """Open-model drivers sharing the rate."""
    plan_completed: bool = False
    """The shape ended the test because the plan's last stage ended."""
    abort_reason: str | None = None
    """Why the run stops early, when it does."""
    drained: set[str] = field(default_factory=set)
    """Sources (workers, or "local") that have stopped their load after the plan ended (the
    graceful stop is over) and sent everything they recorded."""
    live_sources: set[str] = field(default_factory=set)
    """Master: the workers still reporting."""
    drivers_started: int = 0
    """Open model: arrival drivers started in this process."""
    drivers_running: int = 0
    """Open model: arrival drivers in this process still scheduling or waiting."""
    ready: Event = field(default_factory=Event)
    secrets: Secrets = field(default_factory=Secrets)
    """The plan's secret `${env:...}` values, expanded in this process only."""
    feeders: Feeders = field(default_factory=Feeders)
    """The plan's data sources, read in this process on the first draw."""
    _mix: tuple[list[JourneyPlan], list[float]] | None = None
    """Set once plan and epoch are known in this process."""
    _arrival_mix: tuple[list[JourneyPlan], list[float]] | None = None
    """The same over every journey, locustfile ones too (open-model arrivals)."""

    def load_plan_text(self, text: str) -> RunPlan:
        """Takes the plan (JSON with secret references as written) and expands them."""
        plan = RunPlan.from_dict(self.secrets.expand_plan(json.loads(text), os.environ))
        self.plan, self.plan_json = plan, text
        return plan

    def adopt_options(self, options: Any) -> None:
        """Takes plan, epoch and drivers from Locust's options (a worker's spawn message)."""
        text = getattr(options, PLAN_OPTION, "") or ""
        self.secrets.adopt_option(getattr(options, ENV_OPTION, "") or "")
        if self.plan is None and text:
            self.load_plan_text(text)
        epoch = float(getattr(options, EPOCH_OPTION, 0.0) or 0.0)
        if epoch:
            self.epoch = epoch
        self.drivers = max(int(getattr(options, DRIVERS_OPTION, 1) or 1), 1)
        if self.plan is not None and self.epoch is not None:
            self.ready.set()

    def wait_ready(self, timeout_s: float = 30.0) -> tuple[RunPlan, float]:
        """Blocks this greenlet until plan and epoch are known."""
        if not self.ready.wait(timeout=timeout_s) or self.plan is None or self.epoch is None:
            raise RuntimeError("perfctl engine: no plan or start time reached this process")
        return self.plan, self.epoch

    def drivers_done(self) -> bool:
        """Every arrival driver this process started has finished."""
        return self.drivers_started > 0 and self.drivers_running == 0

    def load_stopped(self, user_count: int) -> bool:
        """This process has stopped its load for good: open model, its arrival drivers have
        finished; closed model, the plan has ended and its last user has stopped."""
        if self.plan is None:
            return False
        if self.plan.model == "open":
            return self.drivers_done()
        return (
            self.epoch is not None
            and time.time() >= self.epoch + self.plan.duration_s
            and user_count == 0
        )

    def all_drained(self) -> bool:
        """Master or local: every load-generating process has stopped and reported its load."""
        if LOCAL_SOURCE in self.drained:
            return True
        return bool(self.live_sources) and self.live_sources <= self.drained

    def pick_journey(self, rng: random.Random, with_locustfile: bool = False) -> JourneyPlan:
        """A perfctl journey (not a locustfile one), drawn by weight; `with_locustfile`: any
        journey of the plan (an open-model arrival, which runs a locustfile's user too)."""
        mix = self._arrival_mix if with_locustfile else self._mix
        if mix is None:
            assert self.plan is not None
            chosen = [j for j in self.plan.journeys if with_locustfile or j.kind != "locustfile"]
            weights = [max(j.weight, 0.0) for j in chosen]
            mix = (chosen, weights if sum(weights) > 0 else [1.0] * len(chosen))
            if with_locustfile:
                self._arrival_mix = mix
            else:
                self._mix = mix
        journeys, weights = mix
        if len(journeys) == 1:
            return journeys[0]
        return rng.choices(journeys, weights)[0]


def plan_from_environment() -> str:
    """The plan JSON text from PERFCTL_PLAN_FILE, "" when unset (a remote worker)."""
    path = os.environ.get(PLAN_FILE_ENV)
    if not path:
        return ""
    return Path(path).read_text(encoding="utf-8")


def sleep_s(seconds: float) -> None:
    """Cooperative sleep (yields to the other greenlets)."""
    gevent.sleep(max(seconds, 0.0))


RUNTIME = Runtime()
"""The one engine state of this process."""
