"""Importing a whole service's caseload on day one (SPEC section 9): 3,000 children x 8
events over 50 units (60 a unit), half on Child Protection Plans, half looked after,
each with its own dates, in the one-row-per-event layout; the dry run, the import, and
the same file again (nothing new).

    python -m bench.import_caseload [DATABASE_URL] [--children N]

Prints seconds for each step. The issue's target: the import under 30 s on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta

from bench.stores import empty_store, plain_units
from bot.importing import import_file
from rules.calendar import LONDON

NOW = datetime(2026, 12, 1, 10, tzinfo=LONDON)


def caseload(children: int, units: int, seed: int = 7) -> str:
    pick = random.Random(seed)
    rows = ["child,unit,lead,event,date,time,status,details"]

    for n in range(children):
        child, unit = 100000 + n, f"unit-{n % units}"
        start = pick.randint(40, 400)
        if n % 2 == 0:  # on a Child Protection Plan
            events = [("icpc", start, "")]
            events += [("core_group", d, "") for d in sorted(pick.sample(range(1, start), 2), reverse=True)]
            events += [("visit", d, "") for d in sorted(pick.sample(range(1, min(start, 30)), 3), reverse=True)]
            events += [("rcpc", -pick.randint(5, 60), "")]  # booked
            events += [("supervision", pick.randint(1, 28), "")]
        else:  # looked after, two reviews held
            events = [("looked_after", start, ""), ("lac_review", max(1, start - 20), "sequence=1"),
                      ("lac_review", max(1, start - 100), "sequence=2")]
            events += [("visit", d, "") for d in sorted(pick.sample(range(1, min(start, 40)), 4), reverse=True)]
            events += [("supervision", pick.randint(1, 28), "")]
        for event, ago, details in events:
            when = NOW.date() - timedelta(days=ago)
            status = "planned" if when > NOW.date() else ""
            rows.append(f"{child},{unit},,{event},{when.isoformat()},,{status},{details}")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--children", type=int, default=3000)
    args = parser.parse_args()
    sys.argv[1:] = [args.url] if args.url else []  # empty_store reads the URL from there
    children, units = args.children, 50
    store = empty_store(plain_units(units))
    text = caseload(children, units)
    events = text.count("\n") - 1
    print(f"{store.engine.dialect.name}: {children:,} children, {events:,} events, {units} units")
    for label, dry_run in (("dry run", True), ("import", False), ("same file again", False)):
        began = time.perf_counter()
        result = import_file(store, text, None, "cli:bench", NOW, "bench.csv", dry_run=dry_run)
        took = time.perf_counter() - began
        overdue = sum(d["overdue_at_import"] for d in result.deadlines)
        print(f"  {label:<16} {took:6.1f} s  ({result.events:,} new events, {len(result.deadlines):,} open "
              f"deadlines, {overdue:,} overdue at import, problems {len(result.problems)})")


if __name__ == "__main__":
    main()
