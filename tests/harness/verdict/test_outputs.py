"""verdict.json, junit.xml and summary.md: valid against their schemas, readable by CI systems."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from harness.verdict._model import Check, Verdict, overall_status
from harness.verdict._outputs import read_verdict, write_verdict


def _check(check_id: str, status: str, **extra: object) -> Check:
    fields: dict[str, object] = {
        "id": check_id,
        "operation": check_id.split(".")[0],
        "metric": "latency",
        "statistic": "p95",
        "comparator": "<",
        "limit": 300.0,
        "unit": "ms",
        "status": status,
        "severity": "high",
        "measured": 350.0 if status in ("fail", "warn") else 120.0,
        "message": f"{status} message",
    }
    fields.update(extra)
    return Check(**fields)  # type: ignore[arg-type]


@pytest.fixture
def verdict() -> Verdict:
    checks = (
        _check("search.latency.p95", "pass"),
        _check("checkout.latency.p95", "fail", actions=("Urgent response", "Resource scaling")),
        _check("recs.latency.p99", "warn", warn_limit=500.0),
        _check("support.latency.p95", "not_exercised", measured=None),
        _check("<script>alert(1)</script>.latency.p99", "no_data", measured=None),
        _check(
            "*.throughput",
            "inconclusive",
            metric="throughput",
            unit="rps",
            comparator=">=",
            limit=100.0,
            seed_limit=10000.0,
            statistic="rate",
        ),
    )
    status, reasons = overall_status(checks, "completed")
    return Verdict(status, checks, reasons=reasons, run={"run_id": "r1", "scenario": "normal"})


def _schema(name: str) -> bytes:
    return (resources.files("harness.verdict") / "schemas" / name).read_bytes()


def test_verdict_json_matches_its_schema_and_reads_back(tmp_path: Path, verdict: Verdict) -> None:
    write_verdict(tmp_path, verdict)
    data = json.loads((tmp_path / "verdict.json").read_text())
    jsonschema.validate(data, json.loads(_schema("verdict.schema.json")))
    assert data["schema"] == 1
    assert data["status"] == "fail"
    assert data["exit_code"] == 1
    assert data["counts"]["fail"] == 1
    assert read_verdict(tmp_path) == verdict


def test_schema_rejects_a_check_without_status(tmp_path: Path, verdict: Verdict) -> None:
    data = verdict.to_dict()
    del data["checks"][0]["status"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(_schema("verdict.schema.json")))


def test_junit_validates_and_maps_each_status(tmp_path: Path, verdict: Verdict) -> None:
    write_verdict(tmp_path, verdict)
    document = etree.parse(str(tmp_path / "junit.xml"))
    etree.XMLSchema(etree.fromstring(_schema("junit.xsd"))).assertValid(document)
    suite = document.getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "1", "3")
    failure = document.find(".//testcase[@name='checkout.latency.p95']/failure")
    assert failure is not None
    assert "measured 350 ms" in failure.get("message", "")
    assert "limit < 300 ms" in failure.get("message", "")
    assert "action: Resource scaling" in (failure.text or "")
    names = [case.get("name") for case in document.iter("testcase")]
    assert (
        "<script>alert(1)</script>.latency.p99" in names
    )  # escaped by the writer, read back intact


def test_summary_leads_with_the_verdict_and_lists_what_needs_attention(
    tmp_path: Path, verdict: Verdict
) -> None:
    write_verdict(tmp_path, verdict)
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## perfctl: ❌ FAIL")
    assert "checkout.latency.p95" in summary
    assert "recs.latency.p99" in summary
    assert "search.latency.p95" not in summary  # passing checks stay out of the way
    assert "Resource scaling" in summary


def test_throughput_shows_the_seed_figure_beside_the_scaled_limit(verdict: Verdict) -> None:
    from harness.verdict._format import format_limit

    assert format_limit(verdict.checks[-1]) == ">= 100.0 rps (seed 10,000.0 rps)"
