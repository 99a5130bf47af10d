"""Working days in England, calendar arithmetic and the clock changes."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from rules.calendar import LONDON, CalendarRangeError, WorkingCalendar, add_hours, add_months, london


def test_boxing_day_2026_is_observed_on_monday_28_december(calendar):
    assert not calendar.is_working_day(date(2026, 12, 25))
    assert not calendar.is_working_day(date(2026, 12, 28))
    assert calendar.is_working_day(date(2026, 12, 29))


def test_easter_2027(calendar):
    assert not calendar.is_working_day(date(2027, 3, 26))  # Good Friday
    assert not calendar.is_working_day(date(2027, 3, 29))  # Easter Monday
    assert calendar.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)


def test_day_of_the_event_is_day_zero_and_weekends_count_from_the_next_working_day(calendar):
    assert calendar.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert calendar.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Fri + 1 = Mon
    assert calendar.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Sat + 1 = Mon
    assert calendar.add_working_days(date(2026, 11, 22), 2) == date(2026, 11, 24)  # Sun + 2 = Tue


def test_working_days_before_a_meeting(calendar):
    assert calendar.working_days_before(date(2026, 12, 14), 2) == date(2026, 12, 10)  # Mon -> Thu
    assert calendar.working_days_before(date(2027, 1, 4), 1) == date(2026, 12, 31)
    assert calendar.working_days_before(date(2026, 11, 21), 1) == date(2026, 11, 20)  # Sat meeting -> Fri


def test_working_days_between(calendar):
    assert calendar.working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert calendar.working_days_between(date(2026, 12, 29), date(2026, 12, 24)) == -1


def test_extra_and_removed_bank_holidays_from_the_config():
    # e.g. a coronation announced after the holidays release; a holiday moved away
    calendar = WorkingCalendar(extra_bank_holidays=[date(2026, 11, 24)], removed_bank_holidays=[date(2026, 12, 28)])
    assert calendar.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)
    assert calendar.is_working_day(date(2026, 12, 28))


def test_a_date_outside_the_years_the_calendar_knows_is_an_error():
    calendar = WorkingCalendar(years=(2025, 2027))
    with pytest.raises(CalendarRangeError, match="outside the years the calendar knows"):
        calendar.add_working_days(date(2028, 1, 5), 3)
    with pytest.raises(CalendarRangeError):
        calendar.add_working_days(date(2027, 12, 30), 10)  # runs off the end
    with pytest.raises(CalendarRangeError):
        calendar.working_days_before(date(2025, 1, 2), 5)


def test_months_clip_to_the_end_of_the_month():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 3) == date(2027, 3, 15)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)


def test_elapsed_hours_across_both_clock_changes():
    # October: 24 h after 12:00 BST Saturday is 11:00 GMT Sunday (SPEC 4)
    assert add_hours(london(date(2026, 10, 24), time(12)), 24) == datetime(2026, 10, 25, 11, tzinfo=LONDON)
    # March: 24 h after 12:00 GMT Saturday is 13:00 BST Sunday
    due = add_hours(london(date(2026, 3, 28), time(12)), 24)
    assert (due.hour, due.utcoffset()) == (13, timedelta(hours=1))


def test_agrees_with_numpy_busday_offset_on_random_dates(calendar):
    holidays = sorted(calendar.bank_holidays)
    rng = random.Random(20261122)
    for _ in range(3000):
        start = date(2001, 1, 1) + timedelta(days=rng.randrange(0, 12000))
        n = rng.randrange(1, 80)
        # our counting = numpy rolling a non-working start back to the working day before
        expected = np.busday_offset(start, n, roll="backward", holidays=holidays)
        assert calendar.add_working_days(start, n) == expected.astype(object), (start, n)
        before = np.busday_offset(start, -n, roll="forward", holidays=holidays)
        assert calendar.working_days_before(start, n) == before.astype(object), (start, n)
