"""`perfctl capacity` against the embedded reference backend: real steps, real runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_ci_profile_finds_a_bounded_knee_from_judged_steps(tmp_path: Path) -> None:
    done = subprocess.run(
        [PERFCTL, "capacity", "-p", "ci", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (capacity_dir,) = [path for path in tmp_path.iterdir() if path.is_dir()]
    assert capacity_dir.name.endswith("-capacity")
    record = json.loads((capacity_dir / "capacity.json").read_text())
    assert record["schema"] == 1
    assert record["profile"] == "ci"
    assert record["target"] == "embedded"
    steps = record["steps"]
    knee = record["knee"]
    assert f"capacity: {capacity_dir / 'capacity.json'}" in done.stdout
    assert f"knee: {knee['summary']}" in " ".join(done.stdout.split())

    # the climb doubles from the first rate until a step breaks or the generator falls short
    rates = [step["rate_per_s"] for step in steps]
    assert rates[0] == 20.0
    assert len(steps) <= record["settings"]["max_steps"]
    for step in steps:  # every step is a run of its own, judged on its own
        run_dir = capacity_dir / step["run_id"]
        assert (run_dir / "run.json").is_file()
        assert (run_dir / "verdict.json").is_file()
        assert (capacity_dir / "steps" / f"{step['run_id']}.plan.json").is_file()

    held = [s["rate_per_s"] for s in steps if s["held"] and s["delivered"]]
    broke = [s["rate_per_s"] for s in steps if not s["held"]]
    assert knee["bound"] in {"found", "generator", "steps"}
    assert knee["held_rate_per_s"] == max(held)
    if knee["bound"] == "found":
        assert knee["broke_rate_per_s"] == min(broke)
        assert knee["held_rate_per_s"] < knee["broke_rate_per_s"]
        assert knee["relative_half_width"] <= record["settings"]["precision"]
        assert knee["limiting_objective"] in {s["limiting_objective"] for s in steps}
        assert knee["achieved_rps"] > 0
    # rates that held all lie below rates that broke: the search never contradicts itself
    assert not broke or max(held) < min(broke)
