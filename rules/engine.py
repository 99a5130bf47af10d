"""From a child's event history to that child's deadlines (SPEC section 4).

Pure and deterministic: the only clock is the `now` passed in. The history is
replayed in the order things happened; each rule keeps a "run" (from the event
that started it until its plan ends) holding at most one open deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar, add_hours, add_months, end_of_day, london
from rules.model import Deadline, Event, Match, Override, Rule, Timescale
from rules.pack import CASE_CLOSED, RETRACTION, TASK_DONE, RulePack

ASSUMED_END_OF_DAY = time(17, 0)


def event_moment(event: Event) -> tuple[datetime, str | None]:
    """When an event happened, and what was assumed if the update gave no time:
    the posting time when it is dated the day it was posted, else 17:00."""
    if event.time is not None:
        return london(event.date, event.time), None
    if event.posted_at is not None:
        posted = event.posted_at.astimezone(LONDON)
        if posted.date() == event.date:
            return posted, "the time it was posted"
    return london(event.date, ASSUMED_END_OF_DAY), "17:00"


def due_after(calendar: WorkingCalendar, within: Timescale, day: date, moment: datetime) -> tuple[date, datetime]:
    """Apply a timescale to an event: returns the due date and the due instant."""
    n = within.amount
    if within.unit == "hours":
        due_at = add_hours(moment, -n if within.before else n)
        return due_at.date(), due_at
    sign = -1 if within.before else 1
    if within.unit == "working_days":
        due = calendar.working_days_before(day, n) if within.before else calendar.add_working_days(day, n)
    elif within.unit == "days":
        due = day + timedelta(days=sign * n)
    elif within.unit == "weeks":
        due = day + timedelta(weeks=sign * n)
    else:
        due = add_months(day, sign * n)
    return due, end_of_day(due)


@dataclass(slots=True)
class _Run:
    """One rule's life for the child: from its trigger until its plan ends."""

    rule: Rule
    started_by: Event
    started_at: datetime
    expires_at: datetime | None
    meetings: int = 0  # how many times its task has been done since it started
    ended: bool = False
    held: bool = False  # for a "before the meeting" rule: the meeting took place
    open: Deadline | None = None

    def active(self, at: datetime) -> bool:
        return not self.ended and (self.expires_at is None or at < self.expires_at)


@dataclass
class ChildTimeline:
    deadlines: list[Deadline]
    statuses: set[str]  # the child's statuses now (on a Child Protection Plan, ...)
    unapplied: list[Override] = field(default_factory=list)  # overrides that matched no deadline
    assumed_times: dict[str, str] = field(default_factory=dict)  # event id -> what was assumed


def current_events(events: Iterable[Event]) -> list[Event]:
    """Events still in force: corrections supersede, retractions withdraw."""
    events = list(events)
    superseded = {e.supersedes for e in events if e.supersedes}
    return [e for e in events if e.id not in superseded and e.event != RETRACTION]


