"""What the sweep reads at a service's size, and what it must still say: a manager's digest
built from counts and the first items, the weekly agenda's plans from what the recompute
stored, the bookmarks read in two passes, the words kept for a while forgotten by index."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, text

from bot.importing import import_file
from bot.replies import NOTICES_WITH_BUTTONS, notice_message
from rules.calendar import LONDON
from scheduler.outbox import Outbox
from scheduler.sweep import DIGEST_FIRST, sweep
from store.ledger import Claim, Ledger
from store.models import Child, OutgoingMessage
from store.records import NewEvent, Posting, Store, page_key
from store.reports import outcomes

from helpers import TEST_CONFIG

NOW = datetime(2026, 11, 23, 10, tzinfo=LONDON)  # a Monday, after the digest time


def test_a_digest_carries_the_most_late_and_counts_the_rest(store: Store) -> None:
    assert DIGEST_FIRST >= NOTICES_WITH_BUTTONS  # the message shows no line it was not given
    for u, unit in enumerate(TEST_CONFIG.units):
        for n in range(15):
            child = str(50000 + u * 100 + n)
            posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
            store.record(Posting(unit.id, unit.channel, f"{child}.1", unit.practitioners[0], posted, "history"), [
                NewEvent(child, "visit", date(2026, 10, 26) + timedelta(days=n % 3)),
                NewEvent(child, "strategy_discussion", date(2026, 11, 2), details={"s47": True}),
                NewEvent(child, "referral_received", date(2026, 10, 1) + timedelta(days=n % 4)),
                NewEvent(child, "assessment_allocated", date(2026, 10, 20))])
    today = NOW.date()
    # What the digest said when it loaded everything: each unit's overdue list, due before today.
    whole = [i.record for unit in ("unit-a", "unit-b") for i in store.due([unit], NOW, overdue_only=True)
             if i.record.due < today and not i.record.overdue_at_import]
    whole.sort(key=lambda d: d.due)  # stable: unit by unit, then as `due` lists them
    assert len(whole) > DIGEST_FIRST + NOTICES_WITH_BUTTONS
    nobody: Any = None  # a dry run sends nothing
    report = sweep(store, Outbox(nobody, per_channel_gap=0), TEST_CONFIG, NOW, dry_run=True)
    message = report.messages["U0HOS"]  # over both units: escalations, and the digest
    named = {n.deadline.id for n in message.notices if n.step != "digest"}
    assert named  # escalated to them today: listed for that, not again in the digest
    twice = [d for d in whole if d.id in named]
    listed = [n.deadline.id for n in message.notices if n.step == "digest"]
    assert listed == [d.id for d in whole if d.id not in named][:DIGEST_FIRST]
    assert twice
    every = len(named) + len(whole) - len(twice)  # every line the whole list gave, each once
    assert len(message.notices) + message.more == every
    text = "\n".join(part.text for part in notice_message(message))
    assert f"... and {every - NOTICES_WITH_BUTTONS} more, less late" in text
    counts, firsts = store.overdue_since_yesterday(["unit-a"], NOW, 3)
    assert sum(counts["unit-a"]) == sum(1 for d in whole if d.unit_id == "unit-a")
    assert [d.id for d in firsts["unit-a"]] == [d.id for d in whole if d.unit_id == "unit-a"][:3]


def test_the_agenda_shows_the_plans_the_engine_finds_from_what_the_recompute_stored(store: Store) -> None:
    posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
    histories = {
        "456": [NewEvent("456", "icpc", date(2026, 9, 3)), NewEvent("456", "core_group", date(2026, 11, 6))],
        "457": [NewEvent("457", "core_group", date(2026, 11, 6))],  # a plan whose start is not known
        "458": [NewEvent("458", "visit", date(2026, 10, 26))],  # no plan at all
        "459": [NewEvent("459", "icpc", date(2026, 9, 3)), NewEvent("459", "case_closed", date(2026, 10, 1))],
    }
    for n, (child, events) in enumerate(histories.items()):
        store.record(Posting("unit-a", "C0UNITA", f"{child}.{n}", "U0SW1", posted, "history"), events)
    store.recompute_all()  # the bulk path stores the plans too
    store.record(Posting("unit-a", "C0UNITA", "460.1", "U0SW1", posted, "history"),
                 [NewEvent("460", "icpc", date(2026, 10, 1))])  # one child at a time
    with store.session.begin() as s:  # an event stored, its recompute not yet done: worked out afresh
        s.get(Child, "458").events_version += 1
        assert s.get(Child, "456").in_force[0][:3] == ["cp_plan", "Child Protection Plan", "2026-09-03"]
        assert s.get(Child, "460").in_force[0][0] == "cp_plan"
    agenda = {c.number: c for c in store.agenda("unit-a", NOW - timedelta(days=7), NOW)}
    understood = store.understood(sorted(agenda))
    assert {c: [p.status for p in a.in_force] for c, a in agenda.items() if a.in_force} == {
        "456": ["cp_plan"], "457": ["cp_plan"], "460": ["cp_plan"]}
    for child, shown in agenda.items():
        assert shown.in_force == list(understood[child].in_force.values())
    assert agenda["457"].in_force[0].since is None and agenda["456"].in_force[0].since == date(2026, 9, 3)
    assert agenda["456"].last_update == posted and agenda["456"].events_since == []


def test_every_list_by_unit_reads_the_units_index_of_open_deadlines(store: Store) -> None:
    posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
    for n, child in enumerate(("461", "462")):
        store.record(Posting("unit-a", "C0UNITA", f"{child}.{n}", "U0SW1", posted, "history"), [
            NewEvent(child, "strategy_discussion", date(2026, 10, 1), details={"s47": True}),
            NewEvent(child, "icpc", date(2026, 10, 20)), NewEvent(child, "visit", date(2026, 10, 30))])
    asked: list[tuple[str, Any]] = []

    def heard(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM deadlines" in statement and "deadlines.unit_id" in statement:
            asked.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", heard)
    try:
        end = NOW.date() + timedelta(days=6)
        assert store.due(["unit-a"], NOW) and store.due_counts(["unit-a", "unit-b"], NOW)["unit-a"][0]
        assert store.due_first(["unit-a"], NOW, end, 5, overdue=True)
        assert store.overdue_since_yesterday(["unit-a"], NOW, 5)[1]["unit-a"]
        assert any(c.overdue for c in store.agenda("unit-a", NOW - timedelta(days=7), NOW))
        first = store.due_page(["unit-a"], NOW, None, 1)  # a long list's pages
        assert first and store.due_page(["unit-a"], NOW, page_key(first[0]), 1)
        # The timeliness report counts met deadlines too: found by the units' children.
        counted = outcomes(store, ["unit-a"], date(2026, 10, 1), date(2026, 11, 30))["unit-a"]
        assert {o.state for o in counted} >= {"met", "open"} and {o.child for o in counted} == {"461", "462"}
    finally:
        event.remove(store.engine, "before_cursor_execute", heard)
    lists = [(q, p) for q, p in asked if "children" not in q]
    assert len(lists) >= 6
    # The digest's overdue count needs nothing but the unit and the due date: the index alone.
    counts = [(q, p) for q, p in lists if q.startswith("SELECT deadlines.unit_id, count(*)") and "known_from" not in q]
    assert len(counts) == 1
    if store.engine.dialect.name != "sqlite":  # PostgreSQL's choice over a few rows says nothing of 10,000
        with store.engine.connect() as c:  # (there, bench.growth's views at 10,000 children), but it can
            c.connection.driver_connection.autocommit = True  # be told to take the index, if it serves
            c.exec_driver_sql("VACUUM ANALYZE deadlines")
            c.exec_driver_sql("SET enable_seqscan = off")
            c.exec_driver_sql("SET enable_bitmapscan = off")
            plan = str(c.exec_driver_sql("EXPLAIN " + counts[0][0], counts[0][1]).all())
            c.exec_driver_sql("RESET ALL")
        assert "Index Only Scan using ix_deadlines_unit_open" in plan, plan
        return
    with store.engine.connect() as c:
        cursor = c.connection.driver_connection.cursor()
        for statement, parameters in lists:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            assert "ix_deadlines_unit_open" in str(cursor.fetchall()), statement
        cursor.close()


def test_a_persons_own_list_is_found_through_the_indexes_of_open_deadlines(store: Store) -> None:
    """"What's due for me" and App Home's "Yours", counted and a page at a time: the children a
    person leads and each role's tasks are found through an index of the open deadlines (the
    rows then by their key), never by reading through every deadline; on PostgreSQL with
    sequential scans priced out, as at a service's size (a test's few pages it reads whole)."""
    posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
    for n, child in enumerate(("463", "464", "465")):
        store.record(Posting("unit-a", "C0UNITA", f"{child}.{n}", "U0SW1", posted, "history"), [
            NewEvent(child, "strategy_discussion", date(2026, 10, 1), details={"s47": True}),
            NewEvent(child, "assessment_allocated", date(2026, 10, 20)), NewEvent(child, "icpc", date(2026, 10, 20))])
    units = ["unit-a", "unit-b"]
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM deadlines" in statement:
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        for who in ("U0SW1", "U0TM", "U0CPL"):  # the children led; a team manager's tasks; a CP lead's
            counted = store.due_counts(units, NOW, whose=who)
            first = store.due_page(units, NOW, None, 2, whose=who)
            assert sum(o + d for o, d in counted.values()) > 2 and len(first) == 2
            assert store.due_page(units, NOW, page_key(first[-1]), 2, whose=who)
            assert store.due_first_for(who, units, NOW, NOW.date() + timedelta(days=7), 2)[1] > 2
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert len(statements) == 12
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.connect() as c:
        if postgres:
            c.execute(text("ANALYZE deadlines"))
            c.execute(text("SET enable_seqscan = off"))
        plans = [str(c.exec_driver_sql(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params).all())
                 for sql, params in statements]
    # PostgreSQL, over a test's few rows, may take either index of open deadlines (by unit, or
    # the sweep's by due date); which it takes at a service's size is for a benchmark to say.
    found = ("ix_deadlines_unit_open", "ix_deadlines_child") + (("ix_deadlines_open_due",) if postgres else ())
    for plan in plans:
        assert any(index in plan for index in found), plan
        assert not any(scan in plan for scan in ("Seq Scan on deadlines", "SCAN deadlines", "SCAN TABLE deadlines"))


def test_a_failed_replys_words_are_forgotten_once_and_sent_ones_hold_none(store: Store) -> None:
    old = datetime(2026, 8, 1, 10, tzinfo=LONDON)
    ledger = Ledger(store)
    reply = {"channel": "C0UNITA", "text": "Recorded: visit for child 123", "blocks": []}
    ledger.claim_batches({"b1": [Claim("reply|1", "C0UNITA", "reply", payload=reply)],
                          "b2": [Claim("reply|2", "C0UNITA", "reply", payload=reply)],
                          "b3": [Claim("agenda|unit-a|2026-W31", "C0UNITA", "agenda")]}, old)
    ledger.sent("b1", "1.1", old)  # sent: its words go with it
    ledger.fail("b2", "not_in_channel")  # refused for good: kept until retention_days
    ledger.sent("b3", "1.3", old)
    with store.session() as s:  # SQL NULL, so the index of rows holding words stays small
        assert s.scalar(select(func.count()).where(OutgoingMessage.payload.is_(None))) == 2
    assert ledger.forget_replies(NOW) == 1
    assert ledger.forget_replies(NOW) == 0  # each sweep finds nothing more to forget
    if store.engine.dialect.name == "sqlite":  # what each sweep asks, answered from the indexes
        with store.engine.connect() as c:
            words = c.execute(text("EXPLAIN QUERY PLAN UPDATE events SET text = '' WHERE posted_at < '2026' "
                                   "AND text != ''")).all()
            replies = c.execute(text("EXPLAIN QUERY PLAN UPDATE outgoing_messages SET payload = NULL WHERE "
                                     "payload IS NOT NULL AND state != 'claimed' AND claimed_at < '2026'")).all()
        assert "ix_events_words" in str(words) and "ix_outgoing_payload" in str(replies)


def test_what_was_overdue_at_import_is_read_from_its_own_index_not_the_whole_backlog(store: Store) -> None:
    # A backlog overdue for weeks that nobody imported, and a child imported with its visits
    # overdue: the sweep chases the imported ones without reading through the backlog.
    unit = TEST_CONFIG.units[0]
    for n in range(40):
        store.record(Posting(unit.id, unit.channel, f"{n}.1", unit.practitioners[0],
                             datetime(2026, 9, 1, 10, tzinfo=LONDON), "history"),
                     [NewEvent(str(70000 + n), "strategy_discussion", date(2026, 9, 1), details={"s47": True})])
    imported_at = datetime(2026, 11, 20, 10, tzinfo=LONDON)
    import_file(store, "child,unit,lead,event,date,time,status,details\n459,unit-a,U0SW2,icpc,2026-09-03,,,\n",
                None, "cli:coordinator", imported_at, "caseload.csv")
    now = datetime(2026, 11, 23, 10, tzinfo=LONDON)
    today = now.date()
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        found = [c.deadline for batch in Ledger(store).candidates(today - timedelta(days=21),
                                                                  today + timedelta(days=10), None) for c in batch]
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    chased = [d for d in found if d.due < today - timedelta(days=21)]
    assert chased and {d.child for d in chased} == {"459"} and all(d.overdue_at_import for d in chased)
    backlog = [d for d in found if d.child.startswith("7")]
    assert not backlog  # overdue since September: before the window, and never imported
    at_import = [(sql, params) for sql, params in statements if "known_from >=" in sql]
    assert at_import
    with store.engine.connect() as c:
        if store.engine.dialect.name == "postgresql":
            # A test's table is a few pages, which PostgreSQL reads whole: at a service's size it
            # is hundreds of thousands of rows, and then only an index will do.
            c.execute(text("ANALYZE deadlines"))
            c.execute(text("SET enable_seqscan = off"))
            plans = [c.exec_driver_sql(f"EXPLAIN {sql}", params).all() for sql, params in at_import]
        else:
            plans = [c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all() for sql, params in at_import]
    assert all("ix_deadlines_at_import" in str(plan) for plan in plans), plans


def test_the_agendas_children_are_read_in_one_statement_each_looked_up_by_the_child(store: Store) -> None:
    """Each child's plans, last update and whether anything is open for it come in one
    statement, the last two looked up by the child's indexes (SQLite, keeping no statistics,
    took the unit's index of open deadlines and walked it for every child: its plan here is
    its plan at any size)."""
    posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
    histories = {"466": [NewEvent("466", "icpc", date(2026, 9, 3))],  # a plan: visits and reviews open
                 "467": [NewEvent("467", "icpc", date(2026, 9, 3)), NewEvent("467", "case_closed", date(2026, 10, 1))]}
    for n, (child, events) in enumerate(histories.items()):
        store.record(Posting("unit-a", "C0UNITA", f"{child}.{n}", "U0SW1", posted + timedelta(hours=n), "history"),
                     events)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        agenda = {c.number: c for c in store.agenda("unit-a", NOW - timedelta(days=7), NOW)}
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    for child in histories:  # tracked: anything open for the child, however far off
        assert agenda[child].tracked == any(d.state == "open" for d in store.child_deadlines(child))
    assert agenda["466"].tracked and not agenda["467"].tracked
    assert agenda["467"].last_update == posted + timedelta(hours=1)
    assert len(statements) == 4  # the children, the week's updates, the decisions, the open deadlines
    children = [(q, p) for q, p in statements if q.startswith("SELECT children.number")]
    assert len(children) == 1
    if store.engine.dialect.name != "sqlite":  # PostgreSQL's choice over a few rows says nothing of 10,000
        return  # (there it looks each child up by the same indexes: bench.growth's Monday 09:00)
    with store.engine.connect() as c:
        plan = str(c.exec_driver_sql("EXPLAIN QUERY PLAN " + children[0][0], children[0][1]).all())
    assert "ix_events_child" in plan and "ix_deadlines_child" in plan, plan
    assert "ix_deadlines_unit_open" not in plan, plan
