"""What the parser hands on: SPEC section 5's `parse` JSON.

Plain dataclasses, not pydantic models: importing pydantic and building the models
was most of `timescales parse`'s start-up. `as_json` is the `parse --json` shape;
`to_data` and `from_data` are what a pending reading is kept as in the store (the
shape pydantic's `model_dump(mode="json")` gave, so readings kept before still load).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field  # Clarification has a field named `field`
from typing import Any, Literal, get_args

Kind = Literal["update", "query", "correction", "other"]
StatusName = Literal["done", "planned", "not_done"]
QueryType = Literal["due", "overdue", "child", "mine"]
Field = Literal["child", "event", "date", "status", "time"]
DetailValue = bool | str


def _one_of(value: object, allowed: object, what: str) -> Any:
    """A kept value checked against its Literal: a reading from the store or a button is data."""
    if value not in get_args(allowed):
        raise ValueError(f"{what} {value!r} is not one of {', '.join(get_args(allowed))}")
    return value


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass(slots=True, kw_only=True)
class Update:
    """One event for one child. Fields the message did not give are None."""

    event: str | None
    child: str | None
    status: StatusName | None
    date: dt.date | None
    time: dt.time | None = None
    details: dict[str, DetailValue] = _field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "child": self.child,
            "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "time": f"{self.time.hour:02}:{self.time.minute:02}" if self.time else None,  # strftime costs more
            "details": dict(self.details),
        }

    def to_data(self) -> dict[str, Any]:
        return {"event": self.event, "child": self.child, "status": self.status,
                "date": self.date.isoformat() if self.date else None,
                "time": self.time.isoformat() if self.time else None, "details": dict(self.details)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Update:
        status = data.get("status")
        time = data.get("time")
        return cls(event=data.get("event"), child=data.get("child"),
                   status=_one_of(status, StatusName, "status") if status is not None else None,
                   date=_day(data.get("date")), time=dt.time.fromisoformat(time) if time else None,
                   details=dict(data.get("details") or {}))


@dataclass(slots=True, kw_only=True)
class Query:
    type: QueryType
    start: dt.date | None = None  # "from" in JSON
    end: dt.date | None = None  # "to" in JSON
    child: str | None = None

    def as_json(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"type": self.type}
        if self.type == "due":
            shape["from"] = self.start.isoformat() if self.start else None
            shape["to"] = self.end.isoformat() if self.end else None
        if self.type == "child":
            shape["child"] = self.child
        return shape

    def to_data(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "child": self.child}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Query:
        return cls(type=_one_of(data.get("type"), QueryType, "query type"), start=_day(data.get("start")),
                   end=_day(data.get("end")), child=data.get("child"))


@dataclass(slots=True, kw_only=True)
class Option:
    """One answer to a question: a button label and the fields it sets."""

    label: str
    set: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "set": dict(self.set)}


@dataclass(slots=True, kw_only=True)
class Clarification:
    field: Field
    question: str
    updates: list[int] = _field(default_factory=list)  # the updates it is about (indexes); empty for the whole message
    options: list[Option] = _field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "question": self.question, "updates": list(self.updates),
                "options": [o.as_json() for o in self.options]}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Clarification:
        return cls(field=_one_of(data.get("field"), Field, "question field"), question=str(data["question"]),
                   updates=[int(k) for k in data.get("updates") or []],
                   options=[Option(label=str(o["label"]), set=dict(o["set"])) for o in data.get("options") or []])


@dataclass(slots=True, kw_only=True)
class Correction:
    """'undo', or what a correction replaces: the new values are in `updates`."""

    undo: bool
    # How to find the update being corrected; empty means "the one this replies to".
    corrects: dict[str, str] = _field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"undo": self.undo, "corrects": dict(self.corrects)}


@dataclass(slots=True, kw_only=True)
class ParseResult:
    kind: Kind
    updates: list[Update] = _field(default_factory=list)
    query: Query | None = None
    clarify: list[Clarification] = _field(default_factory=list)
    correction: Correction | None = None
    notes: list[str] = _field(default_factory=list)  # how the message was read where that was not literal

    @property
    def complete(self) -> bool:
        """Safe to store: nothing left to ask."""
        return not self.clarify

    def as_json(self) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "kind": self.kind,
            "updates": [u.as_json() for u in self.updates],
            "query": self.query.as_json() if self.query else None,
            "clarify": [c.as_json() for c in self.clarify],
        }
        if self.correction is not None:
            shape["correction"] = self.correction.as_json()
        if self.notes:
            shape["notes"] = list(self.notes)
        return shape

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "updates": [u.to_data() for u in self.updates],
                "query": self.query.to_data() if self.query else None,
                "clarify": [c.as_json() for c in self.clarify],
                "correction": self.correction.as_json() if self.correction else None, "notes": list(self.notes)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ParseResult:
        query, correction = data.get("query"), data.get("correction")
        return cls(
            kind=_one_of(data.get("kind"), Kind, "kind"),
            updates=[Update.from_data(u) for u in data.get("updates") or []],
            query=Query.from_data(query) if query else None,
            clarify=[Clarification.from_data(c) for c in data.get("clarify") or []],
            correction=Correction(undo=bool(correction["undo"]), corrects=dict(correction.get("corrects") or {}))
            if correction else None,
            notes=[str(n) for n in data.get("notes") or []],
        )
