"""The sweep: one pass that sends every reminder, escalation, weekly agenda and
manager digest that has come due and is not yet sent. The scheduler runs it
every five minutes; `timescales sweep --now ISO` runs exactly this.

Exactly once: each message is claimed in the ledger (a unique key per deadline,
step, due date and recipient) under this sweep's lease before it is sent, and
marked sent only when Slack said ok. A sweep that is still running holds its
claims (a heartbeat renews them), so an overlapping sweep never takes them; one
that died leaves them to be taken over when the lease runs out, and the next
sweep looks in Slack's recent history for the message (its metadata carries the
batch id) and sends it only if it is not there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar, add_months, end_of_day
from rules.config import WEEKDAYS, Config
from scheduler.delivery import REPORT_FAILURES_FOR, Heartbeat, Outcomes, report_failures, settle
from scheduler.notices import REMINDERS, STEPS, Policy, days_late, is_working_time, steps_for
from scheduler.outbox import Message, Notice, Outbox, Reply
from store.inbox import Inbox, utc_now
from store.ledger import CANDIDATE_BATCH, Claim, Ledger, Stranded, new_owner
from store.models import DeadlineRecord
from store.people import Away, People
from store.records import Store, UnitPeople, collector_held_back
from store.reports import timeliness_report

MANAGERS = ("team_manager", "service_manager", "head_of_service")
KEEP_HANDLED_REQUESTS = timedelta(days=1)  # the inbox's handled requests, for looking into a fault
NO_MORE_NOTICES = datetime(9999, 1, 1, tzinfo=UTC)  # a bookmark: every step of the deadline has gone out


@dataclass
class SweepReport:
    messages: dict[str, Message] = field(default_factory=dict)  # recipient -> what was sent
    failed: list[str] = field(default_factory=list)  # left for the next sweep (Slack down, rate limits)
    refused: list[str] = field(default_factory=list)  # refused by Slack for good: marked failed, reported
    skipped: int = 0
    busy: bool = False  # another process was sweeping: this one sent nothing
    recovered: int = 0
    forgotten: int = 0  # message texts and unanswered questions past retention_days, removed
    failure_reports: int = 0


@dataclass
class _Outgoing:
    claims: list[Claim] = field(default_factory=list)
    message: Message = field(default_factory=lambda: Message(batch=uuid.uuid4().hex))
    agenda_of: str | None = None  # the unit whose weekly agenda goes in it, read when it is sent

    def ready(self, store: Store, now: datetime, won: set[str]) -> Message:
        """The message with its agenda read from the store when this sweep won it: one unit's
        at a time, just before it goes (a service's agendas read at once held every child's
        items in memory)."""
        if self.agenda_of is not None and self.message.agenda is None and any(k.startswith("agenda|") for k in won):
            self.message.agenda = store.agenda(self.agenda_of, now - timedelta(days=7), now)
        return self.message


def sweep(store: Store, outbox: Outbox, config: Config, now: datetime, policy: Policy | None = None,
          dry_run: bool = False) -> SweepReport:
    with collector_held_back():  # a service's rows, read in bulk, make no cycles worth collecting
        return _sweep(store, outbox, config, now, policy, dry_run)


def _sweep(store: Store, outbox: Outbox, config: Config, now: datetime, policy: Policy | None,
           dry_run: bool) -> SweepReport:
    policy = policy or Policy.from_config(config)
    ledger = Ledger(store, timedelta(seconds=config.reminders.claim_lease_seconds))
    report = SweepReport()
    if dry_run:
        _due_messages(store, ledger, config, policy, now, report, dry_run=True)
        return report
    owner = new_owner()
    outcomes = Outcomes()
    with ledger.sweeping(owner) as mine:
        if not mine:  # another process is sweeping: this one only answers Slack
            report.busy = True
            return report
        with Heartbeat(ledger, owner):
            _forget(store, ledger, config, now, report)
            working = is_working_time(store.calendar, policy, now)
            if working:
                _retry_failures_daily(ledger, now)
            report.recovered = _recover(store, ledger, outbox, now, owner, outcomes)
            _due_messages(store, ledger, config, policy, now, report, owner=owner, outbox=outbox, outcomes=outcomes)
            if working:
                report.failure_reports = report_failures(store, ledger, outbox, now, owner, outcomes)
            ledger.sent_batches(outcomes.delivered, now)
        ledger.mark("last_sweep", utc_now())
    report.failed += outcomes.failed
    report.refused += outcomes.refused
    return report


def _forget(store: Store, ledger: Ledger, config: Config, now: datetime, report: SweepReport) -> None:
    """What is kept only for a while (SPEC section 8): people's words past retention_days,
    and the inbox's handled requests."""
    before = now - timedelta(days=config.retention_days)
    report.forgotten = store.forget_words(before) + ledger.forget_replies(before)
    Inbox(store.engine).forget(utc_now() - KEEP_HANDLED_REQUESTS)


