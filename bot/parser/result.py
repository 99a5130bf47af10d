"""What the parser hands on: SPEC section 5's `parse` JSON, as pydantic models."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["update", "query", "correction", "other"]
StatusName = Literal["done", "planned", "not_done"]
DetailValue = bool | str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Update(_Model):
    """One event for one child. Fields the message did not give are None."""

    event: str | None
    child: str | None
    status: StatusName | None
    date: dt.date | None
    time: dt.time | None = None
    details: dict[str, DetailValue] = {}

    def as_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "child": self.child,
            "status": self.status,
            "date": self.date.isoformat() if self.date else None,
            "time": self.time.strftime("%H:%M") if self.time else None,
            "details": dict(self.details),
        }


class Query(_Model):
    type: Literal["due", "overdue", "child", "mine"]
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


class Option(_Model):
    """One answer to a question: a button label and the fields it sets."""

    label: str
    set: dict[str, Any]


class Clarification(_Model):
    field: Literal["child", "event", "date", "status", "time"]
    question: str
    updates: list[int] = []  # the updates it is about (indexes); empty for the whole message
    options: list[Option] = []

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "question": self.question, "updates": list(self.updates),
                "options": [o.model_dump() for o in self.options]}


class Correction(_Model):
    """'undo', or what a correction replaces: the new values are in `updates`."""

    undo: bool
    # How to find the update being corrected; empty means "the one this replies to".
    corrects: dict[str, str] = {}


class ParseResult(_Model):
    kind: Kind
    updates: list[Update] = []
    query: Query | None = None
    clarify: list[Clarification] = []
    correction: Correction | None = None
    notes: list[str] = []  # how the message was read where that was not literal ("startegy" -> strategy)

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
            shape["correction"] = self.correction.model_dump()
        if self.notes:
            shape["notes"] = list(self.notes)
        return shape
