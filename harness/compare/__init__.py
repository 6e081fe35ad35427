"""`perfctl compare`: two runs, every figure's change, and whether any is a regression.

compare_runs      compare every operation two run directories share (and all requests)
write_comparison  compare.json and compare.md in a directory
render_markdown   compare.md's text (what `perfctl compare` prints)
parse_percent     a --max-regression style percentage ("10%" or "10") as a 0-1 fraction
parse_floors      the absolute floors from --min-change, --min-error-change and
                  --min-throughput-change

Named baselines (`perfctl baseline`, `perfctl run --baseline NAME`): the between-run test
against the last passing runs of a scenario, profile and target (see _between_runs).

add_to_baseline         add passing runs to a baseline (created by its first run)
remove_from_baseline    remove a baseline, or runs from it
list_baselines          one line per baseline
show_baseline           a baseline's runs and bands, as markdown
require_baseline        before any load: the baseline exists (or may be created)
check_against_baseline  a run against a baseline: baseline.json and baseline.md in the run
render_baseline_check   baseline.md's text
"""

from harness.compare._baseline import (
    add_to_baseline,
    check_against_baseline,
    list_baselines,
    remove_from_baseline,
    render_baseline_check,
    require_baseline,
    show_baseline,
)
from harness.compare._comparison import (
    compare_runs,
    parse_floors,
    parse_percent,
    render_markdown,
    write_comparison,
)

__all__ = [
    "add_to_baseline",
    "check_against_baseline",
    "compare_runs",
    "list_baselines",
    "parse_floors",
    "parse_percent",
    "remove_from_baseline",
    "render_baseline_check",
    "render_markdown",
    "require_baseline",
    "show_baseline",
    "write_comparison",
]
