"""When each reminder and escalation of a deadline falls due (SPEC section 7).

Pure timing, no I/O: a deadline and the clock in, the steps whose moment has
come out. Whether a step was already sent is the ledger's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar
from rules.config import Config

# Order matters: for one recipient only the latest step that has come is sent;
# the earlier ones are overtaken (the bot was off, or the deadline was recorded late).
STEPS = ("reminder", "due_today", "hour_before", "overdue", "sm", "hos")
REMINDERS = {"reminder", "due_today", "hour_before"}


@dataclass(frozen=True)
class Policy:
    """SPEC section 7's defaults; `working_hours` and `[reminders]` in timescales.toml change them."""

    working_hours: tuple[time, time] = (time(8, 30), time(17, 0))
    remind_working_days_before: int = 2
    service_manager_after: int = 2  # working days late
    head_of_service_after: int = 5
    urgent_hours: int = 24  # hour-based deadlines this short escalate out of hours
    digest_time: time = time(8, 30)

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        r = config.reminders
        start, end = (time.fromisoformat(t) for t in config.working_hours)
        return cls((start, end), r.remind_working_days_before, r.service_manager_after, r.head_of_service_after,
                   r.urgent_hours, time.fromisoformat(r.digest_time))


@dataclass(frozen=True)
class Step:
    name: str
    at: datetime  # from when it may be sent
    urgent: bool  # may go out of working hours


def hours_of(timescale: str) -> int | None:
    match = re.match(r"(\d+) hours?", timescale)
    return int(match.group(1)) if match else None


def working_moment(calendar: WorkingCalendar, policy: Policy, day: date) -> datetime:
    """The start of working hours on `day`, in London."""
    return datetime.combine(day, policy.working_hours[0], tzinfo=LONDON)


def is_working_time(calendar: WorkingCalendar, policy: Policy, now: datetime) -> bool:
    local = now.astimezone(LONDON)
    start, end = policy.working_hours
    return calendar.is_working_day(local.date()) and start <= local.time() < end


def steps_for(due: date, due_at: datetime, hours_based: bool, timescale: str,
              calendar: WorkingCalendar, policy: Policy) -> list[Step]:
    """Every step of one deadline, in order, with its moment."""
    last_working = due if calendar.is_working_day(due) else calendar.working_days_before(due, 1)
    hours = hours_of(timescale) if hours_based else None
    urgent = hours is not None and hours <= policy.urgent_hours
    steps = [
        Step("reminder", working_moment(calendar, policy,
                                        calendar.working_days_before(due, policy.remind_working_days_before)), False),
        Step("due_today", working_moment(calendar, policy, last_working), False),
    ]
    if hours_based:
        steps.append(Step("hour_before", due_at - timedelta(hours=1), urgent))
        overdue = due_at if urgent else max(due_at, working_moment(calendar, policy, calendar.add_working_days(due, 1)))
        steps.append(Step("overdue", overdue, urgent))
    else:
        steps.append(Step("overdue", working_moment(calendar, policy, calendar.add_working_days(due, 1)), False))
    for name, late in (("sm", policy.service_manager_after), ("hos", policy.head_of_service_after)):
        steps.append(Step(name, working_moment(calendar, policy, calendar.add_working_days(due, late)), False))
    return steps


def days_late(calendar: WorkingCalendar, due: date, today: date) -> int:
    """Working days late (0 when not yet late)."""
    return max(0, calendar.working_days_between(due, today))
