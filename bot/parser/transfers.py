"""A request to move a child to the unit whose channel it is posted in:
"transfer 500 to this unit", "please move child 500 over to us", "request a
transfer of 500". Only these shapes: "transfer-in conference held for 500" is an
event, not a request."""

from __future__ import annotations

import re

from .tokens import clean

_ASKS = re.compile(r"\b(?:transfer|move)\b.*\b(?:to|into|over to) (?:this unit|us|our unit|here)\b"
                   r"|\brequest(?:ing)? (?:a )?transfer (?:of|for)\b")
_NUMBER = re.compile(r"(?<![\d/.:-])#?(\d{2,})(?![\d/.:])")


def read_transfer(message: str) -> str | None:
    """The child a transfer is asked for, or None when the message is not such a request."""
    text = clean(message).lower()
    if not _ASKS.search(text):
        return None
    numbers = set(_NUMBER.findall(text))
    return numbers.pop() if len(numbers) == 1 else None
