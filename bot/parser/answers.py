"""Answers to the bot's questions: a reply in the question's thread, or a button.

A reply in the thread is an answer only if it reads as one to the open question: a
choice, a date, yes or no, a child's number, a plan's name. Anything else is what it
reads as: a new update (about another child, or another event), a question to the bot,
"not sure" (the question stays open), or thanks (no reply). Only what the reply's own
words say is filled in; dates in it are read from when the original message was posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, cast

from .common import direction_of
from .reading import Reader, parse
from .result import Clarification, ParseResult, StatusName, Update
from .tokens import clean
from .vocabulary import vocabulary

ReplyKind = Literal["answer", "update", "query", "unsure", "thanks", "unclear"]

_UNSURE = re.compile(r"\b(not sure|unsure|don'?t know|dont know|dunno|not certain|no idea|will check|i'?ll check|"
                     r"let me check|need to check|checking|will find out|will confirm|i'?ll confirm|will ask|"
                     r"i'?ll ask|will get back|tbc|can'?t remember|cant remember|not known yet)\b")
_THANKS = re.compile(r"^\W*(thanks|thank you|thx|ta|cheers|ok|okay|k|noted|great|lovely|perfect|brill|"
                     r"brilliant|nice|cool|will do|fab|done)\W*(all|so much|very much|bot|timescales)?\W*$")
_YES = re.compile(r"^\W*(yes|yeah|yep|yup|y|correct|that'?s right|right|it did|yes it did|yes it was|it was|"
                  r"confirmed|affirmative|yes please|yes thanks|yes that'?s it|that one)\W*$")
_NO = re.compile(r"^\W*(no|nope|n|it didn'?t|no it didn'?t|it did not|no it did not|didn'?t happen|"
                 r"did not happen)\W*$")
_NUMBER_ONLY = re.compile(r"^\W*(?:it'?s|it was|its|child|number|no\.?|#)?\s*#?(\d{1,9})\W*$")
_DAY_ONLY = re.compile(r"^\W*(?:it'?s|it was|its|on|the|on the)?\s*(?:the\s+)?(\d{1,2})(st|nd|rd|th)?\W*$")
_STARTED = {"started", "start", "starts", "began", "begun", "made", "agreed", "made subject", "put on", "new"}
_ENDED = {"ended", "end", "ends", "closed", "stopped", "ceased", "came off", "removed", "stepped down"}


@dataclass
class Reply:
    kind: ReplyKind
    reading: ParseResult  # the pending reading with the answer applied (answer), else as it was
    own: ParseResult | None = None  # the reply read on its own (update, query)


def _words(text: str) -> str:
    return clean(text).lower().strip()


def read_reply(pending: ParseResult, text: str, posted_at: datetime, now: datetime) -> Reply:
    """What a reply in the thread of an open question is, and the reading it leaves."""
    words = _words(text)
    if not words or _THANKS.match(words):
        return Reply("thanks", pending)
    own = parse(text, now)
    if own.kind == "query" or words.rstrip().endswith("?"):
        return Reply("query", pending, own)
    if _UNSURE.search(words) and not own.updates:
        return Reply("unsure", pending)
    if own.kind == "update" and _is_new_update(pending, own):
        return Reply("update", pending, own)
    if _UNSURE.search(words):
        return Reply("unsure", pending)
    answered = answer(pending, text, posted_at)
    if answered != pending:
        return Reply("answer", answered)
    return Reply("unclear", pending, own)


def _is_new_update(pending: ParseResult, own: ParseResult) -> bool:
    """A full update of its own: about a child the question is not about, or another event
    ('HV for 7120 done today' under a question about 6110's strategy discussion)."""
    asked = pending.clarify[0] if pending.clarify else None
    children = {u.child for u in pending.updates if u.child}
    events = {u.event for u in pending.updates if u.event}
    own_children = {u.child for u in own.updates if u.child}
    own_events = {u.event for u in own.updates if u.event} - {o for e in events for o in _OUTCOMES.get(e, ())}
    if own.updates and not own.clarify and all(u.child and u.event and u.date for u in own.updates):
        return True  # complete on its own ('HV for 7120 done today' under 'No HV today': which child?)
    if own_children and children and not own_children <= children:
        return True  # another child
    if own_events and events and not own_events & events and (asked is None or asked.field != "event"):
        return True  # another event ('No HV today' under a strategy discussion's question): not this one's answer
    return False


# Events a reply may name as the outcome of the one asked about ('held this morning, S47 agreed').
_OUTCOMES = {"strategy_discussion": ("s47_started",)}


def answer(reading: ParseResult, reply: str, now: datetime) -> ParseResult:
    """Fill in the first question of `reading` from a reply in the thread ("123",
    "tomorrow", "it was booked for the 3rd", "yes", "started", "CP", "20th"); the
    question stays if the reply does not answer it. `now` is when the message asked
    about was posted."""
    if not reading.clarify:
        return reading
    question, rest = reading.clarify[0], reading.clarify[1:]
    words = _words(reply)
    if question.options and _YES.match(words) and _yes_no(question):
        return choose(reading, 0)
    if question.options and _NO.match(words) and _yes_no(question) and len(question.options) > 1 \
            and "did it happen then" in question.question.lower():
        return choose(reading, 1)
    if question.field == "event" and question.options and (k := _option_named(question, reply, now)) is not None:
        return choose(reading, k)
    if question.field == "date" and question.options and (k := _date_option(question, words)) is not None:
        return choose(reading, k)
    if question.field == "child" and (number := _NUMBER_ONLY.match(words)):
        return _with_children(reading, question, rest, [number.group(1)])
    day_only = _DAY_ONLY.match(words)
    if day_only and question.field in ("date", "status") and int(day_only.group(1)) <= 31:
        reply = f"on the {day_only.group(1)}{day_only.group(2) or _suffix(int(day_only.group(1)))}"
    r = Reader(reply, now, vocabulary())
    children = [c.number for c in r._children()]
    mentions, applied = r._event_mentions()
    statuses, _ = r._statuses(0, len(r.words), [])
    status = cast(StatusName, next(iter(statuses))) if len(statuses) == 1 else None
    targets = question.updates or list(range(len(reading.updates)))
    updates = list(reading.updates)
    values: dict[str, Any] = {}
    if question.field == "child" and children:
        return _with_children(reading, question, rest, children)
    if question.field == "event" and mentions and mentions[0].event:
        values["event"] = mentions[0].event
    if question.field in ("date", "status") and r.dates:
        day_status = status or updates[targets[0]].status
        readings = r._readings(r.dates[:1], direction_of(day_status))
        if len(readings) == 1:
            day = readings[0].day
            values["date"] = day
            values["status"] = day_status or ("done" if day <= r.today else "planned")
    if question.field == "status" and status and "date" not in values:
        if status == "planned":  # "booked": for when is still to say; no date is made up
            asked = Clarification(field="date", question=f"{_name(updates[targets[0]])}: booked for when?",
                                  updates=question.updates)
            for k in targets:
                updates[k] = replace(updates[k], status="planned", date=None)
            return replace(reading, updates=updates, clarify=[asked, *rest])
        values["status"] = status
        values["date"] = updates[targets[0]].date or r.today  # the question offered today
    if r.times and values:
        values["time"] = r.times[0].at
    if not values:
        return reading
    details = _details(updates[targets[0]], reply, now)
    for k in targets:
        updates[k] = replace(updates[k], **{**values, "details": {**updates[k].details, **details}})
    return replace(reading, updates=updates, clarify=rest)


def _suffix(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _name(u: Update) -> str:
    from .common import title

    return title(u.event) if u.event else "This"


def _yes_no(question: Clarification) -> bool:
    """A question a yes answers: its first option is what it asks about."""
    text = question.question.lower()
    return any(p in text for p in ("did it happen", "is it booked", "is it child", "did it happen then"))


def _with_children(reading: ParseResult, question: Clarification, rest: list[Clarification],
                   children: list[str]) -> ParseResult:
    targets = question.updates or list(range(len(reading.updates)))
    expanded: list[Update] = []
    for k, u in enumerate(reading.updates):
        expanded += [replace(u, child=c) for c in children] if k in targets else [u]
    return replace(reading, updates=expanded, clarify=rest)


def _option_named(question: Clarification, reply: str, now: datetime) -> int | None:
    """'started', 'CP', 'FH plan', 'the first one': which of the options the reply names."""
    words = _words(reply)
    found = Reader(reply, now, vocabulary())
    mentions, _ = found._event_mentions()
    topics = {m.topic for m in mentions if m.topic} | {m.event for m in mentions if m.event}
    scores = []
    for option in question.options:
        event = str(option.set.get("event", ""))
        score = 0
        if any(t and (event == t or event.startswith(f"{t}_")) for t in topics):
            score += 2
        if event.endswith("_started") and any(re.search(rf"\b{w}\b", words) for w in _STARTED):
            score += 1
        if event.endswith("_ended") and any(re.search(rf"\b{w}\b", words) for w in _ENDED):
            score += 1
        if option.label.lower() in words:
            score += 3
        scores.append(score)
    best = max(scores, default=0)
    return scores.index(best) if best and scores.count(best) == 1 else None


def _date_option(question: Clarification, words: str) -> int | None:
    """'the first', 'the Saturday': one of the offered dates."""
    ordinals = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
    for word, k in ordinals.items():
        if re.fullmatch(rf"\W*(the )?{word}( one)?\W*", words) and k < len(question.options):
            return k
    return None


def _details(u: Update, reply: str, now: datetime) -> dict[str, bool | str]:
    """Outcomes in the answer ('held this morning, S47 agreed'), read as said of the event."""
    if not u.event:
        return {}
    phrase = _EVENT_WORDS.get(u.event)
    if phrase is None:
        return {}
    found = parse(f"{phrase} {reply}", now)
    same = [x for x in found.updates if x.event == u.event]
    return dict(same[0].details) if same else {}


# A plain name for each event that has details, to read an answer's outcome in its context.
_EVENT_WORDS = {"strategy_discussion": "strategy discussion", "icpc": "ICPC", "rcpc": "RCPC", "visit": "HV",
                "contact_received": "new contact", "supervision_order": "supervision order"}


def choose(reading: ParseResult, option: int) -> ParseResult:
    """Apply one of the first question's options (a button)."""
    question, rest = reading.clarify[0], reading.clarify[1:]
    chosen = question.options[option].set
    values: dict[str, Any] = {k: (date.fromisoformat(v) if k == "date" else v) for k, v in chosen.items()}
    targets = question.updates or list(range(len(reading.updates)))
    if "child" in values:
        return _with_children(reading, question, rest, [str(values["child"])])
    updates = [replace(u, **values) if k in targets else u for k, u in enumerate(reading.updates)]
    return replace(reading, updates=updates, clarify=rest)
