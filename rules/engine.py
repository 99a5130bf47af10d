"""From a child's event history to that child's deadlines (SPEC section 4).

Pure and deterministic: the only clock is the `now` passed in. The history is
replayed in the order things happened; each rule keeps a "run" (from the event
that started it until its plan ends) holding at most one open deadline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from rules.calendar import LONDON, WorkingCalendar, add_hours, end_of_day, london
from rules.model import Deadline, Event, Override
from rules.pack import (
    CASE_CLOSED,
    IMPORTED,
    RETRACTION,
    TASK_DONE,
    UNDER,
    CompiledRule,
    CompiledStep,
    Listener,
    Matcher,
    RulePack,
)

ASSUMED_END_OF_DAY = time(17, 0)
ONE_DAY = timedelta(days=1)
# Raise when a change to this module gives different deadlines for the same history:
# stored deadlines are then worked out again at the next start (see deadline_basis).
ENGINE_REVISION = 7


def deadline_basis(pack: RulePack, calendar: WorkingCalendar, bank_holidays: bool = True) -> str:
    """A fingerprint of everything a child's deadlines are worked out from besides
    their own history: the rules in force, the vocabulary, the bank holidays and
    the engine. Deadlines stored under another one are out of date. Without the
    bank holidays: what a holiday added or removed leaves the same."""
    basis: dict[str, object] = {
        "engine": ENGINE_REVISION,
        "rules": [pack.by_id[rule].model_dump(mode="json") for rule in sorted(pack.by_id)],
        "vocabulary": pack.vocabulary.model_dump(mode="json"),
        "years": [calendar.first_year, calendar.last_year],
    }
    if bank_holidays:
        basis["bank_holidays"] = sorted(day.isoformat() for day in calendar.bank_holidays)
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


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


def due_by(calendar: WorkingCalendar, n: int, unit: str, before: bool, day: date,
           moment: datetime, less_than: bool = False) -> tuple[date, datetime]:
    """Apply a timescale to an event on `day` at `moment`: the due date and the due instant.
    "Less than N days / months" ends the day before N have passed."""
    if unit == "hours":
        due_at = add_hours(moment, -n if before else n)
        return due_at.date(), due_at
    if less_than:
        due = calendar.due_on(day, n, unit, before)[0] - ONE_DAY
        return due, end_of_day(due)
    return calendar.due_on(day, n, unit, before)


def step_due(calendar: WorkingCalendar, step: CompiledStep, day: date, moment: datetime) -> tuple[date, datetime]:
    """A step's due date and instant; where the sources give the step two timescales, the
    earlier of the two (the earlier date holds)."""
    found = due_by(calendar, step.amount, step.unit, step.before, day, moment, step.less_than)
    if step.alt is not None:
        amount, unit, less_than = step.alt
        other = due_by(calendar, amount, unit, step.before, day, moment, less_than)
        if other[1] < found[1]:
            return other
    return found


@dataclass(slots=True)
class _Run:
    """One rule's life for the child: from its trigger until its plan ends."""

    rule: CompiledRule
    started_by: Event
    started_at: datetime
    expires_at: datetime | None
    meetings: int = 0  # how many times its task has been done since it started
    ended: bool = False  # its plan ended, or its last step was met: it hears nothing more
    held: bool = False  # for a "before the meeting" rule: the meeting took place
    open: Deadline | None = None

    def active(self, at: datetime) -> bool:
        return not self.ended and (self.expires_at is None or at < self.expires_at)

    def next_step(self) -> int | None:
        """Which step the run arms next, or None when it has no more."""
        if self.meetings <= self.rule.last_step:
            return self.meetings
        return self.rule.last_step if self.rule.recurs else None


@dataclass(frozen=True)
class InForce:
    """A state the child is in now, and since when: `since` is None when an event that
    happens only under it put it in force (SPEC section 9), `assumed_from` that event."""

    status: str
    title: str
    since: date | None
    assumed_from: str | None = None
    waiting_for_start: tuple[str, ...] = ()  # what hangs off a start the bot does not know (titles)