def _retry_failures_daily(ledger: Ledger, now: datetime) -> None:
    """Messages Slack refused for good get one more try a day (the channel may have been
    fixed), for REPORT_FAILURES_FOR; the recovery below sends them."""
    today = now.astimezone(LONDON).date().isoformat()
    last = ledger.marked("failures_retried")
    if last is None or last.value != today:
        ledger.revive_failed(utc_now() - REPORT_FAILURES_FOR)
        ledger.mark("failures_retried", utc_now(), today)


def _due_messages(store: Store, ledger: Ledger, config: Config, policy: Policy, now: datetime, report: SweepReport,
                  dry_run: bool = False, owner: str | None = None, outbox: Outbox | None = None,
                  outcomes: Outcomes | None = None) -> None:
    """Everything that has come due and is not in the ledger yet: claimed, then sent.

    The open deadlines are read in bounded batches, and only those the sweep has not seen
    since they were written or whose bookmark has come (`Ledger.noticed`): a sweep costs
    what is due, not the caseload. What is already in the ledger is dropped batch by batch,
    so only what is new is held until it is sent, grouped one message per recipient."""
    calendar = store.calendar
    today = now.astimezone(LONDON).date()
    working = is_working_time(calendar, policy, now)
    outgoing: dict[str, _Outgoing] = {}
    overtaken: list[Claim] = []
    # Whom to tell comes from the database (the config as `db upgrade` last loaded it),
    # like who may see what: an edited timescales.toml changes neither until then.
    units = store.units()
    by_id = {u.id: u for u in units}
    people = People(store)
    away = people.away_on(today)
    first_due = today - timedelta(days=21)
    # The bookmarks hold while whom to tell and when stay the same; when they change, every
    # deadline is looked at again (a cover starting today gets what is meant for the person away).
    basis = _recipients_basis(units, away, policy, calendar)
    fresh = ledger.marked("sweep_basis")
    since_changed = fresh is None or fresh.value != basis
    if since_changed and not dry_run:
        ledger.forget_bookmarks(first_due)
    marks: list[tuple[DeadlineRecord, datetime]] = []

    for batch in ledger.candidates(first_due, today + timedelta(days=10), None if since_changed and dry_run else now):
        leads = people.leads([c.deadline.child for c in batch])
        found: list[tuple[DeadlineRecord, str, str, bool, str | None]] = []  # deadline, step, recipient, urgent, why
        skips: list[Claim] = []
        for candidate in batch:
            d = candidate.deadline
            unit = by_id.get(d.unit_id)
            latest: dict[str, tuple[str, bool, str | None]] = {}  # recipient -> (step, urgent, why them)
            next_at = NO_MORE_NOTICES
            due, due_at, one_off = _chased(store, d)
            for step in steps_for(due, due_at, d.hours_based, d.timescale, calendar, policy):
                if step.at > now:
                    next_at = min(next_at, step.at)
                    continue
                if step.name in REMINDERS and candidate.created_at and step.at < candidate.created_at:
                    continue
                # Told of after the fact (an import): nothing that would have gone before, and no
                # escalation at all for a one-off task that was overdue already (SPEC section 9).
                before_import = d.known_from is not None and (step.at < d.known_from or one_off)
                for meant in _recipients(step.name, candidate.channel, d.responsible, unit.people if unit else {}):
                    recipient, why = stand_in(meant, unit, away)
                    if before_import:  # it would have gone before the bot knew: recorded as skipped
                        skips.append(_claim(d, step.name, recipient))
                        continue
                    if recipient in latest:
                        skips.append(_claim(d, latest[recipient][0], recipient))
                    latest[recipient] = (step.name, step.urgent, why)
            for recipient, (step_name, urgent, why) in latest.items():
                if working or urgent:
                    found.append((d, step_name, recipient, urgent, why))
                else:  # out of hours: looked at again by the next sweep
                    next_at = now
            marks.append((d, next_at))
        known = ledger.known([_claim(d, step, recipient).key for d, step, recipient, _, _ in found]
                             + [c.key for c in skips])
        overtaken += [c for c in skips if c.key not in known]
        for d, step_name, recipient, _urgent, why in found:
            claim = _claim(d, step_name, recipient)
            if claim.key in known:
                continue
            lead = leads.get(d.child)
            lead_cover = away[lead].cover if lead in away else None
            entry = outgoing.setdefault(recipient, _Outgoing())
            entry.claims.append(claim)
            entry.message.notices.append(Notice(d, step_name, days_late(calendar, d.due, today), lead, lead_cover))
            if why and why not in entry.message.notes:
                entry.message.notes.append(why)

    reports: dict[str, _Outgoing] = {}
    if working:
        _agendas(store, ledger, config, units, now, outgoing, away)
        _digests(store, ledger, units, policy, now, outgoing, away)
        _monthly_reports(store, ledger, units, now, reports)

    entries = [*sorted(outgoing.items()), *sorted(reports.items())]
    wanted = {e.message.batch: e.claims for _, e in entries}
    if dry_run:
        for recipient, entry in entries:
            if wanted.get(entry.message.batch):
                keys = {c.key for c in wanted[entry.message.batch]}
                report.messages[recipient] = _only(entry.ready(store, now, keys), keys, recipient, today)
        return
    assert owner is not None and outbox is not None and outcomes is not None
    ledger.skip(overtaken, now)
    report.skipped = len(overtaken)
    won = ledger.claim_batches(wanted, now, owner)  # one transaction for the lot
    # Bookmarked once claimed: a sweep cut short before this looks at them again.
    for start in range(0, len(marks), CANDIDATE_BATCH):
        ledger.noticed(marks[start:start + CANDIDATE_BATCH])
    if since_changed:
        ledger.mark("sweep_basis", utc_now(), basis)
    for recipient, entry in entries:
        claims = won.get(entry.message.batch)
        if not claims or not ledger.hold(entry.message.batch, owner):
            continue
        keys = {c.key for c in claims}
        message = _only(entry.ready(store, now, keys), keys, recipient, today)
        settle(ledger, message.batch, recipient, outbox.deliver(recipient, message), outcomes)
        entry.message.agenda = None  # sent or left for the next sweep: let go
        if outcomes.delivered and outcomes.delivered[-1][0] == message.batch:
            report.messages[recipient] = replace(message, agenda=None)  # what was sent, less the agenda's children
        if len(outcomes.delivered) >= 50:  # a crash before this is marked is found again in Slack's history
            ledger.sent_batches(outcomes.delivered, now)
            outcomes.delivered.clear()


