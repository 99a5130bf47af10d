"""Every message and view within Slack's limits (SPEC section 10), in one place.

Slack refuses a message over 50 blocks (a Home view over 100: `Conversation.home`
shows a bounded number of lines for that), a section over 3,000
characters, a header over 150, a button label over 75 or value over 2,000, an actions
block over 25 elements, and more than 40,000 characters of text. What the bot says
is built as pieces (a run of lines, a reminder with its buttons) and packed here
into as many messages as it takes, each saying which part it is: nothing is cut.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Block = dict[str, Any]

SECTION_CHARS = 3000
HEADER_CHARS = 150
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
ACTIONS_ELEMENTS = 25
MESSAGE_BLOCKS = 50
MESSAGE_CHARS = 40_000
# Room kept in each message for the "part 2 of 3" line and the text twin's joins.
_MARGIN_CHARS = 500


@dataclass
class Part:
    """One Slack message: its blocks and the plain-text twin Slack uses for notifications."""

    text: str
    blocks: list[Block]


@dataclass
class Piece:
    """Something that stays in one message: lines, or a reminder with its buttons."""

    text: str
    blocks: list[Block]


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_CHARS]}}


def lines_pieces(lines: Sequence[str], limit: int = SECTION_CHARS) -> list[Piece]:
    """Lines as sections of at most `limit` characters, whole lines where they fit (a line
    longer than a section is carried over several)."""
    pieces: list[Piece] = []
    current: list[str] = []
    size = 0
    for line in lines:
        while len(line) > limit:  # one line longer than a section: in slices, never cut off
            if current:
                pieces.append(_lines(current))
                current, size = [], 0
            pieces.append(_lines([line[:limit]]))
            line = line[limit:]
        if current and size + len(line) + 1 > limit:
            pieces.append(_lines(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        pieces.append(_lines(current))
    return pieces


def _lines(lines: list[str]) -> Piece:
    text = "\n".join(lines)
    return Piece(text, [section(text)])


def pack(pieces: Sequence[Piece], max_blocks: int = MESSAGE_BLOCKS) -> list[Part]:
    """Pieces in order, in as few messages as fit Slack's limits; when it takes more than
    one, each message begins by saying which part of how many it is."""
    groups: list[list[Piece]] = [[]]
    blocks = chars = 0
    for piece in pieces:
        full = blocks + len(piece.blocks) > max_blocks - 1 or chars + len(piece.text) > MESSAGE_CHARS - _MARGIN_CHARS
        if groups[-1] and full:
            groups.append([])
            blocks = chars = 0
        groups[-1].append(piece)
        blocks += len(piece.blocks)
        chars += len(piece.text) + 1
    parts = []
    for n, group in enumerate(groups, start=1):
        label = [f"_(part {n} of {len(groups)})_"] if len(groups) > 1 else []
        text = "\n".join(label + [p.text for p in group if p.text])
        parts.append(Part(text, ([section(label[0])] if label else []) + [b for p in group for b in p.blocks]))
    return parts


def button(label: str, action_id: str, value: dict[str, Any], style: str | None = None) -> Block:
    packed = json.dumps(value)
    assert len(packed) <= BUTTON_VALUE_CHARS, "a button carries ids, not lists"
    made: Block = {"type": "button", "text": {"type": "plain_text", "text": label[:BUTTON_LABEL_CHARS]},
                   "action_id": action_id, "value": packed}
    if style:
        made["style"] = style
    return made


def actions(buttons: Sequence[Block]) -> list[Block]:
    """Buttons in actions blocks of at most 25."""
    return [{"type": "actions", "elements": list(buttons[k:k + ACTIONS_ELEMENTS])}
            for k in range(0, len(buttons), ACTIONS_ELEMENTS)]
