"""People change (SPEC section 12): a child's lead moves to another worker, and cover
for leave sends what would go to someone away to the person covering, over the wire
and through the sweep, at the times SPEC section 7 and the calendar give."""

from __future__ import annotations

import json
from datetime import date, datetime

from test_delivery import outbox

from bot.conversation import Conversation, Incoming
from bot.parser import Query
from bot.replies import deadline_line
from rules.calendar import LONDON
from rules.config import Config, CoverConfig
from scheduler.sweep import sweep
from store.people import People
from store.records import NewEvent, Posting

from fake_slack import FakeSlack
from helpers import TEST_CONFIG, UNIT_A, UNIT_B, due_for
from wire import NOW

STRATEGY = "strategy discussion held today for child 123, S47 agreed"  # Mon 23 Nov: ICPC due Mon 14 Dec


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def mine(store, user: str, when: datetime) -> str:
    replies = Conversation(store).answer_query(Query(type="mine"), user, when, f"D_{user}", None, via="dm")
    return "\n".join(r.text for r in replies)


def test_a_child_reallocated_in_the_channel_follows_its_new_lead(bot, slack):
    bot.message(STRATEGY)
    slack.wait_for(1)
    bot.message("what's due for me?", user="U0SW1", channel="D_U0SW1", channel_type="im")
    assert "child 123" in slack.wait_for(2)[1]["text"]
    _, ts = bot.message("allocate 123 to <@U0SW2>", user="U0UC")
    reply = slack.wait_for(3)[2]
    assert reply["thread_ts"] == ts
    assert "Child 123's lead is now <@U0SW2> (was <@U0SW1>), set by <@U0UC>" in reply["text"]
    bot.message("what's due for me?", user="U0SW2", channel="D_U0SW2", channel_type="im")
    bot.message("what's due for me?", user="U0SW1", channel="D_U0SW1", channel_type="im")
    answers = {m["channel"]: m["text"] for m in slack.wait_for(5)[3:]}
    assert "child 123" in answers["D_U0SW2"] and "child 123" not in answers["D_U0SW1"]
    bot.message("what's coming up for 123?", user="U0SW2")
    assert "Child 123 (lead <@U0SW2>)" in slack.wait_for(6)[5]["text"]
    export = bot.store.export_csv(child="123")
    assert "lead: U0SW2" in export and ",U0UC," in export and "was U0SW1" in export


def test_nobody_outside_the_unit_moves_a_child_and_only_to_a_member(bot, slack):
    bot.message(STRATEGY)
    slack.wait_for(1)
    bot.message("reassign 123 to <@U0SW3>", user="U0SW3")  # unit B's practitioner, in unit A's channel
    (refused,) = slack.wait_for(1, "chat.postEphemeral")
    assert refused["user"] == "U0SW3" and "not a member of this unit" in refused["text"]
    bot.message("reassign 123 to <@U0SW3>", user="U0UC")  # to someone outside the unit
    assert "<@U0SW3> is not a member of this unit" in slack.wait_for(2)[1]["text"]
    assert People(bot.store).leads(["123"]) == {"123": "U0SW1"}
    assert People(bot.store).lead_history("123") == []


def test_a_team_managers_escalations_go_to_their_cover_during_leave_and_back_after(store):
    slack = FakeSlack()
    try:
        talk = Conversation(store)
        talk.message(Incoming("C0UNITA", "U0SW1", "1.0", STRATEGY, NOW))
        said = talk.message(Incoming("C0UNITA", "U0UC", "2.0", "<@U0TM> is on leave 14-18 Dec, <@U0UC> covering",
                                     at("2026-12-01T10:00")))
        assert "Recorded: <@U0TM> away Mon 14 Dec to Fri 18 Dec; <@U0UC> covers" in said[0].text
        # Tue 15 Dec, 08:35: the ICPC (due Mon 14 Dec) is overdue: the channel, and the team manager's cover.
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-12-15T08:35"))
        to = {m["channel"]: m["text"] for m in slack.posted()}
        assert "U0TM" not in to and "Initial Child Protection Conference held" in to["U0UC"]
        assert "You are covering for <@U0TM>, away until Fri 18 Dec." in to["U0UC"]
        assert "Initial Child Protection Conference held" in to["C0UNITA"] and "Lead <@U0SW1>." in to["C0UNITA"]
        # Mon 21 Dec, 08:35: back from leave, the team manager's digest is theirs again.
        before = len(slack.posted())
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-12-21T08:35"))
        after = {m["channel"]: m["text"] for m in slack.posted()[before:]}
        assert "Initial Child Protection Conference held" in after["U0TM"] and "U0UC" not in after
        assert "covering" not in after["U0TM"]
    finally:
        slack.close()


def test_a_manager_away_with_nobody_named_passes_escalations_up_saying_why(store):
    slack = FakeSlack()
    try:
        talk = Conversation(store)
        talk.message(Incoming("C0UNITA", "U0SW1", "1.0", STRATEGY, NOW))
        talk.message(Incoming("D_U0TM", "U0TM", "2.0", "I'm on annual leave 14-18 Dec", at("2026-12-01T10:00"),
                              direct=True))
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-12-15T08:35"))
        to = {m["channel"]: m["text"] for m in slack.posted()}
        assert "U0TM" not in to and "Initial Child Protection Conference held" in to["U0SM"]
        assert "<@U0TM> is away until Fri 18 Dec with nobody named to cover, so this comes to you." in to["U0SM"]
    finally:
        slack.close()


