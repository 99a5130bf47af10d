"""A whole service on one database (issue 20): the sweep reads in bounded batches and
only what has come due, one process sweeps at a time, a bank holiday recomputes only the
children it touches, and the manager views are built from counts and first items. The
figures at 1,000 to 50,000 children are in bench/growth.py; these check what could break."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import store.ledger as ledger_module
from rules.calendar import LONDON
from scheduler.outbox import Message, Outbox, SendResult
from scheduler.sweep import sweep
from store.ledger import Ledger
from store.records import NewEvent, Posting, Store

from helpers import TEST_CONFIG, bulk_histories, due_for, front_door_during_recompute

FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=LONDON)
MONDAY = datetime(2026, 11, 23, 9, 5, tzinfo=LONDON)


class Recording:
    """A Sender that answers ok at once and keeps what it was given; `gate` holds it."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.gate, self.waiting = gate, threading.Event()

    def send(self, recipient: str, message: Message) -> SendResult:
        if self.gate is not None:
            self.waiting.set()
            self.gate.wait(30)
        self.sent.append((recipient, message))
        return SendResult(True, ts=str(len(self.sent)))

    def find(self, recipient: str, message: Message) -> str | None:
        return None


def notices(sent: list[tuple[str, Message]]) -> list[tuple[str, str, str]]:
    return [(recipient, n.deadline.id, n.step) for recipient, m in sent for n in m.notices]


def caseload(store: Store, children: int) -> None:
    """Children in both units with S47 strategy discussions a week ago: visits, ICPCs and
    more fall due and overdue across the weekend."""
    for n in range(children):
        unit, channel = ("unit-a", "C0UNITA") if n % 2 else ("unit-b", "C0UNITB")
        store.record(Posting(unit, channel, f"{n}.1", "U0SW1" if n % 2 else "U0SW3", FRIDAY - timedelta(days=7)),
                     [NewEvent(str(5000 + n), "strategy_discussion", date(2026, 11, 13), details={"s47": True}),
                      NewEvent(str(5000 + n), "referral_received", date(2026, 10, 1))])


def test_a_sweep_over_many_batches_sends_each_message_once(store, monkeypatch):
    caseload(store, 24)
    expected = sweep(store, Outbox(Recording(), per_channel_gap=0), TEST_CONFIG, MONDAY, dry_run=True)
    wanted = sorted((r, n.deadline.id, n.step) for r, m in expected.messages.items() for n in m.notices)
    assert len({d for _, d, _ in wanted}) > 3 * 7  # more deadlines than three batches
    monkeypatch.setattr(ledger_module, "CANDIDATE_BATCH", 7)  # as if a batch were a bind-parameter limit
    sender = Recording()
    sweep(store, Outbox(sender, per_channel_gap=0), TEST_CONFIG, MONDAY)
    assert sorted(notices(sender.sent)) == wanted  # every notice once, none left out
    assert len({r for r, _ in sender.sent}) == len(sender.sent)  # one message per recipient
    again = Recording()
    sweep(store, Outbox(again, per_channel_gap=0), TEST_CONFIG, MONDAY + timedelta(minutes=5))
    assert again.sent == []
    # Bookmarked: the next sweep reads none of them, and a later step brings them back.
    quiet = Ledger(store).candidates(MONDAY.date() - timedelta(days=21), MONDAY.date() + timedelta(days=10),
                                     MONDAY + timedelta(minutes=10))
    assert list(quiet) == []
    later = Recording()
    sweep(store, Outbox(later, per_channel_gap=0), TEST_CONFIG, MONDAY + timedelta(days=1))
    assert later.sent and not set(notices(later.sent)) & set(wanted)


