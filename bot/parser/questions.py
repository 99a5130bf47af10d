"""Questions about deadlines: "what's due this week", "anything overdue?",
"what's coming up for 123?", "what's due for me"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .common import add_days
from .mentions import ChildMention, MentionReader
from .result import Query

# A request to colleagues, not a question to the bot.
_TO_COLLEAGUES = re.compile("can someone|could someone|can anyone|could anyone|is anyone|anyone able|anyone free|"
                            "who can|can you help|could you help|can u help|any volunteers|anyone around|is someone")


class QueryReader(MentionReader):
    """Reads a question about what is due."""

    def _query(self, children: list[ChildMention]) -> Query | None:
        question_mark = self.cleaned.rstrip().endswith("?")
        lowered = self.cleaned.lower()
        if _TO_COLLEAGUES.search(lowered):
            return None  # "can someone chair the ICPC for 123?": asked of the unit, not of the bot
        asks = self._starts_with("query_start") or question_mark
        about = self._has("query_about")
        if not (asks and about) and not (question_mark and children):
            return None
        if self._has("query_mine"):
            return Query(type="mine")
        if children:
            return Query(type="child", child=children[0].number)
        says_due = any(w == "due" for w in self.words)
        if self._has("query_overdue") and not says_due:
            return Query(type="overdue")
        start, end = self._window()
        return Query(type="due", start=start, end=end)

    def _window(self) -> tuple[date, date]:
        today = self.today
        for k, w in enumerate(self.words):  # "in the next 5 days", "next 10 working days"
            if w == "next" and k + 2 < len(self.words):
                count = self.tokens[k + 1]
                unit = self.words[k + 2:k + 4]
                if count.kind == "number" and unit and unit[0] in ("days", "working", "day"):
                    days = int(count.text)
                    return today, add_days(today, days, working=unit[0] == "working")
        for d in self.dates:
            if d.kind == "week":
                monday = today - timedelta(days=today.weekday())
                if today.weekday() >= 5 and d.week >= 0:
                    monday += timedelta(weeks=1)  # at the weekend "this week" is the coming one
                elif d.week:
                    monday += timedelta(weeks=d.week)
                return monday, monday + timedelta(days=4)
            readings = d.readings(today, "future")
            if len(readings) == 1:
                return readings[0].day, readings[0].day
        if "week" in self.words:  # "/timescales due week"
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if today.weekday() >= 5 else 0)
            return monday, monday + timedelta(days=4)
        return today, today + timedelta(days=7)
