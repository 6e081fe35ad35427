"""`perfctl capacity` calibrated against targets whose knee is known in advance.

One real `perfctl serve --workers 1` backend for the module; faults set through its admin
API make the knee predictable:

- `cpu_burn_ms: 2` on every route: each request costs 2 ms of CPU more than the backend's
  own, so one worker saturates at 1 / (2 ms + own CPU per request) requests/s, the own CPU
  measured in the same test by a step without the fault (the capacity scenario's mix);
- a `rate` latency (`base_ms + ms_per_rps × this worker's request rate over the last
  second`): an objective `latency p50 < L ms` breaks at (L - own p50 - base_ms) / ms_per_rps
  requests/s, own p50 measured in the same test without the fault, far below the CPU's limit.

Each search starts at 3/4 of the predicted knee (in journey arrivals per second, converted
with the requests per journey measured without the fault) with short steps, so it takes
five steps. The figures are printed: they are the calibration a reader checks.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from harness.rundir import CapacitySearch, CapacityStep, read_capacity_record
from tests.e2e.conftest import ADMIN_TOKEN, free_port, set_faults

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
REPO = Path(__file__).resolve().parents[2]

HOLD = "4s"
WARMUP = "1s"
PRECISION = 0.05
MAX_STEPS = 6
CALIBRATION_HOLD = "8s"
"""Twice a search step's: the own CPU per request is the prediction's noisiest input."""
CALIBRATION_RATE_PER_S = 150.0
"""Journey arrivals/s of the step without faults: near the CPU-bound knee (about 350 req/s),
so the backend's fixed costs (the 1 s /metrics scrape) are spread over as many requests."""

CPU_BURN_MS = 2.0
CPU_LATENCY_LIMIT_MS = 250.0
"""The CPU-bound SLA's one objective: p95 of every request under this. A 2.7 ms request
queues for a fraction of this until the CPU nears 100 %; past saturation the queue (and the
wait) grows by (rate / capacity - 1) seconds every second, so a 5 s step over by 5 % breaks
it. The knee the objective draws is then the CPU's, within a few percent either side."""
CPU_TOLERANCE = 0.10
"""The issue's claim: the knee within ±10 % of 1 / (2 ms + own CPU per request)."""

RATE_MS_PER_RPS = 0.5
RATE_BASE_MS = 10.0
RATE_LATENCY_LIMIT_MS = 110.0
RATE_CALIBRATION_RATE_PER_S = 200.0
"""Arrivals/s of the step without faults that measures own p50: about the predicted knee."""
RATE_SCENARIO = """\
version: 1
title: One request per arrival
description: The rate fault's calibration, one inventory check per journey, evenly spaced.
model: open
arrivals: uniform
max_concurrency: 2000
warmup: 1s
stages:
  - {name: step, duration: 1m, rate: 100/s}
journeys:
  inventory: {weight: 1, think_time: 0}
"""
"""The rate fault's workload: every second holds exactly the step's rate of requests. With
the capacity scenario's Poisson arrivals of 1- to 4-request journeys, a second's count moves
by about 15 %, and a 4 s step's p50 (the median of four such seconds, weighted by their
requests) strays from its mean rate by up to 10 %: a blur of the knee as wide as the search's
precision, which belongs to short steps, not to the search."""
RATE_TOLERANCE = 0.02
"""How far a step's req/s may lie on the wrong side of the predicted knee and still be judged
as the model says. With evenly spaced single requests a step's p50 is own p50 + base +
ms_per_rps × its rate, to within the 1 ms or so own p50 moves (0.5 % of the knee) and a
request or two of count in a second."""


def sla(path: Path, objective_id: str, statistic: str, limit_ms: float) -> Path:
    """An SLA of one latency objective on every request, judged over each step."""
    path.write_text(
        "version: 1\n"
        "name: capacity calibration\n"
        "objectives:\n"
        f"  - id: {objective_id}\n"
        '    operation: "*"\n'
        "    metric: latency\n"
        f"    statistic: {statistic}\n"
        f'    limit: "< {limit_ms:g} ms"\n'
    )
    return path


@dataclass(frozen=True, slots=True)
class Searched:
    """One `perfctl capacity` search and how long it took."""

    search: CapacitySearch
    """The one search capacity.json holds."""
    capacity_dir: Path
    """Its capacity directory."""
    wall_s: float
    """Seconds the command ran."""

    def step_at(self, rate_per_s: float | None) -> CapacityStep:
        (step,) = [s for s in self.search.steps if s.rate_per_s == rate_per_s]
        return step