def test_a_practitioners_cover_sees_their_children_only_while_they_are_away(store):
    talk = Conversation(store)
    talk.message(Incoming("C0UNITA", "U0SW1", "1.0", STRATEGY, NOW))
    talk.message(Incoming("C0UNITA", "U0SW1", "2.0", "I'm on leave 7-18 Dec, <@U0SW2> covering", at("2026-12-01T10:00")))
    assert "child 123" not in mine(store, "U0SW2", at("2026-12-04T10:00"))  # not yet
    during = mine(store, "U0SW2", at("2026-12-08T10:00"))
    assert "Covering for <@U0SW1>, away until Fri 18 Dec" in during and "child 123" in during
    assert "child 123" not in mine(store, "U0SW2", at("2026-12-21T10:00"))  # over
    # Back early: from that day it is theirs again.
    talk.message(Incoming("C0UNITA", "U0SW1", "3.0", "back from leave", at("2026-12-10T09:00")))
    assert "Covering for" not in mine(store, "U0SW2", at("2026-12-10T10:00"))
    assert "Covering for <@U0SW1>" in mine(store, "U0SW2", at("2026-12-09T10:00"))


def test_a_long_list_of_someone_covered_comes_a_page_at_a_time_only_while_covering(store, monkeypatch):
    monkeypatch.setattr("bot.conversation.PAGE_ITEMS", 2)
    talk = Conversation(store)
    referred = at("2026-10-20T16:00")
    store.record(Posting("unit-a", "C0UNITA", "1.0", "U0SW1", referred, "history"),  # U0SW1 leads them
                 [NewEvent(c, "assessment_allocated", referred.date()) for c in ("123", "124")])
    talk.message(Incoming("C0UNITA", "U0SW1", "2.0", "I'm on leave 7-18 Dec, <@U0SW2> covering", at("2026-12-01T10:00")))
    during = at("2026-12-08T10:00")
    theirs = sorted(due_for(store, "U0SW1", during), key=lambda i: not i.overdue)
    assert len(theirs) > 2 * 2

    def button(replies) -> dict | None:
        return next((json.loads(e["value"]) for r in replies for b in r.blocks if b["type"] == "actions"
                     for e in b["elements"] if e["action_id"] == "due_page"), None)

    replies = talk.answer_query(Query(type="mine"), "U0SW2", during, "D_U0SW2", None, via="dm")
    said = "\n".join(r.text for r in replies)
    assert "Due for you (overdue, and the next 7 days): nothing overdue or due." in said
    assert f"*Covering for <@U0SW1>, away until Fri 18 Dec*\nUnit A: {sum(i.overdue for i in theirs)} overdue" in said
    assert f"Page 1 of {-(-len(theirs) // 2)}: items 1-2 of {len(theirs)}" in said
    shown = [replies]
    while value := button(shown[-1]):
        assert (value["for"], value["whose"]) == ("U0SW2", "U0SW1")
        shown.append(talk.next_page(value, "U0SW2", during, "D_U0SW2", None, "dm"))
        assert "Due for you" not in shown[-1][0].text  # that list's next page alone
    listed = [line.split(" ", 1)[1] for replies in shown for r in replies for line in r.text.splitlines()
              if line.startswith((":red_circle: child", "• child"))]
    assert listed == [deadline_line(i.record, during.date() if i.overdue else None) for i in theirs]
    # Back from leave: the cover's button shows nothing more of their list.
    (after,) = talk.next_page(button(shown[0]) or {}, "U0SW2", at("2026-12-21T10:00"), "D_U0SW2", None, "dm")
    assert after.text == "You are no longer covering for them, so I will not show their list." and after.only_for


def test_only_the_person_or_their_coordinator_or_a_manager_records_leave(store):
    talk = Conversation(store)
    refused = talk.message(Incoming("C0UNITA", "U0SW2", "1.0", "<@U0SW1> is on leave 7-18 Dec, <@U0SW2> covering",
                                    at("2026-12-01T10:00")))
    assert refused[0].only_for == "U0SW2" and "Only <@U0SW1>" in refused[0].text
    outside = talk.message(Incoming("C0UNITA", "U0SW1", "2.0", "I'm on leave 7-18 Dec, <@U0SW3> covering",
                                    at("2026-12-01T10:00")))
    assert "<@U0SW3> is not a member of <@U0SW1>'s unit" in outside[0].text
    assert People(store).away_on(date(2026, 12, 8)) == {}


def test_cover_from_the_config_file_and_the_agenda_says_who_is_away(store, tmp_path):
    config = Config(units=[UNIT_A, UNIT_B], cover=[CoverConfig.model_validate(
        {"who": "U0TM", "by": "U0UC", "from": "2026-12-14", "to": "2026-12-18"})])
    assert People(store).sync_config(config, NOW) == ["cover: U0TM away 2026-12-14 to 2026-12-18, U0UC covering"]
    assert People(store).sync_config(config, NOW) == []  # loaded once
    Conversation(store).message(Incoming("C0UNITA", "U0SW1", "1.0", STRATEGY, NOW))
    slack = FakeSlack()
    try:
        sweep(store, outbox(slack), config, at("2026-12-14T09:05"))  # Monday: the agenda
        to = {m["channel"]: m["text"] for m in slack.posted()}
        assert "<@U0TM> is away until Fri 18 Dec, <@U0UC> covering" in to["C0UNITA"]
        sweep(store, outbox(slack), config, at("2026-12-15T08:35"))
        assert any(m["channel"] == "U0UC" and "covering for <@U0TM>" in m["text"] for m in slack.posted())
    finally:
        slack.close()
    assert json.loads(json.dumps(config.model_dump(mode="json", by_alias=True)))["cover"][0]["from"] == "2026-12-14"
