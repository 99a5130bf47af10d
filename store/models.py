"""The system of record: SQLAlchemy 2 typed models.

Events are append-only (a correction is a new row that supersedes an old
one); deadlines are derived from events by the rules engine and rewritten per
child; every decision and outgoing message is kept with who and when.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy import text as sql_text  # `text` is also a column of events
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and always read back with its zone: SQLite
    would otherwise hand back naive times and lose the offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store instants with their zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UtcDateTime()}


class Unit(Base):
    """A social work unit with one Slack channel (from timescales.toml)."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64), unique=True)
    flexible_assessment: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitMember(Base):
    """Who may see a unit's children, and in what role (team_manager, practitioner...)."""

    __tablename__ = "unit_members"
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    __table_args__ = (Index("ix_unit_members_user", "user_id"),)


class Child(Base):
    """A child, by the case number the service already uses. No names, ever."""

    __tablename__ = "children"
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    lead_practitioner: Mapped[str | None] = mapped_column(String(64))
    flexible_assessment: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped with every event; deadlines are current when the two are equal. A
    # crash between storing an event and recomputing leaves them apart, and the
    # next start recomputes.
    events_version: Mapped[int] = mapped_column(Integer, default=0)
    deadlines_version: Mapped[int] = mapped_column(Integer, default=0)
    # The plans in force (rules.engine.InForce, in order) as the engine found them when it
    # last worked out the deadlines: read by the weekly agenda when the versions agree.
    in_force: Mapped[list[Any] | None] = mapped_column(JSON)
    # A digest of the deadlines and plans in force last written (the rows' digest in store.records):
    # a recompute that comes out the same writes nothing. None: not known, so written.
    deadlines_digest: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (Index("ix_children_unit", "unit_id"),)


class InboundMessage(Base):
    """Each Slack message (or chat line) is handled once, whoever receives it first."""

    __tablename__ = "inbound_messages"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]
    user_id: Mapped[str | None] = mapped_column(String(64))
    # The stored request (an inbox row) that claimed it: handled again after a crash,
    # the same request may go on with what it claimed; any other delivery may not.
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class InboxRequest(Base):
    """Every request from Slack, stored before Slack gets its acknowledgement and
    handled from here, so nothing acknowledged is lost (SPEC section 10)."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # Slack's retries of one request share it
    mode: Mapped[str] = mapped_column(String(16))  # http | socket_mode
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # removed once handled (it holds people's words)
    received_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # waiting | working | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]  # a worker's hold while it handles the request
    done_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    __table_args__ = (Index("ix_inbox_state", "state", "id"),)


class ServiceState(Base):
    """A few facts about the service itself: when the last sweep ran, and the like."""

    __tablename__ = "service_state"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime]
    value: Mapped[str | None] = mapped_column(String(200))


class PendingUpdate(Base):
    """A message the bot asked about: kept (with what it understood) until answered,
    so nothing half-read is stored as an event."""

    __tablename__ = "pending_updates"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    posted_by: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    reading: Mapped[dict[str, Any]] = mapped_column()  # the parse result so far, as JSON


class EventRecord(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child: Mapped[str] = mapped_column(ForeignKey("children.number"))
    event: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    date: Mapped[date] = mapped_column(Date)
    time: Mapped[time | None] = mapped_column(Time)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    posted_by: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(64))
    message_ts: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer, default=0)  # several updates in one message
    text: Mapped[str] = mapped_column(Text, default="")  # what was posted, for audit (kept retention_days)
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    # Recorded from an answer to the bot's question: posted_by is who answered,
    # answered_for who posted the message it completes, answer_ts the answer itself.
    answered_for: Mapped[str | None] = mapped_column(String(64))
    answer_ts: Mapped[str | None] = mapped_column(String(64))
    # The Slack message it is about: the message itself, or the one an edit, an answer or
    # an undo changed (those are recorded under keys of their own in message_ts).
    origin_ts: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        # The same message stored twice is one event, even from two processes at once.
        UniqueConstraint("channel", "message_ts", "seq", name="uq_events_message"),
        # With when it was posted: a unit's last updates and those of the week (the agenda)
        # are read from the index alone.
        Index("ix_events_child", "child", "posted_at"),
        Index("ix_events_origin", "channel", "origin_ts"),
        # The words still held (past retention_days they are cleared): forgetting them reads these only.
        Index("ix_events_words", "posted_at", sqlite_where=sql_text("text <> ''"),
              postgresql_where=sql_text("text <> ''")),
    )


class Decision(Base):
    """An override: the 2013 scheme's lead social worker setting a date, or an extension."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child: Mapped[str] = mapped_column(ForeignKey("children.number"))
    kind: Mapped[str] = mapped_column(String(16))  # flexible_scheme | extension
    target: Mapped[str] = mapped_column(String(120))  # rule id, deadline id or scheme key
    due: Mapped[date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_decisions_child", "child"),
        # One message or form submission is one decision, however often it arrives.
        UniqueConstraint("channel", "message_ts", name="uq_decisions_message"),
    )


class Transfer(Base):
    """A child moving between units: asked for by the new unit, agreed or declined by a
    manager of the unit holding the child (SPEC section 8)."""

    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child: Mapped[str] = mapped_column(ForeignKey("children.number"))
    from_unit: Mapped[str] = mapped_column(String(64))
    to_unit: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(64))  # where it was asked: told the outcome there
    message_ts: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # asked | agreed | declined
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", name="uq_transfers_message"),
        Index("ix_transfers_child", "child"),
    )


