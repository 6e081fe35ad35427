"""A team's locustfile as a first-class journey, through `perfctl run` in a subprocess: its
users under the open model (one task of a fresh user per arrival, latencies corrected for
coordinated omission), its LoadTestShape when the scenario has no stages, and a mix with
flow journeys by weight; what cannot be run is exit 2 before any load."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.timeline import read_engine_summary, read_load, read_timeline
from tests.e2e.conftest import fetch_json, free_port

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SESSION_TARGET = Path(__file__).resolve().parent / "_session_target.py"

SHOP = """\
import time

from locust import FastHttpUser, HttpUser, LoadTestShape, SequentialTaskSet, constant, task


class Shopper(FastHttpUser):
    weight = 3
    wait_time = constant(0.1)

    def on_start(self):
        self.client.post("/login", name="login")

    @task(3)
    def browse(self):
        self.client.get("/browse", name="browse")

    @task(1)
    def buy(self):
        self.client.get("/buy", name="buy")

    def on_stop(self):
        self.client.post("/logout", name="logout")


class Article(SequentialTaskSet):
    @task
    def first_page(self):
        self.client.get("/read/1", name="read")

    @task
    def second_page(self):
        self.client.get("/read/2", name="read")


class Reader(HttpUser):
    weight = 1
    wait_time = constant(0)
    tasks = [Article]

    def on_start(self):
        self.client.post("/login", name="login")
"""

STALLING = """\
import time

from locust import FastHttpUser, task

STALL_AT = time.time() + 2.0
stalled = []


class Stalling(FastHttpUser):
    @task
    def browse(self):
        self.client.get("/browse", name="browse")
        if time.time() >= STALL_AT and not stalled:
            stalled.append(True)
            # the generator itself stalls for 1 s (a CPU-bound task, a GC pause): the
            # arrivals due meanwhile start late, and their latency must show it
            deadline = time.perf_counter() + 1.0
            while time.perf_counter() < deadline:
                pass
"""

SHAPED = """\
from locust import FastHttpUser, LoadTestShape, constant, task


class Browser(FastHttpUser):
    wait_time = constant(0.2)

    def on_start(self):
        self.client.post("/login", name="login")

    @task
    def browse(self):
        self.client.get("/browse", name="browse")


class TwoSteps(LoadTestShape):
    def tick(self):
        run_time = self.get_run_time()
        if run_time < 3:
            return (2, 10)
        if run_time < 6:
            return (5, 10)
        return None
"""

ITEMS_FLOW = (
    "  items: {weight: %(weight)s, think_time: 0.1s, steps: [{operation: items, path: /items}]}"
)

STEADY_30 = "  - {duration: 1s, rate: 30/s}\n  - {duration: 3s, rate: 30/s}\n"
"""A one-second ramp to 30 arrivals/s (the first stage ramps from 0), then 3 s at 30/s."""
ARRIVALS_30 = 15 + 90

OBJECTIVE = 'objectives:\n  - {operation: "*", metric: availability, limit: ">= 0 %"}\n'


@pytest.fixture
def session_target() -> Iterator[str]:
    """A fresh session target (tests/e2e/_session_target.py) on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SESSION_TARGET), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 15 s")


