"""The workers that handle the stored requests (store/inbox.py), in the bot's process.

They wake when the front door stores a request, and every few seconds besides, to
take over requests whose worker died in another process. A clean stop lets each
finish the request in hand; what is still waiting stays stored for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from store.inbox import Inbox, Request

log = logging.getLogger(__name__)


class InboxWorkers:
    def __init__(self, inbox: Inbox, handle: Callable[[Request], bool], threads: int = 4,
                 idle_poll: float = 2.0) -> None:
        self.inbox, self.handle, self.count, self.idle_poll = inbox, handle, threads, idle_poll
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._woken = 0

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._run, name=f"inbox-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A request was stored: one idle worker takes it now."""
        with self._cond:
            self._woken += 1
            self._cond.notify()

    def stop(self, timeout: float) -> bool:
        """Let each worker finish the request in hand; True when all did within `timeout`."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def _idle(self) -> None:
        with self._cond:
            if not self._woken and not self._stopping.is_set():
                self._cond.wait(self.idle_poll)
            self._woken = max(0, self._woken - 1)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                request = self.inbox.take()
            except SQLAlchemyError as down:  # the database away: requests wait, stored, until it is back
                log.warning("could not take a stored request (%s)", type(down).__name__)
                self._stopping.wait(1.0)
                continue
            if request is None:
                self._idle()
                continue
            self._work(request)

    def _work(self, request: Request) -> None:
        try:
            handled = self.handle(request)
        except Exception as error:
            log.exception("a stored request could not be handled")
            handled, why = False, type(error).__name__
        else:
            why = "a listener failed"
        try:
            if handled:
                self.inbox.done(request.id)
            else:
                self.inbox.not_done(request.id, request.attempts, why)
        except SQLAlchemyError as down:  # the lease runs out and it is taken again: handling it twice is safe
            log.warning("could not record a request as handled (%s)", type(down).__name__)