@dataclass
class ChildTimeline:
    deadlines: list[Deadline]
    statuses: set[str]  # the child's statuses now (on a Child Protection Plan, ...)
    unapplied: list[Override] = field(default_factory=list)  # overrides that matched no deadline
    assumed_times: dict[str, str] = field(default_factory=dict)  # event id -> what was assumed
    in_force: dict[str, InForce] = field(default_factory=dict)
    # events (visits) that could have happened under several plans, with none known: which one?
    plan_unknown: list[str] = field(default_factory=list)


def current_events(events: Iterable[Event]) -> list[Event]:
    """Events still in force: corrections supersede, retractions withdraw."""
    events = list(events)
    superseded = {e.supersedes for e in events if e.supersedes}
    return [e for e in events if e.id not in superseded and e.event != RETRACTION]


def _matches(matchers: tuple[Matcher, ...], event: Event, statuses: set[str]) -> bool:
    """Whether any of a listener's matchers hears the event, given the child's statuses."""
    details, status = event.details, event.status
    for m in matchers:
        if m.status != status:
            continue
        for key, wanted, default in m.details:
            if details.get(key, default) != wanted:
                break
        else:  # every detail as wanted: now the child's statuses
            if m.during and statuses.isdisjoint(m.during):
                continue
            if m.not_during and not statuses.isdisjoint(m.not_during):
                continue
            return True
    return False


