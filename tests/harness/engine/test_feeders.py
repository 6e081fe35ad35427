"""Data feeders: strategies, the split of unique rows across workers, stop and recycle, scope."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.data_rows import DataRows
from harness.engine._feeders import Feeder, Feeders
from harness.plan import DataSourcePlan, JourneyPlan, RunPlan, Scale, StagePlan

ROWS = DataRows(columns=("id",), tuples=tuple((str(i),) for i in range(10)))


def _source(
    strategy: str = "sequential", on_exhausted: str = "recycle", scope: str = "iteration"
) -> DataSourcePlan:
    return DataSourcePlan(
        name="ids",
        file="ids.csv",
        format="csv",
        strategy=strategy,  # type: ignore[arg-type]
        on_exhausted=on_exhausted,  # type: ignore[arg-type]
        scope=scope,  # type: ignore[arg-type]
        rows=len(ROWS),
        columns=("id",),
    )


def _ids(feeder: Feeder, draws: int) -> list[str | None]:
    rng = random.Random(1)
    out: list[str | None] = []
    for _ in range(draws):
        row = feeder.draw(rng)
        out.append(None if row is None else row["id"])
    return out


def test_sequential_walks_the_file_in_order_and_recycles() -> None:
    assert _ids(Feeder(_source(), ROWS, 0, 1), 12) == [*map(str, range(10)), "0", "1"]


def test_sequential_stop_runs_out_and_counts_what_it_skipped() -> None:
    feeder = Feeder(_source(on_exhausted="stop"), ROWS, 3, 4)  # sequential is never split
    assert _ids(feeder, 12) == [*map(str, range(10)), None, None]
    assert feeder.exhausted
    assert feeder.skipped == 2


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_unique_rows_are_split_across_workers_without_overlap(workers: int) -> None:
    seen: list[str | None] = []
    for index in range(workers):
        feeder = Feeder(_source("unique", "stop"), ROWS, index, workers)
        drawn = _ids(feeder, 11)
        assert drawn[-1] is None  # its share ran out
        seen += [row for row in drawn if row is not None]
    assert sorted(seen, key=int) == [str(i) for i in range(10)]  # each row exactly once


def test_unique_recycle_starts_its_own_share_over() -> None:
    feeder = Feeder(_source("unique", "recycle"), ROWS, 1, 2)
    assert _ids(feeder, 7) == ["1", "3", "5", "7", "9", "1", "3"]


def test_a_worker_without_a_share_stops_at_once() -> None:
    rows = DataRows(columns=("id",), tuples=(("0",),))
    feeder = Feeder(_source("unique", "recycle"), rows, 1, 2)
    assert _ids(feeder, 2) == [None, None]


def test_random_draws_any_row_and_never_runs_out() -> None:
    drawn = _ids(Feeder(_source("random"), ROWS, 0, 1), 200)
    assert None not in drawn
    assert len(set(drawn)) == 10


def _plan(tmp_path: Path, scope: str, strategy: str = "unique") -> RunPlan:
    path = tmp_path / "ids.csv"
    path.write_text("id\n" + "".join(f"{i}\n" for i in range(4)))
    source = DataSourcePlan(
        name="ids",
        file=str(path),
        format="csv",
        strategy=strategy,  # type: ignore[arg-type]
        on_exhausted="stop",
        scope=scope,  # type: ignore[arg-type]
        rows=4,
        columns=("id",),
    )
    journey = JourneyPlan(name="j", weight=1, kind="flow", data=("ids",))
    stage = StagePlan(name="s", start_s=0, duration_s=1, users_start=0, users_end=1)
    return RunPlan(
        scenario="s",
        profile="full",
        scale=Scale(),
        model="closed",
        stages=(stage,),
        journeys=(journey,),
        data_sources=(source,),
    )


def test_a_user_scoped_row_is_kept_by_its_user(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "user")
    feeders = Feeders()
    feeders.load(plan, 0, 1, "local")
    rng = random.Random(0)
    alice: dict = {}
    bob: dict = {}
    journey = plan.journeys[0]
    assert [feeders.draw(journey, rng, alice) for _ in range(3)] == [{"id": "0"}] * 3
    assert feeders.draw(journey, rng, bob) == {"id": "1"}
    assert feeders.take_notices() == []


def test_an_iteration_scoped_source_runs_out_and_tells_it_once(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "iteration")
    feeders = Feeders()
    feeders.load(plan, 1, 2, "worker-2")
    rng = random.Random(0)
    journey = plan.journeys[0]
    held: dict = {}
    assert [feeders.draw(journey, rng, held) for _ in range(3)] == [{"id": "1"}, {"id": "3"}, None]
    (notice,) = feeders.take_notices()
    assert notice.startswith("data source 'ids' ran out in worker-2 (2 of its 4 rows used")
    assert feeders.draw(journey, rng, held) is None
    assert feeders.take_notices() == []
