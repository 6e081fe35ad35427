"""TODO face docstring."""

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
