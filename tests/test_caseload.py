"""Day one (SPEC section 9): a unit's caseload imported from a CSV, and children met
mid-plan. Dates are worked out by hand from the standards; working days skip weekends
and England's bank holidays (Fri 25 and Mon 28 Dec 2026: Boxing Day falls on a Saturday;
Fri 1 Jan 2027; Good Friday 26 Mar and Easter Monday 29 Mar 2027)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from test_cli import UNIT_CONFIG
from test_delivery import outbox

from bot.conversation import Conversation, Incoming
from bot.importing import child_json, import_file
from rules.calendar import LONDON
from scheduler.sweep import sweep
from store.models import EventRecord, OutgoingMessage
from store.reports import timeliness_report

from fake_slack import FakeSlack
from helpers import TEST_CONFIG

IMPORTED_AT = datetime(2026, 12, 18, 10, 0, tzinfo=LONDON)  # a Friday

# A child on a Child Protection Plan since the ICPC on Thu 3 Sep 2026, as the case
# system has it: the last core group Fri 6 Nov, the last visit Thu 17 Dec, and the
# Review Conference booked for Thu 7 Jan 2027.
CP_EVENTS = """child,unit,lead,event,date,time,status,details
456,unit-a,U0SW1,icpc,2026-09-03,,,
456,unit-a,U0SW1,core_group,06/11/2026,,,
456,unit-a,U0SW1,visit,2026-12-17,,,
456,unit-a,U0SW1,rcpc,2027-01-07,10:00,planned,
"""
CP_CHILDREN = """child,unit,lead,icpc,core_group,visit,rcpc
456,unit-a,U0SW1,03/09/2026,2026-11-06,2026-12-17,2027-01-07
"""


def imported(store, text: str, now: datetime = IMPORTED_AT, dry_run: bool = False, unit: str | None = None):
    return import_file(store, text, unit, "cli:coordinator", now, "caseload.csv", dry_run=dry_run)


def open_by_rule(store, child: str) -> dict[str, list[tuple[date, bool]]]:
    found: dict[str, list[tuple[date, bool]]] = {}
    for d in store.child_deadlines(child):
        if d.state == "open":
            found.setdefault(d.rule, []).append((d.due, d.overdue_at_import))
    return found


def test_an_imported_child_on_a_plan_arms_only_what_is_still_to_come(store):
    result = imported(store, CP_EVENTS)
    assert result.stored and result.children == 1 and result.events == 4 and not result.problems
    due = open_by_rule(store, "456")
    # 7.2: the next core group 30 working days after the last (Fri 6 Nov): 5 a week from Mon 9
    # Nov, so the 30th is Fri 18 Dec (6 weeks to the day: both readings agree).
    assert due["core-group"] == [(date(2026, 12, 18), False)]
    # 7.3: the next visit 10 working days after Thu 17 Dec: 18, 21-24 (5), then past Christmas
    # and Boxing Day's substitute 29-31 (8), past New Year's Day Mon 4 (9), Tue 5 Jan (10).
    assert due["visits-cp-plan"] == [(date(2027, 1, 5), False)]
    # The booked Review Conference (Thu 7 Jan): 7.12's report 10 working days before, counting
    # back over New Year's Day and Christmas: 6, 5, 4 Jan, 31, 30, 29, 24, 23, 22, 21 Dec.
    assert due["rcpc-report-to-managers"] == [(date(2026, 12, 21), False)]
    # 7.14's discussion 15 working days before: five more back from 21 Dec is Mon 14 Dec,
    # before the import, with nothing in the file meeting it: overdue at import.
    assert due["rcpc-preparation-discussion"] == [(date(2026, 12, 14), True)]
    # 7.9: the first Review Conference within 3 months of the ICPC (Thu 3 Dec): overdue at import.
    assert due["rcpc"] == [(date(2026, 12, 3), True)]
    # 7.17-7.19: 8, 12 and 13 months from the plan's start (3 Sep).
    assert due["cp-plan-8-months"] == [(date(2027, 5, 3), False)]
    assert due["cp-plan-12-months"] == [(date(2027, 9, 3), False)]
    assert due["cp-plan-13-months"] == [(date(2027, 10, 3), False)]
    # Nothing before the import is met late: the first core group (due Thu 17 Sep, 10 working
    # days after the ICPC) was met by the one on 6 Nov that the file gives.
    met = [d for d in store.child_deadlines("456") if d.state == "met"]
    assert met and not any(d.late for d in met)
    assert {d["rule"] for d in result.as_json()["overdue_at_import"]} >= {"rcpc", "rcpc-preparation-discussion"}


def test_both_layouts_give_the_same_deadlines(store):
    def shape(deadlines):
        return sorted((d["rule"], d["due"], d["state"], d["overdue_at_import"]) for d in deadlines)

    by_event = imported(store, CP_EVENTS, dry_run=True)
    by_child = imported(store, CP_CHILDREN, dry_run=True)
    assert not by_event.stored and not by_child.stored and store.child_unit("456") is None
    assert shape(by_event.deadlines) == shape(by_child.deadlines) and len(by_event.deadlines) > 8
    stored = imported(store, CP_CHILDREN)
    assert shape(stored.deadlines) == shape(by_event.deadlines)


def test_a_looked_after_child_after_its_second_review_and_a_visit_over_easter(store):
    # The per-child layout with a detail column: the 2nd Looked After Review on Thu 15 Oct 2026.
    text = ("child,unit,lead,looked_after,lac_review,lac_review.sequence,visit\n"
            "457,unit-a,U0SW2,2026-03-02,2026-10-15,2,2027-03-19\n")
    result = imported(store, text, now=datetime(2027, 3, 22, 10, tzinfo=LONDON))
    assert result.stored and not result.problems
    due = open_by_rule(store, "457")
    # After the 2nd review the next is within 6 months, not the 3 months after a 1st: 11.2's "less
    # than 6 months" ends Wed 14 Apr 2027, 13.3's "less than 183 days" Thu 15 Apr; the earlier holds.
    assert due["lac-review"] == [(date(2027, 4, 14), False)]
    # 10.2: visits 4-weekly (20 working days) from the last, Fri 19 Mar 2027: four weeks is
    # Fri 16 Apr; 20 working days skip Good Friday and Easter Monday: 22-25 Mar (4), 30 Mar-2 Apr
    # (8), 5-9 (13), 12-16 (18), 19, 20 Apr (20): Tue 20 Apr. The earlier holds: Fri 16 Apr.
    assert due["visits-looked-after"] == [(date(2027, 4, 16), False)]
    # The visit of 19 Mar 2027 met 10.2's visit on the day of the move (Mon 2 Mar 2026) a year
    # late as far as the file says: the chain's "again within a week" is that past's, not armed.
    assert "visit-on-entering-care" not in due
    # 13.9: the IRO's midway review between reviews (the one before the 2nd is past, since this was
    # the 2nd): 13 weeks after 15 Oct is Thu 14 Jan 2027 (3 months, 15 Jan, is later), before the import.
    assert due["lac-midway-review"] == [(date(2027, 1, 14), True)] and "lac-midway-review-first" not in due
    about = child_json(store, "457", datetime(2027, 3, 22, 10, tzinfo=LONDON))
    assert about is not None and about["in_force"][0] == {
        "status": "looked_after", "title": "Looked after", "since": "2026-03-02", "assumed": False}
    assert about["last"]["lac_review"] == "2026-10-15" and about["lead"] == "U0SW2"


def test_a_bad_file_stores_nothing_and_names_every_problem(store):
    Conversation(store).message(Incoming("C0UNITB", "U0SW3", "1.0", "visited child 900 today",
                                         datetime(2026, 12, 17, 10, tzinfo=LONDON)))
    text = ("child,unit,lead,event,date,time,status,details\n"
            "456,unit-a,U0SW1,icpc,2026-09-03,,,\n"
            "456,unit-a,U0SW1,visit,31/11/2026,,,\n"  # line 3: no such day
            "457,unit-a,U0SW1,home_visit,2026-11-02,,,\n"  # line 4: not an event
            "458,unit-z,,visit,2026-11-02,,,\n"  # line 5: no such unit
            "459,unit-a,U0SW3,visit,2026-11-02,,,\n"  # line 6: unit B's practitioner as lead
            "900,unit-a,,visit,2026-11-02,,,\n"  # line 7: held by unit B
            "460,unit-a,,visit,2026-11-02,25:00,,\n")  # line 8: no such time
    result = imported(store, text)
    assert not result.stored
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "date"), (4, "event"), (5, "unit"), (6, "lead"), (7, "child"), (8, "time")]
    assert "'31/11/2026' is not a date" in result.problems[0].problem
    with store.session() as s:
        assert s.query(EventRecord).filter(EventRecord.child != "900").count() == 0
    assert store.child_unit("456") is None and store.child_unit("900") == "unit-b"


def test_the_same_file_twice_changes_nothing_and_a_later_one_adds_what_is_new(store):
    first = imported(store, CP_EVENTS)
    before = sorted((d.id, d.due, d.state) for d in store.child_deadlines("456"))
    again = imported(store, CP_EVENTS, now=datetime(2026, 12, 18, 11, tzinfo=LONDON))
    assert first.events == 4 and again.stored and again.events == 0
    assert sorted((d.id, d.due, d.state) for d in store.child_deadlines("456")) == before
    later = imported(store, CP_EVENTS + "456,unit-a,U0SW1,visit,2026-12-18,,,\n",
                     now=datetime(2026, 12, 18, 12, tzinfo=LONDON))
    assert later.events == 1
    # The visit on Fri 18 Dec moves the next one on: 21-24 (4), 29-31 (7), 4-6 Jan (10): Wed 6 Jan.
    assert open_by_rule(store, "456")["visits-cp-plan"] == [(date(2027, 1, 6), False)]


def test_overdue_at_import_is_listed_but_nothing_that_would_have_gone_before_is_sent(store):
    slack = FakeSlack()
    try:
        # Child 459's file gives the plan's start and nothing since: its visits (due Thu 17 Sep) were
        # overdue at import, and a recurring task is chased from the import on, never left unwatched.
        imported(store, CP_EVENTS + "459,unit-a,U0SW2,icpc,2026-09-03,,,\n")
        # The import's own sweep, and the next morning's: the discussion before the booked conference
        # (a one-off task, due 14 Dec) fell due before the bot knew: no reminder or escalation, ever.
        sweep(store, outbox(slack), TEST_CONFIG, datetime(2026, 12, 18, 10, 5, tzinfo=LONDON))
        sweep(store, outbox(slack), TEST_CONFIG, datetime(2026, 12, 21, 8, 35, tzinfo=LONDON))
        texts = [m["text"] for m in slack.posted()]
        notices = [line for t in texts if not t.startswith("*Unit meeting agenda") for line in t.splitlines()]
        assert not any("preparation for the Review" in line for line in notices)  # a one-off: never sent
        # The Review Conference recurs (every 6 months): overdue at import, it is chased from the import on.
        assert any("OVERDUE: child 456: Review Child Protection Conference - due Thu 3 Dec" in line for line in notices)
        agenda = next(t for t in texts if t.startswith("*Unit meeting agenda, Unit A"))
        assert "overdue at import: Review Child Protection Conference (due Thu 3 Dec, 7.9)" in agenda
        assert "since last week" not in agenda  # history imported is not news of the week
        with store.session() as s:
            skipped = s.query(OutgoingMessage).filter(OutgoingMessage.state == "skipped",
                                                      OutgoingMessage.deadline_id.like("456:rcpc-preparation-discussion:%")).count()
        assert skipped >= 1  # recorded as skipped, as after downtime
        # What falls due after the import is sent as usual: the core group due Fri 18 Dec.
        assert any("Core group meeting" in t for t in texts)
        # 459's visits: overdue from the first working day after the import (Mon 21 Dec), saying how late.
        chased = [line for line in notices if "child 459: Visit to a child on a Child Protection Plan" in line]
        assert chased and all("OVERDUE" in line and "late" in line for line in chased)
        assert not any("child 459: Conference decisions" in line for line in notices)  # a one-off: never
        # The managers' digest counts them on one line without listing them.
        digest = [m["text"] for m in slack.posted() if m["channel"] == "U0TM"]
        assert digest and any("already overdue when the caseload was imported" in t for t in digest)
        assert not any(":red_circle: overdue: child 456: Review Child Protection Conference" in t for t in digest)
        # And they are in the due lists, saying so.
        answer = Conversation(store).message(Incoming("C0UNITA", "U0SW1", "9.0", "what's overdue",
                                                      datetime(2026, 12, 21, 9, tzinfo=LONDON)))
        assert "already overdue when imported" in answer[0].text
    finally:
        slack.close()


def test_a_digest_with_only_what_was_overdue_at_import_says_what_it_is(store):
    """The morning of the import nothing else is overdue: the digest is the one line counting
    what was overdue when the caseload came in, headed as a digest, not "N more"."""
    slack = FakeSlack()
    try:
        imported(store, CP_EVENTS)
        sweep(store, outbox(slack), TEST_CONFIG, datetime(2026, 12, 18, 10, 5, tzinfo=LONDON))
        digest = [m["text"] for m in slack.posted() if m["channel"] == "U0TM"]
        assert len(digest) == 1 and digest[0].startswith("*Timescales: daily digest.* ")
        assert "deadlines in your units were already overdue when the caseload was imported" in digest[0]
        assert " more " not in digest[0]
    finally:
        slack.close()


def test_the_report_counts_nothing_that_fell_due_before_the_import(store):
    imported(store, CP_EVENTS)
    report = timeliness_report(store, {"unit-a": "Unit A"}, date(2026, 9, 1), date(2026, 12, 17), date(2026, 12, 18))
    assert sum(line.due for line in report.units[0].standards) == 0


def test_the_command_line_imports_checks_and_shows_a_child(tmp_path):
    config = tmp_path / "timescales.toml"
    config.write_text(UNIT_CONFIG)
    (tmp_path / "caseload.csv").write_text(CP_EVENTS.replace(",unit-a,", ",,"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env={"PYTHONPATH": str(__import__("pathlib").Path.cwd()), "PATH": ""})

    assert cli("db", "upgrade").returncode == 0
    missing_unit = cli("import", "caseload.csv", "--json")
    assert missing_unit.returncode == 1 and json.loads(missing_unit.stdout)["problems"][0]["column"] == "unit"
    dry = cli("import", "caseload.csv", "--unit", "unit-a", "--dry-run", "--now", "2026-12-18T10:00")
    assert dry.returncode == 0 and "Would import 4 new events for 1 child" in dry.stdout
    done = json.loads(cli("import", "caseload.csv", "--unit", "unit-a", "--now", "2026-12-18T10:00", "--json").stdout)
    assert done["stored"] and done["events"] == 4 and done["overdue_at_import"]
    shown = json.loads(cli("child", "456", "--json").stdout)
    assert shown["in_force"] == [{"status": "cp_plan", "title": "Child Protection Plan", "since": "2026-09-03",
                                  "assumed": False}]
    assert shown["last"]["core_group"] == "2026-11-06" and shown["last"]["visit"] == "2026-12-17"
    assert shown["lead"] == "U0SW1" and any(d["rule"] == "core-group" for d in shown["deadlines"])
    due = cli("due", "--now", "2026-12-21T09:00", "--overdue")
    assert "Review Child Protection Conference [SW, CPL] (already overdue when imported)" in due.stdout
    named = cli("child", "Sam")  # a name where the number goes: one line, no traceback, no "--child"
    assert named.returncode == 2 and named.stderr == "timescales: child 'Sam' should be the child's number " \
                                                      "(digits only, no names)\n"
    unreadable = cli("import", "nowhere.csv", "--unit", "unit-a")
    assert unreadable.returncode == 2 and unreadable.stderr.count("\n") == 1 and "cannot read" in unreadable.stderr


# -- children met mid-plan, over the wire (NOW is Mon 23 Nov 2026, 10:00) ----------------------


def test_a_core_group_for_a_child_with_no_known_plan_puts_one_in_force_and_asks_when_it_began(bot, slack):
    _, ts = bot.message("core group held 6 Nov for 456")
    (reply,) = assumed, = slack.wait_for(1)  # one message: what was recorded, then what was assumed
    # The next core group 30 working days after Fri 6 Nov (Fri 18 Dec, as 6 weeks is), and the
    # visits from it: 10 working days, Mon 9 - Fri 20 Nov.
    assert "Core group meeting - due Fri 18 Dec" in reply["text"]
    assert "Visit to a child on a Child Protection Plan - due Fri 20 Nov" in reply["text"]
    # The chronology (7.5) runs from the plan's start, which is not known: not guessed from the meeting.
    assert "Chronology of significant events updated (Child Protection Plan) - due" not in reply["text"]
    assert assumed["thread_ts"] == ts and "I have taken child 456 to be on a Child Protection Plan" in assumed["text"]
    assert "Review Child Protection Conference" in assumed["text"] and "plan started 3 Sep" in assumed["text"]
    assert child_json(bot.store, "456", datetime.now(LONDON))["in_force"][0] == {  # type: ignore[index]
        "status": "cp_plan", "title": "Child Protection Plan", "since": None, "assumed": True}
    # The answer in the thread: the plan's start, as history told after the fact. The 8-month
    # review now hangs off Thu 3 Sep (3 May 2027); the Review Conference was due Thu 3 Dec.
    bot.message("plan started 3 Sep", thread_ts=ts)
    started = slack.wait_for(2)[1]
    assert started["thread_ts"] == ts and "Child 456 on a Child Protection Plan since Thu 3 Sep" in started["text"]
    assert "reviewed by the Service Manager (8 months) - due Mon 3 May 2027" in started["text"]
    assert "Review Child Protection Conference - due Thu 3 Dec" in started["text"]
    plans = child_json(bot.store, "456", datetime.now(LONDON))["in_force"]  # type: ignore[index]
    assert plans == [{"status": "cp_plan", "title": "Child Protection Plan", "since": "2026-09-03", "assumed": False}]
    # Said at the top level too, without the started-or-ended question of before.
    bot.message("458 is on a CP plan since 3 Nov")
    said = slack.wait_for(3)[2]["text"]
    assert "Child 458 on a Child Protection Plan since Tue 3 Nov" in said and "booked" not in said


def test_a_review_conference_or_looked_after_review_goes_on_from_itself(bot, slack):
    bot.message("RCPC held today for 457")
    (reply,) = assumed, = slack.wait_for(1)
    # The next Review Conference within 6 months of Mon 23 Nov: Sun 23 May 2027 (a month count).
    assert "Review Child Protection Conference - due Sun 23 May 2027" in reply["text"]
    assert "(a review child protection conference happens only then)" in assumed["text"]
    # What the RCPC itself arms (the midway review between conferences) is not also "not tracked".
    waiting = assumed["text"].split("Until I know, I am not tracking:")[1]
    assert "Midway Oversight Review (between Review Conferences)" not in waiting
    bot.message("LAC review held today for 459")
    reply = slack.wait_for(2)[1]["text"]
    # The next review (within 3 months of a 1st, the earliest it can be), not only the 11.8 tasks.
    assert "Looked After Review - due" in reply and "2027" in reply
    assert "I have taken child 459 to be looked after" in reply
    assert "I took it to be the child's first Looked After Review" in reply


def test_a_visit_with_no_known_plan_asks_which_and_the_answer_arms_the_visits(bot, slack):
    bot.message("visited 460 yesterday")
    (recorded,) = question, = slack.wait_for(1)
    assert "No new deadlines" in recorded["text"] and "Which plan is child 460 on?" in question["text"]
    buttons = {e["text"]["text"]: json.loads(e["value"]) for b in question["blocks"] if b["type"] == "actions"
               for e in b["elements"] if e["action_id"].startswith("visit_plan_")}
    assert list(buttons) == ["Child Protection Plan", "Family Help Plan", "Looked after", "Supervision Order",
                             "None of these"]
    # Someone outside the unit cannot answer it.
    bot.click("visit_plan_0", {**buttons["Child Protection Plan"], "channel": "C0UNITA"}, user="U0SW3")
    (refused,) = slack.wait_for(1, "chat.postEphemeral")
    assert refused["user"] == "U0SW3"
    assert child_json(bot.store, "460", datetime.now(LONDON))["in_force"] == []  # type: ignore[index]
    bot.click("visit_plan_0", {**buttons["Child Protection Plan"], "channel": "C0UNITA"}, user="U0SW2")
    answer = slack.wait_for(2)[1]["text"]
    # From the visit on Sun 22 Nov: 10 working days, Mon 23 Nov - Fri 4 Dec.
    assert "answered" not in answer and "posted by <@U0SW2>" in answer
    assert "Visit to a child on a Child Protection Plan - due Fri 4 Dec" in answer
    visits = [e for e in bot.store.timeline("460")[0] if e.event == "visit"]
    assert [e.posted_by for e in visits] == ["U0SW1", "U0SW2"] and visits[1].supersedes == visits[0].id


def test_a_caseload_shared_in_the_channel_is_checked_then_imported_on_confirm(bot, slack):
    file = slack.share_file("C0UNITA", "caseload.csv", CP_EVENTS.encode(), "U0UC")
    # Someone from another unit cannot import into this one.
    bot.message("import caseload", user="U0SW3", subtype="file_share", files=[file])
    assert slack.wait_for(1, "chat.postEphemeral")[0]["user"] == "U0SW3"
    _, ts = bot.message("please import caseload", user="U0UC", subtype="file_share", files=[file])
    (checked,) = slack.wait_for(1)
    assert checked["thread_ts"] == ts and "Would import 4 new events for 1 child" in checked["text"]
    assert bot.store.child_unit("456") is None  # nothing stored before Confirm
    (confirm,) = [e for b in checked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    bot.click("import_confirm", {**json.loads(confirm["value"]), "channel": "C0UNITA"}, user="U0SW3")
    assert len(slack.wait_for(2, "chat.postEphemeral")) == 2 and bot.store.child_unit("456") is None
    bot.click("import_confirm", {**json.loads(confirm["value"]), "channel": "C0UNITA"}, user="U0UC")
    done = slack.wait_for(2)[1]
    assert done["thread_ts"] == ts and "Confirmed by <@U0UC>. Imported 4 new events for 1 child" in done["text"]
    assert bot.store.child_unit("456") == "unit-a"
    # The slash command finds the newest CSV in the channel: the same file, nothing new.
    bot.command("import", user="U0UC")
    (answer,) = slack.wait_for(1, "response_url")
    assert "nothing new" in answer["text"]


@pytest.mark.parametrize("failure", [429, 500, "drop"])
def test_a_caseload_slack_will_not_give_for_now_is_not_imported_and_a_later_try_is(bot, slack, failure):
    """The download of a shared CSV refused (429 with Retry-After, 500) or cut off half-way:
    asked for once more, then the person is told so in a line, and nothing is stored (a file
    cut short is never read as the caseload); trying again later imports it."""
    file = slack.share_file("C0UNITA", "caseload.csv", CP_EVENTS.encode(), "U0UC")
    slack.download_failures = [failure] * 2
    _, ts = bot.message("please import caseload", user="U0UC", subtype="file_share", files=[file])
    (told,) = slack.wait_for(1)
    assert told["thread_ts"] == ts and told["text"].startswith("I couldn't download caseload.csv just now")
    assert "nothing is imported" in told["text"] and len(told["text"]) < 200
    assert not [b for b in told.get("blocks") or [] if b["type"] == "actions"]  # no Confirm for what was not read
    assert [answer for _, answer in slack.downloads] == [failure] * 2 and bot.store.child_unit("456") is None

    slack.failures = [429 if failure == 429 else 500]  # /timescales import: the channel's files not listed
    bot.command("import", user="U0UC")
    (listed,) = slack.wait_for(1, "response_url")
    assert listed["text"].startswith("I couldn't download the newest CSV just now") and slack.failures == []
    bot.command("import", user="U0UC")  # later: given
    (_, checked) = slack.wait_for(2, "response_url")
    assert "Would import 4 new events for 1 child" in checked["text"]
    (confirm,) = [e for b in checked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    slack.download_failures = [failure] * 2  # the Confirm's own download refused: nothing stored yet
    bot.click("import_confirm", {**json.loads(confirm["value"]), "channel": "C0UNITA"}, user="U0UC")
    (again,) = slack.wait_for(1, "chat.postEphemeral")
    assert again["user"] == "U0UC" and "nothing is imported" in again["text"] and "Confirm import again" in again["text"]
    assert bot.store.child_unit("456") is None
    slack.download_failures = [failure]  # refused once, then given to the second try
    bot.click("import_confirm", {**json.loads(confirm["value"]), "channel": "C0UNITA"}, user="U0UC")
    (done,) = slack.wait_for(2)[1:]
    assert "Confirmed by <@U0UC>. Imported 4 new events for 1 child" in done["text"]
    assert bot.store.child_unit("456") == "unit-a" and len(bot.store.timeline("456")[0]) == 4
    assert [answer for _, answer in slack.downloads][2:] == [200, failure, failure, failure, 200]


def test_a_caseload_slack_will_never_give_or_too_big_to_be_one_is_answered_with_why(bot, slack):
    """What no second try can read (the file deleted: file_not_found; larger than any unit's
    caseload) is named in the answer, so the person knows what to share instead; nothing is
    stored, and no Confirm is offered for it."""
    big = slack.share_file("C0UNITA", "everything.csv", b"child,unit\n" + b"4" * 5_000_001, "U0UC")
    _, ts = bot.message("import caseload", user="U0UC", subtype="file_share", files=[big])
    (told,) = slack.wait_for(1)
    assert told["thread_ts"] == ts and told["text"].startswith(
        "I couldn't read everything.csv: it is larger than 5 MB, more than any unit's caseload, so nothing is imported")
    assert not [b for b in told.get("blocks") or [] if b["type"] == "actions"]

    file = slack.share_file("C0UNITA", "caseload.csv", CP_EVENTS.encode(), "U0UC")
    _, ts = bot.message("import caseload", user="U0UC", subtype="file_share", files=[file])
    (checked,) = slack.wait_for(2)[1:]
    (confirm,) = [e for b in checked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    del slack.shared[file["id"]]  # deleted from Slack before Confirm
    bot.click("import_confirm", {**json.loads(confirm["value"]), "channel": "C0UNITA"}, user="U0UC")
    (gone,) = slack.wait_for(3)[2:]
    assert gone["thread_ts"] == ts and gone["text"].startswith(
        "I couldn't read caseload.csv: Slack would not give it to me (file_not_found), so nothing is imported")
    assert "share it in this channel" in gone["text"] and bot.store.child_unit("456") is None
    bot.message("import caseload", user="U0UC", subtype="file_share", files=[file])
    assert "Slack would not give it to me (file_not_found)" in slack.wait_for(4)[3]["text"]


def test_a_file_as_spreadsheets_save_it_is_read_and_its_slips_are_named(store):
    # Excel in a comma-decimal locale: semicolons, Windows line ends, empty trailing columns,
    # the Windows encoding (a café's é in the details), a date-time at midnight, short years.
    saved = ("CHILD;UNIT;LEAD;EVENT;DATE;TIME;STATUS;DETAILS;;\r\n"
             "456;unit-a;U0SW1;icpc;3/9/2026 00:00;;;note=café;;\r\n"
             "456;unit-a;U0SW1;core_group;2026-11-6;9:30;;;;\r\n"
             "456;unit-a;U0SW1;visit;17/12/26;;;;;\r\n").encode("cp1252")
    from rules.caseload import decode
    result = imported(store, decode(saved))
    assert result.stored and not result.problems and result.events == 3
    assert open_by_rule(store, "456")["core-group"] == [(date(2026, 12, 18), False)]  # as from CP_EVENTS
    slips = ("child,unit,lead,event,date,time,status,details\n"
             "0457,unit-a,,visit,2026-11-02,,,\n"
             "457,unit-a,,lac_review,2026-11-02,,,sequence=two\n"  # line 3: 0457 again? and not a number
             "458,unit-a,,rcpc,2026-12-01,,planned,\n"  # line 4: booked, but the day has passed
             "459,unit-a,,visit,12/03/1926,,,\n")  # line 5: a slip of the year
    bad = imported(store, slips)
    assert not bad.stored and [(p.row, p.column) for p in bad.problems] == [
        (3, "child"), (3, "details"), (4, "status"), (5, "date")]
    # The same review again with a detail or time the first did not give is the same review.
    assert imported(store, CP_EVENTS).events == 1  # the booked Review Conference is new
    again = imported(store, CP_EVENTS.replace("2027-01-07,10:00,planned", "2027-01-07,14:00,planned"))
    assert again.stored and again.events == 0
