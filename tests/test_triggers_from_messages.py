"""Rules whose trigger no message could produce fired only from the command line (issue 17):
each now fires from the words people post. The message is read by the parser, the reading
handed to the engine, and the due date worked out by hand. Posted Tue 29 Dec 2026 09:30,
after the Christmas bank holidays (Fri 25 Dec, Mon 28 Dec for Boxing Day; New Year Fri 1 Jan)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.parser import parse
from rules.calendar import LONDON
from rules.engine import child_deadlines
from rules.model import Event

from helpers import by_rule

POSTED = datetime(2026, 12, 29, 9, 30, tzinfo=LONDON)

CASES = [
    # 3.1: yesterday, no time said: 17:00 Mon 28 Dec assumed; + 24 h = 17:00 Tue 29 Dec.
    ("3.1", "strategy-discussion", "safeguarding concern raised yesterday for 7001", "2026-12-29T17:00:00+00:00"),
    # 1.4: 10 days from Tue 29 Dec = Fri 8 Jan 2027.
    ("1.4", "information-request", "info request received for 7002 this morning", "2027-01-08"),
    # 5.2: 5 WD from Tue 29 Dec: 30(1) 31(2) [1 Jan] Jan 4(3) 5(4) 6(5) = Wed 6 Jan.
    ("5.2", "icpc-threshold-decision", "strategy discussion held today for 7003, s47 agreed, icpc decision deferred",
     "2027-01-06"),
    # 8.1: a step-down; the Family Help Review 6 weeks on: Tue 29 Dec + 42 days = Tue 9 Feb 2027.
    ("8.1", "fh-review-after-cp", "CP plan ended today for 7004, stepped down to family help", "2027-02-09"),
    # ... decided at the Review Conference on Mon 28 Dec: + 42 days = Mon 8 Feb 2027.
    ("8.1", "fh-review-after-cp", "RCPC held yesterday for 7005 - stepped down to FH", "2027-02-08"),
    # 10.10: today, so the posting time (09:30) is taken; + 48 h = 09:30 Thu 31 Dec.
    ("10.10", "viability-assessment", "7006 moved in with nan today, connected carer", "2026-12-31T09:30:00+00:00"),
    # 10.11: 16 weeks = 112 days: Dec 31(2) Jan 31(33) Feb 28(61) Mar 31(92) Apr 20(112) = Tue 20 Apr 2027.
    ("10.11", "connected-carer-assessment", "7006 moved in with nan today, connected carer", "2027-04-20"),
    # 2.16: 2 weeks from Tue 29 Dec = Tue 12 Jan 2027.
    ("2.16", "care-package-panel", "FHA completed for 7007 today, care package needed", "2027-01-12"),
    # 9.15: 12 weeks = 84 days: Dec 31(2) Jan 31(33) Feb 28(61) Mar 23(84) = Tue 23 Mar 2027.
    ("9.15", "adoption-life-story", "adoption order granted for 7008 today", "2027-03-23"),
    # 9.16: Mon 28 Dec + 4 weeks = Mon 25 Jan 2027; Thu 24 Dec + 4 weeks = Thu 21 Jan 2027.
    ("9.16", "later-life-letter-sgo", "SGO made for 7009 yesterday", "2027-01-25"),
    ("9.16", "later-life-letter-care-order", "full care order made for 7010 on 24/12", "2027-01-21"),
    # Transfer-in conference: 15 WD from Tue 29 Dec: 30 31(2) Jan 4-8(7) 11-15(12) 18 19 20(15) = Wed 20 Jan.
    ("WT2013-TI", "wt-transfer-in-conference", "child 7011 transferred in on a CP plan today", "2027-01-20"),
]


def events_from(message: str) -> list[Event]:
    reading = parse(message, POSTED)
    assert reading.kind == "update" and reading.complete, (message, reading)
    return [Event(id=f"m{n}", child=u.child or "", event=u.event or "", date=u.date, status=u.status or "done",
                  time=u.time, details=dict(u.details), posted_at=POSTED)  # type: ignore[arg-type]
            for n, u in enumerate(reading.updates)]


@pytest.mark.parametrize(("standard", "rule", "message", "due"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_the_rule_fires_from_a_message(pack, calendar, standard, rule, message, due):
    timeline = child_deadlines(events_from(message), pack, calendar, POSTED)
    (deadline,) = by_rule(timeline, rule)
    assert deadline.standard == standard
    assert (deadline.due_at.isoformat() if "T" in due else deadline.due.isoformat()) == due


def test_a_step_down_starts_the_family_help_plan_and_a_plain_ending_does_not(pack, calendar):
    stepped = child_deadlines(events_from("CP plan ended today for 7004, stepped down to family help"), pack,
                              calendar, POSTED)
    assert stepped.statuses == {"fh_plan"}
    ended = child_deadlines(events_from("CP plan ended today for 7012"), pack, calendar, POSTED)
    assert ended.statuses == set() and not by_rule(ended, "fh-review-after-cp")


def test_an_icpc_that_steps_down_makes_no_child_protection_plan(pack, calendar):
    timeline = child_deadlines(events_from("ICPC held today for 7013, stepped down to family help"), pack, calendar,
                               POSTED)
    assert "cp_plan" not in timeline.statuses and not by_rule(timeline, "core-group")
