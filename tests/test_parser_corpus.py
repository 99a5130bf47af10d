"""Every message of the golden corpus read exactly as a careful co-ordinator would."""

from __future__ import annotations

import pytest

from bench.corpus import PRACTITIONER_CORPUS, Case, differences, load_corpus, verdict
from bot.parser import parse

CASES = load_corpus()


def test_the_corpus_is_big_enough_to_mean_something() -> None:
    assert len(CASES) >= 300
    kinds = {c.kind for c in CASES}
    assert kinds == {"update", "query", "correction", "other"}


@pytest.mark.parametrize("case", CASES, ids=[f"line{c.line}" for c in CASES])
def test_corpus_message(case: Case) -> None:
    result = parse(case.message, case.now)
    assert differences(case, result) == {}, case.message


PRACTITIONER_CASES = load_corpus(PRACTITIONER_CORPUS)


def test_the_practitioner_corpus_covers_every_class_of_issue_14() -> None:
    classes = {c.section for c in PRACTITIONER_CASES}
    assert {"weekday with a day number", "short weekday after a verb or number", "bare ordinal after a verb",
            "event words used as nouns, outcomes or intentions", "outcomes and endings",
            "multi-line messages and lists", "two children with two dates", "time words", "two-digit children",
            "vocabulary gaps", "Slack markup"} <= classes
    assert len(PRACTITIONER_CASES) >= 200


@pytest.mark.parametrize("case", PRACTITIONER_CASES, ids=[f"line{c.line}" for c in PRACTITIONER_CASES])
def test_practitioner_message(case: Case) -> None:
    """Read as expected, or asked about as expected; never stored wrong."""
    result = parse(case.message, case.now)
    assert verdict(case, result) != "wrong", (case.message, result.as_json())
    assert differences(case, result) == {}, case.message
