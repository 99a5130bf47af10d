"""Messages that are lists: one line per child ("- 7001 seen, all ok / - 7002 no access").

Each line is read on its own, so a time, a status or "no access" on one line never
spreads to the others; lines before the first child's line ("Visits today:") are a
heading said of every line under it, never an event of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

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


def read_list(message: str, now: datetime, read: Callable[[str, datetime], ParseResult]) -> ParseResult | None:
    """Each line of a list read on its own, under its heading; None when it is not a list, or
    when a line is a question or a correction (then the message is read whole)."""
    found = split_lines(message)
    if found is None:
        return None
    heading, lines = found
    readings = []
    for line in lines:
        text = f"{heading.rstrip(':')}: {line}" if heading else line
        reading = read(text, now)
        if reading.kind in ("query", "correction"):
            return None
        readings.append(reading)
    merged = ParseResult(kind="other")
    for reading in readings:
        if reading.kind != "update":
            continue
        first = len(merged.updates)
        own = list(range(first, first + len(reading.updates)))
        merged.updates.extend(reading.updates)
        merged.clarify.extend(q.model_copy(update={"updates": [first + k for k in q.updates] if q.updates else own})
                              for q in reading.clarify)
        merged.notes.extend(reading.notes)
        merged.kind = "update"
    return merged