def _run(tmp_path: Path, scenario: str, locustfile: str, *args: str) -> Path:
    """Writes the scenario and its locustfile, runs `perfctl run` and returns the run dir."""
    (tmp_path / "team.py").write_text(locustfile)
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    done = subprocess.run(
        [PERFCTL, "run", str(path), "--out", str(tmp_path), "--run-id", "r", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "r"


def _within_4_sd(count: int, trials: int, share: float) -> bool:
    """Whether a binomial count is within 4 standard deviations of its mean (a false alarm
    about once in 16,000 runs)."""
    mean = trials * share
    return abs(count - mean) <= 4 * (trials * share * (1 - share)) ** 0.5


def _sessions(target: str) -> dict[str, list[str]]:
    data = fetch_json(f"{target}/sessions")
    assert isinstance(data, dict)
    return data


@pytest.mark.slow
def test_each_open_model_arrival_is_a_fresh_user_running_one_task(
    tmp_path: Path, session_target: str
) -> None:
    scenario = (
        "version: 1\nmodel: open\narrivals: uniform\ngraceful_stop: 5s\nsla: false\n"
        f"stages:\n{STEADY_30}"
        "journeys:\n  team: {locustfile: team.py, operations: [login, browse, buy, read, logout]}\n"
        + OBJECTIVE
    )
    run_dir = _run(tmp_path, scenario, SHOP, "--target", session_target)
    summary = read_engine_summary(run_dir)
    assert summary is not None
    assert summary.planned_arrivals == summary.started_arrivals == ARRIVALS_30
    sessions = _sessions(session_target)
    # one session per arrival (a fresh user, its own cookies), each: on_start, ONE task
    # (a SequentialTaskSet is one pass of its tasks), on_stop
    assert "-" not in sessions
    assert len(sessions) == ARRIVALS_30
    kinds = Counter(tuple(done) for done in sessions.values())
    assert set(kinds) <= {
        ("login", "browse", "logout"),
        ("login", "buy", "logout"),
        ("login", "read/1", "read/2"),
    }, kinds
    # class weights 3:1, then task weights 3:1 (binomial counts, 4 sd either side)
    readers = kinds[("login", "read/1", "read/2")]
    assert _within_4_sd(readers, ARRIVALS_30, 0.25)
    shoppers = ARRIVALS_30 - readers
    assert _within_4_sd(kinds[("login", "buy", "logout")], shoppers, 0.25)
    # every request carried the arrival's lag: each has a service time beside its corrected
    # latency (requests without an intended start have none)
    timeline = read_timeline(run_dir)
    assert timeline.counts("login").ok == ARRIVALS_30
    assert timeline.counts("read").ok == 2 * readers
    for operation in ("login", "browse", "buy", "read", "logout"):
        counts = timeline.counts(operation)
        assert counts.failed == 0
        assert timeline.histogram(operation, service=True).count == counts.ok, operation


@pytest.mark.slow
def test_open_model_team_latencies_are_corrected_for_coordinated_omission(
    tmp_path: Path, session_target: str
) -> None:
    scenario = (
        "version: 1\nmodel: open\narrivals: uniform\ngraceful_stop: 5s\nsla: false\n"
        "stages:\n  - {duration: 1s, rate: 20/s}\n  - {duration: 4s, rate: 20/s}\n"
        "journeys:\n  team: {locustfile: team.py, operations: [browse]}\n" + OBJECTIVE
    )
    timeline = read_timeline(_run(tmp_path, scenario, STALLING, "--target", session_target))
    assert timeline.counts("browse").ok == 90  # 10 in the ramp's second, 20/s after
    corrected_p99 = timeline.percentile_ms("browse", 99)
    service_p99 = timeline.percentile_ms("browse", 99, service=True)
    assert corrected_p99 is not None
    assert service_p99 is not None
    # the 20 arrivals due during the 1 s stall started up to 1 s late
    assert 700.0 <= corrected_p99 <= 1400.0
    assert service_p99 < 300.0


@pytest.mark.slow
def test_a_locustfile_shape_drives_the_users_of_a_scenario_without_stages(
    tmp_path: Path, session_target: str
) -> None:
    scenario = (
        "version: 1\nduration: 12s\ngraceful_stop: 2s\nsla: false\n"
        "journeys:\n  team: {locustfile: team.py, operations: [login, browse]}\n" + OBJECTIVE
    )
    run_dir = _run(tmp_path, scenario, SHAPED, "--target", session_target)
    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["locustfile_shape"] is True
    assert [stage["name"] for stage in plan["stages"]] == ["run"]
    summary = read_engine_summary(run_dir)
    assert summary is not None
    assert summary.status == "completed"
    # the shape ended the run after 6 s (+ the graceful stop), well before its 12 s
    assert summary.ended_at - summary.started_at < 10.5
    users = {
        round(sample.t - summary.started_at): sample.users
        for sample in read_load(run_dir)
        if sample.users is not None
    }
    # users over time follow the shape: 2 for 3 s, then 5 for 3 s, then none (the load
    # samples' seconds and the shape's clock may differ by up to a second: the step from 2 to
    # 5 users shows between seconds 2 and 3)
    assert users.get(1) == 2, users
    assert [users.get(second) for second in (4, 5)] == [5, 5], users
    assert max(users.values()) == 5
    assert len(_sessions(session_target)) == 5  # each user logged in once


@pytest.mark.slow
def test_closed_model_mixes_locustfile_users_and_flows_by_weight(
    tmp_path: Path, session_target: str
) -> None:
    scenario = (
        "version: 1\ngraceful_stop: 2s\nsla: false\n"
        "stages:\n  - {duration: 1s, users: 8}\n  - {duration: 3s, users: 8}\n"
        "journeys:\n  team: {weight: 1, locustfile: team.py, operations: [login, browse]}\n"
        + ITEMS_FLOW % {"weight": 3}
        + "\n"
        + OBJECTIVE
    )
    run_dir = _run(
        tmp_path, scenario, SHAPED.split("class TwoSteps")[0], "--target", session_target
    )
    # a weight of 1 in 4: 2 of the 8 users are the team's (each logs in once), 6 run the flow
    sessions = _sessions(session_target)
    assert len([sid for sid in sessions if sid != "-"]) == 2
    timeline = read_timeline(run_dir)
    assert timeline.counts("login").ok == 2
    assert timeline.counts("browse").ok > 10
    assert timeline.counts("items").ok > 30
    assert max(sample.users or 0 for sample in read_load(run_dir)) == 8


@pytest.mark.slow
def test_open_model_arrivals_pick_locustfile_users_and_flows_by_weight(
    tmp_path: Path, session_target: str
) -> None:
    scenario = (
        "version: 1\nmodel: open\narrivals: uniform\ngraceful_stop: 5s\nsla: false\n"
        f"stages:\n{STEADY_30}"
        "journeys:\n  team: {weight: 1, locustfile: team.py, operations: [login, browse]}\n"
        + ITEMS_FLOW % {"weight": 1}
        + "\n"
        + OBJECTIVE
    )
    run_dir = _run(
        tmp_path, scenario, SHAPED.split("class TwoSteps")[0], "--target", session_target
    )
    timeline = read_timeline(run_dir)
    team = timeline.counts("login").ok
    flows = timeline.counts("items").ok
    assert team + flows == ARRIVALS_30
    assert team == timeline.counts("browse").ok  # one task per arrival
    # even weights: binomial(ARRIVALS_30, 0.5), 4 sd either side
    assert _within_4_sd(team, ARRIVALS_30, 0.5)
    assert timeline.histogram("items", service=True).count == flows


@pytest.mark.parametrize(
    ("scenario", "locustfile", "args", "message"),
    [
        (
            "journeys:\n  browse: {weight: 1}\n",
            None,
            (),
            "`stages` is required",
        ),
        (
            "journeys:\n  team: {locustfile: team.py}\n",
            "from locust import FastHttpUser\nclass U(FastHttpUser):\n    pass\n",
            (),
            "team.py defines no LoadTestShape class",
        ),
        (
            "journeys:\n  team: {locustfile: team.py}\n",
            SHAPED,
            (),
            "needs `duration`",
        ),
        (
            "model: open\nduration: 10s\njourneys:\n  team: {locustfile: team.py}\n",
            SHAPED,
            (),
            "an open-model scenario needs `stages` with `rate`",
        ),
        (
            "model: open\nstages:\n  - {duration: 5s, rate: 5/s}\n"
            "journeys:\n  team: {locustfile: team.py}\n",
            "from locust import FastHttpUser\nclass Admin(FastHttpUser):\n    fixed_count = 1\n",
            (),
            "Admin of team.py set `fixed_count`",
        ),
        (
            "duration: 10s\njourneys:\n  team: {locustfile: team.py}\n",
            SHAPED,
            ("--profile", "smoke"),
            "profile 'smoke' bounds users (max_users: 5)",
        ),
    ],
)
def test_what_a_locustfile_scenario_cannot_run_is_exit_2_before_any_load(
    tmp_path: Path, scenario: str, locustfile: str | None, args: tuple[str, ...], message: str
) -> None:
    if locustfile is not None:
        (tmp_path / "team.py").write_text(locustfile)
    path = tmp_path / "scenario.yaml"
    path.write_text("version: 1\n" + scenario)
    done = subprocess.run(
        [PERFCTL, "run", str(path), "--out", str(tmp_path / "out"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