def _recipients_basis(units: list[UnitPeople], away: dict[str, Away], policy: Policy,
                      calendar: WorkingCalendar) -> str:
    """A fingerprint of whom the sweep tells and when: the units' people, who is away and
    who covers, the reminder policy, and the bank holidays its working days count over (a
    recompute leaves a deadline whose due date a new holiday does not move as it was, but
    its reminder two working days before may move)."""
    basis = {"units": [[u.id, u.channel, {role: sorted(p) for role, p in sorted(u.people.items())}] for u in units],
             "away": sorted([a.who, a.cover or "", a.last_day.isoformat()] for a in away.values()),
             "policy": repr(policy), "bank_holidays": sorted(d.isoformat() for d in calendar.bank_holidays)}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def _chased(store: Store, d: DeadlineRecord) -> tuple[date, datetime, bool]:
    """The due date the notices count from, and whether it is a one-off task overdue at
    import (never chased). A recurring task (visits, core groups) overdue at import is
    chased from the import on, as if it fell due then: its deadline says how late it is,
    but a child's visits are never left unwatched because the file had no visit in it."""
    if not d.overdue_at_import or d.known_from is None:
        return d.due, d.due_at, False
    rule = store.pack.compiled.get(d.rule)
    if rule is None or not rule.recurs:
        return d.due, d.due_at, True
    known = d.known_from.astimezone(LONDON)
    return known.date(), known if d.hours_based else end_of_day(known.date()), False


