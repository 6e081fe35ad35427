"""Coverage in the headline: what a PASS rests on, what was out of scope by design, and
`--require-coverage` failing the gate on an in-scope objective left unjudged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from harness.spec import plan_run
from harness.spec._sla import Sla, load_sla
from harness.verdict._coverage import OutOfScope, measure_coverage, out_of_scope
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._junit import render_junit
from harness.verdict._model import Verdict
from harness.verdict._summary import render_summary
from tests.harness._synthetic_run import SyntheticRun, simple_plan

SCHEMA = Path(__file__).parents[3] / "harness/verdict/schemas/verdict.schema.json"


def _sla(tmp_path: Path, objectives: str, defaults: str = "") -> Sla:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: test\n{defaults}objectives:\n{objectives}")
    return load_sla(path)


def _judge(run_dir: Path, sla: Sla, require_coverage: bool | None = None) -> Verdict:
    return evaluate(read_judged_run(run_dir), sla, require_coverage=require_coverage)


ONE_PASSING_ONE_SCOPED_AWAY = (
    '  - {operation: search, metric: latency, statistic: p50, limit: "< 300 ms"}\n'
    '  - {operation: search, metric: latency, statistic: p50, limit: "< 300 ms", scope: spike}\n'
)


def test_an_objective_on_a_stage_the_run_lacks_is_out_of_scope_not_a_silent_gap(
    tmp_path: Path,
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(60), 5, 10.0)
    verdict = _judge(run.finish(), _sla(tmp_path, ONE_PASSING_ONE_SCOPED_AWAY))
    scoped = verdict.checks[1]
    assert scoped.status == "not_exercised"
    assert scoped.out_of_scope == OutOfScope.STAGE_ABSENT
    assert verdict.exit_code == 0
    assert verdict.headline == (
        "PASS — 1 of 1 in-scope objectives met; 1 out of scope (stage not in scenario)"
    )


def test_an_in_scope_objective_left_unjudged_is_named_in_the_headline(tmp_path: Path) -> None:
    # a p99 over 20 requests: in scope (a locustfile plan's reach cannot be known), no_data
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(2), 10, 10.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p50, limit: "< 300 ms"}\n'
        '  - {operation: search, metric: latency, statistic: p99, limit: "< 300 ms"}\n',
    )
    verdict = _judge(run.finish(), sla)
    assert verdict.checks[1].status == "no_data"
    assert verdict.checks[1].out_of_scope is None
    assert verdict.status == "pass"
    assert verdict.coverage.ratio == pytest.approx(0.5)
    assert verdict.headline == ("PASS — 1 of 2 in-scope objectives met (1 not judged (1 no_data))")


@pytest.mark.parametrize(
    ("flag", "defaults", "exit_code"),
    [
        (None, "", 0),
        (True, "", 1),
        (None, "defaults: {require_coverage: true}\n", 1),
        (False, "defaults: {require_coverage: true}\n", 0),
    ],
)
def test_require_coverage_fails_the_gate_on_an_unjudged_in_scope_objective(
    tmp_path: Path, flag: bool | None, defaults: str, exit_code: int
) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(2), 10, 10.0)
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: latency, statistic: p50, limit: "< 300 ms"}\n'
        '  - {operation: search, metric: latency, statistic: p99, limit: "< 300 ms"}\n',
        defaults,
    )
    verdict = _judge(run.finish(), sla, require_coverage=flag)
    assert verdict.exit_code == exit_code
    if exit_code == 1:
        assert verdict.status == "fail"
        assert any("search.latency.p99" in reason for reason in verdict.reasons)
        suite = ET.fromstring(render_junit(verdict)).find("testsuite")
        assert suite is not None
        assert suite.get("failures") == "1"


def test_out_of_scope_objectives_never_fail_require_coverage(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(60), 5, 10.0)
    verdict = _judge(run.finish(), _sla(tmp_path, ONE_PASSING_ONE_SCOPED_AWAY), True)
    assert verdict.exit_code == 0
    assert verdict.coverage.in_scope == 1


def test_coverage_is_in_every_output(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("search", range(60), 5, 10.0)
    verdict = _judge(run.finish(), _sla(tmp_path, ONE_PASSING_ONE_SCOPED_AWAY))
    data = verdict.to_dict()
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["coverage"]["in_scope"] == 1
    assert data["coverage"]["out_of_scope"] == {"stage_absent": 1}
    assert data["headline"] == verdict.headline
    assert Verdict.from_dict(data).headline == verdict.headline
    assert "**1 of 1 in-scope objectives met; 1 out of scope" in render_summary(verdict)
    suite = ET.fromstring(render_junit(verdict)).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["headline"] == verdict.headline
    assert properties["objectives_in_scope"] == "1"
    assert properties["objectives_out_of_scope"] == "1"
    assert properties["coverage"] == "1.0000"


def test_the_ci_plan_puts_out_of_reach_figures_out_of_scope_and_keeps_the_rest() -> None:
    sla = load_sla(None)
    plan = plan_run("normal", "ci")

    def reason(objective_id: str) -> OutOfScope | None:
        objective = sla.objective(objective_id)
        limit = objective.limit.scaled(plan.scale.load(plan.model)) if objective.limit else None
        return out_of_scope(objective, plan, limit_value=limit.value if limit else None)

    # 20 users with the seed's think times offer ~21 rps, not the scaled 200 rps
    assert reason("product_search.throughput") == OutOfScope.THROUGHPUT_CAPACITY
    # payments are 2 % of journeys: ~10 requests in the minute, a p99 needs 100
    assert reason("payment_processing.latency.p99") == OutOfScope.SAMPLE_SIZE
    assert reason("api_gateway.throughput.burst") == OutOfScope.STAGE_ABSENT
    # product search gets hundreds of requests: a missing p95 would be the run's shortfall
    assert reason("product_search.latency.p95") is None
    assert reason("product_search.error_rate") is None


def test_a_throughput_the_plan_does_offer_stays_in_scope() -> None:
    sla = load_sla(None)
    plan = plan_run("normal", "ci")
    objective = sla.objective("product_search.throughput")
    assert out_of_scope(objective, plan, limit_value=1.0) is None


def test_measure_coverage_counts_by_status_and_reason() -> None:
    coverage = measure_coverage(
        [
            ("pass", None),
            ("warn", None),
            ("fail", None),
            ("no_data", None),
            ("not_exercised", "throughput_capacity"),
            ("no_data", "sample_size"),
        ]
    )
    assert (coverage.in_scope, coverage.judged, coverage.met, coverage.failed) == (4, 3, 2, 1)
    assert coverage.unjudged == {"no_data": 1}
    assert coverage.describe() == (
        "2 of 4 in-scope objectives met (1 failed; 1 not judged (1 no_data)); "
        "2 out of scope (sample size 1, throughput capacity 1)"
    )
