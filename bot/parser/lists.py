"""Messages that are lists: one line per child ("- 7001 seen, all ok / - 7002 no access").

Each line is read on its own, so a time, a status or "no access" on one line never
spreads to the others; lines before the first child's line ("Visits today:") are a
heading said of every line under it, never an event of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from .common import title
from .result import ParseResult

_BULLET = re.compile(r"^\s*(?:[-*•·–—>]+|\d{1,2}[.)]|\(\d{1,2}\))\s*")
_CHILD_NUMBER = re.compile(r"(?<![\d/:.])#?\d{3,9}(?![\d/:])|\bchild(?:ren)?\s+\d{1,9}", re.IGNORECASE)


def split_lines(message: str) -> tuple[str, list[str]] | None:
    """The heading and the child lines of a list, or None when the message is not one (fewer
    than two lines naming a child)."""
    lines = [_BULLET.sub("", line).strip() for line in message.splitlines()]
    lines = [line for line in lines if line]
    with_child = [k for k, line in enumerate(lines) if _CHILD_NUMBER.search(line)]
    if len(with_child) < 2:
        return None
    heading = " ".join(lines[: with_child[0]]).strip()
    return heading, lines[with_child[0]:]


_VISIT_ONLY = re.compile(r"\b(no access|seen|not seen|not in|nobody (?:home|in)|no answer|card left|"
                         r"left (?:a )?card)\b", re.IGNORECASE)


def _event_before(readings: list[ParseResult], reading: ParseResult, line: str) -> str | None:
    """The event of the line before, for a line that names a child and what happened but no
    event of its own; None when that line had no single event, or when the words fit only a
    visit and the event before is not one."""
    if not readings or reading.kind != "update" or any(u.event for u in reading.updates):
        return None
    events = {u.event for u in readings[-1].updates}
    if len(events) != 1 or None in events:
        return None
    event = next(iter(events))
    if event != "visit" and _VISIT_ONLY.search(line):
        return None
    return event


def read_list(message: str, now: datetime, read: Callable[[str, datetime], ParseResult]) -> ParseResult | None:
    """Each line of a list read on its own, under its heading; None when it is not a list, or
    when a line is a question or a correction (then the message is read whole)."""
    found = split_lines(message)
    if found is None:
        return None
    heading, lines = found
    readings: list[ParseResult] = []
    for line in lines:
        text = f"{heading.rstrip(':')}: {line}" if heading else line
        reading = read(text, now)
        if reading.kind in ("query", "correction"):
            return None
        if (event := _event_before(readings, reading, line)) is not None:
            # "HV 7001 done today / 7002 no access": the line goes on with the line before's event.
            again = read(f"{title(event)}: {text}", now)
            if again.kind == "update" and all(u.event == event for u in again.updates):
                reading = again
        readings.append(reading)
    merged = ParseResult(kind="other")
    for reading in readings:
        if reading.kind != "update":
            continue
        first = len(merged.updates)
        own = list(range(first, first + len(reading.updates)))
        merged.updates.extend(reading.updates)
        merged.clarify.extend(replace(q, updates=[first + k for k in q.updates] if q.updates else own)
                              for q in reading.clarify)
        merged.notes.extend(reading.notes)
        merged.kind = "update"
    return merged
