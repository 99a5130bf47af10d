"""A plan already in force, said after the fact (SPEC section 9): "456 is on a CP plan
since 3 Nov", "456 has been looked after since March", or, in the thread of the bot's
question about a child met mid-plan, "plan started 3 Sep". History the bot is told, not
something that happened when it was posted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .dates import DateReader
from .tokens import clean, tokenize

_PLANS = (
    ("cp_plan", r"(?:cp|child protection|cpp) plan|\bcpp\b|child protection"),
    ("fh_plan", r"(?:fh|family help) plan|\bfhp\b"),
    ("looked_after", r"looked after|\bin care\b|\blac\b|\bcla\b"),
    ("supervision_order", r"supervision order|\bon an? so\b"),
)
_SINCE = re.compile(r"\b(?:since|started(?: on)?|start(?:ed)? date(?: was| is)?:?|began(?: on)?|began|from)\b")
_ENDED = re.compile(r"\b(?:ended|ends|closed|stepped down|ceased|stopped|discharged|revoked)\b")
_CHILD = re.compile(r"\b(?:child |#)?(\d{2,})\b")


@dataclass(frozen=True)
class PlanSince:
    child: str | None  # None: the child the thread is about
    status: str | None  # None: the plan the thread's question is about
    since: date


def read_plan_since(message: str, today: date) -> PlanSince | None:
    text = clean(message).lower()
    found = _SINCE.search(text)
    if found is None or "?" in text:
        return None
    before, after = text[:found.start()], text[found.end():]
    status = next((name for name, words in _PLANS if re.search(words, before)), None)
    if status is None and not re.search(r"\bplan\b", before):
        return None  # "visited 456 since Monday" is not about a plan
    if _ENDED.search(text):
        return None  # "CP plan ended 3 Nov": an end, which the parser reads
    child = _CHILD.search(before)
    mentions = DateReader(tokenize(after)).read().dates
    if not mentions:
        return None
    readings = mentions[0].readings(today, "past")
    if not readings or readings[0].day > today:
        return None
    return PlanSince(child.group(1) if child else None, status, readings[0].day)
