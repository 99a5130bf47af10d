"""The parser's vocabulary (`phrases.toml`), validated at load and indexed for matching."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, NoReturn, NotRequired, TypedDict, get_args, get_origin, get_type_hints, is_typeddict

from rapidfuzz import fuzz, process

from .tokens import Token, phrase_words

PHRASES_FILE = Path(__file__).with_name("phrases.toml")
Status = Literal["done", "planned", "not_done"]


# The file's shape, checked field by field at load (see `_checked`). Not pydantic models,
# whose import would be most of the start-up of `timescales parse`; and TypedDicts, not
# dataclasses, which cost ten times as much to define.
class EventWords(TypedDict, total=False):
    phrases: list[str]
    done_phrases: list[str]
    not_done_phrases: list[str]
    needs_capitals: list[str]


class TopicWords(TypedDict):
    phrases: list[str]
    question: str
    verbs: dict[str, list[str]]


class StatusWords(TypedDict):
    done: list[str]
    planned: list[str]
    not_done: list[str]
    weak: list[str]
    moved: list[str]


class MeetingWords(TypedDict):
    events: list[str]


class NegationWords(TypedDict):
    words: list[str]


class LooseWords(TypedDict):
    words: list[str]
    followers: list[str]
    not_near: list[str]


class QueryWords(TypedDict):
    starts: list[str]
    about: list[str]
    overdue: list[str]
    mine: list[str]


class CorrectionWords(TypedDict):
    explicit: list[str]
    plain: list[str]
    undo: list[str]
    wrong_markers: list[str]


class NotEventWords(TypedDict):
    """Event words used as a noun, an outcome still to come, an intention or praise."""

    before: list[str]
    after: list[str]
    intent: list[str]
    praise: list[str]


class TypoWords(TypedDict):
    not_typos: list[str]


class DecisionWords(TypedDict):
    flexible: list[str]
    extension: list[str]
    reason: list[str]
    targets: dict[str, list[str]]


class PhrasesFile(TypedDict):
    events: dict[str, EventWords]
    decisions: DecisionWords
    typos: TypoWords
    loose: LooseWords
    queries: QueryWords
    corrections: CorrectionWords
    topics: dict[str, TopicWords]
    plans: dict[str, list[str]]
    status: StatusWords
    meetings: MeetingWords
    negation: NegationWords
    not_events: NotEventWords
    # details.<name> = {events = [...], outcome = bool, <value> = [phrases]}
    details: NotRequired[dict[str, dict[str, list[str] | bool]]]


class VocabularyError(ValueError):
    pass


def _checked(shape: Any, value: object, where: str = "") -> Any:
    """`value`, read from TOML, checked against `shape`: one of the TypedDicts above, a
    list, a dict, str, bool or a union of them. VocabularyError names the first field that
    does not fit (in pydantic's words, which the file's earlier checks used)."""

    def fail(problem: str, at: str = where) -> NoReturn:
        raise VocabularyError(f"{at.lstrip('.')}: {problem}")

    origin, args = get_origin(shape), get_args(shape)
    if is_typeddict(shape):
        if not isinstance(value, dict):
            fail("Input should be a table")
        hints = _hints(shape)
        for key in value:
            if key not in hints:
                fail("Extra inputs are not permitted", f"{where}.{key}")
        for name in hints:
            if name in shape.__required_keys__ and name not in value:
                fail("Field required", f"{where}.{name}")
        return {k: _checked(hints[k], v, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        if not isinstance(value, list):
            fail("Input should be a valid list")
        if args[0] is str and all(isinstance(v, str) for v in value):
            return value  # the usual list of phrases, checked at once
        return [_checked(args[0], v, f"{where}.{n}") for n, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            fail("Input should be a valid dictionary")
        return {k: _checked(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(shape, UnionType):
        for option in args:
            try:
                return _checked(option, value, where)
            except VocabularyError:
                pass
        fail(f"Input should be {shape}")
    if not isinstance(value, shape):
        fail(f"Input should be a valid {shape.__name__}")
    return value


@cache
def _hints(shape: type) -> dict[str, Any]:
    return get_type_hints(shape)


# Besides the vocabulary's own verbs and events: "booked for Thu", "moved to 29th".
_DATED_AFTER = ("on", "for", "until", "till", "from", "by", "is", "was", "and", "or", "to", "then", "since")
_NOT_COUNTED = {"is", "was", "the", "a", "into", "to", "new", "has", "gone", "come", "came", "back", "ran", "run",
                "now", "decision", "issue", "issued", "issuing", "moved", "change", "police", "child"}


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a phrase says: an event, a topic, a status, a topic's verb or a detail."""

    kind: Literal["event", "topic", "status", "verb", "detail", "marker"]
    name: str  # event or topic name, status, detail key, or the event a verb makes
    value: str | bool | None = None  # detail value; for an event phrase, the status it implies
    capitals: bool = False  # counts only when written in capitals