def _claim(d: DeadlineRecord, step: str, recipient: str) -> Claim:
    # The due date is in the key: a re-booked meeting's deadline gets its reminders again.
    return Claim(f"{d.id}|{step}|{d.due.isoformat()}|{recipient}", recipient, step, d.id)


def stand_in(meant: str, unit: UnitPeople | None, away: dict[str, Away]) -> tuple[str, str | None]:
    """Who gets what is meant for `meant` today, and why them when it is not `meant`: the
    person covering for them (when that person is in the unit: cover opens no wall), else,
    for a manager away with no cover, the next manager up (SPEC section 12)."""
    if meant not in away or unit is None:
        return meant, None
    leave = away[meant]
    until = f"{leave.last_day:%a} {leave.last_day.day} {leave.last_day:%b}"
    if leave.cover and any(leave.cover in people for people in unit.people.values()):
        return leave.cover, f"You are covering for <@{meant}>, away until {until}."
    held = [role for role in MANAGERS if meant in unit.people.get(role, set())]
    above = MANAGERS[MANAGERS.index(held[0]) + 1:] if held else ("team_manager",)
    for role in above:
        for person in sorted(unit.people.get(role, set())):
            if person not in away:
                return person, f"<@{meant}> is away until {until} with nobody named to cover, so this comes to you."
    return meant, None


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
    # In the deadlines' id order before the sort (the order it breaks ties in), whatever
    # order the sweep read them in.
    notices = sorted((n for n in message.notices if _claim(n.deadline, n.step, recipient).key in won),
                     key=lambda n: n.deadline.id)
    named = {n.deadline.id for n in notices}
    notices += [n for n in message.notices if digest and n.step == "digest" and n.deadline.id not in named]
    notices.sort(key=lambda n: (-n.days_late, n.deadline.due, STEPS.index(n.step) if n.step in STEPS else 99))
    agenda = message.agenda if any(k.startswith("agenda|") for k in won) else None
    if message.report is not None:
        return message
    more = message.more - len(message.more_named & named) if digest else 0  # the digest's rest, counted
    return Message(message.batch, notices, agenda, message.unit_name, today, notes=message.notes,
                   away=message.away if agenda is not None else [], more=more)


def _agendas(store: Store, ledger: Ledger, config: Config, units: list[UnitPeople], now: datetime,
             outgoing: dict[str, _Outgoing], away: dict[str, Away]) -> None:
    """Each unit's weekly agenda, from the morning of its meeting day (default Monday 09:00);
    built only when the ledger does not have it yet."""
    local = now.astimezone(LONDON)
    monday = local.date() - timedelta(days=local.weekday())
    week = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
    meetings = {u.id: u for u in config.units}
    due = []
    for unit in units:
        meeting = meetings.get(unit.id)
        day = monday + timedelta(days=WEEKDAYS.index(meeting.meeting_day if meeting else "monday"))
        moment = datetime.combine(day, time.fromisoformat(meeting.agenda_time if meeting else "09:00"), tzinfo=LONDON)
        if local >= moment:
            due.append((unit, Claim(f"agenda|{unit.id}|{week}", unit.channel, "agenda")))
    known = ledger.known(claim.key for _, claim in due)
    for unit, claim in due:
        if claim.key in known:
            continue
        entry = outgoing.setdefault(unit.channel, _Outgoing())
        entry.claims.append(claim)
        entry.agenda_of = unit.id
        entry.message.unit_name = unit.name
        members = set().union(*unit.people.values()) if unit.people else set()
        entry.message.away = [
            f"<@{a.who}> is away until {a.last_day:%a} {a.last_day.day} {a.last_day:%b}"
            + (f", <@{a.cover}> covering" if a.cover else ", nobody named to cover")
            for a in sorted(away.values(), key=lambda a: a.who) if a.who in members]


