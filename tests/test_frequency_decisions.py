"""A Service Manager's decision that a Supervision Order's visits or network meetings reduce
(9.11, 9.13), from Slack: read, gated to the service manager, recorded with its author and
reason like an override, and heard by the rules on the day it is posted.

Units as in tests/helpers.py: unit A's service manager is U0SM, its team manager U0TM,
U0SW1 a practitioner; U0SW3 works in unit B."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.conversation import Conversation, Incoming
from bot.parser.frequency import MEETINGS, VISITS, read_frequency_decision
from bot.replies import agenda_text
from rules.calendar import LONDON

ORDER_MADE = datetime(2026, 12, 21, 10, 0, tzinfo=LONDON)  # Mon 21 Dec 2026


def said(conversation: Conversation, text: str, user: str, when: datetime, ts: str, channel: str = "C0UNITA"):
    return conversation.message(Incoming(channel, user, ts, text, when))


@pytest.mark.parametrize(("text", "reduces", "child", "reason"), [
    ("SM decision: visits for 500 can reduce to every 20 working days: good progress", (VISITS,), "500",
     "good progress"),
    ("network meetings for child 500 reduced to 12 weekly, agreed at the 3 month review, reason: plan on track",
     (MEETINGS,), "500", "plan on track"),
    ("visits and network meetings for #77 can reduce after the 3-month review because the plan is on track",
     (VISITS, MEETINGS), "77", "the plan is on track"),
    ("agreed to reduce the frequency of visits for 1234 to 20 working days: settled at home", (VISITS,), "1234",
     "settled at home"),
])
def test_the_decision_is_read_with_its_child_and_rationale(text, reduces, child, reason):
    found = read_frequency_decision(text)
    assert found is not None and (found.reduces, found.child, found.reason) == (reduces, child, reason)


@pytest.mark.parametrize("text", ["visit for 500 today", "HV done for 500, reduced risk",
                                  "core group held for 500, risk reduced", "reduced contact with dad for 500"])
def test_updates_that_say_reduced_are_not_decisions(text):
    assert read_frequency_decision(text) is None


def test_only_the_service_manager_reduces_visits_and_the_rules_follow_from_the_last_visit(store):
    conversation = Conversation(store)
    said(conversation, "supervision order made today for 500", "U0SW1", ORDER_MADE, "1.0")
    # the last visit before the decision: Tue 16 Mar 2027
    said(conversation, "HV done for 500 today", "U0SW1", datetime(2027, 3, 16, 15, 0, tzinfo=LONDON), "2.0")
    decided = datetime(2027, 3, 17, 11, 0, tzinfo=LONDON)  # Wed 17 Mar
    text = "SM decision: visits for 500 can reduce to every 20 working days: settled, plan on track"
    for user in ("U0SW1", "U0TM"):  # a practitioner, a team manager: refused, only to them
        (refused,) = said(conversation, text, user, decided, f"3.{user}")
        assert refused.only_for == user and "Only the service manager" in refused.text
    assert store.timeline("500")[1] == []
    (reply,) = said(conversation, text, "U0SM", decided, "4.0")
    # 20 WD from the visit Tue 16 Mar 2027: 17 18 19(3) 22-25(7) [26 Good Friday, 29 Easter Monday] 30 31(9)
    # Apr 1 2(11) 5-9(16) 12 13 14 15(20) = Thu 15 Apr
    assert "Service Manager's decision recorded by <@U0SM> for child 500" in reply.text
    assert "visits at least every 20 working days (next due Thu 15 Apr 2027)" in reply.text
    assert "Reason: settled, plan on track" in reply.text
    deadlines = {d.rule: d for d in store.child_deadlines("500")}
    assert deadlines["visits-supervision-order"].due == date(2027, 4, 15)
    # the 3-month review (12 weeks from Mon 21 Dec 2026 = Mon 15 Mar 2027) is met, two days late
    review = deadlines["supervision-order-3-month-review"]
    assert (review.state, review.due, review.closed_on) == ("met", date(2027, 3, 15), date(2027, 3, 17))
    (decision,) = store.timeline("500")[1]
    assert (decision.by, decision.target, decision.reason) == ("U0SM", VISITS, "settled, plan on track")
    # the same message arriving again is the same decision
    said(conversation, text, "U0SM", decided, "4.0")
    assert len(store.timeline("500")[1]) == 1
    # the weekly agenda lists it for the unit, in words
    agenda = agenda_text(store.agenda("unit-a", decided - timedelta(days=7), decided), "Unit A", decided.date())
    assert ("  decided: Supervision Order visits reduce to every 20 working days from Wed 17 Mar 2027 by <@U0SM>: "
            "settled, plan on track") in agenda


def test_a_decision_needs_a_supervision_order_a_reason_and_the_childs_unit(store):
    conversation = Conversation(store)
    now = datetime(2027, 3, 17, 11, 0, tzinfo=LONDON)
    said(conversation, "HV done for 501 today", "U0SW1", now, "1.0")  # no order recorded
    (reply,) = said(conversation, "visits for 501 can reduce to 20 WD: progress", "U0SM", now, "2.0")
    assert "no Supervision Order recorded for child 501" in reply.text
    said(conversation, "supervision order made today for 501", "U0SW1", now, "3.0")
    (reply,) = said(conversation, "visits for 501 can reduce to 20 WD", "U0SM", now, "4.0")
    assert "needs its rationale" in reply.text
    (reply,) = said(conversation, "visits for 501 can reduce to 20 WD: progress", "U0SW3", now, "5.0",
                    channel="C0UNITB")
    assert "held by another unit" in reply.text
    assert store.timeline("501")[1] == []
