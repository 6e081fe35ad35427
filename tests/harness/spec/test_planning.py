"""What a run names becomes its plan: a team's locustfile with -u/-r/-t, a saved plan.json
(scenarios under a profile: test_scenario.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.plan import RunPlan
from harness.spec import LocustOptions, parse_duration_s, plan_run


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20", 20.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1h30m15s", 5415.0),
        ("2.5", 2.5),
    ],
)
def test_run_time_reads_locusts_words(text: str, seconds: float) -> None:
    assert parse_duration_s(text, locust=True) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "1d", "-3s", "s"])
def test_a_bad_run_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_s(text, locust=True)


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "shop_locustfile.py"
    path.write_text("# a team's locustfile\n")
    return path


def test_a_locustfile_becomes_one_closed_stage(locustfile: Path) -> None:
    plan = plan_run(
        str(locustfile),
        target="http://h",
        tags={"team": "shop"},
        locust=LocustOptions(users=200, spawn_rate_per_s=20.0, run_time_s=300.0),
    )
    assert plan.model == "closed"
    assert plan.duration_s == 300.0
    (stage,) = plan.stages
    assert (stage.users_start, stage.users_end, stage.spawn_rate_per_s) == (200, 200, 20.0)
    (journey,) = plan.journeys
    assert journey.kind == "locustfile"
    assert plan.locustfile == str(locustfile.resolve())
    assert plan.scenario == "shop_locustfile"
    assert plan.tags == {"team": "shop"}
    assert RunPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_a_locustfile_uses_locusts_defaults_for_users_and_spawn_rate(locustfile: Path) -> None:
    plan = plan_run(str(locustfile), locust=LocustOptions(run_time_s=10.0))
    assert (plan.stages[0].users_end, plan.stages[0].spawn_rate_per_s) == (1, 1.0)


@pytest.mark.parametrize(
    ("options", "profile", "message"),
    [
        (LocustOptions(users=5), None, "needs -t/--run-time"),
        (LocustOptions(users=0, run_time_s=5.0), None, "at least 1"),
        (LocustOptions(spawn_rate_per_s=0.0, run_time_s=5.0), None, "spawn-rate must be positive"),
        (LocustOptions(run_time_s=5.0), "smoke", "--profile applies to scenarios"),
        (LocustOptions(users=10**10, run_time_s=5.0), None, "at most 1,000,000, got 10,000,"),
        (LocustOptions(spawn_rate_per_s=1e7, run_time_s=5.0), None, "at most 1,000,000 users/s"),
        (LocustOptions(spawn_rate_per_s=float("nan"), run_time_s=5.0), None, "got nan"),
        (LocustOptions(run_time_s=8 * 86400.0), None, r"at most 604,800 s \(7 days\)"),
    ],
)
def test_bad_locustfile_options_are_usage_errors(
    locustfile: Path, options: LocustOptions, profile: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        plan_run(str(locustfile), profile=profile, locust=options)


def test_a_missing_locustfile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        plan_run(str(tmp_path / "nope.py"), locust=LocustOptions(run_time_s=5))


def test_a_saved_plan_reruns_with_the_new_target_and_tags(locustfile: Path, tmp_path: Path) -> None:
    original = plan_run(str(locustfile), tags={"a": "1"}, locust=LocustOptions(run_time_s=5.0))
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(original.to_dict()))
    plan = plan_run(str(saved), target="http://new", tags={"b": "2"})
    assert plan.stages == original.stages
    assert plan.target == "http://new"
    assert plan.tags == {"a": "1", "b": "2"}


def test_locust_options_do_not_apply_to_a_saved_plan(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="apply to a locustfile"):
        plan_run(str(tmp_path / "plan.json"), locust=LocustOptions(users=3))


@pytest.mark.parametrize("content", ["not json", "[]", '{"scenario": "x"}'])
def test_a_broken_plan_file_is_a_usage_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=r"not a perfctl plan\.json"):
        plan_run(str(path))