def _monthly_reports(store: Store, ledger: Ledger, units: list[UnitPeople], now: datetime,
                     reports: dict[str, _Outgoing]) -> None:
    """Each service manager and head of service gets last month's timeliness report for the
    units they manage, on the first working day of the month, once (the ledger's key)."""
    today = now.astimezone(LONDON).date()
    first = today.replace(day=1)
    if today != (first if store.calendar.is_working_day(first) else store.calendar.add_working_days(first, 1)):
        return
    start, end = add_months(first, -1), first - timedelta(days=1)
    managed: dict[str, dict[str, str]] = {}
    for unit in units:
        for role in ("service_manager", "head_of_service"):
            for person in unit.people.get(role, set()):
                managed.setdefault(person, {})[unit.id] = unit.name
    known = ledger.known(f"report|{person}|{start:%Y-%m}" for person in managed)
    for person, names in sorted(managed.items()):
        claim = Claim(f"report|{person}|{start:%Y-%m}", person, "report")
        if claim.key in known:
            continue
        entry = reports.setdefault(person, _Outgoing())
        entry.claims.append(claim)
        entry.message.report = timeliness_report(store, names, start, end, today)


def _digests(store: Store, ledger: Ledger, units: list[UnitPeople], policy: Policy, now: datetime,
             outgoing: dict[str, _Outgoing], away: dict[str, Away]) -> None:
    if now.astimezone(LONDON).time() < policy.digest_time:
        return
    today = now.astimezone(LONDON).date()
    # Each manager's daily digest: everything overdue in the units they lead or manage, as it
    # stood when the day began (what falls overdue today is escalated as it happens).
    units_of: dict[str, set[str]] = {}
    whys: dict[str, set[str]] = {}
    for unit in units:
        for role in MANAGERS:
            for person in unit.people.get(role, set()):
                recipient, why = stand_in(person, unit, away)
                units_of.setdefault(recipient, set()).add(unit.id)
                if why:
                    whys.setdefault(recipient, set()).add(why)
    # Built only for those whose digest the ledger does not have yet: once a day each.
    key = f"digest|{{}}|{today.isoformat()}"
    known = ledger.known(key.format(user) for user in units_of)
    units_of = {user: managed for user, managed in units_of.items() if key.format(user) not in known}
    if not units_of:
        return
    # Counted in the database, with the first few of each unit: a head of service over 20
    # units has thousands overdue, and the message lists only the most late (the rest are
    # counted). A deadline this message names for another step is not listed twice.
    named = {user: {n.deadline.id: n.deadline for n in outgoing[user].message.notices}
             for user in units_of if user in outgoing}
    eligible = {user: {d.id for d in deadlines.values() if _in_digest(d, units_of[user], now)}
                for user, deadlines in named.items()}
    # Each unit's first DIGEST_FIRST, and as many more as any of its managers' messages name.
    first = {unit: DIGEST_FIRST + max((sum(1 for i in eligible.get(user, ()) if named[user][i].unit_id == unit)
                                       for user, managed in units_of.items() if unit in managed), default=0)
             for unit in set().union(*units_of.values())}
    counts, firsts = store.overdue_since_yesterday(sorted(first), now, first)
    for user, managed in sorted(units_of.items()):
        overdue = sum(counts.get(unit, (0, 0))[0] for unit in managed)
        at_import = sum(counts.get(unit, (0, 0))[1] for unit in managed)
        if not overdue and not at_import:
            continue
        mine = eligible.get(user, set())
        carried: list[DeadlineRecord] = []  # the most late, up to DIGEST_FIRST not named already
        fresh = 0
        for d in sorted((d for unit in managed for d in firsts.get(unit, [])),
                        key=lambda d: (d.due, d.unit_id, d.due_at, d.child, d.id)):
            if fresh == DIGEST_FIRST:
                break
            carried.append(d)
            fresh += d.id not in mine
        entry = outgoing.setdefault(user, _Outgoing())
        entry.claims.append(Claim(f"digest|{user}|{today.isoformat()}", user, "digest"))
        entry.message.notes += sorted(whys.get(user, set()) - set(entry.message.notes))
        if at_import:  # SPEC 9: counted on one line, not listed
            counted = f"{at_import} more" if carried else \
                f"*Timescales: daily digest.* {at_import} deadline{'' if at_import == 1 else 's'} in your units"
            entry.message.notes.append(f"{counted} {'was' if at_import == 1 else 'were'} already overdue when "
                                       "the caseload was imported: see \"what's overdue\" or the weekly agenda.")
        entry.message.notices += [Notice(d, "digest", days_late(store.calendar, d.due, today)) for d in carried]
        listed = {d.id for d in carried}
        entry.message.more = overdue - len(carried)
        entry.message.more_named = frozenset(mine - listed)


