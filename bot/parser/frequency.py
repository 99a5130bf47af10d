"""A Service Manager's decision at a Supervision Order's 3-month review that visits can
reduce to every 20 working days (9.11) or network meetings to every 12 weeks (9.13):
"SM decision: visits for 500 can reduce to every 20 working days: good progress",
"network meetings for child 500 reduced to 12 weekly, agreed at the 3 month review,
reason: plan on track". Only these shapes: a message must say reduce and what reduces;
"visit for 500 today" is an update, not a decision."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tokens import clean

VISITS = "so_visits_reduced"
MEETINGS = "so_meetings_reduced"

_WHAT = r"(?:visits?|visiting|hvs?|network(?: meetings?)?)"
_VERB = r"(?:reduc(?:e|ed|es|ing|tion)|drop(?:ped|s)? to|step(?:ped)? down to)"
# what reduces, then the verb in the same clause ("visits for 500 can reduce"), or the verb
# then what ("reduce the frequency of visits"): "HV done for 500, reduced risk" is neither.
_SHAPE = re.compile(rf"\b{_WHAT}\b[^,.;:\n]{{0,40}}?\b{_VERB}\b"
                    rf"|\b{_VERB} (?:the )?(?:frequency of )?(?:the )?{_WHAT}\b")
_VISITS = re.compile(r"\b(?:visits?|visiting|hvs?)\b")
_MEETINGS = re.compile(r"\bnetwork\b")
# amounts ("20 working days", "every 12 weeks", "3 month review") are never child numbers
_AMOUNT = re.compile(r"\b\d+\s*(?:-\s*)?(?:working days?|wd|days?|weeks?|weekly|months?|monthly)\b|\bevery \d+\b")
_CHILD = re.compile(r"(?:\bchild(?:ren)?\s+|#)(\d{2,})\b|(?<![\d/.:-])\b(\d{3,})\b(?![\d/.:])")
_REASON = re.compile(r"(?:\breasons?\b|\bbecause\b|\brationale\b|:)\s*(.*)$", re.S)


@dataclass(frozen=True)
class FrequencyDecision:
    """What reduces (events the vocabulary marks as decisions), for which child, and why."""

    reduces: tuple[str, ...]
    child: str | None
    reason: str


def read_frequency_decision(message: str) -> FrequencyDecision | None:
    """The decision a message records, or None when it is not such a decision."""
    text = clean(message).strip()
    lower = text.lower()
    found = _SHAPE.search(lower)
    if not found:
        return None
    said = " ".join(m[0] for m in _SHAPE.finditer(lower))
    reduces = tuple(name for name, words in ((VISITS, _VISITS), (MEETINGS, _MEETINGS)) if words.search(said))
    reason = ""
    if explained := _REASON.search(text, found.end()):
        reason = explained[1].strip(" :,-.").strip()
    before_reason = _AMOUNT.sub(" ", lower[:explained.start()] if explained else lower)
    children = {a or b for a, b in _CHILD.findall(before_reason)}
    return FrequencyDecision(reduces, children.pop() if len(children) == 1 else None, reason)
