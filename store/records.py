"""All the SQL: recording updates, recomputing deadlines, answering questions.

Writes are idempotent where the world repeats itself (Slack retries, two bot
processes, a restart): uniqueness is enforced by the database, never by a
read-then-write.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import marshal
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from time import monotonic, sleep
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from rules.calendar import LONDON, WorkingCalendar
from rules.config import Config
from rules.engine import ChildTimeline, InForce, child_deadlines, deadline_basis
from rules.model import Deadline, Event, Override
from rules.pack import IMPORTED, RulePack
from store.db import READS_ONLY, check_schema, make_engine, statement_by_statement
from store.models import (
    AccessRecord,
    Base,
    Child,
    DeadlineBasis,
    DeadlineRecord,
    Decision,
    EventRecord,
    InboundMessage,
    LeadChange,
    PendingUpdate,
    ServiceState,
    Transfer,
    Unit,
    UnitMember,
)

# The stored Slack request (an inbox row) this thread is handling, if any: set by the
# workers that handle the inbox (bot/inbox.py).
HANDLING: ContextVar[str | None] = ContextVar("handling", default=None)

UNIT_ROLES = ("team_manager", "service_manager", "head_of_service", "coordinator", "child_protection_lead")
# The roles the standards name, for each role a person has in a unit: "what's due for me".
ROLE_IN_STANDARDS = {"team_manager": "TM", "service_manager": "SM", "head_of_service": "HoS",
                     "child_protection_lead": "CPL"}


class DecisionNotAllowed(ValueError):
    """A decision the standards do not let this person or unit make."""


class HeldElsewhere(Exception):
    """An update for children another unit holds: nothing of it was stored."""

    def __init__(self, children: list[str]) -> None:
        super().__init__(", ".join(children))
        self.children = children


@dataclass(frozen=True)
class NewEvent:
    """One update to record, as the parser or a button produced it."""

    child: str
    event: str
    date: date
    status: str = "done"
    time: time | None = None
    details: dict[str, Any] = field(default_factory=dict)
    supersedes: int | None = None


@dataclass(frozen=True)
class Posting:
    """Where and by whom an update was posted (a Slack message or a chat line)."""

    unit_id: str
    channel: str
    message_ts: str
    posted_by: str
    posted_at: datetime
    text: str = ""
    # An answer to the bot's question about someone else's message: posted_by is who
    # answered (the author of the record), answered_for who posted the message.
    answered_for: str | None = None
    answer_ts: str | None = None
    about: str | None = None  # the Slack message an edit, answer or undo changes (default: this one)

    @property
    def origin(self) -> str:
        return self.about or self.message_ts


@dataclass(frozen=True)
class UnitPeople:
    """A unit as the database holds it (from the last `db upgrade`), with its people by role."""

    id: str
    name: str
    channel: str
    people: dict[str, set[str]]


@dataclass(frozen=True)
class DueItem:
    """A deadline as people are shown it, with overdue worked out at `now`."""

    record: DeadlineRecord
    overdue: bool

    @property
    def state(self) -> str:
        return "overdue" if self.overdue else self.record.state

    def as_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id, "child": r.child, "rule": r.rule, "standard": r.standard, "source": r.source,
            "title": r.title, "due": r.due.isoformat(), "due_at": r.due_at.astimezone(LONDON).isoformat(),
            "state": self.state, "responsible": list(r.responsible), "event_id": r.event_id,
            "override": r.override, "timescale": r.timescale, "met_event_id": r.met_event_id,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None, "late": r.late, "unit": r.unit_id,
            "overdue_at_import": r.overdue_at_import,
        }


@dataclass(slots=True)  # not frozen: a frozen one takes four times as long to make, and a
class AgendaItem:  # service's agendas make 100,000 of them
    """An open deadline as the weekly agenda lists it: the columns it shows, not the whole row."""

    id: str
    child: str
    rule: str
    title: str
    standard: str
    due: date
    overdue_at_import: bool  # as DeadlineRecord.overdue_at_import


@dataclass(frozen=True, slots=True)
class AgendaEvent:
    """An update as the weekly agenda tells it: the columns it shows, not the whole row."""

    child: str
    event: str
    status: str
    date: date
    time: time | None
    details: dict[str, Any] | None


@dataclass
class AgendaChild:
    number: str
    overdue: list[AgendaItem] = field(default_factory=list)
    due_this_week: list[AgendaItem] = field(default_factory=list)
    events_since: list[AgendaEvent] = field(default_factory=list)
    decisions_since: list[Decision] = field(default_factory=list)
    # The 2013 direction: a lead social worker's date stands only with a weekly review.
    to_review: list[Decision] = field(default_factory=list)
    last_update: datetime | None = None
    in_force: list[InForce] = field(default_factory=list)  # what the bot takes to be true (SPEC section 9)
    tracked: bool = False  # whether anything at all is open for the child


PENDING_THREAD = "_thread_ts"  # in a kept reading: the thread of a reply the bot asked about


def pending_reading(waiting: PendingUpdate) -> dict[str, Any]:
    """What the parser understood of a message the bot asked about."""
    return {k: v for k, v in waiting.reading.items() if k != PENDING_THREAD}


def pending_thread(waiting: PendingUpdate) -> str:
    """The thread a question about this message was asked in (Slack's parent ts)."""
    return str(waiting.reading.get(PENDING_THREAD) or waiting.message_ts)


def is_overdue(record: DeadlineRecord, now: datetime) -> bool:
    if record.state != "open":
        return False
    if record.hours_based:
        return now > record.due_at
    return now.astimezone(LONDON).date() > record.due


HOLD_WRITES_FOR = 0.5  # seconds a full recompute on SQLite writes before it pauses for others
RENEW_RECOMPUTE_EVERY = 5.0  # seconds between renewals of a full recompute's 60 s lease


# insert_new's statements, one per table and dialect, made once: a statement built with its
# values each time (coerced, then keyed for the compiled cache) cost more than running it.
_INSERT_NEW: dict[tuple[str, str], Any] = {}


def insert_new(session: Session | Connection, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when this call made the row."""
    dialect = (session.get_bind() if isinstance(session, Session) else session).dialect.name
    table: Any = model.__table__
    statement = _INSERT_NEW.get((table.name, dialect))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # RETURNING, not rowcount: the drivers do not agree on rowcount here.
        statement = _INSERT_NEW[table.name, dialect] = insert(table).on_conflict_do_nothing().returning(
            literal_column("1"))
    return session.execute(statement, values).first() is not None


_BULK_COLLECTION_EVERY = 200_000  # new objects between the cyclic collector's runs during bulk work
_COLLECTOR = threading.Lock()
_held_back: list[tuple[int, int, int]] = []  # while held: the collector's thresholds before, once a hold


@contextmanager
def collector_held_back() -> Iterator[None]:
    """Python's cyclic collector run every _BULK_COLLECTION_EVERY new objects, not 700, while bulk work
    runs (a recompute, a sweep): their rows make no cycles worth collecting, and each of its
    runs went through the process's objects again (a third of the Monday agendas' CPU). Any
    number of threads may hold it at once: the thresholds come back when the last lets go."""
    with _COLLECTOR:
        before = _held_back[0] if _held_back else gc.get_threshold()
        _held_back.append(before)
        gc.set_threshold(max(before[0], _BULK_COLLECTION_EVERY), *before[1:])
    try:
        yield
    finally:
        with _COLLECTOR:
            _held_back.pop()
            if not _held_back:
                gc.set_threshold(*before)


class Store:
    def __init__(self, engine: Engine, pack: RulePack, calendar: WorkingCalendar) -> None:
        self.engine, self.pack, self.calendar = engine, pack, calendar
        self.session = sessionmaker(engine, expire_on_commit=False)
        # For a long read beside writes (a full recompute reading the next chunk while the
        # last is written): on SQLite it holds no lock, so neither waits for the other.
        self.reading = sessionmaker(engine.execution_options(**{READS_ONLY: True}), expire_on_commit=False)
        # For what needs no transaction around it (a statement, or statements each standing
        # alone): most of what a message does. On PostgreSQL, no BEGIN or COMMIT round trips.
        self.alone = statement_by_statement(engine)
        self.reading_alone = sessionmaker(self.alone, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, config: Config) -> Store:
        """Connect and check the schema: refuses to run on one it does not know."""
        engine = make_engine(url)
        check_schema(engine)
        return cls(engine, config.rule_pack(), config.calendar())

    # -- units and people ---------------------------------------------------------
    def sync_config(self, config: Config, apply: bool = True) -> list[str]:
        """Make the units and members match timescales.toml; says what changed (with
        apply=False, what would change, changing nothing). Only `timescales db upgrade`
        applies it: the config is the source of truth, never a side effect."""
        changes: list[str] = []
        with self.session() as s:  # committed at the end only when applying
            existing = {u.id: u for u in s.scalars(select(Unit))}
            members_before = {(m.unit_id, m.user_id, m.role) for m in s.scalars(select(UnitMember))}
            for unit in config.units:
                row = existing.get(unit.id)
                if row is None:
                    s.add(Unit(id=unit.id, name=unit.name, channel=unit.channel,
                               flexible_assessment=unit.flexible_assessment))
                    changes.append(f"added unit {unit.id} ({unit.name})")
                else:
                    for attribute in ("name", "channel", "flexible_assessment"):
                        if getattr(row, attribute) != getattr(unit, attribute):
                            changes.append(f"unit {unit.id}: {attribute} {getattr(row, attribute)!r} -> "
                                           f"{getattr(unit, attribute)!r}")
                            setattr(row, attribute, getattr(unit, attribute))
            s.flush()
            wanted = set()
            for unit in config.units:
                for role in UNIT_ROLES:
                    person = getattr(unit, role)
                    if person:
                        wanted.add((unit.id, person, role))
                wanted |= {(unit.id, person, "practitioner") for person in unit.practitioners}
            for unit_id, user, role in sorted(wanted - members_before):
                s.add(UnitMember(unit_id=unit_id, user_id=user, role=role))
                changes.append(f"{user} joined {unit_id} as {role}")
            for unit_id, user, role in sorted(members_before - wanted):
                s.execute(delete(UnitMember).where(UnitMember.unit_id == unit_id, UnitMember.user_id == user,
                                                   UnitMember.role == role))
                changes.append(f"{user} left {unit_id} ({role})")
            # A unit taken out of the config keeps its children's records (nothing is
            # lost) but nobody is a member any more, so nobody sees them until it returns.
            for unit_id in sorted(set(existing) - {u.id for u in config.units}):
                if any(member[0] == unit_id for member in members_before):
                    changes.append(f"unit {unit_id} is no longer in the config; its records are kept")
            if apply:
                s.commit()
        return changes

    def units_for(self, user: str) -> list[str]:
        """The units whose children this person may see."""
        with self.alone.connect() as c:
            return sorted(set(c.execute(_UNITS_OF, {"user": user}).scalars()))

    def units(self) -> list[UnitPeople]:
        """Every unit with its people: whom reminders, escalations and reports go to."""
        with self.session() as s:
            units = s.execute(select(Unit.id, Unit.name, Unit.channel).order_by(Unit.id)).all()
            members = s.execute(select(UnitMember.unit_id, UnitMember.role, UnitMember.user_id)).all()
        people: dict[str, dict[str, set[str]]] = {}
        for unit_id, role, user in members:
            people.setdefault(unit_id, {}).setdefault(role, set()).add(user)
        return [UnitPeople(u.id, u.name, u.channel, people.get(u.id, {})) for u in units]

    def unit_names(self) -> dict[str, str]:
        """Every unit the database holds (from the last `db upgrade`): id -> name."""
        with self.alone.connect() as c:
            return dict(c.execute(_UNIT_NAMES).all())

    def unit_for_channel(self, channel: str) -> str | None:
        with self.alone.connect() as c:
            return c.execute(_UNIT_OF_CHANNEL, {"channel": channel}).scalar()

    def unit_channel(self, unit: str) -> str:
        with self.session() as s:
            channel = s.scalar(select(Unit.channel).where(Unit.id == unit))
        if channel is None:
            raise KeyError(f"unknown unit {unit}")
        return channel

    def roles_of(self, user: str) -> dict[str, set[str]]:
        """Unit id -> this person's roles in it."""
        with self.alone.connect() as c:
            return _roles_of(c, user)

    def members(self, unit: str) -> dict[str, set[str]]:
        """Role -> people in that role in the unit."""
        people: dict[str, set[str]] = {}
        with self.session() as s:
            for m in s.scalars(select(UnitMember).where(UnitMember.unit_id == unit)):
                people.setdefault(m.role, set()).add(m.user_id)
        return people

    def led_by(self, user: str, units: Iterable[str]) -> list[str]:
        """The children this person is the lead practitioner for, in these units."""
        with self.session() as s:
            return list(s.scalars(select(Child.number).where(Child.lead_practitioner == user,
                                                             Child.unit_id.in_(list(units))).order_by(Child.number)))

    def children_of(self, units: Iterable[str]) -> list[str]:
        """The numbers of the children these units hold."""
        with self.session() as s:
            return list(s.scalars(select(Child.number).where(Child.unit_id.in_(list(units))).order_by(Child.number)))

    def child_unit(self, child: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(Child.unit_id).where(Child.number == child))

    # -- questions the bot asked ---------------------------------------------------
    def save_pending(self, posting: Posting, reading: dict[str, Any], thread_ts: str | None = None) -> None:
        """Keep a message the bot asked about (replacing an earlier reading of it). A reply
        in a thread keeps its thread (Slack's parent ts), where its answer will come."""
        if thread_ts and thread_ts != posting.message_ts:
            reading = {**reading, PENDING_THREAD: thread_ts}
        with self.session.begin() as s:
            s.execute(delete(PendingUpdate).where(PendingUpdate.channel == posting.channel,
                                                  PendingUpdate.message_ts == posting.message_ts))
            s.add(PendingUpdate(channel=posting.channel, message_ts=posting.message_ts, unit_id=posting.unit_id,
                                posted_by=posting.posted_by, posted_at=posting.posted_at, text=posting.text,
                                reading=reading))

    def pending(self, channel: str, message_ts: str) -> PendingUpdate | None:
        with self.session() as s:
            return s.get(PendingUpdate, (channel, message_ts))

    def latest_question(self, channel: str, user: str) -> PendingUpdate | None:
        """This person's latest message in the channel that the bot asked about and is
        still waiting on."""
        with self.session() as s:
            return s.scalars(select(PendingUpdate).where(PendingUpdate.channel == channel,
                                                         PendingUpdate.posted_by == user)
                             .order_by(PendingUpdate.message_ts.desc()).limit(1)).first()

    def pending_in_thread(self, channel: str, thread_ts: str) -> list[PendingUpdate]:
        """The questions open in a thread, the latest asked first: the parent's own, and
        those about replies in it (a reply's ts is never before its parent's)."""
        with self.session() as s:
            rows = s.scalars(select(PendingUpdate).where(PendingUpdate.channel == channel,
                                                         PendingUpdate.message_ts >= thread_ts))
            found = [r for r in rows if pending_thread(r) == thread_ts]
        return sorted(found, key=lambda r: float(r.message_ts), reverse=True)

    def drop_pending(self, channel: str, message_ts: str) -> None:
        with self.alone.begin() as c:
            c.execute(_DROP_PENDING, {"channel": channel, "message_ts": message_ts})

    # -- inbound messages and events -----------------------------------------------
    def claim_message(self, channel: str, ts: str, user: str | None, at: datetime) -> bool:
        """True for the first receiver of a message; False for a retry or a twin delivery.
        A stored request handled again after a crash (`HANDLING`) keeps what it claimed."""
        handling = HANDLING.get()
        with self.alone.begin() as c:  # a claim, once made, never changes: nothing to read it with
            if insert_new(c, InboundMessage, {"channel": channel, "ts": ts, "received_at": at,
                                              "user_id": user, "claimed_by": handling}):
                return True
            return handling is not None and c.execute(_CLAIMED_BY, {"channel": channel, "ts": ts}
                                                      ).scalar() == handling

    def record(self, posting: Posting, updates: Sequence[NewEvent]) -> list[EventRecord]:
        """Store a message's updates (once, however often it is delivered), then
        recompute the children it touched. Returns the events as stored."""
        stored = self.store_events(posting, updates)
        for child in sorted({e.child for e in stored}):
            self.recompute_child(child)
        return stored

    def store_events(self, posting: Posting, updates: Sequence[NewEvent]) -> list[EventRecord]:
        """Store a message's updates in one transaction. A child is held by the first unit
        to record it: the check is made here, on the locked row, so two units posting about
        a new child at once (or a post racing a transfer) cannot both record it."""
        with self.session.begin() as s:
            numbers = sorted({u.child for u in updates})
            for child in numbers:
                insert_new(s, Child, {
                    "number": child, "unit_id": posting.unit_id, "lead_practitioner": posting.posted_by,
                    "flexible_assessment": False, "events_version": 0, "deadlines_version": 0})
            held = [child for child, unit in s.execute(_HOLDERS_LOCKED, {"numbers": numbers})
                    if unit != posting.unit_id]
            if held:
                raise HeldElsewhere(held)
            for seq, update_ in enumerate(updates):
                inserted = insert_new(s, EventRecord, {
                    "child": update_.child, "event": update_.event, "status": update_.status,
                    "date": update_.date, "time": update_.time, "details": dict(update_.details),
                    "posted_by": posting.posted_by, "posted_at": posting.posted_at, "channel": posting.channel,
                    "message_ts": posting.message_ts, "seq": seq, "text": posting.text,
                    "supersedes": update_.supersedes, "answered_for": posting.answered_for,
                    "answer_ts": posting.answer_ts, "origin_ts": posting.origin})
                if inserted:
                    s.execute(_EVENTS_VERSION_UP, {"child_number": update_.child})
            return list(s.scalars(_MESSAGE_EVENTS, {"channel": posting.channel, "message_ts": posting.message_ts}))

    def event(self, event_id: int) -> EventRecord | None:
        with self.session() as s:
            return s.get(EventRecord, event_id)

    def live_events(self, channel: str, message_ts: str) -> list[EventRecord]:
        """The events recorded about a message (by it, its edits, the answers to its
        questions) or by an answer that message gave, that nothing has superseded since."""
        with self.session() as s:
            superseded = select(EventRecord.supersedes).where(EventRecord.supersedes.is_not(None))
            return list(s.scalars(select(EventRecord).where(
                EventRecord.channel == channel,
                or_(EventRecord.origin_ts == message_ts, EventRecord.answer_ts == message_ts),
                EventRecord.event != "retraction", EventRecord.id.not_in(superseded))
                .order_by(EventRecord.id)))

    def latest_event(self, child: str, event: str | None, units: Iterable[str]) -> EventRecord | None:
        """The most recently posted live event for a child (of one kind, if given), in these units."""
        with self.session() as s:
            superseded = select(EventRecord.supersedes).where(EventRecord.supersedes.is_not(None))
            query = (select(EventRecord).join(Child, Child.number == EventRecord.child)
                     .where(EventRecord.child == child, Child.unit_id.in_(list(units)),
                            EventRecord.event != "retraction", EventRecord.id.not_in(superseded)))
            if event:
                query = query.where(EventRecord.event == event)
            return s.scalars(query.order_by(EventRecord.posted_at.desc(), EventRecord.id.desc())).first()

    def record_decision(self, child: str, kind: str, target: str, due: date, by: str, at: datetime, reason: str,
                        channel: str | None = None, message_ts: str | None = None) -> Decision:
        """An override with its author and reason; the child's deadlines follow it. The same
        message or form arriving again is the same decision (unique on channel + message)."""
        if not reason.strip():
            raise DecisionNotAllowed("a decision that moves a deadline needs a reason")
        with self.session.begin() as s:
            row = s.get(Child, child)
            if row is None:
                raise DecisionNotAllowed(f"no updates recorded for child {child} yet")
            if kind == "flexible_scheme":
                unit = s.get(Unit, row.unit_id)
                if not (row.flexible_assessment or (unit and unit.flexible_assessment)):
                    raise DecisionNotAllowed(f"child {child}'s unit is not on the flexible assessment scheme; "
                                             "record an extension with a reason instead")
            values = {"child": child, "kind": kind, "target": target, "due": due, "by": by, "at": at,
                      "reason": reason, "channel": channel, "message_ts": message_ts}
            if insert_new(s, Decision, values):
                s.execute(update(Child).where(Child.number == child).values(events_version=Child.events_version + 1))
            query = select(Decision).where(Decision.child == child, Decision.channel == channel,
                                           Decision.message_ts == message_ts)
            decision = s.scalars(query if message_ts else query.order_by(Decision.id.desc())).first()
            assert decision is not None
        self.recompute_child(child)
        return decision

    # -- which unit holds a child, and moving children between units -----------------
    def holders(self, children: Iterable[str]) -> dict[str, str]:
        """Child number -> the unit holding it, for those any unit holds."""
        numbers = sorted(set(children))
        if not numbers:
            return {}
        with self.alone.connect() as c:
            return dict(c.execute(_HOLDERS, {"numbers": numbers}).all())

    def ask_transfer(self, child: str, to_unit: str, by: str, at: datetime, channel: str,
                     message_ts: str) -> Transfer:
        """Ask for a child to move to `to_unit`; the same message asked again, or a request
        already waiting for this child and unit, is the same request."""
        with self.session.begin() as s:
            row = s.get(Child, child)
            if row is None:
                raise DecisionNotAllowed(f"no unit holds child {child}")
            waiting = s.scalars(select(Transfer).where(Transfer.child == child, Transfer.to_unit == to_unit,
                                                       Transfer.state == "asked")).first()
            if waiting is not None:
                return waiting
            insert_new(s, Transfer, {
                "child": child, "from_unit": row.unit_id, "to_unit": to_unit, "requested_by": by,
                "requested_at": at, "channel": channel, "message_ts": message_ts, "state": "asked"})
            transfer = s.scalars(select(Transfer).where(Transfer.channel == channel,
                                                        Transfer.message_ts == message_ts)).one()
        return transfer

    def transfer(self, transfer_id: int) -> Transfer | None:
        with self.session() as s:
            return s.get(Transfer, transfer_id)

    def decide_transfer(self, transfer_id: int, agree: bool, by: str, at: datetime) -> Transfer | None:
        """Agree or decline a waiting request; None when it was decided already (a second
        click, another manager first) or the child is no longer where it was asked from."""
        with self.session.begin() as s:
            transfer = s.get(Transfer, transfer_id, with_for_update=True)
            child = s.get(Child, transfer.child, with_for_update=True) if transfer else None
            if transfer is None or child is None or transfer.state != "asked" or child.unit_id != transfer.from_unit:
                return None
            transfer.state, transfer.decided_by, transfer.decided_at = ("agreed" if agree else "declined"), by, at
            if agree:
                # The new unit's reminders, lists and walls from now on; the lead is the
                # person who asked until someone in the new unit allocates the child.
                child.unit_id, child.lead_practitioner = transfer.to_unit, transfer.requested_by
                s.execute(update(DeadlineRecord).where(DeadlineRecord.child == child.number)
                          .values(unit_id=transfer.to_unit, next_notice_at=None))  # the sweep looks again
        return transfer

    # -- the access log and what is kept ----------------------------------------------
    def log_access(self, user: str, via: str, units: Sequence[str], shown: Iterable[str], at: datetime,
                   child: str | None = None) -> None:
        numbers = sorted(set(shown))
        with self.alone.begin() as c:
            c.execute(_LOG_ACCESS, {"at": at, "user_id": user, "via": via, "units": sorted(units), "child": child,
                                    "children": len(numbers), "shown": numbers})

    def access_log(self, child: str | None = None, user: str | None = None,
                   since: datetime | None = None) -> list[AccessRecord]:
        query = select(AccessRecord).order_by(AccessRecord.at, AccessRecord.id)
        if user:
            query = query.where(AccessRecord.user_id == user)
        if since:
            query = query.where(AccessRecord.at >= since)
        with self.session() as s:
            rows = list(s.scalars(query))
        return [r for r in rows if child is None or r.child == child or child in r.shown]

    def forget_words(self, before: datetime) -> int:
        """People's own words older than `before` removed: message text (the structured
        event stays) and questions nobody answered. Returns how many records changed."""
        with self.session.begin() as s:
            # '' written out, not bound, so the planner may use ix_events_words (the words still held).
            cleared = s.execute(update(EventRecord).where(EventRecord.posted_at < before,
                                                          EventRecord.text != literal_column("''"))
                                .values(text="")).rowcount  # type: ignore[attr-defined]
            dropped = s.execute(delete(PendingUpdate).where(  # type: ignore[attr-defined]
                PendingUpdate.posted_at < before)).rowcount
        return int(cleared or 0) + int(dropped or 0)

    # -- deadlines -------------------------------------------------------------------
    def recompute_child(self, child: str) -> list[Deadline]:
        """Rewrite one child's deadlines from their events and decisions."""
        return [d for d, _unit in self.recompute_children([child], datetime.now(LONDON))]

    @cached_property
    def deadline_basis(self) -> str:
        """What this store's deadlines are worked out from (rules.engine.deadline_basis)."""
        return deadline_basis(self.pack, self.calendar)

    def rules_changed(self) -> bool:
        """Whether the stored deadlines were worked out from other rules or another
        calendar than this store's (a new release, enabled_rules, a bank holiday announced)."""
        with self.session() as s:
            return s.scalar(select(DeadlineBasis.fingerprint)) != self.deadline_basis

    def recompute_stale(self) -> int:
        """Bring every child's deadlines up to date; run at every start. When the rules
        or the calendar changed, that is every child; otherwise the children whose
        deadlines missed their last event (a crash between the two steps). Returns
        how many children were recomputed."""
        if self.rules_changed():
            return self.recompute_all()
        with self.session() as s:
            stale = list(s.scalars(select(Child.number).where(Child.deadlines_version != Child.events_version)
                                   .order_by(Child.number)))
        # 200 to a transaction (an import killed part-way leaves thousands), each child under its lock.
        self.recompute_children(stale, datetime.now(LONDON))
        return len(stale)

    def recompute_all(self, chunk: int = 200) -> int:
        """Every child's deadlines worked out again, `chunk` children to a transaction, so
        the bot keeps storing Slack's requests in between (on SQLite a single transaction
        would hold the write lock throughout); each child's deadlines are replaced in one
        transaction, so none is seen half-written. When only bank holidays changed, only
        the children whose deadlines span one of them are (`holiday_children`). One
        process does it at a time: a second one starting meanwhile waits, then finds it
        done (or takes over a lease that ran out, or whose process has ended). Returns how
        many children this call worked out: at a service's size in worker processes,
        otherwise here. A
        child whose deadlines come out as they are stored is not written again."""
        basis = self.deadline_basis
        while not self._take_recompute(basis):
            if not self.rules_changed():
                return 0
            sleep(0.2)
        try:
            with collector_held_back():  # the per-row dicts make no cycles
                if not self.rules_changed():
                    return 0
                now = datetime.now(LONDON)
                numbers = self.holiday_children()
                if numbers is None:
                    with self.session() as s:
                        numbers = list(s.scalars(select(Child.number).order_by(Child.number)))
                if len(numbers) >= IN_PROCESSES_FROM and self.engine.url.database != ":memory:" \
                        and (workers := recompute_workers()) > 1:
                    self._recompute_in_processes(numbers, now, chunk, workers, basis)
                else:
                    self._recompute_in_threads(numbers, now, chunk, basis)
                with self.session.begin() as s:
                    values = {"id": 1, "fingerprint": basis, "computed_at": now, "children": len(numbers),
                              "rules_fingerprint": self._rules_basis, "bank_holidays": self._holidays}
                    upsert = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(
                        DeadlineBasis)
                    s.execute(upsert.values(values).on_conflict_do_update(index_elements=["id"], set_=values))
                return len(numbers)
        finally:
            with self.session.begin() as s:
                s.execute(delete(ServiceState).where(ServiceState.name == "recompute"))

    def _recompute_in_threads(self, numbers: list[str], now: datetime, chunk: int, basis: str) -> None:
        """A full recompute in this process: a second thread writes each chunk while this one
        reads and works out the next (the database's work is done in the server's process or
        in SQLite's C code, without the GIL). A chunk is worked out from what was read outside
        the writing transaction; the writer locks the children and works out again any child
        recorded since (`_write_worked`)."""
        # SQLite has one writer at a time, and a writer waiting for the lock looks again at
        # least every 100 ms: a pause that long lets the front door in. Taken once the lock
        # has been held HOLD_WRITES_FOR since the last (not after every chunk: 5 of the
        # 30 s at 10,000 children were pauses), well inside the 2 s the front door waits.
        pause = 0.1 if self.engine.dialect.name == "sqlite" else 0.0
        paused = renewed = monotonic()

        def write(worked: _WorkedOut) -> None:
            nonlocal paused, renewed
            with self.session.begin() as s:
                self._write_worked(s, worked, now)
            # The lease renewed by this thread, now and then: from the other, its write
            # would wait for this one's (on SQLite, in steps of up to 100 ms each time).
            if monotonic() - renewed >= RENEW_RECOMPUTE_EVERY:
                self._take_recompute(basis)
                renewed = monotonic()
            if pause and monotonic() - paused >= HOLD_WRITES_FOR:
                sleep(pause)
                paused = monotonic()

        with ThreadPoolExecutor(1, thread_name_prefix="recompute-writer") as writer:
            writing: Future[None] | None = None
            for start in range(0, len(numbers), chunk):
                with self.reading() as s:
                    worked = self._work_out(s, numbers[start:start + chunk], now)
                if writing is not None:
                    writing.result()  # one chunk in the writer at a time: memory stays bounded
                writing = writer.submit(write, worked)
            if writing is not None:
                writing.result()

    def _recompute_in_processes(self, numbers: list[str], now: datetime, chunk: int, workers: int,
                                basis: str) -> None:
        """A full recompute shared among worker processes, each reading and working out a chunk,
        then writing it (`_recompute_in_worker`): the engine is Python, bound to one core in one
        process, and in one process SQLite's writer was starved of it by the reader. The
        workers run at a lower priority, so the bot's own process answers Slack first."""
        url = self.engine.url.render_as_string(hide_password=False)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_recompute_worker,
                                 initargs=(url, self.pack, self.calendar)) as pool:
            running: set[Future[None]] = set()
            for start in range(0, len(numbers), chunk):
                running.add(pool.submit(_recompute_in_worker, numbers[start:start + chunk], now))
                if len(running) >= 2 * workers:  # a few chunks queued at a time: memory stays bounded
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for done in finished:
                        done.result()
                    self._take_recompute(basis)  # renew the lease
            for done in running:
                done.result()

    def recompute_children(self, numbers: Sequence[str], now: datetime, chunk: int = 200) -> list[tuple[Deadline, str]]:
        """These children's deadlines worked out again, `chunk` to a transaction (an import);
        returns them with each child's unit, open or overdue as at `now`."""
        written: list[tuple[Deadline, str]] = []
        for start in range(0, len(numbers), chunk):
            with self.session.begin() as s:
                written += self._write_worked(s, self._work_out(s, list(numbers[start:start + chunk]), now), now)
        return written

    @cached_property
    def _rules_basis(self) -> str:
        return deadline_basis(self.pack, self.calendar, bank_holidays=False)

    @cached_property
    def _holidays(self) -> list[str]:
        return sorted(day.isoformat() for day in self.calendar.bank_holidays)

    def holiday_children(self) -> list[str] | None:
        """When the stored deadlines differ from this store's only in bank holidays: the
        children with a deadline whose working-day count runs over a holiday added or
        removed, in order. None: anything else changed, so every child is worked out again.
        A deadline's count runs between its creating event's date and its due date (either
        way round: a 'before the meeting' step counts back), so only those spans are looked
        at, not the child's whole history (recurring deadlines stay open far ahead). A
        deadline whose creating event is no stored event (a decision heard as one) counts
        its child in."""
        with self.session() as s:
            stored = s.execute(select(DeadlineBasis.rules_fingerprint, DeadlineBasis.bank_holidays)).first()
            if stored is None or stored[0] != self._rules_basis or stored[1] is None:
                return None
            changed = sorted(set(stored[1]) ^ set(self._holidays))
            if not changed:
                return []
            days = [date.fromisoformat(d) for d in changed]
            joined = cast(EventRecord.id, String) == DeadlineRecord.event_id
            if s.get_bind().dialect.name == "sqlite":  # looked up by rowid, then checked exactly
                joined = and_(EventRecord.id == cast(DeadlineRecord.event_id, Integer), joined)
            spans = [or_(and_(EventRecord.date <= day, DeadlineRecord.due >= day),
                         and_(DeadlineRecord.due <= day, EventRecord.date >= day)) for day in days]
            query = (select(DeadlineRecord.child).distinct().outerjoin(EventRecord, joined)
                     .where(or_(EventRecord.id.is_(None), *spans)))
            return sorted(s.scalars(query))

    def _take_recompute(self, basis: str, lease: timedelta = timedelta(seconds=60)) -> bool:
        """The one recompute at a time: a lease in service_state, taken when free, run out, or
        held by a process on this machine that has ended (a recompute killed part-way, whose
        next start takes it over at once)."""
        now = datetime.now(UTC)
        mine = f"{os.getpid()}:{id(self)}@{_THIS_MACHINE}"
        with self.session.begin() as s:
            dialect = s.get_bind().dialect.name
            held = s.scalar(select(ServiceState.value).where(ServiceState.name == "recompute"))
            free = (ServiceState.at < now) | (ServiceState.value == mine)
            if held is not None and _holder_gone(held):
                # Taken over at once, not after the minute's lease: only if nobody else took
                # it over first (another process restarting meanwhile finds it theirs).
                free = free | (ServiceState.value == held)
            upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ServiceState)
            s.execute(upsert.values(name="recompute", at=now + lease, value=mine).on_conflict_do_update(
                index_elements=["name"], set_={"at": now + lease, "value": mine}, where=free))
            return s.scalar(select(ServiceState.value).where(ServiceState.name == "recompute")) == mine

    def _work_out(self, s: Session, part: Sequence[str], now: datetime) -> _WorkedOut:
        """These children's deadlines worked out from their events and decisions as `s` reads them."""
        worked = _WorkedOut(dict(s.execute(_EVENTS_VERSIONS, {"numbers": list(part)}).all()))
        events = _read_histories(s, list(worked.versions))
        decisions: dict[str, list[Override]] = {n: [] for n in worked.versions}
        for d in s.execute(_DECISIONS_OF, {"children": list(part)}):
            decisions[d.child].append(_to_override(d))
        for n in worked.versions:
            worked.timelines[n] = child_deadlines(events[n], self.pack, self.calendar, now, decisions[n], n)
        return worked

    def _write_worked(self, s: Session, worked: _WorkedOut, now: datetime) -> list[tuple[Deadline, str]]:
        """Replace these children's deadlines with those worked out, in `s`'s transaction;
        returns them all with each child's unit. The children are locked first; any recorded
        since they were read (its events_version moved on) is worked out again here, under
        the lock. Each deadline takes its unit from the locked row, so a transfer meanwhile
        is followed. A child whose deadlines and plans come out as stored (the digest kept
        with it) is left as it is: after a rules or bank holiday change most children are,
        and their rows, and the sweep's bookmarks in them, stay."""
        part = list(worked.versions)
        held: dict[str, tuple[str, int, str | None]] = {}
        moved = []
        for number, unit, version, written, digest in s.execute(_WRITTEN_LOCKED, {"numbers": part}):
            held[number] = (unit, written, digest)
            if worked.versions[number] != version:
                moved.append(number)
        if moved:
            again = self._work_out(s, moved, now)
            worked.versions.update(again.versions)
            worked.timelines.update(again.timelines)
        dialect = s.get_bind().dialect
        rows: _Rows = _CopyRows() if dialect.name == "postgresql" else _SqliteRows(dialect)
        computed: list[tuple[Deadline, str]] = []
        changed: list[str] = []
        fresh: list[Any] = []  # the changed children's rows, to write
        children: list[dict[str, Any]] = []
        for n, timeline in worked.timelines.items():
            if n not in held:
                continue
            unit, written, stored = held[n]
            computed += [(d, unit) for d in timeline.deadlines]
            child_rows, plans = rows.of(timeline.deadlines, unit), _plans_stored(timeline)
            digest = rows.digest(child_rows, plans)
            if digest != stored:
                changed.append(n)
                fresh += child_rows
            if digest != stored or written != worked.versions[n]:
                children.append({"child_number": n, "version": worked.versions[n], "plans": plans,
                                 "digest": digest})
        if changed:
            s.execute(_DROP_DEADLINES, {"children": changed})
            if fresh:
                rows.write(s, fresh)
        if children:
            s.connection().execute(_DEADLINES_WRITTEN, children)
        return computed

    def due(self, units: Iterable[str], now: datetime, start: date | None = None, end: date | None = None,
            overdue_only: bool = False, child: str | None = None) -> list[DueItem]:
        """Open deadlines for these units: everything overdue plus what falls due
        between start and end (default: the next 7 days), earliest first."""
        today = now.astimezone(LONDON).date()
        end = end or today + timedelta(days=7)
        units = list(units)
        if not units:
            return []
        query = select(DeadlineRecord).where(DeadlineRecord.unit_id.in_(units), OPEN,
                                             DeadlineRecord.due <= (today if overdue_only else end))
        if child:
            query = query.where(DeadlineRecord.child == child)
        with self.reading_alone() as s:
            rows = s.scalars(query.order_by(*_DUE_ORDER)).all()
        items = [DueItem(r, is_overdue(r, now)) for r in rows]
        if overdue_only:
            return [i for i in items if i.overdue]
        return [i for i in items if i.overdue or start is None or i.record.due >= start]

    def due_page(self, units: Iterable[str], now: datetime, after: Sequence[Any] | None, limit: int,
                 start: date | None = None, end: date | None = None, overdue_only: bool = False,
                 whose: str | None = None) -> list[DueItem]:
        """The next `limit` items of what `due(units, ...)` lists (with `whose`, only what is that
        person's: `_theirs`), in the order a list shows them (what is overdue first, then by due
        date), after the item whose `page_key` is `after` (None: from the first). Only those rows
        are read: a unit's list runs to thousands, a page to a hundred. A key rather than an
        offset, so that an item met or recorded between two pages moves none of the others past
        the reader."""
        late = _overdue(now)
        where = [DeadlineRecord.unit_id.in_(list(units)), *_due_window(now, late, start, end, overdue_only)]
        order: tuple[Any, ...] = (case((late, 0), else_=1), *_DUE_ORDER)
        if after is not None:  # each value bound as its column's type (an instant as the store keeps it)
            where.append(tuple_(*order) > tuple_(*(literal(v, type_=c.type) for v, c in zip(_key_values(after),
                                                                                              order, strict=True))))
        with self.reading_alone() as s:
            where = where if whose is None else self._theirs(s, whose, where)
            rows = s.scalars(select(DeadlineRecord).where(*where).order_by(*order).limit(limit)).all()
        return [DueItem(r, is_overdue(r, now)) for r in rows]

    def _theirs(self, s: Session, user: str, where: Sequence[Any]) -> list[Any]:
        """`where` narrowed to what is this person's ("what's due for me"): the
        deadlines of the children they lead, and the tasks the standards give a role they hold
        in the deadline's unit. Each way is a statement of its own under one union, so each
        is read through an index (their units' open deadlines, or the children's), and what
        they find is then read by key (false when nothing can be theirs)."""
        roles = _roles_of(s, user)
        led = list(s.scalars(select(Child.number).where(Child.lead_practitioner == user,
                                                        Child.unit_id.in_(list(roles)))))
        ways = [select(DeadlineRecord.id).where(*where, DeadlineRecord.child.in_(led))] if led else []
        for role, named in ROLE_IN_STANDARDS.items():
            held = [u for u, r in roles.items() if role in r]
            if held:  # the role as the standards name it, in the deadline's JSON list
                ways.append(select(DeadlineRecord.id).where(*where, DeadlineRecord.unit_id.in_(held),
                                                            cast(DeadlineRecord.responsible, String)
                                                            .like(f'%"{named}"%')))
        if not ways:
            return [false()]
        return [DeadlineRecord.id.in_(select(union(*ways).subquery().c.id))]

    # -- the same lists, counted and cut to their first items, for the views over many units --
    def due_counts(self, units: Iterable[str], now: datetime, start: date | None = None, end: date | None = None,
                   overdue_only: bool = False, last: date | None = None, whose: str | None = None
                   ) -> dict[str, tuple[int, int]]:
        """Unit -> (overdue, due) of what `due` would list for these arguments (with `whose`, of
        what is that person's: `_theirs`), counted in the database; with `last`, only what is
        overdue or falls due by then is counted."""
        units = list(units)
        if not units:
            return {}
        late = _overdue(now)
        where = [DeadlineRecord.unit_id.in_(units), *_due_window(now, late, start, end, overdue_only)]
        if last is not None:
            where.append(or_(late, DeadlineRecord.due <= last))
        with self.reading_alone() as s:
            where = where if whose is None else self._theirs(s, whose, where)
            query = (select(DeadlineRecord.unit_id, func.sum(case((late, 1), else_=0)), func.count())
                     .where(*where).group_by(DeadlineRecord.unit_id))
            return {unit: (int(o or 0), int(n) - int(o or 0)) for unit, o, n in s.execute(query)}

    def due_first(self, units: Iterable[str], now: datetime, end: date, limit: int, overdue: bool) -> list[DueItem]:
        """The first `limit` of what `due(units, now, end=end)` lists that is overdue (or only
        what is not): each unit's first read from its index in due order (due_counts counts them)."""
        units = list(units)
        if not units:
            return []
        late = _overdue(now)
        # What is not overdue falls due today or later (a deadline's due is the London day of
        # its due_at): said, so the index is read from today, not through every overdue row.
        when = late if overdue else and_(not_(late), DeadlineRecord.due >= now.astimezone(LONDON).date())
        firsts = _firsts(units, [OPEN, DeadlineRecord.due <= end, when],
                         dict.fromkeys(units, limit))
        query = (select(DeadlineRecord).where(DeadlineRecord.id.in_(select(firsts.c.id)))
                 .order_by(*_DUE_ORDER).limit(limit))
        with self.reading_alone() as s:
            return [DueItem(r, is_overdue(r, now)) for r in s.scalars(query)]

    def due_first_for(self, user: str, units: Iterable[str], now: datetime, end: date, limit: int
                      ) -> tuple[list[DueItem], int]:
        """The first `limit` of what "what's due for me" lists among these units, and how many
        there are: each way a deadline is theirs looked up apart (`_theirs`), and what is found
        counted and cut in the same statement."""
        units = list(units)
        if not units:
            return [], 0
        with self.reading_alone() as s:
            theirs = self._theirs(s, user, [OPEN, DeadlineRecord.unit_id.in_(units), DeadlineRecord.due <= end])
            rows = s.execute(select(DeadlineRecord, func.count().over()).where(*theirs)
                             .order_by(*_DUE_ORDER).limit(limit)).all()
        return [DueItem(r, is_overdue(r, now)) for r, _ in rows], int(rows[0][1]) if rows else 0

    def overdue_since_yesterday(self, units: Iterable[str], now: datetime, first: int | dict[str, int]
                                ) -> tuple[dict[str, tuple[int, int]], dict[str, list[DeadlineRecord]]]:
        """A manager's digest, unit by unit: what was overdue when the day began (open, due
        before today), counted as (overdue, overdue at import), and the first `first` of
        the former (or first[unit] of each unit's) in the order `due` lists them. Counted in
        the database and cut there, so a digest never loads every overdue deadline."""
        units = list(units)
        if not units:
            return {}, {}
        today = now.astimezone(LONDON).date()
        at_import = _AT_IMPORT
        # Open and due before today is overdue (a deadline's due_at falls on its due date), so
        # the count reads the units' index alone; what was overdue at import, from its own.
        where = [OPEN, DeadlineRecord.due < today]

        def counted(*also: Any) -> Any:
            return (select(DeadlineRecord.unit_id, func.count()).where(DeadlineRecord.unit_id.in_(units), *where, *also)
                    .group_by(DeadlineRecord.unit_id))

        firsts = _firsts(units, [*where, not_(at_import)],
                         first if isinstance(first, dict) else dict.fromkeys(units, first))
        items: dict[str, list[DeadlineRecord]] = {}
        with self.session() as s:
            imported: dict[str, int] = {unit: n for unit, n in s.execute(counted(at_import))}
            counts = {unit: (n - imported.get(unit, 0), imported.get(unit, 0)) for unit, n in s.execute(counted())}
            for record in s.scalars(select(DeadlineRecord).where(DeadlineRecord.id.in_(select(firsts.c.id)))
                                    .order_by(DeadlineRecord.unit_id, *_DUE_ORDER)):
                items.setdefault(record.unit_id, []).append(record)
        return counts, items

    def histories(self, children: Sequence[str]) -> dict[str, list[Event]]:
        """Each child's events as the engine reads them, in the order they were recorded."""
        with self.reading_alone() as s:  # each child's events are read in one statement
            return _read_histories(s, children)

    def understood(self, children: Sequence[str]) -> dict[str, ChildTimeline]:
        """What the bot takes to be true of each child now (the plans in force and since
        when, the visits whose plan it does not know), worked out from the record."""
        now = datetime.now(LONDON)
        return {c: child_deadlines(events, self.pack, self.calendar, now, child=c)
                for c, events in self.histories(children).items()}

    def timeline(self, child: str) -> tuple[list[EventRecord], list[Decision], list[DeadlineRecord]]:
        """A child's whole record, oldest first: events (superseded ones included), decisions, deadlines."""
        with self.session() as s:
            events = list(s.scalars(select(EventRecord).where(EventRecord.child == child)
                                    .order_by(EventRecord.date, EventRecord.id)))
            decisions = list(s.scalars(select(Decision).where(Decision.child == child).order_by(Decision.at)))
        return events, decisions, self.child_deadlines(child)

    def agenda(self, unit: str, since: datetime, now: datetime) -> list[AgendaChild]:
        """The weekly unit meeting discusses every child: for each, what is overdue,
        due in the coming week, and what happened and was decided since `since`."""
        today = now.astimezone(LONDON).date()
        week_end = today + timedelta(days=7)
        # The unit's children as a subquery, not a list of numbers: one statement shape for
        # every unit, however many children it holds.
        held = select(Child.number).where(Child.unit_id == unit).scalar_subquery()
        # Beside each child's plans, its last update (from the events' child index alone) and
        # whether anything is open for it, each looked up by the child: one statement, where
        # three read every event and open deadline of the unit. The unit compared as an
        # expression, so no index is taken for it: SQLite, keeping no statistics, would walk
        # the unit's open deadlines for each child.
        last = select(func.max(EventRecord.posted_at)).where(EventRecord.child == Child.number).scalar_subquery()
        tracked = exists().where(DeadlineRecord.child == Child.number, DeadlineRecord.unit_id.concat("") == unit, OPEN)
        recent, review = Decision.at >= since, and_(Decision.kind == "flexible_scheme", Decision.due >= today)
        with self.session() as s:
            # Rows as the database gives them, not through the ORM: a unit has thousands of
            # open deadlines, and the ORM's work on each row cost more than reading it.
            c = s.connection()
            plans = c.execute(select(Child.number, Child.in_force, Child.events_version, Child.deadlines_version,
                                     last, tracked).where(Child.unit_id == unit).order_by(Child.number)).all()
            # Only what the agenda shows of the events: those since.
            events = c.execute(select(EventRecord.child, EventRecord.event, EventRecord.status, EventRecord.date,
                                      EventRecord.time, EventRecord.details)
                               .where(EventRecord.child.in_(held), EventRecord.posted_at >= since)
                               .order_by(EventRecord.date, EventRecord.id)).all()
            # The decisions of the week and the flexible scheme's dates to review, in one statement.
            decided = s.execute(select(Decision, recent, review).where(Decision.child.in_(held), or_(recent, review))
                                .order_by(Decision.at)).all()
            # The columns the agenda shows, not whole rows: a unit can have thousands overdue.
            open_rows = c.execute(select(DeadlineRecord.id, DeadlineRecord.child, DeadlineRecord.rule,
                                         DeadlineRecord.title, DeadlineRecord.standard, DeadlineRecord.due,
                                         case((_AT_IMPORT, True), else_=False),
                                         case((_overdue(now), True), else_=False))
                                  .where(DeadlineRecord.unit_id == unit, OPEN,
                                         DeadlineRecord.due <= week_end)
                                  .order_by(DeadlineRecord.due, DeadlineRecord.id)).all()
        children = {n: AgendaChild(n, last_update=at, tracked=bool(held_open)) for n, _, _, _, at, held_open in plans}
        for e in events:
            if not (e.details or {}).get(IMPORTED):  # history an import brought is not news
                children[e.child].events_since.append(AgendaEvent(*e))
        for d, is_recent, _ in decided:
            if is_recent:
                children[d.child].decisions_since.append(d)
        for d in sorted((d for d, _, to_review in decided if to_review), key=lambda d: d.due):
            children[d.child].to_review.append(d)
        for row in open_rows:
            item = AgendaItem(*row[:7])
            (children[item.child].overdue if row[7] else children[item.child].due_this_week).append(item)
        for number, in_force in self._in_force([p[:4] for p in plans], list(children)).items():
            children[number].in_force = in_force
        return list(children.values())

    def plans_in_force(self, children: Sequence[str]) -> dict[str, list[InForce]]:
        """The plans in force for each child, as `understood` finds them: stored with the
        deadlines when they were last worked out (the same replay of the same events), and
        worked out here only for a child whose deadlines are behind its events."""
        rows: list[Any] = []
        with self.session() as s:
            for start in range(0, len(children), 500):
                rows += s.execute(select(Child.number, Child.in_force, Child.events_version, Child.deadlines_version)
                                  .where(Child.number.in_(list(children[start:start + 500])))).all()
        return self._in_force(rows, children)

    def _in_force(self, rows: Sequence[Any], children: Sequence[str]) -> dict[str, list[InForce]]:
        """Each child's plans in force: as its row (number, in_force, events_version,
        deadlines_version) holds them, or worked out again when those are behind its events."""
        stored = {number: read for number, *row in rows if (read := _stored_plans(*row)) is not None}
        behind = [c for c in children if c not in stored]
        worked_out = self.understood(behind) if behind else {}
        return {c: stored[c] if c in stored else list(worked_out[c].in_force.values()) for c in children}

    def child_deadlines(self, child: str) -> list[DeadlineRecord]:
        with self.reading_alone() as s:
            return list(s.scalars(_CHILD_DEADLINES, {"child": child}))

    # -- audit -----------------------------------------------------------------------
    def export_csv(self, child: str | None = None, unit: str | None = None) -> str:
        """Events, deadlines and decisions with their authors, for audit and inspection.
        Every cell is safe to open in a spreadsheet (see `_cell`)."""
        with self.session() as s:
            children_q = select(Child.number)
            if child:
                children_q = children_q.where(Child.number == child)
            if unit:
                children_q = children_q.where(Child.unit_id == unit)
            numbers = list(s.scalars(children_q))
            events = s.scalars(select(EventRecord).where(EventRecord.child.in_(numbers))
                               .order_by(EventRecord.child, EventRecord.id)).all()
            decisions = s.scalars(select(Decision).where(Decision.child.in_(numbers))
                                  .order_by(Decision.child, Decision.id)).all()
            transfers = s.scalars(select(Transfer).where(Transfer.child.in_(numbers))
                                  .order_by(Transfer.child, Transfer.id)).all()
            leads = s.scalars(select(LeadChange).where(LeadChange.child.in_(numbers))
                              .order_by(LeadChange.child, LeadChange.id)).all()
            deadlines = s.scalars(select(DeadlineRecord).where(DeadlineRecord.child.in_(numbers))
                                  .order_by(DeadlineRecord.child, DeadlineRecord.due)).all()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["record", "child", "id", "what", "status", "date", "by", "recorded_at", "standard",
                         "source", "reason_or_text", "supersedes", "met_on", "answers"])

        def row(*cells: object) -> None:
            writer.writerow([_cell(c) for c in cells])

        for e in events:
            when = e.date.isoformat() + (f"T{e.time.isoformat('minutes')}" if e.time else "")
            answers = f"message {e.origin_ts or e.message_ts} by {e.answered_for}" if e.answered_for else ""
            row("event", e.child, e.id, e.event, e.status, when, e.posted_by,
                e.posted_at.astimezone(LONDON).isoformat(), "", "", e.text, e.supersedes or "", "", answers)
        for d in decisions:
            row("decision", d.child, d.id, f"{d.kind}: {d.target}", "", d.due.isoformat(), d.by,
                d.at.astimezone(LONDON).isoformat(), "", "", d.reason, "", "", "")
        for t in transfers:
            asked = f"transfer asked: {t.from_unit} -> {t.to_unit}"
            row("decision", t.child, f"transfer-{t.id}", asked, "asked", t.requested_at.astimezone(LONDON).date(),
                t.requested_by, t.requested_at.astimezone(LONDON).isoformat(), "", "", "", "", "", "")
            if t.decided_at:
                row("decision", t.child, f"transfer-{t.id}", f"transfer {t.state}: {t.from_unit} -> {t.to_unit}",
                    t.state, t.decided_at.astimezone(LONDON).date(), t.decided_by,
                    t.decided_at.astimezone(LONDON).isoformat(), "", "", "", "", "", "")
        for change in leads:
            row("decision", change.child, f"lead-{change.id}", f"lead: {change.lead}", "", change.at.astimezone(LONDON)
                .date(), change.by, change.at.astimezone(LONDON).isoformat(), "", "", f"was {change.was or 'nobody'}",
                "", "", "")
        now = datetime.now(LONDON)
        for r in deadlines:
            state = "overdue" if is_overdue(r, now) else r.state + (" (late)" if r.late else "")
            met_on = r.closed_on.isoformat() if r.state == "met" and r.closed_on else ""
            row("deadline", r.child, r.id, r.title, state, r.due.isoformat(), (r.override or {}).get("by", ""), "",
                r.standard, r.source, (r.override or {}).get("reason", ""), "", met_on, "")
        return out.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# A child's history as the engine reads it, in the order it was recorded; the details as
