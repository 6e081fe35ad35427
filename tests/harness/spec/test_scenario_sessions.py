"""on_start, on_stop and reauth_on in a scenario: planned, checked, and counted as operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import SpecError
from harness.plan import RunPlan
from harness.spec import load_scenario, plan_run

LOGIN = {
    "operation": "login",
    "method": "POST",
    "path": "/api/login",
    "json": {"username": "user{user}", "password": "perfctl-demo"},
    "extract": {"token": "token", "user_id": "user_id"},
}
CART = {
    "operation": "cart_view",
    "path": "/api/cart/{user_id}",
    "headers": {"Authorization": "Bearer {token}"},
}
LOGOUT = {
    "operation": "logout",
    "method": "POST",
    "path": "/api/logout",
    "headers": {"Authorization": "Bearer {token}"},
}


def _scenario(tmp_path: Path, model: str = "closed", **journey: Any) -> Path:
    stage = {"duration": "10s", "users": 2} if model == "closed" else {"duration": "10s", "rate": 2}
    account = {"variables": {"user": {"range": [1, 500]}}, "steps": [CART], **journey}
    data = {"version": 1, "model": model, "stages": [stage], "journeys": {"account": account}}
    path = tmp_path / "account.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(("model", "whole"), [("closed", False), ("open", True)])
def test_on_start_and_on_stop_are_planned_and_report_their_operations(
    tmp_path: Path, model: str, whole: bool
) -> None:
    path = _scenario(tmp_path, model, on_start=[LOGIN], on_stop=[LOGOUT], reauth_on=401)
    plan = plan_run(load_scenario(path), "full")
    (account,) = plan.journeys
    assert [step.operation for step in account.on_start] == ["login"]
    assert [step.operation for step in account.on_stop] == ["logout"]
    assert account.reauth_on == (401,)
    # closed: one step an iteration; open: each arrival logs in, views, logs out (a visit)
    expected = ("login", "cart_view", "logout", *(("journey.account",) if whole else ()))
    assert account.operations == expected
    assert RunPlan.from_dict(plan.to_dict()) == plan


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_scenario(path)
    return caught.value.message


def test_steps_use_what_on_start_extracts_and_nothing_else(tmp_path: Path) -> None:
    assert "unknown variable {token}" in _error(_scenario(tmp_path))  # no login, no token
    path = _scenario(tmp_path, on_start=[{**LOGIN, "extract": {}}])
    assert "unknown variable {user_id}" in _error(path)


def test_reauth_on_needs_an_on_start_to_run_again(tmp_path: Path) -> None:
    path = _scenario(tmp_path, on_start=[], reauth_on=[401], steps=[{**CART, "path": "/x"}])
    message = _error(path)
    assert "reauth_on" in message
    assert "has none" in message


def test_on_start_is_for_step_journeys_only(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "stages": [{"duration": "10s", "users": 2}],
        "journeys": {"checkout": {"on_start": [LOGIN]}},
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert "`on_start` is for step journeys only" in _error(path)
