"""What the words of a message mention: child numbers, events (with their verbs and
details), statuses, and the segments that cut a message into one event each.

`MentionReader` holds a message's tokens, dates and corrected words; the readers of
updates, corrections, questions and decisions build on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from rules.zone import LONDON

from .common import inside, overlaps
from .dates import DateMention, DateReader, TimeMention
from .result import Clarification, StatusName
from .tokens import Token, clean, tokenize
from .vocabulary import Mention, Vocabulary

_BOUNDARY_PUNCT = {",", ";", ".", "\n", "!", "?", ":", "(", ")", "-", "+", "&"}
_BOUNDARY_WORDS = {"and", "then", "also", "but", "plus", "while", "whilst", "after", "following", "before"}
_CHILD_MARKERS = {"child", "children", "kids", "kid", "cn", "case", "cases", "ref", "yp", "sibling", "siblings",
                  "sibs"}
_CHILD_FILLER = {"no", "number", "numbers", "nos", "num", "ref", ":", "#"}
_LIST_JOINERS = {",", "and", "&", "+", "/"}
_NOT_CHILD_BEFORE = {"room", "ext", "extension", "tel", "page", "item", "£", "x", "flat", "bus", "route", "floor",
                     "level", "number", "version", "v", "week", "year", "years", "aged", "age"}
_NOT_CHILD_AFTER = {"days", "day", "weeks", "week", "mins", "minutes", "hours", "hrs", "hr", "people", "percent",
                    "%", "pages", "miles", "km", "times", "am", "pm", "years", "yrs", "months", "calls", "visits"}
# Events whose own name is a decision: "decision" after them is not a thing about them.
_DECIDED_EVENTS = {"proceedings_decision", "pre_proceedings", "contact_decision", "referral_decision"}
_NOT_RETURNS_TO = {"school", "nursery", "college", "education", "class", "court", "work", "the", "her", "his",
                   "their", "mum", "mum's", "dad", "dad's", "parents", "parent", "family"}
_ENDED = {"supervision_order": "supervision_order_ended", "looked_after": "ceased_looked_after"}
_ENDING_WORDS = {"ended", "ends", "discharged", "expired", "expires", "ceased", "finished", "revoked", "lapsed"}
_INTENT_STOP = {",", ";", ".", "\n", "!", "?", "and", "but", "&", "+"}
_OK_AFTER_LOOSE = {",", ";", ".", "\n", "!", "?", ":", "-", "(", ")", "&", "+"}
# The last word of a topic's verb phrase that says it happened without ending in -ed:
# "FHA done", "signed off", "came off", "put on", "written up", "sent to manager", "went into".
_PAST_VERBS = {"done", "begun", "began", "made", "signed", "off", "on", "up", "manager", "tm", "qa'd", "outcome",
               "complete", "notification", "decision", "into"}


# What a span says of status: the strong statuses, the weak ones, and whether it was re-booked.
StatusWords = tuple[frozenset[str], frozenset[str], bool]
_NO_STATUS: StatusWords = (frozenset(), frozenset(), False)
# "in 6 weeks", "in a couple of months": roughly when the next one is due.
_ROUGHLY_IN = re.compile(r"^in (?:a|an|\d+|a few|a couple of|couple of|few) ?(?:weeks?|months?|fortnights?)$")


@dataclass(slots=True)
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


@dataclass(slots=True)
class ChildMention:
    number: str
    index: int
    wrong: bool = False  # "it was 124 not 123": 123 is the value being corrected


@dataclass(slots=True)
class Segment:
    mention: EventMention
    start: int
    end: int


class MentionReader:
    """A message as tokens, dates and corrected words, and what they mention."""

    def __init__(self, message: str, now: datetime, vocab: Vocabulary) -> None:
        self.v = vocab
        self.now = (now if now.tzinfo else now.replace(tzinfo=LONDON)).astimezone(LONDON)
        self.today = self.now.date()
        self.cleaned = clean(message)
        self.tokens: list[Token] = tokenize(self.cleaned)
        self.notes: list[str] = []
        self.clarify: list[Clarification] = []
        dates = DateReader(self.tokens, vocab.dated_after, vocab.counted).read()
        self.dates: list[DateMention] = dates.dates
        self.times: list[TimeMention] = dates.times
        self.unread_dates = dates.unread
        self.taken = list(dates.used)  # tokens already read as dates, times or children
        self.words = self._corrected_words()
        # Markers with a phrase that starts at some word of the message: lookups of the others are skipped.
        firsts = vocab.marker_firsts
        self.markers_here = {name for w in self.words if w in firsts for name in firsts[w]}
        self.correcting = False
        self.wrong_dates: set[int] = set()  # indexes into self.dates
        self.not_events = 0  # event words read as a thing, an intention or praise, not an event
        self.event_spans: list[tuple[int, int]] = []  # an event's own words are not also a status
        # _status_words by span (the words and the tokens taken are settled before it is asked).
        self._status_memo: dict[tuple[object, ...], StatusWords] = {}

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
        if index_name not in self.markers_here:
            return []
        return self.v.markers[index_name].find(self.words, self.tokens, None, start, end)

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
                marker = j >= 0 and toks[j].text in _CHILD_MARKERS
                if not (marked or marker or self._bare_child(i)):
                    continue
                for k in self._number_list(i):
                    if k not in seen:
                        seen.add(k)
                        found.append(ChildMention(toks[k].text, k, self._after_wrong_marker(k)))
        for c in found:
            self.taken[c.index] = True
        return found

    def _short_child(self) -> str | None:
        """A one- or two-digit number where a child's number would be ('HV for 45 done'): maybe
        a child, never taken for one without asking."""
        for i, tok in enumerate(self.tokens):
            if (tok.kind == "number" and not self.taken[i] and len(tok.text) <= 2 and i > 0
                    and self.tokens[i - 1].text in ("for", "re", "about", "with", "see", "saw", "visited")
                    and (i + 1 >= len(self.tokens) or self.tokens[i + 1].text not in _NOT_CHILD_AFTER)):
                return tok.text
        return None

    def _bare_child(self, i: int) -> bool:
        tok = self.tokens[i]
        if len(tok.text) < 3 or len(tok.text) > 9:
            return False
        before = self.tokens[i - 1].text if i > 0 else ""
        after = self.tokens[i + 1].text if i + 1 < len(self.tokens) else ""
        if after in ("week", "wk") and i + 2 < len(self.tokens) and self.tokens[i + 2].text in (
                "commencing", "beginning", "starting"):
            return before not in _NOT_CHILD_BEFORE  # "core group for 5310 week commencing 30 Nov"
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
        raw = self.v.events.find(self.words, self.tokens, self.taken)
        details = self.v.details.find(self.words, self.tokens, self.taken)
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
            verb = self._nearest_verb(topic, m, lo, hi)
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
        mentions = [e for e in mentions if e.verb or not any(overlaps((e.start, e.end), s) for s in verb_spans)]
        mentions = self._contact_with_rag(mentions, details)
        for e in mentions:
            self._ending(e)
        kept = [e for e in mentions if not self._not_an_event(e)]
        self.not_events = len(mentions) - len(kept)
        mentions = kept
        return self._apply_details(mentions, details)

    def _not_an_event(self, e: EventMention) -> bool:
        """'the ICPC report', 'proceed to ICPC', 'core group to follow', 'well done on the strat':
        the event's word names a thing, an outcome or intention still to come, or is praise."""
        if e.topic is None and e.event in _DECIDED_EVENTS:
            return False
        start = e.start - 1 if e.start > 0 and self.words[e.start - 1] in ("the", "a", "an", "an", "their", "his",
                                                                           "her") else e.start
        if any(m.end == start for m in self._find("not_event_before", max(0, start - 5), start)):
            return True
        if any(m.start == e.end for m in self._find("not_event_after", e.end, min(len(self.words), e.end + 3))):
            return True
        if any(m.end <= e.start for m in self._find("praise", max(0, e.start - 6), e.start)):
            return True
        if e.event == "found" and self._not_a_return_from_missing(e):
            return True
        if e.start > 0 and self.words[e.start - 1] == "next" and self.dates and all(
                _ROUGHLY_IN.match(d.text) for d in self.dates):
            return True  # "next core group in 6 weeks": when the next one is due, not a booking
        end = e.end
        while end < len(self.words) and self.words[end] not in _INTENT_STOP:
            end += 1
        if any(d.start < end and d.end > e.start for d in self.dates):
            return False  # "RHI to be arranged for Friday": booked, with its date
        return bool(self._find("intent", e.end, min(end, e.end + 6))) or any(
            m.end == start or (m.end == start - 1 and self.words[m.end] == "for")  # "awaiting a date for the ICPC"
            for m in self._find("intent", max(0, start - 5), start))

    def _ending(self, e: EventMention) -> None:
        """'SO for 123 discharged', 'S20 for 123 ended': the order or care arrangement ended."""
        if e.event not in _ENDED:
            return
        end = e.end
        while end < len(self.words) and end < e.end + 5 and self.words[end] not in _INTENT_STOP:
            if self.words[end] in _ENDING_WORDS:
                e.event, e.implied = _ENDED[e.event], "done"
                return
            end += 1

    def _not_a_return_from_missing(self, e: EventMention) -> bool:
        """'back home from hospital', 'returned to school', 'no longer looked after, returned
        home': back from somewhere, not from being missing."""
        if "missing" in self.words or "mfh" in self.words:
            return False  # "missing overnight, came back from a friend's": the return from it
        nxt = self.words[e.end] if e.end < len(self.words) else ""
        after = self.words[e.end + 1] if e.end + 1 < len(self.words) else ""
        if nxt == "from" and after not in ("being", "police", "episode", "absconding"):
            return True
        if nxt == "to" and after in _NOT_RETURNS_TO:
            return True
        return any(w in ("looked", "care", "s20", "lac", "cla", "accommodated") for w in self.words[:e.start])

    def _about_paperwork(self, m: Mention) -> bool:
        """'core group minutes for 123': the minutes, not the meeting."""
        return m.end < len(self.words) and self.words[m.end] in self.v.loose_not_near

    def _loose_fits(self, m: Mention) -> bool:
        """'123 found safe' is the event; 'found the file' is not."""
        if any(w in self.v.loose_not_near for w in self.words[max(0, m.start - 3) : m.end + 3]):
            return False
        if self.words[m.start : m.end] == ["back"] and not ({"missing", "mfh"} & set(self.words)):
            return False  # "back in the office": a return only beside a missing episode
        if m.end >= len(self.tokens):
            return True
        nxt = self.tokens[m.end]
        return nxt.kind != "word" or nxt.text in _OK_AFTER_LOOSE or self.taken[m.end] or (
            self.words[m.end] in self.v.loose_followers
        )

    def _nearest_verb(self, topic: str, m: Mention, lo: int, hi: int) -> Mention | None:
        verbs = self.v.verbs[topic].find(self.words, self.tokens, self.taken, lo, hi)
        best: Mention | None = None
        best_distance = 99
        for v in verbs:
            start, end = v.start, v.end
            if overlaps((start, end), (m.start, m.end)):
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
            if any(overlaps(span, (e.start, e.end)) and e.verb and not inside(e.verb, span) for e in mentions):
                continue
            applied.append(d)
            others = {e.event for e in mentions if not overlaps(span, (e.start, e.end))}
            mentions = [
                e for e in mentions
                if not overlaps(span, (e.start, e.end)) or (e.event in wanted and e.event not in others)
            ]
        # "made subject to a CP plan" at an ICPC is its outcome, not a second event.
        mentions = [e for e in mentions if not (e.verb and any(overlaps(e.verb, (d.start, d.end)) for d in applied))]
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

    def _statuses(self, start: int, end: int, applied: list[Mention]) -> tuple[frozenset[str], bool]:
        """Statuses said in tokens [start, end): the strong ones, else the weak; and whether it was re-booked.

        In a correction only the strong ones count: "it was 124" is not "it happened".
        """
        strong, weak, moved = self._status_words(start, end, applied)
        return (strong if self.correcting else strong or weak), moved

    def _status_words(self, start: int, end: int, applied: list[Mention]) -> StatusWords:
        """The strong and the weak statuses said in tokens [start, end), and whether it was re-booked.
        Worked out once a span: a reading often asks twice (the message's, then its one segment's)."""
        if start >= end:
            return _NO_STATUS
        key = (start, end, tuple((d.start, d.end) for d in applied), tuple(self.event_spans))
        known = self._status_memo.get(key)
        if known is None:
            known = self._status_memo[key] = self._read_status_words(start, end, applied)
        return known

    def _read_status_words(self, start: int, end: int, applied: list[Mention]) -> StatusWords:
        found = self.v.statuses.find(self.words, self.tokens, self.taken, start, end)
        if not found:
            return _NO_STATUS
        found = [
            m for m in found
            if not any(overlaps((m.start, m.end), (d.start, d.end)) for d in applied)
            and not any(inside((m.start, m.end), span) for span in self.event_spans)
        ]
        strong = frozenset(m.meaning.name for m in found
                           if tuple(self.words[m.start : m.end]) not in self.v.weak_statuses)
        weak = frozenset(m.meaning.name for m in found) - strong
        moved = any(tuple(self.words[m.start : m.end]) in self.v.moved_words for m in found)
        return strong, weak, moved

    def _negated(self, e: EventMention) -> bool:
        i = e.start - 1
        if i >= 0 and self.words[i] in ("a", "the", "any"):
            i -= 1
        return i >= 0 and self.words[i] in self.v.negating_words
