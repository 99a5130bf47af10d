from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime, time

import pytest

from rules.calendar import LONDON, WorkingCalendar
from rules.engine import ChildTimeline, child_deadlines
from rules.model import Deadline, DetailValue, Event, Override
from rules.pack import RulePack, load_pack

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_pack()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def ev(
    event: str,
    when: str,
    status: str = "done",
    child: str = "123",
    posted: str | None = None,
    supersedes: str | None = None,
    id: str | None = None,
    **details: DetailValue,
) -> Event:
    """An event from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM' (London time)."""
    day = date.fromisoformat(when[:10])
    clock = time.fromisoformat(when[11:]) if len(when) > 10 else None
    posted_at = datetime.fromisoformat(posted).replace(tzinfo=LONDON) if posted else None
    return Event(
        id=id or f"e{next(_ids)}", child=child, event=event, date=day, status=status,  # type: ignore[arg-type]
        time=clock, details=details, posted_at=posted_at, supersedes=supersedes,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def run(
    pack: RulePack,
    calendar: WorkingCalendar,
    events: Iterable[Event],
    now: str = "2026-01-01T00:00",
    overrides: Iterable[Override] = (),
) -> ChildTimeline:
    return child_deadlines(list(events), pack, calendar, at(now), overrides)


def by_rule(timeline: ChildTimeline, rule: str) -> list[Deadline]:
    return [d for d in timeline.deadlines if d.rule == rule]


def only(timeline: ChildTimeline, rule: str) -> Deadline:
    found = by_rule(timeline, rule)
    assert len(found) == 1, f"expected one {rule} deadline, got {[(d.due, d.state) for d in found]}"
    return found[0]
