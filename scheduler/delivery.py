"""Delivering what the ledger holds: a message's outcome recorded, replies sent like
reminders, and the unit told what could not be delivered (SPEC section 10).

Every post goes through the ledger and the outbox, replies to people included, so
a reply Slack refuses with 429 or 5xx, or that meets a network error, is sent again
later (after looking in the thread for it) and never lost or doubled.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from rules.calendar import LONDON
from scheduler.outbox import Message, Outbox, Reply, SendResult
from store.inbox import utc_now
from store.ledger import Claim, Ledger, new_owner
from store.records import Store

log = logging.getLogger(__name__)
REPORT_FAILURES_FOR = timedelta(days=7)  # failures this recent are retried daily and reported to the unit

# What a co-ordinator can do about each refusal, in their words.
FIXES = {
    "not_in_channel": "I am not in {where}: type /invite @Timescales in that channel.",
    "channel_not_found": "{where} does not exist or I cannot see it: check the unit's channel id in "
                         "timescales.toml, and invite me if it is private.",
    "is_archived": "{where} is archived: unarchive it, or give the unit its new channel in timescales.toml.",
    "user_not_found": "I cannot find {where}: check their member id in timescales.toml.",
    "account_inactive": "{where} is no longer active in Slack: name who takes over in timescales.toml.",
    "cannot_dm_bot": "{where} is a bot, not a person: check timescales.toml.",
    "invalid_blocks": "Slack refused the message's layout: this is a fault in Timescales, please report it.",
    "msg_too_long": "Slack refused the message as too long: this is a fault in Timescales, please report it.",
}


@dataclass
class Outcomes:
    """What happened to the messages one pass tried to deliver."""

    delivered: list[tuple[str, str | None]] = field(default_factory=list)  # (batch, Slack ts) not yet marked
    failed: list[str] = field(default_factory=list)  # recipients left for the next sweep
    refused: list[str] = field(default_factory=list)  # recipients Slack refused for good


def settle(ledger: Ledger, batch: str, recipient: str, result: SendResult, outcomes: Outcomes) -> None:
    """Record one delivery's result: sent (marked in bulk by the caller), failed for good, or
    released for the next sweep."""
    if result.ok:
        outcomes.delivered.append((batch, result.ts))
    elif result.permanent:
        ledger.fail(batch, result.error or "refused")
        outcomes.refused.append(recipient)
        log.warning("Slack refused a message to %s for good: %s", recipient, result.error)
    else:
        ledger.release(batch, result.maybe_sent, result.error)
        outcomes.failed.append(recipient)


class Heartbeat:
    """Renews an owner's claims while a long pass runs, so no other sweep takes them over."""

    def __init__(self, ledger: Ledger, owner: str) -> None:
        self.ledger, self.owner = ledger, owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="ledger-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        every = max(1.0, self.ledger.lease.total_seconds() / 3)
        while not self._stop.wait(every):
            try:
                self.ledger.renew(self.owner)
            except Exception:  # the database away for a moment: the next beat tries again
                log.warning("could not renew the sweep's claims", exc_info=True)


def deliver_replies(store: Store, outbox: Outbox, replies: Sequence[Reply], request: str, now: datetime) -> None:
    """Replies to one request, each claimed in the ledger under the request's key first, so a
    request handled again after a crash never replies twice. Those Slack does not take now
    are left released, and the next sweep sends them."""
    if not replies:
        return
    ledger = Ledger(store)
    owner = new_owner()
    # The reply's fields as they are: asdict deep-copies every block, for nothing (nothing changes them).
    batches = {uuid.uuid4().hex: [Claim(f"reply|{request}|{n}", reply.channel, "reply",
                                        payload={f.name: getattr(reply, f.name) for f in fields(reply)})]
               for n, reply in enumerate(replies)}
    won = ledger.claim_batches(batches, now, owner)
    outcomes = Outcomes()
    for batch, claims in won.items():
        reply = Reply(**claims[0].payload)  # type: ignore[arg-type]
        settle(ledger, batch, reply.channel, outbox.deliver(reply.channel, Message(batch, reply=reply)), outcomes)
    ledger.sent_batches(outcomes.delivered, now)


def report_failures(store: Store, ledger: Ledger, outbox: Outbox, now: datetime,
                    owner: str, outcomes: Outcomes) -> int:
    """Each unit's co-ordinator and team manager hear what could not be delivered and what to
    do, from the sweep that marks the first failure, then at most once a day while failures
    remain. Returns how many reports went out."""
    failures = ledger.failures(utc_now() - REPORT_FAILURES_FOR)
    if not failures:
        return 0
    units = {u.id: u for u in store.units()}
    by_unit: dict[str, list[str]] = {}
    for failure in failures:
        where = f"<#{failure.recipient}>" if failure.recipient.startswith(("C", "G")) else f"<@{failure.recipient}>"
        fix = FIXES.get(failure.error, "Slack said '{error}'.").format(where=where, error=failure.error)
        line = (f"• {failure.messages} message{'s' if failure.messages > 1 else ''} to {where} since "
                f"{failure.since.astimezone(LONDON):%a %-d %b %H:%M}: {fix}")
        for unit_id in _units_of(store, failure.recipient, failure.deadlines):
            by_unit.setdefault(unit_id, []).append(line)
    today = now.astimezone(LONDON).date().isoformat()
    batches: dict[str, list[Claim]] = {}
    for unit_id, lines in sorted(by_unit.items()):
        unit = units.get(unit_id)
        if unit is None:
            continue
        text = "\n".join([f"*Timescales could not deliver some messages for {unit.name}*", *lines,
                          "I try each again once a day; what is fixed goes out then."])
        for person in sorted(unit.people.get("coordinator", set()) | unit.people.get("team_manager", set())):
            batch = uuid.uuid4().hex
            batches[batch] = [Claim(f"failure_report|{unit_id}|{today}|{person}", person, "failure_report",
                                    payload={"text": text})]
    won = ledger.claim_batches(batches, now, owner)
    for batch, claims in won.items():
        recipient = claims[0].recipient
        if ledger.hold(batch, owner):
            message = Message(batch, text=str((claims[0].payload or {})["text"]))
            settle(ledger, batch, recipient, outbox.deliver(recipient, message), outcomes)
    return len(won)


def _units_of(store: Store, recipient: str, deadlines: frozenset[str]) -> list[str]:
    """The units a failed message was for: the channel's unit, else the units of its
    deadlines, else the units its recipient works in."""
    if unit := store.unit_for_channel(recipient):
        return [unit]
    found = sorted({u for d in deadlines if (u := store.child_unit(d.split(":")[0]))})
    return found or sorted(store.roles_of(recipient))[:1]
