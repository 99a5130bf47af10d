"""A manager's daily digest over many units is built from counts and the first items
(Store.overdue_since_yesterday), and says the same as the whole overdue list would."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.replies import NOTICES_WITH_BUTTONS, notice_message
from rules.calendar import LONDON
from scheduler.outbox import Outbox
from scheduler.sweep import DIGEST_FIRST, sweep
from store.records import NewEvent, Posting, Store

from helpers import TEST_CONFIG

NOW = datetime(2026, 11, 23, 10, tzinfo=LONDON)  # a Monday, after the digest time


def test_a_digest_carries_the_most_late_and_counts_the_rest(store: Store) -> None:
    assert DIGEST_FIRST >= NOTICES_WITH_BUTTONS  # the message shows no line it was not given
    for u, unit in enumerate(TEST_CONFIG.units):
        for n in range(15):
            child = str(50000 + u * 100 + n)
            posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
            store.record(Posting(unit.id, unit.channel, f"{child}.1", unit.practitioners[0], posted, "history"), [
                NewEvent(child, "visit", date(2026, 10, 26) + timedelta(days=n % 3)),
                NewEvent(child, "strategy_discussion", date(2026, 11, 2), details={"s47": True}),
                NewEvent(child, "referral_received", date(2026, 10, 1) + timedelta(days=n % 4)),
                NewEvent(child, "assessment_allocated", date(2026, 10, 20))])
    today = NOW.date()
    # What the digest said when it loaded everything: each unit's overdue list, due before today.
    whole = [i.record for unit in ("unit-a", "unit-b") for i in store.due([unit], NOW, overdue_only=True)
             if i.record.due < today and not i.record.overdue_at_import]
    whole.sort(key=lambda d: d.due)  # stable: unit by unit, then as `due` lists them
    assert len(whole) > DIGEST_FIRST + NOTICES_WITH_BUTTONS
    nobody: Any = None  # a dry run sends nothing
    report = sweep(store, Outbox(nobody, per_channel_gap=0), TEST_CONFIG, NOW, dry_run=True)
    message = report.messages["U0HOS"]  # over both units: escalations, and the digest
    named = {n.deadline.id for n in message.notices if n.step != "digest"}
    assert named  # escalated to them today: listed for that, not again in the digest
    twice = [d for d in whole if d.id in named]
    listed = [n.deadline.id for n in message.notices if n.step == "digest"]
    assert listed == [d.id for d in whole[:DIGEST_FIRST + len(twice)] if d.id not in named]
    assert twice
    every = len(named) + len(whole) - len(twice)  # every line the whole list gave, each once
    assert len(message.notices) + message.more == every
    text = "\n".join(part.text for part in notice_message(message))
    assert f"... and {every - NOTICES_WITH_BUTTONS} more, less late" in text
    counts, firsts = store.overdue_since_yesterday(["unit-a"], NOW, 3)
    assert sum(counts["unit-a"]) == sum(1 for d in whole if d.unit_id == "unit-a")
    assert [d.id for d in firsts["unit-a"]] == [d.id for d in whole if d.unit_id == "unit-a"][:3]