# their JSON text, parsed once for each distinct text (most events' are the same few).
_EVENTS = select(EventRecord.id, EventRecord.child, EventRecord.event, EventRecord.date, EventRecord.status,
                 EventRecord.time, cast(EventRecord.details, Text), EventRecord.posted_at,
                 EventRecord.supersedes).order_by(EventRecord.id)
_DEADLINES: Any = DeadlineRecord.__table__
_CHILDREN: Any = Child.__table__
# What every message runs, made once with its values bound at execution: a statement built
# each time (its clauses coerced, then keyed for the compiled cache) cost more than its run.
_UNIT_OF_CHANNEL = select(Unit.id).where(Unit.channel == bindparam("channel"))
_UNITS_OF = select(UnitMember.unit_id).where(UnitMember.user_id == bindparam("user"))
_UNIT_NAMES = select(Unit.id, Unit.name).order_by(Unit.id)
_LOG_ACCESS = insert(AccessRecord)
_ROLES = select(UnitMember.unit_id, UnitMember.role).where(UnitMember.user_id == bindparam("user"))
_CLAIMED_BY = select(InboundMessage.claimed_by).where(InboundMessage.channel == bindparam("channel"),
                                                      InboundMessage.ts == bindparam("ts"))
_HOLDERS = select(Child.number, Child.unit_id).where(Child.number.in_(bindparam("numbers", expanding=True)))
_HOLDERS_LOCKED = _HOLDERS.order_by(Child.number).with_for_update()
_EVENTS_VERSION_UP = (update(_CHILDREN).where(_CHILDREN.c.number == bindparam("child_number"))
                      .values(events_version=_CHILDREN.c.events_version + 1))
