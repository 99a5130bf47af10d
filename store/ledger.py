"""The outgoing-message ledger: every reminder, escalation, agenda, digest and reply
is claimed here, in a transaction, before it is sent, so it goes out exactly once
whatever happens (two bot processes, a crash, overlapping sweeps, Slack down).

A claim is a row with a unique key (deadline, step, due date, recipient; a reply's
request and place); the rows one Slack message carries share a batch id, which also
goes into the message's metadata so a send that may have reached Slack can be found
again before anything is sent twice.

A claim has an owner and a lease. The owner renews the lease while it works; a claim
whose owner died is taken over when the lease runs out, never before, so two sweeps
at once never send the same message. A claim that failed for a while (Slack down) is
released: no owner, free for the next sweep. One Slack refused for good is marked
failed, retried once a day, and reported to the unit (scheduler/failures.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from store.inbox import utc_now
from store.models import DeadlineRecord, EventRecord, OutgoingMessage, ServiceState, Unit
from store.records import OPEN, Store


@dataclass(frozen=True)
class Claim:
    key: str
    recipient: str
    step: str
    deadline_id: str | None = None
    payload: dict[str, Any] | None = None  # a reply: what to post


@dataclass(frozen=True)
class Candidate:
    """An open deadline the sweep looks at, with what it needs to time its notices."""

    deadline: DeadlineRecord
    channel: str  # the unit's channel
    created_at: datetime | None  # when the update that started it was posted


@dataclass(frozen=True)
class Stranded:
    """A batch taken over from a sender that died or gave up for now."""

    batch: str
    rows: list[OutgoingMessage]
    look_first: bool  # it may be in Slack already: look in the channel's history before sending


@dataclass(frozen=True)
class Failure:
    recipient: str
    error: str
    since: datetime
    messages: int
    steps: frozenset[str]
    deadlines: frozenset[str]


_TABLE: Any = OutgoingMessage.__table__
_DEADLINES: Any = DeadlineRecord.__table__
_CLAIMED = OutgoingMessage.state == "claimed"
# Every reply is claimed and marked sent: those statements made once, their values bound
# at execution (building and keying them each time cost more than running them).
_CLAIM_PG = postgresql.insert(_TABLE).on_conflict_do_nothing()
_CLAIM_SQLITE = sqlite.insert(_TABLE).on_conflict_do_nothing()
_KEYS_OF_BATCHES = select(_TABLE.c.key).where(_TABLE.c.batch.in_(bindparam("batches", expanding=True)))
_SENT = (update(_TABLE).where(_TABLE.c.batch == bindparam("sent_batch"), _TABLE.c.state == "claimed")
         .values(state="sent", slack_ts=bindparam("sent_ts"), sent_at=bindparam("sent_now"), payload=None, owner=None,
                 lease_until=None))
CANDIDATE_BATCH = 2000  # deadlines the sweep reads at a time


def _chased_since_import(first_due: date) -> ColumnElement[bool]:
    """Deadlines overdue at import, imported since `first_due`: the sweep chases the
    recurring ones from the import on (scheduler.sweep._chased). The terms are those of
    ix_deadlines_at_import's condition, as the planners need to see them to use it."""
    since = datetime.combine(first_due, datetime.min.time(), tzinfo=UTC)
    return and_(DeadlineRecord.known_from.is_not(None), DeadlineRecord.known_from >= since,
                DeadlineRecord.due_at < DeadlineRecord.known_from)
SWEEP_LOCK = 7_101_927_002  # pg_advisory_lock's key for "a sweep is running" (store.db has the upgrade's)


def new_owner() -> str:
    return uuid.uuid4().hex


