"""Day one (SPEC section 9) as people see it: a caseload file imported from the command
line or Slack, its summary in words, and what the bot takes to be true of a child."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.replies import for_people
from rules.calendar import LONDON
from rules.caseload import read_caseload
from store.imports import ImportResult, import_caseload
from store.people import People
from store.records import DueItem, Store, is_overdue

SHOWN_PROBLEMS = 20  # in Slack; the command line lists them all


def import_file(store: Store, text: str, unit: str | None, by: str, now: datetime, source: str,
                dry_run: bool = False, allowed_units: list[str] | None = None) -> ImportResult:
    events = frozenset(store.pack.vocabulary.events)
    caseload = read_caseload(text, events, now.astimezone(LONDON).date())
    return import_caseload(store, caseload, unit, by, now, source, dry_run=dry_run, allowed_units=allowed_units)


def summary_lines(result: ImportResult, dry_run: bool, limit: int | None = None) -> list[str]:
    """What an import did (or would do), and every problem by line and column."""
    if result.problems:
        shown = result.problems[:limit] if limit else result.problems
        lines = [f"Nothing was imported: {len(result.problems)} "
                 f"{'problem' if len(result.problems) == 1 else 'problems'} in the file."]
        lines += [f"• line {p.row}{', column ' + p.column if p.column else ''}: {p.problem}" for p in shown]
        if len(shown) < len(result.problems):
            lines.append(f"... and {len(result.problems) - len(shown)} more: fix these and try again.")
        return lines
    overdue = [d for d in result.deadlines if d["overdue_at_import"]]
    verb = "Would import" if dry_run else "Imported"
    lines = [f"{verb} {result.events} new {'event' if result.events == 1 else 'events'} for {result.children} "
             f"{'child' if result.children == 1 else 'children'}: {len(result.deadlines)} open deadlines"
             + (": nothing new, every event in it is recorded already." if not result.events else ".")]
    if result.new_leads:
        shown_leads = result.new_leads[:limit or len(result.new_leads)]
        lines.append(f"{'Would set' if dry_run else 'Set'} the lead for {len(result.new_leads)} "
                     f"{'child' if len(result.new_leads) == 1 else 'children'}: {', '.join(shown_leads)}"
                     + (" and more." if len(shown_leads) < len(result.new_leads) else "."))
    if overdue:
        lines.append(f"{len(overdue)} already overdue at import: listed in due lists and on the next agenda. The "
                     "recurring ones (visits, core groups, reviews) are chased from the import on; the one-off "
                     "tasks get no reminder or escalation (add a row for what was done).")
        lines += [f"• child {d['child']}: {d['title']} (due {for_people(datetime.fromisoformat(d['due']).date())}, "
                  f"{d['standard']})" for d in overdue[:limit or len(overdue)]]
        if limit and len(overdue) > limit:
            lines.append(f"... and {len(overdue) - limit} more.")
    if dry_run:
        lines.append("Nothing is stored until the import is confirmed.")
    return lines


def child_json(store: Store, child: str, now: datetime) -> dict[str, Any] | None:
    """`timescales child N --json`: the unit, lead, plans in force, latest events, deadlines."""
    unit = store.child_unit(child)
    if unit is None:
        return None
    understood = store.understood([child])[child]
    events, _, deadlines = store.timeline(child)
    live = {str(e.id) for e in events} - {str(e.supersedes) for e in events if e.supersedes}
    last: dict[str, str] = {}
    for e in events:  # oldest first: the latest wins
        if str(e.id) in live and e.status == "done" and e.event != "retraction":
            last[e.event] = max(last.get(e.event, ""), e.date.isoformat())
    return {
        "child": child, "unit": unit, "lead": People(store).leads([child]).get(child),
        "in_force": [{"status": p.status, "title": p.title,
                      "since": p.since.isoformat() if p.since else None, "assumed": p.since is None}
                     for p in understood.in_force.values()],
        "last": dict(sorted(last.items())),
        "deadlines": [DueItem(d, is_overdue(d, now)).as_json() for d in deadlines],
    }
