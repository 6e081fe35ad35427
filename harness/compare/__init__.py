"""`perfctl compare`: two runs, every figure's change, and whether any is a regression.

compare_runs      compare every operation two run directories share (and all requests)
write_comparison  compare.json and compare.md in a directory
render_markdown   compare.md's text (what `perfctl compare` prints)
parse_percent     a --max-regression style percentage ("10%" or "10") as a 0-1 fraction
parse_floors      the absolute floors from --min-change, --min-error-change and
                  --min-throughput-change
"""

from harness.compare._comparison import (
    compare_runs,
    parse_floors,
    parse_percent,
    render_markdown,
    write_comparison,
)

__all__ = [
    "compare_runs",
    "parse_floors",
    "parse_percent",
    "render_markdown",
    "write_comparison",
]
