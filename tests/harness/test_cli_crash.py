"""An unexpected exception in perfctl is exit 3 with one line, never 1 ("an objective
failed"), which a CI would read as a failed SLA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import harness.cli


def test_a_bug_is_exit_3_in_one_line_with_the_traceback_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crashing_app(*args: Any, **kwargs: Any) -> None:
        raise KeyError("'across' is undefined")

    monkeypatch.setattr(harness.cli, "app", crashing_app)
    monkeypatch.setattr("sys.argv", ["perfctl", "report", "reports/x"])
    with pytest.raises(SystemExit) as stopped:
        harness.cli.main()
    assert stopped.value.code == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: internal error: KeyError: ")
    assert "this is a bug in perfctl; traceback in " in lines[0]
    report = Path(lines[0].rsplit("traceback in ", 1)[1].rstrip(")"))
    assert "crashing_app" in report.read_text()
    report.unlink()
