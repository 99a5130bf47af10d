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


# -- the store, on SQLite and on a real PostgreSQL server ------------------------
import uuid  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from rules.config import Config, UnitConfig  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from store.records import Store  # noqa: E402
from tests.postgres import throwaway_cluster  # noqa: E402

UNIT_A = UnitConfig(id="unit-a", name="Unit A", channel="C0UNITA", team_manager="U0TM", service_manager="U0SM",
                    head_of_service="U0HOS", coordinator="U0UC", practitioners=["U0SW1", "U0SW2"],
                    child_protection_lead="U0CPL")
UNIT_B = UnitConfig(id="unit-b", name="Unit B", channel="C0UNITB", team_manager="U0TMB", service_manager="U0SM",
                    head_of_service="U0HOS", coordinator="U0UCB", practitioners=["U0SW3"], flexible_assessment=True)
TEST_CONFIG = Config(units=[UNIT_A, UNIT_B])


@pytest.fixture(scope="session")
def postgres_server():
    with throwaway_cluster() as url:
        yield url


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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    url = new_database(request.param, tmp_path, request)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def store(db_url) -> Store:
    opened = Store.open(db_url, TEST_CONFIG)
    opened.sync_config(TEST_CONFIG)
    yield opened
    opened.engine.dispose()


# -- the bot over the wire, with a fake Slack -----------------------------------
from fake_slack import FakeSlack  # noqa: E402
from wire import Bot  # noqa: E402


@pytest.fixture
def slack(monkeypatch):
    fake = FakeSlack()
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    yield fake
    fake.close()


def running_bot(kind: str, slack: FakeSlack, tmp_path, request):
    """The bot served on a free port over a fresh store of that kind."""
    url = new_database(kind, tmp_path, request)
    upgrade(make_engine(url))
    opened = Store.open(url, TEST_CONFIG)
    opened.sync_config(TEST_CONFIG)
    running = Bot(opened, slack)
    yield running
    running.close()
    opened.engine.dispose()


@pytest.fixture
def bot(slack, tmp_path, request):
    yield from running_bot("sqlite", slack, tmp_path, request)


@pytest.fixture(params=["sqlite", "postgresql"])
def bot_on_both(slack, tmp_path, request):
    yield from running_bot(request.param, slack, tmp_path, request)
