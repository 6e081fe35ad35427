"""The perfctl command line: parses, calls one function per command, maps errors to exit codes."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness import __version__
from harness.errors import (
    EXIT_CODE_TABLE,
    EXIT_INTERRUPTED,
    EXIT_RUN,
    EXIT_SLA_FAILED,
    EXIT_USAGE,
    BackendError,
    PerfctlError,
    UsageError,
)

if TYPE_CHECKING:
    from harness.pipeline import BaselineGate

_EXIT_CODES_HELP = "\n\n".join(f"{code:>3}  {meaning}" for code, meaning in EXIT_CODE_TABLE)

app = typer.Typer(
    name="perfctl",
    help=(
        "Performance testing and SLA verification: drive a target with Locust, judge every "
        "objective of sla.yaml, gate CI with the exit code, leave an HTML report."
    ),
    epilog=f"Exit codes:\n\n{_EXIT_CODES_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"perfctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Performance testing and SLA verification harness."""


# -- reference backend ----------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to bind (0: any free).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes behind the port.")] = 1,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help="Redis URL (Redis 5 or later) shared by every worker: the cache tier, the rate "
            "limit and the checkout lock (else each is per process)."
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="postgresql:// URL (else embedded SQLite).")
    ] = None,
    catalog_size: Annotated[int, typer.Option(min=1, help="Products to seed.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the deterministic data generator.")] = 42,
    admin_token: Annotated[
        str | None,
        typer.Option(help="Enables the /admin fault-injection routes, guarded by this token."),
    ] = None,
    rate_limit_per_s: Annotated[
        float,
        typer.Option(
            min=0, help="Requests per second each client key may send (0: no rate limit)."
        ),
    ] = 5000.0,
    rate_limit_burst: Annotated[
        int, typer.Option(min=1, help="Requests a client key may send at once (bucket size).")
    ] = 10000,
    agent_url: Annotated[
        list[str] | None,
        typer.Option(
            help="AGENT=URL: call this agent (catalog, inventory, pricing, cart, orders, "
            "payments) in another `perfctl serve` process over HTTP (repeatable)."
        ),
    ] = None,
) -> None:
    """Serve the reference e-commerce backend (every agent behind one gateway).

    With --agent-url the named agents are called over HTTP (one pooled aiohttp session and
    one circuit breaker per agent) in another process, e.g. payments on its own port.
    """
    from reference_backend.errors import ServeError
    from reference_backend.server import serve_backend
    from reference_backend.settings import Settings

    settings = Settings(
        host=host,
        port=port,
        workers=workers,
        redis_url=redis_url,
        database_url=database_url,
        catalog_size=catalog_size,
        seed=seed,
        admin_token=_check_admin_token(admin_token),
        rate_limit_per_s=rate_limit_per_s,
        rate_limit_burst=rate_limit_burst,
        agent_urls=_parse_agent_urls(agent_url or []),
    )
    try:
        serve_backend(settings)
    except ServeError as error:  # the backend's own tree; one line, exit 3 like every BackendError
        raise BackendError(str(error)) from error


def _check_admin_token(token: str | None) -> str | None:
    """The token as given; a UsageError for one that would guard the fault routes with nothing."""
    if token is None:
        return None
    if not token.strip():
        raise UsageError("--admin-token must not be empty (it guards the fault-injection routes)")
    if _has_control_characters(token) or token != token.strip():
        raise UsageError(
            "--admin-token must not contain spaces at its ends or control characters "
            "(it is sent as `Authorization: Bearer TOKEN`)"
        )
    return token


