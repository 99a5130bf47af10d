"""What the bot says, as Slack Block Kit with a plain-text twin (the terminal chat
prints the text; Slack shows the blocks and uses the text for notifications).

Everything here is built as pieces and laid out by `bot/layout.py`, so every
message fits Slack's limits however long the list: a long one becomes several
messages, each saying which part it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from bot.layout import Block, Part, Piece, actions, button, lines_pieces, pack, section
from bot.parser import ParseResult
from bot.parser.reading import for_people, title
from rules.calendar import LONDON
from rules.engine import InForce
from rules.pack import IMPORTED, RulePack
from scheduler.outbox import Message
from store.models import DeadlineRecord, EventRecord
from store.records import AgendaChild, DueItem

STATUS_WORDS = {"done": "done", "planned": "booked for", "not_done": "did not happen"}
NOTICES_WITH_BUTTONS = 20  # in one reminder or digest: the rest are counted, and "what's overdue" lists them


def escape(text: str) -> str:
    """People's words as words: no @channel, mention or link a person typed works in a
    reply (Slack reads only these three characters as markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def describe_event(e: EventRecord | Any) -> str:
    when = for_people(e.date) + (f" {e.time:%H:%M}" if e.time else "")
    details = ", ".join(f"{k.replace('_', ' ')}: {escape(_yes_no(v)).replace('_', ' ')}"
                        for k, v in (e.details or {}).items() if k != IMPORTED)
    return (f"{title(e.event)} for child {e.child}, {STATUS_WORDS.get(e.status, e.status)} {when}"
            + (f" ({details})" if details else ""))


def _yes_no(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, str(value))  # type: ignore[call-overload]


def deadline_line(d: DeadlineRecord, today: date | None = None) -> str:
    due = for_people(d.due) + (f" {d.due_at:%H:%M}" if d.hours_based else "")
    late = ""
    if today and d.due < today and d.state == "open":
        late = f", {(today - d.due).days} days late"
        if d.overdue_at_import:
            late += ", already overdue when imported"
    return f"child {d.child}: {d.title} - due {due}{late} ({d.standard}, {'/'.join(d.responsible)})"


def shortest_line(pack: RulePack) -> int:
    """No item's line in a list (`due_lines`) is shorter than this under these rules: the
    shortest title, standard and roles they have, for a one-digit child, due on the shortest
    date ("Fri 1 May")."""
    compiled = pack.compiled.values()
    shortest = DeadlineRecord(
        child="1", title=min((s.title for r in compiled for s in r.steps), key=len),
        standard=min((s.standard for r in compiled for s in r.steps), key=len),
        responsible=min((list(r.rule.responsible) for r in compiled), key=lambda roles: len("/".join(roles))),
        due=date.today().replace(day=1), hours_based=False, state="met")
    return len(f"• {deadline_line(shortest)}")


def recorded(events: Sequence[EventRecord], created: Sequence[DeadlineRecord], met: Sequence[DeadlineRecord],
             by: str, message: tuple[str, str], answering: str | None = None, lead: str = "",
             after: Sequence[Piece] = ()) -> list[Part]:
    before = [d for d in created if d.overdue_at_import]
    created = [d for d in created if not d.overdue_at_import]
    """What was stored and what follows from it, with Undo and Correct under it;
    `answering` is whose message an answer completed."""
    who = f"answered by <@{by}> for <@{answering}>'s message" if answering else f"posted by <@{by}>"
    lines = [f"{lead}Recorded ({who}):"] + [f"• {describe_event(e)}" for e in events]
    if created:
        lines += ["Deadlines:"] + [f"• {deadline_line(d)}" for d in created]
    if met:
        lines += ["Met:"] + [f"• {deadline_line(d)}" for d in met]
    if before:  # history told after the fact (SPEC section 9): nobody is chased for these
        lines += ["Already overdue before I was told (listed as overdue; I chase the recurring ones, like visits, "
                  "from now, and send nothing for the others):"] + [f"• {deadline_line(d)}" for d in before]
    if not created and not met and not before:
        lines.append("No new deadlines from this.")
    value = {"channel": message[0], "ts": message[1]}
    buttons = Piece("", actions([button("Undo", "undo", value, "danger"), button("Correct", "correct", value)]))
    return pack([*lines_pieces(lines), buttons, *after])  # `after`: what the bot assumed or must ask


def transfer_question(transfer: int, child: str, to_unit: str, asked_by: str) -> Part:
    """The holding unit's team manager is asked to agree a child's move."""
    text = (f"{escape(to_unit)} asks for child {child} to move to their unit (asked by <@{asked_by}>). If you agree, "
            "the child's record, deadlines and reminders go to them; your unit stops seeing the child.")
    value = {"transfer": transfer}
    return Part(text, [section(text), *actions([button("Transfer", "transfer_agree", value, "primary"),
                                                 button("Decline", "transfer_decline", value)])])


def questions(reading: ParseResult, message: tuple[str, str]) -> Part:
    understood = [u for u in reading.updates if u.event or u.child]
    lines = []
    if understood:
        parts = [f"{title(u.event) if u.event else 'something'} for child {u.child or '?'}" for u in understood]
        lines.append("I read: " + "; ".join(dict.fromkeys(parts)) + ".")
    lines += [escape(c.question) for c in reading.clarify[:1]]  # a question can quote what was typed
    lines.append("Nothing is recorded until you answer: reply in this thread" + (
        " or pick one below." if reading.clarify and reading.clarify[0].options else "."))
    text = "\n".join(lines)
    first = reading.clarify[0] if reading.clarify else None
    choices = [button(o.label, f"answer_{i}", {"channel": message[0], "ts": message[1], "option": i})
               for i, o in enumerate(first.options[:5])] if first else []
    return Part(text, [b for piece in lines_pieces(lines) for b in piece.blocks] + actions(choices))


def counts_line(name: str, items: Sequence[DueItem]) -> str:
    overdue = sum(i.overdue for i in items)
    return f"{name}: {overdue} overdue, {len(items) - overdue} due"


def due_lines(items: Sequence[DueItem], today: date) -> list[str]:
    """Most urgent first: what is overdue (the most late first), then what falls due, by day."""
    lines: list[str] = []
    overdue = [i for i in items if i.overdue]
    if overdue:
        lines.append(":red_circle: *Overdue*")
        lines += [f":red_circle: {deadline_line(i.record, today)}" for i in overdue]
    for day, group in groupby((i for i in items if not i.overdue), key=lambda i: i.record.due):
        lines.append(f"*{for_people(day)}*")
        lines += [f"• {deadline_line(i.record)}" for i in group]
    return lines


def due_list(items: Sequence[DueItem], today: date, heading: str, units: dict[str, str]) -> list[Part]:
    """A list people asked for, counts first: one unit's items by urgency, or, for a
    manager over several units, each unit's counts and then each unit's items."""
    if not items:
        text = f"{heading}: nothing overdue or due."
        return [Part(text, [section(text)])]
    by_unit = {unit: [i for i in items if i.record.unit_id == unit] for unit in units}
    lines = [f"*{heading}*"] + [counts_line(escape(name), by_unit[unit]) for unit, name in units.items()
                                 if by_unit[unit]]
    if len([u for u in by_unit if by_unit[u]]) == 1:
        lines += due_lines(items, today)
    else:
        for unit, name in units.items():
            if by_unit[unit]:
                lines += [f"*{escape(name)}*", *due_lines(by_unit[unit], today)]
    return pack(lines_pieces(lines))


def due_page(items: Sequence[DueItem], today: date, heading: str, units: dict[str, str],
             counts: dict[str, tuple[int, int]], page: int, per_page: int, more: dict[str, Any] | None) -> list[Part]:
    """One page of a list too long to read in one go (a unit's, or a person's over their units):
    each unit's counts, which page of how many this is and which items it holds, the items,
    and (`more`: the button's value) a button for the next page. Every item is on a page:
    none is cut."""
    counted = [f"{escape(name)}: {counts.get(unit, (0, 0))[0]} overdue, {counts.get(unit, (0, 0))[1]} due"
               for unit, name in units.items() if sum(counts.get(unit, (0, 0))) or len(units) == 1]
    total = sum(o + d for o, d in counts.values())
    if not items:  # the rest was dealt with between two pages
        text = f"{heading}: nothing more on this list ({'; '.join(counted) or 'nothing overdue or due'})."
        return [Part(text, [section(text)])]
    first = (page - 1) * per_page + 1
    last = first + len(items) - 1
    pages = max(page + (more is not None), -(-total // per_page))  # counted before the page was read
    lines = [f"*{heading}*", *counted,
             f"_Page {page} of {pages}: items {first}-{last} of {max(total, last)}, the most urgent first._",
             *due_lines(items, today)]
    if more is None:
        return pack(lines_pieces(lines))
    rest = max(1, total - last)
    lines.append(f"_{rest} more to come: Next page shows the next {min(rest, per_page)}._")
    return pack([*lines_pieces(lines), Piece("", actions([button("Next page", "due_page", more)]))])


def unit_counts(items: Sequence[DueItem]) -> dict[str, tuple[int, int]]:
    """Unit -> (overdue, due) among these items (Store.due_counts counts the same in SQL)."""
    counts: dict[str, tuple[int, int]] = {}
    for i in items:
        overdue, due = counts.get(i.record.unit_id, (0, 0))
        counts[i.record.unit_id] = (overdue + 1, due) if i.overdue else (overdue, due + 1)
    return counts


def units_summary(counts: dict[str, tuple[int, int]], heading: str, units: dict[str, str],
                  show: dict[str, object]) -> Part:
    """For a list too long to read in one go across several units: each unit's counts, and
    a button to show one unit's items (`show` is the question asked, as JSON)."""
    lines = [f"*{heading}*"]
    buttons: list[Block] = []
    for unit, name in units.items():
        overdue, due = counts.get(unit, (0, 0))
        lines.append(f"{escape(name)}: {overdue} overdue, {due} due")
        if overdue or due:
            buttons.append(button(f"Show {name}", f"show_unit_{len(buttons)}", {**show, "unit": unit}))
    lines.append("That is too long to read in one go: pick a unit to see its children.")
    return Part("\n".join(lines), [b for piece in lines_pieces(lines) for b in piece.blocks] + actions(buttons))


ESCALATIONS = {"overdue", "sm", "hos", "digest"}
STEP_WORDS = {"reminder": "due soon", "due_today": "due today", "hour_before": "due within the hour",
              "overdue": "OVERDUE", "sm": "OVERDUE (service manager)", "hos": "OVERDUE (head of service)",
              "digest": "overdue"}


def notice_message(message: Message) -> list[Part]:
    """A reminder, escalation, digest and/or weekly agenda, in as many messages as it takes.
    The first NOTICES_WITH_BUTTONS come with their buttons; the rest are counted, pointing
    to "what's overdue" (it lists them unit by unit). The agenda shows every child."""
    today = message.today or date.today()
    pieces: list[Piece] = [Piece(note, [section(note)]) for note in message.notes]
    if message.notices:
        late = any(n.step in ESCALATIONS for n in message.notices)
        heading = "*Timescales: " + ("overdue*" if late else "coming due*")
        pieces.append(Piece(heading, [section(heading)]))
    for n in message.notices[:NOTICES_WITH_BUTTONS]:
        how_late = f", {n.days_late} working day{'s' if n.days_late > 1 else ''} late" if n.days_late else ""
        mark = ":red_circle: " if n.step in ESCALATIONS else ""
        lead = f" Lead <@{n.lead}>" + (f" (away: <@{n.lead_cover}> covering)" if n.lead_cover else "") + "." \
            if n.lead else ""
        line = f"{mark}{STEP_WORDS.get(n.step, n.step)}: {deadline_line(n.deadline)}{how_late}.{lead}"
        value = {"deadline": n.deadline.id}
        pieces.append(Piece(line, [section(line), *actions([button("Mark done", "mark_done", value, "primary"),
                                                             button("Record reason / extension", "reason", value)])]))
    rest = len(message.notices) + message.more - NOTICES_WITH_BUTTONS
    if rest > 0:
        more = f"... and {rest} more, less late: ask me \"what's overdue\" for every one."
        pieces.append(Piece(more, [section(more)]))
    if message.agenda is not None:
        pieces += lines_pieces(agenda_text(message.agenda, message.unit_name, today, message.away))
    return pack(pieces)


def plan_words(plan: InForce) -> str:
    """A plan in force as people say it: since when, or that the start is not known."""
    return f"{plan.title} since {for_people(plan.since)}" if plan.since else f"{plan.title} (start not known)"


# A Service Manager's decisions about a Supervision Order (9.11, 9.13), recorded as kind "reduce".
_REDUCED = {"so_visits_reduced": "Supervision Order visits reduce to every 20 working days",
            "so_meetings_reduced": "Supervision Order network meetings reduce to every 12 weeks"}


def _what_was_decided(kind: str, target: str, due: date) -> str:
    if kind == "reduce" and target in _REDUCED:
        return f"{_REDUCED[target]} from {for_people(due)}"
    return f"{target} due {for_people(due)}"


def agenda_text(children: Sequence[AgendaChild], unit_name: str, today: date,
                away: Sequence[str] = ()) -> list[str]:
    """The weekly unit meeting discusses every child: one entry each; and who is away."""
    lines = [f"*Unit meeting agenda, {escape(unit_name)}, week of {for_people(today)}* ({len(children)} children)"]
    lines += [f":palm_tree: {line}" for line in away]
    if not children:
        lines.append("No children recorded for this unit yet: post updates here as they happen, or import the "
                     "caseload (share the CSV here with \"import caseload\", or `timescales import`).")
    untracked = [c.number for c in children if not c.tracked]
    if untracked:  # SPEC 9: the meeting sees whom the bot is not watching over
        lines.append(f":grey_question: Nothing tracked for {len(untracked)} "
                     f"{'child' if len(untracked) == 1 else 'children'}: {', '.join(untracked)}. Post their plan "
                     "(\"456 on a CP plan since 3 Sep\") or what happened last.")
    for c in children:
        quiet = c.last_update is None or (today - c.last_update.astimezone(LONDON).date()).days >= 28
        flags = " :warning: no update for 4 weeks" if quiet else ""
        plans = "; ".join(plan_words(p) for p in c.in_force)
        lines.append(f"*Child {c.number}*{flags}" + (f" - {plans}" if plans else ""))
        lines += [f"  :red_circle: overdue{' at import' if d.overdue_at_import else ''}: {d.title} "
                  f"(due {for_people(d.due)}, {d.standard})" for d in c.overdue]
        lines += [f"  due: {d.title} (due {for_people(d.due)}, {d.standard})" for d in c.due_this_week]
        lines += [f"  since last week: {describe_event(e)}" for e in c.events_since if e.event != "retraction"]
        lines += [f"  decided: {_what_was_decided(d.kind, d.target, d.due)} by <@{d.by}>: {escape(d.reason)}"
                  for d in c.decisions_since]
        lines += [f"  flexible scheme, review this week: {d.target} set for {for_people(d.due)} by <@{d.by}>: "
                  f"{escape(d.reason)}" for d in c.to_review]
        if not (c.overdue or c.due_this_week or c.events_since or c.decisions_since or c.to_review):
            lines.append("  nothing due this week")
    return lines
