"""The Slack bot over the real wire: signed HTTP requests into `/slack/events`,
exactly as Slack sends them, and Web API calls out to a fake Slack on
127.0.0.1 (SLACK_API_URL)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode


def test_an_update_is_recorded_and_answered_in_its_thread(bot, slack):
    status, ts = bot.message("strategy discussion held today for child 123, S47 agreed")
    assert status == 200
    (reply,) = slack.wait_for(1)
    assert reply["channel"] == "C0UNITA" and reply["thread_ts"] == ts
    assert "Strategy discussion for child 123, done Mon 23 Nov (s47: yes)" in reply["text"]
    assert "Initial Child Protection Conference held - due Mon 14 Dec (6.1, SW/CPL)" in reply["text"]
    assert [e["action_id"] for e in reply["blocks"][1]["elements"]] == ["undo", "correct"]
    (event,) = bot.store.live_events("C0UNITA", ts)
    assert (event.child, event.event, event.posted_by) == ("123", "strategy_discussion", "U0SW1")


def test_retries_and_the_mention_twin_make_one_event_and_one_reply(bot, slack):
    status, ts = bot.message("HV done for 123 today")
    assert status == 200
    event = {"type": "message", "channel": "C0UNITA", "user": "U0SW1", "text": "HV done for 123 today", "ts": ts}
    assert bot.event(event, event_id="EvSAME", retry=1) == 200
    assert bot.event({**event, "type": "app_mention"}, event_id="EvMENTION") == 200
    slack.wait_for(1)
    time.sleep(0.5)
    assert len(slack.posted()) == 1
    assert len(bot.store.live_events("C0UNITA", ts)) == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(bot, slack):
    body = json.dumps({"type": "event_callback", "event_id": "EvBAD", "event": {
        "type": "message", "channel": "C0UNITA", "user": "U0SW1", "text": "HV done for 999", "ts": "1.000001"}})
    assert bot.send(body, "application/json", secret="wrong") == 401
    time.sleep(0.3)
    assert slack.posted() == [] and bot.store.live_events("C0UNITA", "1.000001") == []


def test_a_question_in_the_channel_is_answered_in_its_thread(bot, slack):
    bot.message("ICPC booked for 14 Dec for 555")
    slack.wait_for(1)
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(2)
    status, ts = bot.message("what's due this week?", user="U0UC")
    reply = slack.wait_for(3)[2]
    assert reply["thread_ts"] == ts
    assert "child 777: Child visited after the decision to start a Section 47 enquiry - due Tue 24 Nov 10:00" in reply["text"]
    assert "child 555" not in reply["text"]  # its report deadlines fall in December


def test_an_outsider_sees_nothing(bot, slack):
    bot.message("HV done for 123 today")
    slack.wait_for(1)
    bot.message("what's overdue?", user="U0STRANGER", channel="D0STRANGER", channel_type="im")
    reply = slack.wait_for(2)[1]
    assert "no units configured" in reply["text"] and "123" not in reply["text"]


def test_a_channel_answer_lists_only_that_channels_unit(bot, slack):
    # U0SM manages both units; everyone in unit A's channel reads the answer.
    bot.message("strategy discussion held today for 777, S47 agreed")
    bot.message("strategy discussion held today for 888, S47 agreed", channel="C0UNITB", user="U0SW3")
    slack.wait_for(2)
    bot.message("what's due this week?", user="U0SM")
    reply = slack.wait_for(3)[2]
    assert "child 777" in reply["text"] and "child 888" not in reply["text"]
    bot.message("what's due this week?", user="U0SW3")  # unit B's practitioner, in unit A's channel
    (refused,) = slack.wait_for(1, "chat.postEphemeral")  # for the asker only
    assert refused["user"] == "U0SW3"
    assert "not in this channel's unit" in refused["text"] and "777" not in refused["text"]
    bot.message("what's due this week?", user="U0SM", channel="C0RANDOM")
    reply = slack.wait_for(4)[3]
    assert "direct message" in reply["text"] and "777" not in reply["text"]


def test_undo_withdraws_the_event_and_says_so(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    assert bot.click("undo", {"channel": "C0UNITA", "ts": ts}) == 200
    reply = slack.wait_for(2)[1]
    assert reply["thread_ts"] == ts and reply["text"].startswith("Undone by <@U0SW1>")
    assert bot.store.live_events("C0UNITA", ts) == []


def test_an_edit_is_read_again_and_replaces_the_event(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    edit = {"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": "9.1", "event_ts": "9.1",
            "message": {"type": "message", "user": "U0SW1", "text": "HV done for 123 yesterday", "ts": ts},
            "previous_message": {"type": "message", "user": "U0SW1", "text": "HV done for 123 today", "ts": ts}}
    bot.event(edit)
    reply = slack.wait_for(2)[1]
    assert "Edited" in reply["text"] and "Sun 22 Nov" in reply["text"]
    live = [e for e in bot.store.timeline("123")[0] if e.event == "visit" and e.id not in
            {x.supersedes for x in bot.store.timeline("123")[0]}]
    assert [e.date.isoformat() for e in live] == ["2026-11-22"]


def test_a_deleted_message_withdraws_its_event(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "C0UNITA", "ts": "9.2",
               "deleted_ts": ts, "previous_message": {"type": "message", "user": "U0SW1", "ts": ts}})
    reply = slack.wait_for(2)[1]
    assert "deleted" in reply["text"] and bot.store.live_events("C0UNITA", ts) == []


def test_a_clarification_round_trip_stores_nothing_until_answered(bot, slack):
    _, ts = bot.message("HV for 401 on Friday")
    question = slack.wait_for(1)[0]
    assert "which date?" in question["text"] and bot.store.live_events("C0UNITA", ts) == []
    buttons = question["blocks"][1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Happened Fri 20 Nov", "Booked for Fri 27 Nov"]
    bot.click(buttons[1]["action_id"], json.loads(buttons[1]["value"]))
    reply = slack.wait_for(2)[1]
    assert "booked for Fri 27 Nov" in reply["text"]
    (event,) = bot.store.live_events("C0UNITA", ts)
    assert (event.status, event.date.isoformat()) == ("planned", "2026-11-27")


def test_a_typed_answer_in_the_thread_completes_the_update(bot, slack):
    _, ts = bot.message("No HV today")
    assert "Which child" in slack.wait_for(1)[0]["text"]
    bot.message("thanks", thread_ts=ts)  # not an answer: no reply
    bot.message("it was 4321", thread_ts=ts)
    reply = slack.wait_for(2)[1]
    assert "Child visited for child 4321, did not happen Mon 23 Nov" in reply["text"]
    assert len(slack.posted()) == 2


def test_the_slash_command_answers_only_the_person_who_asked(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    assert bot.command("due week") == 200
    (reply,) = slack.wait_for(1, "response_url")  # the command's own reply address: only the asker sees it
    assert reply["response_type"] == "ephemeral" and "child 777" in reply["text"]
    assert slack.posted("chat.postEphemeral") == [] and len(slack.posted()) == 1


def test_app_home_shows_the_persons_units(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    bot.event({"type": "app_home_opened", "user": "U0TM", "channel": "D0TM", "tab": "home"})
    (published,) = slack.wait_for(1, "views.publish")
    assert published["user_id"] == "U0TM"
    texts = json.dumps(published["view"]["blocks"])
    assert "Due this week" in texts and "child 777" in texts


def test_a_channel_that_is_not_a_unit_gets_one_line_and_nothing_stored(bot, slack):
    _, ts = bot.message("HV done for 123 today", channel="C0RANDOM")
    reply = slack.wait_for(1)[0]
    assert "not set up as a unit" in reply["text"] and "C0RANDOM" in reply["text"]
    assert bot.store.live_events("C0RANDOM", ts) == []


def test_chit_chat_and_bots_get_no_reply(bot, slack):
    bot.message("morning all")
    bot.message("HV done for 123 today", user="U0BOT")
    bot.message("HV done for 124 today", bot_id="B0OTHER")
    time.sleep(0.5)
    assert slack.posted() == []


def test_a_decision_moves_the_deadline_and_says_who_and_why(bot, slack):
    bot.message("strategy discussion held today for 888, S47 agreed", channel="C0UNITB", user="U0SW3")
    slack.wait_for(1)
    bot.message("ICPC for 888 set for 18 Dec by lead SW: family availability", channel="C0UNITB", user="U0SW3")
    reply = slack.wait_for(2)[1]
    assert "Lead social worker's decision recorded by <@U0SW3>" in reply["text"] and "Fri 18 Dec" in reply["text"]
    icpc = next(d for d in bot.store.child_deadlines("888") if d.standard == "6.1")
    assert icpc.due.isoformat() == "2026-12-18" and icpc.override["reason"] == "family availability"


def test_correct_opens_a_form_and_its_answer_replaces_the_event(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    bot.click("correct", {"channel": "C0UNITA", "ts": ts})
    (opened,) = slack.wait_for(1, "views.open")
    assert opened["view"]["callback_id"] == "correct_form"
    submission = {"type": "view_submission", "user": {"id": "U0SW1"}, "team": {"id": "T0"}, "view": {
        "id": "V0FORM", "type": "modal", "callback_id": "correct_form", "private_metadata": opened["view"]["private_metadata"],
        "state": {"values": {"what": {"text": {"type": "plain_text_input", "value": "it was yesterday"}}}}}}
    assert bot.send(urlencode({"payload": json.dumps(submission)}), "application/x-www-form-urlencoded") == 200
    reply = slack.wait_for(2)[1]
    assert reply["thread_ts"] == ts and "Child visited for child 123, done Sun 22 Nov" in reply["text"]
    events = bot.store.timeline("123")[0]
    live = [e for e in events if e.id not in {x.supersedes for x in events}]
    assert [(e.event, e.date.isoformat()) for e in live] == [("visit", "2026-11-22")]


def test_a_question_in_a_direct_message_is_answered_there(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    bot.message("what's due for me?", channel="D0SW1", channel_type="im")
    reply = slack.wait_for(2)[1]
    assert reply["channel"] == "D0SW1" and reply.get("thread_ts") is None
    assert "Due for you" in reply["text"] and "child 777" in reply["text"]


def test_mark_done_from_a_reminder_meets_the_deadline(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    record = next(d for d in bot.store.child_deadlines("777") if d.standard == "3.5")
    bot.click("mark_done", {"deadline": record.id, "channel": "C0UNITA"}, user="U0TM")
    reply = slack.wait_for(2)[1]
    assert "Marked done by <@U0TM>" in reply["text"] and "(3.5)" in reply["text"]
    assert next(d for d in bot.store.child_deadlines("777") if d.id == record.id).state == "met"


def test_an_extension_from_a_reminder_is_for_managers_only(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    record = next(d for d in bot.store.child_deadlines("777") if d.standard == "6.1")

    def submit(user: str, due: str | None) -> int:
        view = {"id": "V0R", "type": "modal", "callback_id": "reason_form",
                "private_metadata": json.dumps({"deadline": record.id}),
                "state": {"values": {"reason": {"text": {"type": "plain_text_input", "value": "family bereavement"}},
                                     "due": {"date": {"type": "datepicker", "selected_date": due}}}}}
        payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0"}, "view": view}
        return bot.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    assert submit("U0SW1", "2026-12-18") == 200  # refused in the form itself
    time.sleep(0.3)
    assert len(slack.posted()) == 1
    assert submit("U0TM", "2026-12-18") == 200
    reply = slack.wait_for(2)[1]
    assert "Extension to Fri 18 Dec recorded by <@U0TM>" in reply["text"] and "family bereavement" in reply["text"]
    moved = next(d for d in bot.store.child_deadlines("777") if d.standard == "6.1")
    assert moved.due.isoformat() == "2026-12-18" and moved.override["by"] == "U0TM"
