"""Data feeders: the rows flow journeys draw from the plan's data sources (`data:`).

Each process reads a source's file once, on the first draw, and every user draws from those
rows (Gatling's feeders, k6's SharedArray). Strategies:

- sequential: rows in file order; each process walks the whole file.
- random: any row, each draw.
- unique: each row once across every user and process; in a distributed run worker `i` of
  `n` takes rows i, i+n, i+2n, ... (by Locust's worker index), so no two workers share a row.

When sequential or unique rows run out, `recycle` starts over (a unique source over this
process's share again) and `stop` ends the journeys that use the source in this process: they
leave the mix (the users or arrivals that would have run them run the other journeys, drawn
by weight; when no journey is left the users idle until the plan ends), nothing counts as a
failed request, and the run records a `data_exhausted` event (`take_notices`), once per
source and process.

A row is drawn per iteration (`scope: iteration`) or once per user and kept (`scope: user`;
in the open model every arrival is a new user, so both scopes draw per iteration).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.data_rows import DataRows, read_rows
from harness.plan import DataSourcePlan, JourneyPlan, RunPlan

HeldRows = dict[str, Mapping[str, Any]]
"""A user's rows of its `scope: user` sources, by source name."""


class Feeder:
    """One data source in this process: its rows (or this worker's share of them) and cursor."""

    def __init__(self, source: DataSourcePlan, rows: DataRows, index: int, count: int) -> None:
        self.source = source
        self.rows = rows
        if source.strategy == "unique" and count > 1:
            self.indices = range(index % count, len(rows), count)
        else:
            self.indices = range(len(rows))
        self.cursor = 0
        """Draws so far (sequential and unique)."""
        self.exhausted = False
        """A draw has found no row left (`on_exhausted: stop`)."""
        self.skipped = 0
        """Iterations skipped for want of a row."""

    def draw(self, rng: random.Random) -> Mapping[str, Any] | None:
        """The next row; None when the rows have run out and the source stops."""
        if self.source.strategy == "random":
            return self.rows.row(rng.randrange(len(self.rows)))
        share = len(self.indices)
        if self.cursor >= share:
            if self.source.on_exhausted == "stop" or share == 0:
                self.exhausted = True
                self.skipped += 1
                return None
            self.cursor = 0
        row = self.rows.row(self.indices[self.cursor])
        self.cursor += 1
        return row


class Feeders:
    """Every data source of the plan in this process, loaded on the first draw."""

    def __init__(self) -> None:
        self._feeders: dict[str, Feeder] | None = None
        self._told: set[str] = set()
        self._label = "local"
        self.stopped: set[str] = set()
        """Journeys that found a source of theirs run out (`on_exhausted: stop`)."""

    def load(self, plan: RunPlan, index: int, count: int, label: str) -> None:
        """Reads the plan's data files; this process is worker `index` of `count`."""
        if self._feeders is not None:
            return
        self._label = label
        self._feeders = {
            source.name: Feeder(
                source, read_rows(Path(source.file), source.format), max(index, 0), count
            )
            for source in plan.data_sources
        }

    @property
    def loaded(self) -> bool:
        return self._feeders is not None

    def feeder(self, name: str) -> Feeder:
        assert self._feeders is not None, "Feeders.load first"
        return self._feeders[name]

    def draw(
        self, journey: JourneyPlan, rng: random.Random, held: HeldRows | None = None
    ) -> dict[str, Any] | None:
        """The variables the journey's sources give one iteration; None when one of them has
        run out (the iteration is skipped). `held` keeps a user's `scope: user` rows."""
        variables: dict[str, Any] = {}
        for name in journey.data:
            feeder = self.feeder(name)
            if feeder.source.scope == "user" and held is not None:
                row = held.get(name)
                if row is None:
                    row = feeder.draw(rng)
                    if row is None:
                        self.stopped.add(journey.name)
                        return None
                    held[name] = row
            else:
                row = feeder.draw(rng)
                if row is None:
                    self.stopped.add(journey.name)
                    return None
            variables.update(row)
        return variables

    def take_notices(self) -> list[str]:
        """A sentence for each source that ran out since the last call."""
        notices: list[str] = []
        for name, feeder in (self._feeders or {}).items():
            if feeder.exhausted and name not in self._told:
                self._told.add(name)
                share = (
                    f"{len(feeder.indices)} of its {len(feeder.rows)} rows"
                    if len(feeder.indices) != len(feeder.rows)
                    else f"all {len(feeder.rows)} rows"
                )
                notices.append(
                    f"data source {name!r} ran out in {self._label} ({share} used, "
                    f"{feeder.source.strategy}); the journeys using it leave the mix there "
                    "(on_exhausted: stop)"
                )
        return notices
