"""Thread dialogues over the real wire (issue 14): a message the bot asks about, the
reply in its thread, and what is stored. Signed HTTP requests into `/slack/events`,
replies to the fake Slack. Now is Monday 23 November 2026, 10:00."""

from __future__ import annotations

import json
import time

import pytest

# message, reply in its thread, what is stored for the message afterwards
# (event, child, status, date, details) sorted, and whether the bot answers the reply.
ANSWERS = [
    ("No HV today", "4321", [("visit", "4321", "not_done", "2026-11-23", {})]),
    ("No HV today", "it was 12", [("visit", "12", "not_done", "2026-11-23", {})]),
    ("No HV today", "child 4321 and 4322", [("visit", "4321", "not_done", "2026-11-23", {}),
                                            ("visit", "4322", "not_done", "2026-11-23", {})]),
    ("core group for 5120", "yes", [("core_group", "5120", "done", "2026-11-23", {})]),
    ("core group for 5120", "yes it did", [("core_group", "5120", "done", "2026-11-23", {})]),
    ("core group for 5120", "booked for the 3rd", [("core_group", "5120", "planned", "2026-12-03", {})]),
    ("core group for 5120", "20th", [("core_group", "5120", "done", "2026-11-20", {})]),
    ("core group for 5120", "it was friday", [("core_group", "5120", "done", "2026-11-20", {})]),
    ("strat for 6110", "held this morning, S47 agreed",
     [("strategy_discussion", "6110", "done", "2026-11-23", {"s47": True})]),
    ("strat for 6110", "held yesterday - NFA", [("strategy_discussion", "6110", "done", "2026-11-22", {"s47": False})]),
    ("CP plan for 456", "started", [("cp_plan_started", "456", "done", "2026-11-23", {})]),
    ("CP plan for 456 today", "ended", [("cp_plan_ended", "456", "done", "2026-11-23", {})]),
    ("plan ended for 456 today", "CP", [("cp_plan_ended", "456", "done", "2026-11-23", {})]),
    ("plan ended for 456 today", "FH plan", [("fh_plan_ended", "456", "done", "2026-11-23", {})]),
    ("HV for 401 on Friday", "booked", None),  # still asks: for when? nothing stored
    ("HV for 401 on Friday", "the 27th", [("visit", "401", "planned", "2026-11-27", {})]),
    ("HV for 45 done today", "yes", [("visit", "45", "done", "2026-11-23", {})]),
    ("HV for 45 done today", "4545", [("visit", "4545", "done", "2026-11-23", {})]),
    ("strategy discussion held", "for 7001", [("strategy_discussion", "7001", "done", "2026-11-23", {})]),
    ("LAC review 3308 Tue 18th", "the 24th", [("lac_review", "3308", "planned", "2026-11-24", {})]),
    ("ICPC booked for 5120", "14 Dec", [("icpc", "5120", "planned", "2026-12-14", {})]),
    ("visit done", "for 8101", [("visit", "8101", "done", "2026-11-23", {})]),
    ("strat for 6110", "yes", [("strategy_discussion", "6110", "done", "2026-11-23", {})]),
    ("core group for 5120", "booked for Thu 2pm", [("core_group", "5120", "planned", "2026-11-26", {})]),
    ("ICPC booked", "5120", None),  # the child, then: booked for when? nothing stored yet
    ("No HV today", "4321, mum not in", [("visit", "4321", "not_done", "2026-11-23", {})]),
    ("core group for 5120", "it was last Thursday", [("core_group", "5120", "done", "2026-11-19", {})]),
]

# Replies that are not answers: nothing is stored for the message, the question stays open.
NOT_ANSWERS = [
    ("strat for 6110", "thanks", None),
    ("strat for 6110", "not sure, will check with the TM", "keep this open"),
    ("strat for 6110", "will check", "keep this open"),
    ("strat for 6110", "hmm", "couldn't read that as an answer"),
    ("core group for 5120", "dunno tbh", "keep this open"),
    ("CP plan for 456", "what's coming up for 456?", "Child 456"),
    ("No HV today", "what's due this week?", "Due"),
    ("strat for 6110", "No HV today", "Which child"),  # another event: its own update, with its own question
    ("core group for 5120", "cheers", None),
    ("No HV today", "can someone cover the HV for 4321?", None),  # to colleagues, not the bot
    ("ICPC booked", "not known yet", "keep this open"),
]


