"""Server-side metrics around a run: the one object the runner enters and leaves.

Without Prometheus the target's /metrics is scraped during the load; with `--prometheus-url`
Prometheus is asked for the run window once the load has stopped (after waiting two scrape
intervals, so the last seconds are stored). Either way nothing here can fail the run: what
went wrong is written into server.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from harness.observe._prometheus import PrometheusSource, collect_from_prometheus
from harness.observe._scrape import DEFAULT_INTERVAL_S, ServerScraper
from harness.observe._server_series import ServerInfo
from harness.plan import RunPlan
from harness.spec import Objective

INGEST_WAIT_S = 2.0
"""Wait after the load before the range queries, so Prometheus has scraped the last second."""


@dataclass(frozen=True, slots=True)
class ObserveOptions:
    """How a run collects server-side metrics."""

    prometheus: PrometheusSource | None = None
    """Query this Prometheus after the run instead of scraping the target."""
    scrape_interval_s: float = DEFAULT_INTERVAL_S
    """Interval of the direct scrape."""


def _run_objectives(sla_path: Path | None, plan: RunPlan | None) -> tuple[Objective, ...]:
    """The objectives the run will be judged on, for their PromQL: the SLA's (none when it
    cannot be loaded now: `perfctl evaluate` reports that where it belongs) and the plan's."""
    from harness.errors import PerfctlError
    from harness.spec import (
        Sla,
        load_sla,
        objectives_for_plan,
    )

    sla: Sla | None
    try:
        sla = load_sla(sla_path)
    except PerfctlError:
        sla = None
    if plan is None:
        return sla.objectives if sla is not None else ()
    return objectives_for_plan(sla, plan)


class ServerObservation:
    """Collects the target's server-side series for the time the block runs."""

    def __init__(
        self,
        options: ObserveOptions,
        run_dir: Path,
        target_url: str,
        sla_path: Path | None = None,
        plan: RunPlan | None = None,
    ) -> None:
        self.options = options
        self.run_dir = run_dir
        self.target_url = target_url
        self.sla_path = sla_path
        self.plan = plan
        self.started_t = 0.0
        self.info: ServerInfo | None = None
        self._scraper: ServerScraper | None = None

    def __enter__(self) -> ServerObservation:
        self.started_t = time.time()
        if self.options.prometheus is None:
            self._scraper = ServerScraper(
                self.target_url, self.run_dir, interval_s=self.options.scrape_interval_s
            )
            self._scraper.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._scraper is not None:
            self.info = self._scraper.stop()
            return
        source = self.options.prometheus
        if source is None or exc_type is not None:
            return  # a second Ctrl-C or an error: do not keep the user waiting
        ended_t = time.time()
        time.sleep(INGEST_WAIT_S)
        self.info = collect_from_prometheus(
            source,
            self.run_dir,
            self.started_t,
            ended_t,
            target_url=self.target_url,
            objectives=_run_objectives(self.sla_path, self.plan),
        )
