"""Units are walls (SPEC section 8), over the real wire: signed requests into the
app for every way in, from people outside the unit and from its members, and what
the fake Slack was asked to post, to whom."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from test_scheduler import outbox

from rules.calendar import LONDON
from rules.config import Config
from scheduler.sweep import sweep
from store.models import EventRecord
from store.records import NewEvent, Posting

from fake_slack import FakeSlack
from helpers import TEST_CONFIG, UNIT_A, UNIT_B
from wire import NOW, Bot

# People the config does not put in unit A, as Slack would send them.
OUTSIDERS = {
    "another unit's practitioner": ("U0SW3", {}),
    "a guest": ("U0GUEST", {}),
    "a Slack Connect user": ("U0CONNECT", {"user_team": "T0OTHER", "team": "T0OTHER"}),
    "someone not in the config": ("U0STRANGER", {}),
}
INJECTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U0HOS>", "<https://evil.example|click here>"]


def calls_since(slack: FakeSlack, start: int) -> list[tuple[str, dict]]:
    with slack._lock:
        return list(slack.calls[start:])


def all_text(call: dict) -> str:
    return json.dumps(call, ensure_ascii=False)


def live(store, child: str) -> list[EventRecord]:
    events = store.timeline(child)[0]
    superseded = {e.supersedes for e in events}
    return [e for e in events if e.id not in superseded and e.event != "retraction"]


def reason_values(reason: str, due: str | None = None) -> dict:
    return {"reason": {"text": {"type": "plain_text_input", "value": reason}},
            "due": {"date": {"type": "datepicker", "selected_date": due}}}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_an_outsider_can_change_nothing_by_any_way_in_and_sees_nothing(bot: Bot, slack: FakeSlack, who: str):
    user, extra = OUTSIDERS[who]
    _, recorded_ts = bot.message("strategy discussion held today for child 123, S47 agreed")
    _, asked_ts = bot.message("HV for 401 on Friday")
    slack.wait_for(2)
    icpc = next(d for d in bot.store.child_deadlines("123") if d.standard == "6.1")
    record_3_5 = next(d for d in bot.store.child_deadlines("123") if d.standard == "3.5")
    pending_before = bot.store.pending("C0UNITA", asked_ts).reading
    start = len(slack.calls)

    def said(text: str, **more) -> None:
        bot.message(text, user=user, **{**extra, **more})

    said("HV done for 123 today")  # an update in the unit's channel
    said("correction: that was yesterday", thread_ts=recorded_ts)
    said("undo", thread_ts=recorded_ts)
    said("booked for the 27th", thread_ts=asked_ts)  # an answer to the bot's question
    said("extension agreed for 123 ICPC to 20 Jan, SM agreed, reason: family abroad")
    said("ICPC for 123 set for 18 Dec by lead SW: family availability")
    said("transfer 123 to this unit")
    _, own_ts = bot.message("morning all", user=user, **extra)
    bot.event({"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": "9.3", "event_ts": "9.3",
               "message": {"type": "message", "user": user, "text": "HV done for 123 today", "ts": own_ts},
               "previous_message": {"type": "message", "user": user, "text": "morning all", "ts": own_ts}})
    bot.click("answer_1", {"channel": "C0UNITA", "ts": asked_ts, "option": 1}, user=user)
    bot.click("undo", {"channel": "C0UNITA", "ts": recorded_ts}, user=user)
    bot.click("correct", {"channel": "C0UNITA", "ts": recorded_ts}, user=user)
    bot.submit("correct_form", json.dumps({"channel": "C0UNITA", "ts": recorded_ts}),
               {"what": {"text": {"type": "plain_text_input", "value": "it was yesterday"}}}, user=user)
    bot.click("mark_done", {"deadline": record_3_5.id, "channel": "C0UNITA"}, user=user)
    bot.click("reason", {"deadline": icpc.id, "channel": "C0UNITA"}, user=user)
    bot.click("due_page", {"query": {"type": "due"}, "unit": "unit-a", "page": 2, "channel": "C0UNITA",
                           "after": [0, "2026-01-01", "2026-01-01T00:00:00+00:00", "1", "x"]}, user=user)
    bot.submit("reason_form", json.dumps({"deadline": icpc.id}), reason_values("moved", "2027-01-20"), user=user)
    bot.command("due week", user=user)
    said("what's overdue?", channel=f"D_{user}", channel_type="im")
    bot.event({"type": "app_home_opened", "user": user, "channel": f"D_{user}", "tab": "home"})
    slack.wait_for(1, "views.publish")
    slack.wait_for(15, "chat.postEphemeral")
    slack.wait_for(1, "response_url")

    # Nothing changed: the events, the question, the deadlines, no decision.
    assert [(e.event, e.posted_by) for e in live(bot.store, "123")] == [("strategy_discussion", "U0SW1")]
    assert bot.store.pending("C0UNITA", asked_ts).reading == pending_before
    assert bot.store.timeline("123")[1] == [] and bot.store.timeline("401") == ([], [], [])
    after = {d.id: (d.state, d.due) for d in bot.store.child_deadlines("123")}
    assert after[icpc.id] == ("open", icpc.due) and after[record_3_5.id][0] == "open"
    # Every answer was for them alone, and none of them shows anything of child 123.
    calls = calls_since(slack, start)
    assert {m for m, _ in calls} <= {"chat.postEphemeral", "chat.postMessage", "views.publish", "response_url"}
    for method, args in calls:
        if method == "chat.postEphemeral":
            assert args["user"] == user
        elif method == "chat.postMessage":
            assert args["channel"] == f"D_{user}"  # the answer to their own DM
        elif method == "views.publish":
            assert args["user_id"] == user
        for secret in ("child 123", "Initial Child Protection", "Mon 14 Dec", "Section 47"):
            assert secret not in all_text(args), (method, args)
    refusals = [a["text"] for m, a in calls if m == "chat.postEphemeral"]
    assert any("not a member of this unit in Timescales" in t for t in refusals)


def test_deleting_an_outsiders_message_changes_nothing(bot, slack):
    bot.message("strategy discussion held today for child 123, S47 agreed")
    _, ts = bot.message("HV done for 124 today", user="U0STRANGER")
    slack.wait_for(1)
    slack.wait_for(1, "chat.postEphemeral")
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "C0UNITA", "ts": "9.4", "deleted_ts": ts,
               "previous_message": {"type": "message", "user": "U0STRANGER", "ts": ts}})
    assert bot.store.timeline("124") == ([], [], [])
    assert [e.event for e in live(bot.store, "123")] == ["strategy_discussion"]


def test_whoever_answers_the_question_is_recorded_as_its_author(bot, slack):
    _, ts = bot.message("HV for 401 on Friday", user="U0SW1")
    question = slack.wait_for(1)[0]
    button = question["blocks"][1]["elements"][1]  # Booked for Fri 27 Nov
    bot.click(button["action_id"], json.loads(button["value"]), user="U0SW2")
    reply = slack.wait_for(2)[1]
    assert "Recorded (answered by <@U0SW2> for <@U0SW1>'s message)" in reply["text"]
    (event,) = bot.store.live_events("C0UNITA", ts)
    assert (event.posted_by, event.answered_for, event.answer_ts.startswith("choose:")) == ("U0SW2", "U0SW1", True)
    # A typed answer in the thread, by the co-ordinator this time.
    _, ts2 = bot.message("No HV today", user="U0SW1")
    slack.wait_for(3)
    _, answer_ts = bot.message("it was 4321", user="U0UC", thread_ts=ts2)
    slack.wait_for(4)
    (event,) = bot.store.live_events("C0UNITA", ts2)
    assert (event.child, event.posted_by, event.answered_for, event.answer_ts) == ("4321", "U0UC", "U0SW1", answer_ts)
    header, row = list(csv.reader(io.StringIO(bot.store.export_csv(child="4321"))))[:2]
    exported = dict(zip(header, row, strict=True))
    assert (exported["by"], exported["answers"]) == ("U0UC", f"message {ts2} by U0SW1")
    assert exported["reason_or_text"] == "No HV today\n(answer: it was 4321)"


def test_another_units_update_about_a_child_stores_nothing_and_reveals_nothing(bot_on_both, slack):
    bot = bot_on_both
    bot.message("strategy discussion held today for child 500, S47 agreed")  # unit A's child
    slack.wait_for(1)
    icpc = next(d for d in bot.store.child_deadlines("500") if d.standard == "6.1")
    _, ts = bot.message("ICPC held today for child 500", user="U0SW3", channel="C0UNITB")
    reply = slack.wait_for(2)[1]
    assert reply["channel"] == "C0UNITB" and reply["thread_ts"] == ts
    assert "Child 500 is held by another unit" in reply["text"] and "transfer 500 to this unit" in reply["text"]
    for secret in ("14 Dec", "Initial Child Protection", "Unit A", "unit-a", "S47", "Strategy", "C0UNITA", "6.1"):
        assert secret not in all_text(reply)
    assert next(d for d in bot.store.child_deadlines("500") if d.id == icpc.id).state == "open"
    assert bot.store.live_events("C0UNITB", ts) == [] and bot.store.child_unit("500") == "unit-a"
    bot.message("what's coming up for 500?", user="U0SW3", channel="C0UNITB")
    answer = slack.wait_for(3)[2]
    assert "nothing for child 500" in answer["text"] and "Dec" not in answer["text"]


def test_the_first_unit_holds_a_child_until_a_manager_of_it_agrees_a_transfer(bot_on_both, slack):
    bot = bot_on_both
    bot.message("HV done for 4242 today", user="U0SW3", channel="C0UNITB")  # unit B records it first
    slack.wait_for(1)
    _, ts = bot.message("strategy discussion held today for 4242, S47 agreed")  # unit A
    refused = slack.wait_for(2)[1]
    assert "Child 4242 is held by another unit" in refused["text"]
    assert [e.event for e in live(bot.store, "4242")] == ["visit"]
    _, ask_ts = bot.message("transfer 4242 to this unit")
    posted = slack.wait_for(4)
    asked = next(p for p in posted if p["channel"] == "U0TMB")  # unit B's team manager, in a DM
    assert "Unit A asks for child 4242 to move" in asked["text"] and "<@U0SW1>" in asked["text"]
    buttons = asked["blocks"][1]["elements"]
    assert [b["action_id"] for b in buttons] == ["transfer_agree", "transfer_decline"]
    assert any(p["channel"] == "C0UNITA" and p.get("thread_ts") == ask_ts and "asked the team manager" in p["text"]
               for p in posted)
    agree = json.loads(buttons[0]["value"])
    for not_theirs in ("U0SW3", "U0TM"):  # B's practitioner; A's own team manager
        bot.click("transfer_agree", {**agree, "channel": "D_" + not_theirs}, user=not_theirs)
    refusals = slack.wait_for(2, "chat.postEphemeral")
    assert all("Only a manager of the unit holding the child" in r["text"] for r in refusals)
    assert bot.store.child_unit("4242") == "unit-b"
    bot.click("transfer_agree", {**agree, "channel": "D_U0TMB"}, user="U0TMB")
    posted = slack.wait_for(7)
    told_a = next(p for p in posted if p["channel"] == "C0UNITA" and p.get("thread_ts") == ask_ts
                  and "now held by this unit" in p["text"])
    assert "agreed by <@U0TMB>" in told_a["text"]
    assert any(p["channel"] == "C0UNITB" and "moved to Unit A" in p["text"] for p in posted)
    assert bot.store.child_unit("4242") == "unit-a"
    bot.click("transfer_agree", {**agree, "channel": "D_U0TMB"}, user="U0TMB")  # a second click
    assert "already been decided" in slack.wait_for(3, "chat.postEphemeral")[2]["text"]
    # Now unit A records for the child, and its reminders go to unit A, not to unit B.
    bot.message("strategy discussion held today for 4242, S47 agreed")
    recorded = slack.wait_for(8)[7]
    assert recorded["channel"] == "C0UNITA" and "Recorded" in recorded["text"]
    assert {d.unit_id for d in bot.store.child_deadlines("4242")} == {"unit-a"}
    got = sweep(bot.store, outbox(slack), TEST_CONFIG, NOW + timedelta(days=1, hours=-1))
    assert any("4242" in json.dumps([n.deadline.child for n in m.notices]) for r, m in got.messages.items()
               if r == "C0UNITA")
    assert not any(n.deadline.child == "4242" for r, m in got.messages.items() if r in ("C0UNITB", "U0TMB")
                   for n in m.notices)
    before = len(slack.posted())
    _, asked_ts = bot.message("what's coming up for 4242?", user="U0SW3", channel="C0UNITB")
    answer = slack.wait_for(before + 1)[before]
    assert answer["thread_ts"] == asked_ts and "nothing for child 4242" in answer["text"]
    export = bot.store.export_csv(child="4242")
    assert "transfer agreed: unit-b -> unit-a" in export and ",U0TMB," in export


def test_a_declined_transfer_leaves_the_child_where_it_was(bot, slack):
    bot.message("HV done for 4243 today", user="U0SW3", channel="C0UNITB")
    slack.wait_for(1)
    _, ask_ts = bot.message("please move child 4243 over to us")
    asked = next(p for p in slack.wait_for(3) if p["channel"] == "U0TMB")
    decline = json.loads(asked["blocks"][1]["elements"][1]["value"])
    bot.click("transfer_decline", {**decline, "channel": "D_U0TMB"}, user="U0TMB")
    told = next(p for p in slack.wait_for(4) if p.get("thread_ts") == ask_ts and "declined" in p["text"])
    assert told["channel"] == "C0UNITA" and "<@U0TMB>" in told["text"]
    assert bot.store.child_unit("4243") == "unit-b"


def test_a_manager_over_both_units_agrees_the_transfer_in_asking(bot, slack):
    bot.message("HV done for 4244 today", user="U0SW3", channel="C0UNITB")
    slack.wait_for(1)
    bot.message("transfer 4244 to this unit", user="U0SM")  # service manager of both units
    posted = slack.wait_for(3)
    assert bot.store.child_unit("4244") == "unit-a"
    assert not any(p["channel"] == "U0TMB" for p in posted)


@pytest.mark.parametrize("injected", INJECTIONS)
def test_peoples_words_never_ping_mention_or_link(bot, slack, injected):
    bot.message("strategy discussion held today for 888, S47 agreed", channel="C0UNITB", user="U0SW3")
    slack.wait_for(1)
    escaped = injected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Typed in a message, Slack sends the characters escaped; typed in a form, as they are.
    bot.message(f"ICPC for 888 set for 18 Dec by lead SW: {escaped} family availability {injected}",
                channel="C0UNITB", user="U0SW3")
    slack.wait_for(2)
    record = next(d for d in bot.store.child_deadlines("888") if d.standard == "3.5")
    bot.submit("reason_form", json.dumps({"deadline": record.id}), reason_values(f"{injected} & more"),
               user="U0TMB", view_id="V0INJ")
    slack.wait_for(3)
    sweep(bot.store, outbox(slack), TEST_CONFIG, NOW + timedelta(days=7))  # next Monday: the agenda
    posted = [args for method, args in calls_since(slack, 0) if method.startswith("chat.")]
    texts = [all_text(p) for p in posted]
    assert not any(injected in t for t in texts)
    assert sum(escaped in t for t in texts) >= 3, texts  # the decision, the reason and the agenda, each as words
    agenda = next(p for p in posted if "Unit meeting agenda, Unit B" in p["text"])
    assert escaped in agenda["text"]


@pytest.mark.parametrize("written", ["١٢٣", "１２３", "12\u200b3", "1\u200d2\u20603"])
def test_child_numbers_in_other_digits_or_with_hidden_characters_are_one_child(bot, slack, written):
    bot.message(f"HV done for {written} today")
    slack.wait_for(1)
    assert [e.child for e in live(bot.store, "123")] == ["123"]
    assert bot.store.holders(["1", "12", "3", "23"]) == {}


def test_the_same_form_submitted_three_times_is_one_decision_and_one_post(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    icpc = next(d for d in bot.store.child_deadlines("777") if d.standard == "6.1")
    for _ in range(3):
        assert bot.submit("reason_form", json.dumps({"deadline": icpc.id}), reason_values("family away", "2026-12-18"),
                          user="U0TM", view_id="V0TWICE") == 200
    slack.wait_for(2)
    slack.wait_for(3, timeout=1)
    assert len(bot.store.timeline("777")[1]) == 1
    assert sum("Extension to Fri 18 Dec" in p["text"] for p in slack.posted()) == 1


def test_export_cells_open_as_text_in_a_spreadsheet(bot, slack):
    bot.message('=HYPERLINK("https://evil.example","x") HV done for 123 today')
    slack.wait_for(1)
    rows = list(csv.reader(io.StringIO(bot.store.export_csv(child="123"))))
    event = dict(zip(rows[0], next(r for r in rows if r[0] == "event"), strict=True))
    assert event["reason_or_text"].startswith("'=HYPERLINK(")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_every_answer_that_shows_children_is_in_the_access_log(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    bot.message("what's due this week?", user="U0UC")
    bot.message("what's coming up for 777?", user="U0SW1", channel="D_U0SW1", channel_type="im")
    bot.command("due week", user="U0TM")
    bot.event({"type": "app_home_opened", "user": "U0SM", "channel": "D_U0SM", "tab": "home"})
    slack.wait_for(3)
    slack.wait_for(1, "views.publish")
    slack.wait_for(1, "response_url")
    log = {r.via: r for r in bot.store.access_log()}
    assert {via: r.user_id for via, r in log.items()} == {"channel": "U0UC", "dm": "U0SW1", "slash": "U0TM",
                                                          "home": "U0SM"}
    assert (log["channel"].units, log["channel"].children, log["channel"].child) == (["unit-a"], 1, None)
    assert (log["dm"].child, log["dm"].shown) == ("777", ["777"])
    assert log["home"].units == ["unit-a", "unit-b"]
    assert {r.user_id for r in bot.store.access_log(child="777")} == {"U0UC", "U0SW1", "U0TM", "U0SM"}
    assert [r.via for r in bot.store.access_log(user="U0TM")] == ["slash"]
    assert bot.store.access_log(child="999") == []


def test_a_persons_own_list_turns_its_pages_for_them_alone_and_not_after_they_leave(bot, slack, monkeypatch):
    """"What's due for me" a page at a time (two items a page here). Its Next page is the
    asker's: a member of the same unit pressing it in the unit's channel, where it was
    posted, is refused, only they see it, and shown nothing. The asker who has since left
    the unit (the config changed) is shown nothing of it, in the channel or in their DM."""
    monkeypatch.setattr("bot.conversation.PAGE_ITEMS", 2)
    referred = datetime(2026, 10, 20, 16, tzinfo=LONDON)
    bot.store.record(Posting("unit-a", "C0UNITA", "1.1", "U0SW1", referred, "history"),  # U0SW1 leads them
                     [NewEvent(c, "assessment_allocated", referred.date()) for c in ("123", "124")])
    bot.message("what's due for me?")
    bot.message("what's due for me?", channel="D_U0SW1", channel_type="im")
    firsts = slack.wait_for(2)
    buttons = {m["channel"]: json.loads(next(e for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]
                                             if e["action_id"] == "due_page")["value"]) for m in firsts}
    assert all("Page 1 of " in m["text"] and "child 12" in m["text"] for m in firsts)
    assert set(buttons) == {"C0UNITA", "D_U0SW1"} and buttons["C0UNITA"]["for"] == "U0SW1"
    logged = len(bot.store.access_log())
    bot.click("due_page", {**buttons["C0UNITA"], "channel": "C0UNITA"}, user="U0SW2")  # the same unit
    (refused,) = slack.wait_for(1, "chat.postEphemeral")
    assert refused["user"] == "U0SW2" and "only they can turn its pages" in refused["text"]
    assert "child 12" not in all_text(refused) and len(slack.posted()) == 2
    # The asker leaves the unit.
    bot.store.sync_config(Config(units=[UNIT_A.model_copy(update={"practitioners": ["U0SW2"]}), UNIT_B]))
    start = len(slack.calls)
    bot.click("due_page", {**buttons["C0UNITA"], "channel": "C0UNITA"}, user="U0SW1")
    bot.click("due_page", {**buttons["D_U0SW1"], "channel": "D_U0SW1"}, user="U0SW1")
    slack.wait_for(2, "chat.postEphemeral")
    slack.wait_for(3)
    answers = calls_since(slack, start)
    assert sorted((m, a["channel"]) for m, a in answers) == [("chat.postEphemeral", "C0UNITA"),
                                                             ("chat.postMessage", "D_U0SW1")]
    assert all("You have no units configured" in a["text"] and "child 12" not in all_text(a) for _, a in answers)
    assert len(bot.store.access_log()) == logged


def test_peoples_words_are_forgotten_after_retention_days_and_the_record_stays(store):
    from bot.conversation import Conversation, Incoming

    old = datetime(2026, 8, 1, 10, tzinfo=LONDON)
    conversation = Conversation(store)
    conversation.message(Incoming("C0UNITA", "U0SW1", "1.0", "HV done for 123 today", old))
    conversation.message(Incoming("C0UNITA", "U0SW1", "2.0", "HV for 401 on Friday", old))  # never answered
    conversation.message(Incoming("C0UNITA", "U0SW1", "3.0", "HV done for 124 today", NOW))
    assert store.pending("C0UNITA", "2.0") is not None
    config = TEST_CONFIG.model_copy(update={"retention_days": 90})
    report = sweep(store, outbox(FakeSlack()), config, NOW, dry_run=False)
    assert report.forgotten == 2
    (visit,) = live(store, "123")
    assert (visit.event, visit.date.isoformat(), visit.posted_by, visit.text) == ("visit", "2026-08-01", "U0SW1", "")
    assert live(store, "124")[0].text == "HV done for 124 today"
    assert store.pending("C0UNITA", "2.0") is None


def test_logs_hold_no_message_text_and_no_sql_parameters(store, db_url, caplog):
    from bot.conversation import Conversation, Incoming
    from bot.logs import JsonFormatter, LineFormatter

    text = "HV done today for child 1234567890123456789012345 seen with mum"  # too long a number for the store
    with caplog.at_level("ERROR"):
        replies = Conversation(store).message(Incoming("C0UNITA", "U0SW1", "5.0", text, NOW))
    if db_url.startswith("sqlite"):  # SQLite stores any length: nothing went wrong to log
        assert "Recorded" in replies[0].text
        return
    assert "something went wrong and nothing was recorded" in replies[0].text
    (record,) = [r for r in caplog.records if r.exc_info]
    for formatter in (LineFormatter(), JsonFormatter()):
        logged = formatter.format(record)
        assert "Traceback" in logged and "DataError" in logged
        for secret in ("1234567890123456789012345", "seen with mum", "U0SW1"):
            assert secret not in logged
    assert store.engine.hide_parameters


def test_slack_libraries_never_log_their_debug_lines(monkeypatch):
    import logging

    from bot.logs import configure_logging

    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    configure_logging()
    try:
        assert logging.getLogger().level == logging.DEBUG
        for library in ("slack_sdk", "slack_bolt", "sqlalchemy"):  # their debug lines carry bodies and tokens
            assert logging.getLogger(library).getEffectiveLevel() == logging.WARNING
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_two_units_posting_about_a_new_child_at_once_cannot_both_record_it(store, db_url):
    import threading

    from bot.conversation import Conversation, Incoming

    conversation = Conversation(store)
    for n in range(15):
        child = str(70000 + n)
        barrier = threading.Barrier(2)
        replies: dict[str, list] = {}

        def post(channel: str, user: str) -> None:
            barrier.wait()
            replies[channel] = conversation.message(Incoming(channel, user, f"{n}.{channel}", f"HV done for {child} today",
                                                             NOW))

        both = [threading.Thread(target=post, args=a) for a in (("C0UNITA", "U0SW1"), ("C0UNITB", "U0SW3"))]
        for t in both:
            t.start()
        for t in both:
            t.join()
        holder = store.child_unit(child)
        loser = "C0UNITB" if holder == "unit-a" else "C0UNITA"
        assert {e.channel for e in live(store, child)} == {"C0UNITA" if holder == "unit-a" else "C0UNITB"}
        assert f"Child {child} is held by another unit" in replies[loser][0].text


def test_a_decision_is_taken_only_where_the_unit_alone_reads_it(bot, slack):
    bot.message("strategy discussion held today for 777, S47 agreed")
    slack.wait_for(1)
    text = "extension agreed for 777 ICPC to 20 Jan, SM agreed, reason: family abroad"
    bot.message(text, user="U0TM", channel="C0GENERAL")
    bot.message(text, user="U0TM", channel="G0GROUPDM", channel_type="mpim")
    refusals = slack.wait_for(2, "chat.postEphemeral")
    assert all("only in the child's unit's channel" in r["text"] and r["user"] == "U0TM" for r in refusals)
    assert bot.store.timeline("777")[1] == [] and len(slack.posted()) == 1
    bot.message(text, user="U0TM", channel="D_U0TM", channel_type="im")  # a DM: only they read the answer
    assert "Extension recorded by <@U0TM>" in slack.wait_for(2)[1]["text"]


def test_a_reminder_held_back_by_slack_is_not_sent_to_the_old_unit_after_a_transfer(store):
    from bot.conversation import Conversation, Incoming
    from store.ledger import Ledger

    slack = FakeSlack()
    try:
        conversation = Conversation(store)
        conversation.message(Incoming("C0UNITA", "U0SW1", "1.0", "strategy discussion held today for 4300, S47 agreed",
                                      NOW))
        slack.failures = [500] * 4  # Slack down for the whole of the first sweep
        tuesday = NOW + timedelta(hours=23)  # 09:00 on Tuesday: the visit is due within the hour
        first = sweep(store, outbox(slack), TEST_CONFIG, tuesday)
        assert "C0UNITA" in first.failed and Ledger(store).count("claimed") >= 1
        conversation.message(Incoming("C0UNITB", "U0SM", "2.0", "transfer 4300 to this unit", tuesday))
        assert store.child_unit("4300") == "unit-b"
        sweep(store, outbox(slack), TEST_CONFIG, tuesday + timedelta(minutes=5))
        assert not any("4300" in (m.get("text") or "") for m in slack.posted() if m["channel"] in ("C0UNITA", "U0TM"))
        assert any("4300" in (m.get("text") or "") for m in slack.posted() if m["channel"] == "C0UNITB")
    finally:
        slack.close()


def test_edits_delete_and_undo_follow_what_the_message_recorded_last(bot, slack):
    _, ts = bot.message("HV done for 123 today")
    slack.wait_for(1)

    def edit(text: str, n: int) -> None:
        bot.event({"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": f"9.{n}",
                   "event_ts": f"9.{n}", "message": {"type": "message", "user": "U0SW1", "text": text, "ts": ts},
                   "previous_message": {"type": "message", "user": "U0SW1", "text": "?", "ts": ts}})

    edit("HV done for 123 yesterday", 1)
    slack.wait_for(2)
    edit("HV done for 123 on Friday 20 Nov", 2)
    slack.wait_for(3)
    assert [e.date.isoformat() for e in live(bot.store, "123")] == ["2026-11-20"]  # one visit, the last edit's
    bot.click("undo", {"channel": "C0UNITA", "ts": ts})
    assert "Undone by <@U0SW1>" in slack.wait_for(4)[3]["text"]
    assert live(bot.store, "123") == []
    # An edit that leaves something to ask withdraws the old reading first; the answer records.
    _, ts2 = bot.message("HV done for 124 today")
    slack.wait_for(5)
    bot.event({"type": "message", "subtype": "message_changed", "channel": "C0UNITA", "ts": "9.5", "event_ts": "9.5",
               "message": {"type": "message", "user": "U0SW1", "text": "HV for 124 on Friday", "ts": ts2},
               "previous_message": {"type": "message", "user": "U0SW1", "text": "HV done for 124 today", "ts": ts2}})
    question = slack.wait_for(6)[5]
    assert live(bot.store, "124") == [] and "which date?" in question["text"]
    button = question["blocks"][1]["elements"][1]
    bot.click(button["action_id"], json.loads(button["value"]))
    assert "booked for Fri 27 Nov" in slack.wait_for(7)[6]["text"]
    assert [(e.status, e.date.isoformat()) for e in live(bot.store, "124")] == [("planned", "2026-11-27")]
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "C0UNITA", "ts": "9.6",
               "deleted_ts": ts2, "previous_message": {"type": "message", "user": "U0SW1", "ts": ts2}})
    assert "deleted" in slack.wait_for(8)[7]["text"] and live(bot.store, "124") == []


def test_a_deleted_answer_takes_back_what_it_recorded(bot, slack):
    _, ts = bot.message("No HV today")
    slack.wait_for(1)
    _, answer_ts = bot.message("it was 4321", user="U0UC", thread_ts=ts)
    slack.wait_for(2)
    assert [e.child for e in live(bot.store, "4321")] == ["4321"]
    bot.event({"type": "message", "subtype": "message_deleted", "channel": "C0UNITA", "ts": "9.7",
               "deleted_ts": answer_ts, "previous_message": {"type": "message", "user": "U0UC", "ts": answer_ts}})
    assert "deleted" in slack.wait_for(3)[2]["text"] and live(bot.store, "4321") == []


def test_the_bots_questions_quote_people_as_words(bot, slack):
    # A typed "<" reaches the bot as "&lt;"; the question quotes the unreadable date back.
    bot.message("home visit for 123 done 45th&lt;https://evil.example|the month&gt;")
    bot.message("home visit for 124 done 45th&lt;next|the month&gt;")
    questions = slack.wait_for(2)
    quoting = next(q for q in questions if "45th" in q["text"] and "the month" in q["text"])
    assert "&lt;next|the month" in quoting["text"]
    assert not any("<next|" in all_text(q) or "<https://evil" in all_text(q) for q in questions)
