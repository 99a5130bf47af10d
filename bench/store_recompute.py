"""Every child's deadlines worked out again in the store, as at the first start
after the rules or the bank holidays changed: 10,000 children with 30 events each.

    .venv/bin/python -m bench.store_recompute [DATABASE_URL]   (default: a temporary SQLite file)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.histories import histories
from rules.config import Config, UnitConfig
from store.db import make_engine, upgrade
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
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    units = [UnitConfig(id=f"unit-{i}", name=f"Unit {i}", channel=f"C{i}", team_manager="TM", service_manager="SM",
                        head_of_service="HOS", coordinator="UC") for i in range(UNITS)]
    config = Config(units=units)
    store = Store(engine, config.rule_pack(), config.calendar())
    store.sync_config(config)
    fill(store)
    for label, run_config in (("first start", config),
                              ("a bank holiday added", config.model_copy(
                                  update={"extra_bank_holidays": [date(2026, 12, 1)]}))):
        restarted = Store(engine, run_config.rule_pack(), run_config.calendar())
        t0 = time.perf_counter()
        children = restarted.recompute_stale()
        took = time.perf_counter() - t0
        with store.session() as s:
            deadlines = s.scalar(select(func.count()).select_from(DeadlineRecord))
        print(f"{engine.dialect.name}: {label}: {children:,} children x {EVENTS_EACH} events -> "
              f"{deadlines:,} deadlines read, worked out and written in {took:.1f} s")


if __name__ == "__main__":
    main()
