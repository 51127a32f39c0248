"""The demo: a fresh embedded instance on real reference data with synthetic people."""

from .run import run_demo

__all__ = ["run_demo"]