class LeadChange(Base):
    """A child's lead practitioner set (in the channel, or by an import): who, by whom, when."""

    __tablename__ = "lead_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child: Mapped[str] = mapped_column(ForeignKey("children.number"))
    lead: Mapped[str] = mapped_column(String(64))
    was: Mapped[str | None] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(64))
    message_ts: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", "child", name="uq_lead_changes_message"),
        Index("ix_lead_changes_child", "child"),
    )


class Cover(Base):
    """Someone away (leave) from one day to another, and who covers for them (None: nobody
    named). From a message in Slack, or from `[[cover]]` in timescales.toml."""

    __tablename__ = "covers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(64))
    cover: Mapped[str | None] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)  # brought forward by "back from leave"
    source: Mapped[str] = mapped_column(String(16))  # slack | config
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("channel", "message_ts", name="uq_covers_message"),
        Index("ix_covers_days", "first_day", "last_day"),
    )


class AccessRecord(Base):
    """Who was shown or exported which children, when and how (SPEC section 8)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    user_id: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # channel | dm | slash | home | export | report | cli
    units: Mapped[list[str]]
    child: Mapped[str | None] = mapped_column(String(20))  # an answer about one child
    children: Mapped[int] = mapped_column(Integer)  # how many children it showed
    shown: Mapped[list[str]]  # their numbers, so "who saw child N" can be answered
    __table_args__ = (Index("ix_access_log_at", "at"), Index("ix_access_log_user", "user_id"))


_AT_IMPORT_ROWS = "state = 'open' AND known_from IS NOT NULL AND due_at < known_from"


class DeadlineRecord(Base):
    """A deadline as the engine last computed it. `state` is open, met or
    cancelled; overdue is worked out when read, so it is never stale."""

    __tablename__ = "deadlines"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # No foreign key: written only with the child's row locked (a check per row was half
    # of writing a service's deadlines on PostgreSQL).
    child: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    standard: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    timescale: Mapped[str] = mapped_column(String(64))
    due: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    hours_based: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    responsible: Mapped[list[str]]
    event_id: Mapped[str] = mapped_column(String(64))
    met_event_id: Mapped[str | None] = mapped_column(String(64))
    closed_on: Mapped[date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The sweep's bookmark, not the engine's: nothing of this deadline's is due to go out
    # before then (every step up to it is in the ledger). None: written since the sweep
    # last looked at it, so the next sweep does. Never set from a Deadline (records._COLUMNS).
    next_notice_at: Mapped[datetime | None]
    # Armed from imported history: when the bot was told. Nothing that would have been
    # sent before then is sent, and what fell due before then is "overdue at import".
    known_from: Mapped[datetime | None]

    @property
    def overdue_at_import(self) -> bool:
        """Fell due before the bot was told of it, and nothing told meets it (SPEC section 9)."""
        return self.state == "open" and self.known_from is not None and self.due_at < self.known_from

    __table_args__ = (
        # Every list by unit reads open deadlines only (a third of the rows), in due order: a
        # partial index, so writing met and cancelled deadlines updates one index fewer (on
        # PostgreSQL, (unit, state, due) over every row was a third of writing a service's
        # deadlines). The timeliness report, which counts met ones too, reads by child.
        Index("ix_deadlines_unit_open", "unit_id", "due", sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
        Index("ix_deadlines_child", "child"),
        # The sweep looks across every unit, at open deadlines only (a third of the rows), in
        # the order of this index, its bookmark read from the index: a partial index, so
        # writing met and cancelled deadlines updates one index fewer.
        Index("ix_deadlines_open_due", "due", "id", "next_notice_at", sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
        # Those overdue at import, by when they were imported: the sweep chases those of the
        # last weeks' imports without reading the whole overdue backlog (store.ledger).
        Index("ix_deadlines_at_import", "known_from", "id", "next_notice_at", sqlite_where=text(_AT_IMPORT_ROWS),
              postgresql_where=text(_AT_IMPORT_ROWS)),
    )


class OutgoingMessage(Base):
    """The ledger that makes every reminder and escalation go out exactly once."""

    __tablename__ = "outgoing_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # deadline, step, due date, recipient
    recipient: Mapped[str] = mapped_column(String(64))  # channel or user id
    deadline_id: Mapped[str | None] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(String(32))  # reminder, due_today, overdue, sm, hos, agenda, reply...
    state: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed | sent | skipped | failed
    batch: Mapped[str | None] = mapped_column(String(64))  # the rows that go out as one Slack message
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    slack_ts: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Who is sending it and until when (a sweep renews its lease while it runs; a claim
    # whose sender died is taken over when it runs out). No owner: free to take now.
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    # A try may have reached Slack: look in its history before sending again.
    maybe_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    error: Mapped[str | None] = mapped_column(String(200))  # Slack's last refusal
    failed_at: Mapped[datetime | None]
    # A reply's text and blocks, until sent; then SQL NULL (not JSON 'null'), so the rows still
    # holding words are the few in ix_outgoing_payload.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    __table_args__ = (Index("ix_outgoing_state", "state"), Index("ix_outgoing_batch", "batch"),
                      Index("ix_outgoing_payload", "claimed_at", sqlite_where=text("payload IS NOT NULL"),
                            postgresql_where=text("payload IS NOT NULL")))


class DeadlineBasis(Base):
    """What the stored deadlines were worked out from (rules.engine.deadline_basis):
    one row. When the rules or the calendar change, every child is recomputed."""

    __tablename__ = "deadline_basis"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The same without the bank holidays, and the bank holidays themselves: when only a
    # holiday changed, only the children whose deadlines span it are worked out again.
    rules_fingerprint: Mapped[str | None] = mapped_column(String(64))
    bank_holidays: Mapped[list[str] | None] = mapped_column(JSON)
    computed_at: Mapped[datetime]
    children: Mapped[int] = mapped_column(Integer)
