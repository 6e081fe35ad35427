"""The reference backend under the real workload: peak's journey mix at full user counts.

The yardstick of the backend's performance is not a hello-world ratio but what the seed's
peak load costs it. For each configuration (1,000 users; 5,000; 10,000 with 2 Locust
workers) this starts `perfctl serve` on a free port, writes a plan of the peak scenario's
journeys and think times (its `perf` profile, the user count replaced) with a ramp and a
held stage `peak`, and runs it with perfctl itself (`perfctl run PLAN.json --target URL`),
so the load is exactly what a peak run sends. The figures come from the run directory
(read through `harness.verdict.read_judged_run`, over the held stage only) and from
psutil, which samples every second the CPU of the backend's process tree (`perfctl serve`
and its workers), of the generator's (`perfctl run`, its Locust master and workers) and of
every other process on the machine:

- offered rps (the plan's estimate, 50 ms a response assumed) against achieved rps;
- p95 and p99 of every request, and the error ratio (every outcome but `ok`);
- backend and generator CPU µs per request: CPU seconds over the held stage / requests
  completed in it;
- the trend of the backend's CPU per request: its first minute against its last (halves
  when the stage is shorter than two minutes); the goal is last/first <= 1.10 (`--long`:
  one 15-minute 5,000-user run for it).

Each run ramps at `--spawn-rate` users/s (the ramp is its warm-up), holds `--duration`
(2 minutes), and gives in-flight journeys 5 s at the end. The run is judged against sla.yaml
as any peak run is; when an objective's abort rule stops an overloaded run, the figures
cover the held stage up to the stop and the row says so. The defaults take about 6.5
minutes on a 2-core machine. Load and backend share this machine's cores with each other
and with whatever else runs (another benchmark, a profiler): each row says how the busy
cores were shared.

`--floor` runs each configuration a second time against the floor server (`serve_floor`):
the backend's server stack answering a fixed body, so that the backend's row can be read as
the floor's CPU per request plus the app's own.

    .venv/bin/python benchmarks/peak_bench.py [--configs 1000,5000,10000x2] [--duration 2m]
        [--spawn-rate 250] [--backend-workers 1] [--redis-url URL] [--database-url URL]
        [--long] [--json PATH] [--out DIR] [--profile] [--floor]

`--profile` also samples the backend's and the generator's Python stacks with py-spy (50 Hz,
without pausing them) for the whole run, writes them beside the run directory
(`RUN.backend.pyspy.txt`, `RUN.generator.pyspy.txt`: py-spy's raw format, one stack and its
sample count a line, for flame graph tools) and prints each one's functions that hold the
most samples, by self and by inclusive share. The sampler takes a few percent of a core.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

import psutil

from harness.plan import RunPlan, Scale, StagePlan
from harness.processes import die_with_parent, raise_open_files_limit, stop_process_group
from harness.rundir import EndCause
from harness.spec import OPERATION_ALL, estimated_rps, parse_duration_s, plan_run
from harness.verdict import JudgedRun, Span, read_judged_run, scope_span

REPO = Path(__file__).resolve().parents[1]
PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SCENARIO = "peak"
PROFILE = "perf"
HELD_STAGE = "peak"
PROFILE_RATE_HZ = 50
PROFILE_TOP = 12
"""Functions printed per profile, by self and by inclusive share."""
TREND_WINDOW_S = 60
FLATNESS_GOAL = 1.10
VERDICTS = {0: "pass", 1: "fail", 3: "inconclusive"}
"""`perfctl run` exit codes a finished run can have; anything else is an error here."""
ENDINGS = {EndCause.PLAN_FINISHED: "", EndCause.ABORT_ON_BREACH: "aborted on breach"}
"""How a run may end and still be measured: an objective's abort rule (sla.yaml's error-rate
KPI after 30 s) stops an overloaded run, and that is the configuration's result."""


class BenchError(Exception):
    """One configuration could not be measured; the others still are."""