@dataclass(slots=True)  # not frozen, as Token: made many times a message
class Mention:
    meaning: Meaning
    start: int  # token indexes, end exclusive
    end: int
    topic: str | None = None  # for verbs: the topic they belong to


class PhraseIndex:
    """Longest-match lookup of multi-word phrases over a token list."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], Meaning]]] = {}

    def add(self, phrase: str, meaning: Meaning) -> None:
        words = phrase_words(phrase)
        if not words:
            raise VocabularyError(f"phrase {phrase!r} has no words")
        self._by_first.setdefault(words[0], []).append((words, meaning))

    def finish(self) -> None:
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))

    def words(self) -> set[str]:
        return {w for entries in self._by_first.values() for words, _ in entries for w in words}

    def find(self, words: Sequence[str], tokens: Sequence[Token], taken: Sequence[bool] | None = None,
             start: int = 0, stop: int | None = None) -> list[Mention]:
        """Every longest, non-overlapping match within words[start:stop] over tokens not
        `taken` (already read as something else; None: all are free), left to right."""
        by_first = self._by_first
        stop = len(words) if stop is None else stop
        if by_first.keys().isdisjoint(words[start:stop]):
            return []  # most lookups: no word of the span starts a phrase
        found: list[Mention] = []
        after = start  # the end of the last match
        for i in [k for k in range(start, stop) if words[k] in by_first]:
            if i < after:
                continue
            for phrase, meaning in by_first[words[i]]:  # longest first
                end = i + len(phrase)
                if end > stop or (end > i + 1 and tuple(words[i:end]) != phrase) or (
                        taken is not None and any(taken[i:end])):
                    continue
                if meaning.capitals and not all(t.capitals for t in tokens[i:end]):
                    continue
                found.append(Mention(meaning, i, end))
                after = end
                break
        return found


@dataclass
class Vocabulary:
    events: PhraseIndex = field(default_factory=PhraseIndex)  # events and topics
    statuses: PhraseIndex = field(default_factory=PhraseIndex)
    verbs: dict[str, PhraseIndex] = field(default_factory=dict)  # per topic
    details: PhraseIndex = field(default_factory=PhraseIndex)
    detail_events: dict[str, frozenset[str]] = field(default_factory=dict)
    outcomes: set[str] = field(default_factory=set)  # details that say the meeting happened
    topic_questions: dict[str, str] = field(default_factory=dict)
    topic_choices: dict[str, list[str]] = field(default_factory=dict)  # events a topic can become
    plans: dict[str, list[str]] = field(default_factory=dict)
    negating_words: frozenset[str] = frozenset()
    weak_statuses: frozenset[tuple[str, ...]] = frozenset()
    moved_words: frozenset[tuple[str, ...]] = frozenset()
    meetings: frozenset[str] = frozenset()
    loose: frozenset[tuple[str, ...]] = frozenset()  # phrases that need a fitting next word
    loose_followers: frozenset[str] = frozenset()
    loose_not_near: frozenset[str] = frozenset()
    # query_start, query_about, query_overdue, query_mine, correction_explicit,
    # correction_plain, undo, wrong_marker
    markers: dict[str, PhraseIndex] = field(default_factory=dict)
    marker_firsts: dict[str, set[str]] = field(default_factory=dict)  # word -> markers with a phrase it starts
    decision_targets: dict[str, str] = field(default_factory=dict)  # event or topic -> scheme key
    known_words: frozenset[str] = frozenset()
    # For the date grammar: words after which "Thu" or "29th" is a date ("held Thu", "booked
    # 29th"), and words an ordinal before them counts ("2nd core group").
    dated_after: frozenset[str] = frozenset()
    counted: frozenset[str] = frozenset()
    _typo_targets: dict[str, list[str]] = field(default_factory=dict)  # by first letter, each list sorted
    _corrections: dict[str, str | None] = field(default_factory=dict)  # each word's, worked out once

    def correct(self, word: str) -> str | None:
        """The vocabulary word a typo stands for, or None."""
        if word not in self._corrections:
            self._corrections[word] = _correct(word, self._typo_targets.get(word[0], []))
        return self._corrections[word]


def _correct(word: str, candidates: list[str]) -> str | None:
    # Same first letter and at least 85% alike (88% for four letters): "startegy" ->
    # "strategy", "confrence" -> "conference", "grop" -> "group"; "morning" stays.
    match = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=88 if len(word) == 4 else 85)
    return match[0] if match else None


def _add_all(index: PhraseIndex, phrases: Iterable[str], meaning: Meaning) -> None:
    for phrase in phrases:
        index.add(phrase, meaning)


def _build(data: PhrasesFile) -> Vocabulary:
    v = Vocabulary()
    for event, said in data["events"].items():
        capitals = set(said.get("needs_capitals", []))
        for phrase in said.get("phrases", []):
            v.events.add(phrase, Meaning("event", event, None, phrase in capitals))
        for phrase in said.get("done_phrases", []):
            v.events.add(phrase, Meaning("event", event, "done", phrase in capitals))
        for phrase in said.get("not_done_phrases", []):
            v.events.add(phrase, Meaning("event", event, "not_done", phrase in capitals))
    for topic, t in data["topics"].items():
        _add_all(v.events, t["phrases"], Meaning("topic", topic))
        v.topic_questions[topic] = t["question"]
        v.topic_choices[topic] = list(t["verbs"])
        verbs = v.verbs[topic] = PhraseIndex()
        for made, phrases in t["verbs"].items():
            _add_all(verbs, phrases, Meaning("verb", made))
        verbs.finish()
    for status in ("done", "planned", "not_done"):
        _add_all(v.statuses, data["status"][status], Meaning("status", status))
    for key, entry in data.get("details", {}).items():
        events = entry.get("events")
        if not isinstance(events, list) or not events:
            raise VocabularyError(f"details.{key} names no events")
        v.detail_events[key] = frozenset(events)
        if entry.get("outcome") is True:
            v.outcomes.add(key)
        for value, said_as in entry.items():
            if value in ("events", "outcome"):
                continue
            if not isinstance(said_as, list):
                raise VocabularyError(f"details.{key}.{value} must be a list of phrases")
            parsed: str | bool = {"true": True, "false": False}.get(value, value)
            _add_all(v.details, said_as, Meaning("detail", key, parsed))
    for index in (v.events, v.statuses, v.details):
        index.finish()
    v.plans = data["plans"]
    v.loose = frozenset(phrase_words(p) for p in data["loose"]["words"])
    v.loose_followers = frozenset(data["loose"]["followers"])
    v.loose_not_near = frozenset(data["loose"]["not_near"])
    lists = {
        "query_start": data["queries"]["starts"], "query_about": data["queries"]["about"],
        "query_overdue": data["queries"]["overdue"], "query_mine": data["queries"]["mine"],
        "correction_explicit": data["corrections"]["explicit"], "correction_plain": data["corrections"]["plain"],
        "undo": data["corrections"]["undo"], "wrong_marker": data["corrections"]["wrong_markers"],
        "decision_flexible": data["decisions"]["flexible"], "decision_extension": data["decisions"]["extension"],
        "decision_reason": data["decisions"]["reason"],
        "not_event_before": data["not_events"]["before"], "not_event_after": data["not_events"]["after"],
        "intent": data["not_events"]["intent"], "praise": data["not_events"]["praise"],
    }
    v.decision_targets = {event: key for key, events in data["decisions"]["targets"].items() for event in events}
    for name, phrases in lists.items():
        index = v.markers[name] = PhraseIndex()
        _add_all(index, phrases, Meaning("marker", name))
        index.finish()
        for first in index._by_first:
            v.marker_firsts.setdefault(first, set()).add(name)
    v.negating_words = frozenset(data["negation"]["words"])
    v.weak_statuses = frozenset(phrase_words(p) for p in data["status"]["weak"])
    v.moved_words = frozenset(phrase_words(p) for p in data["status"]["moved"])
    v.meetings = frozenset(data["meetings"]["events"])
    listed = v.events.words() | v.statuses.words() | v.details.words()
    for verb_index in v.verbs.values():
        listed |= verb_index.words()
    v.known_words = frozenset(listed | set(data["typos"]["not_typos"]) | set(data["loose"]["not_near"]))
    status_words = v.statuses.words()
    event_phrases = [words for entries in v.events._by_first.values() for words, _ in entries]
    verb_phrases = [words for index in v.verbs.values() for entries in index._by_first.values()
                    for words, _ in entries]
    status_phrases = [words for entries in v.statuses._by_first.values() for words, _ in entries]
    v.dated_after = frozenset({p[-1] for p in event_phrases + verb_phrases + status_phrases if p[-1].isalpha()}
                              | set(_DATED_AFTER))
    v.counted = frozenset(p[0] for p in event_phrases if p[0].isalpha() and p[0] not in status_words
                          and p[0] not in _NOT_COUNTED)
    for word in sorted(w for w in listed if len(w) >= 4 and w.isalpha()):
        v._typo_targets.setdefault(word[0], []).append(word)
    return v


def load_vocabulary(path: Path = PHRASES_FILE) -> Vocabulary:
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
        data: PhrasesFile = _checked(PhrasesFile, raw)
    except (OSError, tomllib.TOMLDecodeError, VocabularyError) as e:
        raise VocabularyError(f"{path}: {e}") from None
    return _build(data)


@cache
def vocabulary() -> Vocabulary:
    return load_vocabulary()
