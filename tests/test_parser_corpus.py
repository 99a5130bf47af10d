"""Every message of the golden corpus read exactly as a careful co-ordinator would."""

from __future__ import annotations

import pytest

from bench.corpus import Case, differences, load_corpus
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