_MESSAGE_EVENTS = (select(EventRecord).where(EventRecord.channel == bindparam("channel"),
                                             EventRecord.message_ts == bindparam("message_ts"))
                   .order_by(EventRecord.seq))
_DROP_PENDING = delete(PendingUpdate).where(PendingUpdate.channel == bindparam("channel"),
                                            PendingUpdate.message_ts == bindparam("message_ts"))
_CHILD_DEADLINES = select(DeadlineRecord).where(DeadlineRecord.child == bindparam("child")).order_by(
    DeadlineRecord.due)
_EVENTS_VERSIONS = select(Child.number, Child.events_version).where(
    Child.number.in_(bindparam("numbers", expanding=True)))
_WRITTEN_LOCKED = select(Child.number, Child.unit_id, Child.events_version, Child.deadlines_version,
                         Child.deadlines_digest).where(Child.number.in_(bindparam("numbers", expanding=True))
                                                       ).with_for_update()
_DROP_DEADLINES = delete(_DEADLINES).where(_DEADLINES.c.child.in_(bindparam("children", expanding=True)))
_DEADLINES_WRITTEN = (update(_CHILDREN).where(_CHILDREN.c.number == bindparam("child_number"))
                      .values(deadlines_version=bindparam("version"), in_force=bindparam("plans"),
                              deadlines_digest=bindparam("digest")))
