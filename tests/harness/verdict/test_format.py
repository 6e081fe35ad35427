"""Figures as a person reads them in a verdict: no float noise, no lost precision."""

from __future__ import annotations

import pytest

from harness.verdict._format import format_value


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (89.8006, "percent", "89.8 %"),  # a server's CPU: tenths, not 89.8006
        (100.0, "percent", "100 %"),
        (0.04, "percent", "0.04 %"),
        (0.000569, "ratio", "0.0569 %"),  # an error rate keeps the digits a 99.95 % needs
        (0.9995, "ratio", "99.95 %"),
        (477.43, "ms", "477 ms"),
        (12.345, "ms", "12.3 ms"),
        (None, "ms", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected
