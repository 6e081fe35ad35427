"""The offered request rate `scenarios show` prints, from the plan alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.spec import load_scenario, plan_run
from harness.spec._estimate import ASSUMED_LATENCY_S, estimated_rps


def test_open_model_offers_arrivals_times_requests_per_journey() -> None:
    plan = plan_run("capacity")
    weights = {j.name: j.weight for j in plan.journeys}
    requests = {"browse": 4, "search": 3, "add_to_cart": 2, "checkout": 3}
    mean = sum(w * requests.get(name, 1) for name, w in weights.items()) / sum(weights.values())
    last = plan.stages[-1]
    assert estimated_rps(plan, last) == pytest.approx(5000 * mean)


def test_closed_model_follows_users_and_think_time(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "stages": [{"duration": "1m", "users": 10}],
                "journeys": {"inventory": {"think_time": "1s"}},
            }
        )
    )
    plan = plan_run(load_scenario(path))
    # one request and a 1 s pause per iteration
    assert estimated_rps(plan, plan.stages[0]) == pytest.approx(10 / (1 + ASSUMED_LATENCY_S))


def test_a_locustfile_journey_plans_its_file_absolutely(tmp_path: Path) -> None:
    (tmp_path / "team.py").write_text("# a team's locustfile\n")
    path = tmp_path / "team.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "stages": [{"duration": "30s", "users": 3}],
                "journeys": {"team": {"locustfile": "team.py", "operations": ["home"]}},
            }
        )
    )
    plan = plan_run(load_scenario(path))
    assert plan.locustfile == str(tmp_path / "team.py")
    assert plan.journeys[0].kind == "locustfile"
    assert plan.operations == ("home",)
    assert estimated_rps(plan, plan.stages[0]) > 0
