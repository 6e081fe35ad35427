"""TODO face docstring."""

from harness.run._plan_source import LocustOptions
from harness.run._runner import (
    RunRequest,
    run,
)
from harness.run._worker import join_master

__all__ = [
    "LocustOptions",
    "RunRequest",
    "join_master",
    "run",
]
