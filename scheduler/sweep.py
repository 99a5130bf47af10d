"""The sweep: one pass that sends every reminder, escalation, weekly agenda and
manager digest that has come due and is not yet sent. The scheduler runs it
every five minutes; `timescales sweep --now ISO` runs exactly this.

Exactly once: each message is claimed in the ledger (a unique key per deadline,
step, due date and recipient) before it is sent, and marked sent only when
Slack said ok. A crash between the two leaves the claim; the next sweep finds
it, looks in Slack's recent history for the message (its metadata carries the
batch id) and sends it only if it is not there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar
from rules.config import WEEKDAYS, Config, UnitConfig
from scheduler.notices import REMINDERS, STEPS, Policy, days_late, is_working_time, steps_for
from scheduler.outbox import Message, Notice, Outbox
from store.ledger import Claim, Ledger
from store.models import DeadlineRecord
from store.records import DueItem, Store

MANAGERS = ("team_manager", "service_manager", "head_of_service")
STRANDED_AFTER = timedelta(minutes=2)  # a claim this old and unsent was left by a crash or an outage


@dataclass
class SweepReport:
    messages: dict[str, Message] = field(default_factory=dict)  # recipient -> what was sent
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    recovered: int = 0
    forgotten: int = 0  # message texts and unanswered questions past retention_days, removed


@dataclass
class _Outgoing:
    claims: list[Claim] = field(default_factory=list)
    message: Message = field(default_factory=lambda: Message(batch=uuid.uuid4().hex))


def sweep(store: Store, outbox: Outbox, config: Config, now: datetime, policy: Policy | None = None,
          dry_run: bool = False) -> SweepReport:
    policy = policy or Policy.from_config(config)
    calendar = store.calendar
    ledger = Ledger(store)
    report = SweepReport()
    if not dry_run:
        report.forgotten = store.forget_words(now - timedelta(days=config.retention_days))
        report.recovered = _recover(store, ledger, outbox, config, calendar, now)
    today = now.astimezone(LONDON).date()
    working = is_working_time(calendar, policy, now)
    outgoing: dict[str, _Outgoing] = {}
    overtaken: list[Claim] = []
    members = {u.id: _people(u) for u in config.units}

    for candidate in ledger.candidates(today - timedelta(days=21), today + timedelta(days=10)):
        d = candidate.deadline
        latest: dict[str, tuple[str, bool]] = {}  # recipient -> (step, urgent)
        for step in steps_for(d.due, d.due_at, d.hours_based, d.timescale, calendar, policy):
            if step.at > now or (step.name in REMINDERS and candidate.created_at and step.at < candidate.created_at):
                continue
            for recipient in _recipients(step.name, candidate.channel, d.responsible, members.get(d.unit_id, {})):
                if recipient in latest:
                    overtaken.append(_claim(d, latest[recipient][0], recipient))
                latest[recipient] = (step.name, step.urgent)
        for recipient, (step_name, urgent) in latest.items():
            if working or urgent:
                entry = outgoing.setdefault(recipient, _Outgoing())
                entry.claims.append(_claim(d, step_name, recipient))
                entry.message.notices.append(Notice(d, step_name, days_late(calendar, d.due, today)))

    if working:
        _agendas(store, config, now, outgoing)
        _digests(store, config, policy, now, outgoing)

    known = ledger.known([c.key for entry in outgoing.values() for c in entry.claims] + [c.key for c in overtaken])
    if not dry_run:
        fresh_overtaken = [c for c in overtaken if c.key not in known]
        ledger.skip(fresh_overtaken, now)
        report.skipped = len(fresh_overtaken)
    wanted = {e.message.batch: [c for c in e.claims if c.key not in known] for e in outgoing.values()}
    won = wanted if dry_run else ledger.claim_batches(wanted, now)  # one transaction for the lot
    delivered: list[tuple[str, str | None]] = []
    for recipient, entry in sorted(outgoing.items()):
        claims = won.get(entry.message.batch)
        if not claims:
            continue
        message = _only(entry.message, {c.key for c in claims}, recipient, today)
        if not dry_run:
            result = outbox.deliver(recipient, message)
            if not result.ok:
                report.failed.append(recipient)  # stays claimed: the next sweep sends it
                continue
            delivered.append((message.batch, result.ts))
            if len(delivered) >= 50:  # a crash before this is marked is found again in Slack's history
                ledger.sent_batches(delivered, now)
                delivered = []
        report.messages[recipient] = message
    if delivered:
        ledger.sent_batches(delivered, now)
    return report


def _people(unit: UnitConfig) -> dict[str, set[str]]:
    people = {role: {getattr(unit, role)} for role in (*MANAGERS, "child_protection_lead") if getattr(unit, role)}
    return people


def _claim(d: DeadlineRecord, step: str, recipient: str) -> Claim:
    # The due date is in the key: a re-booked meeting's deadline gets its reminders again.
    return Claim(f"{d.id}|{step}|{d.due.isoformat()}|{recipient}", recipient, step, d.id)


def _recipients(step: str, channel: str, responsible: list[str], people: dict[str, set[str]]) -> list[str]:
    if step in REMINDERS:
        return [channel]
    if step == "overdue":
        extra = people.get("child_protection_lead", set()) if "CPL" in responsible else set()
        return [channel, *sorted(people.get("team_manager", set()) | extra)]
    role = {"sm": "service_manager", "hos": "head_of_service"}[step]
    return sorted(people.get(role, set()))


def _only(message: Message, won: set[str], recipient: str, today: date) -> Message:
    """The message cut down to the claims this sweep won, most late first; a digest
    line is left out where the deadline is already in the message."""
    digest = any(k.startswith("digest|") for k in won)
    notices = [n for n in message.notices
               if _claim(n.deadline, n.step, recipient).key in won]
    named = {n.deadline.id for n in notices}
    notices += [n for n in message.notices if digest and n.step == "digest" and n.deadline.id not in named]
    notices.sort(key=lambda n: (-n.days_late, n.deadline.due, STEPS.index(n.step) if n.step in STEPS else 99))
    agenda = message.agenda if any(k.startswith("agenda|") for k in won) else None
    return Message(message.batch, notices, agenda, message.unit_name, today)


def _agendas(store: Store, config: Config, now: datetime, outgoing: dict[str, _Outgoing]) -> None:
    """Each unit's weekly agenda, from the morning of its meeting day (default Monday 09:00)."""
    local = now.astimezone(LONDON)
    monday = local.date() - timedelta(days=local.weekday())
    for unit in config.units:
        day = monday + timedelta(days=WEEKDAYS.index(unit.meeting_day))
        moment = datetime.combine(day, time.fromisoformat(unit.agenda_time), tzinfo=LONDON)
        if local < moment:
            continue
        week = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
        entry = outgoing.setdefault(unit.channel, _Outgoing())
        entry.claims.append(Claim(f"agenda|{unit.id}|{week}", unit.channel, "agenda"))
        entry.message.agenda = store.agenda(unit.id, now - timedelta(days=7), now)
        entry.message.unit_name = unit.name


