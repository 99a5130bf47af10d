"""What the tests share: events and timelines for the engine, the two units of the
store and Slack tests, and fresh databases. Fixtures live in conftest.py; this module
is imported by name (`from helpers import ...`), so it is loaded once."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from rules.calendar import LONDON, WorkingCalendar
from rules.config import Config, UnitConfig
from rules.engine import ChildTimeline, child_deadlines
from rules.model import Deadline, DetailValue, Event, Override
from rules.pack import RulePack

if TYPE_CHECKING:
    from store.records import DueItem, Store

_ids = itertools.count(1)

UNIT_A = UnitConfig(id="unit-a", name="Unit A", channel="C0UNITA", team_manager="U0TM", service_manager="U0SM",
                    head_of_service="U0HOS", coordinator="U0UC", practitioners=["U0SW1", "U0SW2"],
                    child_protection_lead="U0CPL")
UNIT_B = UnitConfig(id="unit-b", name="Unit B", channel="C0UNITB", team_manager="U0TMB", service_manager="U0SM",
                    head_of_service="U0HOS", coordinator="U0UCB", practitioners=["U0SW3"], flexible_assessment=True)
TEST_CONFIG = Config(units=[UNIT_A, UNIT_B])


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


def new_database(kind: str, tmp_path, request) -> str:
    """A fresh, empty database of the kind asked for; its URL."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'timescales.db'}"
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def due_for(store: Store, user: str, now: datetime, among: Sequence[DueItem] | None = None) -> list[DueItem]:
    """'What's due for me' worked out in Python from the whole list (`among`, or all of the
    person's units'): the children they lead, and the tasks the standards give a role they
    hold. What people are shown reads only its page in SQL (the store's `whose`); this is
    what that is checked against."""
    from sqlalchemy import select

    from store.models import Child
    from store.records import ROLE_IN_STANDARDS

    roles = store.roles_of(user)
    with store.session() as s:
        mine = set(s.scalars(select(Child.number).where(Child.lead_practitioner == user,
                                                        Child.unit_id.in_(list(roles)))))
    items = store.due(roles, now) if among is None else among
    return [i for i in items if i.record.child in mine or any(
        ROLE_IN_STANDARDS.get(role) in i.record.responsible for role in roles[i.record.unit_id])]


def bulk_histories(store: Store, children: int, apart: int = 40) -> None:
    """Realistic histories (bench/histories.py) starting `apart` days apart, in both units, stored
    in one transaction (a posting each would take a test most of a minute at 600 children)."""
    import random
    from datetime import timedelta

    from sqlalchemy import insert

    from bench.histories import child_history
    from store.models import Child, EventRecord

    rng = random.Random(7)
    with store.session.begin() as s:
        for n in range(children):
            number, unit = str(7000 + n), ("unit-a", "C0UNITA") if n % 2 else ("unit-b", "C0UNITB")
            s.execute(insert(Child), [{"number": number, "unit_id": unit[0], "lead_practitioner": "U0SW1",
                                       "flexible_assessment": False, "events_version": 1, "deadlines_version": 0}])
            history = child_history(number, 12 + n % 10, rng, start=date(2025, 9, 1) + timedelta(days=apart * n))
            s.execute(insert(EventRecord), [
                {"child": number, "event": e.event, "status": e.status, "date": e.date, "time": e.time,
                 "details": e.details, "posted_by": "U0SW1", "posted_at": e.posted_at, "channel": unit[1],
                 "message_ts": f"{n}.{k}", "seq": 0, "text": ""} for k, e in enumerate(history)])


def front_door_during_recompute(store: Store, db_url: str, chunk: int = 50) -> tuple[list[int], list[float]]:
    """A full recompute of `store` run in a thread while the front door (waiting at most 2 s,
    as Slack's requests do) stores a request every 50 ms: what the recompute returned, and
    how long each request waited."""
    import threading
    import time as clock

    from store.db import make_engine
    from store.inbox import Inbox

    front = Inbox(make_engine(db_url, wait=2))
    worked_out: list[int] = []
    recompute = threading.Thread(target=lambda: worked_out.append(store.recompute_all(chunk=chunk)))
    recompute.start()
    waits: list[float] = []
    while recompute.is_alive():
        started = clock.monotonic()
        assert front.put(f"event:Ev{len(waits)}", "http", "application/json", "{}")
        waits.append(clock.monotonic() - started)
        clock.sleep(0.05)
    recompute.join()
    front.engine.dispose()
    return worked_out, waits
