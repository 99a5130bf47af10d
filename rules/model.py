"""What a rule, an event and a deadline are.

Rules are pydantic models (validated once, when the pack loads). Events and
deadlines are slotted dataclasses: the engine makes hundreds of thousands of
them in a full recompute, and they are validated at the edges instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Status = Literal["done", "planned", "not_done"]
Unit = Literal["hours", "days", "working_days", "weeks", "months"]
DetailValue = bool | str | int


class Strict(BaseModel):
    # A misspelt field in a rule file must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


_TIMESCALE = re.compile(r"^(less than )?(\d+) (working day|day|week|month|hour)s?( before)?$")


class Timescale(Strict):
    amount: int = Field(ge=0)
    unit: Unit
    before: bool = False  # "at least N ... before" a planned meeting
    # "in less than 91 days", "in less than 3 months" (11.2, 13.2): the last day is the one
    # before N days / months have passed.
    less_than: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_words(cls, value: object) -> object:
        # Rule files say "15 working days", "2 working days before" or "less than 3 months".
        if not isinstance(value, str):
            return value
        found = _TIMESCALE.match(value.strip())
        if not found:
            raise ValueError(f"'{value}' is not a timescale like '15 working days', '2 working days before' "
                             "or 'less than 3 months'")
        unit = found[3].replace(" ", "_") + "s"
        return {"amount": int(found[2]), "unit": unit, "before": bool(found[4]), "less_than": bool(found[1])}

    @model_validator(mode="after")
    def _sensible(self) -> Timescale:
        if self.less_than and (self.before or self.unit not in ("days", "weeks", "months") or self.amount < 1):
            raise ValueError("'less than' goes with a number of days, weeks or months after an event")
        return self

    def describe(self) -> str:
        return _describe(self.amount, self.unit, self.before, self.less_than)


@cache
def _describe(amount: int, unit: str, before: bool, less_than: bool = False) -> str:
    # Cached: every deadline carries this text and the engine makes many.
    if amount == 0 and unit == "days":
        return "the same day"
    word = {"working_days": "working day", "days": "day", "weeks": "week", "months": "month", "hours": "hour"}[unit]
    plural = "" if amount == 1 else "s"
    return ("less than " if less_than else "") + f"{amount} {word}{plural}" + (" before" if before else "")


class Match(Strict):
    """Which events a rule listens to."""

    event: str
    status: Status = "done"
    details: dict[str, DetailValue] = {}
    during: list[str] = []  # the child has one of these statuses at the time
    not_during: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: object) -> object:
        return {"event": value} if isinstance(value, str) else value

    def describe(self) -> str:
        text = self.event if self.status == "done" else f"{self.event} ({self.status})"
        if self.details:
            text += " with " + ", ".join(f"{k}={v}" for k, v in self.details.items())
        if self.during:
            text += " while " + " or ".join(self.during)
        if self.not_during:
            text += " unless " + " or ".join(self.not_during)
        return text


class Step(Strict):
    """One deadline in a chain: a review "within 3 months, then every 6 months"
    is two steps; the last repeats when the rule recurs.

    Where two places in the sources give the same task different timescales ("4 weekly
    (20 days)", "less than 3 months" / "less than 91 days"), `or_within` holds the other
    one and the deadline falls on whichever date is earlier: the earlier date holds."""

    within: Timescale
    or_within: Timescale | None = None
    standard: str | None = None  # when a later step cites a different point
    also_cites: list[str] = []  # the other points this step's timescale comes from
    title: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_words(cls, value: object) -> object:
        return {"within": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _comparable(self) -> Step:
        other = self.or_within
        if other is not None:
            if other.before != self.within.before:
                raise ValueError("'within' and 'or_within' must both be 'before' a meeting, or neither")
            if (other.unit == "hours") != (self.within.unit == "hours"):
                raise ValueError("'within' and 'or_within' must both be hours, or neither")
        return self

    def describe(self) -> str:
        if self.or_within is None:
            return self.within.describe()
        return f"{self.within.describe()} or {self.or_within.describe()}, whichever is earlier"


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    standard: str = Field(min_length=1)
    also_cites: list[str] = []
    source: str
    title: str = Field(min_length=3)
    responsible: list[str] = Field(min_length=1)
    trigger: list[Match] = []
    while_status: str | None = Field(default=None, alias="while")
    steps: list[Step] = Field(min_length=1)
    recurs: bool = False
    met_by: list[Match] = Field(min_length=1)
    ends: list[Match] = []
    active_for: Timescale | None = None
    group: str | None = None  # rules that set the same task (visits) at different frequencies
    priority: int = 0  # within a group, the lower number is the stricter regime
    flexible: Literal["assessment", "icpc", "first_core_group"] | None = None
    default_on: bool = True
    # The clock counts from the last time the task was done, even before the rule started:
    # 8.8's assessment "updated at a minimum of every 12 months" runs from the assessment,
    # not from the plan that follows it (the earlier date holds).
    from_last_done: bool = False
    note: str | None = None  # why we read an ambiguous standard this way

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if not self.trigger and not self.while_status:
            raise ValueError("a rule needs a trigger or a 'while' status")
        before = [s.within.before for s in self.steps]
        if any(before) and (len(self.steps) > 1 or self.recurs):
            raise ValueError("a 'before the meeting' rule has one step and does not recur")
        if any(before) and any(m.status != "planned" for m in self.trigger):
            raise ValueError("a 'before the meeting' rule is triggered by a planned meeting")
        if self.from_last_done and (self.group or any(m.event == "task_done" for m in self.met_by)):
            raise ValueError("'from_last_done' needs a rule outside a group, met by events of its own")
        if self.group and self.priority <= 0:
            raise ValueError("a rule in a group needs a priority of 1 or more")
        cited = {self.standard, *self.also_cites}
        for step in self.steps:
            missing = sorted({step.standard or self.standard, *step.also_cites} - cited)
            if missing:
                # `timescales rules` lists standard + also_cites: every point a rule encodes
                # is there, so a manager searching for any of them finds the rule.
                raise ValueError(f"a step cites {', '.join(missing)}, which the rule's also_cites does not list")
        return self

    @property
    def before_meeting(self) -> bool:
        return self.steps[0].within.before


class StatusDef(Strict):
    """A state of the child's work (on a Child Protection Plan, missing...)."""

    title: str
    starts: list[Match]
    ends: list[Match]
    # Events that happen only while the child is in this state: for a child the bot has
    # not seen start it, one of them puts it in force, its start unknown (SPEC section 9).
    implied_by: list[Match] = []


class EventDef(Strict):
    title: str
    defaults: dict[str, DetailValue] = {}  # how an update that says nothing is read
    # A manager's decision (9.11: visits can reduce), recorded with its author and reason like
    # an override (SPEC section 4), that the rules hear as an event on the day it takes effect.
    decision: bool = False
    note: str | None = None


# -- what the engine reads and writes ----------------------------------------


@dataclass(slots=True, frozen=True)
class Event:
    id: str
    child: str
    event: str
    date: date
    status: Status = "done"
    time: time | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)
    posted_at: datetime | None = None  # with zone
    supersedes: str | None = None


