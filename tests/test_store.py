"""The system of record, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
from datetime import date, datetime, time

import pytest
from sqlalchemy import func, select

from rules.calendar import LONDON
from rules.config import Config
from store.db import SchemaError, check_schema, make_engine
from store.models import DeadlineRecord, EventRecord
from store.records import DecisionNotAllowed, NewEvent, Posting, Store, collector_held_back

from helpers import TEST_CONFIG, UNIT_A, UNIT_B, bulk_histories, front_door_during_recompute


def posting(ts: str = "1700000000.000100", unit: str = "unit-a", channel: str = "C0UNITA",
            by: str = "U0SW1", at: str = "2026-11-23T15:00") -> Posting:
    return Posting(unit_id=unit, channel=channel, message_ts=ts, posted_by=by,
                   posted_at=datetime.fromisoformat(at).replace(tzinfo=LONDON), text="strategy today for 123, S47")


STRATEGY = NewEvent(child="123", event="strategy_discussion", date=date(2026, 11, 23), time=time(10),
                    details={"s47": True})
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=LONDON)


def test_an_update_is_stored_and_its_deadlines_computed(store):
    stored = store.record(posting(), [STRATEGY])
    assert [(e.child, e.event, e.posted_by) for e in stored] == [("123", "strategy_discussion", "U0SW1")]
    deadlines = {d.rule: d for d in store.child_deadlines("123")}
    assert deadlines["icpc"].due == date(2026, 12, 14)
    assert deadlines["s47-visit"].due_at == datetime(2026, 11, 24, 10, tzinfo=LONDON)
    assert deadlines["icpc"].id == f"123:icpc:{stored[0].id}"


def test_the_same_message_stored_twice_is_one_event(store):
    store.record(posting(), [STRATEGY])
    store.record(posting(), [STRATEGY])
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(EventRecord)) == 1


def test_a_message_about_two_children_is_two_events(store):
    stored = store.record(posting(), [STRATEGY, NewEvent(child="124", event="visit", date=date(2026, 11, 23))])
    assert [(e.child, e.seq) for e in stored] == [("123", 0), ("124", 1)]


def test_claiming_a_message_twice_says_so(store):
    at = datetime(2026, 11, 23, 15, tzinfo=LONDON)
    assert store.claim_message("C0UNITA", "1.1", "U0SW1", at) is True
    assert store.claim_message("C0UNITA", "1.1", "U0SW1", at) is False


def _deliver(url: str, ts: str, barrier) -> None:
    store = Store.open(url, TEST_CONFIG)
    barrier.wait()
    store.record(posting(ts=ts), [STRATEGY])
    store.engine.dispose()


def test_duplicate_delivery_from_two_processes_at_once_is_one_event(store, db_url):
    context = multiprocessing.get_context("spawn")
    for n in range(3):
        barrier = context.Barrier(2)
        workers = [context.Process(target=_deliver, args=(db_url, f"17000.{n}", barrier)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
            assert w.exitcode == 0
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(EventRecord)) == 3
        # the deadlines were recomputed once per child's final history, not doubled
        assert s.scalar(select(func.count()).select_from(DeadlineRecord).where(DeadlineRecord.rule == "icpc")) == 1


def test_a_crash_between_storing_and_recomputing_loses_nothing(store, db_url):
    store.record(posting("1.1"), [NewEvent(child="124", event="visit", date=date(2026, 11, 23))])
    store.recompute_stale()  # a start: the deadlines now follow these rules
    store.store_events(posting(), [STRATEGY])  # the process dies here, before recomputing
    assert store.child_deadlines("123") == []
    restarted = Store.open(db_url, TEST_CONFIG)
    assert restarted.recompute_stale() == 1  # child 123 only
    assert {d.rule for d in restarted.child_deadlines("123")} >= {"icpc", "s47-visit"}
    assert restarted.recompute_stale() == 0
    restarted.engine.dispose()


def test_a_bank_holiday_added_to_the_config_moves_stored_deadlines_at_the_next_start(store, db_url):
    store.record(posting(), [STRATEGY])  # Mon 23 Nov 2026: ICPC within 15 working days, Mon 14 Dec
    store.record(posting("1.2", by="U0SW1"), [NewEvent(child="124", event="visit", date=date(2026, 11, 23))])
    assert store.recompute_stale() == 2  # nothing knew what the stored deadlines followed: all of them
    assert store.recompute_stale() == 0
    icpc = {d.rule: d for d in store.child_deadlines("123")}["icpc"]
    assert icpc.due == date(2026, 12, 14)

    # A bank holiday announced after the holidays release, on Tue 1 Dec: one working day fewer.
    holiday = TEST_CONFIG.model_copy(update={"extra_bank_holidays": [date(2026, 12, 1)]})
    restarted = Store.open(db_url, holiday)
    assert restarted.rules_changed()
    assert restarted.recompute_stale() == 1  # child 123 only: 124's one visit arms nothing that spans it
    assert {d.rule: d for d in restarted.child_deadlines("123")}["icpc"].due == date(2026, 12, 15)
    assert restarted.recompute_stale() == 0 and not restarted.rules_changed()
    # ...and taken out again, the deadline returns to the Monday.
    again = Store.open(db_url, TEST_CONFIG)
    assert again.recompute_stale() == 1
    assert {d.rule: d for d in again.child_deadlines("123")}["icpc"].due == date(2026, 12, 14)
    for opened in (restarted, again):
        opened.engine.dispose()


HOLIDAY_CONFIG = TEST_CONFIG.model_copy(update={"extra_bank_holidays": [date(2026, 12, 1)]})


def _start(url: str, barrier, results) -> None:
    store = Store.open(url, HOLIDAY_CONFIG)
    barrier.wait()
    results.put(store.recompute_stale())
    store.engine.dispose()


def test_two_processes_starting_after_a_rules_change_recompute_once(store, db_url):
    for n in range(20):
        store.record(posting(f"3.{n}"), [NewEvent(child=str(500 + n), event="strategy_discussion",
                                                  date=date(2026, 11, 23), details={"s47": True})])
    store.recompute_stale()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_start, args=(db_url, barrier, results)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    assert sorted(results.get(timeout=5) for _ in workers) == [0, 20]  # one did the work, the other found it done
    icpc = [d for d in store.child_deadlines("510") if d.rule == "icpc"]
    assert [d.due for d in icpc] == [date(2026, 12, 15)]


def test_a_rule_turned_on_in_the_config_gives_every_child_its_deadlines(store, db_url):
    [visit] = store.record(posting(), [NewEvent(child="124", event="visit", date=date(2026, 11, 23))])
    store.recompute_stale()
    assert "visit-recorded" not in {d.rule for d in store.child_deadlines("124")}
    turned_on = Store.open(db_url, TEST_CONFIG.model_copy(update={"enabled_rules": ["visit-recorded"]}))
    assert turned_on.recompute_stale() == 1
    recorded = [d for d in turned_on.child_deadlines("124") if d.rule == "visit-recorded"]
    assert [d.event_id for d in recorded] == [str(visit.id)]
    turned_on.engine.dispose()


def test_a_correction_supersedes_and_the_deadlines_follow(store):
    first = store.record(posting(), [STRATEGY])[0]
    store.record(posting(ts="2.0"), [NewEvent(child="123", event="strategy_discussion", date=date(2026, 11, 16),
                                              details={"s47": True}, supersedes=first.id)])
    icpc = [d for d in store.child_deadlines("123") if d.rule == "icpc"]
    assert [d.due for d in icpc] == [date(2026, 12, 7)]
    with store.session() as s:  # nothing deleted: the original is still there, superseded
        assert s.scalar(select(func.count()).select_from(EventRecord)) == 2


def test_due_lists_overdue_and_the_next_seven_days_for_the_unit_only(store):
    store.record(posting(), [STRATEGY])
    store.record(posting(ts="3.0", unit="unit-b", channel="C0UNITB", by="U0SW3"),
                 [NewEvent(child="900", event="visit", date=date(2026, 11, 23))])
    now = datetime(2026, 11, 25, 9, 0, tzinfo=LONDON)
    items = store.due(["unit-a"], now)
    assert {i.record.child for i in items} == {"123"}
    by_rule = {i.record.rule: i for i in items}
    assert by_rule["s47-visit"].state == "overdue"  # due Tue 24 Nov 10:00
    assert by_rule["strategy-record-shared"].state == "open"  # due Wed 25 Nov 10:00
    assert "icpc" not in by_rule  # due 14 Dec: beyond the week
    assert [i.record.rule for i in store.due(["unit-a"], now, overdue_only=True)] == ["s47-visit"]
    wide = store.due(["unit-a"], now, start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert {i.record.rule for i in wide} == {"s47-visit", "icpc", "wt-icpc", "s47-completed"}


def test_a_person_sees_only_their_units(store):
    assert store.units_for("U0SW1") == ["unit-a"]
    assert store.units_for("U0SM") == ["unit-a", "unit-b"]
    assert store.units_for("U0STRANGER") == []


def test_a_config_change_moves_a_practitioner_between_units(store):
    moved = Config(units=[UNIT_A.model_copy(update={"practitioners": ["U0SW2"]}),
                          UNIT_B.model_copy(update={"practitioners": ["U0SW3", "U0SW1"]})])
    changes = store.sync_config(moved)
    assert changes == ["U0SW1 joined unit-b as practitioner", "U0SW1 left unit-a (practitioner)"]
    assert store.units_for("U0SW1") == ["unit-b"]
    assert store.sync_config(moved) == []  # loading the same config again changes nothing


def test_flexible_scheme_decisions_only_where_the_unit_is_on_the_scheme(store):
    store.record(posting(), [STRATEGY])
    with pytest.raises(DecisionNotAllowed, match="not on the flexible assessment scheme"):
        store.record_decision("123", "flexible_scheme", "icpc", date(2026, 12, 18), "U0SW1", NOW, "family")
    store.record(posting(ts="4.0", unit="unit-b", channel="C0UNITB", by="U0SW3"),
                 [NewEvent(child="777", event="strategy_discussion", date=date(2026, 11, 23), details={"s47": True})])
    store.record_decision("777", "flexible_scheme", "icpc", date(2026, 12, 18), "U0SW3", NOW, "family availability")
    icpc = {d.rule: d for d in store.child_deadlines("777")}["icpc"]
    assert icpc.due == date(2026, 12, 18)
    assert icpc.override == {"by": "U0SW3", "at": "2026-11-24T09:00:00+00:00", "reason": "family availability",
                             "was": "2026-12-14"}


def test_a_decision_needs_a_reason(store):
    store.record(posting(), [STRATEGY])
    with pytest.raises(DecisionNotAllowed, match="needs a reason"):
        store.record_decision("123", "extension", "icpc", date(2026, 12, 18), "U0SM", NOW, "  ")


def test_export_lists_events_decisions_and_deadlines_with_authors(store):
    store.record(posting(), [STRATEGY])
    store.record_decision("123", "extension", "s47-completed", date(2026, 12, 21), "U0SM", NOW, "police delay")
    rows = list(csv.DictReader(io.StringIO(store.export_csv(child="123"))))
    kinds = {r["record"] for r in rows}
    assert kinds == {"event", "decision", "deadline"}
    event = next(r for r in rows if r["record"] == "event")
    assert (event["by"], event["what"], event["reason_or_text"]) == ("U0SW1", "strategy_discussion",
                                                                     "strategy today for 123, S47")
    moved = next(r for r in rows if r["record"] == "deadline" and r["standard"] == "5.3")
    assert (moved["date"], moved["by"], moved["reason_or_text"]) == ("2026-12-21", "U0SM", "police delay")
    assert store.export_csv(unit="unit-b").count("\n") == 1  # header only: nothing of unit A's


def test_an_empty_database_is_refused_with_the_command_to_run(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaError, match="run 'timescales db upgrade'"):
        check_schema(engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_childs_timeline_keeps_superseded_events_and_decisions(store):
    first = store.record(posting(), [STRATEGY])[0]
    store.record(posting(ts="5.0"), [NewEvent(child="123", event="strategy_discussion", date=date(2026, 11, 20),
                                              details={"s47": True}, supersedes=first.id)])
    store.record_decision("123", "extension", "s47-completed", date(2026, 12, 21), "U0SM", NOW, "police delay")
    events, decisions, deadlines = store.timeline("123")
    assert [e.date.isoformat() for e in events] == ["2026-11-20", "2026-11-23"]
    assert [(d.by, d.reason) for d in decisions] == [("U0SM", "police delay")]
    assert {d.rule for d in deadlines} >= {"icpc", "s47-completed"}


def test_the_agenda_lists_every_child_of_the_unit(store):
    store.record(posting(at="2026-11-10T10:00"), [NewEvent(child="500", event="fh_plan_started",
                                                            date=date(2026, 11, 10))])
    store.record(posting(ts="6.0"), [STRATEGY])
    store.record(posting(ts="7.0", unit="unit-b", channel="C0UNITB", by="U0SW3"),
                 [NewEvent(child="900", event="visit", date=date(2026, 11, 23))])
    now = datetime(2026, 11, 25, 9, 0, tzinfo=LONDON)
    agenda = {c.number: c for c in store.agenda("unit-a", since=datetime(2026, 11, 18, tzinfo=LONDON), now=now)}
    assert set(agenda) == {"123", "500"}  # every child of the unit, and only this unit's
    assert [r.rule for r in agenda["123"].overdue] == ["s47-visit"]
    assert "strategy-record-shared" in [r.rule for r in agenda["123"].due_this_week]
    assert [e.event for e in agenda["123"].events_since] == ["strategy_discussion"]
    assert agenda["500"].events_since == [] and agenda["500"].overdue == []  # quiet since last week
    assert agenda["500"].last_update == datetime(2026, 11, 10, 10, tzinfo=LONDON)


def test_slack_requests_are_stored_while_every_childs_deadlines_are_worked_out_again(store, db_url):
    """A full recompute (db upgrade after a bank holiday is announced) goes a few children to a
    transaction, so the front door, which waits at most 2 s, stores requests throughout."""
    bulk_histories(store, 1000, apart=0)
    store.recompute_stale()
    changed = Store.open(db_url, HOLIDAY_CONFIG)
    spanning = changed.holiday_children()  # the children with a deadline counted over the new holiday
    assert spanning is not None and len(spanning) > 500
    worked_out, waits = front_door_during_recompute(changed, db_url)
    assert worked_out == [len(spanning)] and len(waits) >= 3, (worked_out, len(waits))
    assert max(waits) < 2.0  # never near Slack's 3 seconds
    assert not changed.rules_changed()
    changed.engine.dispose()


def test_the_collector_is_held_back_while_any_bulk_work_runs_and_comes_back_after() -> None:
    before = gc.get_threshold()
    with collector_held_back():  # a sweep
        assert gc.get_threshold()[0] >= 200_000 and gc.get_threshold()[1:] == before[1:]
        with collector_held_back():  # a recompute in another thread meanwhile
            pass
        assert gc.get_threshold()[0] >= 200_000  # the sweep still runs
    assert gc.get_threshold() == before
