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

The bot runs each sweep in a process of its own (`SweepProcess`): a sweep in the bot's
process held the GIL against the threads that answer Slack (a heavy one, a Monday's
backlog or the first working day's monthly reports with their pictures, put
acknowledgements' p99 over 300 ms and replies' over 2 s). Only one process of the
service sweeps at a time (the ledger's sweep lock); the others' children find it taken
and end at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection

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


class SweepFailed(Exception):
    """The sweep's process ended without a report (it logged why, unless it was killed)."""


class SweepProcess:
    """Calling it runs `sweep` in a child process and waits for it; returns the sweep's
    summary for the log. The child comes from multiprocessing's forkserver, a clean
    single-threaded process that has imported `preload` once (so a sweep starts with
    a fork, not a Python start-up, and never inherits the bot's threads or its
    database connections); it runs at a lower CPU priority (NICE), ignores the signals
    that stop the bot (the bot decides: `Scheduled.stop` waits for it), and ends when
    the bot's process does, even a killed one: a sweep cut short is safe, its claims'
    leases run out and the next sweep finishes it. `sweep` must be picklable (a
    module's function, or a functools.partial of one with picklable arguments)."""

    NICE = 10
    # A sweep still running after this is stopped, and the next one carries on from what it
    # sent: a child stuck before it began (one start in several under load read a cut-short
    # pickle and waited for the rest for ever) would otherwise hold every sweep after it.
    TIME_LIMIT = 600.0  # seconds

    def __init__(self, sweep: Callable[[], SweepReport], preload: Sequence[str]) -> None:
        self.sweep = sweep
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(list(preload))

    def __call__(self) -> str:
        results, sent = self.context.Pipe(duplex=False)
        parent_gone, alive = self.context.Pipe(duplex=False)  # `alive` is never sent: EOF when this process ends
        child = self.context.Process(target=_sweep_in_child, args=(self.sweep, sent, parent_gone), name="sweep")
        child.start()
        sent.close()
        parent_gone.close()
        try:
            child.join(self.TIME_LIMIT)
            if child.is_alive():
                child.kill()
                child.join()
                raise SweepFailed(f"it had not finished after {self.TIME_LIMIT:.0f} s, so it was stopped "
                                  "(the next sweep carries on from what it sent)")
            if child.exitcode != 0 or not results.poll():
                raise SweepFailed(f"its process ended with exit code {child.exitcode}")
            summary: str = results.recv()
            return summary
        finally:
            alive.close()
            results.close()


def _sweep_in_child(sweep: Callable[[], SweepReport], sent: Connection, parent_gone: Connection) -> None:
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    os.nice(SweepProcess.NICE)

    def end_with_parent() -> None:
        try:
            parent_gone.recv_bytes()
        except EOFError:
            pass
        os._exit(1)

    threading.Thread(target=end_with_parent, name="parent", daemon=True).start()
    try:
        report = sweep()
    except Exception:
        log.exception("sweep failed")
        raise SystemExit(1) from None
    sent.send(summary(report))


def start_scheduler(run_sweep: Callable[[], str]) -> Scheduled:
    """`run_sweep` sweeps and returns what it did, for the log (`summary`)."""
    idle = threading.Event()
    idle.set()

    def job() -> None:
        idle.clear()
        began = time.monotonic()
        try:
            log.info("sweep started")
            done = run_sweep()
            log.info("sweep finished in %.1f s: %s", time.monotonic() - began, done)
        except SweepFailed as failed:
            log.error("sweep failed: %s", failed)
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


def summary(report: SweepReport) -> str:
    """What a sweep did, for the log: which process of the service swept, and what it sent."""
    if report.busy:
        return "another process is sweeping, so this one only answers Slack"
    return (f"{len(report.messages)} messages sent, {len(report.failed)} left for the next sweep, "
            f"{len(report.refused)} refused by Slack")