@dataclass(slots=True, frozen=True)
class Override:
    """A decision that moves a deadline: the 2013 scheme's lead social worker
    setting a date, or an agreed extension. `target` is a rule id, a deadline
    id, or a flexible-scheme key (assessment, icpc, first_core_group)."""

    target: str
    due: date
    by: str
    at: datetime  # with zone
    reason: str


@dataclass(slots=True)
class Deadline:
    id: str
    child: str
    rule: str
    standard: str
    source: str
    title: str
    due: date
    due_at: datetime
    responsible: list[str]
    event_id: str
    timescale: str
    hours_based: bool
    state: Literal["open", "met", "overdue", "cancelled"] = "open"
    met_event_id: str | None = None
    closed_on: date | None = None  # when it was met or cancelled
    late: bool = False  # met, or cancelled, after its due date
    override: dict[str, str] | None = None
    also_cites: tuple[str, ...] = ()  # the other points its timescale comes from (SPEC section 4)
    # Armed from history the bot was told after the fact (an import): when it was told.
    # Due before then and not met by then, it was overdue at import (SPEC section 9).
    known_from: datetime | None = None

    @property
    def overdue_at_import(self) -> bool:
        known = self.known_from
        return known is not None and self.due_at < known and (
            self.state in ("open", "overdue") or (self.closed_on is not None and self.closed_on > known.date()))

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "child": self.child,
            "rule": self.rule,
            "standard": self.standard,
            "also_cites": list(self.also_cites),
            "source": self.source,
            "title": self.title,
            "due": self.due.isoformat(),
            "due_at": self.due_at.isoformat(),
            "state": self.state,
            "responsible": list(self.responsible),
            "event_id": self.event_id,
            "override": self.override,
            "timescale": self.timescale,
            "met_event_id": self.met_event_id,
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "late": self.late,
            "overdue_at_import": self.overdue_at_import,
        }
