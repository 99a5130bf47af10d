"""APScheduler 3 inside each bot process: one job, the sweep, at start and every five minutes.

The truth is in our ledger, not in APScheduler: every process schedules the same
fixed-id job in its own in-memory job store (a shared job store is not safe in
APScheduler 3), and the ledger's claims make any number of processes safe.

The scheduler keeps Europe/London time, but the five-minute trigger counts in UTC:
"every five minutes" means the same in any zone, and APScheduler 3's cron in
Europe/London loops back over the repeated 01:xx hour on the October night
(tested: from 01:00 GMT its next fire time is 01:05 BST, an hour earlier). The
sweep itself works out in London time what is due, including the weekly agenda
at each unit's meeting time, so no job needs a wall-clock time of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from rules.calendar import LONDON
from scheduler.sweep import SweepReport

log = logging.getLogger(__name__)
SWEEP_TRIGGER = CronTrigger(minute="*/5", timezone=UTC)


class Scheduled:
    """The scheduler with its sweep job, and whether a sweep is running now."""

    def __init__(self, scheduler: BackgroundScheduler, idle: threading.Event) -> None:
        self.scheduler, self.idle = scheduler, idle

    def stop(self, timeout: float) -> bool:
        """No more sweeps; True when none is still running after `timeout` seconds (one
        cut short is safe: its claims' leases run out and the next sweep finishes it)."""
        self.scheduler.shutdown(wait=False)
        return self.idle.wait(timeout)


def start_scheduler(run_sweep: Callable[[], SweepReport]) -> Scheduled:
    idle = threading.Event()
    idle.set()

    def job() -> None:
        idle.clear()
        began = time.monotonic()
        try:
            log.info("sweep started")
            report = run_sweep()
            log.info("sweep finished in %.1f s: %s", time.monotonic() - began, _summary(report))
        except Exception:  # logged; the next run picks up whatever this one left
            log.exception("sweep failed")
        finally:
            idle.set()

    scheduler = BackgroundScheduler(timezone=LONDON)
    # coalesce: after a stall, one run, not a burst; misfire grace: a run up to 4 min
    # late still happens (the next is due at 5); max_instances: never two at once here.
    # The first run is at start: what came due while the bot was off goes out now.
    scheduler.add_job(job, SWEEP_TRIGGER, id="sweep", replace_existing=True, coalesce=True,
                      misfire_grace_time=240, max_instances=1, next_run_time=datetime.now(UTC))
    scheduler.start()
    return Scheduled(scheduler, idle)


def _summary(report: SweepReport) -> str:
    """What a sweep did, for the log: which process of the service swept, and what it sent."""
    if report.busy:
        return "another process is sweeping, so this one only answers Slack"
    return (f"{len(report.messages)} messages sent, {len(report.failed)} left for the next sweep, "
            f"{len(report.refused)} refused by Slack")
