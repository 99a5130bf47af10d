"""How the service's costs grow with the caseload: 1,000 -> 10,000 -> 50,000 children with
realistic histories (bench/histories.py, 30 events each) in 60 units, on one database.

    .venv/bin/python -m bench.growth [--sizes 1000,10000,50000] [--db sqlite|postgresql|URL]

`--db postgresql` starts a throwaway cluster (as the tests do); a URL must name an empty
server database per size (it is given `_<size>` on the end). On PostgreSQL the filled tables
are vacuumed and analysed before anything is timed, as autovacuum keeps a running service's. At each size it prints:
the full recompute (with nothing stored before, and after a rules change that moves no
deadline), a bank holiday added, the
sweeps (a quiet one, the Monday 08:30 one after a weekend and the 09:00 one with every
unit's weekly agenda, with their process's resident memory: each runs in a fresh process,
as in `serve`), and the manager views of a
head of service over 20 units (what's due this week, App Home). A figure that grows faster
than the caseload shows here.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text

from bench.histories import child_history
from rules.calendar import LONDON
from rules.config import Config, UnitConfig
from store.db import make_engine, upgrade
from store.models import Child, DeadlineBasis, DeadlineRecord, EventRecord
from store.records import Store

UNITS, EVENTS_EACH = 60, 30
FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=LONDON)
MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=LONDON)
HOLIDAY = date(2027, 1, 4)  # a Monday: announced for next month, inside the later histories


def config(extra: list[date] | None = None) -> Config:
    return Config(units=[UnitConfig(
        id=f"unit-{i}", name=f"Unit {i}", channel=f"C0UNIT{i}", team_manager=f"U0TM{i}",
        service_manager=f"U0SM{i // 5}", head_of_service=f"U0HOS{i // 20}", coordinator=f"U0UC{i}",
        practitioners=[f"U0SW{i}X{k}" for k in range(6)]) for i in range(UNITS)],
        extra_bank_holidays=extra or [])


def fill(store: Store, children: int, start: date = date(2026, 1, 5)) -> None:
    """`children` children, each with a realistic history of EVENTS_EACH events beginning
    up to 200 days after `start` (bench.histories), spread over the units."""
    rng = random.Random(1)
    for first in range(0, children, 2000):
        rows, events = [], []
        for i in range(first, min(first + 2000, children)):
            number, unit = str(100000 + i), i % UNITS
            rows.append({"number": number, "unit_id": f"unit-{unit}", "lead_practitioner": f"U0SW{unit}X{i % 6}",
                         "flexible_assessment": False, "events_version": EVENTS_EACH, "deadlines_version": 0})
            events += [{"child": number, "event": e.event, "status": e.status, "date": e.date, "time": e.time,
                        "details": e.details, "posted_by": f"U0SW{unit}X{i % 6}", "posted_at": e.posted_at,
                        "channel": f"C0UNIT{unit}", "message_ts": f"{i}.{n}", "seq": 0, "text": "",
                        "supersedes": None}
                       for n, e in enumerate(child_history(number, EVENTS_EACH, rng, start))]
        with store.session.begin() as s:
            s.execute(insert(Child), rows)
            s.execute(insert(EventRecord), events)


def _sweeps(url: str, moments: list[str]) -> dict[str, object]:
    """In a fresh process: sweep at each moment; times, messages and resident memory."""
    from bench.sweep import CountingSender
    from scheduler.outbox import Outbox
    from scheduler.sweep import sweep

    store = Store.open(url, config())
    sender = CountingSender()
    out: dict[str, object] = {"before_mib": _peak_mib()}
    times = []
    for moment in moments:
        sent = sender.sent
        t0 = time.perf_counter()
        sweep(store, Outbox(sender, per_channel_gap=0), store_config := config(), datetime.fromisoformat(moment))
        times.append((time.perf_counter() - t0, sender.sent - sent))
        del store_config
    out["times"] = times
    out["rss_mib"] = _peak_mib()
    return out


def _peak_mib() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries that
    over from the parent at fork, through exec, so it gave the benchmark's own size."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def sweeps(url: str, moments: list[datetime]) -> dict[str, object]:
    when = [m.isoformat() for m in moments]
    code = f"import json, bench.growth as g; print(json.dumps(g._sweeps({url!r}, {when!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def timed(run, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    run()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def views(store: Store) -> tuple[float, float]:
    from bot.conversation import Conversation
    from bot.parser import Query

    conversation = Conversation(store)
    now = MONDAY + timedelta(hours=2)
    week = Query(type="due", start=now.date(), end=now.date() + timedelta(days=6))
    due = timed(lambda: conversation.answer_query(week, "U0HOS0", now, "D0HOS0", None, via="dm"))
    home = timed(lambda: conversation.home("U0HOS0", now))
    return due, home


def one_size(url: str, children: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    cfg = config()
    store = Store(engine, cfg.rule_pack(), cfg.calendar())
    store.sync_config(cfg)
    t0 = time.perf_counter()
    fill(store, children)
    filled = time.perf_counter() - t0
    name = engine.dialect.name
    if name == "postgresql":  # as autovacuum would have left a running service's tables, long filled
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    t0 = time.perf_counter()
    store.recompute_stale()
    full = time.perf_counter() - t0
    with store.session() as s:
        deadlines = s.scalar(select(func.count()).select_from(DeadlineRecord))
    print(f"{name} {children:,} children ({children * EVENTS_EACH:,} events, filled in {filled:.0f} s):", flush=True)
    print(f"  full recompute, nothing stored before: {full:.1f} s ({deadlines:,} deadlines)", flush=True)
    with store.session.begin() as s:  # as after a new release: every child worked out again
        s.execute(delete(DeadlineBasis))
    t0 = time.perf_counter()
    again = store.recompute_stale()
    print(f"  full recompute after a rules change that moves no deadline: {time.perf_counter() - t0:.1f} s "
          f"({again:,} children worked out, none written again)", flush=True)
    holiday = config([HOLIDAY])
    t0 = time.perf_counter()
    redone = Store(engine, holiday.rule_pack(), holiday.calendar()).recompute_stale()
    print(f"  a bank holiday added ({HOLIDAY}): {time.perf_counter() - t0:.1f} s, {redone:,} children recomputed",
          flush=True)
    store.recompute_stale()  # back to the plain calendar
    friday = sweeps(url, [FRIDAY] + [FRIDAY + timedelta(minutes=5 * k) for k in range(1, 4)])
    (first, sent), *quiet = friday["times"]  # type: ignore[misc]
    print(f"  first sweep (everything in the window): {first:.1f} s, {sent:,} messages", flush=True)
    print(f"  quiet sweep, nothing new: median {statistics.median(q[0] for q in quiet) * 1000:.0f} ms", flush=True)
    if name == "postgresql":  # the weekend's autovacuum, through the tables the rewrites above left behind
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    monday = sweeps(url, [MONDAY] + [MONDAY + timedelta(minutes=5 * k) for k in range(1, 4)])
    (took, sent), *quiet = monday["times"]  # type: ignore[misc]
    print(f"  Monday 08:30 sweep after the weekend: {took:.2f} s, {sent:,} messages, resident memory "
          f"{monday['rss_mib']:.0f} MiB (the process at start {monday['before_mib']:.0f} MiB)", flush=True)
    print(f"  quiet sweeps after it: median {statistics.median(q[0] for q in quiet) * 1000:.0f} ms", flush=True)
    nine = sweeps(url, [MONDAY + timedelta(minutes=30)])
    (took, sent), = nine["times"]  # type: ignore[misc]
    print(f"  Monday 09:00 sweep, every unit's weekly agenda: {took:.2f} s, {sent:,} messages, resident memory "
          f"{nine['rss_mib']:.0f} MiB", flush=True)
    due, home = views(store)
    print(f"  head of service over 20 units: what's due this week {due * 1000:.0f} ms, App Home {home * 1000:.0f} ms",
          flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.db == "postgresql":
        sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
        from postgres import throwaway_cluster  # type: ignore[import-not-found]

        with throwaway_cluster() as server:
            for size in sizes:
                one_size(_database(server, size), size)
        return
    for size in sizes:
        url = (f"sqlite:///{Path(tempfile.mkdtemp()) / f'growth{size}.db'}" if args.db == "sqlite"
               else f"{args.db}_{size}")
        one_size(url, size)


def _database(server: str, size: int) -> str:
    engine = make_engine(server)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f"CREATE DATABASE growth_{size}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/growth_{size}"


if __name__ == "__main__":
    main()