# Open deadlines, written out (not bound) so the planner may use the partial indexes over
# them (a plan made for any bound value could not).
OPEN = DeadlineRecord.state == literal_column("'open'")
_DUE_ORDER = (DeadlineRecord.due, DeadlineRecord.due_at, DeadlineRecord.child, DeadlineRecord.id)


def _due_window(now: datetime, late: Any, start: date | None, end: date | None, overdue_only: bool) -> list[Any]:
    """What `Store.due` lists, in SQL (`late`: `_overdue(now)`): open, everything overdue
    and what falls due from `start` to `end` (default: the next 7 days), or only the overdue."""
    today = now.astimezone(LONDON).date()
    where = [OPEN, DeadlineRecord.due <= (today if overdue_only else (end or today + timedelta(days=7)))]
    if overdue_only:
        where.append(late)
    elif start is not None:
        where.append(or_(late, DeadlineRecord.due >= start))
    return where


def _firsts(units: Sequence[str], where: Sequence[Any], limits: dict[str, int]) -> Any:
    """The ids of each unit's first limits[unit] deadlines meeting `where`: each read from its
    unit's index in due order, one statement for them all. A window over every row sorted them
    all first; one read along the due order across the units went through every older row."""
    return union_all(*(select(select(DeadlineRecord.id).where(DeadlineRecord.unit_id == unit, *where)
                              .order_by(*_DUE_ORDER).limit(limits.get(unit, 0)).subquery())
                       for unit in units)).subquery()