def _has_control_characters(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def _parse_agent_urls(values: list[str]) -> tuple[tuple[str, str], ...]:
    from reference_backend.clients import AGENT_NAMES

    pairs: list[tuple[str, str]] = []
    for value in values:
        name, sep, url = value.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or name not in AGENT_NAMES or not url.startswith(("http://", "https://")):
            raise UsageError(
                f"--agent-url must be AGENT=http://HOST:PORT with AGENT one of "
                f"{', '.join(AGENT_NAMES)}, got {value!r}"
            )
        pairs.append((name, url.rstrip("/")))
    return tuple(pairs)


_RequireCoverageOption = Annotated[
    bool | None,
    typer.Option(
        "--require-coverage/--no-require-coverage",
        help="Fail the gate when an objective in scope for this run ends no_data or "
        "not_exercised (default: the SLA's defaults.require_coverage).",
    ),
]

_StrictOption = Annotated[
    bool | None,
    typer.Option(
        "--strict/--no-strict",
        help="Fail the gate (exit 1) on a warning or a check too close to call (marginal: its "
        "95 % interval straddles the limit) (default: the SLA's defaults.strict).",
    ),
]

_CapacityOption = Annotated[
    Path | None,
    typer.Option(
        "--capacity",
        help="Capacity directory (`perfctl capacity`) whose knee judges the throughput the run "
        "cannot offer (default: the newest one beside the run, same target and SLA).",
    ),
]


def _check_capacity_dir(path: Path | None) -> None:
    """A --capacity that names no capacity directory is a usage error, found before any load."""
    from harness.rundir import is_capacity_dir, read_capacity_record

    if path is None:
        return
    if not is_capacity_dir(path):
        raise UsageError(f"--capacity {path}: not a capacity directory (no capacity.json)")
    read_capacity_record(path)  # a corrupt one is exit 3 now, not after the load


# -- load runs ------------------------------------------------------------------------------


def _parse_tags(values: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--tag must be key=value, got {value!r}")
        if _has_control_characters(value):
            # a newline or an escape code would forge lines in run.json readers and terminals
            raise UsageError(f"--tag must not contain control characters, got {value!r}")
        tags[key.strip()] = text.strip()
    return tags


def _parse_run_time(value: str | None) -> float | None:
    from harness.spec import parse_duration_s

    if value is None:
        return None
    try:
        return parse_duration_s(value, locust=True)
    except ValueError as error:
        raise UsageError(f"-t/--run-time: {error}") from None


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(
            help="Scenario name in scenarios/, a scenario file, a locustfile (*.py), "
            "or a saved plan.json."
        ),
    ],
    profile: Annotated[
        str | None, typer.Option(help="Profile that scales the scenario (e.g. smoke, ci, full).")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="Base URL to load; without it the reference backend is started."),
    ] = None,
    sla: Annotated[Path | None, typer.Option(help="SLA file to judge the run against.")] = None,
    workers: Annotated[
        int, typer.Option(min=0, help="Local Locust workers (0: one local Locust process).")
    ] = 0,
    remote_workers: Annotated[
        int,
        typer.Option(min=0, help="Workers from other machines (`perfctl worker`) to wait for."),
    ] = 0,
    master_bind: Annotated[
        str,
        typer.Option(help="HOST[:PORT] the master listens on for workers (default: free port)."),
    ] = "127.0.0.1",
    out: Annotated[Path, typer.Option(help="Parent directory of the run directory.")] = Path(
        "reports"
    ),
    run_id: Annotated[
        str | None, typer.Option(help="Run directory name (default: UTC time + scenario).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="key=value recorded in run.json (repeatable).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option(help="A summary line every few seconds instead of the live table.")
    ] = False,
    ui: Annotated[
        int | None,
        typer.Option(
            "--ui",
            min=0,
            max=65535,
            metavar="[PORT]",
            help="Serve a live web view of the run (and perfctl's Prometheus /metrics) on "
            "127.0.0.1:PORT (default 8089; 0: any free port) until the report is written.",
        ),
    ] = None,
    users: Annotated[
        int | None, typer.Option("-u", "--users", help="Locustfile: peak number of users.")
    ] = None,
    spawn_rate: Annotated[
        float | None,
        typer.Option("-r", "--spawn-rate", help="Locustfile: users started per second."),
    ] = None,
    run_time: Annotated[
        str | None,
        typer.Option("-t", "--run-time", help="Locustfile: how long, e.g. 30s, 5m, 1h30m."),
    ] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            help="Read server metrics from this Prometheus after the run (else the target's "
            "/metrics is scraped every second during it)."
        ),
    ] = None,
    prometheus_auth: Annotated[
        str | None,
        typer.Option(
            envvar="PERFCTL_PROMETHEUS_AUTH",
            help="USER:PASSWORD for Prometheus (never written to the run directory).",
        ),
    ] = None,
    prometheus_token: Annotated[
        str | None,
        typer.Option(
            envvar="PERFCTL_PROMETHEUS_TOKEN",
            help="Bearer token for Prometheus (never written to the run directory).",
        ),
    ] = None,
    require_coverage: _RequireCoverageOption = None,
    strict: _StrictOption = None,
    capacity: _CapacityOption = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Compare the run with this named baseline (`perfctl baseline`): a regression "
            "fails the run (exit 1)."
        ),
    ] = None,
    baseline_update: Annotated[
        bool,
        typer.Option(
            help="Add the run to --baseline when it passed and did not regress (the first run "
            "creates it): for the main branch, while pull requests only compare."
        ),
    ] = False,
    baseline_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="PERFCTL_BASELINE_DIR",
            help="Directory of the baselines (default: OUT/baselines), e.g. one a CI caches.",
        ),
    ] = None,
) -> int:
    """Drive the target with a scenario, judge it against the SLA, write the HTML report.

    Without --target the reference backend is started on a free port and stopped after.
    A plain locustfile runs with Locust's own -u/-r/-t under perfctl's measurement.
    Leaves reports/<run-id>/ (plan, timeline, server metrics, logs, verdict.json, junit.xml,
    summary.md, index.html) and exits with the verdict: 0 pass, 1 SLA failed or aborted on
    breach, 3 the run failed or could not tell, 130 interrupted.
    """
    tags = _parse_tags(tag or [])
    run_time_s = _parse_run_time(run_time)
    _check_capacity_dir(capacity)

    from harness.observe import ObserveOptions, prometheus_source
    from harness.pipeline import run_with_ui
    from harness.run import RunRequest
    from harness.spec import LocustOptions

    if prometheus_url is None and (prometheus_auth or prometheus_token):
        raise UsageError("--prometheus-auth and --prometheus-token need --prometheus-url")
    source = (
        prometheus_source(prometheus_url, prometheus_auth, prometheus_token)
        if prometheus_url is not None
        else None
    )

    return run_with_ui(
        ui,
        RunRequest(
            scenario=scenario,
            profile=profile,
            target=target,
            sla=sla,
            workers=workers,
            remote_workers=remote_workers,
            master_bind=master_bind,
            out_dir=out,
            run_id=run_id,
            tags=tags,
            quiet=quiet,
            locust=LocustOptions(users=users, spawn_rate_per_s=spawn_rate, run_time_s=run_time_s),
            observe=ObserveOptions(prometheus=source),
        ),
        require_coverage=require_coverage,
        strict=strict,
        capacity_dir=capacity,
        baseline=_baseline_gate(baseline, baseline_update, baseline_dir or out / "baselines"),
    )


