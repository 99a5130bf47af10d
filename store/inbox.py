"""The inbox: every request from Slack is written here before Slack is acknowledged,
and handled from here by workers (SPEC section 10).

A request is taken under a lease; a worker that dies leaves it to be taken again
when the lease runs out, by any process. Handling a request twice is safe because
what it does is keyed in the database (a message's claim, its events' unique key,
its replies' ledger keys), never remembered in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import sessionmaker

from store.db import statement_by_statement
from store.models import InboxRequest
from store.records import insert_new

# A worker's lease on the request it handles. Short is safe: a request taken again by
# another worker while the first is still at it is handled twice, and handling is keyed
# in the database, so the second changes nothing.
HOLD = timedelta(seconds=30)
GIVE_UP_AFTER = 5  # attempts; then the request is marked failed (and its poster was told something went wrong)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Request:
    """A stored request, as a worker takes it."""

    id: int
    mode: str
    content_type: str
    body: str
    attempts: int


_INBOX: Any = InboxRequest.__table__
# Every request goes through put, take and done: their statements are made once, with
# their values bound at execution (building and keying a statement each time cost more
# than running it), and run on a connection, not an ORM session.
_FREE = or_(_INBOX.c.state == "waiting", (_INBOX.c.state == "working") & (_INBOX.c.lease_until < bindparam("now")))
# One statement: the oldest free request (PostgreSQL: skipping those another worker is
# taking, under FOR UPDATE; SQLite: its write lock is held from BEGIN) taken, if still free.
_TAKE = (update(_INBOX)
         .where(_INBOX.c.id == select(_INBOX.c.id).where(_FREE).order_by(_INBOX.c.id).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery(), _FREE)
         .values(state="working", lease_until=bindparam("until"), attempts=_INBOX.c.attempts + 1)
         .returning(_INBOX.c.id, _INBOX.c.mode, _INBOX.c.content_type, _INBOX.c.body, _INBOX.c.attempts))
_DONE = (update(_INBOX).where(_INBOX.c.id == bindparam("request"))
         .values(state="done", done_at=bindparam("at"), body="", lease_until=None))


class Inbox:
    def __init__(self, engine: Engine, hold: timedelta = HOLD) -> None:
        self.engine, self.hold = engine, hold
        self.session = sessionmaker(engine, expire_on_commit=False)
        self.alone = statement_by_statement(engine)  # put, take and done are a statement each

    def put(self, key: str, mode: str, content_type: str, body: str) -> bool:
        """Store a request; False when it was stored already (Slack's retry of it).
        Raises when the database cannot take it: then Slack must not be acknowledged."""
        with self.alone.begin() as c:
            return insert_new(c, InboxRequest, {"key": key, "mode": mode, "content_type": content_type, "body": body,
                                                "received_at": utc_now(), "state": "waiting", "attempts": 0})

    def take(self) -> Request | None:
        """The oldest request nobody is handling (or whose worker's lease ran out), now held
        by the caller; None when there is none."""
        now = utc_now()
        with self.alone.begin() as c:
            row = c.execute(_TAKE, {"now": now, "until": now + self.hold}).first()
        return Request(*row) if row else None

    def done(self, request: int) -> None:
        """Handled: its body (people's words) is not kept."""
        with self.alone.begin() as c:
            c.execute(_DONE, {"request": request, "at": utc_now()})

    def not_done(self, request: int, attempts: int, error: str) -> None:
        """Handling failed: taken again soon, or marked failed after GIVE_UP_AFTER attempts."""
        failed = attempts >= GIVE_UP_AFTER
        with self.session.begin() as s:
            s.execute(update(InboxRequest).where(InboxRequest.id == request).values(
                state="failed" if failed else "waiting", lease_until=None, error=error[:200],
                done_at=utc_now() if failed else None))

    def forget(self, before: datetime) -> int:
        """Requests handled (or given up) before `before`, removed."""
        with self.session.begin() as s:
            removed = s.execute(delete(InboxRequest).where(  # type: ignore[attr-defined]
                InboxRequest.state.in_(["done", "failed"]), InboxRequest.done_at < before)).rowcount
        return int(removed or 0)

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            return dict(s.execute(select(InboxRequest.state, func.count()).group_by(InboxRequest.state)).all())