def _stored(bot, ts: str) -> list[tuple]:
    rows = [(e.event, e.child, e.status, e.date.isoformat(), dict(e.details))
            for e in bot.store.live_events("C0UNITA", ts)]
    return sorted(rows, key=lambda r: (r[0], r[1]))


@pytest.mark.parametrize(("message", "reply", "stored"), ANSWERS, ids=[f"{m} / {r}" for m, r, _ in ANSWERS])
def test_an_answer_in_the_thread(bot, slack, message, reply, stored):
    _, ts = bot.message(message)
    question = slack.wait_for(1)[0]
    assert question["thread_ts"] == ts and bot.store.live_events("C0UNITA", ts) == []
    bot.message(reply, thread_ts=ts)
    answered = slack.wait_for(2)[1]
    assert answered["thread_ts"] == ts  # the parent's ts, as Slack says
    if stored is None:
        assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None
    else:
        assert _stored(bot, ts) == sorted(stored, key=lambda r: (r[0], r[1])), answered["text"]
        assert bot.store.pending("C0UNITA", ts) is None


@pytest.mark.parametrize(("message", "reply", "says"), NOT_ANSWERS, ids=[f"{m} / {r}" for m, r, _ in NOT_ANSWERS])
def test_a_reply_that_is_not_an_answer_stores_nothing(bot, slack, message, reply, says):
    if "456" in reply:
        bot.message("ICPC booked for 14 Dec for 456")
        slack.wait_for(1)
    before = len(slack.posted())
    _, ts = bot.message(message)
    slack.wait_for(before + 1)
    bot.message(reply, thread_ts=ts)
    if says is None:
        time.sleep(0.5)
        assert len(slack.posted()) == before + 1
    else:
        answered = slack.wait_for(before + 2)[-1]
        assert answered["thread_ts"] == ts and says in answered["text"], answered["text"]
    assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None


def test_an_update_about_another_child_in_the_thread_is_its_own(bot, slack):
    _, ts = bot.message("strat for 6110")
    slack.wait_for(1)
    _, reply_ts = bot.message("HV for 7120 done today", thread_ts=ts)
    recorded = slack.wait_for(2)[1]
    assert recorded["thread_ts"] == ts and "child 7120" in recorded["text"]
    assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None  # 6110's question stays open
    assert [(e.event, e.child) for e in bot.store.live_events("C0UNITA", reply_ts)] == [("visit", "7120")]


def test_a_full_update_under_a_question_is_its_own_even_for_the_same_event(bot, slack):
    _, ts = bot.message("No HV today")  # which child?
    slack.wait_for(1)
    _, reply_ts = bot.message("HV for 7120 done today", thread_ts=ts)
    assert "child 7120" in slack.wait_for(2)[1]["text"]
    assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None
    assert [(e.event, e.child, e.status) for e in bot.store.live_events("C0UNITA", reply_ts)] == [
        ("visit", "7120", "done")]


