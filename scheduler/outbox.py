"""Sending a claimed message: through a Sender that bot/ implements (Slack, or the
terminal), at most about one message a second per channel, retrying Slack's 429s
after Retry-After and errors with backoff. A message counts as sent only when
the Sender says Slack said ok."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rules.timeliness import Report
from store.models import DeadlineRecord
from store.records import AgendaChild


@dataclass
class Reply:
    """One message to post: in a channel (in a thread when thread_ts is set) or to a person."""

    channel: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    only_for: str | None = None  # a user id: shown only to them (ephemeral)
    response_url: str | None = None  # a slash command's answer goes back this way (it works in any channel)
    attachment: dict[str, str] | None = None  # a file shared with it: {"filename", "title", "base64"}


@dataclass(frozen=True)
class Notice:
    """One line of a reminder or escalation, naming the child's lead (and who covers for them)."""

    deadline: DeadlineRecord
    step: str
    days_late: int
    lead: str | None = None
    lead_cover: str | None = None  # the lead is away, and this person covers


@dataclass
class Message:
    """What goes to one recipient in one sweep, or one reply to what a person did."""

    batch: str
    notices: list[Notice] = field(default_factory=list)
    agenda: list[AgendaChild] | None = None
    unit_name: str = ""
    today: date | None = None
    reply: Reply | None = None
    text: str | None = None  # a message the scheduler wrote itself (a delivery-failure report)
    notes: list[str] = field(default_factory=list)  # said first: "You are covering for ..."
    report: Report | None = None  # a timeliness report: its table and its picture
    away: list[str] = field(default_factory=list)  # with the agenda: who is away, who covers
    # The parts of it found in Slack already (part number -> ts), when it takes several
    # messages and a try was cut short: those are not posted again.
    posted: dict[int, str] = field(default_factory=dict)
    # A digest's lines beyond those it carries: counted, not listed ("... and 40 more"); and
    # those of them this message names for another step (not counted twice when it does).
    more: int = 0
    more_named: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SendResult:
    ok: bool
    ts: str | None = None
    retry_after: float | None = None  # Slack's 429
    error: str | None = None
    permanent: bool = False  # Slack refused it for good (not_in_channel, invalid_blocks...): do not retry
    maybe_sent: bool = False  # the connection broke after the request went out: Slack may have it
    unreachable: bool = False  # Slack could not be reached at all (refused, no route, no name)


class LookupFailed(Exception):
    """Slack's history could not be read, so nobody knows whether a message is there."""


class Sender(Protocol):
    def send(self, recipient: str, message: Message) -> SendResult: ...

    def find(self, recipient: str, message: Message) -> str | None:
        """The ts of a message already posted for this batch (looked for in the channel's, or
        the thread's, recent history); None if it is not there. Raises LookupFailed."""
        ...


class Outbox:
    """Sends with retries, and never blindly twice: after a try that may have reached Slack
    it looks for the message before sending again. When Slack cannot be reached at all,
    the rest of the sweep does not wait on it (`UNREACHABLE_PAUSE`)."""

    UNREACHABLE_PAUSE = 30.0  # seconds without trying again once Slack could not be reached

    def __init__(self, sender: Sender, per_channel_gap: float = 1.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sender, self.gap, self.attempts, self.sleep = sender, per_channel_gap, attempts, sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._unreachable_until = 0.0

    def _wait_turn(self, recipient: str) -> None:
        with self._lock:
            wait = self._last.get(recipient, 0.0) + self.gap - time.monotonic()
            self._last[recipient] = time.monotonic() + max(0.0, wait)
        if wait > 0:
            self.sleep(wait)

    def deliver(self, recipient: str, message: Message, maybe_sent: bool = False) -> SendResult:
        """Send, retrying within reason. `maybe_sent`: an earlier try may have reached Slack.
        The result says whether to retry later (not ok, not permanent) and whether Slack may
        have the message already (`maybe_sent`)."""
        if time.monotonic() < self._unreachable_until:
            return SendResult(False, error="Slack unreachable", unreachable=True, maybe_sent=maybe_sent)
        result = SendResult(False, error="not tried", maybe_sent=maybe_sent)
        backoff = 0.5
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(result.retry_after if result.retry_after is not None else backoff)
                backoff *= 2
            if maybe_sent:
                try:
                    found = self.sender.find(recipient, message)
                except LookupFailed as lost:  # cannot tell: sending now could post it twice
                    result = SendResult(False, error=f"history unreadable: {lost}", maybe_sent=True)
                    continue
                if found:
                    return SendResult(True, ts=found)
            self._wait_turn(recipient)
            try:
                result = self.sender.send(recipient, message)
            except Exception as error:
                result = SendResult(False, error=type(error).__name__, maybe_sent=True)
            if result.ok or result.permanent:
                return result
            maybe_sent = maybe_sent or result.maybe_sent
            if result.unreachable:
                self._unreachable_until = time.monotonic() + self.UNREACHABLE_PAUSE
                break
        return SendResult(False, retry_after=result.retry_after, error=result.error, maybe_sent=maybe_sent,
                          unreachable=result.unreachable)
