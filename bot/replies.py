"""What the bot says, as Slack Block Kit with a plain-text twin (the terminal chat
prints the text; Slack shows the blocks and uses the text for notifications)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from bot.parser import ParseResult
from bot.parser.reading import for_people, title
from rules.calendar import LONDON
from scheduler.outbox import Message
from store.models import DeadlineRecord, EventRecord
from store.records import AgendaChild, DueItem

Block = dict[str, Any]
STATUS_WORDS = {"done": "done", "planned": "booked for", "not_done": "did not happen"}


def escape(text: str) -> str:
    """People's words as words: no @channel, mention or link a person typed works in a
    reply (Slack reads only these three characters as markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, value: dict[str, Any], style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": label[:75]},
                     "action_id": action_id, "value": json.dumps(value)}
    if style:
        button["style"] = style
    return button


def describe_event(e: EventRecord | Any) -> str:
    when = for_people(e.date) + (f" {e.time:%H:%M}" if e.time else "")
    details = ", ".join(f"{k.replace('_', ' ')}: {escape(_yes_no(v))}" for k, v in (e.details or {}).items())
    return (f"{title(e.event)} for child {e.child}, {STATUS_WORDS.get(e.status, e.status)} {when}"
            + (f" ({details})" if details else ""))


def _yes_no(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, str(value))  # type: ignore[call-overload]


def deadline_line(d: DeadlineRecord, today: date | None = None) -> str:
    due = for_people(d.due) + (f" {d.due_at:%H:%M}" if d.hours_based else "")
    late = ""
    if today and d.due < today and d.state == "open":
        late = f", {(today - d.due).days} days late"
    return f"child {d.child}: {d.title} - due {due}{late} ({d.standard}, {'/'.join(d.responsible)})"


def recorded(events: Sequence[EventRecord], created: Sequence[DeadlineRecord], met: Sequence[DeadlineRecord],
             by: str, message: tuple[str, str], answering: str | None = None) -> tuple[str, list[Block]]:
    """What was stored and what follows from it; `answering` is whose message an answer completed."""
    who = f"answered by <@{by}> for <@{answering}>'s message" if answering else f"posted by <@{by}>"
    lines = [f"Recorded ({who}):"] + [f"• {describe_event(e)}" for e in events]
    if created:
        lines += ["Deadlines:"] + [f"• {deadline_line(d)}" for d in created]
    if met:
        lines += ["Met:"] + [f"• {deadline_line(d)}" for d in met]
    if not created and not met:
        lines.append("No new deadlines from this.")
    text = "\n".join(lines)
    value = {"channel": message[0], "ts": message[1]}
    blocks = [_section(text), {"type": "actions", "elements": [
        _button("Undo", "undo", value, "danger"), _button("Correct", "correct", value)]}]
    return text, blocks


def transfer_question(transfer: int, child: str, to_unit: str, asked_by: str) -> tuple[str, list[Block]]:
    """The holding unit's team manager is asked to agree a child's move."""
    text = (f"{escape(to_unit)} asks for child {child} to move to their unit (asked by <@{asked_by}>). If you agree, "
            "the child's record, deadlines and reminders go to them; your unit stops seeing the child.")
    value = {"transfer": transfer}
    return text, [_section(text), {"type": "actions", "elements": [
        _button("Transfer", "transfer_agree", value, "primary"), _button("Decline", "transfer_decline", value)]}]


def questions(reading: ParseResult, message: tuple[str, str]) -> tuple[str, list[Block]]:
    understood = [u for u in reading.updates if u.event or u.child]
    lines = []
    if understood:
        parts = [f"{title(u.event) if u.event else 'something'} for child {u.child or '?'}" for u in understood]
        lines.append("I read: " + "; ".join(dict.fromkeys(parts)) + ".")
    lines += [escape(c.question) for c in reading.clarify[:1]]  # a question can quote what was typed
    lines.append("Nothing is recorded until you answer: reply in this thread" + (
        " or pick one below." if reading.clarify and reading.clarify[0].options else "."))
    text = "\n".join(lines)
    blocks = [_section(text)]
    first = reading.clarify[0] if reading.clarify else None
    if first and first.options:
        blocks.append({"type": "actions", "elements": [
            _button(o.label, f"answer_{i}", {"channel": message[0], "ts": message[1], "option": i})
            for i, o in enumerate(first.options[:5])]})
    return text, blocks