def test_only_one_process_sweeps_at_a_time(store, db_url):
    caseload(store, 4)
    gate = threading.Event()
    first = Recording(gate)
    done: list[object] = []
    running = threading.Thread(target=lambda: done.append(
        sweep(store, Outbox(first, per_channel_gap=0), TEST_CONFIG, MONDAY)))
    running.start()
    other = Store.open(db_url, TEST_CONFIG)  # another process: its own connections
    try:
        assert first.waiting.wait(30)  # the first sweep is sending
        second = Recording()
        report = sweep(other, Outbox(second, per_channel_gap=0), TEST_CONFIG, MONDAY + timedelta(minutes=1))
        assert report.busy and second.sent == []
        gate.set()
        running.join(30)
        assert first.sent and not done[0].busy  # type: ignore[attr-defined]
        after = sweep(other, Outbox(second, per_channel_gap=0), TEST_CONFIG, MONDAY + timedelta(minutes=2))
        assert not after.busy and second.sent == []  # its turn now, and everything went out once
    finally:
        gate.set()
        other.engine.dispose()


def deadlines(store: Store) -> list[tuple[object, ...]]:
    from sqlalchemy import select

    from store.models import DeadlineRecord

    columns = [c for c in DeadlineRecord.__table__.c if c.name != "next_notice_at"]
    with store.session() as s:
        return [tuple(row) for row in s.execute(select(*columns).order_by(DeadlineRecord.id))]


def test_a_bank_holiday_recomputes_only_the_children_whose_deadlines_span_it(store, db_url):
    from sqlalchemy import delete

    from store.models import DeadlineBasis

    bulk_histories(store, 14)
    assert store.recompute_stale() == 14  # nothing knew what they followed: every child
    plain = deadlines(store)
    holiday = TEST_CONFIG.model_copy(update={"extra_bank_holidays": [date(2026, 3, 16)]})
    for config, expected in ((holiday, None), (TEST_CONFIG, plain)):
        changed = Store.open(db_url, config)
        try:
            redone = changed.recompute_stale()
            assert 0 < redone < 14, redone  # those whose histories run over 16 March 2026 only
            selective = deadlines(changed)
            assert selective != plain or expected is plain
            with changed.session.begin() as s:  # forget what they were worked out from: all of them again
                s.execute(delete(DeadlineBasis))
            assert changed.recompute_stale() == 14
            assert deadlines(changed) == selective  # the same as working every child out again
            if expected is not None:
                assert selective == expected
        finally:
            changed.engine.dispose()


