"""The terminal peerguard prints its tables to (the run summary and the report)."""

from __future__ import annotations

import sys

from rich.console import Console

WIDTH = 100
"""Columns of the output when it is not a terminal (a file, a pipe, a CI log)."""


def console() -> Console:
    """The terminal at its own width, anything else at WIDTH; no markup, so '[0.1, 0.4]' stays text."""
    return Console(width=None if sys.stdout.isatty() else WIDTH, markup=False, highlight=False, emoji=False)