def _roles_of(s: Session | Connection, user: str) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for unit, role in s.execute(_ROLES, {"user": user}):
        roles.setdefault(unit, set()).add(role)
    return roles


def page_key(item: DueItem) -> list[Any]:
    """Where an item stands in a paged list (`Store.due_page`), as JSON for a button."""
    r = item.record
    return [0 if item.overdue else 1, r.due.isoformat(), r.due_at.isoformat(), r.child, r.id]


def _key_values(key: Sequence[Any]) -> tuple[Any, ...]:
    overdue, due, due_at, child, deadline = key
    return int(overdue), date.fromisoformat(due), datetime.fromisoformat(due_at), str(child), str(deadline)


# DeadlineRecord.overdue_at_import, in SQL, for open deadlines.
_AT_IMPORT = and_(DeadlineRecord.known_from.is_not(None), DeadlineRecord.due_at < DeadlineRecord.known_from)


def _overdue(now: datetime) -> Any:
    """is_overdue, in SQL, for open deadlines."""
    today = now.astimezone(LONDON).date()
    return or_(and_(DeadlineRecord.hours_based.is_(True), DeadlineRecord.due_at < now),
               and_(DeadlineRecord.hours_based.is_(False), DeadlineRecord.due < today))
_DECISIONS = select(Decision.child, Decision.target, Decision.due, Decision.by, Decision.at,
                    Decision.reason).order_by(Decision.id)
