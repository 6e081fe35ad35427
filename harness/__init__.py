"""perfctl: performance testing and SLA verification harness."""

__version__ = "0.1.0"
