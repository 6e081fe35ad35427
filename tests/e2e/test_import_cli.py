"""`perfctl import` through the real CLI: what it writes lints clean and runs against the
reference backend, judged on the operations it generated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.engine import ENGINE_LOCUSTFILE
from tests.harness.importers._support import SHOP_HAR

pytestmark = pytest.mark.parallel_safe

DEMO_PASSWORD = "perfctl-demo"
"""reference_backend.passwords.DEMO_PASSWORD (the harness's tests do not import the backend)."""

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

needs_engine = pytest.mark.skipif(
    not ENGINE_LOCUSTFILE.is_file(), reason="harness/engine/locustfile.py is not there yet"
)


def _perfctl(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def _smoke_run(
    scenario: Path, sla: Path, target: str, cwd: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Runs the scenario's smoke profile against `target`; its verdict.json."""
    done = _perfctl(
        "run",
        str(scenario),
        "--sla",
        str(sla),
        "--profile",
        "smoke",
        "--target",
        target,
        "--out",
        str(cwd / "reports"),
        "--run-id",
        "imported",
        "--quiet",
        cwd=cwd,
        env=env,
        timeout_s=180,
    )
    # 1 (an objective failed) is a result; 2 would mean the files did not load
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    verdict = json.loads((cwd / "reports" / "imported" / "verdict.json").read_text())
    assert isinstance(verdict, dict)
    return verdict


def _login(backend: str) -> str:
    """A token of the seeded user1 (the user the documents' example id 1 names)."""
    request = urllib.request.Request(
        f"{backend}/api/login",
        data=json.dumps({"username": "user1", "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.loads(answer.read())["token"]
    assert isinstance(token, str)
    return token


def _error_rates(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        check["operation"]: check
        for check in verdict["checks"]
        if check["metric"] == "error_rate" and check["operation"] != "*"
    }


@needs_engine
def test_an_imported_openapi_document_lints_and_runs(backend_url: str, tmp_path: Path) -> None:
    done = _perfctl(
        "import",
        "openapi",
        f"{backend_url}/openapi.json",
        "--out",
        "api.yaml",
        "--sla-out",
        "api-sla.yaml",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"--target {backend_url}" in done.stdout
    assert "set API_TOKEN in the environment" in done.stdout  # cart, orders need a login
    assert done.stderr == ""
    env = {"API_TOKEN": _login(backend_url)}

    lint = _perfctl("scenarios", "lint", "api.yaml", cwd=tmp_path, env=env)
    assert lint.returncode == 0, lint.stderr
    lint = _perfctl("sla", "lint", "api-sla.yaml", "--scenario", "api.yaml", cwd=tmp_path, env=env)
    assert lint.returncode == 0, lint.stderr

    verdict = _smoke_run(
        tmp_path / "api.yaml", tmp_path / "api-sla.yaml", backend_url, tmp_path, env
    )

    rates = _error_rates(verdict)
    assert {"product_search", "product_detail", "cart_view", "order_history"} <= set(rates)
    exercised = [check for check in rates.values() if check["samples"]]
    assert len(exercised) >= len(rates) // 2  # a 20 s smoke run draws most journeys
    # the reads of user 1 (the example id) and the public ones answer 200 with the document's
    # example parameters (order 1 is another user's: 403 is a finding, not a test failure)
    answered = {"category_list", "product_search", "product_detail", "cart_view", "price_lookup"}
    assert all(check["measured"] == 0 for check in exercised if check["operation"] in answered)


@needs_engine
def test_an_imported_recording_replays_with_its_correlated_ids(
    backend_url: str, tmp_path: Path
) -> None:
    done = _perfctl(
        "import", "har", str(SHOP_HAR), "--out", "shop.yaml", "--sla-out", "shop-sla.yaml",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "set PASSWORD in the environment" in done.stdout
    assert "correlated {token}" in done.stdout
    assert "correlated {reservation_id}" in done.stdout
    env = {"PASSWORD": DEMO_PASSWORD}  # the seeded user1's, which the recording typed
    lint = _perfctl(
        "sla", "lint", "shop-sla.yaml", "--scenario", "shop.yaml", cwd=tmp_path, env=env
    )
    assert lint.returncode == 0, lint.stderr

    verdict = _smoke_run(
        tmp_path / "shop.yaml", tmp_path / "shop-sla.yaml", backend_url, tmp_path, env
    )

    rates = _error_rates(verdict)
    assert set(rates) == {
        "get_api_categories",
        "get_api_products_search",
        "get_api_products_id",
        "get_api_pricing_id",
        "get_api_inventory_id",
        "get_api_recommendations_id",
        "post_api_login",
        "post_api_cart_id_items",
        "post_api_inventory_reservations",
        "delete_api_inventory_reservations_id",
        "delete_api_cart_id_items_id",
    }
    # The reservation released is the one this iteration made (the recorded id never existed
    # on this backend): every release answered 204.
    release = rates["delete_api_inventory_reservations_id"]
    assert release["samples"] >= 1
    assert release["measured"] == 0
    # the product id extracted from the search answer is one the backend knows, and the
    # token extracted from the login answer authorises the cart (401 without it)
    for operation in ("post_api_login", "get_api_products_id", "post_api_cart_id_items"):
        assert rates[operation]["samples"] >= 1
        assert rates[operation]["measured"] == 0


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text("mine\n")

    done = _perfctl("import", "har", str(SHOP_HAR), "--out", "shop.yaml", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr == (
        "error: shop.yaml exists; pass --force to overwrite it, or --out to write elsewhere\n"
    )
    assert (tmp_path / "shop.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.yaml"]
