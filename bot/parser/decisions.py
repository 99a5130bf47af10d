"""Decisions that move a deadline: the 2013 direction's lead social worker setting
the ICPC, first core group or assessment date, and extensions a manager agrees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .updates import UpdateReader
from .vocabulary import vocabulary

_ROLE_WORDS = {"sm": "SM", "service manager": "SM", "tm": "TM", "team manager": "TM", "csw": "TM",
               "consultant social worker": "TM", "hos": "HoS", "head of service": "HoS", "gm": "SM",
               "group manager": "SM"}


@dataclass(frozen=True)
class DecisionReading:
    """A decision that moves a deadline: who may make it is the bot's to check."""

    kind: str  # flexible_scheme | extension
    target: str | None  # icpc | first_core_group | assessment
    child: str | None
    due: date | None
    reason: str
    agreed_by: str | None  # the manager's role named in the message, if any


def read_decision(message: str, now: datetime) -> DecisionReading | None:
    """'ICPC for 123 set for 10 Dec by lead SW: family availability', 'extension agreed for
    1200 assessment to 20 Jan, SM agreed, reason ...'; None for anything else."""
    return DecisionReader(message, now, vocabulary()).decision()


class DecisionReader(UpdateReader):
    """Reads a message only for a decision."""

    def decision(self) -> DecisionReading | None:
        flexible = self._find("decision_flexible")
        extension = self._find("decision_extension")
        if not flexible and not extension:
            return None
        children = self._children()
        mentions, _ = self._event_mentions()
        targets = self.v.decision_targets
        target = next((targets.get(e.event or "") or targets.get(e.topic or "") for e in mentions
                       if targets.get(e.event or "") or targets.get(e.topic or "")), None)
        readings = self._readings(self.dates[:1], "future")
        said_at = (flexible or extension)[0].start
        reasons = [m for m in self._find("decision_reason") if m.start > said_at]
        reason = ""
        if reasons:
            after = self.tokens[reasons[0].end - 1].end
            reason = self.cleaned[after:].strip(" :,-.").strip()
        text = " ".join(self.words)
        agreed_by = next((role for words, role in _ROLE_WORDS.items() if f" {words} " in f" {text} "), None)
        return DecisionReading(
            kind="flexible_scheme" if flexible else "extension", target=target,
            child=children[0].number if children else None,
            due=readings[0].day if len(readings) == 1 else None, reason=reason, agreed_by=agreed_by)
