"""Working days and clock arithmetic in Europe/London (SPEC section 4).

Working-day offsets are O(1): the calendar precomputes, for every day in the
years it knows, how many working days fall on or before it, so an offset is
two list look-ups instead of a loop over days.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from rules.zone import LONDON as LONDON  # where it always was, for everyone who imports it from here

# Years the calendar answers for. Bank holidays for later years are not yet
# announced (a coronation or a jubilee can be added at short notice), so a
# date beyond them is refused rather than treated as an ordinary weekday.
DEFAULT_YEARS = (2000, 2035)


class CalendarRangeError(ValueError):
    """A date outside the years the calendar knows."""


class WorkingCalendar:
    """Monday to Friday, less bank holidays in England, with local additions and removals."""

    def __init__(
        self,
        years: tuple[int, int] = DEFAULT_YEARS,
        extra_bank_holidays: Iterable[date] = (),
        removed_bank_holidays: Iterable[date] = (),
    ) -> None:
        first_year, last_year = years
        if first_year > last_year:
            raise ValueError(f"calendar years {first_year}-{last_year} are the wrong way round")
        self.first_year, self.last_year = first_year, last_year
        # Imported here, not with the module: a full recompute's worker processes are handed a
        # calendar ready made, and the library's import was a tenth of their start-up.
        import holidays

        known = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
        bank_holidays = set(known) | set(extra_bank_holidays)
        bank_holidays -= set(removed_bank_holidays)
        self.bank_holidays: frozenset[date] = frozenset(bank_holidays)

        self._base = date(first_year, 1, 1).toordinal()
        end = date(last_year, 12, 31).toordinal()
        self._working: list[int] = []  # ordinals of working days, ascending
        self._count_to: list[int] = []  # working days on or before base + i
        for ordinal in range(self._base, end + 1):
            day = date.fromordinal(ordinal)
            if day.weekday() < 5 and day not in self.bank_holidays:
                self._working.append(ordinal)
            self._count_to.append(len(self._working))
        self._due_on: dict[tuple[int, str, bool, date], tuple[date, datetime]] = {}

    # -- questions about single days ------------------------------------
    def _index(self, day: date) -> int:
        i = day.toordinal() - self._base
        if not 0 <= i < len(self._count_to):
            raise CalendarRangeError(
                f"{day.isoformat()} is outside the years the calendar knows "
                f"({self.first_year}-{self.last_year}); set calendar_years in timescales.toml"
            )
        return i

    def is_working_day(self, day: date) -> bool:
        i = self._index(day)
        return self._count_to[i] - (self._count_to[i - 1] if i else 0) == 1

    def _working_day_at(self, position: int, anchor: date) -> date:
        if not 0 <= position < len(self._working):
            raise CalendarRangeError(
                f"counting from {anchor.isoformat()} runs outside the years the calendar knows "
                f"({self.first_year}-{self.last_year}); set calendar_years in timescales.toml"
            )
        return date.fromordinal(self._working[position])

    # -- offsets ------------------------------------------------------------
    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (day 0). A weekend or holiday start counts
        from the next working day, so Saturday + 1 = Monday, the same as Friday + 1."""
        if n < 0:
            return self.working_days_before(day, -n)
        if n == 0:
            return day
        i = day.toordinal() - self._base
        position = self._count_to[i] + n - 1 if 0 <= i < len(self._count_to) else -1
        if 0 <= position < len(self._working):  # the common case, without the checks' calls
            return date.fromordinal(self._working[position])
        self._index(day)
        return self._working_day_at(position, day)

    def working_days_before(self, day: date, n: int) -> date:
        """The n-th working day before `day` ("at least n working days before the meeting")."""
        if n == 0:
            return day
        i = self._index(day)
        strictly_before = self._count_to[i - 1] if i else 0
        return self._working_day_at(strictly_before - n, day)

    def due_on(self, day: date, n: int, unit: str, before: bool) -> tuple[date, datetime]:
        """A date-only timescale ("15 working days", "2 weeks", "3 months", "2 working
        days before") applied to `day`: the due date and the instant it turns overdue.

        Memoised: a full recompute asks the same questions of the same days thousands
        of times. The memo is bounded (cleared when it grows past 200,000 answers) so a
        long-running bot cannot grow without limit.
        """
        key = (n, unit, before, day)
        found = self._due_on.get(key)
        if found is not None:
            return found
        if unit == "working_days":
            due = self.working_days_before(day, n) if before else self.add_working_days(day, n)
        elif unit == "days":
            due = day - timedelta(days=n) if before else day + timedelta(days=n)
        elif unit == "weeks":
            due = day - timedelta(weeks=n) if before else day + timedelta(weeks=n)
        elif unit == "months":
            due = add_months(day, -n if before else n)
        else:
            raise ValueError(f"'{unit}' is not a date-only unit")
        if len(self._due_on) >= 200_000:
            self._due_on.clear()
        found = self._due_on[key] = (due, end_of_day(due))
        return found

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative if end < start)."""
        return self._count_to[self._index(end)] - self._count_to[self._index(start)]


# -- calendar and clock arithmetic that needs no bank holidays --------------
def add_months(day: date, n: int) -> date:
    """Same day of the month n months later, clipped to the month's last day."""
    month_index = day.month - 1 + n
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_hours(moment: datetime, hours: int) -> datetime:
    """Elapsed hours, so 24 hours after 12:00 on the Saturday of the October
    clock change is 11:00 on the Sunday."""
    if moment.tzinfo is None:
        raise ValueError("add_hours needs a time with a zone")
    return (moment.astimezone(UTC) + timedelta(hours=hours)).astimezone(LONDON)


def london(day: date, at: time) -> datetime:
    """A wall-clock time in London on a day, with the right offset for that day."""
    return datetime.combine(day, at, tzinfo=LONDON)


@lru_cache(maxsize=4096)
def end_of_day(day: date) -> datetime:
    """A date-only deadline is overdue from the start of the next day."""
    return london(day, time(23, 59, 59))
