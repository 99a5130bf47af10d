"""A question about timeliness: "how are we doing?", "how are we doing on ICPCs this
quarter?", "how timely were we last month?". The period defaults to the last full month
(SPEC section 11); "this month" and "this quarter" run to yesterday."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rules.calendar import add_months

from .tokens import clean

_ASKS = re.compile(r"\bhow (?:are|were|is|'re)? ?(?:we|the unit|our unit|my units?|the units?) (?:doing|getting on)\b"
                   r"|\bhow timely\b|\btimeliness\b")
# The words people use for a standard -> what its title (or point) says.
_STANDARDS = {"icpc": "initial child protection conference", "initial conference": "initial child protection",
              "rcpc": "review child protection conference", "review conference": "review child protection",
              "core group": "core group", "visit": "visit", "assessment": "assessment", "strategy": "strategy",
              "looked after review": "looked after review", "lac review": "looked after review",
              "return home": "return home", "supervision": "supervision"}


@dataclass(frozen=True)
class ReportQuestion:
    start: date
    end: date
    about: str | None  # words a standard's point or title contains, or None for all


def last_full_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    return add_months(first, -1), first - timedelta(days=1)


def read_report_question(message: str, today: date) -> ReportQuestion | None:
    text = clean(message).lower()
    if not _ASKS.search(text):
        return None
    return ReportQuestion(*period(text, today), next((v for k, v in _STANDARDS.items() if k in text), None))


def period(text: str, today: date) -> tuple[date, date]:
    """The period a question or `/timescales report [month|quarter]` asks about."""
    yesterday = today - timedelta(days=1)
    quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    if "this month" in text and today.day > 1:
        return today.replace(day=1), yesterday
    if "this quarter" in text and today > quarter_start:
        return quarter_start, yesterday
    if "quarter" in text:
        return add_months(quarter_start, -3), quarter_start - timedelta(days=1)
    return last_full_month(today)