@dataclass(frozen=True, slots=True)
class Config:
    """One configuration of the bench: how many users, from how many Locust processes."""

    users: int
    """Users held in the stage `peak`."""
    locust_workers: int = 0
    """`perfctl run --workers` (0: one local Locust process)."""
    floor: bool = False
    """Against the floor server (the backend's server stack answering a fixed body) instead
    of the backend."""

    @property
    def label(self) -> str:
        workers = f" x{self.locust_workers} workers" if self.locust_workers else ""
        floor = ", floor" if self.floor else ""
        return f"{self.users:,} users{workers}{floor}"


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds used so far, read at one moment."""

    t: float
    """Unix time of the reading."""
    backend_s: float
    """Every process of the backend's tree, each counted up to its last reading."""
    generator_s: float
    """The same for the `perfctl run` tree (runner, Locust master and workers)."""
    machine_busy_s: float
    """Every core of the machine, since boot (idle, iowait and steal left out)."""
    others: dict[int, tuple[str, float]]
    """Every other process: pid -> (`name[pid]`, CPU seconds)."""


@dataclass(frozen=True, slots=True)
class CpuSpent:
    """CPU seconds spent between two moments."""

    backend_s: float
    """By the backend's process tree."""
    generator_s: float
    """By the `perfctl run` process tree."""
    machine_busy_s: float
    """By every core of the machine."""
    others: list[tuple[str, float]]
    """By each other process (`name[pid]`), most first."""


@dataclass(frozen=True, slots=True)
class Row:
    """What one configuration measured over its held stage (`--json` writes these)."""

    config: str
    """The configuration as printed."""
    users: int
    """Users held."""
    locust_workers: int
    """`perfctl run --workers`."""
    backend_workers: int
    """`perfctl serve --workers`."""
    held_s: int
    """Seconds of the held stage the figures cover."""
    offered_rps: float
    """The plan's estimate of the request rate those users offer."""
    achieved_rps: float
    """Requests completed per second."""
    p95_ms: float | None
    """95th percentile latency of every request (None without one)."""
    p99_ms: float | None
    """99th percentile latency of every request."""
    error_ratio: float
    """Requests whose outcome was not `ok`, a 0-1 fraction."""
    backend_us_per_request: float
    """CPU of the backend's process tree per request completed."""
    generator_us_per_request: float
    """CPU of the `perfctl run` tree per request completed."""
    locust_us_per_request: float
    """CPU of the Locust processes alone (the run's load.jsonl) per request completed."""
    backend_first_us_per_request: float
    """The backend's CPU per request over the first trend window of the held stage."""
    backend_last_us_per_request: float
    """The same over its last trend window."""
    trend_window_s: int
    """Length of both trend windows: a minute, or half the stage when shorter than two."""
    verdict: str
    """The run's verdict against sla.yaml: pass, fail or inconclusive."""
    ended: str
    """Empty when the plan finished; `aborted on breach` when an abort rule stopped it (the
    figures then cover the held stage up to that moment)."""
    generator_saturated: bool
    """The engine reported the generator saturated or behind plan."""
    machine_cores: int
    """Cores this process may run on."""
    busy_cores: float
    """Cores the whole machine kept busy on average."""
    backend_cores: float
    """Of which the backend."""
    generator_cores: float
    """Of which the generator."""
    other_cores: float
    """Of which everything else (the bench's sampler, other agents, the system)."""
    top_others: list[tuple[str, float]] = field(default_factory=list)
    """The three other processes that used the most cores."""
    run_dir: str = ""
    """The run directory (deleted at the end unless --out)."""

    @property
    def trend_ratio(self) -> float:
        first = self.backend_first_us_per_request
        return self.backend_last_us_per_request / first if first > 0 else float("nan")


