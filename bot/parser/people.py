"""Messages about people rather than children's events (SPEC section 12):

- a child's lead: "456 is now with @Sam", "allocate 456 to @Sam", "reassign 456 to @Sam",
  "@Sam is taking 456";
- leave and cover: "I'm on leave 7-18 Dec, @Sam covering", "@Jo is on annual leave next
  week, covered by @Sam", "on leave until Friday" (no cover named);
- back: "back from leave", "@Jo is back".

People are Slack mentions (`<@U123>`): the bot keeps ids, never names, so a name alone
("Sam is taking 456") is not enough and is not read as a reallocation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .dates import DateReader
from .tokens import clean, tokenize

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHILD = r"(?:child |#)?(\d{2,})"
_LEAD = [re.compile(p) for p in (
    rf"\b{_CHILD} (?:is )?now (?:with|allocated to|held by) (p\d)\b",
    rf"\b(?:re-?)?allocated? {_CHILD} to (p\d)\b",
    rf"\breassign(?:ed)? {_CHILD} to (p\d)\b",
    rf"\b(p\d) (?:is )?(?:now )?(?:taking|taking over|has taken over|has taken) {_CHILD}\b",
    rf"\b(p\d) is (?:now )?the lead for {_CHILD}\b",
)]
_LEAVE = re.compile(r"\b(?:on (?:annual |sick |study |parental )?leave|on holiday|off sick|away|off work|out of office"
                    r"|(?:annual |sick )?leave from)\b")
_COVERED = [re.compile(p) for p in (r"\b(p\d) (?:is |will be )?covering\b", r"\bcovered by (p\d)\b",
                                     r"\bcover(?:ing)?(?: is)?:? (p\d)\b", r"\b(p\d) (?:will )?covers?\b")]
_BACK = re.compile(r"\bback (?:from (?:annual |sick )?leave|at work|in (?:the office|work))\b"
                   r"|\b(?:i'?m|i am|p\d is) back\b")
_SELF = re.compile(r"\b(?:i'?m|i am|i'?ll be|i will be|me)\b")


@dataclass(frozen=True)
class LeadReading:
    child: str
    lead: str


@dataclass(frozen=True)
class CoverReading:
    who: str | None  # None: the person who posted it
    cover: str | None  # None: nobody named
    first_day: date | None  # None: the dates could not be read
    last_day: date | None


@dataclass(frozen=True)
class BackReading:
    who: str | None  # None: the person who posted it


def _people(message: str) -> tuple[str, list[str]]:
    """The message in lower case with each mention as p0, p1...; the ids in that order."""
    found: list[str] = []

    def name(match: re.Match[str]) -> str:
        found.append(match.group(1))
        return f" p{len(found) - 1} "

    return " ".join(clean(_MENTION.sub(name, message)).lower().split()), found


def read_lead(message: str) -> LeadReading | None:
    text, people = _people(message)
    for pattern in _LEAD:
        if match := pattern.search(text):
            groups = match.groups()
            child = next(g for g in groups if not g.startswith("p"))
            person = next(g for g in groups if g.startswith("p"))
            return LeadReading(child, people[int(person[1:])])
    return None


def read_back(message: str) -> BackReading | None:
    text, people = _people(message)
    if not _BACK.search(text) or "?" in text:
        return None
    named = re.search(r"\b(p\d) is back\b", text)
    return BackReading(people[int(named.group(1)[1:])] if named else None)


def read_cover(message: str, today: date) -> CoverReading | None:
    text, people = _people(message)
    if not _LEAVE.search(text) or "?" in text or not (people or _SELF.search(text)):
        return None  # "child 123 is away from home" is about a child, not leave
    cover_tag = next((m.group(1) for p in _COVERED if (m := p.search(text))), None)
    cover = people[int(cover_tag[1:])] if cover_tag else None
    others = [f"p{n}" for n in range(len(people)) if f"p{n}" != cover_tag]
    who = None if _SELF.search(text) or not others else people[int(others[0][1:])]
    first, last = _leave_days(re.sub(r"\bp\d\b", " ", text), today)
    if first is None and cover is None:
        return None  # "I'm away from my desk": no days and nobody covering, so not leave
    return CoverReading(who, cover, first, last)


def _leave_days(text: str, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a leave: "7-18 Dec", "7 Dec to 18 Dec", "next week",
    "until Friday", "tomorrow". Dates of leave are ahead (or today)."""
    mentions = DateReader(tokenize(text)).read().dates
    if not mentions:
        return None, None
    first = mentions[0].readings(today, "future")
    if mentions[0].kind == "week" and len(mentions) == 1:
        return (first[0].day, first[-1].day) if first else (None, None)
    if not first:
        return None, None
    if len(mentions) >= 2:
        start = first[0].day
        end = mentions[1].readings(start, "future")
        return (start, end[0].day) if end else (None, None)
    only = first[0].day
    if range_start := re.search(r"\b(\d{1,2})(?:st|nd|rd|th)? ?(?:-|to|until|till) ?\d{1,2}", text):
        day = int(range_start.group(1))
        start = only.replace(day=day) if day <= only.day else (only.replace(day=1) - timedelta(days=1)).replace(
            day=min(day, 28))
        return start, only
    if re.search(r"\b(?:until|till|to|up to)\b", text):
        return today, only
    return only, only