class _Replay:
    def __init__(self, child: str, pack: RulePack, calendar: WorkingCalendar) -> None:
        self.child, self.pack, self.calendar = child, pack, calendar
        self.runs: dict[str, _Run] = {}
        self.statuses: set[str] = set()
        self.deadlines: list[Deadline] = []
        self.last_group_meeting: dict[str, tuple[Event, datetime]] = {}

    # -- matching ---------------------------------------------------------
    def matches(self, match: Match, event: Event, statuses: set[str]) -> bool:
        if match.event != event.event or match.status != event.status:
            return False
        for key, wanted in match.details.items():
            value = event.details.get(key, self.pack.detail_default(event.event, key))
            if value != wanted:
                return False
        if match.during and statuses.isdisjoint(match.during):
            return False
        return not (match.not_during and not statuses.isdisjoint(match.not_during))

    def any_match(self, matches: Iterable[Match], event: Event, statuses: set[str]) -> bool:
        return any(self.matches(m, event, statuses) for m in matches)

    # -- deadlines --------------------------------------------------------
    def arm(self, run: _Run, event: Event, moment: datetime, step_index: int) -> None:
        rule = run.rule
        step = rule.steps[min(step_index, len(rule.steps) - 1)]
        due, due_at = due_after(self.calendar, step.within, event.date, event_moment(event)[0])
        deadline = Deadline(
            id=f"{self.child}:{rule.id}:{event.id}",
            child=self.child,
            rule=rule.id,
            standard=step.standard or rule.standard,
            source=self.pack.source_name(rule),
            title=step.title or rule.title,
            due=due,
            due_at=due_at,
            responsible=rule.responsible,
            event_id=event.id,
            timescale=step.within.describe(),
            hours_based=step.within.unit == "hours",
        )
        run.open = deadline
        self.deadlines.append(deadline)

    def close(self, deadline: Deadline, state: str, event: Event, moment: datetime) -> None:
        """Met by `event`, or cancelled by it; `moment` is when that happened."""
        deadline.state = state  # type: ignore[assignment]
        deadline.closed_on = moment.date()
        if state == "met":
            deadline.met_event_id = event.id
        if deadline.hours_based:
            deadline.late = moment > deadline.due_at
        else:
            deadline.late = moment.date() > deadline.due

    def next_step(self, run: _Run) -> int | None:
        """Which step the run arms next, or None when it has no more."""
        if run.meetings < len(run.rule.steps) or run.rule.recurs:
            return min(run.meetings, len(run.rule.steps) - 1)
        return None

    def strongest(self, group: str, at: datetime) -> _Run | None:
        for rule in self.pack.groups[group]:
            run = self.runs.get(rule.id)
            if run is not None and run.active(at):
                return run
        return None

    def rearm_group(self, group: str, event: Event, moment: datetime) -> None:
        run = self.strongest(group, moment)
        if run is not None and run.open is None:
            step = self.next_step(run)
            if step is not None:
                self.arm(run, event, moment, step)

    # -- one event --------------------------------------------------------
    def apply(self, event: Event, moment: datetime) -> None:
        before = set(self.statuses)
        if event.event == CASE_CLOSED and event.status == "done":
            for run in self.runs.values():
                if run.open is not None:
                    self.close(run.open, "cancelled", event, moment)
                    run.open = None
                run.ended = True
            self.statuses.clear()
            return

        met = self.meet(event, moment, before)
        groups_to_rearm = self.end(event, moment, before)
        for run in met:
            if run.rule.group:
                groups_to_rearm.add(run.rule.group)
            elif run.active(moment) and run.open is None:
                step = self.next_step(run)
                if step is not None:
                    self.arm(run, event, moment, step)
        for group in groups_to_rearm:
            self.rearm_group(group, event, moment)
        self.trigger(event, moment, before)
        self.update_statuses(event, before)

    def meet(self, event: Event, moment: datetime, statuses: set[str]) -> list[_Run]:
        if event.event == TASK_DONE:
            rule = self.pack.by_id.get(str(event.details.get("rule", "")))
            candidates = [rule] if rule else []
        else:
            candidates = self.pack.met_by.get(event.event, [])
        met: list[_Run] = []
        for rule in candidates:
            run = self.runs.get(rule.id)
            if run is None or run.ended:
                continue
            if event.event != TASK_DONE and not self.any_match(rule.met_by, event, statuses):
                continue
            run.meetings += 1
            if rule.group:
                self.last_group_meeting[rule.group] = (event, moment)
            if run.open is not None:
                self.close(run.open, "met", event, moment)
                run.open = None
            met.append(run)
        return met

    def end(self, event: Event, moment: datetime, statuses: set[str]) -> set[str]:
        """Plans that end with this event; returns groups whose regime changed."""
        changed: set[str] = set()
        for rule in self.pack.ended_by.get(event.event, []):
            run = self.runs.get(rule.id)
            if run is None or run.ended or not self.any_match(self.pack.ends(rule), event, statuses):
                continue
            run.ended = True
            if run.open is not None:
                self.close(run.open, "cancelled", event, moment)
                run.open = None
            if rule.group:
                changed.add(rule.group)
        return changed

    def trigger(self, event: Event, moment: datetime, statuses: set[str]) -> None:
        if event.status == "done":
            self.meeting_held(event)
        for rule in self.pack.triggered_by.get(event.event, []):
            if not self.any_match(self.pack.triggers(rule), event, statuses):
                continue
            run = self.runs.get(rule.id)
            if rule.before_meeting and run is not None and run.open is not None and not run.held and not run.ended:
                self.move(run, event)  # re-booked
                continue
            if run is not None and not run.ended and not rule.before_meeting and (
                run.open is not None or self.next_step(run) is not None
            ):
                continue  # the first trigger's clock keeps running
            expires = None
            if rule.active_for is not None:
                _, expires = due_after(self.calendar, rule.active_for, event.date, moment)
            run = _Run(rule=rule, started_by=event, started_at=moment, expires_at=expires)
            self.runs[rule.id] = run
            if rule.group:
                self.start_in_group(run, event, moment)
            else:
                self.arm(run, event, moment, 0)

    def start_in_group(self, run: _Run, event: Event, moment: datetime) -> None:
        """A new regime for a shared task (visits): the strictest in force sets the clock."""
        strongest = self.strongest(run.rule.group, moment)  # type: ignore[arg-type]
        if strongest is not run:
            return  # a stricter regime already sets the frequency
        for other in self.pack.groups[run.rule.group]:  # type: ignore[index]
            other_run = self.runs.get(other.id)
            if other_run is not None and other_run is not run and other_run.open is not None:
                self.close(other_run.open, "cancelled", event, moment)
                other_run.open = None
        self.arm(run, event, moment, 0)

    def meeting_held(self, event: Event) -> None:
        """A booked meeting took place: on another day than booked, its 'before'
        deadlines follow it; the next booking starts afresh."""
        for rule in self.pack.held_by.get(event.event, []):
            run = self.runs.get(rule.id)
            if run is None or run.ended or run.held:
                continue
            if run.open is not None:
                self.move(run, event)
            run.held = True

    def move(self, run: _Run, event: Event) -> None:
        """A meeting re-booked: its 'before' deadline follows it."""
        deadline = run.open
        assert deadline is not None
        due, due_at = due_after(self.calendar, run.rule.steps[0].within, event.date, event_moment(event)[0])
        deadline.due, deadline.due_at = due, due_at
        deadline.event_id = event.id
        deadline.id = f"{self.child}:{run.rule.id}:{event.id}"

    def update_statuses(self, event: Event, before: set[str]) -> None:
        for name, definition in self.pack.vocabulary.statuses.items():
            if self.any_match(definition.ends, event, before):
                self.statuses.discard(name)
            if self.any_match(definition.starts, event, before):
                self.statuses.add(name)

    # -- decisions --------------------------------------------------------
    def override(self, decision: Override) -> bool:
        applied = False
        for run in self.runs.values():
            deadline = run.open
            if deadline is None:
                continue
            if decision.target in (deadline.id, run.rule.id, run.rule.flexible):
                deadline.override = {
                    "by": decision.by,
                    "at": decision.at.isoformat(),
                    "reason": decision.reason,
                    "was": deadline.due.isoformat(),
                }
                deadline.due, deadline.due_at = decision.due, end_of_day(decision.due)
                applied = True
        return applied