def _digests(store: Store, config: Config, policy: Policy, now: datetime, outgoing: dict[str, _Outgoing]) -> None:
    if now.astimezone(LONDON).time() < policy.digest_time:
        return
    today = now.astimezone(LONDON).date()
    # Each manager's daily digest: everything overdue in the units they lead or manage, as it
    # stood when the day began (what falls overdue today is escalated as it happens).
    units_of: dict[str, set[str]] = {}
    for unit in config.units:
        for role in MANAGERS:
            if getattr(unit, role):
                units_of.setdefault(getattr(unit, role), set()).add(unit.id)
    overdue_by_unit: dict[str, list[DueItem]] = {}
    for item in store.due([u.id for u in config.units], now, overdue_only=True):  # one query for every unit
        if item.record.due < today:
            overdue_by_unit.setdefault(item.record.unit_id, []).append(item)
    for user, units in sorted(units_of.items()):
        overdue = [i for unit in sorted(units) for i in overdue_by_unit.get(unit, [])]
        if not overdue:
            continue
        entry = outgoing.setdefault(user, _Outgoing())
        entry.claims.append(Claim(f"digest|{user}|{today.isoformat()}", user, "digest"))
        entry.message.notices += [Notice(i.record, "digest", days_late(store.calendar, i.record.due, today))
                                  for i in overdue]


def _recover(store: Store, ledger: Ledger, outbox: Outbox, config: Config, calendar: WorkingCalendar,
             now: datetime) -> int:
    """Claims a crash or an outage left unsent: sent now, unless Slack already has them."""
    recovered = 0
    today = now.astimezone(LONDON).date()
    units = {u.id: u for u in config.units}
    for batch, rows in ledger.stranded(now - STRANDED_AFTER, now).items():
        recipient = rows[0].recipient
        found = outbox.sender.find(recipient, batch)
        if found:
            ledger.sent(batch, found, now)
            recovered += 1
            continue
        message = Message(batch, today=today)
        for row in rows:
            if row.deadline_id:
                record = next((d for d in store.child_deadlines(row.deadline_id.split(":")[0]) if d.id == row.deadline_id), None)
                if record is not None and record.state == "open":
                    message.notices.append(Notice(record, row.step, days_late(calendar, record.due, today)))
            elif row.step == "agenda":
                unit = units.get(row.key.split("|")[1])
                if unit:
                    message.agenda, message.unit_name = store.agenda(unit.id, now - timedelta(days=7), now), unit.name
            elif row.step == "digest":
                message.notices += [Notice(i.record, "digest", days_late(calendar, i.record.due, today))
                                    for i in store.due(store.units_for(recipient), now, overdue_only=True)]
        if not message.notices and message.agenda is None:
            ledger.sent(batch, None, now)  # everything in it was done meanwhile: nothing left to say
            continue
        result = outbox.deliver(recipient, message)
        if result.ok:
            ledger.sent(batch, result.ts, now)
            recovered += 1
    return recovered
