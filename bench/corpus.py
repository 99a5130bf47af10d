"""The parser's golden corpus (tests/data/parser_corpus.txt): loading it and comparing results.

Shared by the corpus test, which needs every case right, and the accuracy
benchmark, which reports per field how many are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.parser import ParseResult
from rules.calendar import LONDON

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "parser_corpus.txt"
# Written independently, as practitioners post, in the classes of issue 14.
PRACTITIONER_CORPUS = CORPUS.with_name("practitioner_corpus.txt")
FIELDS = ("kind", "event", "child", "date", "status", "time", "details", "query", "clarify", "correction")


@dataclass
class Case:
    line: int
    message: str
    now: datetime
    kind: str = "update"
    updates: list[dict[str, Any]] = field(default_factory=list)
    query: dict[str, Any] | None = None
    asks: list[str] = field(default_factory=list)
    correction: dict[str, Any] | None = None
    section: str = ""  # "## class: NAME" above it


def _value(text: str) -> Any:
    if text == "?":
        return None
    return {"true": True, "false": False}.get(text, text)


def _update(words: list[str]) -> dict[str, Any]:
    event, child, status, day, *rest = words
    update: dict[str, Any] = {"event": _value(event), "child": _value(child), "status": _value(status),
                              "date": _value(day), "time": None, "details": {}}
    for word in rest:
        if "=" in word:
            key, value = word.split("=", 1)
            update["details"][key] = _value(value)
        else:
            update["time"] = word
    return update


def load_corpus(path: Path = CORPUS) -> list[Case]:
    cases: list[Case] = []
    now = datetime(2026, 11, 23, 10, tzinfo=LONDON)
    section = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        if line.startswith("## class: "):
            section = line[len("## class: "):].strip()
            continue
        if not line or line.startswith(("# ", "##")) or line == "#":
            continue
        if line.startswith("@now "):
            now = datetime.fromisoformat(line[5:]).replace(tzinfo=LONDON)
        elif line.startswith("= "):
            words = line[2:].split()
            case = cases[-1]
            if words[0] == "other":
                case.kind = "other"
            elif words[0] == "query":
                case.kind = "query"
                case.query = {"type": words[1]}
                if words[1] == "due":
                    case.query.update({"from": words[2], "to": words[3]})
                if words[1] == "child":
                    case.query["child"] = words[2]
            elif words[0] == "correction":
                case.kind = "correction"
                undo = "undo" in words
                corrects = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                case.correction = {"undo": undo, "corrects": corrects}
            else:
                case.updates.append(_update(words))
        elif line.startswith("? "):
            cases[-1].asks.append(line[2:].strip())
        else:
            cases.append(Case(number, line.replace("\\n", "\n"), now, section=section))
    return cases


def differences(case: Case, result: ParseResult) -> dict[str, str]:
    """Field name -> what differs; empty when the result is exactly as expected."""
    got = result.as_json()
    wrong: dict[str, str] = {}
    if case.asks and not case.updates and case.kind == "update":  # only the questions are expected
        asked = sorted(c["field"] for c in got["clarify"])
        return {} if asked == sorted(case.asks) else {"clarify": f"asked {asked} (expected {sorted(case.asks)})"}
    if got["kind"] != case.kind:
        wrong["kind"] = f"{got['kind']} (expected {case.kind})"
    if case.kind == "query" and got["query"] != case.query:
        wrong["query"] = f"{got['query']} (expected {case.query})"
    if case.kind == "correction" and got.get("correction") != case.correction:
        wrong["correction"] = f"{got.get('correction')} (expected {case.correction})"
    if case.kind in ("update", "correction"):
        updates = got["updates"]
        if len(updates) != len(case.updates):
            wrong["event"] = f"{len(updates)} updates {updates} (expected {len(case.updates)})"
        for expected, actual in zip(case.updates, updates, strict=False):
            for key in ("event", "child", "date", "status", "time", "details"):
                if expected[key] != actual[key]:
                    wrong.setdefault(key, "")
                    wrong[key] += f"{actual[key]!r} (expected {expected[key]!r}) "
    asked = sorted(c["field"] for c in got["clarify"])
    if asked != sorted(case.asks):
        wrong["clarify"] = f"asked {asked} (expected {sorted(case.asks)})"
    return wrong


def verdict(case: Case, result: ParseResult) -> str:
    """'right'; 'asked' (a question where the words were enough, nothing stored); 'missed'
    (nothing stored of an update that was said, no question; or only part of it); or
    'wrong' (something stored that the message did not say: a wrong event, child, date,
    status or time, or an update where there was none)."""
    if not differences(case, result):
        return "right"
    if result.kind == "update" and result.clarify:
        return "asked"  # nothing is stored until the questions are answered
    if result.kind != "update":
        return "missed" if case.kind == "update" else "wrong"
    expected = [_key(u) for u in case.updates]
    got = [_key(u.as_json()) for u in result.updates]
    if case.kind != "update" or any(g not in expected for g in got):
        return "wrong"
    return "missed"


def _key(u: dict[str, Any]) -> tuple[Any, ...]:
    return (u["event"], u["child"], u["status"], u["date"], u["time"], tuple(sorted(u["details"].items())))
