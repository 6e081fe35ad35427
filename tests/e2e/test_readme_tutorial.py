"""The README's tutorial ("from an OpenAPI document to a CI gate"), run as a reader runs it.

Between `<!-- tutorial:start -->` and `<!-- tutorial:end -->`, every fenced block is played in
order in an empty directory: a block whose info string names a file (```yaml
file=checkout.yaml```) is written there; every line of a `bash` block is a command, run with
bash, whose exit code must be 0 or the one its trailing comment states (`# exit 2: why`).
`export NAME=VALUE` lines set the environment of the commands after them, except `TARGET`,
which is the reference backend this module starts (the tutorial's `perfctl serve`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.spec._support import REPO

pytestmark = pytest.mark.parallel_safe

README = REPO / "README.md"
START, END = "<!-- tutorial:start -->", "<!-- tutorial:end -->"
_BLOCK = re.compile(r"^```(\w+)(?:[ \t]+file=(\S+))?[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_EXPECTED_EXIT = re.compile(r"#\s*exit (\d+)\b")
_EXPORT = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(.*)$")
SECRET = "perfctl-demo"
"""The password the tutorial exports as SHOP_PASSWORD: no artefact may hold it."""


@dataclass(frozen=True, slots=True)
class Block:
    language: str
    file: str | None
    text: str


def tutorial_blocks(readme: str) -> list[Block]:
    """The fenced blocks of the tutorial, in order."""
    assert readme.count(START) == 1, "the tutorial start marker moved"
    assert readme.count(END) == 1, "the tutorial end marker moved"
    section = readme.split(START, 1)[1].split(END, 1)[0]
    return [Block(m.group(1), m.group(2), m.group(3)) for m in _BLOCK.finditer(section)]


def test_the_tutorial_parses_into_files_and_commands() -> None:
    blocks = tutorial_blocks(README.read_text())
    files = [block.file for block in blocks if block.file]
    commands = [
        line for block in blocks if block.language == "bash" for line in block.text.splitlines()
    ]
    assert files == ["customers.csv", "checkout.yaml", "checkout-sla.yaml"]
    assert any(line.startswith("perfctl import openapi") for line in commands)
    assert any(line.startswith("perfctl run") for line in commands)


def test_every_command_of_the_tutorial_does_what_it_says(backend_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PERFCTL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TARGET"] = backend_url
    env.pop("SHOP_PASSWORD", None)
    env.pop("API_TOKEN", None)
    ran: list[str] = []
    for block in tutorial_blocks(README.read_text()):
        if block.file:
            (tmp_path / block.file).write_text(block.text)
            continue
        assert block.language == "bash", f"a block without a file is a command: {block.text!r}"
        for line in block.text.splitlines():
            command = line.split(" #", 1)[0].strip()
            if not command or command.startswith("#"):
                continue
            exported = _EXPORT.match(command)
            if exported:
                name, value = exported.groups()
                if name != "TARGET":  # the backend this module started
                    env[name] = shlex.split(value)[0]
                continue
            expected = _EXPECTED_EXIT.search(line)
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            want = int(expected.group(1)) if expected else 0
            assert done.returncode == want, (command, done.stdout[-3000:], done.stderr[-3000:])
            assert "Traceback" not in done.stderr, (command, done.stderr)
            if want == 2:
                assert done.stderr.startswith("error: "), (command, done.stderr)
            ran.append(command)
    assert any(command.startswith("perfctl run") for command in ran)
    # the run is there, judged, and the secret is in none of its files
    run_dir = tmp_path / "runs" / "gate"
    assert (run_dir / "verdict.json").is_file()
    assert (run_dir / "index.html").is_file()
    leaks = [
        path
        for path in run_dir.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaks == []
    # the customers logged in and the steps ran without a failed check
    ok: dict[str, int] = {}
    failed: dict[str, int] = {}
    for line in (run_dir / "timeline.jsonl").read_text().splitlines():
        window = json.loads(line)
        counts = window.get("counts")
        if window.get("op") is None or counts is None:
            continue
        ok[window["op"]] = ok.get(window["op"], 0) + counts["ok"]
        failed[window["op"]] = failed.get(window["op"], 0) + sum(counts.values()) - counts["ok"]
    assert {"login", "product_search", "product_detail", "cart_view"} <= {
        op for op, count in ok.items() if count > 0
    }
    assert sum(failed.values()) == 0, failed
