"""Importing a unit's caseload (SPEC section 9): all or nothing, the same file twice
changes nothing, and every imported event is history the bot was told after the fact
(the `imported` detail), so what fell due before the import is overdue at import and
nothing before it is sent or counted as met late."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from rules.caseload import Caseload, CaseloadRow, Problem
from rules.engine import child_deadlines, current_events
from rules.model import Event
from rules.pack import IMPORTED
from store.models import Child, DeadlineRecord, EventRecord, LeadChange
from store.people import People
from store.records import DueItem, Store, is_overdue

IMPORT_CHANNEL = "import"  # where imported events say they came from (no Slack channel is named so)


@dataclass
class ImportResult:
    stored: bool
    children: int
    events: int  # new events (those already recorded are not counted again)
    problems: list[Problem] = field(default_factory=list)
    new_leads: list[str] = field(default_factory=list)  # children whose lead the file changes (or sets)
    deadlines: list[dict[str, Any]] = field(default_factory=list)  # every open deadline of these children

    def as_json(self) -> dict[str, object]:
        return {"stored": self.stored, "children": self.children, "events": self.events, "new_leads": self.new_leads,
                "problems": [p.as_json() for p in self.problems],
                "overdue_at_import": [d for d in self.deadlines if d["overdue_at_import"]],
                "deadlines": self.deadlines}


def _same(child: str, event: str, status: str, day: object) -> tuple[object, ...]:
    """What makes two events the same fact, however they were recorded: the same event for
    the same child on the same day (another time or detail for it is the same meeting)."""
    return child, event, status, day


def import_caseload(store: Store, caseload: Caseload, unit: str | None, by: str, at: datetime, source: str,
                    dry_run: bool = False, allowed_units: Iterable[str] | None = None) -> ImportResult:
    """Check the file against the store, then store every new event and lead in one
    transaction (or, in a dry run, work out what that would give). `allowed_units`: the
    units this person may import into (in Slack, the channel's)."""
    problems = list(caseload.problems)
    known = set(store.unit_names()) if allowed_units is None else set(allowed_units)
    holders = store.holders(caseload.children)
    units: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    for child, person in caseload.children.items():
        wanted = person.unit or unit
        if wanted is None:
            problems.append(Problem(person.line, "unit", "no unit: add a unit column or give --unit"))
            continue
        if unit and person.unit and person.unit != unit:
            problems.append(Problem(person.line, "unit", f"unit {person.unit}, but this import is for {unit}"))
            continue
        if wanted not in known:
            problems.append(Problem(person.line, "unit",
                                    f"unknown unit '{wanted}' (units: {', '.join(sorted(known))})"))
            continue
        if holders.get(child, wanted) != wanted:
            problems.append(Problem(person.line, "child", f"child {child} is held by another unit"))
            continue
        units[child] = wanted
        if person.lead:
            if wanted not in members:
                members[wanted] = set().union(*store.members(wanted).values())
            if person.lead not in members[wanted]:
                problems.append(Problem(person.line, "lead", f"{person.lead} is not a member of {wanted}"))
    problems.sort(key=lambda p: (p.row, p.column))
    if problems:
        return ImportResult(False, len(caseload.children), 0, problems)

    history = {c: current_events(events) for c, events in store.histories(list(units)).items()}
    seen = {_same(e.child, e.event, e.status, e.date)
            for events in history.values() for e in events}
    new: list[CaseloadRow] = []
    for row in caseload.rows:
        key = _same(row.child, row.event, row.status, row.date)
        if key not in seen:
            seen.add(key)
            new.append(row)
    leads = People(store).leads(list(units))
    new_leads = sorted(c for c in units if caseload.children[c].lead and caseload.children[c].lead != leads.get(c))
    if dry_run:
        return ImportResult(False, len(units), len(new), [], new_leads, _would_give(store, units, history, new, at))
    _store(store, caseload, units, new, by, at, source)
    changed = sorted({r.child for r in new})
    found = [{**d.as_json(), "unit": unit} for d, unit in store.recompute_children(changed, at)
             if d.state in ("open", "overdue")]
    return ImportResult(True, len(units), len(new), [], new_leads,
                        found + _open_deadlines(store, sorted(set(units) - set(changed)), at))


def _open_deadlines(store: Store, children: list[str], at: datetime) -> list[dict[str, Any]]:
    """Open deadlines as the store holds them, for children the import did not change."""
    found: list[dict[str, Any]] = []
    with store.session() as s:
        for start in range(0, len(children), 500):
            query = select(DeadlineRecord).where(DeadlineRecord.child.in_(children[start:start + 500]),
                                                 DeadlineRecord.state == "open")
            found += [DueItem(r, is_overdue(r, at)).as_json()
                      for r in s.scalars(query.order_by(DeadlineRecord.child, DeadlineRecord.due, DeadlineRecord.id))]
    return found


def _as_event(row: CaseloadRow, n: int, at: datetime) -> Event:
    return Event(f"new{n}", row.child, row.event, row.date, row.status, row.time, {**row.details, IMPORTED: True}, at)


def _would_give(store: Store, units: dict[str, str], history: dict[str, list[Event]], new: list[CaseloadRow],
                at: datetime) -> list[dict[str, Any]]:
    """The open deadlines a dry run's children would have, worked out without storing."""
    adding: dict[str, list[Event]] = {c: [] for c in units}
    for n, row in enumerate(new):
        adding[row.child].append(_as_event(row, n, at))
    found: list[dict[str, Any]] = []
    for child in sorted(units):
        timeline = child_deadlines(history[child] + adding[child], store.pack, store.calendar, at, child=child)
        found += [{**d.as_json(), "unit": units[child]} for d in timeline.deadlines if d.state in ("open", "overdue")]
    return found


def _store(store: Store, caseload: Caseload, units: dict[str, str], new: list[CaseloadRow], by: str, at: datetime,
           source: str) -> None:
    digest = hashlib.sha256("\n".join(f"{r.line}:{r.child}:{r.event}:{r.date}" for r in new).encode()).hexdigest()
    message_ts = f"import:{at.timestamp():.0f}:{digest[:16]}"
    with store.session.begin() as s:
        held = {n for start in range(0, len(units), 500) for n in s.scalars(
            select(Child.number).where(Child.number.in_(sorted(units)[start:start + 500])))}
        if fresh := [{"number": c, "unit_id": u, "lead_practitioner": None, "flexible_assessment": False,
                      "events_version": 0, "deadlines_version": 0} for c, u in units.items() if c not in held]:
            s.execute(insert(Child.__table__), fresh)  # type: ignore[arg-type]
        current = {n: lead for start in range(0, len(units), 500) for n, lead in s.execute(
            select(Child.number, Child.lead_practitioner).where(Child.number.in_(sorted(units)[start:start + 500]))
            .with_for_update())}
        for child in sorted(units):  # a lead is recorded with who set it and when (SPEC section 12)
            lead = caseload.children[child].lead
            if lead and current.get(child) != lead:
                s.add(LeadChange(child=child, lead=lead, was=current.get(child), by=by, at=at,
                                 channel=IMPORT_CHANNEL, message_ts=message_ts))
                s.execute(update(Child).where(Child.number == child).values(lead_practitioner=lead))
        if new:
            s.execute(insert(EventRecord.__table__), [{  # type: ignore[arg-type]
                "child": r.child, "event": r.event, "status": r.status, "date": r.date, "time": r.time,
                "details": {**r.details, IMPORTED: True}, "posted_by": by, "posted_at": at,
                "channel": IMPORT_CHANNEL, "message_ts": message_ts, "seq": seq,
                "text": f"imported from {source}, line {r.line}", "supersedes": None, "answered_for": None,
                "answer_ts": None, "origin_ts": message_ts} for seq, r in enumerate(new)])
            changed = sorted({r.child for r in new})
            for start in range(0, len(changed), 500):
                s.execute(update(Child).where(Child.number.in_(changed[start:start + 500]))
                          .values(events_version=Child.events_version + 1))
