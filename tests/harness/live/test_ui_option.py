"""`perfctl run --ui [PORT]`: the port is optional (Typer has no optional option values, so
`cli.main` gives a bare `--ui` the default port before parsing)."""

from __future__ import annotations

import pytest

from harness.cli import _optional_ui_port
from harness.live import DEFAULT_UI_PORT


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        (["run", "smoke", "--ui"], ["run", "smoke", f"--ui={DEFAULT_UI_PORT}"]),
        (["run", "--ui", "smoke"], ["run", f"--ui={DEFAULT_UI_PORT}", "smoke"]),
        (
            ["run", "smoke", "--ui", "--quiet"],
            ["run", "smoke", f"--ui={DEFAULT_UI_PORT}", "--quiet"],
        ),
        (["run", "smoke", "--ui", "9000"], ["run", "smoke", "--ui", "9000"]),
        (["run", "smoke", "--ui=9000"], ["run", "smoke", "--ui=9000"]),
        (["run", "smoke", "--ui", "0"], ["run", "smoke", "--ui", "0"]),
        (["run", "smoke"], ["run", "smoke"]),
        (["evaluate", "--ui"], ["evaluate", "--ui"]),  # only `run` has --ui
    ],
)
def test_a_bare_ui_gets_the_default_port(given: list[str], parsed: list[str]) -> None:
    assert _optional_ui_port(given) == parsed
