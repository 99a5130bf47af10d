"""Deployable by a council's digital team: the wheel installs and runs from an empty folder,
the models and the migrations agree, Alembic works as engineers use it, several `db upgrade`s
at once are safe, and a running SQLite store can be backed up and restored."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from test_cli import UNIT_CONFIG, timescales

from store.db import make_engine
from store.models import Base
from store.records import NewEvent, Posting, Store

from helpers import TEST_CONFIG
from wire import NOW

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"


def test_the_models_and_the_migrations_agree(db_url):
    engine = make_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_the_wheel_installs_and_runs_from_an_empty_folder(tmp_path):
    built = subprocess.run([str(UV), "build", "--wheel", "-o", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("timescales-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(UV), "pip", "install", "--python", str(venv / "bin" / "python"), str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIMESCALES_CONFIG", "DATABASE_URL")}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "timescales"), *args], cwd=empty, env=env, capture_output=True,
                              text=True, timeout=120, input=stdin)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == "timescales 0.2.0"
    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0 and "schema none -> " in upgraded.stdout, upgraded.stderr
    chat = run("chat", "--now", "2026-11-23T10:00", stdin="strategy discussion held today for 123, S47 agreed\n")
    assert chat.returncode == 0 and "Initial Child Protection Conference held - due Mon 14 Dec" in chat.stdout
    due = run("due", "--now", "2026-11-23T11:00")
    assert due.returncode == 0 and "child 123" in due.stdout
    assert not (empty / "bot").exists() and "setuptools" not in chat.stderr + due.stderr


def test_alembic_works_as_engineers_use_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'alembic.db'}"
    alembic = [str(Path(sys.executable).parent / "alembic"), "-c", str(ROOT / "alembic.ini"), "-x", f"db={url}"]
    upgraded = subprocess.run([*alembic, "upgrade", "head"], capture_output=True, text=True, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "(head)" in subprocess.run([*alembic, "current"], capture_output=True, text=True, cwd=tmp_path).stdout
    # The SQL for a DBA to run on PostgreSQL (offline: nothing is connected to).
    offline = subprocess.run([*alembic[:-1], "db=postgresql+psycopg://dba@db.invalid/timescales", "upgrade", "head",
                              "--sql"], capture_output=True, text=True, cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.count("CREATE TABLE") >= 10 and "ALTER TABLE events ADD COLUMN origin_ts" in offline.stdout


def test_several_db_upgrades_at_once_on_postgresql_all_succeed(postgres_server, tmp_path):
    from sqlalchemy import create_engine, text

    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    for attempt in range(3):
        name = f"race{attempt}"
        admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
        runs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "db", "upgrade", "--db", url], cwd=tmp_path,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in runs]
        assert [code for code, _ in results] == [0, 0, 0], results
        store = Store.open(url, TEST_CONFIG)
        assert set(store.unit_names()) == {"unit-a"}
        store.engine.dispose()


def test_a_running_sqlite_store_is_backed_up_consistently_and_restored(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    from rules.config import load_config

    store = Store.open(f"sqlite:///{tmp_path / 'timescales.db'}", load_config(tmp_path / "timescales.toml"))
    writing = threading.Event()

    def keep_writing() -> None:
        n = 0
        while not writing.is_set():
            n += 1
            store.record(Posting("unit-a", "C0UNITA", f"w.{n}", "U0SW1", NOW, "visit"),
                         [NewEvent(str(500 + n % 50), "visit", NOW.date())])

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        copied = timescales("db", "backup", "backup.db", cwd=tmp_path)
    finally:
        writing.set()
        writer.join()
    assert copied.returncode == 0 and copied.stdout.startswith("backed up"), copied.stderr
    assert (tmp_path / "backup.db").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(tmp_path / "backup.db") as backup:
        assert backup.execute("pragma integrity_check").fetchone() == ("ok",)
        events = backup.execute("select count(*) from events").fetchone()[0]
        assert events > 0 and backup.execute("select count(*) from units").fetchone() == (1,)
    store.engine.dispose()
    # A restore is the backup put back in place: the bot reads it like any store.
    restored = timescales("due", "--db", f"sqlite:///{tmp_path / 'backup.db'}", "--now", "2026-11-23T11:00",
                          "--json", cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    again = timescales("db", "backup", "backup.db", cwd=tmp_path)
    assert again.returncode == 2 and again.stderr.strip() == "timescales: backup.db exists already: give a new file's name"
    on_postgres = timescales("db", "backup", "x.db", "--db", "postgresql+psycopg://u@127.0.0.1:1/x", cwd=tmp_path)
    assert on_postgres.returncode == 2 and "for PostgreSQL use pg_dump" in on_postgres.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_and_config_may_come_before_or_after_the_subcommand(tmp_path, where):
    (tmp_path / "unit.toml").write_text(UNIT_CONFIG)
    options = ["--db", f"sqlite:///{tmp_path / 'other.db'}", "--config", "unit.toml"]
    args = [*options, "db", "upgrade"] if where == "before" else ["db", "upgrade", *options]
    out = timescales(*args, cwd=tmp_path)
    assert out.returncode == 0 and "config: added unit unit-a" in out.stdout, out.stderr
    assert (tmp_path / "other.db").exists() and not (tmp_path / "timescales.db").exists()
