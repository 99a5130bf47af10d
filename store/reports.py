"""The deadlines a timeliness report counts (SPEC section 11): those of these units that
fell due in the window, and the statutory ones met in it (the national measures count
what was done in the period)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, or_, select

from rules.timeliness import ASSESSMENT_RULE, ICPC_RULE, Outcome, Report, unit_report
from store.models import Child, DeadlineRecord
from store.records import Store


def outcomes(store: Store, units: Sequence[str], start: date, end: date) -> dict[str, list[Outcome]]:
    """Unit -> its deadlines that the report for `start`..`end` may count."""
    d = DeadlineRecord
    # Found by the units' children (a deadline is in its child's unit): the units' own index
    # holds open deadlines only, and the report counts met and cancelled ones too.
    children = select(Child.number).where(Child.unit_id.in_(list(units)))
    query = select(d.unit_id, d.child, d.rule, d.standard, d.title, d.due, d.state, d.late, d.closed_on,
                   d.due_at, d.known_from).where(
        d.child.in_(children), d.unit_id.in_(list(units)),
        or_(d.due.between(start, end),
            and_(d.rule.in_([ASSESSMENT_RULE, ICPC_RULE]), d.closed_on.between(start, end))))
    found: dict[str, list[Outcome]] = {unit: [] for unit in units}
    with store.session() as s:
        for row in s.execute(query):
            before_import = row.known_from is not None and row.due_at < row.known_from
            found[row.unit_id].append(Outcome(row.unit_id, row.child, row.rule, row.standard, row.title, row.due,
                                              row.state, row.late, row.closed_on, before_import))
    return found


def timeliness_report(store: Store, units: dict[str, str], start: date, end: date, today: date) -> Report:
    """The report for these units (id -> name) over `start`..`end`, judged at `today`."""
    found = outcomes(store, list(units), start, end)
    return Report(start, end, [unit_report(unit, name, found[unit], start, end, today, store.calendar)
                               for unit, name in units.items()])
