"""Loading the rule pack: the timescales as data, checked before the bot starts."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from rules.model import EventDef, Match, Rule, StatusDef, Step

RULE_FILES = ("practice_standards.toml", "working_together.toml")
VOCABULARY_FILE = "vocabulary.toml"

# The generic "mark done" event: meets the deadline of the rule named in its
# details, for tasks with no meeting of their own (a report shared, a record made).
TASK_DONE = "task_done"
# An undo: supersedes an event without putting anything in its place.
RETRACTION = "retraction"
CASE_CLOSED = "case_closed"
# The detail that says which plan an event happened under ("visit" under="cp_plan"),
# and the one that marks an event as history the bot was told after the fact.
UNDER = "under"
IMPORTED = "imported"


class RulePackError(ValueError):
    """A rule file that cannot be used: names the file, the rule and the field."""


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sources: dict[str, str]
    roles: list[str]
    events: dict[str, EventDef]
    statuses: dict[str, StatusDef]


@dataclass(slots=True, frozen=True)
class Matcher:
    """A Match made ready for the engine's inner loop: the event's default
    details already looked up, the statuses as sets."""

    status: str
    details: tuple[tuple[str, object, object], ...]  # (key, wanted, default when the update says nothing)
    during: frozenset[str]
    not_during: frozenset[str]


@dataclass(slots=True, frozen=True)
class CompiledStep:
    """A rule's step with everything a deadline copies from it worked out once."""

    amount: int
    unit: str
    before: bool
    standard: str
    source: str  # the document's name
    title: str
    text: str  # "15 working days", for people
    hours_based: bool
    less_than: bool = False
    # the other timescale for the same task (amount, unit, less_than): the earlier date holds
    alt: tuple[int, str, bool] | None = None
    also_cites: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class CompiledRule:
    """A rule in force with what the engine reads of it on every event worked out
    once (a pydantic model's properties and nested fields cost a call each)."""

    id: str
    rule: Rule
    steps: tuple[CompiledStep, ...]
    last_step: int
    recurs: bool
    group: str | None
    before_meeting: bool
    flexible: str | None


# (rule, the status that alone decides a match or None, the matchers): most
# listeners' only condition is a status, which the engine checks without the matchers.
Listener = tuple[CompiledRule, str | None, tuple[Matcher, ...]]
Listeners = dict[str, list[Listener]]  # by event name


@dataclass
class RulePack:
    vocabulary: Vocabulary
    rules: list[Rule]  # every rule in the files, in force or not
    enabled: frozenset[str] = frozenset()  # rules a deployment turned on that are off by default
    disabled: frozenset[str] = frozenset()
    by_id: dict[str, Rule] = field(default_factory=dict)  # rules in force
    compiled: dict[str, CompiledRule] = field(default_factory=dict)  # the same, as the engine reads them
    # event name -> (rule in force, its matches on that event): the engine
    # touches only the rules listening to the event in hand
    triggered_by: Listeners = field(default_factory=lambda: defaultdict(list))
    held_by: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    met_by: Listeners = field(default_factory=lambda: defaultdict(list))
    ended_by: Listeners = field(default_factory=lambda: defaultdict(list))
    # event name -> (status, matches that start it, matches that end it)
    status_changes: dict[str, list[tuple[str, tuple[Matcher, ...], tuple[Matcher, ...]]]] = field(
        default_factory=lambda: defaultdict(list))
    groups: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    # event name -> (status, matches): the states a child must be in for the event to happen
    implied_by: dict[str, list[tuple[str, tuple[Matcher, ...]]]] = field(default_factory=lambda: defaultdict(list))
    while_rules: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    # event name -> the states it could be under, when an update does not say (a visit)
    asks_under: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # events the engine remembers the last of, for rules that count from the last time done
    remembered: set[str] = field(default_factory=set)
    # events recorded as decisions (author, reason), which reach the engine as overrides
    decided: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        known = {rule.id for rule in self.rules}
        unknown = sorted((self.enabled | self.disabled) - known)
        if unknown:
            raise RulePackError(f"timescales.toml names rules that do not exist: {', '.join(unknown)}")
        # Within a group the stricter regime is started first, so it sets the clock.
        for rule in sorted(self.rules, key=lambda r: r.priority):
            if not self.in_force(rule):
                continue
            self.by_id[rule.id] = rule
            steps = tuple(self._compile_step(rule, step) for step in rule.steps)
            compiled = self.compiled[rule.id] = CompiledRule(
                rule.id, rule, steps, len(steps) - 1, rule.recurs, rule.group, rule.before_meeting, rule.flexible)
            self._index(compiled, self.triggers(rule), self.triggered_by)
            self._index(compiled, rule.met_by, self.met_by)
            self._index(compiled, self.ends(rule), self.ended_by)
            if rule.before_meeting:
                for name in {m.event for m in rule.trigger}:
                    self.held_by[name].append(compiled)
            if rule.group:
                self.groups[rule.group].append(compiled)
            if rule.while_status:
                self.while_rules[rule.while_status].append(compiled)
            if rule.from_last_done:
                self.remembered.update(m.event for m in rule.met_by)
        self.decided = frozenset(name for name, event in self.vocabulary.events.items() if event.decision)
        for name, status in self.vocabulary.statuses.items():
            for event in dict.fromkeys(m.event for m in status.implied_by):
                matches = [m for m in status.implied_by if m.event == event]
                self.implied_by[event].append((name, tuple(self.matcher(m) for m in matches)))
                if any(UNDER in m.details for m in matches):
                    self.asks_under[event].append(name)
            for event in {m.event for m in status.starts} | {m.event for m in status.ends}:
                self.status_changes[event].append((
                    name,
                    tuple(self.matcher(m) for m in status.starts if m.event == event),
                    tuple(self.matcher(m) for m in status.ends if m.event == event),
                ))

    def _compile_step(self, rule: Rule, step: Step) -> CompiledStep:
        within, other = step.within, step.or_within
        if step.also_cites:
            cites = tuple(step.also_cites)
        else:  # a step with a point of its own cites only that; the others cite what the rule does
            cites = () if step.standard and step.standard != rule.standard else tuple(rule.also_cites)
        return CompiledStep(
            within.amount, within.unit, within.before, step.standard or rule.standard,
            self.vocabulary.sources[rule.source], step.title or rule.title, step.describe(), within.unit == "hours",
            within.less_than, (other.amount, other.unit, other.less_than) if other is not None else None, cites)

    def matcher(self, match: Match) -> Matcher:
        details = tuple((key, wanted, self.detail_default(match.event, key)) for key, wanted in match.details.items())
        return Matcher(match.status, details, frozenset(match.during), frozenset(match.not_during))

    def _index(self, rule: CompiledRule, matches: list[Match], index: Listeners) -> None:
        events: dict[str, list[Matcher]] = defaultdict(list)
        for match in matches:
            events[match.event].append(self.matcher(match))
        for event, found in events.items():
            plain = len(found) == 1 and not (found[0].details or found[0].during or found[0].not_during)
            index[event].append((rule, found[0].status if plain else None, tuple(found)))

    def in_force(self, rule: Rule) -> bool:
        if rule.id in self.disabled:
            return False
        return rule.default_on or rule.id in self.enabled

    def triggers(self, rule: Rule) -> list[Match]:
        if rule.trigger:
            return rule.trigger
        return self.vocabulary.statuses[rule.while_status].starts  # type: ignore[index]

    def ends(self, rule: Rule) -> list[Match]:
        ends = list(rule.ends)
        if rule.while_status:
            ends += self.vocabulary.statuses[rule.while_status].ends
        if rule.before_meeting:  # the booking was cancelled
            ends += [Match(event=m.event, status="not_done") for m in rule.trigger]
        return ends

    def source_name(self, rule: Rule) -> str:
        return self.vocabulary.sources[rule.source]

    def detail_default(self, event: str, key: str) -> object:
        definition = self.vocabulary.events.get(event)
        return definition.defaults.get(key) if definition else None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"{path.name}: not valid TOML: {exc}") from None


