"""The tests' fixtures: the rule pack and calendar, a store on SQLite and on a real
PostgreSQL server (started here), and the bot over the wire with a fake Slack.
Shared code is in helpers.py."""

from __future__ import annotations

import pytest

from rules.calendar import WorkingCalendar
from rules.pack import RulePack, load_pack
from store.db import make_engine, upgrade
from store.records import Store

from fake_slack import FakeSlack
from helpers import TEST_CONFIG, new_database
from postgres import throwaway_cluster
from wire import Bot


@pytest.fixture(scope="session")
def pack() -> RulePack:
    return load_pack()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture(scope="session")
def postgres_server():
    with throwaway_cluster() as url:
        yield url


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
