"""How timely the work was (SPEC section 11): pure counting over deadlines as the engine
left them. No I/O: the store gives the outcomes, the bot draws and words them.

A deadline that fell due in the window is met on time, met late, or missed (past due
and not met). One cancelled (its plan ended), one overdue when it was imported (its
timescale passed before the bot knew the child), and one not yet due are not counted.

The national measures count as the Department for Education's statistics do (Children
in need and Child Protection, the CIN census), from the statutory deadlines the engine
keeps for Working Together:

- assessments completed in the window, and of them those completed within 45 working
  days of the referral (Working Together 2015, paragraph 60; the `wt-assessment` rule);
- Initial Child Protection Conferences held in the window, and of them those held
  within 15 working days of the strategy discussion that started the Section 47
  enquiry (Working Together; the `wt-icpc` rule);
- children on a Child Protection Plan with a visit due in the window, and of them those
  whose every visit was on time (Practice Standards 7.3; the `visits-cp-plan` rule).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rules.calendar import WorkingCalendar

ASSESSMENT_RULE, ICPC_RULE, CP_VISIT_RULE = "wt-assessment", "wt-icpc", "visits-cp-plan"


@dataclass(frozen=True)
class Outcome:
    """One deadline as the report reads it."""

    unit: str
    child: str
    rule: str
    standard: str
    title: str
    due: date
    state: str  # open | met | cancelled
    late: bool
    closed_on: date | None
    before_import: bool = False  # fell due before the bot was told of it (SPEC section 9)


@dataclass(frozen=True)
class StandardLine:
    standard: str
    rule: str
    title: str
    due: int
    on_time: int
    late: int
    missed: int
    on_time_pct: float | None
    median_days_late: float | None

    def as_json(self) -> dict[str, object]:
        return {"standard": self.standard, "rule": self.rule, "title": self.title, "due": self.due,
                "on_time": self.on_time, "late": self.late, "missed": self.missed, "on_time_pct": self.on_time_pct,
                "median_days_late": self.median_days_late}


@dataclass(frozen=True)
class Measure:
    measure: str
    title: str
    numerator: int
    denominator: int

    def as_json(self) -> dict[str, object]:
        return {"measure": self.measure, "title": self.title, "numerator": self.numerator,
                "denominator": self.denominator}


@dataclass
class UnitReport:
    unit: str
    name: str
    standards: list[StandardLine] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    by_month: dict[str, tuple[int, int]] = field(default_factory=dict)  # "2026-11" -> (on time, due)


@dataclass
class Report:
    start: date
    end: date
    units: list[UnitReport]

    def as_json(self) -> dict[str, object]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "units": [
            {"unit": u.unit, "name": u.name, "standards": [s.as_json() for s in u.standards],
             "measures": [m.as_json() for m in u.measures],
             "by_month": {month: {"on_time": on_time, "due": due} for month, (on_time, due) in u.by_month.items()}}
            for u in self.units]}


def _counted(o: Outcome, start: date, end: date, today: date) -> str | None:
    """How a deadline counts in the window: on_time, late, missed, or None (not counted)."""
    if not start <= o.due <= end or o.state == "cancelled" or o.before_import:
        return None
    if o.state == "met":
        return "late" if o.late else "on_time"
    return "missed" if o.due < today else None  # not met, and not yet past due


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def unit_report(unit: str, name: str, outcomes: Sequence[Outcome], start: date, end: date, today: date,
                calendar: WorkingCalendar) -> UnitReport:
    report = UnitReport(unit, name)
    by_rule: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    cp_visits: dict[str, list[str]] = {}
    for o in outcomes:
        how = _counted(o, start, end, today)
        if how is None:
            continue
        late_by = 0
        if how == "late" and o.closed_on:
            late_by = calendar.working_days_between(o.due, o.closed_on)
        elif how == "missed":
            late_by = calendar.working_days_between(o.due, today)
        by_rule.setdefault((o.standard, o.rule, o.title), []).append((how, late_by))
        month = o.due.strftime("%Y-%m")
        on_time, due = report.by_month.get(month, (0, 0))
        report.by_month[month] = (on_time + (how == "on_time"), due + 1)
        if o.rule == CP_VISIT_RULE:
            cp_visits.setdefault(o.child, []).append(how)
    for (standard, rule, title), counted in sorted(by_rule.items()):
        hows = [h for h, _ in counted]
        lateness = [days for h, days in counted if h != "on_time"]
        report.standards.append(StandardLine(
            standard, rule, title, len(hows), hows.count("on_time"), hows.count("late"), hows.count("missed"),
            _pct(hows.count("on_time"), len(hows)), statistics.median(lateness) if lateness else None))
    report.by_month = dict(sorted(report.by_month.items()))
    report.measures = [
        _held_in_window(outcomes, ASSESSMENT_RULE, "assessments_within_45_working_days",
                        "Assessments completed within 45 working days of the referral", start, end),
        _held_in_window(outcomes, ICPC_RULE, "icpc_within_15_working_days",
                        "Initial Child Protection Conferences held within 15 working days of the strategy discussion",
                        start, end),
        Measure("cp_children_visited_within_timescale",
                "Children on a Child Protection Plan whose every visit was within timescale",
                sum(all(h == "on_time" for h in hows) for hows in cp_visits.values()), len(cp_visits)),
    ]
    return report


def _held_in_window(outcomes: Iterable[Outcome], rule: str, measure: str, title: str, start: date,
                    end: date) -> Measure:
    """The DfE counts what happened in the period (an assessment completed, a conference
    held) and, of those, the ones in time."""
    done = [o for o in outcomes if o.rule == rule and o.state == "met" and o.closed_on and start <= o.closed_on <= end
            and not o.before_import]
    return Measure(measure, title, sum(not o.late for o in done), len(done))
