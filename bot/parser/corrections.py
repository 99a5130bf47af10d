"""Corrections ("correction: that was yesterday", "sorry, 124 not 123") and undo."""

from __future__ import annotations

from .common import direction_of
from .mentions import ChildMention, Segment
from .result import Clarification, Correction, ParseResult, Update
from .updates import UpdateReader
from .vocabulary import Mention


class CorrectionReader(UpdateReader):
    """Reads a correction or an undo."""

    def _undo(self) -> ParseResult | None:
        marks = self._find("undo")
        if not marks or marks[0].start > 1 or len(self.tokens) > 10:
            return None
        self.correcting = True
        children = self._children()
        mentions, _ = self._event_mentions()
        corrects: dict[str, str] = {}
        if mentions and mentions[0].event:
            corrects["event"] = mentions[0].event
        if children:
            corrects["child"] = children[0].number
        return ParseResult(kind="correction", correction=Correction(undo=True, corrects=corrects), notes=self.notes)

    def _is_correction_start(self) -> bool:
        return self._starts_with("correction_explicit", 3) or self._starts_with("correction_plain", 2) or any(
            m.meaning.name == "correction_plain" and " ".join(self.words[m.start : m.end]).startswith("should")
            for m in self._find("correction_plain")
        )

    def _mark_wrong_dates(self) -> None:
        if not self.correcting:
            return
        for n, d in enumerate(self.dates):
            if any(m.end == d.start for m in self._find("wrong_marker", max(0, d.start - 3), d.start)):
                self.wrong_dates.add(n)

    # -- corrections ----------------------------------------------------------------
    def _correction(
        self,
        segments: list[Segment],
        prefix_end: int,
        children: list[ChildMention],
        applied: list[Mention],
    ) -> ParseResult:
        corrects: dict[str, str] = {}
        wrong_children = [c.number for c in children if c.wrong]
        if wrong_children:
            corrects["child"] = wrong_children[0]
        wrong = [self.dates[n] for n in sorted(self.wrong_dates)]
        if wrong and (readings := wrong[0].readings(self.today, None)):
            corrects["date"] = readings[0].day.isoformat()
        if segments:
            updates = self._updates(segments, prefix_end, children, applied, defaults=False)
        else:
            statuses, _ = self._statuses(0, len(self.words), applied)
            status = next(iter(statuses)) if len(statuses) == 1 else None
            dates = [d for n, d in enumerate(self.dates) if n not in self.wrong_dates]
            readings = self._readings(dates, direction_of(status)) if dates else []  # type: ignore[arg-type]
            right = [c.number for c in children if not c.wrong]
            updates = [Update(
                event=None, child=right[0] if right else None, status=status,  # type: ignore[arg-type]
                date=readings[0].day if len(readings) == 1 else None,
                time=self.times[0].at if self.times else None,
            )]
            if len(readings) > 1:
                self.clarify.append(Clarification(
                    field="date", question="Which date did you mean?", updates=[0],
                    options=[self._date_option(r, status) for r in readings[:5]]))  # type: ignore[arg-type]
        first = updates[0] if updates else None
        if first is not None and first.event:  # "HV for 123 was Friday": find 123's visit
            corrects.setdefault("event", first.event)
            if first.child:
                corrects.setdefault("child", first.child)
        self.clarify = [c for c in self.clarify if c.field != "child"]
        return ParseResult(kind="correction", updates=updates, clarify=self.clarify,
                           correction=Correction(undo=False, corrects=corrects), notes=self.notes)
