"""From a child's event history to that child's deadlines (SPEC section 4).

Pure and deterministic: the only clock is the `now` passed in. The history is
replayed in the order things happened; each rule keeps a "run" (from the event
that started it until its plan ends) holding at most one open deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar, add_hours, add_months, end_of_day, london
from rules.model import Deadline, Event, Override, Rule, Timescale
from rules.pack import CASE_CLOSED, RETRACTION, TASK_DONE, Matcher, RulePack

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
    return due_by(calendar, within.amount, within.unit, within.before, day, moment)


def due_by(
    calendar: WorkingCalendar, n: int, unit: str, before: bool, day: date, moment: datetime
) -> tuple[date, datetime]:
    if unit == "hours":
        due_at = add_hours(moment, -n if before else n)
        return due_at.date(), due_at
    if unit == "working_days":
        due = calendar.working_days_before(day, n) if before else calendar.add_working_days(day, n)
    elif unit == "days":
        due = day - timedelta(days=n) if before else day + timedelta(days=n)
    elif unit == "weeks":
        due = day - timedelta(weeks=n) if before else day + timedelta(weeks=n)
    else:
        due = add_months(day, -n if before else n)
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
    def __init__(self, child: str, pack: RulePack, calendar: WorkingCalendar, moments: dict[str, datetime]) -> None:
        self.child, self.pack, self.calendar = child, pack, calendar
        self.moments = moments  # event id -> when it happened (or is booked for)
        self.runs: dict[str, _Run] = {}
        self.statuses: set[str] = set()
        self.deadlines: list[Deadline] = []
        self.last_group_meeting: dict[str, tuple[Event, datetime]] = {}
        self.ids: set[str] = set()

    def new_id(self, rule: Rule, event: Event) -> str:
        """Rule and creating event; a suffix when a regime re-arms from the same
        event after a stricter one gave way, so ids stay unique and repeatable."""
        base = candidate = f"{self.child}:{rule.id}:{event.id}"
        n = 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}:{n}"
        self.ids.add(candidate)
        return candidate

    # -- matching ---------------------------------------------------------
    @classmethod
    def listens(cls, status: str | None, matches: tuple[Matcher, ...], event: Event, statuses: set[str]) -> bool:
        """A listener whose only condition is a status (most of them) is checked without the matchers."""
        return event.status == status if status is not None else cls.any_match(matches, event, statuses)

    @staticmethod
    def any_match(matchers: tuple[Matcher, ...], event: Event, statuses: set[str]) -> bool:
        details = event.details
        for m in matchers:
            if m.status != event.status:
                continue
            if m.details and any(details.get(key, default) != wanted for key, wanted, default in m.details):
                continue
            if m.during and statuses.isdisjoint(m.during):
                continue
            if m.not_during and not statuses.isdisjoint(m.not_during):
                continue
            return True
        return False

    # -- deadlines --------------------------------------------------------
    def arm(self, run: _Run, event: Event, moment: datetime, step_index: int) -> None:
        rule = run.rule
        steps = self.pack.steps[rule.id]
        step = steps[min(step_index, len(steps) - 1)]
        due, due_at = due_by(self.calendar, step.amount, step.unit, step.before, event.date,
                             self.moments[event.id])
        # positional, in Deadline's field order: this runs once per deadline
        deadline = Deadline(self.new_id(rule, event), self.child, rule.id, step.standard, step.source,
                            step.title, due, due_at, rule.responsible, event.id, step.text, step.hours_based)
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

    @staticmethod
    def next_step(run: _Run) -> int | None:
        """Which step the run arms next, or None when it has no more."""
        steps = len(run.rule.steps)
        if run.meetings < steps:
            return run.meetings
        return steps - 1 if run.rule.recurs else None

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

    def hand_over(self, group: str, moment: datetime) -> None:
        """The stricter regime ended: the next one in force counts from the last
        time the task was done, or from its own start if that is later."""
        run = self.strongest(group, moment)
        if run is None or run.open is not None:
            return
        step = self.next_step(run)
        if step is None:
            return
        last = self.last_group_meeting.get(group)
        if last is not None and last[1] > run.started_at:
            self.arm(run, last[0], last[1], step)
        else:
            self.arm(run, run.started_by, run.started_at, step)

    # -- one event --------------------------------------------------------
    def apply(self, event: Event, moment: datetime) -> None:
        # Conditions read the statuses as they were before this event; they
        # change only in the last step below.
        before = self.statuses
        if event.event == CASE_CLOSED and event.status == "done":
            for run in self.runs.values():
                if run.open is not None:
                    self.close(run.open, "cancelled", event, moment)
                    run.open = None
                run.ended = True
            self.statuses.clear()
            return

        # Most events (a visit) only meet deadlines: skip the steps nothing listens to.
        name, pack = event.event, self.pack
        met = self.meet(event, moment, before) if name in pack.met_by or name == TASK_DONE else []
        regime_ended = self.end(event, moment, before) if name in pack.ended_by else set()
        visited: set[str] = set()
        for run in met:
            group = run.rule.group
            if group:
                visited.add(group)
            elif run.open is None and run.active(moment):
                step = self.next_step(run)
                if step is not None:
                    self.arm(run, event, moment, step)
        for group in visited:
            self.rearm_group(group, event, moment)
        if regime_ended:
            for group in regime_ended - visited:
                self.hand_over(group, moment)
        if name in pack.triggered_by or name in pack.held_by:
            self.trigger(event, moment, before)
        if name in pack.status_changes:
            self.update_statuses(event)

    def meet(self, event: Event, moment: datetime, statuses: set[str]) -> list[_Run]:
        candidates: Sequence[tuple[Rule, str | None, tuple[Matcher, ...]]]
        if event.event == TASK_DONE:
            rule = self.pack.by_id.get(str(event.details.get("rule", "")))
            candidates = [(rule, event.status, ())] if rule else []
        else:
            candidates = self.pack.met_by.get(event.event, ())
        met: list[_Run] = []
        runs = self.runs
        for rule, status, matches in candidates:
            run = runs.get(rule.id)
            if run is None or run.ended:
                continue
            if not self.listens(status, matches, event, statuses):
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
        for rule, status, matches in self.pack.ended_by.get(event.event, ()):
            run = self.runs.get(rule.id)
            if run is None or run.ended:
                continue
            if not self.listens(status, matches, event, statuses):
                continue
            run.ended = True
            if run.open is not None:
                self.close(run.open, "cancelled", event, moment)
                run.open = None
            if rule.group:
                changed.add(rule.group)
        return changed

    def trigger(self, event: Event, moment: datetime, statuses: set[str]) -> None:
        if event.status == "done" and event.event in self.pack.held_by:
            self.meeting_held(event)
        for rule, status, matches in self.pack.triggered_by.get(event.event, ()):
            if not self.listens(status, matches, event, statuses):
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
        due, due_at = due_after(self.calendar, run.rule.steps[0].within, event.date, self.moments[event.id])
        deadline.due, deadline.due_at = due, due_at
        deadline.event_id = event.id
        deadline.id = self.new_id(run.rule, event)

    def update_statuses(self, event: Event) -> None:
        changes = self.pack.status_changes.get(event.event)
        if not changes:
            return
        before = set(self.statuses)
        for name, starts, ends in changes:
            if self.any_match(ends, event, before):
                self.statuses.discard(name)
            if self.any_match(starts, event, before):
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
    timeline: list[tuple[datetime, int, Event | Override]] = []
    assumed: dict[str, str] = {}
    moments: dict[str, datetime] = {}
    for position, event in enumerate(in_force):
        moment, assumption = event_moment(event)
        moments[event.id] = moment
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

    replay = _Replay(child_id, pack, calendar, moments)

    unapplied: list[Override] = []
    for when, _, item in timeline:
        if isinstance(item, Override):
            if not replay.override(item):
                unapplied.append(item)
        else:
            replay.apply(item, when)

    now_local = now.astimezone(LONDON)
    today = now_local.date()
    for deadline in replay.deadlines:
        if deadline.state == "open" and (
            now_local > deadline.due_at if deadline.hours_based else today > deadline.due
        ):
            deadline.state = "overdue"
    return ChildTimeline(replay.deadlines, set(replay.statuses), unapplied, assumed)
