"""`timescales chat`: the unit channel in a terminal, with the same conversation and store.

Each line is a message in the unit's channel from one person. When the bot asks
a question, the next line answers it (or a number picks one of the choices);
"undo" right after an update undoes it; "/timescales due week" works as in
Slack; "home" shows what App Home would; "quit" or Ctrl-D ends.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import TextIO

from bot.conversation import Conversation, Incoming, slash_query
from bot.parser import ParseResult
from bot.parser.answers import read_reply
from bot.replies import notice_message, questions
from bot.report import report_text
from rules.config import Config, UnitConfig
from rules.zone import LONDON
from scheduler.outbox import Message, Outbox, Reply, SendResult
from scheduler.sweep import sweep
from store.models import PendingUpdate
from store.records import Store, pending_reading

DEMO_UNIT = UnitConfig(id="demo", name="Demo unit", channel="C0DEMO", team_manager="U0TM",
                       service_manager="U0SM", head_of_service="U0HOS", coordinator="U0UC",
                       practitioners=["U0YOU"], child_protection_lead="U0CPL")


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_EMOJI = {":red_circle:": "●", ":white_check_mark:": "✓", ":warning:": "!", ":large_yellow_circle:": "○",
          ":grey_question:": "?", ":palm_tree:": "~"}
HELP = """I keep your unit's timescales. Post updates as you would in the channel:
  strategy discussion held today for 123, S47 agreed
  HV for 456 booked Fri 2pm     ICPC for 789 on 10 Dec
  core group 123 held yesterday   no access at 456 today
