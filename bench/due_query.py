"""'What's due this week' for one unit on a store holding 100,000 open deadlines.

    .venv/bin/python -m bench.due_query [DATABASE_URL]     (default: a temporary SQLite file)
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta

from sqlalchemy import insert

from bench.stores import empty_store, plain_units
from rules.calendar import LONDON, end_of_day
from store.models import Child, DeadlineRecord
from store.records import Store

UNITS, CHILDREN_PER_UNIT, DEADLINES = 40, 250, 100_000


def fill(store: Store) -> None:
    rng = random.Random(5)
    start = date(2026, 11, 16)  # a week before "now": about 3% of open deadlines are overdue
    with store.session.begin() as s:
        s.execute(insert(Child), [{"number": str(100000 + i), "unit_id": f"unit-{i % UNITS}", "lead_practitioner": "U",
                                   "flexible_assessment": False, "events_version": 1, "deadlines_version": 1}
                                  for i in range(UNITS * CHILDREN_PER_UNIT)])
        rows = []
        for n in range(DEADLINES):
            child = rng.randrange(UNITS * CHILDREN_PER_UNIT)
            due = start + timedelta(days=rng.randrange(0, 240))
            rows.append({"id": f"{100000 + child}:rule:{n}", "child": str(100000 + child),
                         "unit_id": f"unit-{child % UNITS}", "rule": "visits-cp-plan", "standard": "7.3",
                         "source": "Hackney Practice Standards 2026", "title": "Visit", "timescale": "10 working days",
                         "due": due, "due_at": end_of_day(due), "hours_based": False, "state": "open",
                         "responsible": ["SW"], "event_id": str(n), "late": False})
        s.execute(insert(DeadlineRecord), rows)


def main() -> None:
    store = empty_store(plain_units(UNITS))
    fill(store)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    for _ in range(5):
        store.due(["unit-7"], now)
    runs, found = [], 0
    for i in range(100):
        t0 = time.perf_counter()
        found = len(store.due([f"unit-{i % UNITS}"], now))
        runs.append((time.perf_counter() - t0) * 1000)
    runs.sort()
    print(f"{store.engine.dialect.name}: 'what's due this week' for one unit among {DEADLINES:,} open deadlines "
          f"(~{found} items, overdue included): median {statistics.median(runs):.1f} ms, "
          f"p95 {runs[94]:.1f} ms")


if __name__ == "__main__":
    main()
