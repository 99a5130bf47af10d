"""The benchmarks' stores: an empty, migrated database (the URL given on the
command line, or a temporary SQLite file) holding the units of a config."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from rules.config import Config, UnitConfig
from store.db import make_engine, upgrade
from store.models import Child
from store.records import Store


def plain_units(n: int) -> Config:
    """`n` units, each with its own channel and the same managers."""
    return Config(units=[UnitConfig(id=f"unit-{i}", name=f"Unit {i}", channel=f"C0UNIT{i}", team_manager="U0TM",
                                    service_manager="U0SM", head_of_service="U0HOS", coordinator="U0UC")
                         for i in range(n)])


def empty_store(config: Config) -> Store:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Child)):
            raise SystemExit(f"{url}: holds children already; the benchmarks need an empty database")
    store = Store(engine, config.rule_pack(), config.calendar())
    store.sync_config(config)
    return store
