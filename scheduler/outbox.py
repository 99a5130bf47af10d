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


@dataclass(frozen=True)
class Notice:
    """One line of a reminder or escalation."""

    deadline: DeadlineRecord
    step: str
    days_late: int


@dataclass
class Message:
    """What goes to one recipient in one sweep."""

    batch: str
    notices: list[Notice] = field(default_factory=list)
    agenda: list[AgendaChild] | None = None
    unit_name: str = ""
    today: date | None = None


@dataclass(frozen=True)
class SendResult:
    ok: bool
    ts: str | None = None
    retry_after: float | None = None  # Slack's 429
    error: str | None = None


class Sender(Protocol):
    def send(self, recipient: str, message: Message) -> SendResult: ...

    def find(self, recipient: str, batch: str) -> str | None:
        """The ts of a message already posted for this batch (looked for in recent history)."""
        ...


class Outbox:
    def __init__(self, sender: Sender, per_channel_gap: float = 1.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sender, self.gap, self.attempts, self.sleep = sender, per_channel_gap, attempts, sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def _wait_turn(self, recipient: str) -> None:
        with self._lock:
            wait = self._last.get(recipient, 0.0) + self.gap - time.monotonic()
            self._last[recipient] = time.monotonic() + max(0.0, wait)
        if wait > 0:
            self.sleep(wait)

    def deliver(self, recipient: str, message: Message) -> SendResult:
        """Send, retrying within reason; a failure is left for the next sweep."""
        result = SendResult(False, error="not tried")
        backoff = 0.5
        for _ in range(self.attempts):
            self._wait_turn(recipient)
            try:
                result = self.sender.send(recipient, message)
            except Exception as error:  # noqa: BLE001 - network down and the like: retried like a 500
                result = SendResult(False, error=str(error))
            if result.ok:
                return result
            if result.retry_after is not None:
                self.sleep(result.retry_after)
            else:
                self.sleep(backoff)
                backoff *= 2
        return result