class Ledger:
    def __init__(self, store: Store, lease: timedelta = timedelta(minutes=2)) -> None:
        self.store = store
        self.lease = lease
        self._held_since: dict[str, float] = {}  # owner -> when its claims were last claimed or renewed
        self._sweep_owner: str | None = None  # this ledger's sweep, holding the SQLite lease

    def candidates(self, first_due: date, last_due: date, now: datetime | None,
                   batch: int | None = None) -> Iterator[list[Candidate]]:
        """Open deadlines due between the two dates (inclusive), across every unit, that the
        sweep has not looked at since they were written or whose bookmark has come (see
        `noticed`; `now` None: every one), in batches of at most `batch`: no statement
        grows with the caseload."""
        batch = batch or CANDIDATE_BATCH
        # Two passes, each a range of ix_deadlines_open_due read in its order, the bookmark
        # checked in the index: those never looked at, then those whose bookmark has come.
        # (One pass with an OR had the planner walk every deadline in id order.) No row
        # moves from the first to the second meanwhile: bookmarks are written after the sweep.
        # Then the same for what was overdue at import, due before the window: the recurring
        # ones are chased from the import on (scheduler.sweep._chased). Those are read from
        # their own index, in the order of when they were imported (in the due order, SQLite,
        # which keeps no statistics, would walk the whole overdue backlog to find them).
        passes = [DeadlineRecord.next_notice_at.is_(None), DeadlineRecord.next_notice_at <= now] \
            if now is not None else [true()]
        windows = [(and_(DeadlineRecord.due >= first_due, DeadlineRecord.due <= last_due), "due"),
                   (and_(DeadlineRecord.due < first_due, _chased_since_import(first_due)), "known_from")]
        for window, order in windows:
            key = (getattr(DeadlineRecord, order), DeadlineRecord.id)
            for waiting in passes:
                after: tuple[Any, str] | None = None
                while True:
                    query = (select(DeadlineRecord, Unit.channel).join(Unit, Unit.id == DeadlineRecord.unit_id)
                             .where(OPEN, window, waiting))
                    if after is not None:
                        query = query.where(tuple_(*key) > tuple_(*after))
                    with self.store.session() as s:
                        rows = s.execute(query.order_by(*key).limit(batch)).all()
                        event_ids = {int(d.event_id) for d, _ in rows if d.event_id.isdigit()}
                        posted = dict(s.execute(select(EventRecord.id, EventRecord.posted_at)
                                                .where(EventRecord.id.in_(event_ids))).all()) if event_ids else {}
                    if not rows:
                        break
                    yield [Candidate(d, channel, posted.get(int(d.event_id)) if d.event_id.isdigit() else None)
                           for d, channel in rows]
                    if len(rows) < batch:
                        break
                    after = (getattr(rows[-1][0], order), rows[-1][0].id)

    def noticed(self, marks: Sequence[tuple[DeadlineRecord, datetime]]) -> None:
        """Bookmark deadlines: nothing of theirs is due before the instant given. Only the row
        the sweep read is marked: one worked out again meanwhile with another due date,
        unit or trigger keeps no bookmark, so the next sweep looks at it."""
        if not marks:
            return
        d = _DEADLINES.c
        statement = (update(_DEADLINES).where(
            d.id == bindparam("mark_id"), d.state == "open", d.due == bindparam("mark_due"),
            d.due_at == bindparam("mark_due_at"), d.unit_id == bindparam("mark_unit"),
            d.event_id == bindparam("mark_event"), d.timescale == bindparam("mark_timescale"))
            .values(next_notice_at=bindparam("mark_at")))
        rows = [{"mark_id": r.id, "mark_due": r.due, "mark_due_at": r.due_at, "mark_unit": r.unit_id,
                 "mark_event": r.event_id, "mark_timescale": r.timescale, "mark_at": at} for r, at in marks]
        with self.store.session.begin() as s:
            s.connection().execute(statement, rows)

    def forget_bookmarks(self, first_due: date) -> None:
        """Every open deadline looked at afresh by the next sweep (who gets what changed)."""
        with self.store.session.begin() as s:
            s.execute(update(DeadlineRecord).where(OPEN, DeadlineRecord.due >= first_due,
                                                   DeadlineRecord.next_notice_at.is_not(None))
                      .values(next_notice_at=None))

    # -- one sweep at a time ----------------------------------------------------------
    @contextmanager
    def sweeping(self, owner: str) -> Iterator[bool]:
        """Whether this caller is the one sweeping the service now: yields False, at once,
        while another process sweeps. PostgreSQL: a session advisory lock, held on its own
        connection for the sweep (the server lets it go if the process dies). SQLite: a
        lease in service_state, renewed by `renew` (the sweep's heartbeat), taken over
        when it runs out."""
        if self.store.engine.dialect.name == "postgresql":
            with self.store.engine.connect() as connection:
                mine = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": SWEEP_LOCK}))
                connection.commit()
                try:
                    yield mine
                finally:
                    if mine:
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SWEEP_LOCK})
                        connection.commit()
            return
        mine = self._take_sweep(owner)
        self._sweep_owner = owner if mine else None
        try:
            yield mine
        finally:
            if mine:
                self._sweep_owner = None
                with self.store.session.begin() as s:
                    s.execute(delete(ServiceState).where(ServiceState.name == "sweeping",
                                                         ServiceState.value == owner))

    def _take_sweep(self, owner: str) -> bool:
        now = utc_now()
        until = now + self.lease
        with self.store.session.begin() as s:
            s.execute(sqlite.insert(ServiceState).values(name="sweeping", at=until, value=owner).on_conflict_do_update(
                index_elements=["name"], set_={"at": until, "value": owner},
                where=(ServiceState.at < now) | (ServiceState.value == owner)))
            return s.scalar(select(ServiceState.value).where(ServiceState.name == "sweeping")) == owner

    def known(self, keys: Iterable[str]) -> set[str]:
        """Keys already in the ledger, in any state."""
        keys = list(keys)
        found: set[str] = set()
        with self.store.session() as s:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                found |= set(s.scalars(select(OutgoingMessage.key).where(OutgoingMessage.key.in_(part))))
        return found

    def claim_batches(self, batches: dict[str, list[Claim]], now: datetime, owner: str | None = None,
                      state: str = "claimed") -> dict[str, list[Claim]]:
        """Insert every batch's claims in one transaction, held by `owner`; returns, per batch,
        those this caller won (another sweep may hold the rest)."""
        lease_until = utc_now() + self.lease
        rows = [{"key": c.key, "recipient": c.recipient, "deadline_id": c.deadline_id, "step": c.step,
                 "state": state, "attempts": 0, "claimed_at": now, "batch": batch, "owner": owner,
                 "lease_until": lease_until, "maybe_sent": False, "payload": c.payload}
                for batch, claims in batches.items() for c in claims]
        if not rows:
            return {}
        if owner:  # the oldest of its holds counts: renew() brings them all up to date
            self._held_since.setdefault(owner, time.monotonic())
        claim = _CLAIM_PG if self.store.engine.dialect.name == "postgresql" else _CLAIM_SQLITE
        # One claim (a reply's) stands alone; a sweep's many are made together, in one transaction.
        with (self.store.alone if len(rows) == 1 else self.store.engine).begin() as c:
            c.execute(claim, rows)
            # Batch ids are this caller's own: the rows carrying them are the ones it won.
            ours = set(c.execute(_KEYS_OF_BATCHES, {"batches": list(batches)}).scalars())
        return {batch: [c for c in claims if c.key in ours] for batch, claims in batches.items()
                if any(c.key in ours for c in claims)}

    def skip(self, claims: Sequence[Claim], now: datetime) -> None:
        """Steps overtaken while nobody sent them (the bot was off): never to be sent."""
        self.claim_batches({f"skipped-{uuid.uuid4().hex}": list(claims)}, now, state="skipped")

    # -- holding claims ----------------------------------------------------------------
    def hold(self, batch: str, owner: str) -> bool:
        """Whether this owner still holds a batch, just before sending it; False when it was
        taken over after the lease ran out: then it must not be sent. Within half a lease of
        the last claim or renewal nobody can have taken it, so the database is not asked."""
        if time.monotonic() - self._held_since.get(owner, -1e9) < self.lease.total_seconds() / 2:
            return True
        with self.store.session.begin() as s:
            held = s.execute(update(OutgoingMessage).where(  # type: ignore[attr-defined]
                OutgoingMessage.batch == batch, OutgoingMessage.owner == owner, _CLAIMED)
                .values(lease_until=utc_now() + self.lease)).rowcount
        return bool(held)

    def renew(self, owner: str) -> None:
        """Every claim of this owner held for another lease (a running sweep's heartbeat)."""
        began = time.monotonic()
        with self.store.session.begin() as s:
            s.execute(update(OutgoingMessage).where(OutgoingMessage.owner == owner, _CLAIMED)
                      .values(lease_until=utc_now() + self.lease))
        self._held_since[owner] = began
        if self._sweep_owner == owner:
            self._take_sweep(owner)

    def stranded(self, owner: str) -> list[Stranded]:
        """Claimed batches nobody holds (released, or their sender's lease ran out), taken
        over by `owner` with a compare-and-set, so only one caller gets each."""
        now = utc_now()
        free = _CLAIMED & or_(OutgoingMessage.owner.is_(None), OutgoingMessage.lease_until.is_(None),
                              OutgoingMessage.lease_until < now)
        with self.store.session() as s:
            rows = list(s.scalars(select(OutgoingMessage).where(free).order_by(OutgoingMessage.id)))
        batches: dict[str, list[OutgoingMessage]] = {}
        for row in rows:
            batches.setdefault(row.batch or f"row-{row.id}", []).append(row)
        won = []
        for batch, members in batches.items():
            self._held_since.setdefault(owner, time.monotonic())
            with self.store.session.begin() as s:
                taken = s.execute(update(OutgoingMessage)  # type: ignore[attr-defined]
                                  .where(OutgoingMessage.id.in_([m.id for m in members]), free)
                                  .values(owner=owner, lease_until=utc_now() + self.lease,
                                          attempts=OutgoingMessage.attempts + 1)).rowcount
            if taken == len(members):
                # A sender that died holding it may have posted it; one that released it says.
                look = any(m.owner is not None or m.maybe_sent for m in members)
                won.append(Stranded(batch, members, look))
        return won

    # -- outcomes ---------------------------------------------------------------------
    def sent(self, batch: str, slack_ts: str | None, now: datetime) -> None:
        self.sent_batches([(batch, slack_ts)], now)

    def sent_batches(self, delivered: Sequence[tuple[str, str | None]], now: datetime) -> None:
        """Mark batches sent (Slack said ok, or the message was found there), several in one
        transaction; a reply's text is not kept once sent."""
        if not delivered:
            return
        # One executemany, pipelined on PostgreSQL; one batch (a reply's) stands alone.
        with (self.store.alone if len(delivered) == 1 else self.store.engine).begin() as c:
            c.execute(_SENT, [{"sent_batch": b, "sent_ts": ts, "sent_now": now} for b, ts in delivered])

    def release(self, batch: str, maybe_sent: bool, error: str | None) -> None:
        """Not delivered for now (Slack down, rate limits, the network): free for the next
        sweep, remembering whether a try may have reached Slack."""
        values: dict[str, Any] = {"owner": None, "lease_until": utc_now(), "error": (error or "")[:200]}
        if maybe_sent:
            values["maybe_sent"] = True
        with self.store.session.begin() as s:
            s.execute(update(OutgoingMessage).where(OutgoingMessage.batch == batch, _CLAIMED).values(**values))

    def fail(self, batch: str, error: str) -> None:
        """Refused for good (not_in_channel, invalid_blocks...): not retried on every sweep."""
        with self.store.session.begin() as s:
            s.execute(update(OutgoingMessage).where(OutgoingMessage.batch == batch, _CLAIMED).values(
                state="failed", error=error[:200], failed_at=utc_now(), owner=None, lease_until=None))

    def revive_failed(self, since: datetime) -> int:
        """Failures since `since` given one more try (the sweep does this once a day)."""
        with self.store.session.begin() as s:
            revived = s.execute(update(OutgoingMessage).where(  # type: ignore[attr-defined]
                OutgoingMessage.state == "failed", OutgoingMessage.failed_at >= since,
                OutgoingMessage.step != "failure_report")
                .values(state="claimed", owner=None, lease_until=utc_now())).rowcount
        return int(revived or 0)

    def failures(self, since: datetime) -> list[Failure]:
        """What could not be delivered since `since`, by recipient and Slack's reason."""
        with self.store.session() as s:
            rows = s.execute(select(OutgoingMessage.recipient, OutgoingMessage.error, OutgoingMessage.failed_at,
                                    OutgoingMessage.batch, OutgoingMessage.step, OutgoingMessage.deadline_id)
                             .where(OutgoingMessage.state == "failed", OutgoingMessage.failed_at >= since,
                                    OutgoingMessage.step != "failure_report")).all()
        grouped: dict[tuple[str, str], list[Any]] = {}
        for row in rows:
            grouped.setdefault((row.recipient, row.error or "unknown"), []).append(row)
        return [Failure(recipient, error, min(r.failed_at for r in group), len({r.batch for r in group}),
                        frozenset(r.step for r in group), frozenset(r.deadline_id for r in group if r.deadline_id))
                for (recipient, error), group in sorted(grouped.items())]

    def forget_replies(self, before: datetime) -> int:
        """Failed replies' text past retention removed (sent ones drop it when sent)."""
        with self.store.session.begin() as s:
            cleared = s.execute(update(OutgoingMessage).where(  # type: ignore[attr-defined]
                OutgoingMessage.payload.is_not(None), OutgoingMessage.state != "claimed",
                OutgoingMessage.claimed_at < before).values(payload=None)).rowcount
        return int(cleared or 0)

    # -- what the service says about itself ----------------------------------------------
    def count(self, state: str | None = None) -> int:
        with self.store.session() as s:
            query = select(func.count(OutgoingMessage.id))
            if state:
                query = query.where(OutgoingMessage.state == state)
            return int(s.scalar(query) or 0)

    def pending(self) -> tuple[int, datetime | None]:
        """Messages (batches) claimed and not yet delivered, and when the oldest was claimed."""
        with self.store.session() as s:
            count, oldest = s.execute(select(func.count(func.distinct(OutgoingMessage.batch)),
                                             func.min(OutgoingMessage.claimed_at)).where(_CLAIMED)).one()
        return int(count or 0), oldest

    def failed_messages(self) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count(func.distinct(OutgoingMessage.batch)))
                                .where(OutgoingMessage.state == "failed")) or 0)

    def mark(self, name: str, at: datetime, value: str | None = None) -> None:
        """A fact about the service (the last sweep, the last failure report), upserted."""
        values = {"name": name, "at": at, "value": value}
        with self.store.session.begin() as s:
            upsert = (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)(ServiceState)
            s.execute(upsert.values(values).on_conflict_do_update(index_elements=["name"], set_=values))

    def marked(self, name: str) -> ServiceState | None:
        with self.store.session() as s:
            return s.get(ServiceState, name)
