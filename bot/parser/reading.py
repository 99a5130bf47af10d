"""Reading one message into updates, a question, a correction, or nothing.

The order matters and is the whole design:

1. dates and times are read first (our own grammar, `dates.py`), so their
   numbers can never be taken for children;
2. child numbers next: after "child"/"children"/"#", or any other number of
   three digits or more that is not a date, time or amount;
3. the remaining words are matched against `phrases.toml` (events, topics and
   their verbs, statuses, details), longest phrase first, with typos corrected;
4. the message is cut into one segment per event at the nearest comma, "and"
   or full stop, and each event takes the child, date and status from its own
   segment, falling back to what the message says for all of them.

When something needed is missing or could be read two ways, the result carries
questions instead of guesses; the bot stores nothing until they are answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import cast

from rules.calendar import LONDON
from rules.pack import load_vocabulary as load_rule_vocabulary

from .dates import DateMention, DateReader, Direction, Reading, TimeMention, read_with_dateparser
from .result import Clarification, Correction, Option, ParseResult, Query, StatusName, Update
from .tokens import Token, clean, tokenize
from .vocabulary import Mention, Vocabulary, vocabulary

_BOUNDARY_PUNCT = {",", ";", ".", "\n", "!", "?", ":", "(", ")", "-", "+", "&"}
_BOUNDARY_WORDS = {"and", "then", "also", "but", "plus", "while", "whilst", "after", "following", "before"}
_CHILD_MARKERS = {"child", "children", "kids", "kid", "cn", "case", "cases", "ref", "yp", "sibling", "siblings",
                  "sibs", "for", "to"}
_CHILD_FILLER = {"no", "number", "numbers", "nos", "num", "ref", ":", "#"}
_LIST_JOINERS = {",", "and", "&", "+", "/"}
_NOT_CHILD_BEFORE = {"room", "ext", "extension", "tel", "page", "item", "£", "x", "flat", "bus", "route", "floor",
                     "level", "number", "version", "v", "week", "year", "years", "aged", "age"}
_NOT_CHILD_AFTER = {"days", "day", "weeks", "week", "mins", "minutes", "hours", "hrs", "hr", "people", "percent",
                    "%", "pages", "miles", "km", "times", "am", "pm", "years", "yrs", "months", "calls", "visits"}
_OK_AFTER_LOOSE = {",", ";", ".", "\n", "!", "?", ":", "-", "(", ")", "&", "+"}
# The last word of a topic's verb phrase that says it happened without ending in -ed:
# "FHA done", "signed off", "came off", "put on", "written up", "sent to manager", "went into".
_PAST_VERBS = {"done", "begun", "began", "made", "signed", "off", "on", "up", "manager", "tm", "qa'd", "outcome",
               "complete", "notification", "decision", "into"}


@cache
def _titles() -> dict[str, str]:
    return {name: e.title for name, e in load_rule_vocabulary().events.items()}


def title(event: str) -> str:
    return _titles().get(event, event.replace("_", " "))


def for_people(day: date) -> str:
    return day.strftime("%a %-d %b") + (day.strftime(" %Y") if day.year != date.today().year else "")


@dataclass
class EventMention:
    event: str | None  # None: a topic whose verb is missing or a plan that needs naming
    start: int
    end: int
    implied: StatusName | None = None
    fuzzy: bool = False
    negated: bool = False
    choices: list[str] = field(default_factory=list)  # events it could be, when event is None
    question: str = ""
    verb: tuple[int, int] | None = None  # token span of a topic's verb
    loose: bool = False  # named by an everyday word ("closed", "found"): weak evidence alone
    topic: str | None = None


@dataclass
class ChildMention:
    number: str
    index: int
    wrong: bool = False  # "it was 124 not 123": 123 is the value being corrected


@dataclass
class Segment:
    mention: EventMention
    start: int
    end: int


def parse(message: str, now: datetime) -> ParseResult:
    """Read one message posted at `now` (any zone; read in London time)."""
    return _Reader(message, now, vocabulary()).result()


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
    return _Reader(message, now, vocabulary()).decision()


class _Reader:
    def __init__(self, message: str, now: datetime, vocab: Vocabulary) -> None:
        self.v = vocab
        self.now = (now if now.tzinfo else now.replace(tzinfo=LONDON)).astimezone(LONDON)
        self.today = self.now.date()
        self.cleaned = clean(message)
        self.tokens: list[Token] = tokenize(self.cleaned)
        self.notes: list[str] = []
        self.clarify: list[Clarification] = []
        dates = DateReader(self.tokens).read()
        self.dates: list[DateMention] = dates.dates
        self.times: list[TimeMention] = dates.times
        self.unread_dates = dates.unread
        self.taken = list(dates.used)  # tokens already read as dates, times or children
        self.words = self._corrected_words()
        self.correcting = False
        self.wrong_dates: set[int] = set()  # indexes into self.dates
        self.event_spans: list[tuple[int, int]] = []  # an event's own words are not also a status

    # -- words ----------------------------------------------------------------------
    def _corrected_words(self) -> list[str]:
        words = []
        for i, tok in enumerate(self.tokens):
            text = tok.text
            if tok.kind == "word" and not self.taken[i] and len(text) >= 4 and text not in self.v.known_words:
                fixed = self.v.correct(text)
                if fixed:
                    self.notes.append(f"read '{text}' as '{fixed}'")
                    text = fixed
            words.append(text)
        return words

    def _find(self, index_name: str, start: int = 0, end: int | None = None) -> list[Mention]:
        index = self.v.markers[index_name]
        end = len(self.words) if end is None else end
        found = index.find(self.words[start:end], self.tokens[start:end], [True] * (end - start))
        return [Mention(m.meaning, m.start + start, m.end + start) for m in found]

    def _has(self, index_name: str) -> bool:
        return bool(self._find(index_name))

    def _starts_with(self, index_name: str, within: int = 1) -> bool:
        return any(m.start < within for m in self._find(index_name))

    # -- children -------------------------------------------------------------------
    def _children(self) -> list[ChildMention]:
        found: list[ChildMention] = []
        seen: set[int] = set()
        toks = self.tokens
        for i, tok in enumerate(toks):
            if i in seen or self.taken[i]:
                continue
            marked = tok.kind == "hash_number"
            if tok.kind == "number" or marked:
                j = i - 1
                while j >= 0 and toks[j].text in _CHILD_FILLER:
                    j -= 1
                marker = j >= 0 and toks[j].text in _CHILD_MARKERS - {"for", "to"}
                if not (marked or marker or self._bare_child(i)):
                    continue
                for k in self._number_list(i):
                    if k not in seen:
                        seen.add(k)
                        found.append(ChildMention(toks[k].text, k, self._after_wrong_marker(k)))
        for c in found:
            self.taken[c.index] = True
        return found

    def _bare_child(self, i: int) -> bool:
        tok = self.tokens[i]
        if len(tok.text) < 3 or len(tok.text) > 9:
            return False
        before = self.tokens[i - 1].text if i > 0 else ""
        after = self.tokens[i + 1].text if i + 1 < len(self.tokens) else ""
        return before not in _NOT_CHILD_BEFORE and after not in _NOT_CHILD_AFTER

    def _number_list(self, i: int) -> list[int]:
        """'401, 402 and 403': the indexes of every number in the list starting at i."""
        indexes = [i]
        k = i + 1
        toks = self.tokens
        while k + 1 < len(toks) and toks[k].text in _LIST_JOINERS and not self.taken[k + 1]:
            nxt = toks[k + 1]
            if nxt.kind == "hash_number" or (nxt.kind == "number" and (len(nxt.text) >= 3 or len(toks[i].text) < 3)):
                if k + 2 < len(toks) and toks[k + 2].text in _NOT_CHILD_AFTER:
                    break
                indexes.append(k + 1)
                k += 2
            else:
                break
        return indexes

    def _after_wrong_marker(self, i: int) -> bool:
        if not self.correcting:
            return False
        return any(m.end == i or (m.end == i - 1 and self.tokens[i - 1].text in ("the", "on", "for", "child"))
                   for m in self._find("wrong_marker", max(0, i - 4), i))

    # -- events ---------------------------------------------------------------------
    def _event_mentions(self) -> tuple[list[EventMention], list[Mention]]:
        free = [not t for t in self.taken]
        raw = self.v.events.find(self.words, self.tokens, free)
        details = self.v.details.find(self.words, self.tokens, free)
        mentions: list[EventMention] = []
        verb_spans: list[tuple[int, int]] = []
        for k, m in enumerate(raw):
            fuzzy = any(self.words[i] != self.tokens[i].text for i in range(m.start, m.end))
            if m.meaning.kind == "event":
                loose = tuple(self.words[m.start : m.end]) in self.v.loose
                if (loose and not self._loose_fits(m)) or self._about_paperwork(m):
                    continue
                mentions.append(EventMention(m.meaning.name, m.start, m.end, m.meaning.value, fuzzy,  # type: ignore[arg-type]
                                             loose=loose))
                continue
            topic = m.meaning.name
            lo = raw[k - 1].end if k > 0 else 0
            hi = raw[k + 1].start if k + 1 < len(raw) else len(self.words)
            verb = self._nearest_verb(topic, m, lo, hi, free)
            mention = EventMention(None, m.start, m.end, None, fuzzy, question=self.v.topic_questions[topic],
                                   topic=topic)
            if verb is None:
                mention.choices = [c for c in self.v.topic_choices[topic] if c not in self.v.plans]
                if topic == "plan":
                    mention.choices = list(self.v.plans["plan_ended"])
            else:
                made = verb.meaning.name
                mention.verb = (verb.start, verb.end)
                verb_spans.append(mention.verb)
                if made in self.v.plans:
                    mention.choices = list(self.v.plans[made])
                else:
                    mention.event = made
                # A past-tense verb says it happened: "FHA submitted", "CP plan ended".
                verb_words = self.words[verb.start : verb.end]
                if verb_words[-1].endswith("ed") or verb_words[-1] in _PAST_VERBS:
                    mention.implied = "done"
            mentions.append(mention)
        # A topic's verb is not also an event of its own ("CP plan closed" is not the child closed).
        mentions = [e for e in mentions if e.verb or not any(_overlaps((e.start, e.end), s) for s in verb_spans)]
        mentions = self._contact_with_rag(mentions, details)
        return self._apply_details(mentions, details)

    def _about_paperwork(self, m: Mention) -> bool:
        """'core group minutes for 123': the minutes, not the meeting."""
        return m.end < len(self.words) and self.words[m.end] in self.v.loose_not_near

    def _loose_fits(self, m: Mention) -> bool:
        """'123 found safe' is the event; 'found the file' is not."""
        if any(w in self.v.loose_not_near for w in self.words[max(0, m.start - 3) : m.end + 3]):
            return False
        if m.end >= len(self.tokens):
            return True
        nxt = self.tokens[m.end]
        return nxt.kind != "word" or nxt.text in _OK_AFTER_LOOSE or self.taken[m.end] or (
            self.words[m.end] in self.v.loose_followers
        )

    def _nearest_verb(self, topic: str, m: Mention, lo: int, hi: int, free: Sequence[bool]) -> Mention | None:
        verbs = self.v.verbs[topic].find(self.words[lo:hi], self.tokens[lo:hi], free[lo:hi])
        best: Mention | None = None
        best_distance = 99
        for v in verbs:
            start, end = v.start + lo, v.end + lo
            if _overlaps((start, end), (m.start, m.end)):
                continue
            distance = m.start - end if end <= m.start else start - m.end
            if distance < best_distance:
                best, best_distance = Mention(v.meaning, start, end, topic), distance
        return best

    def _contact_with_rag(self, mentions: list[EventMention], details: list[Mention]) -> list[EventMention]:
        """'contact' alone is family time; with a RAG rating it is a contact at MASH."""
        if any(e.event == "contact_received" for e in mentions) or not any(d.meaning.name == "rag" for d in details):
            return mentions
        for i, word in enumerate(self.words):
            if word in ("contact", "contacts") and not self.taken[i]:
                mentions.append(EventMention("contact_received", i, i + 1))
                return sorted(mentions, key=lambda e: e.start)
        return mentions

    def _apply_details(
        self, mentions: list[EventMention], details: list[Mention]
    ) -> tuple[list[EventMention], list[Mention]]:
        present = {e.event for e in mentions}
        applied: list[Mention] = []
        for d in details:
            wanted = self.v.detail_events[d.meaning.name]
            if not wanted & present:
                continue
            span = (d.start, d.end)
            # A topic whose verb lies outside the detail keeps its meaning ("S47 completed").
            if any(_overlaps(span, (e.start, e.end)) and e.verb and not _inside(e.verb, span) for e in mentions):
                continue
            applied.append(d)
            others = {e.event for e in mentions if not _overlaps(span, (e.start, e.end))}
            mentions = [
                e for e in mentions
                if not _overlaps(span, (e.start, e.end)) or (e.event in wanted and e.event not in others)
            ]
        # "made subject to a CP plan" at an ICPC is its outcome, not a second event.
        mentions = [e for e in mentions if not (e.verb and any(_overlaps(e.verb, (d.start, d.end)) for d in applied))]
        return mentions, applied

    # -- segments -------------------------------------------------------------------
    def _segments(self, mentions: list[EventMention], children: list[ChildMention]) -> tuple[list[Segment], int]:
        """One segment per event; returns them and where the shared prefix ends.

        The first event's segment starts after the last comma/"and" before it (what
        comes earlier is said of every event); each later one at the first after the
        previous event. A joiner inside a list of children ("123 and 124") is not a cut.
        """
        in_lists = {c.index + 1 for c in children} & {c.index - 1 for c in children}

        def cut(i: int) -> bool:
            return i not in in_lists and (self.words[i] in _BOUNDARY_PUNCT or self.words[i] in _BOUNDARY_WORDS)

        segments: list[Segment] = []
        for e in mentions:
            if not segments:
                start = next((i + 1 for i in range(e.start - 1, -1, -1) if cut(i)), 0)
            else:
                prev_end = segments[-1].mention.end
                start = next((i + 1 for i in range(prev_end, e.start) if cut(i)), prev_end)
                segments[-1].end = start
            segments.append(Segment(e, start, len(self.words)))
        prefix_end = segments[0].start if segments else len(self.words)
        return segments, prefix_end

    def _statuses(self, start: int, end: int, applied: list[Mention]) -> tuple[set[str], bool]:
        """Statuses said in tokens [start, end): the strong ones, else the weak; and whether it was re-booked.

        In a correction only the strong ones count: "it was 124" is not "it happened".
        """
        strong, weak, moved = self._status_words(start, end, applied)
        return (strong if self.correcting else strong or weak), moved

    def _status_words(self, start: int, end: int, applied: list[Mention]) -> tuple[set[str], set[str], bool]:
        free = [not t for t in self.taken]
        found = self.v.statuses.find(self.words[start:end], self.tokens[start:end], free[start:end])
        found = [
            m for m in found
            if not any(_overlaps((m.start + start, m.end + start), (d.start, d.end)) for d in applied)
            and not any(_inside((m.start + start, m.end + start), span) for span in self.event_spans)
        ]
        strong = {m.meaning.name for m in found
                  if tuple(self.words[m.start + start : m.end + start]) not in self.v.weak_statuses}
        weak = {m.meaning.name for m in found} - strong
        moved = any(tuple(self.words[m.start + start : m.end + start]) in self.v.moved_words for m in found)
        return strong, weak, moved

    def _negated(self, e: EventMention) -> bool:
        i = e.start - 1
        if i >= 0 and self.words[i] in ("a", "the", "any"):
            i -= 1
        return i >= 0 and self.words[i] in self.v.negating_words

    # -- the result -----------------------------------------------------------------
    def result(self) -> ParseResult:
        undo = self._undo()
        if undo:
            return undo
        self.correcting = self._is_correction_start()
        self._mark_wrong_dates()
        children = self._children()
        mentions, applied = self._event_mentions()
        self.event_spans = [(e.start, e.end) for e in mentions if not e.verb]
        if not self.correcting:
            query = self._query(children)
            if query:
                return ParseResult(kind="query", query=query, notes=self.notes)
        segments, prefix_end = self._segments(mentions, children)
        strong, weak, _ = self._status_words(0, len(self.words), applied)
        has_status = bool(strong or weak) or any(self._negated(e) for e in mentions)
        concrete = bool(children or self.dates or self.times or strong)
        if self.correcting:
            if not (concrete or mentions) and not self._starts_with("correction_explicit", 3):
                return ParseResult(kind="other", notes=self.notes)
            return self._correction(segments, prefix_end, children, applied)
        if not mentions:
            if children and strong and not self.cleaned.rstrip().endswith("?"):
                return self._unknown_event(children)
            return ParseResult(kind="other", notes=self.notes)
        if not children and (self.cleaned.rstrip().endswith("?") or not (self.dates or has_status)):
            return ParseResult(kind="other", notes=self.notes)
        if not children and all(e.fuzzy or e.loose for e in mentions):
            return ParseResult(kind="other", notes=self.notes)
        updates = self._updates(segments, prefix_end, children, applied, defaults=True)
        return ParseResult(kind="update", updates=updates, clarify=self.clarify, notes=self.notes)

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

    def _unknown_event(self, children: list[ChildMention]) -> ParseResult:
        numbers = ", ".join(c.number for c in children)
        question = (f"I couldn't tell what happened for child {numbers}. Which event was it "
                    "(for example home visit, strategy discussion, core group)?")
        self.clarify.append(Clarification(field="event", question=question))
        updates = [Update(event=None, child=c.number, status=None, date=None) for c in children]
        return ParseResult(kind="update", updates=updates, clarify=self.clarify, notes=self.notes)

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
            fields = self._segment_fields(seg, segments, shared_dates, shared_status, applied, defaults, ask)
            if not numbers:
                if not asked_child and defaults:
                    self.clarify.append(Clarification(
                        field="child",
                        question="Which child is this about? Reply with the child's number.",
                    ))
                    asked_child = True
                numbers = [None]  # type: ignore[list-item]
            made = [fields.model_copy(update={"child": number}) for number in numbers]
            if not ask and all(_merge_into(updates, u) for u in made):
                continue  # "PLO agreed at CRP": two names for one event
            first = len(updates)
            updates.extend(made)
            # One question per event, answered for every child it names.
            self.clarify.extend(q.model_copy(update={"updates": list(range(first, len(updates)))}) for q in ask)
        return updates

    def _segment_fields(
        self,
        seg: Segment,
        segments: list[Segment],
        shared_dates: list[DateMention],
        shared_status: set[str],
        applied: list[Mention],
        defaults: bool,
        ask: list[Clarification],
    ) -> Update:
        e = seg.mention
        event_name = e.event
        if event_name is None and defaults:
            options = [Option(label=title(c), set={"event": c}) for c in e.choices]
            ask.append(Clarification(field="event", question=e.question, options=options))
        statuses, moved = self._statuses(seg.start, seg.end, applied)
        if self._negated(e):
            statuses = statuses | {"not_done"}
        own_dates = [d for n, d in enumerate(self.dates)
                     if seg.start <= d.start < seg.end and n not in self.wrong_dates]
        dates = own_dates or shared_dates
        if not dates and not statuses:
            others = [d for n, d in enumerate(self.dates) if n not in self.wrong_dates]
            dates = others if len({d.text for d in others}) == 1 else []
        details = self._details(e, segments, applied)
        if not statuses:
            outcome = "done" if self.v.outcomes & details.keys() else None  # "strategy for 123 - NFA" was held
            implied = e.implied or outcome
            statuses = shared_status or ({implied} if implied else set())
        times = ([t for t in self.times if seg.start <= t.start < seg.end]
                 or (self.times if len(self.times) == 1 else []))
        at = times[0].at if times else None
        status = self._status(statuses, moved, dates)
        if not defaults:  # a correction names only what it changes
            strong, weak, _ = self._status_words(seg.start, seg.end, applied)
            direction = _direction(status or (next(iter(weak)) if len(weak) == 1 else None))  # type: ignore[arg-type]
            readings = self._readings(dates, direction) if dates else []
            day = readings[0].day if len(readings) == 1 else None
            return Update(event=event_name, child=None, status=status, date=day, time=at, details=details)
        # "visit this afternoon" posted in the morning is booked, unless it says it happened.
        rough = next((d.rough_time for d in dates if d.rough_time), None) if status is None else None
        day, status = self._date_and_status(dates, status, e, at or rough, ask)
        return Update(event=event_name, child=None, status=status, date=day, time=at, details=details)

    def _status(self, statuses: set[str], moved: bool, dates: list[DateMention]) -> StatusName | None:
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
        readings = self._readings(dates, _direction(status))
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

    # -- decisions -------------------------------------------------------------------
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
            readings = self._readings(dates, _direction(status)) if dates else []  # type: ignore[arg-type]
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

    # -- questions ------------------------------------------------------------------
    def _query(self, children: list[ChildMention]) -> Query | None:
        question_mark = self.cleaned.rstrip().endswith("?")
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
                    return today, _add_days(today, days, working=unit[0] == "working")
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


def _direction(status: StatusName | None) -> Direction:
    return "past" if status == "done" else "future" if status == "planned" else None


def _add_days(day: date, count: int, working: bool) -> date:
    if not working:
        return day + timedelta(days=count)
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


def _merge_into(updates: list[Update], new: Update) -> bool:
    """Fold `new` into an update for the same event, child, day and status; False if there is none."""
    key = (new.event, new.child, new.status, new.date, new.time)
    for i, old in enumerate(updates):
        if (old.event, old.child, old.status, old.date, old.time) == key:
            updates[i] = old.model_copy(update={"details": {**new.details, **old.details}})
            return True
    return False


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]




def answer(reading: ParseResult, reply: str, now: datetime) -> ParseResult:
    """Fill in the first question of `reading` from a reply in the thread ("123",
    "tomorrow", "it was booked for the 3rd"); the question stays if the reply
    does not answer it."""
    if not reading.clarify:
        return reading
    question, rest = reading.clarify[0], reading.clarify[1:]
    r = _Reader(reply, now, vocabulary())
    children = [c.number for c in r._children()]
    mentions, _ = r._event_mentions()
    statuses, _ = r._statuses(0, len(r.words), [])
    status = cast(StatusName, next(iter(statuses))) if len(statuses) == 1 else None
    targets = question.updates or list(range(len(reading.updates)))
    updates = list(reading.updates)
    values: dict[str, object] = {}
    if question.field == "child" and children:
        expanded: list[Update] = []
        for k, u in enumerate(updates):
            expanded += [u.model_copy(update={"child": c}) for c in children] if k in targets else [u]
        return reading.model_copy(update={"updates": expanded, "clarify": rest})
    if question.field == "event" and mentions and mentions[0].event:
        values["event"] = mentions[0].event
    if question.field in ("date", "status") and r.dates:
        day_status = status or updates[targets[0]].status
        readings = r._readings(r.dates[:1], _direction(day_status))
        if len(readings) == 1:
            day = readings[0].day
            values["date"] = day
            values["status"] = day_status or ("done" if day <= r.today else "planned")
    if question.field == "status" and status:
        values["status"] = status
        values.setdefault("date", updates[targets[0]].date or r.today)
    if r.times:
        values["time"] = r.times[0].at
    if not values or (set(values) == {"time"}):
        return reading
    for k in targets:
        updates[k] = updates[k].model_copy(update=values)
    return reading.model_copy(update={"updates": updates, "clarify": rest})


def choose(reading: ParseResult, option: int) -> ParseResult:
    """Apply one of the first question's options (a button)."""
    question, rest = reading.clarify[0], reading.clarify[1:]
    chosen = question.options[option].set
    values = {k: (date.fromisoformat(v) if k == "date" else v) for k, v in chosen.items()}
    targets = question.updates or list(range(len(reading.updates)))
    updates = [u.model_copy(update=values) if k in targets else u for k, u in enumerate(reading.updates)]
    return reading.model_copy(update={"updates": updates, "clarify": rest})
