"""For every write, a kill and a restart: a process SIGKILLed part-way through a long
write (a full recompute of every child's deadlines), then a restart as the bot starts.
Nothing is seen half-written meanwhile, and the restart finishes the job without waiting
out the dead process's lease. On SQLite and PostgreSQL, worker processes included."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

import store.records as records
from bench.histories import histories
from rules.calendar import LONDON
from store.models import Child, DeadlineRecord, EventRecord, ServiceState
from store.records import Store

from helpers import TEST_CONFIG

CHILDREN, CHUNK = 400, 50  # eight chunks: the kill falls between two (about a second's work)
CHANGED = TEST_CONFIG.model_copy(update={"disabled_rules": ["allocation-record"]})  # a rule every child has

Snapshot = dict[str, tuple[object, ...]]


def fill(store: Store, children: int) -> None:
    """Children with realistic histories (bench/histories.py), in both units, worked out."""
    everyone = histories(children, 12)
    with store.session.begin() as s:
        s.execute(insert(Child), [{"number": h[0].child, "unit_id": "unit-a" if i % 2 else "unit-b",
                                   "lead_practitioner": "U0SW1", "flexible_assessment": False, "events_version": 1,
                                   "deadlines_version": 0} for i, h in enumerate(everyone)])
        s.execute(insert(EventRecord), [
            {"child": e.child, "event": e.event, "status": e.status, "date": e.date, "time": e.time,
             "details": e.details, "posted_by": "U0SW1", "posted_at": e.posted_at,
             "channel": "C0UNITA" if i % 2 else "C0UNITB", "message_ts": f"{i}.{n}", "seq": 0, "text": ""}
            for i, h in enumerate(everyone) for n, e in enumerate(h)])
    assert store.recompute_stale() == children


def by_child(store: Store) -> Snapshot:
    """Every child's deadlines as one read sees them, summed up in the database (a child
    half-written lacks some of one set or holds some of both: its count or ends differ).
    A read-only snapshot: on SQLite it waits for no writer."""
    with store.reading() as s:
        return {child: tuple(rest) for child, *rest in s.execute(text(
            "SELECT child, count(*), min(id), max(id), min(due), max(due), count(DISTINCT rule) FROM deadlines "
            "GROUP BY child"))}


def rewritten(store: Store) -> int:
    """How many children have had their deadlines worked out under CHANGED (its rule gone)."""
    with store.reading() as s:
        still = s.scalar(select(func.count(func.distinct(DeadlineRecord.child)))
                         .where(DeadlineRecord.rule == "allocation-record"))
    return CHILDREN - int(still or 0)


class Reader(threading.Thread):
    """Reads every child's deadlines, again and again, as a due list would meanwhile."""

    def __init__(self, store: Store) -> None:
        super().__init__(daemon=True)
        self.store, self.stopping = store, threading.Event()
        self.seen: list[Snapshot] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            self.seen.append(by_child(self.store))
            time.sleep(0.01)

    def stop(self) -> list[Snapshot]:
        self.stopping.set()
        self.join(30)
        return self.seen