def _baseline_gate(name: str | None, update: bool, directory: Path) -> BaselineGate | None:
    from harness.pipeline import BaselineGate
    from harness.rundir import validate_baseline_name

    if name is None:
        if update:
            raise UsageError("--baseline-update needs --baseline NAME")
        return None
    return BaselineGate(validate_baseline_name(name), directory, update)


@app.command()
def worker(
    master: Annotated[
        str, typer.Option(help="HOST[:PORT] of the master (`perfctl run --master-bind`).")
    ],
    plan: Annotated[
        Path | None,
        typer.Option(
            help="The run's plan.json; needed only to run a team's locustfile (the master "
            "ships scenario plans itself)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where this worker keeps its log.")] = Path("reports"),
) -> None:
    """Join a master on another machine as one more load generator, until it finishes."""
    from harness.run import join_master

    join_master(master, plan, out)


# -- verdict --------------------------------------------------------------------------------


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="Run directory (reports/<run-id>).")],
    sla: Annotated[
        Path | None,
        typer.Option(help="SLA file (default: the run's --sla, else ./sla.yaml)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Run directory of a baseline, for the SLA's relative objectives."),
    ] = None,
    strict: _StrictOption = None,
    require_coverage: _RequireCoverageOption = None,
    capacity: _CapacityOption = None,
) -> int:
    """Judge a run against the SLA: writes verdict.json, junit.xml and summary.md.

    Exits 0 on pass (warnings and checks too close to call allowed unless --strict), 1 when
    an objective failed or the run was aborted, 3 when the run cannot be judged or could not
    tell (generator saturated).
    """
    from rich.console import Console

    from harness.verdict import judge_run_dir, print_capacity, print_verdict

    _check_capacity_dir(capacity)
    verdict = judge_run_dir(
        run_dir,
        sla_path=sla,
        baseline_dir=baseline,
        strict=strict,
        require_coverage=require_coverage,
        capacity_dir=capacity,
    )
    print_verdict(verdict, Console())
    print_capacity(verdict.capacity, Console())
    typer.echo(f"verdict: {run_dir / 'verdict.json'}")
    return verdict.exit_code


