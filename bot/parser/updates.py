"""Updates: each event segment's child, date, time, status and details, and the
questions to ask where the words leave one of them open."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time, timedelta
from typing import cast

from .common import direction_of, for_people, title
from .dates import DateMention, Direction, Reading, read_with_dateparser
from .mentions import ChildMention, EventMention, MentionReader, Segment
from .result import Clarification, Option, ParseResult, StatusName, Update
from .vocabulary import Mention

_RETRY = re.compile(r"\b(try again|try|retry|revisit|re-visit|re visit|go back|going back|call back|call again|"
                    r"reattempt|re-attempt|another attempt|attempt again|pop back|pop round again)\b")


class UpdateReader(MentionReader):
    """Builds the updates a message says, or the questions it leaves open."""

    def _unknown_event(self, children: list[ChildMention]) -> ParseResult:
        numbers = ", ".join(c.number for c in children)
        question = (f"I couldn't tell what happened for child {numbers}. Which event was it "
                    "(for example home visit, strategy discussion, core group)?")
        self.clarify.append(Clarification(field="event", question=question))
        updates = [Update(event=None, child=c.number, status=None, date=None) for c in children]
        return ParseResult(kind="update", updates=updates, clarify=self.clarify, notes=self.notes)

    def _mark_retry_dates(self) -> None:
        """'no access, will try again Fri': the date is when they mean to go back, an
        intention, not the date of what happened; it is set aside (nothing is booked)."""
        for n, d in enumerate(self.dates):
            before = " ".join(self.words[max(0, d.start - 4) : d.start])
            if _RETRY.search(before):
                self.wrong_dates.add(n)

    # -- updates --------------------------------------------------------------------
    def _updates(
        self,
        segments: list[Segment],
        prefix_end: int,
        children: list[ChildMention],
        applied: list[Mention],
        defaults: bool,
    ) -> list[Update]:
        right_children = [c for c in children if not c.wrong]
        shared_children = [c.number for c in right_children if c.index < prefix_end]
        by_segment = [[c.number for c in right_children if s.start <= c.index < s.end] for s in segments]
        distinct = {tuple(x) for x in by_segment if x}
        shared_dates = [d for n, d in enumerate(self.dates) if d.end <= prefix_end and n not in self.wrong_dates]
        shared_status, _ = self._statuses(0, prefix_end, applied)
        asked_child = False
        updates: list[Update] = []
        for k, seg in enumerate(segments):
            numbers = by_segment[k] or shared_children or (list(distinct.pop()) if len(distinct) == 1 else [])
            if len(distinct) == 0 and by_segment[k]:
                distinct.add(tuple(by_segment[k]))
            ask: list[Clarification] = []
            if defaults and (pairs := self._child_date_pairs(seg, right_children)):
                # "HV 7001 yday & 7002 today": each child with its own date.
                for number, day in pairs:
                    own_ask: list[Clarification] = []
                    fields = self._segment_fields(seg, segments, shared_dates, shared_status, applied, defaults,
                                                  own_ask, only_dates=[day])
                    updates.append(replace(fields, child=number))
                    self.clarify.extend(replace(q, updates=[len(updates) - 1]) for q in own_ask)
                continue
            fields = self._segment_fields(seg, segments, shared_dates, shared_status, applied, defaults, ask)
            if not numbers:
                if not asked_child and defaults:
                    self.clarify.append(self._which_child())
                    asked_child = True
                numbers = [None]  # type: ignore[list-item]
            made = [replace(fields, child=number) for number in numbers]
            if not ask and all(merge_into(updates, u) for u in made):
                continue  # "PLO agreed at CRP": two names for one event
            first = len(updates)
            updates.extend(made)
            # One question per event, answered for every child it names.
            self.clarify.extend(replace(q, updates=list(range(first, len(updates)))) for q in ask)
        return updates

    def _which_child(self) -> Clarification:
        """'HV for 45 done': a short number where a child's would be may be one; ask, offering it."""
        if (number := self._short_child()) is not None:
            return Clarification(
                field="child", question=f"Which child is this about: is it child {number}? Reply with the "
                                        "child's number.",
                options=[Option(label=f"Child {number}", set={"child": number})])
        return Clarification(field="child", question="Which child is this about? Reply with the child's number.")

    def _child_date_pairs(self, seg: Segment, children: list[ChildMention]) -> list[tuple[str, DateMention]]:
        """Children and dates taking turns in one segment, each child beside its own date
        ('7001 yday & 7002 today', 'yday for 7001, today for 7002'); [] otherwise."""
        kids = [c for c in children if seg.start <= c.index < seg.end]
        dates = [d for n, d in enumerate(self.dates) if seg.start <= d.start < seg.end and n not in self.wrong_dates]
        if len(kids) < 2 or len(kids) != len(dates) or len({d.text for d in dates}) < 2:
            return []
        marks = sorted([(c.index, "c") for c in kids] + [(d.start, "d") for d in dates])
        kinds = "".join(k for _, k in marks)
        if kinds not in ("cd" * len(kids), "dc" * len(kids)):
            return []
        return [(c.number, d) for c, d in zip(kids, dates, strict=True)]

    def _segment_fields(
        self,
        seg: Segment,
        segments: list[Segment],
        shared_dates: list[DateMention],
        shared_status: frozenset[str],
        applied: list[Mention],
        defaults: bool,
        ask: list[Clarification],
        only_dates: list[DateMention] | None = None,
    ) -> Update:
        e = seg.mention
        event_name = e.event
        if event_name is None and defaults:
            options = [Option(label=title(c), set={"event": c}) for c in e.choices]
            ask.append(Clarification(field="event", question=e.question, options=options))
        statuses, moved = self._statuses(seg.start, seg.end, applied)
        if self._negated(e):
            statuses = statuses | {"not_done"}
        own_dates = only_dates if only_dates is not None else [
            d for n, d in enumerate(self.dates) if seg.start <= d.start < seg.end and n not in self.wrong_dates]
        dates = own_dates or shared_dates
        own_times = [t for t in self.times if seg.start <= t.start < seg.end]
        if not dates and not statuses and not own_times:  # "missing at 11pm yesterday, back 3am": today's 3am
            others = [d for n, d in enumerate(self.dates) if n not in self.wrong_dates and d.kind != "overnight"]
            dates = others if len({d.text for d in others}) == 1 else []
        details = self._details(e, segments, applied)
        if not statuses:
            outcome = "done" if self.v.outcomes & details.keys() else None  # "strategy for 123 - NFA" was held
            implied = e.implied or outcome
            statuses = shared_status or (frozenset({implied}) if implied else frozenset())
        # A time belongs to its own event; another's lone time only to one with no date of its own
        # ("missing overnight, returned 6am": the 6am is the return's).
        times = ([t for t in self.times if seg.start <= t.start < seg.end]
                 or (self.times if len(self.times) == 1 and not own_dates else []))
        at = times[0].at if times else None
        status = self._status(statuses, moved, dates)
        if not defaults:  # a correction names only what it changes
            strong, weak, _ = self._status_words(seg.start, seg.end, applied)
            direction = direction_of(status or (next(iter(weak)) if len(weak) == 1 else None))  # type: ignore[arg-type]
            readings = self._readings(dates, direction) if dates else []
            day = readings[0].day if len(readings) == 1 else None
            return Update(event=event_name, child=None, status=status, date=day, time=at, details=details)
        # "visit this afternoon" posted in the morning is booked, unless it says it happened.
        rough = next((d.rough_time for d in dates if d.rough_time), None) if status is None else None
        day, status = self._date_and_status(dates, status, e, at or rough, ask)
        return Update(event=event_name, child=None, status=status, date=day, time=at, details=details)

    def _status(self, statuses: frozenset[str], moved: bool, dates: list[DateMention]) -> StatusName | None:
        if moved and "planned" in statuses:
            return "planned"
        if len(statuses) == 1:
            return cast(StatusName, next(iter(statuses)))
        if "not_done" in statuses:
            return "not_done"
        if statuses == {"planned", "done"}:
            readings = [r for d in dates for r in d.readings(self.today, None)]
            if len(readings) == 1 and readings[0].day > self.today:
                return "planned"
            if len(readings) == 1 and readings[0].day < self.today:
                return "done"
            return "planned" if not readings else None
        return None

    def _details(self, e: EventMention, segments: list[Segment], applied: list[Mention]) -> dict[str, bool | str]:
        details: dict[str, bool | str] = {}
        if e.event is None:
            return details
        for d in applied:
            if e.event not in self.v.detail_events[d.meaning.name]:
                continue
            # The nearest event this detail can belong to, preferring the one before it.
            candidates = [s.mention for s in segments if s.mention.event in self.v.detail_events[d.meaning.name]]
            owner = min(candidates, key=lambda m: (m.start > d.start, abs(m.start - d.start)))
            if owner is e:
                details.setdefault(d.meaning.name, d.meaning.value)  # type: ignore[arg-type]
        return details

    def _readings(self, dates: list[DateMention], direction: Direction) -> list[Reading]:
        texts = {d.text for d in dates}
        if len(texts) > 1:
            # "moved from 3 Dec to 10 Dec": the date after "to" is the one that counts.
            after_to = [d for d in dates if d.start > 0 and self.words[d.start - 1] in ("to", "until")]
            if len(after_to) == 1:
                dates = after_to
        readings: list[Reading] = []
        for d in dates:
            for r in d.readings(self.today, direction):
                if r.day not in (x.day for x in readings):
                    readings.append(r)
        return readings

    def _date_and_status(
        self, dates: list[DateMention], status: StatusName | None, e: EventMention, at: time | None,
        ask: list[Clarification],
    ) -> tuple[date | None, StatusName | None]:
        name = title(e.event) if e.event else "This"
        if not dates and self.unread_dates:
            found = self._dateparser_date(status) if self._worth_dateparser() else None
            if found:
                return self._check_date(found, status, name, at, ask)
            start, end = self.unread_dates[0]
            text = self.cleaned[self.tokens[start].start : self.tokens[end - 1].end]
            ask.append(Clarification(field="date", question=f"{name}: I couldn't read the date '{text}'. Which date?"))
            return None, status
        if not dates:
            if at is not None:  # "HV at 4pm": today, booked or done by the clock
                return self._check_date(self.today, status, name, at, ask)
            if status == "planned":
                ask.append(Clarification(field="date", question=f"{name}: booked for when?"))
                return None, status
            if status is None and e.event in self.v.meetings:
                ask.append(Clarification(
                    field="status",
                    question=f"{name}: did it happen today, or is it booked? If booked, for when?",
                    options=[Option(label="It happened today", set={"status": "done", "date": self.today.isoformat()})],
                ))
                return None, None
            return self.today, status or "done"
        readings = self._readings(dates, direction_of(status))
        if len(readings) > 1 and status in ("done", "planned"):
            # "held 3/12": of 3 Dec last year and 3 Dec to come, the near one, then ask about the status.
            near = [r for r in readings if abs((r.day - self.today).days) <= 183]
            if len(near) == 1 and all(r.direction is None for r in readings):
                readings = near
        if not readings:
            ask.append(Clarification(
                field="date", question=f"I couldn't read the date '{dates[0].text}'. Which date did you mean?"))
            return None, status
        if len(readings) > 1:
            ask.append(Clarification(
                field="date",
                question=f"{name}: which date?",
                options=[self._date_option(r, status) for r in readings[:5]],
            ))
            return None, status
        return self._check_date(readings[0].day, status, name, at, ask)

    def _date_option(self, r: Reading, status: StatusName | None) -> Option:
        if status is None or (status, r.day > self.today) in (("done", True), ("planned", False)):
            status = "done" if r.day <= self.today else "planned"
        verb = {"done": "happened", "planned": "booked for", "not_done": "did not happen"}[status]
        label = f"{verb} {for_people(r.day)}" if status != "not_done" else f"{for_people(r.day)} (did not happen)"
        return Option(label=label[0].upper() + label[1:], set={"date": r.day.isoformat(), "status": status})

    def _check_date(
        self, day: date, status: StatusName | None, name: str, at: time | None, ask: list[Clarification]
    ) -> tuple[date | None, StatusName | None]:
        soon = (self.now + timedelta(minutes=30)).time()
        moment_in_future = day > self.today or (day == self.today and at is not None and at > soon)
        if status is None:
            return day, "planned" if moment_in_future else "done"
        if status == "done" and moment_in_future:
            ask.append(Clarification(
                field="status",
                question=f"{name}: {for_people(day)} is still to come, but the update says it happened. "
                         "Is it booked for then?",
                options=[Option(label=f"Booked for {for_people(day)}",
                                set={"status": "planned", "date": day.isoformat()}),
                         Option(label="It happened today", set={"status": "done", "date": self.today.isoformat()})],
            ))
            return None, None
        if status == "planned" and day < self.today:
            ask.append(Clarification(
                field="status",
                question=f"{name}: {for_people(day)} has passed, but the update says it is booked. Did it happen then?",
                options=[Option(label=f"It happened {for_people(day)}",
                                set={"status": "done", "date": day.isoformat()}),
                         Option(label=f"It did not happen {for_people(day)}",
                                set={"status": "not_done", "date": day.isoformat()})],
            ))
            return None, None
        return day, status

    def _worth_dateparser(self) -> bool:
        """A span with words in it; "13/14" is not a date, and dateparser would make it 13 Nov 2014."""
        start, end = self.unread_dates[0]
        return any(t.kind == "word" for t in self.tokens[start:end])

    def _dateparser_date(self, status: StatusName | None) -> date | None:
        start, end = self.unread_dates[0]
        text = " ".join(t.text for t in self.tokens[start:end])
        direction: Direction = "future" if status == "planned" else "past" if status else None
        found = read_with_dateparser(text, self.now, direction)
        if found:
            self.notes.append(f"read '{text}' with dateparser as {found.isoformat()}")
        return found


def merge_into(updates: list[Update], new: Update) -> bool:
    """Fold `new` into an update for the same event, child, day and status; False if there is none."""
    key = (new.event, new.child, new.status, new.date, new.time)
    for i, old in enumerate(updates):
        if (old.event, old.child, old.status, old.date, old.time) == key:
            updates[i] = replace(old, details={**new.details, **old.details})
            return True
    return False