class _Replay:
    def __init__(self, child: str, pack: RulePack, calendar: WorkingCalendar, moments: dict[str, datetime]) -> None:
        self.child, self.pack, self.calendar = child, pack, calendar
        self.moments = moments  # event id -> when it happened (or is booked for)
        self.runs: dict[str, _Run] = {}
        self.statuses: set[str] = set()
        self.deadlines: list[Deadline] = []
        self.last_group_meeting: dict[str, tuple[Event, datetime]] = {}
        self.gave_way: dict[str, str] = {}  # group -> the event at which its regime last ended
        self.ids: set[str] = set()
        self.in_force: dict[str, InForce] = {}
        self.plan_unknown: list[str] = []
        self.last_done: dict[str, Event] = {}  # event name -> its last occurrence (pack.remembered only)

    def new_id(self, rule: CompiledRule, event: Event) -> str:
        """Rule and creating event; a suffix when a regime re-arms from the same
        event after a stricter one gave way, so ids stay unique and repeatable."""
        base = f"{self.child}:{rule.id}:{event.id}"
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}:{n}"
        self.ids.add(candidate)
        return candidate

    # -- deadlines --------------------------------------------------------
    def arm(self, run: _Run, event: Event, step_index: int) -> None:
        """Open the run's deadline for its step `step_index`, counting from `event`."""
        rule = run.rule
        step = rule.steps[step_index]
        due, due_at = step_due(self.calendar, step, event.date, self.moments[event.id])
        # positional, in Deadline's field order: this runs once per deadline
        deadline = Deadline(self.new_id(rule, event), self.child, rule.id, step.standard, step.source,
                            step.title, due, due_at, rule.rule.responsible, event.id, step.text, step.hours_based,
                            also_cites=step.also_cites)
        if event.details and event.details.get(IMPORTED) is True:
            deadline.known_from = event.posted_at
        run.open = deadline
        self.deadlines.append(deadline)

    @staticmethod
    def close(run: _Run, state: str, event: Event, moment: datetime) -> None:
        """The run's open deadline (if any) met by `event`, or cancelled by it; `moment`
        is when that happened."""
        deadline = run.open
        if deadline is None:
            return
        run.open = None
        deadline.state = state  # type: ignore[assignment]
        deadline.closed_on = moment.date()
        if state == "met":
            deadline.met_event_id = event.id
        if deadline.hours_based:
            deadline.late = moment > deadline.due_at
        else:
            deadline.late = deadline.closed_on > deadline.due

    def strongest(self, group: str, at: datetime) -> _Run | None:
        runs = self.runs
        for rule in self.pack.groups[group]:
            run = runs.get(rule.id)
            if run is not None and not run.ended and (run.expires_at is None or at < run.expires_at):
                return run  # (run.active, inline: this runs for every visit)
        return None

    def rearm_group(self, group: str, event: Event, moment: datetime) -> None:
        run = self.strongest(group, moment)
        if run is not None and run.open is None:
            step = run.next_step()
            if step is not None:
                self.arm(run, event, step)

    def hand_over(self, group: str, moment: datetime) -> None:
        """The stricter regime ended: the next one in force counts from the last
        time the task was done, or from its own start if that is later."""
        run = self.strongest(group, moment)
        if run is None or run.open is not None:
            return
        step = run.next_step()
        if step is None:
            return
        last = self.last_group_meeting.get(group)
        self.arm(run, last[0] if last is not None and last[1] > run.started_at else run.started_by, step)

    # -- one event --------------------------------------------------------
    def apply(self, event: Event, moment: datetime) -> None:
        # Conditions read the statuses as they were before this event; they
        # change only in the last step below.
        before = self.statuses
        name, pack = event.event, self.pack
        if name == CASE_CLOSED and event.status == "done":
            for run in self.runs.values():
                self.close(run, "cancelled", event, moment)
                run.ended = True
            self.statuses.clear()
            self.in_force.clear()
            self.last_done.clear()
            return

        if name in pack.implied_by and event.status == "done":
            self.imply(event, moment)
        sequence = event.details.get("sequence") if event.details else None
        if isinstance(sequence, int) and sequence > 1 and name in pack.status_changes:
            # The 2nd review (an import says which): what the 1st started was in force before it.
            for status, starts, _ in pack.status_changes[name]:
                if starts and status not in self.statuses and _matches(starts, event, self.statuses):
                    self.statuses.add(status)
        # Most events (a visit) only meet deadlines: skip the steps nothing listens to.
        met = self.meet(event, moment, before) if name in pack.met_by or name == TASK_DONE else []
        # What the event ends, it ends before anything it met is re-armed.
        regime_ended = self.end(event, moment, before) if name in pack.ended_by else []
        visited: list[str] = []  # groups whose task this event did
        for run in met:
            group = run.rule.group
            if group:
                if group not in visited:
                    visited.append(group)
            elif run.open is None and run.active(moment):
                step = run.next_step()
                if step is not None:
                    self.arm(run, event, step)
        for group in visited:
            self.rearm_group(group, event, moment)
        for group in regime_ended:
            self.gave_way[group] = event.id
            if group not in visited:
                self.hand_over(group, moment)
        if name in pack.triggered_by or name in pack.held_by:
            self.trigger(event, moment, before)
        if name in pack.status_changes:
            self.update_statuses(event)
        if name in pack.remembered and event.status == "done":
            self.last_done[name] = event

    def meet(self, event: Event, moment: datetime, statuses: set[str]) -> list[_Run]:
        listeners: Sequence[Listener]
        if event.event == TASK_DONE:
            rule = self.pack.compiled.get(str(event.details.get("rule", "")))
            listeners = [(rule, event.status, ())] if rule else []
        else:
            listeners = self.pack.met_by[event.event]
        met: list[_Run] = []
        runs, status = self.runs, event.status
        for rule, wanted, matchers in listeners:
            run = runs.get(rule.id)
            if run is None or run.ended:
                continue
            # a status-only listener (`wanted`) needs no matchers: (status != wanted) if wanted ...
            if status != wanted if wanted is not None else not _matches(matchers, event, statuses):
                continue
            # An imported review says which one it was ("the 2nd"): the chain goes on from there.
            sequence = event.details.get("sequence") if event.details else None
            run.meetings = max(run.meetings + 1, sequence if isinstance(sequence, int) else 0)
            if rule.group:
                self.last_group_meeting[rule.group] = (event, moment)
            late_history = False
            if run.open is not None:
                closed = run.open
                self.close(run, "met", event, moment)
                late_history = closed.late and event.details.get(IMPORTED) is True
            if run.meetings > rule.last_step and not rule.recurs or late_history and not rule.recurs:
                # done for good: later events need not look at it. An imported event that met a
                # one-off chain's step long after it fell due (the latest visit, a year after the
                # move) says nothing of the chain's later steps, which belong to that past: none.
                run.ended = True
            met.append(run)
        return met

    def end(self, event: Event, moment: datetime, statuses: set[str]) -> list[str]:
        """Plans that end with this event; returns the groups whose regime changed."""
        changed: list[str] = []
        runs, status = self.runs, event.status
        for rule, wanted, matchers in self.pack.ended_by[event.event]:
            run = runs.get(rule.id)
            if run is None or run.ended:
                continue
            if status != wanted if wanted is not None else not _matches(matchers, event, statuses):
                continue
            run.ended = True
            self.close(run, "cancelled", event, moment)
            if rule.group and rule.group not in changed:
                changed.append(rule.group)
        return changed

    def trigger(self, event: Event, moment: datetime, statuses: set[str]) -> None:
        if event.status == "done" and event.event in self.pack.held_by:
            self.meeting_held(event)
        status = event.status
        for rule, wanted, matchers in self.pack.triggered_by.get(event.event, ()):
            if status != wanted if wanted is not None else not _matches(matchers, event, statuses):
                continue
            run = self.runs.get(rule.id)
            if run is not None and not run.ended:
                if rule.before_meeting:
                    if run.open is not None and not run.held:
                        self.move(run, event)  # re-booked
                        continue
                elif run.open is not None or run.next_step() is not None:
                    continue  # the first trigger's clock keeps running
            expires = None
            active_for = rule.rule.active_for
            if active_for is not None:
                _, expires = due_by(self.calendar, active_for.amount, active_for.unit, active_for.before,
                                    event.date, moment, active_for.less_than)
            run = _Run(rule, event, moment, expires)
            self.runs[rule.id] = run
            if rule.group:
                self.start_in_group(run, event, moment)
            else:
                self.arm(run, self.last_done_before(rule, event, statuses), 0)

    def last_done_before(self, rule: CompiledRule, event: Event, statuses: set[str]) -> Event:
        """What a new run counts from: its trigger, or for a rule that counts from the last time
        its task was done (8.8), that time, when the task was done before the trigger."""
        if not rule.rule.from_last_done:
            return event
        done = [e for m in rule.rule.met_by if (e := self.last_done.get(m.event)) is not None
                and _matches((self.pack.matcher(m),), e, statuses)]
        return max(done, key=lambda e: self.moments[e.id], default=event)

    def start_in_group(self, run: _Run, event: Event, moment: datetime) -> None:
        """A new regime for a shared task (visits): the strictest in force sets the clock,
        and a change of regime never makes the task due later than it already was."""
        group = run.rule.group
        assert group is not None
        if self.strongest(group, moment) is not run:
            return  # a stricter regime already sets the frequency
        anchor = event
        last = self.last_group_meeting.get(group)
        if last is not None and self.gave_way.get(group) == event.id:
            # The event that ended the last regime starts this one (a step-down from a Child
            # Protection Plan to a Family Help Plan): the child was last seen at the last visit.
            anchor = last[0]
        due_at = step_due(self.calendar, run.rule.steps[0], anchor.date, self.moments[anchor.id])[1]
        others = [r for other in self.pack.groups[group] if (r := self.runs.get(other.id)) is not None and r is not run]
        if any(r.open is not None and r.open.due_at < due_at for r in others):
            # The regime it joins already has the task due earlier: that deadline holds, and this
            # regime's clock starts from the next time the task is done.
            return
        for other_run in others:
            self.close(other_run, "cancelled", event, moment)
        self.arm(run, anchor, 0)

    def meeting_held(self, event: Event) -> None:
        """A booked meeting took place: on another day than booked, its 'before'
        deadlines follow it; the next booking starts afresh."""
        for rule in self.pack.held_by[event.event]:
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
        deadline.due, deadline.due_at = step_due(self.calendar, run.rule.steps[0], event.date,
                                                 self.moments[event.id])
        deadline.event_id = event.id
        deadline.id = self.new_id(run.rule, event)

    def update_statuses(self, event: Event) -> None:
        before = set(self.statuses)
        for name, starts, ends in self.pack.status_changes[event.event]:
            if _matches(ends, event, before):
                self.statuses.discard(name)
                self.in_force.pop(name, None)
            if _matches(starts, event, before):
                self.statuses.add(name)
                self.in_force[name] = InForce(name, self.pack.vocabulary.statuses[name].title, event.date)

    # -- children met mid-plan (SPEC section 9) ------------------------------------
    def imply(self, event: Event, moment: datetime) -> None:
        """An event that happens only under a plan the bot has not seen start puts the plan
        in force from it: what the event meets goes on from it (the next core group), a
        shared task starts from it (the visits), and what hangs off the plan's start waits
        for the start date."""
        for status, matchers in self.pack.implied_by[event.event]:
            if status in self.statuses or not _matches(matchers, event, self.statuses):
                continue
            self.statuses.add(status)
            met_here = {rule.id for rule, wanted, found in self.pack.met_by.get(event.event, ())
                        if (event.status == wanted if wanted is not None else _matches(found, event, self.statuses))}
            waiting: list[str] = []
            for rule in self.pack.while_rules[status]:
                run = self.runs.get(rule.id)
                if run is not None and not run.ended:
                    continue
                expires = None
                if rule.rule.active_for is not None:
                    span = rule.rule.active_for
                    _, expires = due_by(self.calendar, span.amount, span.unit, span.before, event.date, moment)
                run = self.runs[rule.id] = _Run(rule, event, moment, expires)
                if rule.id in met_here:
                    continue  # meet() counts this event and arms the next one
                if rule.group and any(m.event in self.pack.asks_under for m in rule.rule.met_by):
                    self.start_in_group(run, event, moment)  # the visits: SPEC 9 arms them from the event
                else:
                    waiting.append(rule.id)  # hangs off the plan's start
            self.in_force[status] = InForce(status, self.pack.vocabulary.statuses[status].title, None, event.id,
                                            tuple(waiting))
        if event.event in self.pack.asks_under and UNDER not in event.details and not any(
                s in self.statuses for s in self.pack.asks_under[event.event]):
            self.plan_unknown.append(event.id)

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