def test_an_update_in_a_thread_with_no_question_is_answered_in_that_thread(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    bot.message("core group for 123 held yesterday", thread_ts=ts)
    assert slack.wait_for(2)[1]["thread_ts"] == ts


def test_someone_outside_the_unit_cannot_answer(bot, slack):
    _, ts = bot.message("No HV today")
    slack.wait_for(1)
    bot.message("4321", thread_ts=ts, user="U0STRANGER")
    refused = slack.wait_for(1, "chat.postEphemeral")[0]
    assert "not a member" in refused["text"]
    assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None


def test_an_edited_answer_replaces_what_it_recorded(bot, slack):
    _, ts = bot.message("No HV today")
    slack.wait_for(1)
    _, answer_ts = bot.message("4321", thread_ts=ts)
    slack.wait_for(2)
    assert _stored(bot, ts) == [("visit", "4321", "not_done", "2026-11-23", {})]
    edit = {"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": f"{float(answer_ts) + 60:.6f}",
            "event_ts": f"{float(answer_ts) + 60:.6f}",
            "message": {"type": "message", "user": "U0SW1", "text": "4322", "ts": answer_ts, "thread_ts": ts},
            "previous_message": {"type": "message", "user": "U0SW1", "text": "4321", "ts": answer_ts}}
    assert bot.event(edit) == 200
    reply = slack.wait_for(3)[2]
    assert "Answer edited" in reply["text"] and reply["thread_ts"] == ts
    assert _stored(bot, ts) == [("visit", "4322", "not_done", "2026-11-23", {})]


def test_a_reply_the_bot_asks_about_is_answered_in_the_same_thread(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    _, reply_ts = bot.message("No HV today", thread_ts=ts)  # which child? asked in the parent's thread
    asked = slack.wait_for(2)[1]
    assert asked["thread_ts"] == ts and bot.store.pending("C0UNITA", reply_ts) is not None
    bot.message("4321", thread_ts=ts)
    answered = slack.wait_for(3)[2]
    assert answered["thread_ts"] == ts and "4321" in answered["text"]
    assert _stored(bot, reply_ts) == [("visit", "4321", "not_done", "2026-11-23", {})]
    assert bot.store.pending("C0UNITA", reply_ts) is None
    assert [(e.event, e.child) for e in bot.store.live_events("C0UNITA", ts)] == [("visit", "123")]  # untouched


def test_with_two_questions_open_in_a_thread_the_answer_goes_to_the_one_it_answers(bot, slack):
    _, ts = bot.message("strat for 6110")  # when was it? (a date)
    slack.wait_for(1)
    _, reply_ts = bot.message("No HV today", thread_ts=ts)  # which child?
    slack.wait_for(2)
    bot.message("it was 12", thread_ts=ts)  # a child: only the reply's question
    slack.wait_for(3)
    assert _stored(bot, reply_ts) == [("visit", "12", "not_done", "2026-11-23", {})]
    assert _stored(bot, ts) == [] and bot.store.pending("C0UNITA", ts) is not None
    bot.message("held yesterday - NFA", thread_ts=ts)
    slack.wait_for(4)
    assert _stored(bot, ts) == [("strategy_discussion", "6110", "done", "2026-11-22", {"s47": False})]


def test_someone_outside_the_unit_cannot_answer_a_question_about_a_reply(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    _, reply_ts = bot.message("No HV today", thread_ts=ts)
    slack.wait_for(2)
    bot.message("4321", thread_ts=ts, user="U0STRANGER")
    assert "not a member" in slack.wait_for(1, "chat.postEphemeral")[0]["text"]
    assert _stored(bot, reply_ts) == [] and bot.store.pending("C0UNITA", reply_ts) is not None


def _edit(bot, ts: str, thread_ts: str, old: str, new: str) -> int:
    at = f"{float(ts) + 60:.6f}"
    return bot.event({"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": at, "event_ts": at,
                      "message": {"type": "message", "user": "U0SW1", "text": new, "ts": ts, "thread_ts": thread_ts},
                      "previous_message": {"type": "message", "user": "U0SW1", "text": old, "ts": ts}})


def test_an_edited_answer_to_a_second_question_is_read_after_the_first_answer(bot, slack):
    _, ts = bot.message("ICPC booked")  # which child?
    slack.wait_for(1)
    bot.message("for 5120", thread_ts=ts)  # booked for when?
    assert slack.wait_for(2)[1]["thread_ts"] == ts and _stored(bot, ts) == []
    _, answer_ts = bot.message("the 3rd", thread_ts=ts)
    slack.wait_for(3)
    assert _stored(bot, ts) == [("icpc", "5120", "planned", "2026-12-03", {})]
    assert _edit(bot, answer_ts, ts, "the 3rd", "the 4th") == 200
    reply = slack.wait_for(4)[3]
    assert "Answer edited" in reply["text"] and reply["thread_ts"] == ts
    assert _stored(bot, ts) == [("icpc", "5120", "planned", "2026-12-04", {})]


def test_a_button_under_a_question_about_a_reply_answers_in_the_parent_thread(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)
    _, reply_ts = bot.message("HV for 401 on Friday", thread_ts=ts)  # which date? with buttons
    question = slack.wait_for(2)[1]
    assert question["thread_ts"] == ts
    booked = question["blocks"][1]["elements"][1]
    bot.click(booked["action_id"], json.loads(booked["value"]))
    answered = slack.wait_for(3)[2]
    assert answered["thread_ts"] == ts and "booked for Fri 27 Nov" in answered["text"]
    assert _stored(bot, reply_ts) == [("visit", "401", "planned", "2026-11-27", {})]