def test_manager_views_from_counts_and_first_items_match_the_whole_lists(store, monkeypatch):
    import bot.conversation as conversation_module
    from bot.conversation import Conversation
    from bot.parser import Query
    from bot.replies import deadline_line, unit_counts, units_summary
    from store.records import is_overdue, page_key

    bulk_histories(store, 14)
    caseload(store, 10)
    for n, at in enumerate((time(10, 0), time(15, 0))):  # 24 hours on: overdue by now today, and due later today
        store.record(Posting("unit-a", "C0UNITA", f"contact.{n}", "U0SW1", FRIDAY),
                     [NewEvent(str(6000 + n), "contact_received", date(2026, 11, 22), time=at)])
    store.recompute_stale()
    now = MONDAY + timedelta(hours=3)
    today, units = now.date(), ["unit-a", "unit-b"]
    sunday = today + timedelta(days=6 - today.weekday())
    everything = store.due(units, now)
    assert {i.overdue for i in everything if i.record.hours_based and i.record.due == today} == {True, False}
    assert sum(i.overdue for i in everything) > 30  # more than App Home shows
    for start, end, overdue_only in ((None, None, False), (today, today + timedelta(days=6), False),
                                     (None, None, True)):
        assert store.due_counts(units, now, start, end, overdue_only) == unit_counts(
            store.due(units, now, start, end, overdue_only))
    assert store.due_counts(units, now, last=sunday) == unit_counts(
        [i for i in everything if i.overdue or i.record.due <= sunday])
    # One unit's list a page at a time (the hours-based items of today on both sides of now
    # among them): the pages are the list as it is shown, overdue first, each item once.
    for start, end, overdue_only in ((None, None, False), (today, today + timedelta(days=6), False),
                                     (None, None, True)):
        paged: list[str] = []
        after = None
        while page := store.due_page(["unit-a"], now, after, 7, start, end, overdue_only):
            paged += [i.record.id for i in page]
            after = page_key(page[-1])
        whole = sorted(store.due(["unit-a"], now, start, end, overdue_only), key=lambda i: not i.overdue)
        assert paged == [i.record.id for i in whole] and len(whole) > 7
    for user in ("U0HOS", "U0TM", "U0SW1", "U0CPL"):
        for limit in (1, 25):
            own = store.units_for(user)
            theirs = due_for(store, user, now, among=store.due(own, now))
            assert _ids(store.due_first_for(user, own, now, today + timedelta(days=7), limit)) == (
                [i.record.id for i in theirs[:limit]], len(theirs))
    overdue = [i for i in everything if i.overdue]
    week = [i for i in everything if not i.overdue and i.record.due <= sunday]
    for limit in (1, 25, 30):
        assert [i.record.id for i in store.due_first(units, now, today, limit, overdue=True)] == [
            i.record.id for i in overdue[:limit]]
        assert [i.record.id for i in store.due_first(units, now, sunday, limit, overdue=False)] == [
            i.record.id for i in week[:limit]]
    # App Home's "... and N more" under each: from these counts.
    counted = store.due_counts(units, now, last=sunday).values()
    assert (sum(o for o, _ in counted), sum(d for _, d in counted)) == (len(overdue), len(week))
    assert all(i.overdue == is_overdue(i.record, now) for i in everything)
    # A list that cannot fit: the summary from the database's counts, as from the whole list. It
    # cannot fit when even its items' shortest possible lines would not.
    shortest = Conversation(store).shortest_line
    assert 50 < shortest <= min(len(f"• {deadline_line(i.record)}") for i in everything)
    monkeypatch.setattr(conversation_module, "PARTS_IN_ONE_ANSWER", 0)
    week_query = Query(type="due", start=today, end=today + timedelta(days=6))
    [reply] = Conversation(store).answer_query(week_query, "U0HOS", now, "D0HOS", None, via="dm")
    expected = units_summary(unit_counts(store.due(units, now, today, today + timedelta(days=6))),
                             "Due Mon 23 Nov to Sun 29 Nov, and everything overdue",
                             {"unit-a": "Unit A", "unit-b": "Unit B"}, {"query": week_query.to_data()})
    assert reply.text == expected.text and reply.blocks == expected.blocks


def _ids(page: tuple[list, int]) -> tuple[list[str], int]:  # type: ignore[type-arg]
    return [i.record.id for i in page[0]], page[1]


def test_a_full_recompute_writes_what_one_child_at_a_time_writes(store):
    """The bulk write (COPY's text on PostgreSQL, executemany on SQLite) holds the same values
    as SQLAlchemy's own insert of the same deadlines, a reason with a tab, a newline and a
    backslash too."""
    from sqlalchemy import delete, insert, select

    from store.models import Child, DeadlineBasis, DeadlineRecord

    bulk_histories(store, 6)
    store.recompute_stale()
    with store.session() as s:
        open_one = s.scalars(select(DeadlineRecord).where(DeadlineRecord.state == "open",
                                                          DeadlineRecord.child == "7001")).first()
    assert open_one is not None
    store.record_decision("7001", "extension", open_one.rule, open_one.due + timedelta(days=10), "U0SM",
                          datetime(2026, 11, 20, 9, tzinfo=LONDON), "family\tabroad \\ back\non the 30th")
    with store.session.begin() as s:
        s.execute(delete(DeadlineBasis))
    store.recompute_stale()  # every child in bulk
    bulk = deadlines(store)
    assert any(row[-2] and "abroad" in str(row) for row in bulk)  # the override, reason and all
    children = sorted({row[1] for row in bulk})
    with store.session.begin() as s:
        worked = store._work_out(s, children, datetime.now(LONDON))
        units = dict(s.execute(select(Child.number, Child.unit_id)).all())
        s.execute(delete(DeadlineRecord))
        s.execute(insert(DeadlineRecord), [
            {"id": d.id, "child": d.child, "unit_id": units[d.child], "rule": d.rule, "standard": d.standard,
             "source": d.source, "title": d.title, "timescale": d.timescale, "due": d.due, "due_at": d.due_at,
             "hours_based": d.hours_based, "state": "open" if d.state == "overdue" else d.state,
             "responsible": list(d.responsible), "event_id": d.event_id, "met_event_id": d.met_event_id,
             "closed_on": d.closed_on, "late": d.late, "override": d.override, "known_from": d.known_from}
            for timeline in worked.timelines.values() for d in timeline.deadlines])
    assert deadlines(store) == bulk