def child_deadlines(
    events: Iterable[Event],
    pack: RulePack,
    calendar: WorkingCalendar,
    now: datetime,
    overrides: Iterable[Override] = (),
    child: str | None = None,
) -> ChildTimeline:
    """Every deadline for one child, each open, met, overdue or cancelled at `now`."""
    in_force = current_events(events)
    child_id = child or (in_force[0].child if in_force else "")
    replay = _Replay(child_id, pack, calendar)
    timeline: list[tuple[datetime, int, Event | Override]] = []
    assumed: dict[str, str] = {}
    for position, event in enumerate(in_force):
        moment, assumption = event_moment(event)
        if assumption:
            assumed[event.id] = assumption
        # A booking, or its cancellation, is acted on when it is posted, not on
        # the day of the meeting.
        when = moment
        if event.status != "done" and event.posted_at is not None:
            when = event.posted_at.astimezone(LONDON)
        timeline.append((when, position, event))
    for position, decision in enumerate(overrides, start=len(timeline)):
        timeline.append((decision.at, position, decision))
    timeline.sort(key=lambda item: (item[0], item[1]))

    unapplied: list[Override] = []
    for when, _, item in timeline:
        if isinstance(item, Override):
            if not replay.override(item):
                unapplied.append(item)
        else:
            replay.apply(item, when)

    now_local = now.astimezone(LONDON)
    for deadline in replay.deadlines:
        if deadline.state == "open":
            overdue = now_local > deadline.due_at if deadline.hours_based else now_local.date() > deadline.due
            if overdue:
                deadline.state = "overdue"
    return ChildTimeline(replay.deadlines, set(replay.statuses), unapplied, assumed)
