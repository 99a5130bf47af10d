"""The biggest things the bot lays out for Slack, at a service's size: the weekly agenda
of a 60-child unit, App Home and "what's overdue" for a manager over five units, each
within Slack's limits (bot/layout.py).

    .venv/bin/python -m bench.views [DATABASE_URL]     (default: a temporary SQLite file)

Five units of 60 children; every child was referred, had its assessment allocated, a visit
and a strategy discussion (S47) weeks ago and has an ICPC booked, so each unit has about
420 items overdue and 100 due: a real backlog.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, timedelta

from bench.stores import empty_store
from bot.conversation import Conversation
from bot.parser import Query
from bot.replies import notice_message
from rules.calendar import LONDON
from rules.config import Config, UnitConfig
from scheduler.outbox import Message
from store.records import NewEvent, Posting

UNITS = [UnitConfig(id=f"unit-{u}", name=f"Unit {u}", channel=f"C0SVC{u}", team_manager=f"U0TM{u}",
                    service_manager="U0SM", head_of_service="U0HOS", coordinator=f"U0UC{u}",
                    practitioners=[f"U0SW{u}"]) for u in range(5)]
NOW = datetime(2026, 11, 23, 10, tzinfo=LONDON)


def timed(what: str, run, rounds: int = 20) -> None:  # type: ignore[no-untyped-def]
    run()  # warm
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    print(f"  {what}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"({result}) (target < 200 ms)")


def main() -> None:
    store = empty_store(Config(units=UNITS))
    for u, unit in enumerate(UNITS):
        for n in range(60):
            child = str(40000 + u * 100 + n)
            store.record(Posting(unit.id, unit.channel, f"{child}.1", f"U0SW{u}", datetime(2026, 11, 2, 16,
                                                                                            tzinfo=LONDON)), [
                NewEvent(child, "visit", date(2026, 10, 26)),
                NewEvent(child, "strategy_discussion", date(2026, 11, 2), details={"s47": True}),
                NewEvent(child, "referral_received", date(2026, 10, 1)),
                NewEvent(child, "assessment_allocated", date(2026, 10, 20)),
                NewEvent(child, "icpc", date(2026, 11, 30) + timedelta(days=n % 5), status="planned")])
    conversation = Conversation(store)
    overdue = len(store.due([u.id for u in UNITS], NOW, overdue_only=True))
    print(f"{store.engine.dialect.name}: 5 units x 60 children, {overdue} items overdue")

    def agenda() -> str:
        parts = notice_message(Message("b", agenda=store.agenda("unit-0", NOW - timedelta(days=7), NOW),
                                       unit_name="Unit 0", today=NOW.date()))
        return f"{len(parts)} message{'s' if len(parts) > 1 else ''}, {sum(len(p.blocks) for p in parts)} blocks"

    def home() -> str:
        return f"{len(conversation.home('U0HOS', NOW))} blocks"

    def overdue_answer() -> str:
        replies = conversation.answer_query(Query(type="overdue"), "U0HOS", NOW, "D_U0HOS", None, via="dm")
        return f"{len(replies)} message{'s' if len(replies) > 1 else ''}"

    timed("weekly agenda of a 60-child unit, built and laid out", agenda)
    timed("App Home of a head of service over 5 units", home)
    timed("'what's overdue' for a head of service over 5 units", overdue_answer)


if __name__ == "__main__":
    sys.exit(main())
