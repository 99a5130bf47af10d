"""Deadline engine speed: a full recompute of 10,000 children with 30 events each,
and one child with 500 events.

    .venv/bin/python -m bench.engine
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from bench.histories import child_history, histories
from rules.calendar import LONDON, WorkingCalendar
from rules.engine import child_deadlines
from rules.pack import load_pack

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=LONDON)


def _count_for_slice(part: tuple[int, int]) -> tuple[int, float]:
    pack, calendar = load_pack(), WorkingCalendar()
    everyone = histories(10_000, 30)[part[0]:part[1]]
    t0 = time.perf_counter()
    total = sum(len(child_deadlines(h, pack, calendar, NOW).deadlines) for h in everyone)
    return total, time.perf_counter() - t0


def main() -> None:
    pack, calendar = load_pack(), WorkingCalendar()
    now = NOW

    everyone = histories(10_000, 30)
    t0 = time.perf_counter()
    total = sum(len(child_deadlines(h, pack, calendar, now).deadlines) for h in everyone)
    full = time.perf_counter() - t0
    print(f"full recompute, one process: 10,000 children x 30 events -> {total:,} deadlines in {full:.2f} s "
          f"({total / full:,.0f} deadlines/s)")
    with ProcessPoolExecutor(2) as pool:  # each worker times only its own recompute
        results = list(pool.map(_count_for_slice, [(0, 5_000), (5_000, 10_000)]))
    print(f"full recompute, both cores: {sum(r[0] for r in results):,} deadlines in "
          f"{max(r[1] for r in results):.2f} s")

    long = child_history("99999", 500, random.Random(3))
    for _ in range(20):  # warm-up
        child_deadlines(long, pack, calendar, now)
    runs = []
    for _ in range(200):
        t0 = time.perf_counter()
        result = child_deadlines(long, pack, calendar, now)
        runs.append((time.perf_counter() - t0) * 1000)
    runs.sort()
    print(f"one child, 500 events -> {len(result.deadlines)} deadlines: median {statistics.median(runs):.2f} ms, "
          f"p99 {runs[int(len(runs) * 0.99) - 1]:.2f} ms")

    tracemalloc.start()
    child_deadlines(everyone[0], pack, calendar, now)
    _, peak = tracemalloc.get_traced_memory()
    print(f"peak memory for one 30-event child: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
