"""Event titles for people, straight from the rule pack's vocabulary file.

The parser's questions name events by their titles and need nothing else of the pack:
read here, without the pack's pydantic models, they keep pydantic out of `timescales
parse`. `rules.pack.load_vocabulary` checks the same file; a test holds the two to agree.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

VOCABULARY = Path(__file__).with_name("data") / "vocabulary.toml"


@cache
def event_titles() -> dict[str, str]:
    with VOCABULARY.open("rb") as f:
        events = tomllib.load(f)["events"]
    return {name: str(event["title"]) for name, event in events.items()}