def children_of(pid: int) -> list[int]:
    """The processes this one started (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _recompute_in_a_process(url: str, processes_from: int, started: Any, go: Any) -> None:
    records.IN_PROCESSES_FROM = processes_from  # read when the recompute starts
    os.nice(10)  # on a busy machine the test watching it gets the CPU first, so the kill lands part-way
    opened = Store.open(url, CHANGED)
    started.set()  # Python and the rules loaded (a second or two) while the test fills the store
    go.wait(60)
    opened.recompute_all(chunk=CHUNK)


_SAME = ("id", "child", "rule", "due", "due_at", "state", "event_id", "met_event_id", "closed_on", "late")


def stored(store: Store) -> list[tuple[object, ...]]:
    with store.reading() as s:
        return [tuple(row) for row in s.execute(select(*(DeadlineRecord.__table__.c[c] for c in _SAME))
                                               .order_by(DeadlineRecord.id))]


def one_at_a_time(store: Store, children: list[str]) -> list[tuple[object, ...]]:
    """The children's deadlines worked out one at a time, as `stored` reads them."""
    now = datetime.now(LONDON)
    found = []
    with store.reading() as s:
        for child in children:
            for d in store._work_out(s, [child], now).timelines[child].deadlines:
                found.append(tuple("open" if c == "state" and d.state == "overdue" else getattr(d, c) for c in _SAME))
    return sorted(found)


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("way", ["threads", "worker processes"])
def test_a_full_recompute_killed_part_way_is_finished_at_the_next_start_and_never_seen_half_written(
        store, db_url, way):
    """The killed recompute runs in its own process's threads, or in worker processes (as from
    IN_PROCESSES_FROM children: a service's size), on either database; the restart in threads."""
    in_processes = way == "worker processes"
    if in_processes and records.recompute_workers() < 2:
        pytest.skip("one core: a recompute is shared among processes only on more")
    spawn = multiprocessing.get_context("spawn")
    started, go = spawn.Event(), spawn.Event()
    killed = spawn.Process(target=_recompute_in_a_process,
                           args=(db_url, 2 if in_processes else records.IN_PROCESSES_FROM, started, go))
    killed.start()
    fill(store, CHILDREN)
    before = by_child(store)
    assert started.wait(60)
    reader = Reader(store)
    reader.start()
    go.set()
    wait_for(lambda: rewritten(store) >= CHUNK, 60)  # a chunk or more written
    workers = children_of(killed.pid or 0)
    killed.kill()
    killed.join(10)
    part = rewritten(store)
    with store.session() as s:
        holder = s.scalar(select(ServiceState.value).where(ServiceState.name == "recompute"))
    restarted = Store.open(db_url, CHANGED)
    assert holder is not None and part < CHILDREN  # killed part-way, its lease left behind
    assert restarted.rules_changed()  # the basis is written at the end only: the next start does it again
    if in_processes:  # its workers (and multiprocessing's resource tracker) end with it
        assert len(workers) >= 2
        try:
            # (each looks every half second; at nice 15 on a loaded machine it may wait its turn)
            wait_for(lambda: not any(alive(w) for w in workers), 30)
        finally:
            for worker in filter(alive, workers):
                os.kill(worker, signal.SIGKILL)

    began = time.monotonic()
    assert restarted.recompute_stale() == CHILDREN  # what `serve` and `run` do at start, in the background
    took = time.monotonic() - began
    seen = reader.stop()
    assert took < 10, f"the restart waited {took:.1f} s for a dead process's lease"
    assert not restarted.rules_changed() and rewritten(store) == CHILDREN
    with store.session() as s:
        assert s.scalar(select(ServiceState.value).where(ServiceState.name == "recompute")) is None

    after = by_child(store)
    assert all(after[child] != before[child] for child in before)  # every child's deadlines moved
    mixed = 0
    for snapshot in seen:  # each child either as it was or as it is now: never half of each, never none
        assert set(snapshot) == set(before)
        assert all(rows in (before[child], after[child]) for child, rows in snapshot.items())
        mixed += 0 < sum(rows == after[child] for child, rows in snapshot.items()) < CHILDREN
    assert mixed, "the reader never saw a recompute part-way"

    assert stored(restarted) == one_at_a_time(restarted, sorted(before))
    restarted.engine.dispose()


