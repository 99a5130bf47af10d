"""Small things every part of the reader shares: event titles, dates for people, spans."""

from __future__ import annotations

from datetime import date, timedelta

from rules.titles import event_titles

from .dates import Direction
from .result import StatusName


def title(event: str) -> str:
    return event_titles().get(event, event.replace("_", " "))


def for_people(day: date) -> str:
    return day.strftime("%a %-d %b") + (day.strftime(" %Y") if day.year != date.today().year else "")


def direction_of(status: StatusName | None) -> Direction:
    return "past" if status == "done" else "future" if status == "planned" else None


def add_days(day: date, count: int, working: bool) -> date:
    if not working:
        return day + timedelta(days=count)
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]
