"""junit.xml: one test case per check, so CI systems show the SLA as tests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.verdict._format import format_limit, format_value
from harness.verdict.model import Verdict

_SKIPPED = {"not_exercised", "no_data", "inconclusive"}


def render_junit(verdict: Verdict) -> str:
    """The verdict as JUnit XML: fail → <failure>, not judged → <skipped>, warn → passes with output."""
    counts = verdict.counts
    suites = ET.Element("testsuites", name="perfctl")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"perfctl SLA: {verdict.run.get('scenario', 'run')}",
        tests=str(len(verdict.checks)),
        failures=str(counts["fail"]),
        errors="0",
        skipped=str(sum(counts[status] for status in _SKIPPED)),
    )
    properties = ET.SubElement(suite, "properties")
    for key in ("run_id", "scenario", "profile", "target"):
        if key in verdict.run:
            ET.SubElement(properties, "property", name=key, value=str(verdict.run[key]))
    ET.SubElement(properties, "property", name="verdict", value=verdict.status)
    for check in verdict.checks:
        case = ET.SubElement(
            suite, "testcase", classname=f"sla.{check.operation}", name=check.id, time="0"
        )
        measured = format_value(check.measured, check.unit)
        summary = (
            f"{check.statistic} {check.metric}: measured {measured}, limit {format_limit(check)}"
        )
        if check.status == "fail":
            failure = ET.SubElement(case, "failure", message=summary, type=f"sla.{check.severity}")
            failure.text = "\n".join(
                [check.message, *(f"action: {action}" for action in check.actions)]
            )
        elif check.status in _SKIPPED:
            ET.SubElement(case, "skipped", message=f"{check.status}: {check.message}")
        elif check.status == "warn":
            ET.SubElement(case, "system-out").text = f"warning: {summary}. {check.message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def write_junit(verdict: Verdict, path: Path) -> None:
    path.write_text(render_junit(verdict) + "\n", encoding="utf-8")
