"""The reference e-commerce backend: perfctl's default target and calibrated system."""

__version__ = "0.1.0"
