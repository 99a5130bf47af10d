"""Reading a unit's caseload from a CSV a co-ordinator made from the case system (SPEC
section 9). Pure: text in, rows and problems out; the store checks what only it knows
(units, who holds a child, who is a member) and stores all or nothing.

Two layouts, told apart by the header:
- one row per event: child,unit,lead,event,date,time,status,details
- one row per child: child,unit,lead, then a column per event (the date of the most
  recent one, or of the next booked one) and EVENT.KEY columns for an event's details.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time

from rules.model import DetailValue, Status

EVENT_COLUMNS = ("child", "unit", "lead", "event", "date", "time", "status", "details")
PERSON_COLUMNS = ("child", "unit", "lead")
NOT_IMPORTED = frozenset({"retraction"})  # an undo is not a fact about a child
_CHILD = re.compile(r"^\d{1,20}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Problem:
    row: int  # the file's line number; the header is line 1
    column: str
    problem: str

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "problem": self.problem}


@dataclass(frozen=True)
class CaseloadRow:
    """One event a file says happened (or is booked) for a child."""

    line: int
    child: str
    unit: str | None
    lead: str | None
    event: str
    date: date
    status: Status
    time: time | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    """A child as the file names them: the unit and lead on the first line about them."""

    line: int
    unit: str | None
    lead: str | None


@dataclass
class Caseload:
    rows: list[CaseloadRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    children: dict[str, Person] = field(default_factory=dict)  # every child the file names, events or not
    layout: str = "events"  # events | children


def read_date(text: str) -> date | None:
    """2026-11-23 or 23/11/2026, as spreadsheets save them (2026-2-1, 23/11/26, and a
    date-time at midnight too), else None."""
    text = re.sub(r"\s+0?0:00(?::00)?$", "", text.strip())  # Excel's date-time for a date
    try:
        if found := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return date(int(found[1]), int(found[2]), int(found[3]))
        if found := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", text):
            year = int(found[3]) + (2000 if len(found[3]) == 2 else 0)
            return date(year, int(found[2]), int(found[1]))
    except ValueError:
        return None
    return None


def decode(data: bytes) -> str:
    """A CSV's bytes as text: UTF-8 (with or without Excel's byte-order mark), else the
    Windows encoding Excel's plain "CSV (Comma delimited)" saves."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _plain(cell: str) -> str:
    """A cell as typed, without the invisible characters a copy and paste brings."""
    return unicodedata.normalize("NFKC", cell).replace("\u200b", "").replace("\ufeff", "").strip()


def read_value(text: str) -> DetailValue:
    lowered = text.strip().lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    if re.fullmatch(r"\d{1,6}", lowered):
        return int(lowered)
    return text.strip()


def read_caseload(text: str, events: frozenset[str], today: date, one_child: bool = False) -> Caseload:
    """Every row of the file as events, and every problem with its line and column.
    `one_child`: one child's history, whose rows may leave the child's number out."""
    found = Caseload()
    text = text.lstrip("\ufeff")  # a spreadsheet's byte-order mark
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel in a comma-decimal locale
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        found.problems.append(Problem(1, "", "the file is empty"))
        return found
    except csv.Error as exc:
        found.problems.append(Problem(1, "", f"not a CSV file ({exc})"))
        return found
    if "child" not in header and not one_child:
        found.problems.append(Problem(1, "child", "the header has no 'child' column"))
        return found
    while header and not header[-1]:  # the empty columns a spreadsheet leaves at the end
        header.pop()
    found.layout = "events" if "event" in header and "date" in header else "children"
    if found.layout == "events":
        for name in header:
            if name not in EVENT_COLUMNS:
                found.problems.append(Problem(1, name, f"unknown column (the columns are {', '.join(EVENT_COLUMNS)})"))
    else:
        for name in header:
            event = name.split(".", 1)[0]
            if name not in PERSON_COLUMNS and event not in events:
                found.problems.append(Problem(1, name, "not an event name (see 'timescales rules' or SPEC section 3)"))
    if found.problems:
        return found
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            while len(cells) > len(header) and not cells[-1].strip():
                cells.pop()
            if len(cells) > len(header):
                found.problems.append(Problem(line, "", f"{len(cells)} cells, but the header has {len(header)}"))
                continue
            values = dict(zip(header, (_plain(c) for c in cells), strict=False))
            if found.layout == "events":
                _event_row(found, line, values, events, today, one_child)
            else:
                _child_row(found, line, values, events, today)
    except csv.Error as exc:
        found.problems.append(Problem(reader.line_num, "", f"not a CSV file ({exc})"))
    same: dict[str, str] = {}
    for child, person in found.children.items():  # 00456 and 456: one child or two? Ask, do not guess
        other = same.setdefault(child.lstrip("0") or "0", child)
        if other != child:
            found.problems.append(Problem(person.line, "child", f"{child} and {other} look like the same child: "
                                                                "write the number the same way on every row"))
    return found


