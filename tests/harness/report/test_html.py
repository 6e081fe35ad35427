"""Figures embedded in a page: no string can close the script element; NaN becomes a gap."""

from __future__ import annotations

import json

from harness.report._capacity_entries import CapacityEntry
from harness.report._html import embed, render


def test_a_figure_cannot_close_its_script_element() -> None:
    hostile = "</script><script>alert(1)</script>&amp;"
    text = str(embed({"data": [{"name": hostile}], "layout": {}}))
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text)["data"][0]["name"] == hostile


def test_nan_and_infinity_embed_as_gaps() -> None:
    text = str(embed({"data": [{"y": [1.0, float("nan"), float("inf")]}]}))
    assert json.loads(text) == {"data": [{"y": [1.0, None, None]}]}


def test_templates_escape_every_substitution() -> None:
    page = render(
        "index.html.j2",
        version="0",
        generated_at="now",
        plotly_src="plotly.min.js",
        runs=[],
        scenarios=[],
        trends=[{"scenario": '"><img src=x onerror=alert(1)>', "runs": 1, "figures": []}],
        comparisons=[],
        capacities=[
            CapacityEntry(name="c", href="", knee_summary='"><img src=x onerror=alert(2)>'),
            CapacityEntry(name="d", href="", error='"><img src=x onerror=alert(3)>'),
        ],
        skipped=0,
    )
    assert "<img" not in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