def test_a_full_recompute_shared_among_processes_writes_what_one_child_at_a_time_writes(store, monkeypatch):
    """At a service's size, worker processes work out and write the chunks."""
    import pytest
    from sqlalchemy import delete, update

    import store.records as records
    from store.models import Child, DeadlineRecord

    if records.recompute_workers() < 2:
        pytest.skip("shared among processes with two cores or more")
    bulk_histories(store, 8)
    monkeypatch.setattr(records, "IN_PROCESSES_FROM", 2)
    shared: list[list[str]] = []
    in_processes = Store._recompute_in_processes

    def watched(self, numbers, *rest):  # type: ignore[no-untyped-def]
        shared.append(list(numbers))
        return in_processes(self, numbers, *rest)

    monkeypatch.setattr(Store, "_recompute_in_processes", watched)
    assert store.recompute_stale() == 8 and len(shared[0]) == 8
    written = deadlines(store)
    assert len(written) > 8 * 5
    with store.session.begin() as s:  # every row written again, one child at a time
        s.execute(delete(DeadlineRecord))
        s.execute(update(Child).values(deadlines_digest=None))
    for child in sorted({row[1] for row in written}):
        store.recompute_child(child)
    assert deadlines(store) == written


def test_slack_requests_are_stored_while_worker_processes_work_every_child_out_on_sqlite(store, db_url, monkeypatch):
    """On SQLite too the processes read each chunk outside the transaction that writes it (a
    WAL snapshot, no lock), so the front door, which waits at most 2 s, gets the write lock
    between two chunks throughout."""
    import pytest

    import store.records as records

    if store.engine.dialect.name != "sqlite" or records.recompute_workers() < 2:
        pytest.skip("SQLite's one writer, shared among processes with two cores or more")
    bulk_histories(store, 600, apart=0)
    monkeypatch.setattr(records, "IN_PROCESSES_FROM", 100)
    shared: list[int] = []
    in_processes = Store._recompute_in_processes

    def watched(self, numbers, *rest):  # type: ignore[no-untyped-def]
        shared.append(len(numbers))
        return in_processes(self, numbers, *rest)

    monkeypatch.setattr(Store, "_recompute_in_processes", watched)
    worked_out, waits = front_door_during_recompute(store, db_url)
    assert shared == [600] and worked_out == [600] and len(waits) >= 3
    assert max(waits) < 2.0  # never near Slack's 3 seconds
    assert not store.rules_changed() and len(deadlines(store)) > 600 * 10


def test_a_bank_holiday_in_the_gap_between_two_episodes_leaves_the_child_alone(store, db_url):
    """Only a deadline whose count runs over the day makes its child worked out again: not a
    history that merely began before it and goes on after (a case closed, then referred again)."""
    posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
    episodes = {"801": [NewEvent("801", "referral_received", date(2026, 1, 5)),
                        NewEvent("801", "case_closed", date(2026, 2, 2)),
                        NewEvent("801", "referral_received", date(2026, 9, 1))],
                "802": [NewEvent("802", "referral_received", date(2026, 5, 11))]}
    for n, (child, events) in enumerate(episodes.items()):
        store.record(Posting("unit-a", "C0UNITA", f"{child}.{n}", "U0SW1", posted, "history"), events)
    store.recompute_all()
    holiday = TEST_CONFIG.model_copy(update={"extra_bank_holidays": [date(2026, 5, 18)]})
    changed = Store.open(db_url, holiday)
    try:
        assert changed.holiday_children() == ["802"]
    finally:
        changed.engine.dispose()


