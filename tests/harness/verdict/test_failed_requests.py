"""Failed requests are judged as what the user got: an error is never a fast response, and
k6's own split between failed requests and failed checks is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec import plan_run
from harness.spec._sla import Sla, load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._model import Verdict
from tests.harness._synthetic_run import SyntheticRun, simple_plan

P95 = '  - {operation: search, metric: latency, statistic: p95, limit: "< 300 ms"}\n'


def _sla(tmp_path: Path, objectives: str) -> Sla:
    path = tmp_path / "sla.yaml"
    path.write_text(f"version: 1\nname: failures\nobjectives:\n{objectives}")
    return load_sla(path)


def _judge(run_dir: Path, sla: Sla, *, strict: bool = False) -> Verdict:
    return evaluate(read_judged_run(run_dir), sla, strict=strict)


def _failing_run(tmp_path: Path, ok: int, failed: int, outcome: str = "http_4xx") -> Path:
    run = SyntheticRun(tmp_path / "run", simple_plan())
    for offset in range(100):
        if ok:
            run.add("search", offset, [20.0] * ok)
        if failed:
            latency = 0.0 if outcome == "connection_error" else 5.0
            run.add("search", offset, [latency] * failed, outcome, error="HTTP 404")
    return run.finish()


def test_a_latency_only_sla_cannot_pass_an_operation_that_answered_404(tmp_path: Path) -> None:
    """Issue 10: with a path in --target, operations got 100 % HTTP 404 while a latency-only
    verdict said PASS (404s come back fast)."""
    verdict = _judge(_failing_run(tmp_path, ok=0, failed=10), _sla(tmp_path, P95))
    (check,) = verdict.checks
    assert check.status == "fail"
    assert check.measured is not None
    assert check.measured < 300  # the 404s were fast
    assert "1,000 of 1,000 requests failed (100.0%, mostly http_4xx)" in check.message
    assert verdict.status == "fail"
    assert verdict.exit_code == 1


def test_refused_connections_fail_a_latency_only_sla_instead_of_no_data(tmp_path: Path) -> None:
    run_dir = _failing_run(tmp_path, ok=0, failed=10, outcome="connection_error")
    verdict = _judge(run_dir, _sla(tmp_path, P95))
    assert verdict.checks[0].status == "fail"
    assert "mostly connection_error" in verdict.checks[0].message


@pytest.mark.parametrize(
    ("statistic", "failed", "status"),
    [
        ("p95", 4, "pass"),  # 4 % failed: within the 5 % a p95 leaves beyond its limit
        ("p95", 6, "fail"),
        ("p50", 40, "pass"),
        ("p50", 60, "fail"),
        ("p99", 2, "fail"),
        ("mean", 40, "pass"),
        ("mean", 60, "fail"),
    ],
)
def test_failures_beyond_what_the_statistic_allows_breach_it(
    tmp_path: Path, statistic: str, failed: int, status: str
) -> None:
    objective = (
        f"  - {{operation: search, metric: latency, statistic: {statistic}, "
        'limit: "< 300 ms", min_samples: 1}\n'
    )
    verdict = _judge(
        _failing_run(tmp_path, ok=100 - failed, failed=failed), _sla(tmp_path, objective)
    )
    assert verdict.checks[0].status == status


def test_an_error_objective_for_the_operation_judges_its_failures(tmp_path: Path) -> None:
    """With an error_rate objective on the operation, the failures are its business: the
    latency is judged on what was measured."""
    sla = _sla(tmp_path, P95 + '  - {operation: search, metric: error_rate, limit: "< 20 %"}\n')
    latency, errors = _judge(_failing_run(tmp_path, ok=90, failed=10), sla).checks
    assert (latency.status, errors.status) == ("pass", "pass")


K6_SLA = '  - {operation: "*", metric: latency, statistic: p95, limit: "< 1 s"}\n'


def _k6_run(tmp_path: Path, outcome: str, per_second: int, name: str = "k6") -> Path:
    """The k6-seed scenario with `per_second` requests of each operation having `outcome`."""
    plan = plan_run("k6-seed", "smoke")
    run = SyntheticRun(tmp_path / name, plan)
    for offset in range(int(plan.duration_s)):
        for operation in ("product_search", "recommendations"):
            run.add(operation, offset, [100.0] * (100 - per_second))
            if per_second:
                run.add(operation, offset, [600.0] * per_second, outcome)
    return run.finish()


def test_k6_seed_failed_checks_are_not_failed_requests(tmp_path: Path) -> None:
    """k6's http_req_failed counts failed requests only; a slow 200 fails a check(), which
    k6 counts in its `checks` rate and, without a threshold on it, only prints."""
    verdict = _judge(_k6_run(tmp_path, "check_failed", 5), _sla(tmp_path, K6_SLA))
    by_id = {check.id: check for check in verdict.checks}
    assert by_id["http_req_failed"].status == "pass"
    assert by_id["http_req_failed"].measured == 0.0
    assert by_id["checks"].status == "warn"
    assert by_id["checks"].measured == pytest.approx(0.95)
    assert verdict.exit_code == 0
    assert (
        _judge(
            _k6_run(tmp_path, "check_failed", 5, "strict"), _sla(tmp_path, K6_SLA), strict=True
        ).exit_code
        == 1
    )


def test_k6_seed_failed_requests_fail_http_req_failed(tmp_path: Path) -> None:
    verdict = _judge(_k6_run(tmp_path, "http_5xx", 5), _sla(tmp_path, K6_SLA))
    by_id = {check.id: check for check in verdict.checks}
    assert by_id["http_req_failed"].status == "fail"
    assert by_id["http_req_failed"].measured == pytest.approx(0.05)
    assert verdict.exit_code == 1


def test_checks_and_failed_requests_objectives_in_an_sla(tmp_path: Path) -> None:
    sla = _sla(
        tmp_path,
        '  - {operation: search, metric: error_rate, statistic: requests, limit: "< 1 %"}\n'
        '  - {operation: search, metric: error_rate, limit: "< 1 %"}\n'
        '  - {operation: search, metric: checks, limit: "> 99 %"}\n',
    )
    failed_requests, errors, checks = _judge(
        _failing_run(tmp_path, ok=95, failed=5, outcome="check_failed"), sla
    ).checks
    assert (failed_requests.status, errors.status, checks.status) == ("pass", "fail", "fail")
    assert checks.unit == "ratio"