_DECISIONS_OF = _DECISIONS.where(Decision.child.in_(bindparam("children", expanding=True)))
_EVENTS_OF = _EVENTS.where(EventRecord.child.in_(bindparam("children", expanding=True)))


def _read_histories(s: Session, children: Sequence[str]) -> dict[str, list[Event]]:
    """Each child's events as the engine reads them, in the order they were recorded."""
    found: dict[str, list[Event]] = {c: [] for c in children}
    parsed: dict[str, dict[str, Any]] = {}
    for start in range(0, len(children), 500):
        for row in s.execute(_EVENTS_OF, {"children": list(children[start:start + 500])}):
            event = _to_engine(row, parsed)
            found[event.child].append(event)
    return found


def _to_engine(row: Sequence[Any], parsed: dict[str, dict[str, Any]]) -> Event:
    """An event as the engine reads it, from a row of _EVENTS (unpacked: a row's
    attributes are looked up by name, and a full recompute reads every event)."""
    event_id, child, event, day, status, clock, details_text, posted_at, supersedes = row
    details = parsed.get(details_text)
    if details is None:
        details = parsed[details_text] = json.loads(details_text)
    return Event(id=str(event_id), child=child, event=event, date=day, status=status, time=clock,
                 details=dict(details), posted_at=posted_at, supersedes=str(supersedes) if supersedes else None)