@app.command()
def capacity(
    scenario: Annotated[
        str, typer.Argument(help="An open-model scenario whose journey mix every step offers.")
    ] = "capacity",
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="ci/smoke/demo: about 3 min, ±15 %; full: ±5 %."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="URL of one instance; default: the embedded reference backend."),
    ] = None,
    instances: Annotated[
        int,
        typer.Option(min=1, help="Also search with N instances: the measured scaling efficiency."),
    ] = 1,
    scaled_target: Annotated[
        str | None,
        typer.Option(help="With --target and --instances N: the service running N instances."),
    ] = None,
    sla: Annotated[Path | None, typer.Option(help="SLA file the steps are judged on.")] = None,
    out: Annotated[Path, typer.Option(help="Parent directory of the capacity directory.")] = Path(
        "reports"
    ),
    start_rate: Annotated[
        str | None, typer.Option(help="First step's arrival rate, e.g. 100/s (default: 20/s).")
    ] = None,
    precision: Annotated[
        float | None,
        typer.Option(help="Refine until the knee is known to ± this fraction, e.g. 0.05."),
    ] = None,
    hold: Annotated[str | None, typer.Option(help="Judged length of each step, e.g. 30s.")] = None,
    warmup: Annotated[
        str | None, typer.Option(help="Length of each step before judging, e.g. 5s.")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Step budget of each search.")
    ] = None,
) -> int:
    """Find the knee of one instance: the highest sustained arrival rate at which every latency
    and error objective of the SLA still holds; judge the SLA's throughput objectives from it.

    Steps of constant arrival rate (each a run of its own, judged with abort on breach) climb
    until one breaks, then bisect around the knee. With --instances N the same search runs on
    N instances for the scaling efficiency. A target the generator cannot break is "at least"
    the generator's limit, never a made-up knee. Writes capacity.json and report.html.
    Exits 0 when every throughput objective holds at the scaling row's max instances, 1 when
    one fails, 2 for bad usage, 3 when one is inconclusive (the knee is a lower bound or the
    figure lies within its uncertainty) or a step cannot run or be judged.
    """
    from rich.console import Console

    from harness.capacity import CapacityRequest, SettingsOverride, measure_capacity
    from harness.report import write_capacity_report
    from harness.spec import parse_duration_s, parse_rate_per_s
    from harness.verdict import Check, print_capacity_checks

    try:
        override = SettingsOverride(
            start_rate_per_s=parse_rate_per_s(start_rate) if start_rate is not None else None,
            precision=precision,
            hold_s=parse_duration_s(hold) if hold is not None else None,
            warmup_s=parse_duration_s(warmup) if warmup is not None else None,
            max_steps=max_steps,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    console = Console()
    capacity_dir, record = measure_capacity(
        CapacityRequest(
            scenario=scenario,
            profile=profile,
            target=target,
            scaled_target=scaled_target,
            instances=instances,
            sla=sla,
            out_dir=out,
            override=override,
        ),
        console,
    )
    checks = [Check.from_dict(item) for item in record.checks]
    console.print(f"knee: {record.single.knee.summary}")
    console.print(f"scaling: {record.scaling.note}", highlight=False)
    if checks:
        print_capacity_checks(checks, console, f"Throughput judged from the knee ({len(checks)})")
    typer.echo(f"capacity: {capacity_dir / 'capacity.json'}")
    try:
        typer.echo(f"report: {write_capacity_report(capacity_dir)}")
    except PerfctlError as error:  # the measurement is written; a page that fails hides nothing
        typer.echo(f"report: not written ({error.message})")
    statuses = {check.status for check in checks}
    if "fail" in statuses:
        return EXIT_SLA_FAILED
    if "inconclusive" in statuses:
        return EXIT_RUN
    return 0


@app.command()
def compare(
    base_run: Annotated[Path, typer.Argument(help="Run directory of the baseline.")],
    new_run: Annotated[Path, typer.Argument(help="Run directory to judge against it.")],
    max_regression: Annotated[
        str, typer.Option(help="Relative change allowed before it counts, e.g. 10%.")
    ] = "10%",
    min_change: Annotated[
        float, typer.Option(help="Latency change (ms) allowed whatever its relative size.")
    ] = 1.0,
    min_error_change: Annotated[
        str, typer.Option(help="Error-rate rise allowed, in percentage points, e.g. 0.5%.")
    ] = "0.5%",
    min_throughput_change: Annotated[
        float, typer.Option(help="Throughput drop (requests/s) allowed whatever its relative size.")
    ] = 1.0,
    confidence: Annotated[
        float, typer.Option(help="Confidence of the comparison as a whole (all figures together).")
    ] = 0.95,
    out: Annotated[
        Path | None, typer.Option(help="Where compare.json/.md go (default: NEW_RUN).")
    ] = None,
) -> int:
    """Compare two runs per operation (p50/p95/p99, error rate, throughput).

    A figure is a regression when its whole confidence interval is worse than both
    --max-regression (of the base value) and the absolute floor (--min-change,
    --min-error-change, --min-throughput-change). Intervals come from a block bootstrap over
    windows of a few seconds (run-to-run noise, not request-to-request), Holm's correction
    holds the chance that two runs of the same code are called a regression at
    1 - --confidence, and a percentile is tested only with enough samples (p99: 2,000 per
    run). Exits 1 on a regression.
    """
    from harness.compare import (
        compare_runs,
        parse_floors,
        parse_percent,
        render_markdown,
        write_comparison,
    )

    comparison = compare_runs(
        base_run,
        new_run,
        max_regression=parse_percent(max_regression, "--max-regression"),
        confidence=confidence,
        floors=parse_floors(min_change, min_error_change, min_throughput_change),
    )
    json_path, _ = write_comparison(comparison, out or new_run)
    typer.echo(render_markdown(comparison))
    typer.echo(f"comparison: {json_path}")
    return 1 if comparison.regressions else 0


@app.command()
def prometheus(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port Prometheus listens on (loopback).")
    ] = 9090,
    target: Annotated[
        str, typer.Option(help="Base URL of the target whose /metrics is scraped.")
    ] = "http://127.0.0.1:8000",
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Keep config and storage here (default: a temp dir, removed)."),
    ] = None,
) -> None:
    """Start a local Prometheus scraping the target every second, until Ctrl-C.

    Pair it with `perfctl serve` and `perfctl run --target ... --prometheus-url URL`.
    Needs the Debian package prometheus (scripts/system-packages.sh installs it).
    """
    from harness.observe import serve_prometheus

    serve_prometheus(target, port, directory)


