"""The bounds of a plan: users, rates, spawn rates, durations and think times, before any load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import SpecError, UsageError
from harness.spec import list_scenario_names, load_scenario, plan_run
from harness.spec._limits import MAX_USERS, plan_limit_problems
from tests.harness.spec._support import valid_scenario


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _open_scenario() -> dict[str, Any]:
    data = valid_scenario()
    data["model"] = "open"
    data["stages"] = [{"name": "steady", "duration": "1m", "rate": "10/s"}]
    del data["profiles"]
    return data


def _spec_error(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        plan_run(path)
    return caught.value.message.replace(str(path), "huge.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["stages"][1].update(users=10_000_000_000),
            "huge.yaml:10: stages.1.users: input should be less than or equal to 1000000, "
            "got 10000000000",
        ),
        (
            lambda d: d["stages"][0].update(spawn_rate=1e9),
            "huge.yaml:8: stages.0.spawn_rate: input should be less than or equal to 1000000, "
            "got 1000000000.0",
        ),
        (
            lambda d: d["stages"][1].update(duration="30d"),
            "huge.yaml:9: stages.1.duration: input should be less than or equal to 604800, "
            "got 2592000.0",
        ),
        (
            lambda d: d["journeys"]["search"].update(think_time="1s..2h"),
            "huge.yaml:14: journeys.search.think_time: a think time is at most 3600 s (1h), "
            "got '1s..2h'",
        ),
        (
            lambda d: d["journeys"]["flow"]["steps"][1].update(think_time="1d"),
            "huge.yaml:33: journeys.flow.steps.1.think_time: a think time is at most 3600 s (1h), "
            "got '1d'",
        ),
        (
            lambda d: d["profiles"]["quick"].update(max_users=5_000_000),
            "huge.yaml:37: profiles.quick.max_users: input should be less than or equal to "
            "1000000, got 5000000",
        ),
    ],
)
def test_a_number_above_its_bound_is_a_spec_error_at_its_line(
    tmp_path: Path, change: Any, message: str
) -> None:
    data = valid_scenario()
    change(data)
    assert _spec_error(_write(tmp_path, data)) == message


def test_an_open_model_rate_above_the_bound_is_a_spec_error_at_its_line(tmp_path: Path) -> None:
    data = _open_scenario()
    data["stages"][0]["rate"] = "10000000/s"
    data["max_concurrency"] = 10**8
    assert _spec_error(_write(tmp_path, data)).splitlines() == [
        "huge.yaml:7: stages.0.rate: input should be less than or equal to 1000000, "
        "got '10000000/s'",
        "huge.yaml:31: max_concurrency: input should be less than or equal to 1000000, "
        "got 100000000",
    ]


def test_a_profile_that_scales_past_a_bound_names_the_file_profile_and_bound(
    tmp_path: Path,
) -> None:
    data = valid_scenario()
    data["stages"][1]["users"] = 900_000
    data["profiles"]["big"] = {"users": 2, "time": 20_000}
    path = _write(tmp_path, data)
    load_scenario(path)  # as written, every number is within its bound
    assert _spec_error_for(path, "big") == (
        "huge.yaml: under profile 'big', stage 'steady' has 1,800,000 users; a plan has at most "
        "1,000,000; the run lasts 1,400,000 s; a plan lasts at most 604,800 s (7 days)"
    )


def _spec_error_for(path: Path, profile: str) -> str:
    with pytest.raises(SpecError) as caught:
        plan_run(path, profile)
    return caught.value.message.replace(str(path), "huge.yaml")


def test_a_saved_plan_above_a_bound_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    plan = plan_run(_write(tmp_path, valid_scenario()))
    data = plan.to_dict()
    data["stages"][1]["users_end"] = 10_000_000_000
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(data))
    with pytest.raises(UsageError) as caught:
        plan_run(str(saved))
    assert caught.value.message == (
        f"{saved}: stage 'steady' has 10,000,000,000 users; a plan has at most 1,000,000"
    )


@pytest.mark.parametrize("name", list_scenario_names())
def test_every_shipped_scenario_and_profile_is_within_the_bounds(name: str) -> None:
    scenario = load_scenario(name)
    for profile in scenario.profile_names:
        assert plan_limit_problems(plan_run(name, profile)) == []


def test_the_bound_itself_is_allowed(tmp_path: Path) -> None:
    data = valid_scenario()
    data["stages"][1]["users"] = MAX_USERS
    plan = plan_run(_write(tmp_path, data))
    assert plan.stages[1].users_end == MAX_USERS
    assert plan_limit_problems(plan) == []