def _to_override(row: Sequence[Any]) -> Override:
    """A decision as the engine reads it, from a row of _DECISIONS."""
    _child, target, due, by, at, reason = row
    return Override(target=target, due=due, by=by, at=at, reason=reason)


class _Rows(Protocol):
    """A chunk's deadlines as one database writes them in bulk, and each child's digest of them."""

    def of(self, deadlines: Iterable[Deadline], unit: str) -> list[Any]: ...

    def digest(self, rows: list[Any], plans: list[list[Any]]) -> str: ...

    def write(self, session: Session, rows: list[Any]) -> None: ...


class _CopyRows:
    """Deadlines as rows of PostgreSQL's COPY text, past the ORM's and the driver's per-row
    work (which was most of a full recompute); each distinct value, mostly repeated across
    a chunk's deadlines (a rule's columns, a child's, the due dates, the lists of who is
    responsible), is worked out once. The rows also tell whether a child's deadlines changed:
    their digest is kept with the child."""

    def __init__(self) -> None:
        self.text, self.json_of = _CopyText(), _JsonOnce()
        self.rule_columns: dict[tuple[str, ...], str] = {}

    def of(self, deadlines: Iterable[Deadline], unit: str) -> list[str]:
        text, json_of, rules = self.text, self.json_of, self.rule_columns
        # Each value looked up first (a dict's get, in C), worked out only the first time: a
        # call into _CopyText for each of 560,000 rows' nine values was a third of this.
        seen = text.seen
        lines = []
        for d in deadlines:
            described = (d.rule, d.standard, d.source, d.title, d.timescale)
            if (rule_columns := rules.get(described)) is None:
                rule_columns = rules[described] = "\t".join(map(_esc, described))
            lines.append("\t".join((
                _esc(d.id), seen.get(d.child) or text(d.child), seen.get(unit) or text(unit), rule_columns,
                seen.get(d.due) or text(d.due), seen.get(d.due_at) or text(d.due_at), "t" if d.hours_based else "f",
                "open" if d.state == "overdue" else seen.get(d.state) or text(d.state), json_of(d.responsible),
                seen.get(d.event_id) or text(d.event_id), seen.get(d.met_event_id) or text(d.met_event_id),
                seen.get(d.closed_on) or text(d.closed_on), "t" if d.late else "f", json_of.of(d.override),
                seen.get(d.known_from) or text(d.known_from))))
        return lines

    @staticmethod
    def digest(lines: list[str], plans: list[list[Any]]) -> str:
        """What a child's stored deadlines and plans in force hold, in 32 characters."""
        return hashlib.blake2b("\n".join([*lines, json.dumps(plans)]).encode(), digest_size=16).hexdigest()

    @staticmethod
    def write(session: Session, lines: list[str]) -> None:
        """The lines written in one COPY, past the ORM and the driver's per-row work."""
        raw: Any = session.connection().connection.driver_connection
        with raw.cursor().copy(f"COPY deadlines ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")


