"""The conversation with a unit: one message in, the replies out.

Shared by Slack (`bot/slack_app.py`) and the terminal chat (`bot/chat.py`), so
both behave the same. It holds no state of its own: every message is claimed in
the store first (Slack retries and the @mention twin are dropped there), and a
message the bot asked about waits in the store until it is answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.parser import ParseResult, Query, parse
from bot.parser.reading import DecisionReading, answer, choose, for_people, read_decision
from bot.replies import Reply, describe_event, due_list, questions, recorded
from rules.calendar import LONDON
from store.models import DeadlineRecord, EventRecord
from store.records import DecisionNotAllowed, DueItem, NewEvent, Posting, Store

log = logging.getLogger(__name__)
MANAGER_ROLES = {"team_manager", "service_manager", "head_of_service"}
NOT_SET_UP = ("This channel is not set up as a unit, so I have not recorded anything. To set it up, add it "
              "to timescales.toml as a [[units]] entry with `channel = \"{channel}\"` and run "
              "`timescales db upgrade`.")


@dataclass(frozen=True)
class Incoming:
    """One message as the bot receives it, from Slack or the terminal."""

    channel: str
    user: str
    ts: str
    text: str
    now: datetime
    thread_ts: str | None = None
    direct: bool = False  # a DM to the bot


def _new_events(reading: ParseResult) -> list[NewEvent]:
    """A complete reading (no questions left) as events to store."""
    events = []
    for u in reading.updates:
        assert u.child and u.event and u.date, "only complete readings are stored"
        events.append(NewEvent(child=u.child, event=u.event, date=u.date, status=u.status or "done", time=u.time,
                               details=dict(u.details)))
    return events


def slash_query(text: str, now: datetime) -> Query:
    """/timescales due [today|week|next week|overdue|child N|mine]."""
    words = text.lower().split()
    if "overdue" in words:
        return Query(type="overdue")
    if "mine" in words or "me" in words:
        return Query(type="mine")
    reading = parse("due " + " ".join(w for w in words if w != "due"), now)
    return reading.query or Query(type="due")


class Conversation:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- messages ------------------------------------------------------------------
    def message(self, m: Incoming) -> list[Reply]:
        if not self.store.claim_message(m.channel, m.ts, m.user, m.now):
            return []  # a retry, or the app_mention twin of a message already handled
        try:
            return self._message(m)
        except Exception:  # answered in the thread, never swallowed
            log.exception("could not handle message %s/%s", m.channel, m.ts)
            return [self._reply(m, "Sorry, something went wrong and nothing was recorded from this message. "
                                   "Please try again, or tell your unit co-ordinator.")]

    def _message(self, m: Incoming) -> list[Reply]:
        unit = self.store.unit_for_channel(m.channel)
        if m.thread_ts and unit and (waiting := self.store.pending(m.channel, m.thread_ts)):
            before = ParseResult.model_validate(waiting.reading)
            reading = answer(before, m.text, m.now)
            if reading == before and parse(m.text, m.now).kind == "other":
                return []  # "thanks", "will check": not an answer, and not worth a reply
            return self._record_or_ask(Posting(unit, m.channel, m.thread_ts, waiting.posted_by, waiting.posted_at,
                                               waiting.text), reading, m.thread_ts)
        if decision := read_decision(m.text, m.now):
            return [self._reply(m, self._decide(decision, m))]
        reading = parse(m.text, m.now)
        if reading.kind == "query":
            assert reading.query is not None
            if m.direct:
                return [self.answer_query(reading.query, m.user, m.now, m.channel, None)]
            if unit is None:  # anyone may read this channel: children are listed only where they belong
                return [self._reply(m, "I only list children in their unit's channel: ask me in a direct "
                                       "message, or with /timescales (only you see the answer).")]
            return [self.answer_query(reading.query, m.user, m.now, m.channel, m.thread_ts or m.ts, shown_in=unit)]
        if reading.kind == "other":
            return [self._reply(m, "I keep your unit's timescales. Ask me \"what's due this week\", "
                                   "\"what's overdue\" or \"what's due for me\".")] if m.direct else []
        if unit is None:
            return [self._reply(m, NOT_SET_UP.format(channel=m.channel))]
        if reading.kind == "correction":
            return self._correct(m, unit, reading)
        return self._record_or_ask(Posting(unit, m.channel, m.ts, m.user, m.now, m.text), reading, m.ts)

    def _reply(self, m: Incoming, text: str) -> Reply:
        return Reply(m.channel, text, thread_ts=None if m.direct else (m.thread_ts or m.ts))

    def _record_or_ask(self, posting: Posting, reading: ParseResult, thread: str) -> list[Reply]:
        if reading.clarify or any(u.child is None or u.event is None or u.date is None for u in reading.updates):
            if not reading.clarify:  # an answer that still leaves something out: ask again
                return [Reply(posting.channel, "I still need the child's number, what happened and the date "
                                               "before I can record this.", thread_ts=thread)]
            self.store.save_pending(posting, reading.model_dump(mode="json"))
            text, blocks = questions(reading, (posting.channel, posting.message_ts))
            return [Reply(posting.channel, text, blocks, thread_ts=thread)]
        self.store.drop_pending(posting.channel, posting.message_ts)
        return [self._recorded_reply(posting, _new_events(reading), thread)]

    def _recorded_reply(self, posting: Posting, updates: list[NewEvent], thread: str) -> Reply:
        stored = self.store.record(posting, updates)
        ids = {str(e.id) for e in stored}
        deadlines = [d for child in sorted({e.child for e in stored}) for d in self.store.child_deadlines(child)]
        created = [d for d in deadlines if d.event_id in ids and d.state == "open"]
        met = [d for d in deadlines if d.met_event_id in ids]
        text, blocks = recorded([e for e in stored if e.event != "retraction"], created, met, posting.posted_by,
                                (posting.channel, posting.message_ts))
        return Reply(posting.channel, text, blocks, thread_ts=thread)

    # -- corrections, edits, undo ------------------------------------------------------
    def _correct(self, m: Incoming, unit: str, reading: ParseResult) -> list[Reply]:
        assert reading.correction is not None
        targets = self._targets(m, unit, reading.correction.corrects)
        if not targets:
            return [self._reply(m, "I could not find the update to correct. Reply in the thread of the update, "
                                   "or name the child and what happened (\"correction: HV for 123 was yesterday\").")]
        posting = Posting(unit, m.channel, m.ts, m.user, m.now, m.text)
        if reading.correction.undo:
            return [self._withdraw(posting, targets, m.thread_ts or m.ts, "Undone")]
        new = reading.updates[0] if reading.updates else None
        replacements = []
        for old in targets:
            replacements.append(NewEvent(
                child=(new.child if new and new.child else old.child), event=(new.event if new and new.event else old.event),
                date=(new.date if new and new.date else old.date), status=(new.status if new and new.status else old.status),
                time=(new.time if new and new.time else old.time),
                details={**old.details, **(new.details if new else {})}, supersedes=old.id))
        if new and new.child and any(r.child != old.child for r, old in zip(replacements, targets)):
            # Another child: withdraw from the old one, record for the new one.
            replacements = [NewEvent(child=old.child, event="retraction", date=old.date, supersedes=old.id)
                            for old in targets] + [replace(r, supersedes=None) for r in replacements]
        return [self._recorded_reply(posting, replacements, m.thread_ts or m.ts)]

    def _targets(self, m: Incoming, unit: str, corrects: dict[str, str]) -> list[EventRecord]:
        if m.thread_ts:
            found = self.store.live_events(m.channel, m.thread_ts)
            if found:
                return found
        child = corrects.get("child")
        if child:
            latest = self.store.latest_event(child, corrects.get("event"), [unit])
            return [latest] if latest else []
        return []

    def _withdraw(self, posting: Posting, targets: list[EventRecord], thread: str, verb: str) -> Reply:
        self.store.record(posting, [NewEvent(child=e.child, event="retraction", date=e.date, supersedes=e.id)
                                    for e in targets])
        lines = [f"{verb} by <@{posting.posted_by}>: these are no longer recorded, and their deadlines are gone:"]
        lines += [f"• {describe_event(e)}" for e in targets]
        return Reply(posting.channel, "\n".join(lines), thread_ts=thread)

    def undo(self, channel: str, message_ts: str, user: str, action_ts: str, now: datetime) -> list[Reply]:
        unit = self.store.unit_for_channel(channel)
        if unit is None or not self.store.claim_message(channel, f"undo:{action_ts}", user, now):
            return []
        targets = self.store.live_events(channel, message_ts)
        if not targets:
            return [Reply(channel, "That update has already been undone.", thread_ts=message_ts)]
        posting = Posting(unit, channel, f"undo:{action_ts}", user, now, "Undo")
        return [self._withdraw(posting, targets, message_ts, "Undone")]

    def edited(self, channel: str, message_ts: str, text: str, user: str, edit_ts: str, now: datetime) -> list[Reply]:
        """An edited Slack message is read again and replaces what it recorded."""
        unit = self.store.unit_for_channel(channel)
        if unit is None or not self.store.claim_message(channel, f"edit:{edit_ts}", user, now):
            return []
        reading = parse(text, now)
        old = self.store.live_events(channel, message_ts)
        posting = Posting(unit, channel, f"edit:{edit_ts}", user, now, text)
        if reading.kind != "update":
            return [self._withdraw(posting, old, message_ts, "Edited")] if old else []
        if reading.clarify:
            return self._record_or_ask(Posting(unit, channel, message_ts, user, now, text), reading, message_ts)
        if old:
            self.store.record(posting, [NewEvent(child=e.child, event="retraction", date=e.date, supersedes=e.id)
                                        for e in old])
        posting = Posting(unit, channel, f"edit:{edit_ts}:new", user, now, text)
        reply = self._recorded_reply(posting, _new_events(reading), message_ts)
        reply.text = "Edited, so read again. " + reply.text
        reply.blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": reply.text}}]
        return [reply]

    def deleted(self, channel: str, message_ts: str, user: str, now: datetime) -> list[Reply]:
        unit = self.store.unit_for_channel(channel)
        if unit is None or not self.store.claim_message(channel, f"delete:{message_ts}", user, now):
            return []
        self.store.drop_pending(channel, message_ts)
        targets = self.store.live_events(channel, message_ts)
        if not targets:
            return []
        posting = Posting(unit, channel, f"delete:{message_ts}", user, now, "(message deleted)")
        return [self._withdraw(posting, targets, message_ts, "The message was deleted")]

    def chose(self, channel: str, message_ts: str, option: int, user: str, action_ts: str, now: datetime) -> list[Reply]:
        """A button under a question."""
        waiting = self.store.pending(channel, message_ts)
        if waiting is None or not self.store.claim_message(channel, f"choose:{action_ts}", user, now):
            return []
        reading = ParseResult.model_validate(waiting.reading)
        if not reading.clarify or option >= len(reading.clarify[0].options):
            return []
        return self._record_or_ask(Posting(waiting.unit_id, channel, message_ts, waiting.posted_by,
                                           waiting.posted_at, waiting.text), choose(reading, option), message_ts)

    # -- buttons on reminders -------------------------------------------------------
    def _deadline(self, deadline_id: str, user: str) -> tuple[DeadlineRecord | None, set[str]]:
        child = deadline_id.split(":")[0]
        record = next((d for d in self.store.child_deadlines(child) if d.id == deadline_id), None)
        roles = self.store.roles_of(user).get(record.unit_id, set()) if record else set()
        return record, roles

    def mark_done(self, deadline_id: str, user: str, action_ts: str, now: datetime, channel: str) -> list[Reply]:
        record, roles = self._deadline(deadline_id, user)
        if record is None or not roles:
            return [Reply(channel, "I cannot find that task in your units.", only_for=user)]
        unit_channel = self.store.unit_channel(record.unit_id)
        if not self.store.claim_message(unit_channel, f"done:{action_ts}", user, now):
            return []
        if record.state != "open":
            return [Reply(channel, f"Already {record.state}: {record.title} for child {record.child}.")]
        posting = Posting(record.unit_id, unit_channel, f"done:{action_ts}", user, now, f"Mark done: {record.title}")
        self.store.record(posting, [NewEvent(child=record.child, event="task_done", date=now.astimezone(LONDON).date(),
                                             details={"rule": record.rule})])
        return [Reply(channel, f"Marked done by <@{user}>: {record.title} for child {record.child} "
                               f"({record.standard}), {for_people(now.astimezone(LONDON).date())}.")]

    def check_reason(self, deadline_id: str, user: str, new_due: str | None) -> str | None:
        """Why this person may not record this (None if they may)."""
        record, roles = self._deadline(deadline_id, user)
        if record is None or not roles:
            return "That task is not in one of your units."
        if new_due and not roles & MANAGER_ROLES:
            return "Only a team manager, service manager or head of service can agree an extension."
        return None

    def record_reason(self, deadline_id: str, user: str, reason: str, new_due: str | None, now: datetime) -> list[Reply]:
        record, _ = self._deadline(deadline_id, user)
        if record is None or self.check_reason(deadline_id, user, new_due):
            return []
        due = date.fromisoformat(new_due) if new_due else record.due
        try:
            self.store.record_decision(record.child, "extension" if new_due else "reason", record.id, due, user, now,
                                       reason)
        except DecisionNotAllowed as refused:
            return [Reply(self.store.unit_channel(record.unit_id), f"Not recorded: {refused}.", only_for=user)]
        what = f"Extension to {for_people(due)}" if new_due else "Reason"
        return [Reply(self.store.unit_channel(record.unit_id), f"{what} recorded by <@{user}> for child {record.child}: "
                                                     f"{record.title} ({record.standard}). Reason: {reason}")]

    # -- decisions -------------------------------------------------------------------
    def _decide(self, d: DecisionReading, m: Incoming) -> str:
        if not (d.child and d.target and d.due):
            return ("To record a decision I need the child's number, what it moves (ICPC, first core group or "
                    "assessment), the new date and the reason, e.g. \"ICPC for 123 set for 10 Dec by lead SW: "
                    "family availability\".")
        unit = self.store.child_unit(d.child)
        roles = self.store.roles_of(m.user).get(unit or "", set())
        if not roles:
            return f"Child {d.child} is not in a unit you belong to, so I have not recorded this."
        if d.kind == "extension" and not roles & MANAGER_ROLES:
            return "Only a team manager, service manager or head of service can agree an extension."
        if not d.reason:
            return "A decision that moves a deadline needs its reason: add it after a colon or \"reason\"."
        try:
            self.store.record_decision(d.child, d.kind, d.target, d.due, m.user, m.now, d.reason, m.channel, m.ts)
        except DecisionNotAllowed as refused:
            return f"Not recorded: {refused}."
        what = {"icpc": "ICPC", "first_core_group": "first core group", "assessment": "assessment"}[d.target]
        kind = "Extension" if d.kind == "extension" else "Lead social worker's decision"
        agreed = f", agreed by {d.agreed_by}" if d.agreed_by else ""
        return (f"{kind} recorded by <@{m.user}>{agreed}: the {what} for child {d.child} is now due "
                f"{for_people(d.due)}. Reason: {d.reason}")

    # -- questions ---------------------------------------------------------------------
    def answer_query(self, q: Query, user: str, now: datetime, channel: str, thread: str | None,
                     shown_in: str | None = None) -> Reply:
        """Answer about the asker's units; in a unit's channel, where everyone in the channel
        reads the answer, only about that unit (`shown_in`)."""
        units = self.store.units_for(user)
        if not units:
            return Reply(channel, "You have no units configured, so I cannot show you any children. Ask your "
                                  "unit co-ordinator to add you to timescales.toml.", thread_ts=thread)
        if shown_in is not None:
            if shown_in not in units:
                return Reply(channel, "You are not in this channel's unit, so I will not list its children here.",
                             thread_ts=thread)
            units = [shown_in]
        today = now.astimezone(LONDON).date()
        items: list[DueItem]
        if q.type == "mine":
            items = [i for i in self.store.due_for(user, now) if i.record.unit_id in units]
            heading = "Due for you (overdue, and the next 7 days)"
        elif q.type == "overdue":
            items, heading = self.store.due(units, now, overdue_only=True), "Overdue"
        elif q.type == "child":
            if self.store.child_unit(q.child or "") not in units:
                return Reply(channel, f"I have nothing for child {q.child} in your units.", thread_ts=thread)
            items = self.store.due(units, now, end=today + timedelta(days=28), child=q.child)
            heading = f"Child {q.child}: overdue and the next 4 weeks"
        else:
            items = self.store.due(units, now, q.start, q.end)
            span = for_people(q.start) if q.start == q.end else f"{for_people(q.start)} to {for_people(q.end)}"  # type: ignore[arg-type]
            heading = f"Due {span}, and everything overdue"
        text, blocks = due_list(items, today, heading)
        return Reply(channel, text, blocks, thread_ts=thread)

    def home(self, user: str, now: datetime) -> list[dict[str, object]]:
        """App Home: the person's units' overdue items, what is due this week, their own items."""
        units = self.store.units_for(user)
        if not units:
            return [{"type": "section", "text": {"type": "mrkdwn", "text": "You have no units configured."}}]
        today = now.astimezone(LONDON).date()
        monday = today - timedelta(days=today.weekday())
        blocks: list[dict[str, object]] = [{"type": "header", "text": {"type": "plain_text", "text": "Timescales"}}]
        for heading, items in (
            ("Overdue in your units", self.store.due(units, now, overdue_only=True)),
            ("Due this week", [i for i in self.store.due(units, now, monday, monday + timedelta(days=6))
                               if not i.overdue]),
            ("Yours", self.store.due_for(user, now)),
        ):
            blocks += due_list(items, today, heading)[1]
            blocks.append({"type": "divider"})
        return blocks
