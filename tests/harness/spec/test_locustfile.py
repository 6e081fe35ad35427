"""What the spec reads of a team's locustfile without importing it, and how a scenario that
leaves its load to the locustfile's LoadTestShape is planned."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import SpecError
from harness.spec import load_scenario, plan_run
from harness.spec._locustfile import read_locustfile_facts

SHAPED = """\
import locust
from locust import FastHttpUser, LoadTestShape, task


class Admin(FastHttpUser):
    fixed_count = 1

    @task
    def home(self):
        self.client.get("/")


class Visitor(FastHttpUser):
    fixed_count: int = 0


class Waves(locust.LoadTestShape):
    def tick(self):
        return None


class BiggerWaves(Waves):
    pass
"""


@pytest.mark.parametrize(
    ("source", "shapes", "fixed"),
    [
        (SHAPED, ("Waves", "BiggerWaves"), ("Admin",)),
        ("from locust import HttpUser\nclass U(HttpUser):\n    weight = 2\n", (), ()),
        ("class Shape(LoadTestShape):\n    pass\n", ("Shape",), ()),
    ],
)
def test_shapes_and_fixed_counts_are_read_from_the_syntax_tree(
    tmp_path: Path, source: str, shapes: tuple[str, ...], fixed: tuple[str, ...]
) -> None:
    path = tmp_path / "team.py"
    path.write_text(source)
    facts = read_locustfile_facts(path)
    assert facts.shape_classes == shapes
    assert facts.fixed_count_classes == fixed


def test_a_locustfile_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "team.py"
    path.write_text("import locust\nclass Broken(:\n")
    with pytest.raises(ValueError, match=r"team\.py:2"):
        read_locustfile_facts(path)


def _scenario(tmp_path: Path, **fields: object) -> Path:
    (tmp_path / "team.py").write_text(
        "from locust import FastHttpUser, LoadTestShape\n"
        "class U(FastHttpUser):\n    pass\n"
        "class Shape(LoadTestShape):\n    def tick(self):\n        return None\n"
    )
    path = tmp_path / "shaped.yaml"
    document = {
        "journeys": {"team": {"locustfile": "team.py", "operations": ["home"]}},
        "profiles": {"short": {"duration": "30s", "users": 0.5}, "tiny": {"max_users": 3}},
        **fields,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_scenario_without_stages_plans_one_stage_its_shape_drives(tmp_path: Path) -> None:
    plan = plan_run(load_scenario(_scenario(tmp_path, duration="2m", warmup="10s")))
    assert plan.locustfile_shape
    assert plan.model == "closed"
    assert [(s.name, s.start_s, s.duration_s) for s in plan.stages] == [("run", 0.0, 120.0)]
    assert plan.duration_s == 120.0
    assert plan.locustfile == str(tmp_path / "team.py")


def test_a_profile_shortens_a_shaped_run_and_scales_its_users(tmp_path: Path) -> None:
    plan = plan_run(load_scenario(_scenario(tmp_path, duration="2m")), profile="short")
    assert plan.duration_s == 30.0
    assert plan.scale.time == 0.25
    assert plan.scale.users == 0.5


def test_a_profile_that_bounds_users_cannot_scale_a_shape(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, duration="2m"))
    with pytest.raises(SpecError, match=r"profile 'tiny' bounds users \(max_users: 3\)"):
        plan_run(scenario, profile="tiny")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stages": [{"duration": "1m", "users": 2}], "duration": "1m"}, "`duration` is for"),
        ({"duration": "1m", "warmup": "1m"}, "warm-up 60s leaves nothing"),
        ({}, "needs `duration`"),
    ],
)
def test_duration_goes_with_a_shape_and_only_with_it(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        load_scenario(_scenario(tmp_path, **fields))
