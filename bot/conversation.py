"""The conversation with a unit: one message in, the replies out.

Shared by Slack (`bot/slack_app.py`) and the terminal chat (`bot/chat.py`), so
both behave the same. It holds no state of its own: every message is claimed in
the store first (Slack retries and the @mention twin are dropped there), and a
message the bot asked about waits in the store until it is answered.

Every way in asks the gate (`bot/access.py`) who the person is and whether they
may do this here; a refusal is raised as `NotAllowed` and turned into a reply
only that person sees, in one place (`_refusals`), with nothing stored. What is
recorded names the person who did it: an answer to the bot's question about
someone else's message is the answerer's.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from bot.access import MANAGER_ROLES, NOT_YOUR_CHILD, Actor, Gate, NotAllowed, Where
from bot.importing import SHOWN_PROBLEMS, import_file, summary_lines
from bot.layout import MESSAGE_CHARS, Part, Piece, actions, button, header, lines_pieces, section
from bot.parser import ParseResult, Query, parse
from bot.parser.answers import choose, read_reply
from bot.parser.decisions import DecisionReading, read_decision
from bot.parser.frequency import FrequencyDecision, read_frequency_decision
from bot.parser.people import CoverReading, LeadReading, read_back, read_cover, read_lead
from bot.parser.plans import PlanSince, read_plan_since
from bot.parser.reading import for_people
from bot.parser.reports import ReportQuestion, read_report_question
from bot.parser.transfers import read_transfer
from bot.replies import (
    describe_event,
    due_lines,
    due_list,
    due_page,
    escape,
    plan_words,
    questions,
    recorded,
    shortest_line,
    transfer_question,
    unit_counts,
    units_summary,
)
from bot.report import picture, report_text
from rules.calendar import LONDON
from rules.engine import ChildTimeline
from rules.pack import IMPORTED, UNDER
from scheduler.outbox import Reply
from store.models import DeadlineRecord, EventRecord, PendingUpdate
from store.people import People
from store.records import (
    DecisionNotAllowed,
    DueItem,
    HeldElsewhere,
    NewEvent,
    Posting,
    Store,
    page_key,
    pending_reading,
    pending_thread,
)
from store.reports import timeliness_report

log = logging.getLogger(__name__)
NOT_SET_UP = ("This channel is not set up as a unit, so I have not recorded anything. To set it up, add it "
              "to timescales.toml as a [[units]] entry with `channel = \"{channel}\"` and run "
              "`timescales db upgrade`.")
UPDATES_IN_CHANNELS = ("I record updates only in your unit's channel, where the unit sees them: please post "
                       "this there. Here you can ask me \"what's due this week\" or \"what's due for me\".")
PARTS_IN_ONE_ANSWER = 3  # messages a list may take before a manager gets a summary per unit instead
NOT_YOUR_LIST = ("That list is what is due for the person who asked, so only they can turn its pages. Ask me "
                 "\"what's due for me\" for yours.")
PAGE_ITEMS = 100  # a list (a unit's, or a person's own) longer than this is shown a page (one message) at a time
HOME_LINES = {"yours": 25, "overdue": 30, "week": 25}  # items App Home shows under each heading
ONLY_MANAGERS_EXTEND = "Only a team manager, service manager or head of service can agree an extension."
ONLY_SERVICE_MANAGERS_REDUCE = ("Only the service manager (or head of service) can decide that a Supervision Order's "
                                "visits or network meetings reduce (9.11, 9.13), so I have not recorded this.")
# what each Service Manager's decision reduces, and the rule that then sets the frequency
REDUCTIONS = {"so_visits_reduced": ("visits", "at least every 20 working days", "visits-supervision-order"),
              "so_meetings_reduced": ("network meetings", "at least every 12 weeks",
                                      "supervision-order-network-meeting-reduced")}
SUPERVISION_ORDER_RULES = frozenset({"visits-supervision-order-first-12-weeks", "visits-supervision-order",
                                     "supervision-order-network-meeting", "supervision-order-network-meeting-reduced",
                                     "supervision-order-3-month-review", "supervision-order-9-month-review"})

P = ParamSpec("P")
SLASH = "slash:"  # the ts of a slash command's request, which is no Slack message
_IMPORT_WORDS = re.compile(r"\bimport(?:ing)? (?:the |our |this |a )?(?:unit'?s? )?caseload\b", re.IGNORECASE)


def _refusals(method: Callable[Concatenate[Conversation, P], list[Reply]]
              ) -> Callable[Concatenate[Conversation, P], list[Reply]]:
    """The one refusal path: a reply only the person sees; nothing was stored."""

    @wraps(method)
    def guarded(self: Conversation, *args: P.args, **kwargs: P.kwargs) -> list[Reply]:
        try:
            return method(self, *args, **kwargs)
        except NotAllowed as refused:
            return [refused.reply]

    return guarded


def held_elsewhere_text(children: list[str]) -> str:
    """Says only that another unit holds them, and how to ask for a transfer: no unit,
    date, event or deadline of theirs."""
    which = f"Child {children[0]} is" if len(children) == 1 else (
        "Children " + ", ".join(children[:-1]) + f" and {children[-1]} are")
    return (f"{which} held by another unit, so I have not recorded anything from this message. If "
            f"{'the child has' if len(children) == 1 else 'they have'} moved to this unit, say "
            f"\"transfer {children[0]} to this unit\" and I will ask the holding unit's team manager.")


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
    file: SharedFile | None = None  # a CSV shared with "import caseload", as downloaded


@dataclass(frozen=True)
class SharedFile:
    """A file shared in Slack: its id, name, and its text (None: Slack would not give it for
    now, and `refused` says how; or it can never be read as a caseload, and `unreadable` says why)."""

    id: str
    name: str
    text: str | None
    refused: str | None = None  # e.g. "Slack asked me to slow down"
    unreadable: str | None = None  # e.g. "it is larger than 5 MB"

    @property
    def digest(self) -> str:
        return hashlib.sha256((self.text or "").encode()).hexdigest()[:16]


def _not_downloaded(shared: SharedFile, again: str) -> str:
    return f"I couldn't download {shared.name} just now ({shared.refused}), so nothing is imported. In a few " \
           f"minutes, {again}."


def _not_readable(shared: SharedFile) -> str:
    return f"I couldn't read {shared.name}: {shared.unreadable}, so nothing is imported. Save the caseload as a " \
           "CSV file and share it in this channel with the words \"import caseload\" in the same message."


def _window(q: Query) -> tuple[date | None, date | None, bool]:
    """What a list's question reads from the store: its days (start, end), or only the overdue."""
    return (None, None, True) if q.type == "overdue" else (q.start, q.end, False)


def _on_plan(title: str) -> str:
    """'on a Child Protection Plan', but 'looked after'."""
    return title[0].lower() + title[1:] if title.lower().startswith("looked after") else f"on a {title}"


def wants_import(text: str) -> bool:
    return bool(_IMPORT_WORDS.search(text))


def _new_events(reading: ParseResult) -> list[NewEvent]:
    """A complete reading (no questions left) as events to store."""
    events = []
    for u in reading.updates:
        assert u.child and u.event and u.date, "only complete readings are stored"
        events.append(NewEvent(child=u.child, event=u.event, date=u.date, status=u.status or "done", time=u.time,
                               details=dict(u.details)))
    return events


def _posted_at(waiting: PendingUpdate) -> datetime:
    """When the message asked about was posted (London time): its answer's dates count from then."""
    return _as_london(waiting.posted_at)


def _as_london(at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=LONDON)).astimezone(LONDON)


def _ts_time(ts: str, fallback: datetime) -> datetime:
    """When a Slack message was posted, from its ts (seconds since the epoch)."""
    try:
        at = datetime.fromtimestamp(float(ts), LONDON)
    except (ValueError, OverflowError, OSError):
        return fallback
    return at if timedelta(0) <= fallback - at <= timedelta(days=366) else fallback


_ANSWER = "\n(answer: "
_ANSWERED = re.compile(r"\n\((answer|chose): ")