# -- sla.yaml and scenarios/ ----------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="The team's repository (default: the current directory).")
    ] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite files that exist already.")] = False,
    action: Annotated[
        str | None,
        typer.Option(
            help="OWNER/REPO@REF of the perfctl GitHub Action the workflow uses "
            "(default: perfctl/perfctl@main)."
        ),
    ] = None,
) -> None:
    """Write a starter sla.yaml, scenarios/ and .github/workflows/perf.yml into DIRECTORY.

    They are the examples perfctl ships: edit the SLA's objectives and the scenarios' journeys
    for your service. An existing file is left alone (exit 2, naming it) unless --force.
    """
    from harness.spec import init_project

    written = init_project(directory, force=force, action=action)
    for path in written:
        typer.echo(f"wrote {path}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    typer.echo(
        f"next: {where}perfctl run smoke --profile smoke   "
        "(against perfctl's reference backend; add --target URL for your service)"
    )


_SUB_APP_SETTINGS: dict[str, object] = {
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
sla_app = typer.Typer(help="Check, show and describe the SLA file (sla.yaml).", **_SUB_APP_SETTINGS)  # type: ignore[arg-type]
scenarios_app = typer.Typer(help="List, show and check the load scenarios.", **_SUB_APP_SETTINGS)  # type: ignore[arg-type]
app.add_typer(sla_app, name="sla")
app.add_typer(scenarios_app, name="scenarios")

_SlaFileArgument = Annotated[
    Path | None, typer.Argument(help="SLA file (default: ./sla.yaml, else the shipped example).")
]


@sla_app.command("lint")
def sla_lint(
    file: _SlaFileArgument = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", "-s", help="Check against this scenario (default: every scenario)."
        ),
    ] = None,
) -> None:
    """Check an SLA file: every problem as file:line, and every operation against the
    scenarios' journeys. Exit 0 when clean, 2 otherwise."""
    from harness.spec import lint_sla

    typer.echo(lint_sla(file, scenario or []))


