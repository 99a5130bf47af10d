"""Connecting to the database, creating and checking the schema."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaError(RuntimeError):
    """The database is not on the schema this version of Timescales knows."""


class DatabaseUrlError(ValueError):
    pass


# An execution option: this connection's transactions only read (on SQLite they take no lock).
READS_ONLY = "timescales_reads_only"
# A pooled PostgreSQL connection idle this long is pinged before it is used again. Pinging
# every checkout (pool_pre_ping) cost a round trip per transaction, a fifth of the Slack
# workers' time under load; a connection used a moment ago is alive, and one that died
# in that moment fails its statement, which invalidates the pool (the request is retried).
PING_WHEN_IDLE_FOR = 1.0  # seconds


def make_engine(url: str, wait: float = 30.0) -> Engine:
    """SQLite (the default) gets WAL, foreign keys and a busy timeout so several
    processes can share it; PostgreSQL goes through psycopg 3. `wait` bounds how long
    a statement waits for a lock or a connection: the front door, which must answer
    Slack within 3 seconds, waits 2."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"'{url}' is not a database URL, e.g. sqlite:///timescales.db") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(f"'{url}': only sqlite:/// and postgresql+psycopg:// databases are supported")
    # hide_parameters: an error in the log never carries message text or child numbers.
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _owner_only(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": wait}, hide_parameters=True)
        event.listen(engine, "connect", lambda connection, _record: _sqlite_pragmas(connection, wait))
        # Let SQLAlchemy's BEGIN reach SQLite, so a write transaction can take
        # the lock up front (pysqlite's own transaction handling would defer it). A
        # connection given READS_ONLY reads a snapshot (WAL) and holds no lock.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get(READS_ONLY) else "BEGIN IMMEDIATE"))
        return engine
    engine = create_engine(parsed, hide_parameters=True, pool_timeout=wait,
                           connect_args={"connect_timeout": max(1, round(wait))})
    event.listen(engine, "checkin", _idle_from)
    event.listen(engine, "checkout", lambda connection, record, _proxy: _ping_if_idle(engine, connection, record))
    return engine


def statement_by_statement(engine: Engine) -> Engine:
    """The engine for work that needs no transaction around it (one statement, or several
    each standing alone): on PostgreSQL each statement commits by itself, sparing the BEGIN
    and COMMIT (or ROLLBACK) round trips, two of a one-statement transaction's three, with
    their system calls and CPU; at READ COMMITTED, PostgreSQL's default, a transaction's
    statements each read afresh anyway. On SQLite, the engine as it is: its begin event
    makes each use a transaction of its own, taking the lock up front as before."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _idle_from(_connection: Any, record: Any) -> None:
    record.info["idle_from"] = time.monotonic()


def _ping_if_idle(engine: Engine, connection: Any, record: Any) -> None:
    """A connection back from a rest checked before use (the database may have restarted
    meanwhile); a dead one is replaced by the pool."""
    if time.monotonic() - record.info.get("idle_from", time.monotonic()) < PING_WHEN_IDLE_FOR:
        return
    try:
        engine.dialect.do_ping(connection)
    except Exception as dead:
        raise DisconnectionError() from dead


def _owner_only(database: Path) -> None:
    """The SQLite file readable by its owner only; SQLite gives its -wal and -shm files
    the database file's mode, and the ones already there are brought in line."""
    if not database.exists() and database.parent.is_dir():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except PermissionError:  # another owner's file: its owner chose its mode
            pass


def _sqlite_pragmas(dbapi_connection: Any, wait: float) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic() -> AlembicConfig:
    # Alembic (with Mako) imported only where the schema is looked at: a full recompute's
    # worker processes never do, and importing it was a fifth of each one's start-up.
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


# pg_advisory_lock's key for "a db upgrade is running" (any 64-bit number of our own).
UPGRADE_LOCK = 7_101_927_001


@contextmanager
def upgrade_lock(engine: Engine) -> Iterator[None]:
    """One `db upgrade` at a time across processes. PostgreSQL: an advisory lock held for
    the whole command (migrations, then the config). SQLite: every write transaction
    takes the database's write lock first (BEGIN IMMEDIATE), which already serialises them."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK})
            connection.commit()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or migrate the schema; returns (revision before, revision after)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = _alembic()
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


@cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    assert head is not None
    return head


def check_schema(engine: Engine) -> None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        raise SchemaError(f"{engine.url.render_as_string(hide_password=True)} has no Timescales schema yet: "
                          "run 'timescales db upgrade'")
    if current != head_revision():
        raise SchemaError(f"the database schema is at revision {current}, this version needs {head_revision()}: "
                          "run 'timescales db upgrade'")


def not_ready(engine: Engine) -> str | None:
    """Why the store cannot be used now (None when it can): for GET /ready."""
    try:
        check_schema(engine)
    except SchemaError as wrong:
        return str(wrong)
    except Exception as down:
        return f"the database does not answer ({type(down).__name__})"
    return None


def backup_sqlite(url: str, to: Path) -> int:
    """A consistent copy of a SQLite store, taken with SQLite's online backup API while the
    bot runs (a file copy misses what is still in the -wal file). Returns its size in bytes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise DatabaseUrlError("db backup copies SQLite stores; for PostgreSQL use pg_dump (see the README)")
    if not Path(parsed.database).is_file():
        raise DatabaseUrlError(f"{parsed.database}: no such database file")
    if to.exists():
        raise DatabaseUrlError(f"{to} exists already: give a new file's name")
    if not to.parent.is_dir():
        raise DatabaseUrlError(f"{to.parent}: no such folder")
    _owner_only(to)  # created readable by its owner only, like the store
    source = sqlite3.connect(parsed.database)
    target = sqlite3.connect(to)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()
    return to.stat().st_size