def capacity(
    target: str,
    sla_path: Path,
    out: Path,
    start_rate_per_s: float,
    *,
    scenario: str = "capacity",
    max_steps: int = MAX_STEPS,
    hold: str = HOLD,
) -> Searched:
    """Runs `perfctl capacity SCENARIO` against `target` and reads back its one search."""
    started = time.monotonic()
    done = subprocess.run(
        [
            PERFCTL,
            "capacity",
            scenario,
            "--target",
            target,
            "--sla",
            str(sla_path),
            "--out",
            str(out),
            "--start-rate",
            f"{start_rate_per_s:.0f}/s",
            "--hold",
            hold,
            "--warmup",
            WARMUP,
            "--precision",
            str(PRECISION),
            "--max-steps",
            str(max_steps),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall_s = time.monotonic() - started
    # no throughput objective in these SLAs: nothing to judge from the knee, exit 0
    assert done.returncode == 0, done.stdout + done.stderr
    (capacity_dir,) = [path for path in out.iterdir() if path.is_dir()]
    record = read_capacity_record(capacity_dir)
    return Searched(record.single, capacity_dir, wall_s)


def steps_table(searched: Searched) -> str:
    lines = []
    for step in searched.search.steps:
        verdict = "held" if step.held else f"broke ({step.limiting_objective})"
        cpu = f"{step.server_cpu_cores:.2f}" if step.server_cpu_cores is not None else "?"
        lines.append(
            f"    {step.rate_per_s:7.1f} arrivals/s -> {step.achieved_rps or 0:7.1f} req/s, "
            f"p95 {step.latency_p95_ms or 0:7.1f} ms, server {cpu} cores: {verdict}"
        )
    return "\n".join(lines)


def cpu_ms(step: CapacityStep) -> str:
    """The step's server CPU per request completed, in ms (what the prediction assumes)."""
    if step.server_cpu_cores is None or not step.achieved_rps:
        return "?"
    return f"{1000 * step.server_cpu_cores / step.achieved_rps:.3f}"


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """Prints the calibration figures in the test output, captured or not."""
    with capsys.disabled():
        print(f"\n{text}")


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    """`perfctl serve --workers 1 --admin-token ...` on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [PERFCTL, "serve", "--workers", "1", "--admin-token", ADMIN_TOKEN, "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"perfctl serve on {url} did not get ready") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def calibrate(
    target: str, scenario: str, rate_per_s: float, hold: str, work: Path
) -> tuple[CapacityStep, float]:
    """One capacity step without faults: the step and the p50 of every request, in ms."""
    set_faults(target, [])
    sla_path = sla(work / "own-sla.yaml", "requests.latency.p50", "p50", 1000)
    searched = capacity(
        target, sla_path, work / "own", rate_per_s, scenario=scenario, max_steps=1, hold=hold
    )
    (step,) = searched.search.steps
    assert step.held
    verdict = orjson.loads((searched.capacity_dir / step.run_id / "verdict.json").read_bytes())
    (p50_ms,) = [check["measured"] for check in verdict["checks"]]
    return step, float(p50_ms)


@pytest.mark.slow
def test_the_cpu_bound_knee_is_one_over_the_cpu_per_request(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own, _ = calibrate(backend, "capacity", CALIBRATION_RATE_PER_S, CALIBRATION_HOLD, tmp_path)
    assert own.achieved_rps
    assert own.server_cpu_cores
    own_cpu_ms = 1000 * own.server_cpu_cores / own.achieved_rps
    requests_per_journey = own.achieved_rps / own.rate_per_s
    predicted_rps = 1000 / (CPU_BURN_MS + own_cpu_ms)
    set_faults(backend, [{"route": "*", "cpu_burn_ms": CPU_BURN_MS}])
    try:
        searched = capacity(
            backend,
            sla(tmp_path / "sla.yaml", "requests.latency.p95", "p95", CPU_LATENCY_LIMIT_MS),
            tmp_path / "out",
            0.75 * predicted_rps / requests_per_journey,
        )
    finally:
        set_faults(backend, [])
    knee = searched.search.knee
    report(capsys, steps_table(searched))
    assert knee.bound == "found", knee.summary
    held = searched.step_at(knee.held_rate_per_s)
    broke = searched.step_at(knee.broke_rate_per_s)
    assert held.achieved_rps is not None
    assert broke.achieved_rps is not None
    # the knee lies between the two steps: its request rate is the middle of theirs
    found_rps = math.sqrt(held.achieved_rps * broke.achieved_rps)
    report(
        capsys,
        f"cpu_burn {CPU_BURN_MS:g} ms, one worker, p95 < {CPU_LATENCY_LIMIT_MS:g} ms:\n"
        f"  own CPU per request {own_cpu_ms:.3f} ms at {own.achieved_rps:.0f} req/s "
        f"({requests_per_journey:.2f} requests per journey)\n"
        f"  predicted knee {predicted_rps:.1f} req/s = 1 / ({CPU_BURN_MS:g} + "
        f"{own_cpu_ms:.3f}) ms\n"
        f"  found knee {found_rps:.1f} req/s ({found_rps / predicted_rps - 1:+.1%}): "
        f"held {held.achieved_rps:.1f} req/s ({held.achieved_rps / predicted_rps - 1:+.1%}), "
        f"broke {broke.achieved_rps:.1f} req/s; {knee.summary}\n"
        f"  CPU per request with the fault: {cpu_ms(held)} ms at the knee step, "
        f"{cpu_ms(broke)} ms at the step that broke\n"
        f"  search: {len(searched.search.steps)} steps in {searched.wall_s:.1f} s",
    )
    assert found_rps == pytest.approx(predicted_rps, rel=CPU_TOLERANCE)


@pytest.mark.slow
def test_a_latency_that_rises_with_load_breaks_at_its_predicted_rate(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "one-request.yaml"
    scenario.write_text(RATE_SCENARIO)
    _, own_p50_ms = calibrate(backend, str(scenario), RATE_CALIBRATION_RATE_PER_S, HOLD, tmp_path)
    predicted_rps = (RATE_LATENCY_LIMIT_MS - own_p50_ms - RATE_BASE_MS) / RATE_MS_PER_RPS
    latency = {"kind": "rate", "ms_per_rps": RATE_MS_PER_RPS, "base_ms": RATE_BASE_MS}
    set_faults(backend, [{"route": "*", "latency": latency}])
    try:
        searched = capacity(
            backend,
            sla(tmp_path / "sla.yaml", "requests.latency.p50", "p50", RATE_LATENCY_LIMIT_MS),
            tmp_path / "out",
            0.75 * predicted_rps,  # one request per arrival
            scenario=str(scenario),
        )
    finally:
        set_faults(backend, [])
    knee = searched.search.knee
    report(capsys, steps_table(searched))
    assert knee.bound == "found", knee.summary
    held = searched.step_at(knee.held_rate_per_s)
    broke = searched.step_at(knee.broke_rate_per_s)
    assert held.achieved_rps is not None
    assert broke.achieved_rps is not None
    found_rps = math.sqrt(held.achieved_rps * broke.achieved_rps)
    report(
        capsys,
        f"rate latency {RATE_BASE_MS:g} ms + {RATE_MS_PER_RPS:g} ms per req/s, "
        f"p50 < {RATE_LATENCY_LIMIT_MS:g} ms, one request per arrival:\n"
        f"  own p50 {own_p50_ms:.2f} ms\n"
        f"  predicted knee {predicted_rps:.1f} req/s = ({RATE_LATENCY_LIMIT_MS:g} - "
        f"{own_p50_ms:.2f} - {RATE_BASE_MS:g}) / {RATE_MS_PER_RPS:g}\n"
        f"  found knee {found_rps:.1f} req/s ({found_rps / predicted_rps - 1:+.1%}): "
        f"held {held.achieved_rps:.1f} req/s, broke {broke.achieved_rps:.1f} req/s; "
        f"{knee.summary}\n"
        f"  search: {len(searched.search.steps)} steps in {searched.wall_s:.1f} s",
    )
    for step in searched.search.steps:
        assert step.achieved_rps is not None
        # one request per evenly spaced arrival, and no CPU limit in sight: the target
        # completes every step's rate, and the step's record must say so
        assert step.achieved_rps == pytest.approx(step.rate_per_s, rel=RATE_TOLERANCE), step
        # every step is judged by its request rate: below the knee it held, above it broke
        if step.held:
            assert step.achieved_rps <= predicted_rps * (1 + RATE_TOLERANCE), step
        else:
            assert step.achieved_rps >= predicted_rps * (1 - RATE_TOLERANCE), step
    # the knee is the search's interval: within its precision of the prediction
    assert found_rps == pytest.approx(predicted_rps, rel=PRECISION + RATE_TOLERANCE)