class _Tree:
    """A process and its descendants, whose CPU is kept even after a member exits."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.cpu_by_process: dict[tuple[int, float], float] = {}
        self.pids: set[int] = set()

    def cpu_s(self) -> float:
        try:
            members = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            members = []
        self.pids = set()
        for process in members:
            try:
                times = process.cpu_times()
                key = (process.pid, process.create_time())
            except psutil.Error:
                continue
            self.pids.add(process.pid)
            self.cpu_by_process[key] = times.user + times.system
        return sum(self.cpu_by_process.values())


class CpuSampler:
    """Reads the backend's, the generator's and every other process's CPU every second."""

    def __init__(self, backend_pid: int, generator_pid: int, interval_s: float = 1.0) -> None:
        self._backend = _Tree(backend_pid)
        self._generator = _Tree(generator_pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self.samples: list[CpuSample] = []

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            self.samples.append(self._read())
            if self._stop.wait(self._interval_s):
                self.samples.append(self._read())
                return

    def _read(self) -> CpuSample:
        backend_s, generator_s = self._backend.cpu_s(), self._generator.cpu_s()
        ours = self._backend.pids | self._generator.pids
        others: dict[int, tuple[str, float]] = {}
        for process in psutil.process_iter(["name", "cpu_times"]):
            times = process.info["cpu_times"]
            if process.pid not in ours and times is not None:
                name = f"{process.info['name']}[{process.pid}]"
                others[process.pid] = (name, times.user + times.system)
        machine = psutil.cpu_times()
        busy_s = sum(machine) - machine.idle - machine.iowait - machine.steal
        return CpuSample(time.time(), backend_s, generator_s, busy_s, others)

    def between(self, start_t: float, end_t: float) -> CpuSpent:
        """CPU spent in [start_t, end_t), interpolated between readings; each other
        process's from the readings nearest to both ends."""
        first, last = self._at(start_t), self._at(end_t)
        before = min(self.samples, key=lambda sample: abs(sample.t - start_t)).others
        after = min(self.samples, key=lambda sample: abs(sample.t - end_t)).others
        others = [
            (name, cpu_s - before.get(pid, (name, 0.0))[1]) for pid, (name, cpu_s) in after.items()
        ]
        return CpuSpent(
            last.backend_s - first.backend_s,
            last.generator_s - first.generator_s,
            last.machine_busy_s - first.machine_busy_s,
            sorted(others, key=lambda other: -other[1]),
        )

    def _at(self, t: float) -> CpuSample:
        samples = self.samples
        if not samples or not samples[0].t <= t <= samples[-1].t:
            raise BenchError(f"the CPU readings do not cover unix time {t:.0f}")
        after = next(index for index, sample in enumerate(samples) if sample.t >= t)
        low, high = samples[max(after - 1, 0)], samples[after]
        share = (t - low.t) / (high.t - low.t) if high.t > low.t else 1.0

        def mix(name: str) -> float:
            low_s, high_s = getattr(low, name), getattr(high, name)
            return float(low_s + (high_s - low_s) * share)

        return CpuSample(t, mix("backend_s"), mix("generator_s"), mix("machine_busy_s"), {})


def parse_configs(text: str) -> list[Config]:
    """`1000,5000,10000x2`: users, and `xN` for N Locust workers."""
    configs = []
    for item in text.split(","):
        users, times, workers = item.strip().partition("x")
        try:
            config = Config(int(users), int(workers) if times else 0)
        except ValueError:
            config = Config(0)
        if config.users < 1 or config.locust_workers < 0:
            raise SystemExit(f"error: --configs: {item!r} is not USERS or USERSxWORKERS")
        configs.append(config)
    return configs


def bench_plan(users: int, ramp_s: float, held_s: float) -> RunPlan:
    """Peak's journeys under the perf profile, `users` reached in `ramp_s` and held for
    `held_s`; the ramp is the warm-up. In-flight journeys get 5 s at the end, not 30."""
    base = plan_run(SCENARIO, PROFILE)
    seed_users = max(stage.users_end or 0 for stage in base.stages)
    seed_duration_s = plan_run(SCENARIO).duration_s
    load = users / seed_users
    return replace(
        base,
        scale=Scale(users=load, rate=load, time=(ramp_s + held_s) / seed_duration_s),
        stages=(
            StagePlan("ramp-up", 0.0, ramp_s, users_start=0, users_end=users),
            StagePlan(HELD_STAGE, ramp_s, held_s, users_start=users, users_end=users),
        ),
        warmup_s=ramp_s,
        graceful_stop_s=5.0,
        tags={"bench": "peak_bench"},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own session (Ctrl-C reaches the bench only, which stops it in order)
    that dies with the bench."""
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, deadline_s: float) -> None:
    give_up_at = time.monotonic() + deadline_s
    while time.monotonic() < give_up_at:
        if process.poll() is not None:
            raise BenchError(f"the backend exited with {process.returncode} (log: {log})")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{url}/ready did not answer within {deadline_s:.0f} s (log: {log})")


def run_config(config: Config, args: argparse.Namespace, out: Path) -> Row:
    """Start the backend, drive it with the plan, stop both; the row of figures."""
    ramp_s = max(10.0, config.users / args.spawn_rate)
    plan = bench_plan(config.users, ramp_s, args.duration_s)
    floor = "-floor" if config.floor else ""
    run_id = f"peak-bench-{config.users}u-{config.locust_workers}w{floor}-{int(time.time())}"
    plan_file = out / f"{run_id}.plan.json"
    plan_file.write_text(json.dumps(plan.to_dict(), indent=2))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if config.floor:
        serve = [sys.executable, __file__, "--serve-floor", str(port)]
    else:
        serve = [PERFCTL, "serve", "--port", str(port), "--workers", str(args.backend_workers)]
        serve += ["--redis-url", args.redis_url] if args.redis_url else []
        serve += ["--database-url", args.database_url] if args.database_url else []
    command = [PERFCTL, "run", str(plan_file), "--target", url, "--out", str(out)]
    command += ["--run-id", run_id, "--quiet", "--workers", str(config.locust_workers)]
    backend_log, run_log = out / f"{run_id}.backend.log", out / f"{run_id}.run.log"
    # the plan, Locust's own start and stop, the verdict and the report
    deadline_s = plan.duration_s + plan.graceful_stop_s + 300
    print(f"  {config.label}: {plan.duration_s:.0f} s of load (log: {run_log})", file=sys.stderr)
    backend = start(serve, backend_log)
    runner: subprocess.Popen[bytes] | None = None
    profiles: list[Profiling] = []
    try:
        wait_ready(url, backend, backend_log, deadline_s=180)
        runner = start(command, run_log)
        profiles = [
            profile(pid, out / f"{run_id}.{name}.pyspy.txt")
            for name, pid in (("backend", backend.pid), ("generator", runner.pid))
            if args.profile
        ]
        with CpuSampler(backend.pid, runner.pid) as sampler:
            try:
                code = runner.wait(timeout=deadline_s)
            except subprocess.TimeoutExpired:
                raise BenchError(f"{run_id} overran {deadline_s:.0f} s") from None
    finally:
        if runner is not None:
            stop_process_group(runner, grace_s=20)
        stop_process_group(backend, grace_s=20)
        for sampling in profiles:
            sampling.finish()
    for sampling in profiles:
        print_profile(sampling.path, f"{config.label}, {sampling.path.name.split('.')[-3]}")
    if code not in VERDICTS:
        raise BenchError(f"perfctl run exited {code} (log: {run_log})")
    return figures(config, args, read_judged_run(out / run_id), sampler, VERDICTS[code])


@dataclass(frozen=True, slots=True)
class Profiling:
    """A py-spy process sampling one process tree into `path`."""

    process: subprocess.Popen[bytes]
    path: Path

    def finish(self) -> None:
        """py-spy writes its file when the sampled process exits, or on Ctrl-C."""
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            stop_process_group(self.process, grace_s=30)


def profile(pid: int, path: Path) -> Profiling:
    """Samples the stacks of `pid` and its children with py-spy until stopped."""
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking"]
    command += ["--subprocesses", "--rate", str(PROFILE_RATE_HZ), "--format", "raw"]
    command += ["--output", str(path), "--pid", str(pid)]
    return Profiling(start(command, path.with_suffix(".log")), path)


def top_functions(path: Path) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Samples in a raw py-spy file; the functions holding the most, by self and inclusive."""
    own: Counter[str] = Counter()
    within: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame.split(" (", 1)[0] + _where(frame) for frame in stack.split(";")]
        frames = [frame for frame in frames if not frame.startswith("process ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            within[frame] += count
    return samples, own.most_common(PROFILE_TOP), within.most_common(PROFILE_TOP)


def _where(frame: str) -> str:
    """` (file.py:line)` of a py-spy frame `function (path/file.py:line)`, file name only."""
    _, _, location = frame.partition(" (")
    return f" ({Path(location.rstrip(')')).name})" if location else ""


def print_profile(path: Path, label: str) -> None:
    if not path.exists() or path.stat().st_size == 0:
        print(f"profile of {label}: py-spy wrote nothing (log: {path.with_suffix('.log')})")
        return
    samples, own, within = top_functions(path)
    print(f"\nprofile of {label}: {samples:,} samples ({path})")
    for title, rows in (("self", own), ("inclusive", within)):
        print(f"  {title}:")
        for name, count in rows:
            print(f"    {count / max(samples, 1):6.1%}  {name}")


def figures(
    config: Config, args: argparse.Namespace, run: JudgedRun, sampler: CpuSampler, verdict: str
) -> Row:
    """The row of `run`, over its held stage, with the CPU the sampler read during it."""
    cause = run.record.end_cause
    if run.run_status not in ("completed", "degraded", "aborted") or cause not in ENDINGS:
        raise BenchError(f"{run.run_dir}: the run ended {run.run_status}: {run.record.exit_reason}")
    span = scope_span(run.plan, run.clock, HELD_STAGE)
    if not isinstance(span, Span) or span.duration_s < 2:
        reason = span.reason if not isinstance(span, Span) else "it lasted under 2 s"
        raise BenchError(f"{run.run_dir}: no held stage to measure ({reason})")
    counts = run.data.counts(OPERATION_ALL, span.start_t, span.end_t)
    requests = max(counts.total, 1)
    latency = run.data.histogram(OPERATION_ALL, span.start_t, span.end_t)
    cpu = sampler.between(span.start_t, span.end_t)
    window_s = min(TREND_WINDOW_S, span.duration_s // 2)
    first = Span(span.start_t, span.start_t + window_s)
    last = Span(span.end_t - window_s, span.end_t)
    locust_s = sum(
        sum(sample.cpu_percent.values()) / 100
        for sample in run.load
        if span.start_t <= sample.t < span.end_t
    )
    other_s = max(cpu.machine_busy_s - cpu.backend_s - cpu.generator_s, 0.0)
    held = next(stage for stage in run.plan.stages if stage.name == HELD_STAGE)
    return Row(
        config=config.label,
        users=config.users,
        locust_workers=config.locust_workers,
        backend_workers=1 if config.floor else args.backend_workers,
        held_s=span.duration_s,
        offered_rps=estimated_rps(run.plan, held),
        achieved_rps=counts.total / span.duration_s,
        p95_ms=latency.percentile_ms(95.0),
        p99_ms=latency.percentile_ms(99.0),
        error_ratio=counts.failed / requests,
        backend_us_per_request=cpu.backend_s / requests * 1e6,
        generator_us_per_request=cpu.generator_s / requests * 1e6,
        locust_us_per_request=locust_s / requests * 1e6,
        backend_first_us_per_request=backend_us_per_request(run, sampler, first),
        backend_last_us_per_request=backend_us_per_request(run, sampler, last),
        trend_window_s=window_s,
        verdict=verdict,
        ended=ENDINGS[cause],
        generator_saturated=run.saturated,
        machine_cores=len(os.sched_getaffinity(0)),
        busy_cores=cpu.machine_busy_s / span.duration_s,
        backend_cores=cpu.backend_s / span.duration_s,
        generator_cores=cpu.generator_s / span.duration_s,
        other_cores=other_s / span.duration_s,
        top_others=[(name, cpu_s / span.duration_s) for name, cpu_s in cpu.others[:3]],
        run_dir=str(run.run_dir),
    )


def backend_us_per_request(run: JudgedRun, sampler: CpuSampler, window: Span) -> float:
    requests = run.data.counts(OPERATION_ALL, window.start_t, window.end_t).total
    cpu = sampler.between(window.start_t, window.end_t)
    return cpu.backend_s / max(requests, 1) * 1e6


def print_table(rows: list[Row]) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    print(
        f"\n{'configuration':<24} {'offered':>8} {'achieved':>9} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7} {'backend':>8} {'generator':>9}   {'backend µs/req trend':<24} verdict"
    )
    print(f"{'':<24} {'rps':>8} {'rps':>9} {'':>7} {'':>7} {'':>7} {'µs/req':>8} {'µs/req':>9}")
    for row in rows:
        trend = (
            f"{row.backend_first_us_per_request:,.0f} -> {row.backend_last_us_per_request:,.0f}"
            f" ({row.trend_ratio:.2f})"
        )
        saturated = ", generator saturated" if row.generator_saturated else ""
        saturated += f", {row.ended} ({row.held_s} s held)" if row.ended else ""
        print(
            f"{row.config:<24} {row.offered_rps:>8,.0f} {row.achieved_rps:>9,.0f} "
            f"{ms(row.p95_ms):>7} {ms(row.p99_ms):>7} {row.error_ratio:>7.3%} "
            f"{row.backend_us_per_request:>8,.0f} {row.generator_us_per_request:>9,.0f}   "
            f"{trend:<24} {row.verdict}{saturated}"
        )
    print()
    for row in rows:
        top = ", ".join(f"{name} {cores:.2f}" for name, cores in row.top_others)
        print(
            f"{row.config}: {row.held_s} s held; {row.machine_cores} cores, "
            f"{row.busy_cores:.2f} busy: backend {row.backend_cores:.2f} "
            f"({row.backend_workers} worker{'s' if row.backend_workers > 1 else ''}), "
            f"generator {row.generator_cores:.2f} (Locust alone "
            f"{row.locust_us_per_request:,.0f} µs/req), others {row.other_cores:.2f} "
            f"(most: {top or 'none'})"
        )
    windows = sorted({row.trend_window_s for row in rows})
    flat = [row for row in rows if row.trend_ratio <= FLATNESS_GOAL]
    print(
        f"\ntrend: backend CPU per request over the first vs the last "
        f"{'/'.join(str(w) for w in windows)} s of the held stage; {len(flat)} of {len(rows)} "
        f"within the flatness goal (last/first <= {FLATNESS_GOAL:.2f})"
    )


def print_machine(sample_s: float = 2.0) -> None:
    """The cores this bench may use and what was busy on them just before it started."""
    processes = list(psutil.process_iter(["name"]))
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.cpu_percent()  # the first call starts the measurement
    time.sleep(sample_s)
    busy: list[tuple[float, str]] = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            busy.append((process.cpu_percent() / 100, f"{process.info['name']}[{process.pid}]"))
    busy.sort(reverse=True)
    top = ", ".join(f"{name} {cores:.2f}" for cores, name in busy[:4] if cores >= 0.01)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"machine: {len(os.sched_getaffinity(0))} of {os.cpu_count()} cores; load average "
        f"{load}; busy before the bench (cores): {top or 'nothing'}",
        flush=True,
    )


def serve_floor(port: int) -> None:
    """The floor server (run in the child process): the backend's server stack exactly as
    `perfctl serve` configures it (uvicorn, uvloop, the backend's `HttpProtocol`, its
    keep-alive and listen backlog, one process) under a Starlette app with one route that
    answers every method and path 200 with a fixed 13-byte JSON body, without reading the
    request body, without middleware. What the backend costs per request beyond this is
    its own work: gateway, routing, handlers, cache, database, compression."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from reference_backend.http_protocol import HttpProtocol
    from reference_backend.server import bind_listener, uvicorn_options

    body = b'{"items": []}'

    async def anything(request: Request) -> Response:
        return Response(body, media_type="application/json")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", anything, methods=methods)])
    config = uvicorn.Config(app, http=HttpProtocol, **uvicorn_options())
    uvicorn.Server(config).run(sockets=[bind_listener("127.0.0.1", port)])


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="1000,5000,10000x2", help="USERS[xWORKERS],...")
    parser.add_argument("--duration", default="2m", help="held stage per configuration")
    parser.add_argument("--spawn-rate", type=float, default=250.0, help="users started per s")
    parser.add_argument("--backend-workers", type=int, default=1)
    parser.add_argument("--redis-url", help="`perfctl serve --redis-url`")
    parser.add_argument("--database-url", help="`perfctl serve --database-url`")
    parser.add_argument("--long", action="store_true", help="one 15-minute 5,000-user run")
    parser.add_argument("--out", type=Path, help="keep the run directories here")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", action="store_true", help="py-spy the backend and generator")
    parser.add_argument(
        "--floor", action="store_true", help="also run each configuration against the floor server"
    )
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return
    configs = [Config(5000)] if args.long else parse_configs(args.configs)
    if args.floor:
        configs = [c for config in configs for c in (config, replace(config, floor=True))]
    try:
        args.duration_s = parse_duration_s("15m" if args.long else args.duration)
    except ValueError as error:
        raise SystemExit(f"error: --duration: {error}") from None
    if args.duration_s < 2 or args.spawn_rate <= 0 or args.backend_workers < 1:
        raise SystemExit(
            "error: --duration must be 2 s at least, --spawn-rate and --backend-workers positive"
        )
    signal.signal(signal.SIGTERM, _interrupt)
    raise_open_files_limit()
    print_machine()
    rows: list[Row] = []
    failed: list[str] = []
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="perfctl-peak-bench-") as scratch:
        out = (args.out or Path(scratch)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        for config in configs:
            try:
                rows.append(run_config(config, args, out))
            except BenchError as error:
                failed.append(f"{config.label}: {error}")
                print(f"error: {failed[-1]}", file=sys.stderr)
            except KeyboardInterrupt:
                interrupted = True
                print("interrupted: the backend and the load were stopped", file=sys.stderr)
                break
        if rows:
            print_table(rows)
        if args.json:
            written = [dataclasses.asdict(row) | {"trend_ratio": row.trend_ratio} for row in rows]
            args.json.write_text(json.dumps(written, indent=2) + "\n")
    for failure in failed:
        print(f"not measured: {failure}")
    if args.out:
        print(f"run directories: {args.out}")
    if interrupted:
        raise SystemExit(130)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
