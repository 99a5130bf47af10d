"""Splitting a Slack message into words, numbers and date-shaped pieces.

Numbers keep their shape (``3/11``, ``9.30``, ``2pm``, ``24th``) so that the date
grammar, not a guess, decides what they are, and a child number is never taken
for part of a date.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal["word", "number", "ordinal", "slash_date", "dot_date", "iso_date", "clock", "hash_number", "punct"]

# Slack's own markup: <@U123>, <#C123|name>, <https://x|label>, &amp; and friends.
_SLACK_LINK = re.compile(r"<([@#!][^>|]*)(?:\|([^>]*))?>|<(https?://[^>|]*)(?:\|([^>]*))?>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "*": " ", "_": " ", "~": " ", "`": " "})
# Text-speak for days, spelt out before tokenizing ("2moro" would split into 2 + moro).
_TEXT_SPEAK = re.compile(r"\b(?:2moro+w?|2morrow|2mrw)\b|\b2day\b|\b2nite\b", re.IGNORECASE)
_SPOKEN = {"2day": "today", "2nite": "tonight"}
# Slack's strikethrough, ~like this~: words the writer crossed out ("done ~Mon~ Tues").
_STRUCK = re.compile(r"(?<!\w)~(?=\S)[^~\n]*?(?<=\S)~(?!\w)")
# "s.47", "s 47", "S.20" are one word to everyone who writes them.
_SECTION = re.compile(r"\b([sS])\s?\.?\s?(47|20)\b")

_PLAIN_WORDS = re.compile(r"[a-z]+(?: [a-z]+)*")  # what the tokenizer splits into words at the spaces
# A token, after the spaces before it (a match takes them too, so that the search does not
# try every form at every space). The forms start with different characters (a letter,
# punctuation, "#", a digit), so only the order of those starting with a digit matters;
# words, the commonest, are tried first.
_TOKEN = re.compile(
    r"""
    [^\S\n]*
    (?:
    (?P<word>[a-z][a-z0-9]*(?:['&-][a-z0-9]+)*)
  | (?P<punct>[,;:!?()+/&.\n-])
  | (?P<hash_number>\#\s?\d+\b)
  | (?P<iso_date>\b\d{4}-\d{2}-\d{2}\b)
  | (?P<slash_date>\b\d{1,2}/\d{1,2}(?:/\d{2}(?:\d{2})?)?\b)
  | (?P<dot_date>\b\d{1,2}\.\d{1,2}\.\d{2}(?:\d{2})?\b)
  | (?P<clock>\b\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])
             |\b\d{1,2}:\d{2}\b|\b\d{1,2}\.\d{2}\b|\b\d{4}\s?hrs\b)
  | (?P<ordinal>\b\d{1,2}(?:st|nd|rd|th)\b)
  | (?P<number>\b\d+\b)
    )
    """,
    re.VERBOSE,
)


# Not frozen: a frozen dataclass sets each field through a call, and every message makes dozens.
@dataclass(slots=True)
class Token:
    text: str  # lower case
    kind: Kind
    start: int  # offsets into the cleaned text
    end: int
    capitals: bool  # written in capitals in the message ("SO", not "so")


def plain_digits(text: str) -> str:
    """NFKC, with format characters (zero-width spaces, joiners, direction marks) removed
    and every decimal digit written as ASCII: "١٢٣", "１２３" and "12\u200b3" all read 123."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c
                   for c in text if unicodedata.category(c) != "Cf")


def _link(match: re.Match[str]) -> str:
    if match.group(1):  # a mention or channel link: its label, or nothing
        return match.group(2) or " "
    return match.group(4) or " "


def clean(message: str) -> str:
    """Slack markup removed, digits made ASCII, quotes and dashes made plain; case kept."""
    # Each pattern only where its first character is: most messages have none of them.
    text = plain_digits(message)
    if "~" in text:
        text = _STRUCK.sub(" ", text)
    if "<" in text:
        text = _SLACK_LINK.sub(_link, text)
    if "&" in text:
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    if "2" in text:
        text = _TEXT_SPEAK.sub(lambda m: _SPOKEN.get(m.group().lower(), "tomorrow"), text)
    text = text.translate(_PLAIN)
    return _SECTION.sub(r"\1\2", text) if "47" in text or "20" in text else text


def tokenize(cleaned: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(cleaned.lower()):
        kind: Kind = match.lastgroup  # type: ignore[assignment]
        start, end = match.span(kind)
        text = match.group(kind)
        if kind == "hash_number":
            text = text.lstrip("#").strip()
        tokens.append(Token(text, kind, start, end, cleaned[start:end].isupper()))
    return tokens


def phrase_words(phrase: str) -> tuple[str, ...]:
    """A vocabulary phrase as the words the tokenizer would produce for it."""
    if _PLAIN_WORDS.fullmatch(phrase):  # most of the vocabulary's thousand phrases: clean() leaves them be
        return tuple(phrase.split())
    return tuple(t.text for t in tokenize(clean(phrase)))