class _SqliteRows:
    """Deadlines as the values of SQLite's INSERT, each column bound as SQLAlchemy binds it,
    each distinct value once (the dates, the instants, the lists of who is responsible):
    binding every value of 560,000 rows was as long as SQLite's inserting them. A column's
    values are looked up in its own dict (in C); equal instants in two zones bind alike
    (UtcDateTime stores UTC), so an instant is its own key."""

    def __init__(self, dialect: Any) -> None:
        self.bind = {name: _DEADLINES.c[name].type._cached_bind_processor(dialect) or (lambda v: v)
                     for name in _COLUMNS}
        self.seen: dict[str, dict[Any, Any]] = {name: {} for name in _COLUMNS}
        self.no_override = self.bind["override"](None)  # most deadlines': JSON null

    def _first(self, name: str, value: Any) -> Any:
        found = self.seen[name][value] = self.bind[name](value)
        return found

    def of(self, deadlines: Iterable[Deadline], unit: str) -> list[tuple[Any, ...]]:
        return [self._row(d, unit) for d in deadlines]

    @staticmethod
    def digest(rows: list[tuple[Any, ...]], plans: list[list[Any]]) -> str:
        """What a child's stored deadlines and plans in force hold, in 32 characters: of the
        values as bound (marshal's version 2 writes equal values alike, sharing nothing)."""
        return hashlib.blake2b(marshal.dumps((rows, plans), 2), digest_size=16).hexdigest()

    @staticmethod
    def write(session: Session, rows: list[tuple[Any, ...]]) -> None:
        """The rows written by one executemany of a prepared INSERT."""
        raw: Any = session.connection().connection.driver_connection
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO deadlines ({', '.join(_COLUMNS)}) "
                               f"VALUES ({', '.join('?' * len(_COLUMNS))})", rows)
        finally:
            cursor.close()

    def _row(self, d: Deadline, unit: str) -> tuple[Any, ...]:
        seen, first = self.seen, self._first
        days, instants, imports, flags = seen["due"], seen["due_at"], seen["known_from"], seen["late"]
        responsible = tuple(d.responsible)
        return (d.id, d.child, unit, d.rule, d.standard, d.source, d.title, d.timescale,
                days[d.due] if d.due in days else first("due", d.due),
                instants[d.due_at] if d.due_at in instants else first("due_at", d.due_at),
                flags[d.hours_based] if d.hours_based in flags else first("late", d.hours_based),
                "open" if d.state == "overdue" else d.state,
                seen["responsible"].get(responsible) or first("responsible", responsible),
                d.event_id, d.met_event_id,
                days[d.closed_on] if d.closed_on in days else first("due", d.closed_on),
                flags[d.late] if d.late in flags else first("late", d.late),
                self.no_override if d.override is None else self.bind["override"](d.override),
                imports[d.known_from] if d.known_from in imports else first("known_from", d.known_from))


_NULL = "\\N"  # COPY's NULL
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _esc(text: str) -> str:
    """A value as COPY's text format holds it (most need nothing: looked for first, in C)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


class _CopyText:
    """Values as COPY's text format holds them (None as its NULL), each distinct one worked
    out once: most repeat across a chunk's deadlines (a child's, the due dates, the events)."""

    def __init__(self) -> None:
        self.seen: dict[str | date | datetime | None, str] = {None: _NULL}

    def __call__(self, value: str | date | datetime | None) -> str:
        found = self.seen.get(value)
        if found is None:
            found = self.seen[value] = _esc(value if isinstance(value, str) else value.isoformat())  # type: ignore[union-attr]
        return found


class _JsonOnce:
    """JSON for COPY, as SQLAlchemy's JSON type binds it (None is JSON null), each list once."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str, ...], str] = {}

    def __call__(self, values: Sequence[str]) -> str:
        key = tuple(values)
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = _esc(json.dumps(list(values)))
        return found

    def of(self, value: Any) -> str:
        return "null" if value is None else _esc(json.dumps(value))


def _this_machine() -> str:
    """Where a process id names one process: this boot of this kernel, in this process's pid
    namespace (each container has its own; the first one's number is the same on every
    machine). Empty where that cannot be told (not Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return ""


_THIS_MACHINE = _this_machine()


def _holder_gone(holder: str) -> bool:
    """Whether a recompute's lease is held by a process that has ended (killed, crashed, out
    of memory): one that ran where this one runs, whose id names no process now. A holder
    elsewhere (another machine or container) keeps its lease until it runs out, as does one
    whose id has been given to a new process meanwhile: only the wait is longer."""
    process, _, machine = holder.partition("@")
    pid = process.partition(":")[0]
    if not _THIS_MACHINE or machine != _THIS_MACHINE or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a live process of another user's
        return False
    return False


# A full recompute of at least this many children is shared among processes
# (below it, starting them costs more than it saves).
IN_PROCESSES_FROM = 2_000
_WORKER_STORE: list[Store] = []  # in a recompute worker process: its store


def recompute_workers() -> int:
    """How many processes share a full recompute: the cores this process may use, up to 4."""
    return min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _start_recompute_worker(url: str, pack: RulePack, calendar: WorkingCalendar) -> None:
    os.nice(5)
    gc.set_threshold(_BULK_COLLECTION_EVERY)  # for the worker's life: its per-row dicts make no cycles
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    _WORKER_STORE.append(Store(make_engine(url), pack, calendar))


def _end_with_parent(parent: int) -> None:
    """A recompute worker ends when the process it works for has ended (killed part-way):
    left alone it would wait on the pool's queue for ever, connected to the database. The
    chunk in hand, if any, is rolled back with its connection; the next start does it."""
    while os.getppid() == parent:
        sleep(0.5)
    os._exit(1)


def _recompute_in_worker(part: list[str], now: datetime) -> None:
    """One chunk, read outside the transaction that writes it, as `_recompute_in_threads` does."""
    store = _WORKER_STORE[0]
    with store.reading() as s:  # on SQLite: no lock while reading and working out
        worked = store._work_out(s, part, now)
    with store.session.begin() as s:
        store._write_worked(s, worked, now)


@dataclass
class _WorkedOut:
    """Children's deadlines as worked out, with the events_version each was worked out from."""

    versions: dict[str, int]
    timelines: dict[str, ChildTimeline] = field(default_factory=dict)


def _plans_stored(timeline: ChildTimeline) -> list[list[Any]]:
    """A child's plans in force as children.in_force holds them (JSON), in order."""
    return [[p.status, p.title, p.since.isoformat() if p.since else None, p.assumed_from, list(p.waiting_for_start)]
            for p in timeline.in_force.values()]


def _stored_plans(plans: Sequence[Any] | None, events: int, deadlines: int) -> list[InForce] | None:
    """A child's plans in force as stored with its deadlines; None when they are behind its
    events (worked out again then)."""
    return [_plan_read(p) for p in plans] if plans is not None and events == deadlines else None


def _plan_read(stored: Sequence[Any]) -> InForce:
    status, title, since, assumed_from, waiting = stored
    return InForce(status, title, date.fromisoformat(since) if since else None, assumed_from, tuple(waiting))


_COLUMNS = ("id", "child", "unit_id", "rule", "standard", "source", "title", "timescale", "due", "due_at",
            "hours_based", "state", "responsible", "event_id", "met_event_id", "closed_on", "late", "override",
            "known_from")  # the deadlines' columns as the bulk writes give them, in this order
# (a Deadline's own fields, but for the unit, and overdue, a reading at a moment, stored as open)
