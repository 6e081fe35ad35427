"""Figures as a person reads them in a verdict: no float noise, no lost precision."""

from __future__ import annotations

import pytest

from harness.verdict._format import format_share, format_value


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (89.8006, "percent", "89.8 %"),  # a server's CPU: not 89.8006
        (0.923249, "ratio", "92.3 %"),
        (100.0, "percent", "100 %"),
        (0.04, "percent", "0.04 %"),
        (0.000569, "ratio", "0.0569 %"),  # an error rate keeps the digits a 99.95 % needs
        (0.9995, "ratio", "99.95 %"),
        (0.997477, "ratio", "99.75 %"),  # near 100, the digits of what is missing
        (0.999254, "ratio", "99.925 %"),
        (1.0, "ratio", "100 %"),
        (0.0, "ratio", "0 %"),
        (105.0, "percent", "105 %"),
        (477.43, "ms", "477 ms"),
        (12.345, "ms", "12.3 ms"),
        (None, "ms", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


def test_format_share() -> None:
    assert format_share(1396 / 408682) == "0.342 %"  # not "0 %"
    assert format_share(0.56) == "56 %"