@sla_app.command("show")
def sla_show(file: _SlaFileArgument = None) -> None:
    """Print the SLA's objectives, availability tiers and incident response as tables."""
    from rich.console import Console

    from harness.spec import show_sla

    show_sla(file, Console())


@sla_app.command("schema")
def sla_schema_command() -> None:
    """Print the JSON Schema of sla.yaml (point your editor's YAML plugin at it)."""
    from harness.spec import sla_schema_json

    typer.echo(sla_schema_json())


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the scenarios in scenarios/ with their model, peak load, duration and profiles."""
    from rich.console import Console

    from harness.spec import list_scenarios

    list_scenarios(Console())


@scenarios_app.command("show")
def scenarios_show(
    name: Annotated[str, typer.Argument(help="Scenario name (scenarios/NAME.yaml) or a path.")],
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Profile: full (the seed), smoke, ci, demo, ...")
    ] = "full",
    sla: Annotated[
        Path | None, typer.Option(help="SLA file whose objectives apply (default: sla.yaml).")
    ] = None,
) -> None:
    """Print the resolved plan: absolute stage times, users or arrival rates, estimated
    requests per second, scale factors, journeys and the scaled throughput limits."""
    from rich.console import Console

    from harness.spec import show_scenario

    show_scenario(name, profile, sla, Console())


@scenarios_app.command("lint")
def scenarios_lint(
    names: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or paths (default: all).")
    ] = None,
) -> None:
    """Check scenario files and plan each of their profiles. Exit 0 when clean, 2 otherwise."""
    from harness.spec import lint_scenarios

    typer.echo(lint_scenarios(names or []))


@scenarios_app.command("schema")
def scenarios_schema_command() -> None:
    """Print the JSON Schema of a scenario file."""
    from harness.spec import scenario_schema_json

    typer.echo(scenario_schema_json())


# -- perfctl import: a scenario and an SLA from what a team already has ----------------------

import_app = typer.Typer(help="Start a scenario and an SLA from HAR/OpenAPI.", **_SUB_APP_SETTINGS)  # type: ignore[arg-type]
app.add_typer(import_app, name="import")

_ImportOut = Annotated[
    Path | None,
    typer.Option("--out", help="Scenario file to write (default: scenarios/NAME.yaml)."),
]
_ImportSlaOut = Annotated[
    Path | None, typer.Option("--sla-out", help="Starter SLA file to write (default: sla.yaml).")
]
_ImportForce = Annotated[
    bool, typer.Option("--force", help="Overwrite the scenario or SLA file if it exists.")
]
_ImportName = Annotated[
    str | None,
    typer.Option("--name", help="Scenario name (default: from the file name or the API title)."),
]


@import_app.command("har")
def import_har_command(
    file: Annotated[Path, typer.Argument(help="A HAR file (DevTools: 'Save all as HAR').")],
    out: _ImportOut = None,
    sla_out: _ImportSlaOut = None,
    force: _ImportForce = False,
    name: _ImportName = None,
    include_host: Annotated[
        list[str] | None,
        typer.Option(
            "--include-host",
            help="Replay requests to this host (repeatable; default: the host most requests "
            "went to).",
        ),
    ] = None,
) -> None:
    """Turn a browser recording into a scenario flow and a starter SLA: static assets and
    other hosts left out, the recorded think times, ids and tokens the server answered
    extracted into variables, credentials as ${env:NAME} placeholders."""
    from harness.importers import import_har, write_imported

    imported = import_har(str(file), name=name, include_hosts=include_host or [])
    typer.echo(write_imported(imported, out=out, sla_out=sla_out, force=force))


@import_app.command("openapi")
def import_openapi_command(
    source: Annotated[str, typer.Argument(help="OpenAPI 3.0/3.1 document: a file or a URL.")],
    out: _ImportOut = None,
    sla_out: _ImportSlaOut = None,
    force: _ImportForce = False,
    name: _ImportName = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="Base URL of the API (default: the document's server)."),
    ] = None,
    server: Annotated[
        int | None,
        typer.Option(min=1, help="Use the document's Nth server (default: the first)."),
    ] = None,
) -> None:
    """Write a starter scenario (one weighted journey per read operation, example parameters
    from the schema) and a starter SLA (p95, p99 and error rate per operation)."""
    from harness.importers import import_openapi, write_imported

    imported = import_openapi(source, name=name, base_url=base_url, server=server)
    typer.echo(write_imported(imported, out=out, sla_out=sla_out, force=force))


# -- named baselines: the last passing runs a new run is compared with -----------------------

baseline_app = typer.Typer(
    help="Keep named baselines (the last passing runs of a scenario, profile and target) that "
    "`perfctl run --baseline NAME` compares a run with.",
    **_SUB_APP_SETTINGS,  # type: ignore[arg-type]
)
app.add_typer(baseline_app, name="baseline")

_BaselineName = Annotated[str, typer.Argument(help="Baseline name, e.g. main.")]
_BaselineDir = Annotated[
    Path,
    typer.Option(
        "--dir",
        envvar="PERFCTL_BASELINE_DIR",
        help="Directory of the baselines (a CI may cache it).",
    ),
]


@baseline_app.command("add")
def baseline_add(
    name: _BaselineName,
    run_dirs: Annotated[list[Path], typer.Argument(help="Passing run directories to add.")],
    keep: Annotated[
        int | None, typer.Option(min=1, help="Runs the baseline keeps, the newest (default 10).")
    ] = None,
    directory: _BaselineDir = Path("reports/baselines"),
) -> None:
    """Add passing runs (verdict exit 0) of one scenario, profile and target to a baseline,
    created by its first run; the runs' figures are copied, so it outlives their directories."""
    from harness.compare import add_to_baseline

    manifest, path = add_to_baseline(directory, name, run_dirs, keep=keep)
    typer.echo(f"baseline {name}: {len(manifest.runs)} runs ({manifest.key.describe()}) in {path}")


