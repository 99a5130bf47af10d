"""Every child's deadlines worked out again in the store, as at the first start
after the rules or the bank holidays changed: 10,000 children with 30 events each.

    .venv/bin/python -m bench.store_recompute [DATABASE_URL]   (default: a temporary SQLite file)
"""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import func, insert, select

from bench.histories import histories
from bench.stores import empty_store, plain_units
from store.models import Child, DeadlineRecord, EventRecord
from store.records import Store

UNITS, CHILDREN, EVENTS_EACH = 40, 10_000, 30


def fill(store: Store) -> None:
    everyone = histories(CHILDREN, EVENTS_EACH)
    with store.session.begin() as s:
        s.execute(insert(Child), [{"number": h[0].child, "unit_id": f"unit-{i % UNITS}", "lead_practitioner": "U",
                                   "flexible_assessment": False, "events_version": EVENTS_EACH,
                                   "deadlines_version": EVENTS_EACH} for i, h in enumerate(everyone)])
        s.execute(insert(EventRecord), [
            {"child": e.child, "event": e.event, "status": e.status, "date": e.date, "time": e.time,
             "details": e.details, "posted_by": "U", "posted_at": e.posted_at, "channel": f"C{i % UNITS}",
             "message_ts": f"{i}.{n}", "seq": 0, "text": "", "supersedes": None}
            for i, h in enumerate(everyone) for n, e in enumerate(h)])


def main() -> None:
    config = plain_units(UNITS)
    store = empty_store(config)
    fill(store)
    for label, run_config in (("first start", config),
                              ("a bank holiday added", config.model_copy(
                                  update={"extra_bank_holidays": [date(2026, 12, 1)]}))):
        restarted = Store(store.engine, run_config.rule_pack(), run_config.calendar())
        t0 = time.perf_counter()
        children = restarted.recompute_stale()
        took = time.perf_counter() - t0
        with store.session() as s:
            deadlines = s.scalar(select(func.count()).select_from(DeadlineRecord))
        print(f"{store.engine.dialect.name}: {label}: {children:,} children x {EVENTS_EACH} events -> "
              f"{deadlines:,} deadlines read, worked out and written in {took:.1f} s")


if __name__ == "__main__":
    main()
