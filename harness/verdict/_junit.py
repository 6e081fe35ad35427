"""junit.xml: one test case per check, so CI systems show the SLA as tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.verdict._coverage import UNJUDGED_STATUSES, OutOfScope
from harness.verdict._format import format_limit, format_measured
from harness.verdict._model import Verdict

_SKIPPED = {"not_exercised", "no_data", "inconclusive"}


def render_junit(verdict: Verdict) -> str:
    """The verdict as JUnit XML: fail → <failure>, not judged → <skipped>, warn → passes with output."""
    counts = verdict.counts
    coverage = verdict.coverage
    uncovered = {
        check.id
        for check in verdict.checks
        if coverage.required and check.status in UNJUDGED_STATUSES and check.out_of_scope is None
    }
    suites = ET.Element("testsuites", name="perfctl")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"perfctl SLA: {verdict.run.get('scenario', 'run')}",
        tests=str(len(verdict.checks)),
        failures=str(counts["fail"] + len(uncovered)),
        errors="0",
        skipped=str(sum(counts[status] for status in _SKIPPED) - len(uncovered)),
    )
    properties = ET.SubElement(suite, "properties")
    for key in ("run_id", "scenario", "profile", "target"):
        if key in verdict.run:
            ET.SubElement(properties, "property", name=key, value=str(verdict.run[key]))
    ET.SubElement(properties, "property", name="verdict", value=verdict.status)
    for name, value in (
        ("headline", verdict.headline),
        ("coverage", f"{coverage.ratio:.4f}" if coverage.ratio is not None else ""),
        ("objectives_in_scope", str(coverage.in_scope)),
        ("objectives_judged", str(coverage.judged)),
        ("objectives_out_of_scope", str(coverage.out_of_scope_total)),
        ("require_coverage", str(coverage.required).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for check in verdict.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"sla.{check.operation}", name=check.id, time="0"
        )
        measured = format_measured(check)
        summary = (
            f"{check.statistic} {check.metric}: measured {measured}, limit {format_limit(check)}"
        )
        if check.status == "fail":
            failure = ET.SubElement(case, "failure", message=summary, type=f"sla.{check.severity}")
            failure.text = "\n".join(
                [check.message, *(f"action: {action}" for action in check.actions)]
            )
        elif check.id in uncovered:
            failure = ET.SubElement(case, "failure", message=summary, type="sla.coverage")
            failure.text = f"{check.status} in scope, and --require-coverage: {check.message}"
        elif check.status in _SKIPPED:
            scope = (
                f"out of scope ({OutOfScope(check.out_of_scope).label}); "
                if check.out_of_scope
                else ""
            )
            ET.SubElement(case, "skipped", message=f"{check.status}: {scope}{check.message}")
        elif check.status == "warn":
            ET.SubElement(case, "system-out").text = f"warning: {summary}. {check.message}"
        elif check.status == "marginal":
            ET.SubElement(
                case, "system-out"
            ).text = f"too close to call: {summary}. {check.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def write_junit(verdict: Verdict, path: Path) -> None:
    path.write_text(render_junit(verdict) + "\n", encoding="utf-8")
