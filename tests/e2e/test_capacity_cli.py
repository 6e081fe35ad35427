"""`perfctl capacity` against the embedded reference backend: real steps, real runs, and the
throughput objectives judged from the knee, by the search itself and by a later verdict."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
REPO = Path(__file__).resolve().parents[2]


def perfctl(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.fixture(scope="module")
def searched(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("capacity")
    # the ci profile's search, started near the knee (the default 20/s adds three held steps)
    done = perfctl(
        "capacity", "-p", "ci", "--start-rate", "160/s", "--out", str(out), timeout_s=300
    )
    assert done.returncode in (0, 1, 3), done.stderr
    (capacity_dir,) = [path for path in out.iterdir() if path.is_dir()]
    return capacity_dir, done


@pytest.mark.slow
def test_the_ci_profile_finds_a_bounded_knee_from_judged_steps(
    searched: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    capacity_dir, done = searched
    assert capacity_dir.name.endswith("-capacity")
    record = json.loads((capacity_dir / "capacity.json").read_text())
    assert record["schema"] == 2
    assert record["profile"] == "ci"
    assert record["target"] == "embedded"
    (search,) = record["searches"]
    assert search["instances"] == 1
    steps, knee = search["steps"], search["knee"]
    assert f"capacity: {capacity_dir / 'capacity.json'}" in done.stdout
    assert f"knee: {knee['summary']}" in " ".join(done.stdout.split())
    assert f"report: {capacity_dir / 'report.html'}" in done.stdout
    assert (capacity_dir / "report.html").is_file()

    # the climb doubles from the first rate until a step breaks or the generator falls short
    rates = [step["rate_per_s"] for step in steps]
    assert record["settings"]["start_rate_per_s"] == 160.0
    assert record["settings"]["precision"] == 0.15  # the ci profile's
    assert rates[0] == 160.0
    climb = rates[: next((i for i, s in enumerate(steps) if not s["held"]), len(rates)) + 1]
    assert climb == [160.0 * 2**i for i in range(len(climb))]
    assert len(steps) <= record["settings"]["max_steps"]
    for step in steps:  # every step is a run of its own, judged on its own, with its figures
        run_dir = capacity_dir / step["run_id"]
        assert step["run_id"].startswith("1x-step-")
        assert (run_dir / "run.json").is_file()
        assert (run_dir / "verdict.json").is_file()
        assert (capacity_dir / "steps" / f"{step['run_id']}.plan.json").is_file()
        assert step["achieved_rps"] > 0
        assert step["latency_p99_ms"] >= step["latency_p95_ms"] > 0
        assert step["generator_cpu_cores"] > 0
        assert sum(step["achieved_rps_by_operation"].values()) == pytest.approx(
            step["achieved_rps"], rel=0.05
        )

    held = [s["rate_per_s"] for s in steps if s["held"] and s["delivered"]]
    broke = [s["rate_per_s"] for s in steps if not s["held"]]
    assert knee["bound"] in {"found", "generator", "steps"}
    assert knee["held_rate_per_s"] == max(held)
    if knee["bound"] == "found":
        assert knee["broke_rate_per_s"] == min(broke)
        assert knee["held_rate_per_s"] < knee["broke_rate_per_s"]
        assert knee["relative_half_width"] <= record["settings"]["precision"]
        assert knee["limiting_objective"] in {s["limiting_objective"] for s in steps}
    if knee["bound"] == "generator":
        assert knee["summary"].startswith("at least")
        assert "generator's limit" in knee["summary"]
    assert knee["achieved_rps"] > 0
    # rates that held all lie below rates that broke: the search never contradicts itself
    assert not broke or max(held) < min(broke)
    # one instance: the scaling is assumed linear, and the record says so
    assert record["scaling"]["measured"] is False
    assert "assumed" in record["scaling"]["note"]


@pytest.mark.slow
def test_the_search_judges_every_throughput_objective_and_exits_on_them(
    searched: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    capacity_dir, done = searched
    record = json.loads((capacity_dir / "capacity.json").read_text())
    checks = {check["id"]: check for check in record["checks"]}
    assert "api_gateway.throughput.burst" in checks
    assert "capacity.breaking_point" in checks
    assert {check["judged_by"] for check in checks.values()} == {"capacity"}
    gateway = checks["api_gateway.throughput.target"]
    assert gateway["basis"]["max_instances"] == 50
    assert gateway["basis"]["rps_per_instance"] > 0
    statuses = {check["status"] for check in checks.values()}
    expected = 1 if "fail" in statuses else 3 if "inconclusive" in statuses else 0
    assert done.returncode == expected
    assert "Throughput judged from the knee" in done.stdout


@pytest.mark.slow
def test_a_later_verdict_judges_unoffered_throughput_from_the_capacity_run(
    searched: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    capacity_dir, _ = searched
    step_dir = capacity_dir / "1x-step-01"  # 20 arrivals/s: far below every throughput figure

    def throughput(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in verdict["checks"] if c["metric"] == "throughput"}

    copy = tmp_path / "runs" / "step"
    shutil.copytree(step_dir, copy)
    alone = perfctl("evaluate", str(copy))  # no capacity run beside it: out of scope
    assert alone.returncode in (0, 1, 3), alone.stderr
    verdict = json.loads((copy / "verdict.json").read_text())
    gateway = throughput(verdict)["api_gateway.throughput.target"]
    assert gateway["status"] == "not_exercised"
    assert gateway["out_of_scope"] == "throughput_capacity"
    assert verdict["capacity_run"] is None

    judged = perfctl("evaluate", str(copy), "--capacity", str(capacity_dir))
    assert judged.returncode in (0, 1, 3), judged.stderr
    verdict = json.loads((copy / "verdict.json").read_text())
    assert verdict["capacity_run"] == capacity_dir.name
    gateway = throughput(verdict)["api_gateway.throughput.target"]
    assert gateway["judged_by"] == "capacity"
    assert gateway["status"] in {"pass", "fail", "inconclusive"}
    assert gateway["message"].startswith("the run could not offer this load")
    assert f"Throughput judged from capacity run {capacity_dir.name}" in " ".join(
        judged.stdout.split()
    )

    # the newest capacity run beside a run of the same target (the embedded backend) judged
    # with the same SLA is found by itself
    shutil.copytree(capacity_dir, tmp_path / "runs" / capacity_dir.name)
    record = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**record, "target_embedded": True}))
    found = perfctl("evaluate", str(copy))
    assert found.returncode == judged.returncode
    verdict = json.loads((copy / "verdict.json").read_text())
    assert verdict["capacity_run"] == capacity_dir.name

    # a capacity run measured with another SLA does not judge this one
    other = tmp_path / "other-sla.yaml"
    other.write_text((REPO / "sla.yaml").read_text() + "\n# another SLA\n")
    mismatched = perfctl(
        "evaluate", str(copy), "--sla", str(other), "--capacity", str(capacity_dir)
    )
    assert mismatched.returncode == 2
    assert "was judged with another SLA" in mismatched.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "http://127.0.0.1:9", "--instances", "2"],
            "needs --scaled-target URL",
        ),
        (["--scaled-target", "http://127.0.0.1:9"], "--scaled-target needs --target"),
        (["--precision", "1.5"], "--precision must lie between 0 and 1"),
        (["--start-rate", "fast"], "expected a rate such as"),
        (["--hold", "soon"], "expected a duration such as"),
        (["normal"], "capacity needs an open-model scenario"),
    ],
)
def test_bad_capacity_options_are_one_line_usage_errors(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = perfctl("capacity", *args, "--out", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


def test_a_capacity_option_naming_no_capacity_run_is_a_usage_error(tmp_path: Path) -> None:
    done = perfctl("evaluate", str(tmp_path), "--capacity", str(tmp_path))
    assert done.returncode == 2
    assert "not a capacity directory" in done.stderr
    (tmp_path / "capacity.json").write_text("{not json")
    done = perfctl("evaluate", str(tmp_path), "--capacity", str(tmp_path))
    assert done.returncode == 3
    assert "capacity.json: not valid JSON" in done.stderr


@pytest.mark.slow
def test_instances_two_measures_the_scaling_with_the_generators_cores_taken_out(
    tmp_path: Path,
) -> None:
    # two short steps per search: enough to run both searches for real and compare their knees
    done = perfctl(
        "capacity",
        "-p",
        "ci",
        "--instances",
        "2",
        "--start-rate",
        "100/s",
        "--max-steps",
        "2",
        "--hold",
        "4s",
        "--warmup",
        "1s",
        "--out",
        str(tmp_path),
        timeout_s=240,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    (capacity_dir,) = [path for path in tmp_path.iterdir() if path.is_dir()]
    record = json.loads((capacity_dir / "capacity.json").read_text())
    one, two = record["searches"]
    assert (one["instances"], two["instances"]) == (1, 2)
    assert [s["run_id"] for s in two["steps"]] == ["2x-step-01", "2x-step-02"]
    assert (capacity_dir / "logs" / "backend-2x.log").is_file()
    scaling = record["scaling"]
    assert scaling["instances"] == 2
    if scaling["measured"]:  # both searches found a rate that held below any lower bound
        knee_1 = one["knee"]["achieved_rps"]
        knee_2 = two["knee"]["achieved_rps"]
        assert scaling["raw_efficiency"] == pytest.approx(knee_2 / (2 * knee_1))
        assert set(scaling["target_cores"]) == {"1", "2"}
        assert 0 < scaling["target_cores"]["2"] <= 2
        assert "the generator shared the machine's" in scaling["note"]
    else:
        assert "assumed" in scaling["note"]
    assert f"scaling: {scaling['note']}" in " ".join(done.stdout.split())
