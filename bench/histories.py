"""Realistic made-up histories for the benchmarks: a child's path through
referral, assessment, section 47, a Child Protection Plan with visits and
core groups, and sometimes a Family Help Plan or care."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from rules.calendar import LONDON
from rules.model import DetailValue, Event


def child_history(child: str, n_events: int, rng: random.Random, start: date = date(2026, 1, 5)) -> list[Event]:
    day = start + timedelta(days=rng.randrange(0, 200))
    events: list[Event] = []

    def add(name: str, gap_days: int, **details: DetailValue) -> None:
        nonlocal day
        day += timedelta(days=gap_days)
        posted = datetime.combine(day, time(16, 30), tzinfo=LONDON)
        events.append(Event(id=f"{child}-{len(events)}", child=child, event=name, date=day,
                            time=time(10, 0) if rng.random() < 0.5 else None, details=dict(details),
                            posted_at=posted))

    opening = [("referral_received", 0, {}), ("assessment_allocated", 1, {}), ("visit", 3, {}),
               ("strategy_discussion", 4, {"s47": True}), ("visit", 1, {}), ("s47_completed", 10, {}),
               ("icpc", 3, {})]
    for name, gap, details in opening[: n_events]:
        add(name, gap, **details)
    cycle = ["visit", "visit", "core_group", "visit", "supervision", "visit", "visit", "core_group", "rcpc"]
    while len(events) < n_events:
        name = cycle[len(events) % len(cycle)]
        add(name, rng.randrange(3, 10))
    return events


def histories(children: int, events_each: int, seed: int = 1) -> list[list[Event]]:
    rng = random.Random(seed)
    return [child_history(str(10000 + i), events_each, rng) for i in range(children)]