Ask: what's due this week / what's overdue / what's due for me / what's coming up for 123
When I ask a question, answer it on the next line (a number picks a choice); any other line
is a new message and the question stays open. undo: take back your last update.
/timescales due week: only you see the answer. home: what App Home shows. quit: leave."""


def for_terminal(text: str) -> str:
    """Slack's markup as a terminal shows it: mentions as @U..., bold in the terminal's bold,
    channel links and links as their labels, escapes undone."""
    text = _MENTION.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _BOLD.sub(r"\1", text)
    for code, mark in _EMOJI.items():
        text = text.replace(code, mark)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _show(replies: Iterable[Reply], out: TextIO, channel: str) -> None:
    for reply in replies:
        if reply.only_for:
            marker = "(only you see this) "
        elif reply.channel != channel:
            marker = f"[{'DM to ' if reply.channel.startswith(('U', 'W')) else '#'}{reply.channel}] "
        else:
            marker = "  ↳ " if reply.thread_ts else "bot: "
        print(marker + for_terminal(reply.text).replace("\n", "\n" + " " * len(marker)), file=out)


def _prompted(lines: Iterable[str], out: TextIO, prompt: str) -> Iterable[str]:
    """The lines typed, with a prompt before each when a person is at the terminal."""
    it = iter(lines)
    while True:
        if prompt:
            print(prompt, end="", file=out, flush=True)
        try:
            yield next(it)
        except StopIteration:
            return


def _answers(waiting: PendingUpdate, line: str, now: datetime) -> bool:
    """A line that reads as an answer to the open question (or "not sure" about it) goes to
    its thread; anything else is a new message in the channel (SPEC section 5)."""
    reading = ParseResult.from_data(pending_reading(waiting))
    posted = waiting.posted_at if waiting.posted_at.tzinfo else waiting.posted_at.replace(tzinfo=LONDON)
    return read_reply(reading, line, posted.astimezone(LONDON), now).kind in ("answer", "unsure")


def _block_text(blocks: list[dict[str, object]]) -> str:
    texts = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            texts.append(str(text.get("text", "")))
    return "\n".join(texts)


def _plan_buttons(replies: Iterable[Reply]) -> list[dict[str, object]]:
    """The buttons of a "which plan is the child on?" question among the replies."""
    return [element for reply in replies for block in reply.blocks or [] if block.get("type") == "actions"
            for element in block["elements"] if str(element.get("action_id", "")).startswith("visit_plan_")]


def _choices(reading: dict[str, object]) -> list[str]:
    """The button labels under the open question."""
    result = ParseResult.from_data(reading)
    return [o.label for o in result.clarify[0].options] if result.clarify else []


def _asked_before(store: Store, channel: str, user: str, out: TextIO) -> str | None:
    """The question an earlier chat left open about this person's last update here, asked
    again (the next line may answer it, as in Slack's thread, which stays); its message's ts."""
    waiting = store.latest_question(channel, user)
    if waiting is None:
        return None
    reading = pending_reading(waiting)
    print(f"you (earlier)> {waiting.text}", file=out)
    asked = questions(ParseResult.from_data(reading), (channel, waiting.message_ts)).text
    _show([Reply(channel, asked, thread_ts=waiting.message_ts)], out, channel)
    for n, label in enumerate(_choices(reading), start=1):
        print(f"    [{n}] {label}", file=out)
    return waiting.message_ts


def _notice_text(message: Message) -> str:
    return "\n".join(part.text for part in notice_message(message))


class TerminalSender:
    """The scheduler's Sender for the chat: reminders print where you type."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, recipient: str, message: Message) -> SendResult:
        if message.report is not None:
            text = report_text(message.report)
        else:
            text = message.reply.text if message.reply else message.text or _notice_text(message)
        where = f"#{recipient}" if recipient.startswith(("C", "G")) else f"DM to {recipient}"
        print(f"[{where}] " + for_terminal(text).replace("\n", "\n    "), file=self.out)
        return SendResult(True, ts=message.batch)

    def find(self, recipient: str, message: Message) -> str | None:
        return None  # a terminal keeps no history to look in


class ChatReminders:
    """The scheduler in the chat: what a sweep would send at that moment, each reminder and
    each week's agenda printed once a chat. It claims nothing in the ledger, so a chat on a
    database that Slack is served from never takes a reminder away from Slack."""

    def __init__(self, store: Store, config: Config, out: TextIO) -> None:
        self.store, self.config = store, config
        self.sender = TerminalSender(out)
        self.outbox = Outbox(self.sender, per_channel_gap=0)
        self.printed: set[tuple[str, ...]] = set()

    def __call__(self, now: datetime) -> None:
        for recipient, message in sweep(self.store, self.outbox, self.config, now, dry_run=True).messages.items():
            notices = [n for n in message.notices if (recipient, n.deadline.id, n.step, str(n.deadline.due))
                       not in self.printed]
            agenda = message.agenda if (recipient, "agenda", str(message.today)) not in self.printed else None
            if not notices and agenda is None:
                continue
            self.printed |= {(recipient, n.deadline.id, n.step, str(n.deadline.due)) for n in notices}
            if agenda is not None:
                self.printed.add((recipient, "agenda", str(message.today)))
            self.sender.send(recipient, replace(message, notices=notices, agenda=agenda))


def run_chat(conversation: Conversation, unit: UnitConfig, user: str, clock: Callable[[], datetime],
             lines: Iterable[str], out: TextIO, config: Config | None = None) -> None:
    store = conversation.store
    reminders = ChatReminders(store, config or Config(units=[unit]), out)
    reminders(clock())  # what is already due when the chat opens
    asking = _asked_before(store, unit.channel, user, out)  # the message whose question is open
    plans: list[dict[str, object]] = []  # the buttons under "which plan is the child on?"
    last_recorded: str | None = None
    prompt = "you> " if getattr(out, "isatty", lambda: False)() else ""
    if prompt:
        print("Type 'help' for what I understand, 'quit' to leave.", file=out)
    for raw in _prompted(lines, out, prompt):
        line = raw.strip()
        if not line:
            continue
        if line in ("quit", "exit"):
            break
        if line.lower() in ("help", "?", "/help"):
            print(HELP, file=out)
            continue
        now = clock()
        ts = f"{time.time():.6f}"
        if line == "home":
            print(_block_text(conversation.home(user, now)), file=out)
            continue
        if line.startswith("/timescales"):
            _show(conversation.answer_query(slash_query(line.removeprefix("/timescales"), now), user, now,
                                            unit.channel, None), out, unit.channel)  # only the asker sees it
            continue
        waiting = store.pending(unit.channel, asking) if asking else None
        choices = _choices(pending_reading(waiting)) if waiting else []
        if plans and line.isdigit() and 1 <= int(line) <= len(plans):
            value = json.loads(str(plans[int(line) - 1]["value"]))
            replies = conversation.visit_plan(str(value["event"]), str(value["status"]), user, ts, now, unit.channel)
        elif waiting and asking and line.isdigit() and 1 <= int(line) <= len(choices):
            replies = conversation.chose(unit.channel, asking, int(line) - 1, user, ts, now)
        elif waiting and asking and _answers(waiting, line, now):  # as a reply in its thread would
            replies = conversation.message(Incoming(unit.channel, user, ts, line, now, thread_ts=asking))
        else:  # a new message; an unanswered question stays open in its thread
            correcting = line.lower().startswith(("undo", "sorry", "correction", "actually", "plan started"))
            replies = conversation.message(Incoming(unit.channel, user, ts, line, now,
                                                    thread_ts=last_recorded if correcting else None))
        _show(replies, out, unit.channel)
        plans = _plan_buttons(replies)
        for n, plan in enumerate(plans, start=1):
            print(f"    [{n}] {plan['text']['text']}", file=out)  # type: ignore[index]
        subject = asking if waiting else ts
        still = store.pending(unit.channel, subject) if subject else None
        asking = subject if still else None
        # Digits pick the buttons printed last: with a plan question just asked, an older open
        # question keeps its thread (a line that answers it still goes there) but not the digits.
        for n, label in enumerate(_choices(pending_reading(still)) if still and not plans else [], start=1):
            print(f"    [{n}] {label}", file=out)
        if not still and any(r.text.startswith("Recorded") for r in replies):
            last_recorded = subject
        reminders(clock())