def _person(found: Caseload, line: int, values: dict[str, str],
            one_child: bool = False) -> tuple[str, str | None, str | None] | None:
    child = values.get("child", "").lstrip("#")
    if one_child and not child:
        return "", None, None
    if not _CHILD.fullmatch(child):
        found.problems.append(Problem(line, "child", f"'{child}' is not a child's number (digits only)"))
        return None
    lead = values.get("lead") or None
    if lead and not _SLACK_USER.fullmatch(lead):
        found.problems.append(Problem(line, "lead", f"'{lead}' is not a Slack member id (like U012AB3CD)"))
        return None
    unit = values.get("unit") or None
    first = found.children.setdefault(child, Person(line, unit, lead))
    for column, said, before in (("unit", unit, first.unit), ("lead", lead, first.lead)):
        if said and before and said != before:
            found.problems.append(Problem(line, column, f"child {child} has {column} {before} on line {first.line}"))
            return None
    if lead and not first.lead or unit and not first.unit:
        found.children[child] = Person(first.line, first.unit or unit, first.lead or lead)
    return child, unit or first.unit, lead or first.lead


def _dated(found: Caseload, line: int, column: str, text: str, today: date) -> date | None:
    """A cell's date, or None with the problem noted: not a date, or not a year of this work."""
    day = read_date(text)
    if day is None:
        found.problems.append(Problem(line, column, f"'{text}' is not a date (2026-11-23 or 23/11/2026)"))
    elif not today.year - 25 <= day.year <= today.year + 2:
        found.problems.append(Problem(line, column, f"{day.isoformat()}: is the year right?"))
        return None
    return day


def _detail_problem(key: str, value: str) -> str | None:
    if key == "sequence" and not re.fullmatch(r"\d{1,2}", value.strip()):
        return f"sequence={value.strip()}: which review this was, as a number (2 for the second)"
    if read_value(value) == value.strip() and value.strip().lower() in ("maybe", "unknown", "tbc", "?"):
        return f"{key}={value.strip()}: give yes or no (true or false)"
    return None


def _status(found: Caseload, line: int, text: str, day: date, today: date) -> Status | None:
    if not text:
        return "planned" if day > today else "done"
    if text.lower() in ("done", "planned"):
        status: Status = "done" if text.lower() == "done" else "planned"
        if status == "done" and day > today:
            found.problems.append(Problem(line, "status", f"done, but {day.isoformat()} is still to come"))
            return None
        if status == "planned" and day < today:
            found.problems.append(Problem(line, "status", f"planned, but {day.isoformat()} has passed: did it "
                                                          "happen (done), or is it booked for another day?"))
            return None
        return status
    found.problems.append(Problem(line, "status", f"'{text}' is not done or planned"))
    return None


def _event_row(found: Caseload, line: int, values: dict[str, str], events: frozenset[str], today: date,
               one_child: bool = False) -> None:
    person = _person(found, line, values, one_child)
    event = values.get("event", "")
    if not event and not values.get("date"):
        return  # a child with nothing to say yet: named, so the agenda lists them
    day = _dated(found, line, "date", values.get("date", ""), today)
    ok = person is not None
    if event not in events or event in NOT_IMPORTED:
        found.problems.append(Problem(line, "event", f"unknown event '{event}'" if event else "no event"))
        ok = False
    if day is None:
        return
    clock = None
    if values.get("time"):
        try:
            clock = time.fromisoformat(values["time"].zfill(5) if re.fullmatch(r"\d:\d\d", values["time"])
                                       else values["time"])
        except ValueError:
            found.problems.append(Problem(line, "time", f"{values['time']} is not a time (14:30)"))
            ok = False
    details: dict[str, DetailValue] = {}
    for pair in filter(None, (p.strip() for p in values.get("details", "").split(";"))):
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not re.fullmatch(r"[a-z_][a-z0-9_]*", key):
            found.problems.append(Problem(line, "details", f"'{pair}' should look like key=value"))
            ok = False
            continue
        if problem := _detail_problem(key, value):
            found.problems.append(Problem(line, "details", problem))
            ok = False
            continue
        details[key] = read_value(value)
    status = _status(found, line, values.get("status", ""), day, today)
    if ok and status is not None and person is not None:
        child, unit, lead = person
        found.rows.append(CaseloadRow(line, child, unit, lead, event, day, status, clock, details))


def _child_row(found: Caseload, line: int, values: dict[str, str], events: frozenset[str], today: date) -> None:
    person = _person(found, line, values)
    if person is None:
        return
    child, unit, lead = person
    details: dict[str, dict[str, DetailValue]] = {}
    for name, value in values.items():
        if "." in name and value:
            event, key = name.split(".", 1)
            if not values.get(event):
                found.problems.append(Problem(line, name, f"a detail of {event}, but the row has no {event} date"))
                continue
            if problem := _detail_problem(key, value):
                found.problems.append(Problem(line, name, problem))
                continue
            details.setdefault(event, {})[key] = read_value(value)
    for name, value in values.items():
        if name in PERSON_COLUMNS or "." in name or not value:
            continue
        day = _dated(found, line, name, value, today)
        if day is None:
            continue
        if name in NOT_IMPORTED:
            found.problems.append(Problem(line, name, f"'{name}' is not an event name"))
            continue
        found.rows.append(CaseloadRow(line, child, unit, lead, name, day, "planned" if day > today else "done",
                                      None, details.get(name, {})))