DIGEST_FIRST = 50  # a digest's lines carried in the message; more than a message shows, the rest counted


def _in_digest(d: DeadlineRecord, units: set[str], now: datetime) -> bool:
    """Whether a deadline is among a digest's over these units (Store.overdue_since_yesterday)."""
    return (d.unit_id in units and d.state == "open" and d.due < now.astimezone(LONDON).date()
            and not d.overdue_at_import)


def _recover(store: Store, ledger: Ledger, outbox: Outbox, now: datetime, owner: str,
             outcomes: Outcomes) -> int:
    """Claims nobody holds (a crash, an outage, a reply Slack did not take, a failure given
    its daily try): sent now, unless Slack already has them."""
    recovered = 0
    today = now.astimezone(LONDON).date()
    units = {u.id: u for u in store.units()}
    for stranded in ledger.stranded(owner):
        recipient = stranded.rows[0].recipient
        message = _rebuilt(store, units, stranded, today, now)
        if message is None:
            ledger.sent(stranded.batch, None, now)  # everything in it was done meanwhile: nothing left to say
            continue
        if not ledger.hold(stranded.batch, owner):
            continue
        before = len(outcomes.delivered)
        settle(ledger, stranded.batch, recipient, outbox.deliver(recipient, message, stranded.look_first), outcomes)
        recovered += len(outcomes.delivered) - before
    return recovered


def _rebuilt(store: Store, units: dict[str, UnitPeople], stranded: Stranded, today: date,
             now: datetime) -> Message | None:
    """A stranded batch's message as it should read now; None when nothing in it is left
    to say (its deadlines were met meanwhile, or the child moved to another unit)."""
    recipient = stranded.rows[0].recipient
    message = Message(stranded.batch, today=today)
    for row in stranded.rows:
        if row.step == "reply" and row.payload:
            return Message(stranded.batch, reply=Reply(**row.payload))
        if row.step == "failure_report" and row.payload:
            return Message(stranded.batch, text=str(row.payload["text"]))
        if row.deadline_id:
            record = next((d for d in store.child_deadlines(row.deadline_id.split(":")[0])
                           if d.id == row.deadline_id), None)
            if record is not None and record.state == "open" and _still_for(recipient, units.get(record.unit_id)):
                message.notices.append(Notice(record, row.step, days_late(store.calendar, record.due, today)))
        elif row.step == "agenda":
            unit = units.get(row.key.split("|")[1])
            if unit:
                message.agenda, message.unit_name = store.agenda(unit.id, now - timedelta(days=7), now), unit.name
        elif row.step == "report":  # report|person|YYYY-MM: worked out again as it stands
            month = date.fromisoformat(row.key.split("|")[2] + "-01")
            names = {u.id: u.name for u in units.values()
                     if recipient in u.people.get("service_manager", set()) | u.people.get("head_of_service", set())}
            return Message(stranded.batch, today=today, report=timeliness_report(
                store, names, month, add_months(month, 1) - timedelta(days=1), today))
        elif row.step == "digest":
            counts, firsts = store.overdue_since_yesterday(store.units_for(recipient), now, DIGEST_FIRST)
            carried = sorted((d for found in firsts.values() for d in found),
                             key=lambda d: (d.due, d.unit_id, d.due_at, d.child, d.id))[:DIGEST_FIRST]
            message.notices += [Notice(d, "digest", days_late(store.calendar, d.due, today)) for d in carried]
            message.more += sum(overdue for overdue, _ in counts.values()) - len(carried)
    return message if message.notices or message.agenda is not None else None


def _still_for(recipient: str, unit: UnitPeople | None) -> bool:
    """Whether a deadline of `unit`'s may still go to `recipient` (after a transfer, the
    old unit's channel and people hear nothing more of the child)."""
    return unit is not None and (recipient == unit.channel or any(recipient in p for p in unit.people.values()))