def _answers_so_far(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A recorded answer's text: the message asked about, and the answers given before
    this one ('answer' typed in the thread, 'chose' a button's number), in order."""
    parts = _ANSWERED.split(text)
    original, rest = parts[0], parts[1:]
    said = [(rest[k], rest[k + 1].removesuffix(")")) for k in range(0, len(rest), 2)]
    return original, said[:-1]


def _retractions(targets: list[EventRecord]) -> list[NewEvent]:
    return [NewEvent(child=e.child, event="retraction", date=e.date, supersedes=e.id) for e in targets]


def _asked(value: dict[str, Any]) -> Query:
    """The question a button under a list carries ("what's due this week" when it has none)."""
    asked = value.get("query")
    return Query.from_data(asked) if isinstance(asked, dict) and asked else Query(type="due")


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
        self.gate = Gate(store)
        self.people = People(store)
        # No item's line is shorter (characters): a list of more than fits in a message that
        # many times never fits, and is summarised from counts without being read.
        self.shortest_line = shortest_line(store.pack)

    # -- messages ------------------------------------------------------------------
    def message(self, m: Incoming) -> list[Reply]:
        if not self.store.claim_message(m.channel, m.ts, m.user, m.now):
            return []  # a retry, or the app_mention twin of a message already handled
        try:
            return self._message(m)
        except NotAllowed as refused:
            return [refused.reply]
        except Exception:  # answered in the thread, never swallowed
            log.exception("could not handle a message in %s", m.channel)
            return [self._reply(m, "Sorry, something went wrong and nothing was recorded from this message. "
                                   "Please try again, or tell your unit co-ordinator.")]

    def _message(self, m: Incoming) -> list[Reply]:
        unit = self.store.unit_for_channel(m.channel)
        actor = self.gate.actor(m.user)
        where = Where(m.channel, None if m.direct else (m.thread_ts or m.ts))
        if m.thread_ts and unit and (open_here := self.store.pending_in_thread(m.channel, m.thread_ts)):
            replied = self._thread_reply(m, unit, actor, where, open_here)
            if replied is not None:
                return replied
        if reduction := read_frequency_decision(m.text):
            return [self._decide_frequency(reduction, m, unit, actor, where)]
        if decision := read_decision(m.text, m.now):
            return [self._decide(decision, m, unit, actor, where)]
        if unit and (child := read_transfer(m.text)):
            self.gate.require_member(actor, unit, where)
            return self._ask_transfer(child, unit, actor, m)
        if lead := read_lead(m.text):
            if unit is None:
                return [self._reply(m, "A child's lead is set in the unit's channel, where the unit sees it.")]
            self.gate.require_member(actor, unit, where)
            return [self._set_lead(lead, unit, actor, m)]
        if (unit or m.direct) and (back := read_back(m.text)):
            return [self._back(back.who or actor.user, actor, m, where)]
        if (unit or m.direct) and (leave := read_cover(m.text, m.now.astimezone(LONDON).date())):
            return [self._leave(leave, actor, m, where)]
        if question := read_report_question(m.text, m.now.astimezone(LONDON).date()):
            if not (m.direct or unit):
                return [self._reply(m, "I only show a unit's figures in its channel: ask me in a direct message, or "
                                       "with /timescales report (only you see the answer).")]
            return self.report_answer(question, m.user, m.now, m.channel, None if m.direct else (m.thread_ts or m.ts),
                                      via="dm" if m.direct else "channel", shown_in=unit)
        if wants_import(m.text) and not m.thread_ts:
            if unit is None:
                return [self._reply(m, "A caseload is imported in the unit's channel, for that unit.")]
            self.gate.require_member(actor, unit, where)
            return [self._import_checked(m, unit)]
        if unit and (since := read_plan_since(m.text, m.now.astimezone(LONDON).date())):
            self.gate.require_member(actor, unit, where)
            return self._plan_since(since, unit, m)
        reading = parse(m.text, m.now)
        if reading.kind == "query":
            assert reading.query is not None
            if m.direct:
                return self.answer_query(reading.query, m.user, m.now, m.channel, None, via="dm")
            if unit is None:  # anyone may read this channel: children are listed only where they belong
                return [self._reply(m, "I only list children in their unit's channel: ask me in a direct "
                                       "message, or with /timescales (only you see the answer).")]
            return self.answer_query(reading.query, m.user, m.now, m.channel, m.thread_ts or m.ts, shown_in=unit,
                                     via="channel")
        if reading.kind == "other":
            return [self._reply(m, "I keep your unit's timescales. Ask me \"what's due this week\", "
                                   "\"what's overdue\" or \"what's due for me\".")] if m.direct else []
        if unit is None:
            return [self._reply(m, UPDATES_IN_CHANNELS if m.direct else NOT_SET_UP.format(channel=m.channel))]
        self.gate.require_member(actor, unit, where)
        if reading.kind == "correction":
            return self._correct(m, unit, reading)
        posting = Posting(unit, m.channel, m.ts, m.user, m.now, m.text)
        # A reply in a thread is answered in that thread: Slack's thread is its parent's ts.
        return self._record_or_ask(posting, reading, m.thread_ts or m.ts, asked=posting)

    def _thread_reply(self, m: Incoming, unit: str, actor: Actor, where: Where,
                      open_here: list[PendingUpdate]) -> list[Reply] | None:
        """A reply in a thread with a question open: the answer to it, or what else it is.
        None: a new update (or anything else) read as a message of its own, the question
        staying open. With more than one open (the parent's, and one about a reply in the
        thread), the latest asked that this reads as an answer to takes it."""
        readings = [(w, ParseResult.from_data(pending_reading(w))) for w in open_here]
        replies = [(w, before, read_reply(before, m.text, _posted_at(w), m.now)) for w, before in readings]
        waiting, before, replied = next((r for r in replies if r[2].kind == "answer"), replies[0])
        if replied.kind == "thanks":
            return []  # not an answer, and not worth a reply
        if replied.kind in ("update", "query"):
            return None  # a message of its own; the question stays open
        self.gate.require_member(actor, unit, where)
        if replied.kind == "unsure":
            return [Reply(m.channel, "OK, I'll keep this open: nothing is recorded until you reply here with "
                                     "what I asked.", thread_ts=m.thread_ts)]
        if replied.kind == "unclear":
            question = questions(before, (m.channel, waiting.message_ts))
            return [Reply(m.channel, "I couldn't read that as an answer, so nothing is recorded yet.\n"
                                     + question.text, question.blocks, thread_ts=m.thread_ts)]
        assert m.thread_ts is not None
        return self._record_or_ask(self._answering(waiting, m.user, m.ts, m.text), replied.reading, m.thread_ts,
                                   asked=self._asked(waiting, f"\n(answer: {m.text})"))

    def _reply(self, m: Incoming, text: str) -> Reply:
        return Reply(m.channel, text, thread_ts=None if m.direct else (m.thread_ts or m.ts))

    @staticmethod
    def _asked(waiting: PendingUpdate, answered: str) -> Posting:
        """The message a question is about, as it was posted, with the answers so far (kept
        so that an edited later answer can be read again after them)."""
        return Posting(waiting.unit_id, waiting.channel, waiting.message_ts, waiting.posted_by, waiting.posted_at,
                       waiting.text + answered)

    @staticmethod
    def _answering(waiting: PendingUpdate, user: str, answer_ts: str, words: str) -> Posting:
        """What an answer records: the answerer is the author; the event says which
        message (and whose) it completes."""
        text = f"{waiting.text}\n(answer: {words})" if words else waiting.text
        return Posting(waiting.unit_id, waiting.channel, f"answer:{answer_ts}", user, waiting.posted_at, text,
                       answered_for=waiting.posted_by if user != waiting.posted_by else None, answer_ts=answer_ts,
                       about=waiting.message_ts)

    def _record_or_ask(self, posting: Posting, reading: ParseResult, thread: str, asked: Posting) -> list[Reply]:
        """Record a complete reading, or keep the message (`asked`, as posted) and ask."""
        children = [u.child for u in reading.updates if u.child]
        if held := self.gate.held_elsewhere(posting.unit_id, children):
            return [Reply(posting.channel, held_elsewhere_text(held), thread_ts=thread)]
        if reading.clarify or any(u.child is None or u.event is None or u.date is None for u in reading.updates):
            if not reading.clarify:  # an answer that still leaves something out: ask again
                return [Reply(posting.channel, "I still need the child's number, what happened and the date "
                                               "before I can record this.", thread_ts=thread)]
            self.store.save_pending(asked, reading.to_data(), thread_ts=thread)
            question = questions(reading, (posting.channel, asked.message_ts))
            return [Reply(posting.channel, question.text, question.blocks, thread_ts=thread)]
        replies = self._recorded_reply(posting, _new_events(reading), thread)
        self.store.drop_pending(posting.channel, asked.message_ts)
        return replies

    def _record(self, posting: Posting, updates: list[NewEvent], thread: str) -> list[EventRecord]:
        """Store updates; a child another unit holds (by now) means nothing is stored."""
        try:
            return self.store.record(posting, updates)
        except HeldElsewhere as held:
            raise NotAllowed(Reply(posting.channel, held_elsewhere_text(held.children), thread_ts=thread)) from None

    def _recorded_reply(self, posting: Posting, updates: list[NewEvent], thread: str, lead: str = "") -> list[Reply]:
        stored = self._record(posting, updates, thread)
        ids = {str(e.id) for e in stored}
        deadlines = [d for child in sorted({e.child for e in stored}) for d in self.store.child_deadlines(child)]
        created = [d for d in deadlines if d.event_id in ids and d.state == "open"]
        met = [d for d in deadlines if d.met_event_id in ids]
        assumed = self._mid_plan(self.store.understood(sorted({e.child for e in stored})),
                                 {str(e.id): e.event for e in stored}, {str(e.id): dict(e.details) for e in stored})
        parts = recorded([e for e in stored if e.event != "retraction"], created, met, posting.posted_by,
                         (posting.channel, posting.origin), posting.answered_for, lead, assumed)
        return [Reply(posting.channel, p.text, p.blocks, thread_ts=thread) for p in parts]

    # -- children met mid-plan (SPEC section 9) ------------------------------------------
    def _mid_plan(self, understood: dict[str, ChildTimeline], stored: dict[str, str],
                  stored_details: dict[str, dict[str, object]]) -> list[Piece]:
        """What the bot assumed from an update that happens only under a plan, and the
        question it needs answered: the plan's start, or which plan a visit was under."""
        vocabulary = self.store.pack.vocabulary
        parts: list[Piece] = []
        for child, timeline in understood.items():
            for plan in timeline.in_force.values():
                said = stored.get(plan.assumed_from or "")
                if said is None:
                    continue
                on = _on_plan(vocabulary.statuses[plan.status].title)
                lines = [f"Child {child} is {on}, as you said; I do not know since when."
                         if said in self.store.pack.asks_under else
                         f"I have taken child {child} to be {on} (a {vocabulary.events[said].title.lower()} "
                         "happens only then), and I do not know since when."]
                if said == "lac_review" and "sequence" not in stored_details.get(plan.assumed_from or "", {}):
                    lines.append("I took it to be the child's first Looked After Review, so the next is due "
                                 "within 3 months: the earliest it can be (after a later review it is 6 months; "
                                 "an import can give which review it was).")
                if plan.waiting_for_start:
                    waiting = list(dict.fromkeys(plan.waiting_for_start))
                    lines.append("Until I know, I am not tracking: " + "; ".join(waiting[:6])
                                 + (f" and {len(waiting) - 6} more" if len(waiting) > 6 else "") + ".")
                    lines.append(f"Reply in this thread with the date, e.g. \"plan started 3 Sep\", or post "
                                 f"\"{child} on a plan since 3 Sep\".")
                parts.append(Piece("\n".join(lines), [b for p in lines_pieces(lines) for b in p.blocks]))
            for event_id in timeline.plan_unknown:
                if event_id not in stored:
                    continue
                choices = self.store.pack.asks_under["visit"]
                text = (f"Which plan is child {child} on? I know of none, and how often they must be visited "
                        "depends on it. The visit is recorded either way.")
                buttons = [button(vocabulary.statuses[s].title, f"visit_plan_{n}", {"event": event_id, "status": s})
                           for n, s in enumerate(choices)]
                buttons.append(button("None of these", f"visit_plan_{len(choices)}", {"event": event_id, "status": ""}))
                parts.append(Piece(text, [section(text), *actions(buttons)]))
        return parts

    def _plan_since(self, since: PlanSince, unit: str, m: Incoming) -> list[Reply]:
        """A plan in force since a date before the bot knew the child: recorded as history
        (what fell due before now is overdue since before the bot knew, and sent nobody)."""
        thread = m.thread_ts or m.ts
        child = since.child
        if child is None and m.thread_ts:
            about = {e.child for e in self.store.live_events(m.channel, m.thread_ts)}
            child = about.pop() if len(about) == 1 else None
        if child is None:
            return [self._reply(m, "Which child? Say, e.g., \"456 on a CP plan since 3 Sep\".")]
        status = since.status
        if status is None:
            assumed = [p.status for p in self.store.understood([child])[child].in_force.values() if p.since is None]
            status = assumed[0] if len(assumed) == 1 else None
        if status is None:
            return [self._reply(m, f"Which plan is child {child} on since {for_people(since.since)}? Say, e.g., "
                                   f"\"{child} on a CP plan since {for_people(since.since)}\".")]
        start = next(m_.event for m_ in self.store.pack.vocabulary.statuses[status].starts if not m_.details)
        posting = Posting(unit, m.channel, m.ts, m.user, m.now, m.text, about=m.thread_ts)
        title = self.store.pack.vocabulary.statuses[status].title
        return self._recorded_reply(posting, [NewEvent(child, start, since.since, details={IMPORTED: True})], thread,
                                    lead=f"Child {child} on a {title} since {for_people(since.since)}. ")

    # -- a caseload imported from Slack (SPEC section 9) ---------------------------------
    def _import_checked(self, m: Incoming, unit: str) -> Reply:
        """The dry run of a shared CSV, with a Confirm button: nothing is stored yet."""
        shared = m.file
        if shared is not None and shared.refused:
            return self._reply(m, _not_downloaded(shared, "try again: /timescales import takes the newest CSV "
                                                          "shared here"))
        if shared is not None and shared.unreadable:
            return self._reply(m, _not_readable(shared))
        if shared is None or shared.text is None:
            return self._reply(m, "Share the caseload as a CSV file in this channel, with the words \"import "
                                  "caseload\" in the same message (the README says how to make the file).")
        result = import_file(self.store, shared.text, unit, m.user, m.now, shared.name, dry_run=True,
                             allowed_units=[unit])
        lines = summary_lines(result, dry_run=True, limit=SHOWN_PROBLEMS)
        if result.problems or not result.events:
            return self._reply(m, "\n".join(lines))
        # from /timescales import there is no message to thread under: the outcome goes in the channel
        value = {"file": shared.id, "name": shared.name[:200], "digest": shared.digest,
                 "thread": "" if m.ts.startswith(SLASH) else m.ts}
        blocks = [b for p in lines_pieces(lines) for b in p.blocks]
        blocks += actions([button("Confirm import", "import_confirm", value, "primary")])
        return Reply(m.channel, "\n".join(lines), blocks, thread_ts=m.ts)

    @_refusals
    def confirm_import(self, channel: str, shared: SharedFile, digest: str, thread: str, user: str, action_ts: str,
                       now: datetime) -> list[Reply]:
        """The Confirm button: the same file, by a member of the channel's unit, for that unit only."""
        unit = self.store.unit_for_channel(channel)
        if unit is None:
            return []
        self.gate.require_member(self.gate.actor(user), unit, Where(channel, thread))
        if shared.refused:
            return [Reply(channel, _not_downloaded(shared, "press Confirm import again"), thread_ts=thread or None,
                          only_for=user)]
        if shared.unreadable:
            return [Reply(channel, _not_readable(shared), thread_ts=thread or None)]
        if shared.text is None or shared.digest != digest:
            return [Reply(channel, "The file has changed since it was checked: share it again with \"import "
                                   "caseload\".", thread_ts=thread or None)]
        if not self.store.claim_message(channel, f"import:{action_ts}", user, now):
            return []
        result = import_file(self.store, shared.text, unit, user, now, shared.name, allowed_units=[unit])
        lines = summary_lines(result, dry_run=False, limit=SHOWN_PROBLEMS)
        return [Reply(channel, f"Confirmed by <@{user}>. " + "\n".join(lines), thread_ts=thread or None)]

    @_refusals
    def visit_plan(self, event_id: str, status: str, user: str, action_ts: str, now: datetime,
                   channel: str) -> list[Reply]:
        """A button under "which plan is the child on?": the visit recorded again, saying
        under which plan (or none), by the person who clicked."""
        visit = self.store.event(int(event_id)) if event_id.isdigit() else None
        if visit is None or visit.event != "visit" or visit.channel != channel:
            return []
        unit = self.store.child_unit(visit.child)
        where = Where(channel, visit.origin_ts or visit.message_ts)
        self.gate.require_member(self.gate.actor(user), unit or "", where)
        if not self.store.claim_message(channel, f"plan:{action_ts}", user, now):
            return []
        if visit.id not in {e.id for e in self.store.live_events(channel, where.thread_ts or "")}:
            return [Reply(channel, "That visit has been changed since: nothing more recorded.",
                          thread_ts=where.thread_ts, only_for=user)]
        posting = Posting(unit or "", channel, f"plan:{action_ts}", user, now, visit.text, about=where.thread_ts)
        again = NewEvent(visit.child, visit.event, visit.date, visit.status, visit.time,
                         {**visit.details, UNDER: status or "none"}, supersedes=visit.id)
        return self._recorded_reply(posting, [again], where.thread_ts or "")

    # -- corrections, edits, undo ------------------------------------------------------
    def _require_held_here(self, unit: str, children: list[str], where: Where) -> None:
        if held := self.gate.held_elsewhere(unit, children):
            raise NotAllowed(Reply(where.channel, held_elsewhere_text(held), thread_ts=where.thread_ts))

    def _correct(self, m: Incoming, unit: str, reading: ParseResult) -> list[Reply]:
        assert reading.correction is not None
        targets = self._targets(m, unit, reading.correction.corrects)
        if not targets:
            return [self._reply(m, "I could not find the update to correct. Reply in the thread of the update, "
                                   "or name the child and what happened (\"correction: HV for 123 was yesterday\").")]
        thread = m.thread_ts or m.ts
        new = reading.updates[0] if reading.updates else None
        self._require_held_here(unit, [e.child for e in targets] + ([new.child] if new and new.child else []),
                                Where(m.channel, thread))
        posting = Posting(unit, m.channel, m.ts, m.user, m.now, m.text, about=m.thread_ts)
        if reading.correction.undo:
            return [self._withdraw(posting, targets, thread, "Undone")]
        replacements = []
        for old in targets:
            replacements.append(NewEvent(
                child=(new.child if new and new.child else old.child),
                event=(new.event if new and new.event else old.event),
                date=(new.date if new and new.date else old.date),
                status=(new.status if new and new.status else old.status),
                time=(new.time if new and new.time else old.time),
                details={**old.details, **(new.details if new else {})}, supersedes=old.id))
        if new and new.child and any(r.child != old.child for r, old in zip(replacements, targets, strict=True)):
            # Another child: withdraw from the old one, record for the new one.
            replacements = _retractions(targets) + [replace(r, supersedes=None) for r in replacements]
        return self._recorded_reply(posting, replacements, thread)

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
        self._record(posting, _retractions(targets), thread)
        lines = [f"{verb} by <@{posting.posted_by}>: these are no longer recorded, and their deadlines are gone:"]
        lines += [f"• {describe_event(e)}" for e in targets]
        return Reply(posting.channel, "\n".join(lines), thread_ts=thread)

    def _unit_member(self, channel: str, user: str, thread: str | None) -> tuple[str, Actor] | None:
        """The channel's unit and the person, who must be one of its members; None for a
        channel that is not a unit's."""
        unit = self.store.unit_for_channel(channel)
        if unit is None:
            return None
        actor = self.gate.actor(user)
        self.gate.require_member(actor, unit, Where(channel, thread))
        return unit, actor

    @_refusals
    def undo(self, channel: str, message_ts: str, user: str, action_ts: str, now: datetime) -> list[Reply]:
        if (found := self._unit_member(channel, user, message_ts)) is None:
            return []
        unit, _ = found
        if not self.store.claim_message(channel, f"undo:{action_ts}", user, now):
            return []
        targets = self.store.live_events(channel, message_ts)
        if not targets:
            return [Reply(channel, "That update has already been undone.", thread_ts=message_ts, only_for=user)]
        self._require_held_here(unit, [e.child for e in targets], Where(channel, message_ts))
        posting = Posting(unit, channel, f"undo:{action_ts}", user, now, "Undo", about=message_ts)
        return [self._withdraw(posting, targets, message_ts, "Undone")]

    @_refusals
    def may_correct(self, channel: str, message_ts: str, user: str) -> list[Reply]:
        """Before the Correct form opens: [] when this person may correct that update."""
        if (found := self._unit_member(channel, user, message_ts)) is not None:
            self._require_held_here(found[0], [e.child for e in self.store.live_events(channel, message_ts)],
                                    Where(channel, message_ts))
        return []

    @_refusals
    def edited(self, channel: str, message_ts: str, text: str, user: str, edit_ts: str, now: datetime) -> list[Reply]:
        """An edited Slack message is read again and replaces what it recorded (and what its
        earlier edits recorded: each is found from the message it is about). It is read as
        of when it was first posted: "yesterday" edited a day later is still that day."""
        old = self.store.live_events(channel, message_ts)
        posted = _as_london(old[0].posted_at) if old else _ts_time(message_ts, now)
        reading = parse(text, posted)
        if reading.kind != "update" and not old:
            return []
        if (found := self._unit_member(channel, user, message_ts)) is None:
            return []
        unit, _ = found
        if old and all(e.answer_ts == message_ts for e in old):
            return self._edited_answer(channel, message_ts, text, user, edit_ts, now, unit, old)
        if not self.store.claim_message(channel, f"edit:{edit_ts}", user, now):
            return []
        where = Where(channel, message_ts)
        self._require_held_here(unit, [e.child for e in old] + [u.child for u in reading.updates if u.child], where)
        withdrawn = Posting(unit, channel, f"edit:{edit_ts}", user, now, text, about=message_ts)
        if reading.kind != "update":
            return [self._withdraw(withdrawn, old, message_ts, "Edited")]
        if old:  # what the message said before is withdrawn before it is read again, or asked about
            self._record(withdrawn, _retractions(old), message_ts)
        if reading.clarify:
            asked = Posting(unit, channel, message_ts, user, now, text)
            return self._record_or_ask(asked, reading, message_ts, asked=asked)
        posting = Posting(unit, channel, f"edit:{edit_ts}:new", user, now, text, about=message_ts)
        return self._recorded_reply(posting, _new_events(reading), message_ts, lead="Edited, so read again. ")

    def _edited_answer(self, channel: str, message_ts: str, text: str, user: str, edit_ts: str, now: datetime,
                       unit: str, old: list[EventRecord]) -> list[Reply]:
        """An edited answer to the bot's question: the question is read again from the message
        it was about, as of when that was posted, and the new answer replaces the old one."""
        first = old[0]
        thread = first.origin_ts or message_ts
        original, earlier = _answers_so_far(first.text)
        posted = _as_london(first.posted_at)
        before: ParseResult | None = parse(original, posted)
        for kind, said in earlier:  # the questions asked before this answer's, as they were answered
            if before is not None and kind == "chose" and said.isdigit() and before.clarify \
                    and int(said) < len(before.clarify[0].options):
                before = choose(before, int(said))
            elif before is not None and kind == "answer" and before.clarify:
                again = read_reply(before, said, posted, now)
                before = again.reading if again.kind == "answer" else None
            else:
                before = None
        replied = read_reply(before, text, posted, now) if before is not None and before.clarify else None
        reading = replied.reading if replied and replied.kind == "answer" else None
        if reading is None or reading.clarify or any(
                u.child is None or u.event is None or u.date is None for u in reading.updates):
            return [Reply(channel, "I couldn't read the edited answer as an answer to my question, so what it "
                                   "recorded stands: to change it, use Undo on my reply and answer again.",
                          thread_ts=thread, only_for=user)]
        if not self.store.claim_message(channel, f"edit:{edit_ts}", user, now):
            return []
        where = Where(channel, thread)
        self._require_held_here(unit, [e.child for e in old] + [u.child for u in reading.updates if u.child], where)
        self._record(Posting(unit, channel, f"edit:{edit_ts}", user, now, text, about=thread), _retractions(old),
                     thread)
        posting = Posting(unit, channel, f"answer:{message_ts}:edit:{edit_ts}", user, posted,
                          f"{first.text.rsplit(_ANSWER, 1)[0]}{_ANSWER}{text})", answered_for=first.answered_for,
                          answer_ts=message_ts, about=thread)
        return self._recorded_reply(posting, _new_events(reading), thread, lead="Answer edited, so read again. ")

    @_refusals
    def deleted(self, channel: str, message_ts: str, user: str, now: datetime) -> list[Reply]:
        """A deleted message withdraws what it recorded. Slack says whose message it was,
        not who deleted it (the author or a workspace admin): the author is recorded."""
        targets = self.store.live_events(channel, message_ts)
        waiting = self.store.pending(channel, message_ts)
        if not targets and waiting is None:
            return []
        if (found := self._unit_member(channel, user, message_ts)) is None:
            return []
        unit, _ = found
        if not self.store.claim_message(channel, f"delete:{message_ts}", user, now):
            return []
        self.store.drop_pending(channel, message_ts)
        if not targets:
            return []
        self._require_held_here(unit, [e.child for e in targets], Where(channel, message_ts))
        posting = Posting(unit, channel, f"delete:{message_ts}", user, now, "(message deleted)", about=message_ts)
        return [self._withdraw(posting, targets, message_ts, "The message was deleted")]

    @_refusals
    def chose(self, channel: str, message_ts: str, option: int, user: str, action_ts: str,
              now: datetime) -> list[Reply]:
        """A button under a question: the person who clicked is the one recorded."""
        waiting = self.store.pending(channel, message_ts)
        if waiting is None:
            return []
        self.gate.require_member(self.gate.actor(user), waiting.unit_id, Where(channel, message_ts))
        if not self.store.claim_message(channel, f"choose:{action_ts}", user, now):
            return []
        reading = ParseResult.from_data(pending_reading(waiting))
        if not reading.clarify or option >= len(reading.clarify[0].options):
            return []
        return self._record_or_ask(self._answering(waiting, user, f"choose:{action_ts}", ""), choose(reading, option),
                                   pending_thread(waiting), asked=self._asked(waiting, f"\n(chose: {option})"))

    # -- people: leads and cover (SPEC section 12) ------------------------------------
    def _set_lead(self, lead: LeadReading, unit: str, actor: Actor, m: Incoming) -> Reply:
        holder = self.store.holders([lead.child]).get(lead.child)
        if holder is None:
            return self._reply(m, f"I have nothing recorded for child {lead.child} yet: post an update for the child "
                                  "first, then its lead.")
        if holder != unit:
            return self._reply(m, held_elsewhere_text([lead.child]))
        if not self.gate.actor(lead.lead).member_of(unit):
            return self._reply(m, f"<@{lead.lead}> is not a member of this unit in Timescales, so cannot lead child "
                                  f"{lead.child}: ask the unit co-ordinator to add them to timescales.toml.")
        was = self.people.set_lead(lead.child, lead.lead, actor.user, m.now, m.channel, m.ts)
        before = f" (was <@{was}>)" if was and was != lead.lead else ""
        return self._reply(m, f"Child {lead.child}'s lead is now <@{lead.lead}>{before}, set by <@{actor.user}>. "
                              "Reminders name them, and the child is in their \"what's due for me\".")

    def _may_speak_for(self, actor: Actor, who: str, where: Where) -> None:
        """Leave is recorded by the person, or by a co-ordinator or manager of their unit."""
        if who == actor.user:
            return
        for unit in self.gate.actor(who).roles:
            if actor.roles.get(unit, frozenset()) & (MANAGER_ROLES | {"coordinator"}):
                return
        raise self.gate.refuse(actor, where, f"Only <@{who}>, or their unit's co-ordinator or a manager, can record "
                                             "their leave.")

    def _leave(self, leave: CoverReading, actor: Actor, m: Incoming, where: Where) -> Reply:
        who = leave.who or actor.user
        self._may_speak_for(actor, who, where)
        away, cover = self.gate.actor(who), leave.cover
        if not away.roles:
            return self._reply(m, f"<@{who}> is not in timescales.toml, so I have nothing to pass on while they are "
                                  "away.")
        if leave.first_day is None or leave.last_day is None:
            return self._reply(m, "I could not tell the dates: say them like \"I'm on leave 7-18 Dec, @Sam covering\".")
        today = m.now.astimezone(LONDON).date()
        if leave.last_day < today:
            return self._reply(m, "Those dates are past already, so I have recorded nothing.")
        if cover and not set(self.gate.actor(cover).roles) & set(away.roles):
            return self._reply(m, f"<@{cover}> is not a member of <@{who}>'s unit in Timescales, so cannot cover for "
                                  "them: ask the unit co-ordinator to add them to timescales.toml.")
        self.people.record_cover(who, cover, leave.first_day, leave.last_day, actor.user, m.now, m.channel, m.ts)
        days = (f"{for_people(leave.first_day)} to {for_people(leave.last_day)}" if leave.first_day != leave.last_day
                else for_people(leave.first_day))
        passed = (f"<@{cover}> covers: what would go to <@{who}> goes to them, saying so" if cover else
                  "nobody named to cover: a manager's escalations go to the next manager up")
        return self._reply(m, f"Recorded: <@{who}> away {days}; {passed}. It ends by itself; \"back from leave\" "
                              "ends it sooner.")

    def _back(self, who: str, actor: Actor, m: Incoming, where: Where) -> Reply:
        self._may_speak_for(actor, who, where)
        ended = self.people.back(who, m.now.astimezone(LONDON).date())
        if not ended:
            return self._reply(m, f"I had no leave recorded for <@{who}> today.")
        covers = sorted({c.cover for c in ended if c.cover})
        return self._reply(m, f"Welcome back, <@{who}>: from today what is theirs comes to them again"
                              + (f" (no longer to {', '.join(f'<@{c}>' for c in covers)})." if covers else "."))

    # -- moving a child to another unit --------------------------------------------------
    def _ask_transfer(self, child: str, unit: str, actor: Actor, m: Incoming) -> list[Reply]:
        holder = self.store.holders([child]).get(child)
        if holder is None:
            return [self._reply(m, f"No unit holds child {child} yet: post its updates here and it will be this "
                                   "unit's.")]
        if holder == unit:
            return [self._reply(m, f"Child {child} is already held by this unit.")]
        transfer = self.store.ask_transfer(child, unit, actor.user, m.now, m.channel, m.ts)
        if actor.manages(holder):  # a manager over both units agrees it in asking
            return self._transferred(transfer.id, True, actor, m.now, m.channel)
        managers = sorted(self.store.members(holder).get("team_manager", set()))
        asked = transfer_question(transfer.id, child, self.store.unit_names().get(unit, unit), actor.user)
        return [Reply(manager, asked.text, asked.blocks) for manager in managers] + [self._reply(
            m, f"I have asked the team manager of the unit holding child {child} to agree the transfer; I will "
               "say here when they decide. Nothing for the child is recorded here until then.")]

    @_refusals
    def decide_transfer(self, transfer_id: int, agree: bool, user: str, now: datetime, channel: str) -> list[Reply]:
        """Transfer / Decline, by a manager of the unit holding the child."""
        transfer = self.store.transfer(transfer_id)
        where = Where(channel)
        actor = self.gate.actor(user)
        if transfer is None:
            raise self.gate.refuse(actor, where, "I cannot find that transfer request.")
        self.gate.require_manager(actor, transfer.from_unit, where, "Only a manager of the unit holding the "
                                  "child can agree or decline its transfer.")
        return self._transferred(transfer_id, agree, actor, now, channel)

    def _transferred(self, transfer_id: int, agree: bool, actor: Actor, now: datetime, channel: str) -> list[Reply]:
        decided = self.store.decide_transfer(transfer_id, agree, actor.user, now)
        if decided is None:
            return [Reply(channel, "That transfer request has already been decided.", only_for=actor.user)]
        names = self.store.unit_names()
        child, new_unit = decided.child, escape(names.get(decided.to_unit, decided.to_unit))
        asked_in = Reply(decided.channel, (
            f"Child {child} is now held by this unit: transfer agreed by <@{actor.user}>. Post its updates "
            "here; its reminders come here from now on.") if agree else (
            f"The transfer of child {child} was declined by <@{actor.user}>: it stays with its unit."),
            thread_ts=decided.message_ts)
        if not agree:
            return [asked_in, Reply(channel, f"Declined: child {child} stays with your unit.", only_for=actor.user)]
        told = Reply(self.store.unit_channel(decided.from_unit),
                     f"Child {child} has moved to {new_unit} (transfer agreed by <@{actor.user}>): its updates "
                     "and reminders are theirs from now on.")
        return [asked_in, told] + ([] if channel in (decided.channel, told.channel) else [
            Reply(channel, f"Transferred: child {child} is now held by {new_unit}.")])

    # -- buttons on reminders -------------------------------------------------------
    def _deadline(self, deadline_id: str, user: str, where: Where) -> tuple[DeadlineRecord, Actor]:
        """The deadline behind a button, and the person, who must be in the unit holding it."""
        child = deadline_id.split(":")[0]
        record = next((d for d in self.store.child_deadlines(child) if d.id == deadline_id), None)
        actor = self.gate.actor(user)
        if record is None:  # the same words as for another unit's task: nothing said of whether it exists
            raise self.gate.refuse(actor, where, NOT_YOUR_CHILD)
        self.gate.require_member(actor, record.unit_id, where, NOT_YOUR_CHILD)
        return record, actor

    @_refusals
    def mark_done(self, deadline_id: str, user: str, action_ts: str, now: datetime, channel: str) -> list[Reply]:
        record, _ = self._deadline(deadline_id, user, Where(channel))
        unit_channel = self.store.unit_channel(record.unit_id)
        if not self.store.claim_message(unit_channel, f"done:{action_ts}", user, now):
            return []
        if record.state != "open":
            return [Reply(channel, f"Already {record.state}: {record.title} for child {record.child}.", only_for=user)]
        posting = Posting(record.unit_id, unit_channel, f"done:{action_ts}", user, now, f"Mark done: {record.title}")
        self.store.record(posting, [NewEvent(child=record.child, event="task_done", date=now.astimezone(LONDON).date(),
                                             details={"rule": record.rule})])
        return [Reply(channel, f"Marked done by <@{user}>: {record.title} for child {record.child} "
                               f"({record.standard}), {for_people(now.astimezone(LONDON).date())}.")]

    @_refusals
    def may_give_reason(self, deadline_id: str, user: str, channel: str) -> list[Reply]:
        """Before the reason / extension form opens: [] when this person may use it."""
        self._deadline(deadline_id, user, Where(channel))
        return []

    def check_reason(self, deadline_id: str, user: str, new_due: str | None) -> str | None:
        """Why this person may not record this (None if they may), shown in the form itself."""
        try:
            _, actor = self._deadline(deadline_id, user, Where(""))
        except NotAllowed as refused:
            return refused.reply.text
        if new_due and not actor.manages(self.store.child_unit(deadline_id.split(":")[0]) or ""):
            return ONLY_MANAGERS_EXTEND
        return None

    @_refusals
    def record_reason(self, deadline_id: str, user: str, reason: str, new_due: str | None, now: datetime,
                      submission: str) -> list[Reply]:
        """The reason / extension form, once however often the same submission arrives."""
        record, actor = self._deadline(deadline_id, user, Where(""))
        unit_channel = self.store.unit_channel(record.unit_id)
        if new_due and not actor.manages(record.unit_id):
            return [Reply(unit_channel, ONLY_MANAGERS_EXTEND, only_for=user)]
        if not self.store.claim_message(unit_channel, f"form:{submission}", user, now):
            return []
        due = date.fromisoformat(new_due) if new_due else record.due
        try:
            self.store.record_decision(record.child, "extension" if new_due else "reason", record.id, due, user, now,
                                       reason, unit_channel, f"form:{submission}")
        except DecisionNotAllowed as refused:
            return [Reply(unit_channel, f"Not recorded: {refused}.", only_for=user)]
        what = f"Extension to {for_people(due)}" if new_due else "Reason"
        return [Reply(unit_channel, f"{what} recorded by <@{user}> for child {record.child}: "
                                    f"{record.title} ({record.standard}). Reason: {escape(reason)}")]

    # -- decisions -------------------------------------------------------------------
    def _decide(self, d: DecisionReading, m: Incoming, unit: str | None, actor: Actor, where: Where) -> Reply:
        if not (d.child and d.target and d.due):
            return self._reply(m, "To record a decision I need the child's number, what it moves (ICPC, first core "
                                  "group or assessment), the new date and the reason, e.g. \"ICPC for 123 set for 10 "
                                  "Dec by lead SW: family availability\".")
        holder = self._deciding_for(d.child, m, unit, actor, where)
        if isinstance(holder, Reply):
            return holder
        if d.kind == "extension" and not actor.manages(holder):
            return self._reply(m, ONLY_MANAGERS_EXTEND)
        if not d.reason:
            return self._reply(m, "A decision that moves a deadline needs its reason: add it after a colon or "
                                  "\"reason\".")
        try:
            self.store.record_decision(d.child, d.kind, d.target, d.due, m.user, m.now, d.reason, m.channel, m.ts)
        except DecisionNotAllowed as refused:
            return self._reply(m, f"Not recorded: {refused}.")
        what = {"icpc": "ICPC", "first_core_group": "first core group", "assessment": "assessment"}[d.target]
        kind = "Extension" if d.kind == "extension" else "Lead social worker's decision"
        agreed = f", agreed by {escape(d.agreed_by)}" if d.agreed_by else ""
        return self._reply(m, f"{kind} recorded by <@{m.user}>{agreed}: the {what} for child {d.child} is now due "
                              f"{for_people(d.due)}. Reason: {escape(d.reason)}")

    def _deciding_for(self, child: str, m: Incoming, unit: str | None, actor: Actor, where: Where) -> str | Reply:
        """The unit holding the child a decision is about, or the reply refusing it: decisions
        are taken in the child's unit's channel or a DM, by a member of that unit."""
        holder = self.store.child_unit(child)
        if unit is None and not m.direct:  # everyone in this channel would read the child's new date
            return Reply(m.channel, "I record decisions only in the child's unit's channel (or in a direct message "
                                    "to me), where only the unit reads them.", thread_ts=m.thread_ts or m.ts,
                         only_for=m.user)
        if unit is not None:
            self.gate.require_member(actor, unit, where)
            if holder is not None and holder != unit:
                return self._reply(m, held_elsewhere_text([child]))
        if not actor.member_of(holder) or holder is None:
            return self._reply(m, f"Child {child} is not held by a unit you belong to, so I have not recorded this.")
        return holder

    def _decide_frequency(self, d: FrequencyDecision, m: Incoming, unit: str | None, actor: Actor,
                          where: Where) -> Reply:
        """A Service Manager's decision that a Supervision Order's visits or network meetings reduce
        (9.11, 9.13): recorded like an override, with its author and reason, from the day it is posted."""
        if not d.child:
            return self._reply(m, "To record that decision I need the child's number and the reason, e.g. \"SM "
                                  "decision: visits for 500 can reduce to every 20 working days: good progress\".")
        holder = self._deciding_for(d.child, m, unit, actor, where)
        if isinstance(holder, Reply):
            return holder
        self.gate.require_service_manager(actor, holder, where, ONLY_SERVICE_MANAGERS_REDUCE)
        if not d.reason:
            return self._reply(m, "A decision to reduce visits or network meetings needs its rationale (9.11): add "
                                  "it after a colon or \"reason\".")
        open_rules = {r.rule for r in self.store.child_deadlines(d.child) if r.state == "open"}
        if not open_rules & SUPERVISION_ORDER_RULES:
            return self._reply(m, f"I have no Supervision Order recorded for child {d.child}, so I have not recorded "
                                  "this. Post the order first (\"supervision order made for ...\").")
        today = m.now.astimezone(LONDON).date()
        for target in d.reduces:
            self.store.record_decision(d.child, "reduce", target, today, m.user, m.now, d.reason, m.channel,
                                       m.ts if len(d.reduces) == 1 else f"{m.ts}:{target}")
        deadlines = self.store.child_deadlines(d.child)
        said = []
        for target in d.reduces:
            what, often, rule = REDUCTIONS[target]
            due = next((r.due for r in deadlines if r.rule == rule and r.state == "open"), None)
            said.append(f"{what} {often}" + (f" (next due {for_people(due)})" if due else ""))
        return self._reply(m, f"Service Manager's decision recorded by <@{m.user}> for child {d.child}, from "
                              f"{for_people(today)}: {' and '.join(said)}. Reason: {escape(d.reason)}")

    # -- questions ---------------------------------------------------------------------
    def answer_query(self, q: Query, user: str, now: datetime, channel: str, thread: str | None,
                     shown_in: str | None = None, via: str = "slash", unit: str | None = None, page: int = 1,
                     after: list[Any] | None = None, whose: str | None = None) -> list[Reply]:
        """Answer about the asker's units; in a unit's channel, where everyone in the channel
        reads the answer, only about that unit (`shown_in`); `unit` narrows it to one of the
        asker's units (a "Show" button). Logged in the access log. A list too long to read
        in one go across several units is a summary per unit, with a button for each; one
        unit's list of more than PAGE_ITEMS is shown a page at a time (`page`, from after
        the item `after`), each with a button for the next, and so is a person's own
        ("what's due for me": `_mine`; `whose`, the list of someone they cover for)."""
        units = self.store.units_for(user)
        only_for = user if via == "channel" else None  # a refusal in a channel: for the asker only
        if not units:
            return [Reply(channel, "You have no units configured, so I cannot show you any children. Ask your "
                                   "unit co-ordinator to add you to timescales.toml.", thread_ts=thread,
                          only_for=only_for)]
        narrowed = shown_in or unit
        if narrowed is not None:
            if narrowed not in units:
                return [Reply(channel, "You are not in this channel's unit, so I will not list its children here.",
                              thread_ts=thread, only_for=only_for)]
            units = [narrowed]
        if q.type == "mine":
            return self._mine(q, user, via, units, now, channel, thread, page, after, whose)
        today = now.astimezone(LONDON).date()
        names = self._names(units)
        items: list[DueItem]
        if q.type == "overdue":
            heading = "Overdue"
            if long := self._long(q, user, via, units, names, now, channel, thread, heading, page, after):
                return long
            items = self.store.due(units, now, overdue_only=True)
        elif q.type == "child":
            if self.store.child_unit(q.child or "") not in units:
                return [Reply(channel, f"I have nothing for child {q.child} in your units.", thread_ts=thread)]
            items = self.store.due(units, now, end=today + timedelta(days=28), child=q.child)
            heading = f"Child {q.child}{self._lead_words(q.child or '', today)}: overdue and the next 4 weeks"
            heading += f". {self._plans_words(q.child or '')}"
        else:
            span = for_people(q.start) if q.start == q.end else f"{for_people(q.start)} to {for_people(q.end)}"  # type: ignore[arg-type]
            heading = f"Due {span}, and everything overdue"
            if long := self._long(q, user, via, units, names, now, channel, thread, heading, page, after):
                return long
            items = self.store.due(units, now, q.start, q.end)
        parts = due_list(items, today, heading, names)
        if len(parts) > PARTS_IN_ONE_ANSWER and len(units) > 1:
            summary = units_summary(unit_counts(items), heading, names, {"query": q.to_data()})
            self.store.log_access(user, via, units, [], now)  # counts only: no child shown
            return [Reply(channel, summary.text, summary.blocks, thread_ts=thread)]
        return self._shown(user, via, units, now, channel, thread, parts, items,
                           child=q.child if q.type == "child" else None)

    def _long(self, q: Query, user: str, via: str, units: list[str], names: dict[str, str], now: datetime,
              channel: str, thread: str | None, heading: str, page: int, after: list[Any] | None
              ) -> list[Reply] | None:
        """A list too long to show whole, from the database's counts: one unit's a page at a
        time, several units' as a summary per unit. None: it is laid out whole."""
        if len(units) == 1:
            paged = self._page(q, units, names, now, heading, page, after, {"unit": units[0]})
            return self._shown(user, via, units, now, channel, thread, *paged) if paged else None
        summary = self._too_long(q, user, via, units, names, now, heading)
        return [Reply(channel, summary.text, summary.blocks, thread_ts=thread)] if summary else None

    def _mine(self, q: Query, user: str, via: str, units: list[str], now: datetime, channel: str,
              thread: str | None, page: int, after: list[Any] | None, whose: str | None) -> list[Reply]:
        """"What's due for me", and under its own heading the list of each person they cover for
        today: each read from the database as that person's, among the asker's units. A list of
        more than PAGE_ITEMS comes a page at a time as a unit's does, its Next page button
        carrying who asked (`for`: only they may turn its pages, see `next_page`) and, for a
        covered person's, whose list it is (`whose`: still theirs to see only while covering)."""
        today = now.astimezone(LONDON).date()
        lists = [(user, "Due for you (overdue, and the next 7 days)")]
        lists += [(leave.who, f"Covering for <@{leave.who}>, away until {for_people(leave.last_day)}")
                  for leave in sorted(self.people.away_on(today).values(), key=lambda a: a.who) if leave.cover == user]
        if after is not None:  # a next page: of that one list
            lists = [(who, heading) for who, heading in lists if who == (whose or user)]
            if not lists:
                return [Reply(channel, "You are no longer covering for them, so I will not show their list.",
                              thread_ts=thread, only_for=user)]
        names = self._names(units)
        parts: list[Part] = []
        shown: list[DueItem] = []
        for who, heading in lists:
            carried = {"for": user} if who == user else {"for": user, "whose": who}
            if paged := self._page(q, units, names, now, heading, page, after, carried, whose=who):
                parts, shown = parts + paged[0], shown + paged[1]
            else:  # at most a page: shown whole, as any short list
                theirs = self.store.due_page(units, now, None, PAGE_ITEMS, whose=who)
                parts, shown = parts + due_list(theirs, today, heading, names), shown + theirs
        return self._shown(user, via, units, now, channel, thread, parts, shown)

    def _page(self, q: Query, units: list[str], names: dict[str, str], now: datetime, heading: str, page: int,
              after: list[Any] | None, carried: dict[str, Any], whose: str | None = None
              ) -> tuple[list[Part], list[DueItem]] | None:
        """A list a page at a time, when it holds more than PAGE_ITEMS (counted in the database):
        one unit's, or (`whose`) a person's over these units. Only the page's items are read
        and laid out; its Next page button carries the question, `carried` and where the page
        ended. None when it is short enough to show whole (a next page is always a page)."""
        start, end, overdue_only = _window(q)
        counts = self.store.due_counts(units, now, start, end, overdue_only, whose=whose)
        if after is None and sum(o + d for o, d in counts.values()) <= PAGE_ITEMS:
            return None
        items = self.store.due_page(units, now, after, PAGE_ITEMS + 1, start, end, overdue_only, whose=whose)
        shown = items[:PAGE_ITEMS]
        more = {"query": q.to_data(), **carried, "page": page + 1, "after": page_key(shown[-1])} \
            if len(items) > PAGE_ITEMS else None
        return due_page(shown, now.astimezone(LONDON).date(), heading, names, counts, page, PAGE_ITEMS, more), shown

    def _shown(self, user: str, via: str, units: list[str], now: datetime, channel: str, thread: str | None,
               parts: list[Part], items: list[DueItem], child: str | None = None) -> list[Reply]:
        """A list's messages, its children (those shown, and only those) in the access log."""
        self.store.log_access(user, via, units, (i.record.child for i in items), now, child=child)
        return [Reply(channel, p.text, p.blocks, thread_ts=thread) for p in parts]

    def _names(self, units: list[str]) -> dict[str, str]:
        return {u: name for u, name in self.store.unit_names().items() if u in units}

    def _plans_words(self, child: str) -> str:
        """What the bot takes to be in force for a child (SPEC section 9)."""
        plans = self.store.understood([child])[child].in_force.values()
        if not plans:
            return "No plan known: tell me what plan the child is on, or post what happened last"
        return "On: " + "; ".join(plan_words(p) for p in plans)

    def _plans_of_yours(self, user: str, units: list[str], limit: int) -> list[str]:
        """App Home: the plans the bot takes to be in force for the children this person leads."""
        led = self.store.led_by(user, units)
        if not led:
            return []
        understood = self.store.understood(led[:limit])
        lines = ["_Your children's plans, as I understand them:_"]
        lines += [f"child {child}: " + ("; ".join(plan_words(p) for p in t.in_force.values()) or "no plan known")
                  for child, t in understood.items()]
        if len(led) > limit:
            lines.append(f"... and {len(led) - limit} more children.")
        return lines

    def _too_long(self, q: Query, user: str, via: str, units: list[str], names: dict[str, str], now: datetime,
                  heading: str) -> Part | None:
        """A list so long it could not fit PARTS_IN_ONE_ANSWER messages whatever its lines: the
        summary per unit, from the database's counts, without loading an item (logged as
        counts only). None when it may fit: the list is laid out to find out."""
        start, end, overdue_only = _window(q)
        counts = self.store.due_counts(units, now, start, end, overdue_only)
        if sum(o + d for o, d in counts.values()) <= PARTS_IN_ONE_ANSWER * MESSAGE_CHARS // self.shortest_line:
            return None
        self.store.log_access(user, via, units, [], now)  # counts only: no child shown
        return units_summary(counts, heading, names, {"query": q.to_data()})

    def _lead_words(self, child: str, today: date) -> str:
        """" (lead @Sam)", and who covers while they are away."""
        lead = self.people.leads([child]).get(child)
        if not lead:
            return ""
        leave = self.people.away_on(today).get(lead)
        if leave is None:
            return f" (lead <@{lead}>)"
        covered = f": <@{leave.cover}> covering" if leave.cover else ""
        return f" (lead <@{lead}>, away until {for_people(leave.last_day)}{covered})"

    def report_answer(self, question: ReportQuestion, user: str, now: datetime, channel: str, thread: str | None,
                      via: str, shown_in: str | None = None) -> list[Reply]:
        """How timely the work was, for the asker's units only (in a unit's channel, that
        unit's): the table as text, the picture attached. Logged in the access log."""
        units = self.store.units_for(user)
        only_for = user if via == "channel" else None
        if not units:
            return [Reply(channel, "You have no units configured, so I have no figures to show you.", thread_ts=thread,
                          only_for=only_for)]
        if shown_in is not None:
            if shown_in not in units:
                return [Reply(channel, "You are not in this channel's unit, so I will not show its figures here.",
                              thread_ts=thread, only_for=only_for)]
            units = [shown_in]
        names = {u: name for u, name in self.store.unit_names().items() if u in units}
        report = timeliness_report(self.store, names, question.start, question.end, now.astimezone(LONDON).date())
        self.store.log_access(user, "report", units, [], now)
        text = report_text(report, question.about)
        return [Reply(channel, text, [b for piece in lines_pieces(text.splitlines()) for b in piece.blocks],
                      thread_ts=thread, attachment=picture(report))]

    def show_unit(self, value: dict[str, Any], user: str, now: datetime, channel: str, thread: str | None,
                  via: str) -> list[Reply]:
        """A "Show" button under a summary: the question asked, for one of the asker's units."""
        return self.answer_query(_asked(value), user, now, channel, thread, via=via, unit=str(value.get("unit")))

    def next_page(self, value: dict[str, Any], user: str, now: datetime, channel: str, thread: str | None,
                  via: str | None = None) -> list[Reply]:
        """A "Next page" button under a paged list: the question asked, from after the last item
        shown. In a unit's channel the list is that unit's, for its members only, whatever
        the button says; elsewhere (a DM, a slash command's answer: `via`) the asker's unit.
        "What's due for me" is the asker's own list: anyone else pressing its button (a member
        of the same unit too) is refused, only they see it, and shown nothing; the asker is
        shown what their units are now, so after leaving a unit, nothing of it."""
        asked = _asked(value)
        if asked.type == "mine" and value.get("for") != user:
            return [Reply(channel, NOT_YOUR_LIST, thread_ts=thread, only_for=user)]
        here = self.store.unit_for_channel(channel) if via is None else None
        unit = None if here or not value.get("unit") else str(value["unit"])
        whose = str(value["whose"]) if value.get("whose") else None
        after = list(value.get("after") or []) or None
        return self.answer_query(asked, user, now, channel, thread, shown_in=here,
                                 via=via or ("channel" if here else "dm"), unit=unit,
                                 page=int(value.get("page") or 2), after=after, whose=whose)

    def home(self, user: str, now: datetime) -> list[dict[str, object]]:
        """App Home, within Slack's 100 blocks: the person's own items first, each unit's
        counts, then the most urgent of their units' items, pointing to the lists for the rest."""
        units = self.store.units_for(user)
        if not units:
            return [section("You have no units configured.")]
        today = now.astimezone(LONDON).date()
        monday = today - timedelta(days=today.weekday())
        names = {u: name for u, name in self.store.unit_names().items() if u in units}
        sunday = monday + timedelta(days=6)
        # Counts and the first items from the database: a head of service's units hold thousands.
        counts = self.store.due_counts(units, now, last=sunday)  # overdue, and due by Sunday
        blocks: list[dict[str, object]] = [header("Timescales")]
        shown: set[str] = set()
        for heading, (items, total), ask in (
                ("Yours", self.store.due_first_for(user, units, now, today + timedelta(days=7), HOME_LINES["yours"]),
                 "what's due for me"),
                ("Overdue in your units", (self.store.due_first(units, now, today, HOME_LINES["overdue"], overdue=True),
                                           sum(o for o, _ in counts.values())), "what's overdue"),
                ("Due this week", (self.store.due_first(units, now, sunday, HOME_LINES["week"], overdue=False),
                                   sum(d for _, d in counts.values())), "what's due this week")):
            lines = [f"*{heading}*"]
            if heading == "Overdue in your units":
                lines += [f"{escape(name)}: {counts.get(u, (0, 0))[0]} overdue, {counts.get(u, (0, 0))[1]} due"
                          for u, name in names.items()]
            lines += due_lines(items, today) if items else ["nothing"]
            if heading == "Yours":
                lines += self._plans_of_yours(user, units, HOME_LINES["yours"])
            if total > len(items):
                lines.append(f"... and {total - len(items)} more: message me \"{ask}\" for every one.")
            shown |= {i.record.child for i in items}
            blocks += [b for piece in lines_pieces(lines) for b in piece.blocks] + [{"type": "divider"}]
        self.store.log_access(user, "home", units, shown, now)
        return blocks
