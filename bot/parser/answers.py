"""Answers to the bot's questions: a reply in the question's thread, or a button."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from .common import direction_of
from .reading import Reader
from .result import ParseResult, StatusName, Update
from .vocabulary import vocabulary


def answer(reading: ParseResult, reply: str, now: datetime) -> ParseResult:
    """Fill in the first question of `reading` from a reply in the thread ("123",
    "tomorrow", "it was booked for the 3rd"); the question stays if the reply
    does not answer it."""
    if not reading.clarify:
        return reading
    question, rest = reading.clarify[0], reading.clarify[1:]
    r = Reader(reply, now, vocabulary())
    children = [c.number for c in r._children()]
    mentions, _ = r._event_mentions()
    statuses, _ = r._statuses(0, len(r.words), [])
    status = cast(StatusName, next(iter(statuses))) if len(statuses) == 1 else None
    targets = question.updates or list(range(len(reading.updates)))
    updates = list(reading.updates)
    values: dict[str, object] = {}
    if question.field == "child" and children:
        expanded: list[Update] = []
        for k, u in enumerate(updates):
            expanded += [u.model_copy(update={"child": c}) for c in children] if k in targets else [u]
        return reading.model_copy(update={"updates": expanded, "clarify": rest})
    if question.field == "event" and mentions and mentions[0].event:
        values["event"] = mentions[0].event
    if question.field in ("date", "status") and r.dates:
        day_status = status or updates[targets[0]].status
        readings = r._readings(r.dates[:1], direction_of(day_status))
        if len(readings) == 1:
            day = readings[0].day
            values["date"] = day
            values["status"] = day_status or ("done" if day <= r.today else "planned")
    if question.field == "status" and status:
        values["status"] = status
        values.setdefault("date", updates[targets[0]].date or r.today)
    if r.times:
        values["time"] = r.times[0].at
    if not values or (set(values) == {"time"}):
        return reading
    for k in targets:
        updates[k] = updates[k].model_copy(update=values)
    return reading.model_copy(update={"updates": updates, "clarify": rest})


def choose(reading: ParseResult, option: int) -> ParseResult:
    """Apply one of the first question's options (a button)."""
    question, rest = reading.clarify[0], reading.clarify[1:]
    chosen = question.options[option].set
    values = {k: (date.fromisoformat(v) if k == "date" else v) for k, v in chosen.items()}
    targets = question.updates or list(range(len(reading.updates)))
    updates = [u.model_copy(update=values) if k in targets else u for k, u in enumerate(reading.updates)]
    return reading.model_copy(update={"updates": updates, "clarify": rest})