def decided_event(decision: Override, child: str) -> Event:
    """A manager's decision as the event the rules hear: done on the day it takes effect."""
    when = decision.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Event(id=f"decision:{decision.target}:{when}", child=child, event=decision.target,
                 date=decision.due, posted_at=decision.at, details={"by": decision.by})


def child_deadlines(
    events: Iterable[Event],
    pack: RulePack,
    calendar: WorkingCalendar,
    now: datetime,
    overrides: Iterable[Override] = (),
    child: str | None = None,
) -> ChildTimeline:
    """Every deadline for one child, each open, met, overdue or cancelled at `now`.

    A decision whose target is an event the vocabulary marks `decision` (a Service Manager's
    decision that visits can reduce, 9.11) is heard as that event on its `due` date."""
    in_force = current_events(events)
    child_id = child or (in_force[0].child if in_force else "")
    overrides = list(overrides)
    if pack.decided and any(d.target in pack.decided for d in overrides):
        in_force += [decided_event(d, child_id) for d in overrides if d.target in pack.decided]
        overrides = [d for d in overrides if d.target not in pack.decided]
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
        known = deadline.known_from
        if known is not None and deadline.late and deadline.closed_on is not None and (
                deadline.closed_on <= known.astimezone(LONDON).date()):
            deadline.late = False  # done before the bot was told: nothing before an import is met late
    tracked = {d.rule for d in replay.deadlines if d.state in ("open", "overdue")}
    plans = {name: replace(plan, waiting_for_start=tuple(dict.fromkeys(
        pack.compiled[r].steps[0].title for r in plan.waiting_for_start if r not in tracked)))
        for name, plan in replay.in_force.items()}  # what another rule arms after all is not waiting
    return ChildTimeline(replay.deadlines, set(replay.statuses), unapplied, assumed, plans,
                         replay.plan_unknown)
