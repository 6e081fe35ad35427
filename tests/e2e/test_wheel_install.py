"""perfctl installed like a tool: a wheel built from the checkout, installed into a fresh venv
outside it, then `perfctl init` in an empty directory and a smoke run against `perfctl serve`,
both from that venv. Prints the time from `pip install` to the first report.

Slow (a venv and perfctl's dependencies, from pip's cache or the index: about a minute), so it
runs in the serial part of `make test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port

pytestmark = [pytest.mark.parallel_safe, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]


def _source_copy(destination: Path) -> Path:
    """The checkout's files (tracked and not ignored) copied out, so the build starts clean
    (setuptools' in-tree build/ keeps modules deleted since) and sees only the project."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not name.startswith(("tests/", "benchmarks/")):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _clean_env() -> dict[str, str]:
    """This process's environment without anything pointing into the checkout or its venv."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PERFCTL_BASELINE_DIR")
    }
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if part != bin_dir
    )
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """perfctl's wheel, built by pip from a copy of the checkout (offline: setuptools of this venv)."""
    root = tmp_path_factory.mktemp("wheel")
    source = _source_copy(root / "source")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    (built,) = (root / "dist").glob("perfctl-*.whl")
    return built


def test_the_wheel_carries_templates_schemas_and_the_examples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "harness/report/templates/run.html.j2",
        "harness/report/templates/report.css",
        "harness/report/templates/report.js",
        "harness/verdict/schemas/verdict.schema.json",
        "harness/engine/locustfile.py",
        "reference_backend/app.py",
        "harness/spec/shipped/sla.yaml",
        "harness/spec/shipped/scenarios/smoke.yaml",
        "harness/spec/shipped/scenarios/profiles.yaml",
        "harness/spec/shipped/examples/github/perf.yml",
        "harness/spec/shipped/examples/gitlab/gitlab-ci.yml",
        "harness/spec/shipped/examples/jenkins/Jenkinsfile",
    }
    assert expected <= names, sorted(expected - names)
    assert not any(name.startswith(("tests/", "scenarios/", "build/")) for name in names)


def _wait_ready(url: str, process: subprocess.Popen[bytes], deadline_s: float) -> None:
    import urllib.request

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "perfctl serve exited"
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url}/ready did not answer within {deadline_s} s")


def test_pip_install_init_and_a_smoke_run_without_the_repository(
    wheel: Path, tmp_path: Path
) -> None:
    env = _clean_env()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
    perfctl = venv / "bin" / "perfctl"
    started = time.monotonic()
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        env=env,
        timeout=600,
    )
    installed_s = time.monotonic() - started

    team = tmp_path / "team"
    team.mkdir()
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import harness, reference_backend; print(harness.__file__)",
        ],
        cwd=team,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # not the checkout's
    listed = subprocess.run(
        [str(perfctl), "scenarios", "list"], cwd=team, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert "smoke" in listed.stdout  # the wheel's examples, in a directory without any

    init = subprocess.run(
        [str(perfctl), "init"], cwd=team, env=env, capture_output=True, text=True, timeout=60
    )
    assert init.returncode == 0, init.stderr
    for written in ("sla.yaml", "scenarios/smoke.yaml", ".github/workflows/perf.yml"):
        assert (team / written).is_file(), init.stdout
    assert "next: perfctl run smoke --profile smoke" in init.stdout

    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [str(perfctl), "serve", "--port", str(port)],
            cwd=team,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, 60)
        run = subprocess.run(
            [str(perfctl), "run", "smoke", "--profile", "smoke", "--target", url, "--quiet"],
            cwd=team,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    first_report_s = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    (run_dir,) = (team / "reports").glob("*-smoke")
    for artefact in ("index.html", "verdict.json", "junit.xml", "summary.md"):
        assert (run_dir / artefact).is_file(), artefact
    assert (team / "reports" / "plotly.min.js").is_file()  # from the installed plotly, no CDN
    assert "perfctl" in (run_dir / "index.html").read_text()
    print(
        f"\npip install of the wheel: {installed_s:.1f} s; "
        f"pip install to the first report: {first_report_s:.1f} s"
    )
