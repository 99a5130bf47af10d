"""Sweeps for scheduler.jobs.SweepProcess's tests: a module of their own, light to import,
since the sweep's process imports the module its function comes from."""

from __future__ import annotations

import os
import time
from pathlib import Path

from scheduler.sweep import SweepReport


def where_it_ran(path: str) -> SweepReport:
    """A sweep for SweepProcess: says which process ran it, at what priority."""
    Path(path).write_text(f"{os.getpid()} {os.nice(0)}")
    return SweepReport(failed=["U0TM"])


def never_ends(path: str) -> SweepReport:
    Path(path).write_text(str(os.getpid()))
    time.sleep(120)
    return SweepReport()


def broken(path: str) -> SweepReport:
    raise RuntimeError("database went away")