def test_a_recompute_lease_is_taken_over_at_once_only_from_a_process_known_to_have_ended(store):
    """A dead holder's lease, on this machine, is taken at once; a live one's, or one held on
    another machine (or in another container), only when it runs out."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, here = int(ended.stdout), records._THIS_MACHINE
    for holder, taken in ((f"{dead}:1@{here}", True), (f"{os.getppid()}:1@{here}", False),
                          (f"{dead}:1@another-boot/pid:[4026531836]", False), (f"{dead}:1", False)):
        with store.session.begin() as s:
            s.merge(ServiceState(name="recompute", at=datetime.now(UTC) + timedelta(seconds=60), value=holder))
        assert store._take_recompute(store.deadline_basis) is taken, holder
        with store.session() as s:
            assert (s.scalar(select(ServiceState.value).where(ServiceState.name == "recompute")) == holder) is not taken


IMPORT_AT = "2026-12-01T10:00"  # bench/import_caseload's day one


def cli(folder: Path, db_url: str, *args: str) -> subprocess.Popen[str]:
    """A `timescales` command in a process of its own, at a lower priority than the test that
    watches it (on a busy machine the kill still lands part-way)."""
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args, "--db", db_url], cwd=folder, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path.cwd())}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=lambda: os.nice(10))


def outcome(deadlines: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    """What an import's deadlines say, whatever its events' ids (a dry run numbers its own)."""
    return sorted((d["child"], d["rule"], d["due"], d["state"], d["overdue_at_import"]) for d in deadlines)


def test_an_import_killed_part_way_leaves_each_child_whole_and_the_same_file_again_completes_it(
        store, db_url, tmp_path):
    """`timescales import` stores the file's events in one transaction, then works out the
    children's deadlines 200 to a transaction: killed between two of those, every child is
    either whole or absent; the next start works out the rest, and the file imported again
    (as a co-ordinator would) gives what one uninterrupted import gives, nothing twice."""
    from test_cli import UNIT_CONFIG

    from bench.import_caseload import caseload
    from bot.importing import import_file

    text = caseload(400, 1).replace(",unit-0,", ",unit-a,")
    (tmp_path / "caseload.csv").write_text(text)
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    rows = {}  # child -> how many events the file gives it
    for line in text.splitlines()[1:]:
        rows[line.split(",")[0]] = rows.get(line.split(",")[0], 0) + 1
    at = datetime.fromisoformat(IMPORT_AT).replace(tzinfo=LONDON)
    store.sync_config(TEST_CONFIG)
    expected = outcome(import_file(store, text, "unit-a", "cli:test", at, "caseload.csv", dry_run=True).deadlines)
    assert len(expected) > len(rows)

    def stale() -> int:
        with store.reading() as s:
            return int(s.scalar(select(func.count()).select_from(Child)
                                .where(Child.deadlines_version != Child.events_version)) or 0)

    killed = cli(tmp_path, db_url, "import", "caseload.csv", "--unit", "unit-a", "--now", IMPORT_AT, "--json")
    try:
        wait_for(lambda: stale() > 0, 60)  # the events stored, the deadlines not yet all worked out
    finally:
        killed.kill()
        killed.wait(10)
    with store.reading() as s:
        held = dict(s.execute(select(EventRecord.child, func.count()).group_by(EventRecord.child)).all())
        left = stale()
    assert left > 0  # killed part-way: some children (or all) still to be worked out
    assert all(held.get(child, 0) in (0, count) for child, count in rows.items())  # each child whole or absent

    restarted = Store.open(db_url, TEST_CONFIG)  # as `timescales import` (or the bot) starts again
    assert restarted.recompute_stale() == left
    redone = import_file(restarted, text, "unit-a", "cli:test", at, "caseload.csv").as_json()
    assert redone["stored"] and redone["children"] == len(rows) and redone["events"] == 0  # nothing new, nothing twice
    assert outcome(redone["deadlines"]) == expected  # as one import uninterrupted would give
    with store.reading() as s:
        assert dict(s.execute(select(EventRecord.child, func.count()).group_by(EventRecord.child)).all()) == rows
    assert stale() == 0 and stored(store) == one_at_a_time(store, sorted(rows))
    third = import_file(restarted, text, "unit-a", "cli:test", at, "caseload.csv").as_json()
    assert third == redone  # the same file once more: the same answer
    restarted.engine.dispose()
