"""Judged synthetic runs for baseline tests: known latency, a passing or failing verdict."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from harness.spec._sla import load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._outputs import write_verdict
from tests.harness._synthetic_run import SyntheticRun, simple_plan

OPERATIONS = ("product_search", "product_detail")
SLA = """version: 1
name: baseline tests
objectives:
  - {operation: product_search, metric: latency, statistic: p50, limit: "< LIMIT ms"}
"""


def judged_run(
    parent: Path,
    name: str,
    *,
    seed: int,
    added_ms: float = 0.0,
    day: int = 1,
    limit_ms: float = 1000.0,
    scenario: str = "synthetic",
) -> Path:
    """A 60 s run of two operations (product_search ~7 ms + `added_ms`, product_detail ~2 ms,
    20 requests a second each, a run-to-run shift of a few per cent), judged against an SLA
    whose one objective (search p50 < `limit_ms`) it passes unless the limit is low."""
    rng = random.Random(seed)
    shift = rng.lognormvariate(0.0, 0.03)
    plan = simple_plan(scenario=scenario, stages=(("steady", 60.0),), operations=OPERATIONS)
    run = SyntheticRun(parent / name, plan)
    for offset in range(60):
        searches = [rng.lognormvariate(math.log(7.0 * shift), 0.3) + added_ms for _ in range(20)]
        run.add("product_search", offset, searches)
        details = [rng.lognormvariate(math.log(2.0 * shift), 0.3) for _ in range(20)]
        run.add("product_detail", offset, details)
    run_dir = run.finish()
    record = json.loads((run_dir / "run.json").read_text())
    record["started_at"] = f"2027-01-{day:02d}T08:00:00.000Z"
    (run_dir / "run.json").write_text(json.dumps(record))
    sla_path = parent / f"sla-{name}.yaml"
    sla_path.write_text(SLA.replace("LIMIT", f"{limit_ms:g}"))
    write_verdict(run_dir, evaluate(read_judged_run(run_dir), load_sla(sla_path)))
    return run_dir