@baseline_app.command("list")
def baseline_list(directory: _BaselineDir = Path("reports/baselines")) -> None:
    """List the baselines: runs held, scenario, profile, target, newest run."""
    from harness.compare import list_baselines

    typer.echo(list_baselines(directory))


@baseline_app.command("show")
def baseline_show(name: _BaselineName, directory: _BaselineDir = Path("reports/baselines")) -> None:
    """Show a baseline's runs and, per figure, the band and the limit a new run is held to."""
    from harness.compare import show_baseline

    typer.echo(show_baseline(directory, name))


@baseline_app.command("remove")
def baseline_remove(
    name: _BaselineName,
    run_ids: Annotated[
        list[str] | None, typer.Argument(help="Only these runs (default: the whole baseline).")
    ] = None,
    directory: _BaselineDir = Path("reports/baselines"),
) -> None:
    """Remove a baseline, or only some of its runs."""
    from harness.compare import remove_from_baseline

    typer.echo(remove_from_baseline(directory, name, run_ids or []))


@baseline_app.command("check")
def baseline_check(
    name: _BaselineName,
    run_dir: Annotated[Path, typer.Argument(help="Run directory to judge against it.")],
    directory: _BaselineDir = Path("reports/baselines"),
) -> int:
    """Compare a run with a baseline (what `perfctl run --baseline` does after the load):
    writes baseline.json and baseline.md into the run, exits 1 on a regression."""
    from harness.compare import check_against_baseline, render_baseline_check

    check = check_against_baseline(directory, name, run_dir)
    typer.echo(render_baseline_check(check))
    return 1 if check.regression else 0


