"""scenarios/: the shipped files carry the seed's numbers, profiles scale them, wrong files fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import SpecError, UsageError
from harness.plan import RunPlan
from harness.spec import (
    estimated_rps,
    list_scenario_names,
    load_scenario,
    plan_run,
    resolve_scenario_path,
)
from tests.harness.spec._support import valid_scenario

SHIPPED = (
    "capacity",
    "endurance",
    "k6-seed",
    "normal",
    "peak",
    "smoke",
    "spike",
    "volume",
)
SEED_ACTIONS = {"browse", "search", "add_to_cart", "checkout"}
OTHER_AGENTS = {"recommendations", "support", "inventory", "pricing"}


def test_every_scenario_of_the_issue_is_shipped() -> None:
    assert list_scenario_names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_profile_plans_and_the_small_ones_fit_this_machine(name: str) -> None:
    scenario = load_scenario(name)
    assert set(scenario.profile_names) >= {"full", "smoke", "ci", "demo"}
    smoke = plan_run(scenario, "smoke")
    ci = plan_run(scenario, "ci")
    demo = plan_run(scenario, "demo")
    assert smoke.duration_s == pytest.approx(20, abs=0.01) or name == "smoke"
    for plan in (ci, demo):
        assert plan.duration_s == pytest.approx(60, abs=0.01)
    for plan in (smoke, ci, demo):
        most_users = max(stage.users_end or 0 for stage in plan.stages)
        most_rate = max(stage.rate_end_per_s or 0.0 for stage in plan.stages)
        assert most_users <= 40
        assert most_rate <= 40
        assert plan.stages[0].start_s == 0
        for before, after in zip(plan.stages, plan.stages[1:], strict=False):
            assert after.start_s == pytest.approx(before.end_s)


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "k6-seed"])
def test_mixes_hold_the_seed_actions_and_the_other_agents(name: str) -> None:
    journeys = set(load_scenario(name).spec.journeys)
    assert journeys >= SEED_ACTIONS | OTHER_AGENTS


def _steady(plan: RunPlan, stage: str) -> tuple[float, int | None, float | None]:
    found = next(s for s in plan.stages if s.name == stage)
    return found.duration_s, found.users_end, found.rate_end_per_s


def test_full_profiles_are_the_seed_numbers_unchanged() -> None:
    normal = plan_run("normal")
    assert normal.scale.users == normal.scale.rate == normal.scale.time == 1.0
    assert _steady(normal, "steady") == (1800.0, 1000, None)
    assert normal.warmup_s == 120.0
    assert _steady(plan_run("peak"), "peak") == (900.0, 5000, None)
    spike = plan_run("spike")
    assert spike.duration_s == 300.0
    assert [s.users_end for s in spike.stages] == [10000, 10000, 0]
    assert spike.stages[0].users_start == 0
    endurance = plan_run("endurance")
    assert _steady(endurance, "soak")[1] == 1000
    assert endurance.duration_s >= 3 * 3600
    capacity = plan_run("capacity")
    assert capacity.model == "open"
    assert capacity.max_concurrency == 2000
    assert plan_run("volume").catalog_size == 500000


def test_k6_seed_reproduces_the_script() -> None:
    scenario = load_scenario("k6-seed")
    plan = plan_run(scenario)
    assert [(s.duration_s, s.users_end) for s in plan.stages] == [
        (120.0, 1000),
        (300.0, 1000),
        (120.0, 5000),
        (600.0, 5000),
        (120.0, 0),
    ]
    (journey,) = plan.journeys
    assert journey.kind == "flow"
    assert (journey.think_time_min_s, journey.think_time_max_s) == (0.0, 0.0)
    search, recommendations = journey.steps
    assert (search.method, search.path, search.query) == (
        "GET",
        "/api/products/search",
        {"q": "laptop"},
    )
    assert (search.check.status, search.check.max_latency_ms) == ((200,), 500.0)
    assert (search.think_time_min_s, search.think_time_max_s) == (1.0, 1.0)
    assert recommendations.path == "/api/recommendations/123"
    assert (recommendations.check.status, recommendations.check.max_latency_ms) == ((200,), 800.0)
    assert recommendations.think_time_min_s == 2.0
    thresholds = {o.id: o for o in scenario.objectives}
    duration = thresholds["http_req_duration"]
    assert (duration.operation, duration.statistic, duration.window_s) == ("*", "p95", None)
    assert duration.limit is not None
    assert (duration.limit.comparator, duration.limit.value) == ("<", 1000.0)
    failed = thresholds["http_req_failed"]
    assert failed.limit is not None
    assert (failed.metric, failed.limit.comparator, failed.limit.value) == ("error_rate", "<", 0.01)
    assert failed.statistic == "requests"  # failed requests only: a failed check is `checks`
    checks = thresholds["checks"]
    assert checks.metric == "checks"
    assert checks.limit is not None
    assert checks.warn is not None
    assert (checks.limit.comparator, checks.limit.value) == (">", 0.99)
    assert (checks.warn.comparator, checks.warn.value) == (">=", 0.0)  # k6 only prints it
    assert scenario.spec.sla is False


def test_profile_scale_is_recorded_and_explicit() -> None:
    plan = plan_run("normal", "demo")
    assert plan.scale.users == pytest.approx(0.04)
    assert plan.scale.rate == plan.scale.users
    assert plan.scale.time == pytest.approx(60 / 1920)
    assert plan.scale.load("closed") == pytest.approx(0.04)
    assert [s.users_end for s in plan.stages] == [40, 40]
    capacity = plan_run("capacity", "ci")
    assert capacity.scale.rate == pytest.approx(20 / 5000)
    assert capacity.stages[-1].rate_end_per_s == pytest.approx(20)


@pytest.mark.parametrize(
    ("name", "stage", "users"), [("peak", "peak", 5000), ("spike", "spike", 10000)]
)
def test_perf_profile_runs_peak_and_spike_at_full_load_in_three_minutes(
    name: str, stage: str, users: int
) -> None:
    full = plan_run(name)
    perf = plan_run(name, "perf")
    assert (perf.scale.users, perf.scale.rate) == (1.0, 1.0)
    held, seed = (next(s for s in plan.stages if s.name == stage) for plan in (perf, full))
    assert held.users_end == seed.users_end == users
    assert estimated_rps(perf, held) == estimated_rps(full, seed)
    assert perf.duration_s == pytest.approx(180, abs=0.01)
    # only time shrinks, every stage by the same factor: the shape is the seed's
    assert held.duration_s / perf.duration_s == pytest.approx(seed.duration_s / full.duration_s)


@pytest.mark.parametrize("name", SHIPPED)
def test_perf_profile_never_scales_load_and_lasts_three_minutes_at_most(name: str) -> None:
    full = plan_run(name)
    perf = plan_run(name, "perf")
    assert [(s.users_end, s.rate_end_per_s) for s in perf.stages] == [
        (s.users_end, s.rate_end_per_s) for s in full.stages
    ]
    assert perf.catalog_size == full.catalog_size
    assert perf.duration_s <= 180.01
    # a duration shortens a longer scenario and never stretches a shorter one (smoke: 1 min)
    assert perf.duration_s == pytest.approx(min(180.0, full.duration_s), abs=0.01)


def test_plan_round_trips_through_json() -> None:
    plan = plan_run("k6-seed", "ci", target="http://user:secret@127.0.0.1:8000/", tags={"a": "b"})
    assert plan.target == "http://127.0.0.1:8000/"
    assert RunPlan.from_dict(plan.to_dict()) == plan


def test_builtin_journeys_copy_their_operations() -> None:
    plan = plan_run("normal")
    checkout = next(j for j in plan.journeys if j.name == "checkout")
    assert checkout.builtin == "checkout"
    assert checkout.operations == (
        "login",
        "product_search",
        "cart_add",
        "order_processing",
        "journey.checkout",
    )
    assert {
        "product_search",
        "recommendations",
        "order_processing",
        "payment_processing",
        "customer_support",
        "inventory_check",
        "price_lookup",
    } <= set(plan.operations)


def test_unknown_names_are_usage_errors() -> None:
    with pytest.raises(
        UsageError,
        match=r"unknown scenario 'nope'; known scenarios in .*: capacity, endurance, k6-seed",
    ):
        resolve_scenario_path("nope")
    with pytest.raises(
        UsageError,
        match=r"^unknown profile 'huge' for scenario 'normal'; profiles: full, ci, demo, perf, smoke$",
    ):
        plan_run("normal", "huge")
    with pytest.raises(
        UsageError, match=r"^target must be an http:// or https:// URL, got 'ftp://x'$"
    ):
        plan_run("normal", target="ftp://x")


def test_flow_variables_ranges_and_query_strings_resolve(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    data = valid_scenario()
    data["journeys"]["flow"]["steps"][0]["path"] = "/api/cart/{user_id}?verbose=1"
    path.write_text(yaml.safe_dump(data))
    plan = plan_run(load_scenario(path), "quick")
    flow = next(j for j in plan.journeys if j.name == "flow")
    assert flow.variables == {"user_id": [1, 2, 3, 4, 5]}
    assert (flow.steps[0].path, flow.steps[0].query) == ("/api/cart/{user_id}", {"verbose": "1"})
    assert flow.operations == ("cart_view", "product_detail", "journey.flow")
    assert plan.scale.users == pytest.approx(0.2)
    assert plan.duration_s == pytest.approx(10)


def _scenario_error(tmp_path: Path, data: object) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecError) as caught:
        load_scenario(path)
    return caught.value.message.replace(str(path), "bad.yaml")


def _with(path: tuple[str | int, ...], value: object) -> dict[str, object]:
    data = valid_scenario()
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DROP = object()

WRONG_SCENARIOS = [
    (("stages",), [], "bad.yaml:4: stages: must not be empty"),
    (("journeys",), {}, "bad.yaml:11: journeys: must not be empty"),
    (
        ("stages", 0, "duration"),
        "0s",
        "bad.yaml:6: stages.0.duration: a stage needs a positive duration, got 0s",
    ),
    (
        ("stages", 1, "users"),
        _DROP,
        "bad.yaml:8: stages.1: a closed-model stage needs `users` (users at its end)",
    ),
    (
        ("model",),
        "half-open",
        "bad.yaml:2: model: input should be 'closed' or 'open', got 'half-open'",
    ),
    (
        ("journeys", "search", "weight"),
        0,
        "bad.yaml:13: journeys.search.weight: input should be greater than 0, got 0",
    ),
    (
        ("journeys", "teleport"),
        {"weight": 1},
        "bad.yaml:34: journeys.teleport: unknown built-in journey 'teleport'; built-in journeys: "
        "browse, search, add_to_cart, checkout, recommendations, support, inventory, pricing, "
        "payment (or give `steps` or `locustfile`)",
    ),
    (
        ("journeys", "flow", "steps", 1, "path"),
        "/api/products/{missing}",
        "bad.yaml:31: journeys.flow.steps.1: unknown variable {missing}; declare it in "
        "`variables` or extract it in an earlier step (known: first, user_id)",
    ),
    (
        ("journeys", "flow", "steps", 0, "check"),
        {"status": 700},
        "bad.yaml:27: journeys.flow.steps.0.check.status: an HTTP status lies in 100-599, got 700",
    ),
    (
        ("journeys", "flow", "steps", 0, "metod"),
        "GET",
        "bad.yaml:31: journeys.flow.steps.0.metod: unknown key 'metod' (did you mean 'method'?); "
        "expected one of: check, extract, headers, json, method, operation, path, query, "
        "think_time",
    ),
    (
        ("profiles", "full"),
        {"users": 0.5},
        "bad.yaml:38: profiles.full: profile 'full' is reserved: it runs the scenario exactly "
        "as written",
    ),
    (
        ("profiles", "quick", "users"),
        0.5,
        "bad.yaml:37: profiles.quick.max_users: give either `users` (a factor) or `max_users`, "
        "not both",
    ),
    (
        ("warmup",),
        "2m",
        "bad.yaml:3: warmup: warm-up 120s leaves nothing of a 70s run to judge",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), WRONG_SCENARIOS)
def test_wrong_scenario_gives_the_exact_message(
    tmp_path: Path, path: tuple[str | int, ...], value: object, message: str
) -> None:
    assert _scenario_error(tmp_path, _with(path, value)) == message


def test_an_alias_of_a_builtin_journey_reports_under_its_own_name(tmp_path: Path) -> None:
    data = valid_scenario()
    data["journeys"]["quick_search"] = {"builtin": "search", "think_time": 0}
    path = tmp_path / "alias.yaml"
    path.write_text(yaml.safe_dump(data))
    plan = plan_run(load_scenario(path))
    alias = next(j for j in plan.journeys if j.name == "quick_search")
    assert (alias.kind, alias.builtin) == ("builtin", "search")
    assert alias.operations == ("product_search", "product_detail", "journey.quick_search")
