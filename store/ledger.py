"""The outgoing-message ledger: every reminder, escalation, agenda and digest is
claimed here, in a transaction, before it is sent, so it goes out exactly once
whatever happens (two bot processes, a crash, a sweep run twice).

A claim is a row with a unique key (deadline, step, due date, recipient); the
rows one Slack message carries share a batch id, which also goes into the
message's metadata so a send that may have reached Slack before a crash can be
found again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.models import DeadlineRecord, EventRecord, OutgoingMessage, Unit
from store.records import Store


@dataclass(frozen=True)
class Claim:
    key: str
    recipient: str
    step: str
    deadline_id: str | None = None


@dataclass(frozen=True)
class Candidate:
    """An open deadline the sweep looks at, with what it needs to time its notices."""

    deadline: DeadlineRecord
    channel: str  # the unit's channel
    created_at: datetime | None  # when the update that started it was posted


_TABLE: Any = OutgoingMessage.__table__


class Ledger:
    def __init__(self, store: Store) -> None:
        self.store = store

    def candidates(self, first_due: date, last_due: date) -> list[Candidate]:
        """Open deadlines due between the two dates (inclusive), across every unit."""
        with self.store.session() as s:
            rows = s.execute(select(DeadlineRecord, Unit.channel)
                             .join(Unit, Unit.id == DeadlineRecord.unit_id)
                             .where(DeadlineRecord.state == "open", DeadlineRecord.due >= first_due,
                                    DeadlineRecord.due <= last_due)).all()
            event_ids = {int(d.event_id) for d, _ in rows if d.event_id.isdigit()}
            posted = dict(s.execute(select(EventRecord.id, EventRecord.posted_at)
                                    .where(EventRecord.id.in_(event_ids))).all()) if event_ids else {}
        return [Candidate(d, channel, posted.get(int(d.event_id)) if d.event_id.isdigit() else None)
                for d, channel in rows]

    def known(self, keys: Iterable[str]) -> set[str]:
        """Keys already in the ledger, in any state."""
        keys = list(keys)
        found: set[str] = set()
        with self.store.session() as s:
            for start in range(0, len(keys), 500):
                found |= set(s.scalars(select(OutgoingMessage.key).where(OutgoingMessage.key.in_(keys[start:start + 500]))))
        return found

    def claim_batches(self, batches: dict[str, list[Claim]], now: datetime,
                      state: str = "claimed") -> dict[str, list[Claim]]:
        """Insert every batch's claims in one transaction; returns, per batch, those this
        caller won (another sweep may hold the rest)."""
        rows = [{"key": c.key, "recipient": c.recipient, "deadline_id": c.deadline_id, "step": c.step,
                 "state": state, "attempts": 0, "claimed_at": now, "batch": batch}
                for batch, claims in batches.items() for c in claims]
        if not rows:
            return {}
        with self.store.session.begin() as s:
            dialect = s.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            s.execute(insert(_TABLE).on_conflict_do_nothing(), rows)
            # Batch ids are this sweep's own: the rows carrying them are the ones it won.
            ours = set(s.scalars(select(OutgoingMessage.key).where(OutgoingMessage.batch.in_(list(batches)))))
        return {batch: [c for c in claims if c.key in ours] for batch, claims in batches.items()
                if any(c.key in ours for c in claims)}

    def skip(self, claims: Sequence[Claim], now: datetime) -> None:
        """Steps overtaken while nobody sent them (the bot was off): never to be sent."""
        self.claim_batches({f"skipped-{uuid.uuid4().hex}": list(claims)}, now, state="skipped")

    def stranded(self, claimed_before: datetime, now: datetime) -> dict[str, list[OutgoingMessage]]:
        """Batches claimed before `claimed_before` and never marked sent (a crash, Slack down):
        re-claimed for this caller, compare-and-set on claimed_at so only one sweep gets each."""
        with self.store.session() as s:
            rows = list(s.scalars(select(OutgoingMessage).where(OutgoingMessage.state == "claimed",
                                                                OutgoingMessage.claimed_at < claimed_before)))
        batches: dict[str, list[OutgoingMessage]] = {}
        for row in rows:
            batches.setdefault(row.batch or f"row-{row.id}", []).append(row)
        won: dict[str, list[OutgoingMessage]] = {}
        for batch, members in batches.items():
            with self.store.session.begin() as s:
                taken = s.execute(update(OutgoingMessage)  # type: ignore[attr-defined]
                                  .where(OutgoingMessage.id.in_([m.id for m in members]),
                                         OutgoingMessage.state == "claimed",
                                         OutgoingMessage.claimed_at < claimed_before)
                                  .values(claimed_at=now, attempts=OutgoingMessage.attempts + 1)).rowcount
            if taken == len(members):
                won[batch] = members
        return won

    def sent(self, batch: str, slack_ts: str | None, now: datetime) -> None:
        self.sent_batches([(batch, slack_ts)], now)

    def sent_batches(self, delivered: Sequence[tuple[str, str | None]], now: datetime) -> None:
        """Mark batches sent (Slack said ok), several in one transaction."""
        if not delivered:
            return
        statement = (update(_TABLE).where(_TABLE.c.batch == bindparam("sent_batch"), _TABLE.c.state == "claimed")
                     .values(state="sent", slack_ts=bindparam("sent_ts"), sent_at=now))
        with self.store.session.begin() as s:  # one executemany: pipelined on PostgreSQL
            s.connection().execute(statement, [{"sent_batch": b, "sent_ts": ts} for b, ts in delivered])

    def count(self, state: str | None = None) -> int:
        with self.store.session() as s:
            query = select(OutgoingMessage.id)
            if state:
                query = query.where(OutgoingMessage.state == state)
            return len(s.scalars(query).all())
