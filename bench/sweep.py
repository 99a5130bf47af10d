"""The sweep over a big store: nothing due, then 1,000 messages due.

    python -m bench.sweep [DATABASE_URL]     (default: a temporary SQLite file)

Slack's own latency is left out: the Sender here answers ok at once.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import date, datetime, timedelta

from bench.stores import empty_store
from rules.calendar import LONDON
from rules.config import Config, UnitConfig
from scheduler.outbox import Message, Outbox, SendResult
from scheduler.sweep import sweep
from store.models import Child, DeadlineRecord
from store.records import Store

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=LONDON)  # a Tuesday morning
UNITS = 500


class CountingSender:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, recipient: str, message: Message) -> SendResult:
        self.sent += 1
        return SendResult(True, ts=str(self.sent))

    def find(self, recipient: str, message: Message) -> str | None:
        return None


def config() -> Config:
    return Config(units=[UnitConfig(id=f"u{n}", name=f"Unit {n}", channel=f"C{n:05d}", team_manager=f"UTM{n}",
                                    service_manager="USM", head_of_service="UHOS", coordinator=f"UUC{n}",
                                    meeting_day="friday") for n in range(UNITS)])


def fill(store: Store, open_deadlines: int, due_now: int, first_child: int = 100000) -> None:
    """`open_deadlines` far off, plus `due_now` overdue by one working day, one per unit."""
    far = date(2027, 3, 1)
    rows, children = [], []
    for n in range(open_deadlines + due_now):
        unit = f"u{n % UNITS}"
        child = f"{first_child + n // 10}"
        if n % 10 == 0:
            children.append(Child(number=child, unit_id=unit, lead_practitioner=None, flexible_assessment=False,
                                  events_version=1, deadlines_version=1))
        overdue = n >= open_deadlines
        due = date(2026, 11, 23) if overdue else far + timedelta(days=n % 200)
        rows.append(DeadlineRecord(
            id=f"{child}:rule{n}:{n}", child=child, unit_id=f"u{(n - open_deadlines) % UNITS}" if overdue else unit,
            rule=f"rule{n}", standard="7.2", source="PS2026", title="Core group meeting", timescale="10 working days",
            due=due, due_at=datetime.combine(due, datetime.max.time(), tzinfo=LONDON), hours_based=False,
            state="open", responsible=["SW"], event_id=str(n), met_event_id=None, closed_on=None, late=False,
            override=None))
    with store.session.begin() as s:
        s.add_all(children)
        s.flush()
        s.add_all(rows)


def timed(store: Store, cfg: Config, sender: CountingSender, runs: int) -> list[float]:
    out = []
    for k in range(runs):
        t0 = time.perf_counter()
        sweep(store, Outbox(sender, per_channel_gap=0), cfg, NOW + timedelta(minutes=5 * k))
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    cfg = config()
    store = empty_store(cfg)
    fill(store, 100_000, 0)
    sender = CountingSender()
    timed(store, cfg, sender, 1)  # warm-up (and this week's digests: none, nothing is overdue)
    quiet = timed(store, cfg, sender, 5)
    print(f"{store.engine.dialect.name}: sweep over 100,000 open deadlines, nothing due: median "
          f"{statistics.median(quiet) * 1000:.0f} ms, max {max(quiet) * 1000:.0f} ms (target < 1 s); "
          f"sent {sender.sent}")
    fill(store, 0, 1000, first_child=900000)
    tracemalloc.start()
    busy = timed(store, cfg, sender, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"with 1,000 overdue (one message to each unit channel, one DM to each team manager): "
          f"{sender.sent} messages in {busy[0]:.2f} s (target < 5 s), peak memory {peak / 2**20:.0f} MiB")
    again = timed(store, cfg, CountingSender(), 1)
    print(f"the next sweep, everything already sent: {again[0] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