def due_list(items: Sequence[DueItem], today: date, heading: str) -> tuple[str, list[Block]]:
    if not items:
        text = f"{heading}: nothing overdue or due."
        return text, [_section(text)]
    lines = [f"*{heading}*"]
    overdue = [i for i in items if i.overdue]
    if overdue:
        lines.append(":red_circle: *Overdue*")
        lines += [f":red_circle: {deadline_line(i.record, today)}" for i in overdue]
    upcoming = [i for i in items if not i.overdue]
    for day, group in groupby(upcoming, key=lambda i: i.record.due):
        lines.append(f"*{for_people(day)}*")
        lines += [f"• {deadline_line(i.record)}" for i in group]
    text = "\n".join(lines)
    # Slack caps a section at 3,000 characters: one section per ~40 lines.
    chunks = ["\n".join(lines[k : k + 40]) for k in range(0, len(lines), 40)]
    return text, [_section(c) for c in chunks]


ESCALATIONS = {"overdue", "sm", "hos", "digest"}
STEP_WORDS = {"reminder": "due soon", "due_today": "due today", "hour_before": "due within the hour",
              "overdue": "OVERDUE", "sm": "OVERDUE (service manager)", "hos": "OVERDUE (head of service)",
              "digest": "overdue"}


def notice_message(message: Message) -> tuple[str, list[Block]]:
    """A reminder, escalation, digest and/or weekly agenda, as one message."""
    today = message.today or date.today()
    lines: list[str] = []
    blocks: list[Block] = []
    if message.notices:
        late = any(n.step in ESCALATIONS for n in message.notices)
        lines.append("*Timescales: " + ("overdue*" if late else "coming due*"))
        blocks.append(_section(lines[0]))
    for n in message.notices[:20]:  # Slack allows 50 blocks: 20 items with their buttons
        how_late = f", {n.days_late} working day{'s' if n.days_late > 1 else ''} late" if n.days_late else ""
        mark = ":red_circle: " if n.step in ESCALATIONS else ""
        line = f"{mark}{STEP_WORDS.get(n.step, n.step)}: {deadline_line(n.deadline)}{how_late}"
        lines.append(line)
        value = {"deadline": n.deadline.id}
        blocks += [_section(line), {"type": "actions", "elements": [
            _button("Mark done", "mark_done", value, "primary"), _button("Record reason / extension", "reason", value)]}]
    if len(message.notices) > 20:
        more = f"... and {len(message.notices) - 20} more: ask me \"what's overdue\"."
        lines.append(more)
        blocks.append(_section(more))
    if message.agenda is not None:
        agenda_lines = agenda_text(message.agenda, message.unit_name, today)
        lines += agenda_lines
        chunks = ["\n".join(agenda_lines[k : k + 30]) for k in range(0, len(agenda_lines), 30)]
        blocks += [_section(c) for c in chunks]
    return "\n".join(lines), blocks[:50]


def agenda_text(children: Sequence[AgendaChild], unit_name: str, today: date) -> list[str]:
    """The weekly unit meeting discusses every child: one entry each."""
    lines = [f"*Unit meeting agenda, {escape(unit_name)}, week of {for_people(today)}* ({len(children)} children)"]
    for c in children:
        quiet = c.last_update is None or (today - c.last_update.astimezone(LONDON).date()).days >= 28
        flags = " :warning: no update for 4 weeks" if quiet else ""
        lines.append(f"*Child {c.number}*{flags}")
        lines += [f"  :red_circle: overdue: {d.title} (due {for_people(d.due)}, {d.standard})" for d in c.overdue]
        lines += [f"  due: {d.title} (due {for_people(d.due)}, {d.standard})" for d in c.due_this_week]
        lines += [f"  since last week: {describe_event(e)}" for e in c.events_since if e.event != "retraction"]
        lines += [f"  decided: {d.target} due {for_people(d.due)} by <@{d.by}>: {escape(d.reason)}"
                  for d in c.decisions_since]
        lines += [f"  flexible scheme, review this week: {d.target} set for {for_people(d.due)} by <@{d.by}>: "
                  f"{escape(d.reason)}" for d in c.to_review]
        if not (c.overdue or c.due_this_week or c.events_since or c.decisions_since or c.to_review):
            lines.append("  nothing due this week")
    return lines
