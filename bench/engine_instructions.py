"""Deadline engine cost in machine instructions (valgrind's callgrind), which,
unlike seconds, do not swing with whatever else this shared machine is doing.

    .venv/bin/python -m bench.engine_instructions      (about 2 minutes; needs valgrind)

Each figure is a run doing the work less a run that only sets up the same data.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys

from bench.engine import NOW
from bench.histories import child_history, histories

CHILDREN, LONG_RUNS = 200, 5


def inner(work: str) -> None:
    from rules.calendar import WorkingCalendar
    from rules.engine import child_deadlines
    from rules.pack import load_pack

    pack, calendar = load_pack(), WorkingCalendar()
    everyone = histories(CHILDREN, 30)
    long = child_history("99999", 500, random.Random(3))
    if work == "children":
        for history in everyone:
            child_deadlines(history, pack, calendar, NOW)
    elif work == "long":
        for _ in range(LONG_RUNS):
            child_deadlines(long, pack, calendar, NOW)


def instructions(work: str) -> int:
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          "-m", "bench.engine_instructions", "--inner", work], capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not found:
        raise SystemExit(f"valgrind failed: {run.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
        return
    if not shutil.which("valgrind"):
        raise SystemExit("needs valgrind (Debian package valgrind)")
    setup = instructions("setup")
    children = instructions("children") - setup
    long = instructions("long") - setup
    print(f"{CHILDREN} children x 30 events: {children / 1e6:.0f} M instructions "
          f"({children / CHILDREN / 1e3:,.0f} k a child)")
    print(f"one child, 500 events: {long / LONG_RUNS / 1e6:.1f} M instructions a replay")


if __name__ == "__main__":
    main()
