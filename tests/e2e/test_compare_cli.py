"""`perfctl compare` through the installed console script: its exit code is the gate."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness._synthetic_run import SyntheticRun, simple_plan

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def _run(path: Path, seed: int, *, added_ms: float = 0.0) -> Path:
    rng = random.Random(seed)
    run = SyntheticRun(path, simple_plan(operations=("product_search", "product_detail")))
    for offset in range(120):
        searches = [rng.lognormvariate(2.0, 0.3) + added_ms for _ in range(20)]
        run.add("product_search", offset, searches)
        run.add("product_detail", offset, [rng.lognormvariate(0.5, 0.3) for _ in range(20)])
    return run.finish()


def _compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, "compare", *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    parent = tmp_path_factory.mktemp("compare")
    return {
        "base": _run(parent / "base", 1),
        "same": _run(parent / "same", 2),
        # +5 ms on a ~7 ms search: above both the 10 % threshold and the 1 ms floor
        "slow": _run(parent / "slow", 3, added_ms=5.0),
    }


def test_two_runs_of_the_same_code_exit_0(runs: dict[str, Path], tmp_path: Path) -> None:
    result = _compare(str(runs["base"]), str(runs["same"]), "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NO REGRESSION" in result.stdout
    recorded = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    assert recorded["regression"] is False
    assert recorded["method"]["correction"] == "holm"


def test_added_latency_exits_1_naming_the_operation(runs: dict[str, Path], tmp_path: Path) -> None:
    result = _compare(str(runs["base"]), str(runs["slow"]), "--out", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    recorded = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    flagged = {(c["operation"], c["figure"]) for c in recorded["changes"] if c["regression"]}
    assert ("product_search", "p50_ms") in flagged
    assert not {op for op, _ in flagged} & {"product_detail"}


def test_a_floor_above_the_change_passes_the_gate(runs: dict[str, Path], tmp_path: Path) -> None:
    result = _compare(
        str(runs["base"]), str(runs["slow"]), "--min-change", "10", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    assert recorded["min_change_ms"] == 10.0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--min-change", "-1"),
        ("--min-change", "nan"),
        ("--min-error-change", "lots"),
        ("--min-throughput-change", "-0.5"),
    ],
)
def test_a_bad_floor_is_a_usage_error(runs: dict[str, Path], option: str, value: str) -> None:
    result = _compare(str(runs["base"]), str(runs["same"]), option, value)
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    assert option in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
