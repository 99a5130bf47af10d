"""Alembic environment. Two ways in:

- from Timescales itself (`timescales db upgrade`, `store.db.upgrade`), with a live
  connection in `config.attributes["connection"]`;
- from the `alembic` command, as engineers use it (`alembic upgrade head`,
  `alembic upgrade head --sql`, `alembic revision --autogenerate -m "..."`), with the
  database from `-x db=URL`, else env DATABASE_URL, else sqlite:///timescales.db.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from store.db import make_engine
from store.models import Base

config = context.config
OPTIONS = {"target_metadata": Base.metadata, "render_as_batch": True, "compare_type": True}


def database_url() -> str:
    return (context.get_x_argument(as_dictionary=True).get("db") or os.environ.get("DATABASE_URL")
            or "sqlite:///timescales.db")


if (connection := config.attributes.get("connection")) is not None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif context.is_offline_mode():  # --sql: the SQL printed, not run
    context.configure(url=database_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
else:
    if config.config_file_name:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(database_url())
    with engine.connect() as live:
        context.configure(connection=live, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