# -- HTML reports ---------------------------------------------------------------------------


@app.command()
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="Run directory (reports/<run-id>) or capacity directory.")
    ],
) -> None:
    """Write RUN_DIR/index.html (the verdict first, then why) and refresh the runs index in
    RUN_DIR's parent. The report judges nothing: without verdict.json it says "not evaluated"
    (`perfctl evaluate RUN_DIR` judges a run). A capacity directory (`perfctl capacity`) gets
    its report.html: the knee, every step, the scaling and the instance table."""
    from harness.report import render_run_report, write_capacity_report
    from harness.rundir import is_capacity_dir

    if is_capacity_dir(run_dir):
        typer.echo(f"report: {write_capacity_report(run_dir)}")
        return
    typer.echo(f"report: {render_run_report(run_dir)}")


reports_app = typer.Typer(help="Browse the HTML reports of every run.", **_SUB_APP_SETTINGS)  # type: ignore[arg-type]
app.add_typer(reports_app, name="reports")


@reports_app.command("serve")
def reports_serve(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1.")] = 8089,
    directory: Annotated[
        Path, typer.Option("--dir", help="Reports directory (the parent of the run directories).")
    ] = Path("reports"),
) -> None:
    """Serve the reports directory on http://127.0.0.1:PORT/ for browsing, until Ctrl-C."""
    from harness.report import serve_reports

    serve_reports(directory, port, announce=typer.echo)


def _show_usage_error(error: typer.TyperException) -> None:
    """One line for a usage error typer found while parsing, naming the help to read."""
    # typer carries its own copy of click (typer._click): its usage errors are
    # TyperExceptions, not the `click` package's. Their context gives the command path.
    context = getattr(error, "ctx", None)
    if context is None:
        typer.echo(f"error: {error.format_message()}", err=True)
        return
    if error.message == context.get_help():
        # a group run without a command (`perfctl`, `perfctl sla`): its help is the answer
        typer.echo(error.message, err=True)
        return
    message = " ".join(error.format_message().split())
    typer.echo(f"error: {message} (see '{context.command_path} --help')", err=True)


def _optional_ui_port(args: list[str]) -> list[str]:
    """`perfctl run ... --ui` without a port: `--ui 8089` (Typer has no optional values)."""
    if args[:1] != ["run"] or "--ui" not in args or "--" in args:
        return args
    from harness.live import DEFAULT_UI_PORT

    given = list(args)
    for index, arg in enumerate(given):
        following = given[index + 1] if index + 1 < len(given) else ""
        if arg == "--ui" and not following.isdigit():
            given[index] = f"--ui={DEFAULT_UI_PORT}"
    return given


def main() -> None:
    """Entry point of the `perfctl` console script: the one place errors become exit codes."""
    try:
        result = app(args=_optional_ui_port(sys.argv[1:]), standalone_mode=False)
    except PerfctlError as error:
        typer.echo(f"error: {error.message}", err=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.TyperException as error:  # bad option, missing argument, unknown command
        _show_usage_error(error)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # a perfctl bug: never exit 1, which a CI reads as a failed SLA
        typer.echo(f"error: internal error: {_crash_report(error)}", err=True)
        sys.exit(EXIT_RUN)
    sys.exit(result if isinstance(result, int) else 0)


def _crash_report(error: Exception) -> str:
    """One line for an unexpected exception; its traceback goes to a file the line names."""
    summary = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="perfctl-crash-", suffix=".txt", delete=False
        ) as report:
            traceback.print_exception(error, file=report)
    except OSError:
        return f"{summary} (this is a bug in perfctl)"
    return f"{summary} (this is a bug in perfctl; traceback in {report.name})"


if __name__ == "__main__":
    main()