def test_a_child_recorded_or_moved_while_a_full_recompute_works_it_out_is_written_as_it_now_stands(store, monkeypatch):
    """The recompute works a chunk out outside the transaction that writes it: a child
    recorded meanwhile is worked out again under its lock, and a child moved to another
    unit meanwhile has its deadlines in the unit it is in now, never in the one it left."""
    from sqlalchemy import delete, select

    from store.models import Child, DeadlineBasis, DeadlineRecord

    bulk_histories(store, 6)
    store.recompute_stale()
    worked_out = Store._work_out
    meanwhile: list[str] = []
    once = threading.Lock()

    def then_recorded_and_moved(self, s, part, now):  # type: ignore[no-untyped-def]
        worked = worked_out(self, s, part, now)
        if once.acquire(blocking=False):  # the first chunk's reading, outside any writing transaction
            meanwhile.extend(str(e.id) for e in store.record(Posting("unit-b", "C0UNITB", "99.1", "U0SW3", datetime(2026, 11, 20, 9, tzinfo=LONDON)),
                         [NewEvent("7002", "strategy_discussion", date(2026, 11, 19), details={"s47": True})]))
            with store.session.begin() as t:
                t.get(Child, "7003").unit_id = "unit-b"
        return worked

    monkeypatch.setattr(Store, "_work_out", then_recorded_and_moved)
    with store.session.begin() as s:
        s.execute(delete(DeadlineBasis))
    assert store.recompute_stale() == 6 and meanwhile
    armed = {r.rule for r in store.child_deadlines("7002") if r.event_id == meanwhile[0]}
    assert "icpc" in armed  # the strategy discussion recorded meanwhile, its S47 arming the conference
    with store.session() as s:
        assert set(s.scalars(select(DeadlineRecord.unit_id).where(DeadlineRecord.child == "7003"))) == {"unit-b"}
    written = deadlines(store)
    monkeypatch.undo()
    for child in ("7002", "7003"):
        store.recompute_child(child)
    assert deadlines(store) == written


def test_a_recompute_that_changes_nothing_writes_nothing_but_a_new_bank_holiday_moves_the_reminders(store, db_url):
    """A child whose deadlines come out the same after a bank holiday is announced keeps its
    rows (the digest kept with it) and the sweep's bookmarks in them; but its notices count
    working days over the new holiday, so the next sweep looks at every bookmark again."""
    from sqlalchemy import select

    from store.models import DeadlineRecord

    held = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)  # a Wednesday: the record is due Friday 10:00
    store.record(Posting("unit-a", "C0UNITA", "1.1", "U0SW1", held + timedelta(minutes=30)),
                 [NewEvent("6000", "strategy_discussion", held.date(), time=time(10, 0))])
    sweep(store, Outbox(Recording(), per_channel_gap=0), TEST_CONFIG, held + timedelta(hours=1))

    def record() -> DeadlineRecord:
        with store.session() as s:
            found = s.scalars(select(DeadlineRecord).where(DeadlineRecord.rule == "strategy-record-shared")).one()
        return found

    friday = datetime(2026, 11, 27, 8, 30, tzinfo=LONDON)
    assert (record().due_at, record().next_notice_at) == (held + timedelta(hours=48), friday)  # "due today"
    holiday = TEST_CONFIG.model_copy(update={"extra_bank_holidays": [friday.date()]})
    changed = Store.open(db_url, holiday)
    try:
        assert changed.recompute_all() == 1 and record().next_notice_at == friday  # worked out, nothing written
        sweep(changed, Outbox(Recording(), per_channel_gap=0), holiday, held + timedelta(hours=1, minutes=5))
        assert record().next_notice_at == friday - timedelta(days=1)  # "due today" on Thursday, the last working day
        sender = Recording()
        sweep(changed, Outbox(sender, per_channel_gap=0), holiday, friday - timedelta(days=1, minutes=-5))
        assert ("strategy-record-shared", "due_today") in {(n.deadline.rule, n.step)
                                                           for _, m in sender.sent for n in m.notices}
    finally:
        changed.engine.dispose()