def describe_validation_error(exc: ValidationError) -> str:
    # A misspelt field shows up twice (unknown name, required name missing):
    # the unknown name is the one that points at the typo.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    where = ".".join(str(part) for part in error["loc"]) or "(rule)"
    if error["type"] == "extra_forbidden":
        return f"field '{where}': Extra inputs are not permitted (a misspelt field name?)"
    return f"field '{where}': {error['msg']}"


_PACKAGED = Path(str(resources.files("rules") / "data"))


def load_vocabulary(folder: Path = _PACKAGED) -> Vocabulary:
    """The events, statuses, roles and sources the rules are written in."""
    try:
        vocabulary = Vocabulary.model_validate(_read_toml(folder / VOCABULARY_FILE))
    except ValidationError as exc:
        raise RulePackError(f"{VOCABULARY_FILE}: {describe_validation_error(exc)}") from None
    for name, status in vocabulary.statuses.items():
        for field_name in ("starts", "ends", "implied_by"):
            for match in getattr(status, field_name):
                if match.event not in vocabulary.events:
                    raise RulePackError(f"{VOCABULARY_FILE}: status '{name}': field '{field_name}': "
                                        f"unknown event '{match.event}'")
    return vocabulary


def load_pack(
    folder: Path | None = None,
    files: tuple[str, ...] = RULE_FILES,
    enabled: frozenset[str] = frozenset(),
    disabled: frozenset[str] = frozenset(),
) -> RulePack:
    """Read and check the vocabulary and rule files (the packaged ones by default)."""
    base = Path(folder) if folder else _PACKAGED
    vocabulary = load_vocabulary(base)

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for name in files:
        raw = _read_toml(base / name)
        entries: list[object] = raw.get("rule", [])  # type: ignore[assignment]
        for position, entry in enumerate(entries, start=1):
            label = entry.get("id", f"#{position}") if isinstance(entry, dict) else f"#{position}"
            try:
                rule = Rule.model_validate(entry)
            except ValidationError as exc:
                raise RulePackError(f"{name}: rule '{label}': {describe_validation_error(exc)}") from None
            if rule.id in seen:
                raise RulePackError(f"{name}: rule '{rule.id}': id already used in {seen[rule.id]}")
            seen[rule.id] = name
            problem = _check_references(rule, vocabulary)
            if problem:
                raise RulePackError(f"{name}: rule '{rule.id}': {problem}")
            rules.append(rule)
    return RulePack(vocabulary=vocabulary, rules=rules, enabled=enabled, disabled=disabled)


def _check_references(rule: Rule, vocabulary: Vocabulary) -> str | None:
    if rule.source not in vocabulary.sources:
        return f"field 'source': unknown source '{rule.source}' (known: {', '.join(vocabulary.sources)})"
    for role in rule.responsible:
        if role not in vocabulary.roles:
            return f"field 'responsible': unknown role '{role}'"
    if rule.while_status and rule.while_status not in vocabulary.statuses:
        return f"field 'while': unknown status '{rule.while_status}'"
    for field_name in ("trigger", "met_by", "ends"):
        for match in getattr(rule, field_name):
            if match.event not in vocabulary.events:
                return f"field '{field_name}': unknown event '{match.event}'"
            for status in (*match.during, *match.not_during):
                if status not in vocabulary.statuses:
                    return f"field '{field_name}': unknown status '{status}'"
    return None
