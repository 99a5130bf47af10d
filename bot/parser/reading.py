"""Reading one message into updates, a question, a correction, or nothing.

The order matters and is the whole design:

1. dates and times are read first (our own grammar, `dates.py`), so their
   numbers can never be taken for children;
2. child numbers next: after "child"/"children"/"#", or any other number of
   three digits or more that is not a date, time or amount;
3. the remaining words are matched against `phrases.toml` (events, topics and
   their verbs, statuses, details), longest phrase first, with typos corrected;
4. the message is cut into one segment per event at the nearest comma, "and"
   or full stop, and each event takes the child, date and status from its own
   segment, falling back to what the message says for all of them.

When something needed is missing or could be read two ways, the result carries
questions instead of guesses; the bot stores nothing until they are answered.
"""

from __future__ import annotations

from datetime import datetime

from .common import for_people, title
from .corrections import CorrectionReader
from .lists import read_list
from .questions import QueryReader
from .result import ParseResult
from .vocabulary import vocabulary

__all__ = ["Reader", "for_people", "parse", "title"]


def parse(message: str, now: datetime) -> ParseResult:
    """Read one message posted at `now` (any zone; read in London time); a list, line by line."""
    if "\n" in message and (listed := read_list(message, now, _read_one)):
        return listed
    return _read_one(message, now)


def _read_one(message: str, now: datetime) -> ParseResult:
    return Reader(message, now, vocabulary()).result()


class Reader(CorrectionReader, QueryReader):
    """The whole reading of one message: a question, a correction, updates, or nothing."""

    def result(self) -> ParseResult:
        undo = self._undo()
        if undo:
            return undo
        self.correcting = self._is_correction_start()
        self._mark_wrong_dates()
        self._mark_retry_dates()
        children = self._children()
        mentions, applied = self._event_mentions()
        self.event_spans = [(e.start, e.end) for e in mentions if not e.verb]
        if not self.correcting:
            query = self._query(children)
            if query:
                return ParseResult(kind="query", query=query, notes=self.notes)
        segments, prefix_end = self._segments(mentions, children)
        strong, weak, _ = self._status_words(0, len(self.words), applied)
        has_status = bool(strong or weak) or any(self._negated(e) for e in mentions)
        concrete = bool(children or self.dates or self.times or strong)
        if self.correcting:
            if not (concrete or mentions) and not self._starts_with("correction_explicit", 3):
                return ParseResult(kind="other", notes=self.notes)
            return self._correction(segments, prefix_end, children, applied)
        if not mentions:
            if children and strong and not self.cleaned.rstrip().endswith("?") and not self.not_events:
                return self._unknown_event(children)
            return ParseResult(kind="other", notes=self.notes)
        if not children and (self.cleaned.rstrip().endswith("?") or not (self.dates or has_status)):
            return ParseResult(kind="other", notes=self.notes)
        if self.cleaned.rstrip().endswith("?") and not strong:
            return ParseResult(kind="other", notes=self.notes)  # "can someone chair the ICPC for 123?"
        if not children and all(e.fuzzy or e.loose for e in mentions) and self._short_child() is None:
            return ParseResult(kind="other", notes=self.notes)
        updates = self._updates(segments, prefix_end, children, applied, defaults=True)
        return ParseResult(kind="update", updates=updates, clarify=self.clarify, notes=self.notes)
