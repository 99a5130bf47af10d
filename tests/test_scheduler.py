"""Reminders, escalations and agendas: sent when due, to the right people, exactly
once, through the real Slack wire (a fake Slack on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import child_sweeps
import pytest
from slack_sdk import WebClient

from bot.conversation import Conversation, Incoming
from bot.slack_app import SlackSender
from rules.calendar import LONDON
from scheduler.jobs import SWEEP_TRIGGER, SweepFailed, SweepProcess, start_scheduler
from scheduler.outbox import Outbox
from scheduler.sweep import sweep
from store.ledger import Ledger
from store.records import Store

from fake_slack import FakeSlack
from helpers import TEST_CONFIG, UNIT_A, UNIT_B

ROOT = Path(__file__).resolve().parents[1]
VISIT = "Child visited after the decision to start a Section 47 enquiry"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def slack():
    fake = FakeSlack()
    yield fake
    fake.close()


def outbox(slack: FakeSlack) -> Outbox:
    return Outbox(SlackSender(WebClient(token="xoxb-test", base_url=slack.url)), per_channel_gap=0,
                  sleep=lambda s: time.sleep(min(s, 0.05)))


def post(store: Store, text: str, when: str, user: str = "U0SW1", channel: str = "C0UNITA") -> None:
    moment = at(when)
    Conversation(store).message(Incoming(channel, user, f"{moment.timestamp():.6f}", text, moment))


def messages_to(slack: FakeSlack, recipient: str) -> list[str]:
    return [m["text"] for m in slack.posted() if m["channel"] == recipient]


def run(store: Store, slack: FakeSlack, when: str) -> dict[str, list[str]]:
    """One sweep; what each recipient got from it."""
    before = len(slack.posted())
    sweep(store, outbox(slack), TEST_CONFIG, at(when))
    got: dict[str, list[str]] = {}
    for m in slack.posted()[before:]:
        got.setdefault(m["channel"], []).append(m["text"])
    return got


def test_a_week_in_the_life_of_a_unit(store, slack):
    post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-23T10:00")
    # Monday 10:05: the weekly agenda (Monday 09:00) for each unit; no reminder for what was just recorded.
    got = run(store, slack, "2026-11-23T10:05")
    assert set(got) == {"C0UNITA", "C0UNITB"}
    assert "Unit meeting agenda, Unit A" in got["C0UNITA"][0] and "*Child 123*" in got["C0UNITA"][0]
    assert run(store, slack, "2026-11-23T16:55") == {}
    # Overnight nothing; Tuesday 08:35 the visit (due 10:00, 24 hours) is due today, in the channel only.
    assert run(store, slack, "2026-11-24T07:00") == {}
    got = run(store, slack, "2026-11-24T08:35")
    assert list(got) == ["C0UNITA"] and f"due today: child 123: {VISIT} - due Tue 24 Nov 10:00" in got["C0UNITA"][0]
    got = run(store, slack, "2026-11-24T09:05")
    assert list(got) == ["C0UNITA"] and f"due within the hour: child 123: {VISIT}" in got["C0UNITA"][0]
    # 10:05: overdue, to the channel and the team manager; nobody higher yet.
    got = run(store, slack, "2026-11-24T10:05")
    assert set(got) == {"C0UNITA", "U0TM"}
    assert all(f"OVERDUE: child 123: {VISIT}" in texts[0] for texts in got.values())
    assert run(store, slack, "2026-11-24T10:10") == {}  # a second sweep sends nothing again
    # Wednesday: the 48-hour record (3.5, due Wed 10:00) is due within the hour; each manager's daily
    # digest lists what is overdue in their units (the visit), the head of service's too.
    got = run(store, slack, "2026-11-25T09:05")
    assert "Record of the strategy discussion shared with partner agencies" in got["C0UNITA"][0]
    assert all(f"overdue: child 123: {VISIT}" in got[m][0] for m in ("U0TM", "U0SM", "U0HOS"))
    assert "OVERDUE (service manager)" not in got["U0SM"][0]
    # Thursday, the 2nd working day after the visit's due date: the service manager hears, once.
    got = run(store, slack, "2026-11-26T08:35")
    assert f"OVERDUE (service manager): child 123: {VISIT}" in got["U0SM"][0]
    assert "OVERDUE (head of service)" not in "".join(got.get("U0HOS", []))
    assert run(store, slack, "2026-11-26T12:00") == {}
    # The visit is recorded: no more about it, ever (the head of service would have heard on Tue 1 Dec).
    post(store, "HV done for 123 today", "2026-11-26T14:00")
    later = run(store, slack, "2026-12-01T09:00")
    assert VISIT not in "".join(t for texts in later.values() for t in texts)
    # Weekend: nothing at all.
    assert run(store, slack, "2026-11-28T10:00") == {}
    # Exactly once over the whole week: no ledger key was claimed twice, and each Slack message is one batch.
    batches = [m["metadata"]["event_payload"]["batch"] for m in slack.posted()]
    assert len(batches) == len(set(batches))


def test_after_a_weekend_off_one_catch_up_message_per_recipient(store, slack):
    post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-20T10:00")  # a Friday
    got = run(store, slack, "2026-11-23T08:35")  # the bot was off until Monday morning
    # One message each: the channel and team manager the escalation, the managers their daily digest.
    assert set(got) == {"C0UNITA", "U0TM", "U0SM", "U0HOS"} and all(len(texts) == 1 for texts in got.values())
    assert "OVERDUE (service manager)" not in got["U0SM"][0] and f"overdue: child 123: {VISIT}" in got["U0SM"][0]
    channel = got["C0UNITA"][0]
    assert f"OVERDUE: child 123: {VISIT}" in channel and "due within the hour" not in channel
    skipped = Ledger(store).count("skipped")
    assert skipped >= 2  # the Saturday "within the hour" and "due today" steps, never to be sent


def test_an_urgent_deadline_escalates_out_of_hours(store, slack):
    post(store, "strategy discussion held for child 321, S47 agreed", "2026-11-20T16:30")  # Friday afternoon
    assert run(store, slack, "2026-11-21T15:25") == {}  # Saturday, before the last hour
    got = run(store, slack, "2026-11-21T15:35")  # within the hour before Saturday 16:30
    assert list(got) == ["C0UNITA"] and "due within the hour" in got["C0UNITA"][0]
    got = run(store, slack, "2026-11-21T16:35")
    assert set(got) == {"C0UNITA", "U0TM"} and "OVERDUE" in got["U0TM"][0]
    # The 48-hour record is not urgent: nothing about it until Monday's working hours.
    assert "Record of the strategy discussion" not in "".join(got["C0UNITA"])


LEASE = 12  # seconds: a dead sweep's claims are taken over this soon (120 by default); the sweep that
# must find them still held starts a process and sweeps inside it, which on a loaded machine took 5 s


def two_units_overdue_since_friday(db_url: str, slack: FakeSlack, tmp_path: Path, now: str):
    """A store where both units have a visit overdue since the weekend, and the
    `timescales sweep` command (as a separate process) to run at `now`."""
    config = tmp_path / "timescales.toml"
    config.write_text(f"[reminders]\nclaim_lease_seconds = {LEASE}\n\n" + _config_toml())
    store = Store.open(db_url, TEST_CONFIG)
    store.sync_config(TEST_CONFIG)
    post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-20T10:00")
    post(store, "strategy discussion held today for child 888, S47 agreed", "2026-11-20T10:00", "U0SW3", "C0UNITB")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-test"}
    command = [sys.executable, "-m", "bot.cli", "sweep", "--db", db_url, "--config", str(config), "--now", now]
    return store, command, env


def test_two_sweeps_in_two_processes_at_the_same_instant_send_each_thing_once(db_url, slack, tmp_path):
    store, command, env = two_units_overdue_since_friday(db_url, slack, tmp_path, "2026-11-23T09:05")
    both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert [p.wait(timeout=120) for p in both] == [0, 0]
    lines = {}
    for m in slack.posted():
        for line in m["text"].splitlines():
            if "child" in line and not line.startswith("*"):
                lines.setdefault(m["channel"], []).append(line)
    assert {"C0UNITA", "C0UNITB", "U0TM", "U0TMB"} <= set(lines)
    assert all(len(v) == len(set(v)) for v in lines.values())  # nothing twice to anyone
    assert Ledger(store).count("claimed") == 0
    store.engine.dispose()


def test_slack_429_and_500_are_retried_and_delivered_once(store, slack):
    post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-23T10:00")
    run(store, slack, "2026-11-23T10:05")  # this week's agendas
    slack.failures = [429]  # one rate limit: retried after Retry-After in the same sweep
    got = run(store, slack, "2026-11-24T08:35")
    assert list(got) == ["C0UNITA"]
    # An outage longer than the sweep's four tries: after the first 500 (which Slack may have
    # posted) each try looks in the channel's history first, and that fails too.
    slack.failures = [500] * 4
    report = sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-24T09:05"))
    assert report.failed == ["C0UNITA"] and Ledger(store).count("claimed") == 1
    got = run(store, slack, "2026-11-24T09:10")  # the next sweep looks, does not find it, and sends it
    assert "due within the hour" in got["C0UNITA"][0]
    assert [m for m, _ in slack.calls[-2:]] == ["conversations.history", "chat.postMessage"]
    assert sum("due within the hour" in t for t in messages_to(slack, "C0UNITA")) == 1


def test_a_sweep_killed_mid_send_is_finished_by_the_next_without_a_duplicate(db_url, slack, tmp_path):
    store, command, env = two_units_overdue_since_friday(db_url, slack, tmp_path, "2026-11-23T08:35")
    slack.delay = 30  # Slack keeps the first message but the answer never comes back in time
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    slack.wait_for(1, timeout=30)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert len(slack.posted()) == 1 and Ledger(store).count("claimed") >= 1
    slack.delay = 0
    # Until the dead sweep's lease runs out its claims are its own: a sweep now sends none of them.
    early = subprocess.run(command[:-1] + ["2026-11-23T08:36"], env=env, capture_output=True, text=True)
    assert early.returncode == 0, early.stderr
    assert len(slack.posted()) == 1
    time.sleep(LEASE + 0.5)
    finished = subprocess.run(command[:-1] + ["2026-11-23T08:40"], env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    recipients = [m["channel"] for m in slack.posted()]
    assert sorted(recipients) == sorted(set(recipients))  # each recipient once: the first was found in history
    assert {"C0UNITA", "C0UNITB", "U0TM", "U0TMB"} <= set(recipients)
    assert Ledger(store).count("claimed") == 0
    store.engine.dispose()


def _config_toml() -> str:
    units = []
    for u in (UNIT_A, UNIT_B):
        fields = u.model_dump(exclude_none=True)
        units.append("[[units]]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in fields.items()))
    return "\n\n".join(units) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"'


@pytest.mark.parametrize("start", ["2026-10-24T23:00", "2026-03-28T23:00"])
def test_the_sweep_job_fires_every_five_minutes_across_the_clock_change(start):
    fire = at(start)
    times = []
    for _ in range(6 * 12):
        fire = SWEEP_TRIGGER.get_next_fire_time(fire, fire + timedelta(seconds=1))
        times.append(fire)
    gaps = {(b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {300.0}  # real time: never a skipped hour, never a doubled one
    assert times[-1] - times[0] == timedelta(minutes=5 * 71)


def test_a_london_cron_would_loop_on_the_october_night():
    """Why the trigger counts in UTC (see scheduler/jobs.py)."""
    from apscheduler.triggers.cron import CronTrigger

    london = CronTrigger(minute="*/5", timezone=LONDON)
    gmt_one = datetime(2026, 10, 25, 1, 0, fold=1, tzinfo=LONDON)  # the second 01:00, in GMT
    following = london.get_next_fire_time(gmt_one, gmt_one + timedelta(seconds=1))
    assert following.astimezone(UTC) < gmt_one.astimezone(UTC)  # 01:05 BST: an hour earlier


def test_each_unit_gets_its_agenda_on_its_own_meeting_day_and_the_policy_is_configurable(store, slack):
    wednesday_unit = UNIT_B.model_copy(update={"meeting_day": "wednesday", "agenda_time": "10:00"})
    config = TEST_CONFIG.model_copy(update={"units": [UNIT_A, wednesday_unit],
                                            "reminders": TEST_CONFIG.reminders.model_copy(
                                                update={"remind_working_days_before": 3})})
    post(store, "ICPC booked for 10 Dec for 555", "2026-11-30T12:00")
    before = len(slack.posted())
    sweep(store, outbox(slack), config, at("2026-12-02T09:30"))  # Wednesday 09:30: unit A's agenda (Monday's)
    got = {m["channel"]: m["text"] for m in slack.posted()[before:]}
    assert "Unit meeting agenda, Unit A" in got["C0UNITA"] and "C0UNITB" not in got
    before = len(slack.posted())
    sweep(store, outbox(slack), config, at("2026-12-02T10:00"))
    got = {m["channel"]: m["text"] for m in slack.posted()[before:]}
    assert "Unit meeting agenda, Unit B" in got["C0UNITB"]
    assert "No children recorded for this unit yet" in got["C0UNITB"]  # says why it is empty, and what to do
    assert "No children recorded" not in got.get("C0UNITA", "")
    # Report for the ICPC due 2 working days before 10 Dec (Tue 8 Dec): reminded 3 working days
    # before that (Thu 3 Dec), not 2.
    before = len(slack.posted())
    sweep(store, outbox(slack), config, at("2026-12-03T08:35"))
    assert any("due soon" in m["text"] and "child 555" in m["text"] for m in slack.posted()[before:])


def test_the_agenda_lists_every_child_flags_the_quiet_ones_and_the_decisions_to_review(store, slack):
    post(store, "strategy discussion held today for 888, S47 agreed", "2026-11-02T10:00", "U0SW3", "C0UNITB")
    post(store, "HV done for 889 today", "2026-11-20T10:00", "U0SW3", "C0UNITB")
    post(store, "ICPC for 888 set for 18 Dec by lead SW: family availability", "2026-11-20T11:00", "U0SW3", "C0UNITB")
    got = run(store, slack, "2026-11-30T09:05")  # Monday: unit B's agenda
    agenda = got["C0UNITB"][0]
    assert "*Child 888* :warning: no update for 4 weeks" in agenda
    assert "*Child 889*" in agenda and "*Child 889* :warning:" not in agenda
    assert "flexible scheme, review this week: icpc set for Fri 18 Dec by <@U0SW3>: family availability" in agenda


def test_across_the_october_clock_change_an_urgent_deadline_escalates_at_the_right_instant(store, slack):
    # Saturday 24 Oct 2026 12:00 BST: the visit within 24 hours is due Sunday 11:00 GMT (23 hours of wall clock).
    post(store, "strategy discussion held today for child 321, S47 agreed", "2026-10-24T12:00")
    assert run(store, slack, "2026-10-25T09:55") == {}  # 09:55 GMT: more than an hour to go
    got = run(store, slack, "2026-10-25T10:05")
    assert list(got) == ["C0UNITA"] and f"due within the hour: child 321: {VISIT} - due Sun 25 Oct 11:00" in got["C0UNITA"][0]
    assert run(store, slack, "2026-10-25T10:55") == {}
    got = run(store, slack, "2026-10-25T11:00")
    assert set(got) == {"C0UNITA", "U0TM"} and f"OVERDUE: child 321: {VISIT}" in got["U0TM"][0]
    # Monday 26 Oct, now GMT: nothing before 08:30 on the clock, then the day's messages.
    assert run(store, slack, "2026-10-26T08:25") == {}
    got = run(store, slack, "2026-10-26T08:30")
    assert "Record of the strategy discussion shared with partner agencies" in got["C0UNITA"][0]
    assert "Unit meeting agenda" not in "".join(got["C0UNITA"])  # the agenda is for 09:00
    got = run(store, slack, "2026-10-26T09:00")
    assert "Unit meeting agenda, Unit A" in got["C0UNITA"][0]


def test_after_the_march_clock_change_the_working_day_starts_at_half_past_eight_bst(store, slack):
    post(store, "strategy discussion held for child 654 on 19 March, S47 agreed", "2026-03-25T10:00")
    run(store, slack, "2026-03-25T10:05")  # what was already late when it was recorded
    # ICPC within 15 working days of Thu 19 Mar 2026: Mar 20 23-27 30 31 (8), Apr 1 2 (10), Good Friday 3
    # and Easter Monday 6 Apr are bank holidays, Apr 7-10 (14), Mon 13 Apr (15). Reminded 2 working days
    # before, Thu 9 Apr, from 08:30 BST (07:30 UTC), after the clocks went forward on 29 March.
    early = run(store, slack, "2026-04-09T08:25")
    assert early == {}
    got = run(store, slack, "2026-04-09T08:30")
    assert "due soon: child 654: Initial Child Protection Conference held - due Mon 13 Apr" in got["C0UNITA"][0]
    assert at("2026-04-09T08:30").utcoffset() == timedelta(hours=1)


def test_each_process_sweeps_at_start_then_every_five_minutes_and_survives_a_failed_sweep(caplog):
    done = threading.Event()

    def failing_sweep() -> str:
        done.set()
        raise RuntimeError("database went away")

    scheduled = start_scheduler(failing_sweep)
    scheduler = scheduled.scheduler
    try:
        assert done.wait(5)  # the first sweep runs at start, not at the next five-minute mark
        give_up = time.monotonic() + 5
        while "sweep failed" not in caplog.text and time.monotonic() < give_up:
            time.sleep(0.01)
        assert "sweep failed" in caplog.text
        job = scheduler.get_job("sweep")  # the failure was logged; the job stays scheduled
        assert scheduler.running and job is not None
        assert (job.trigger, job.coalesce, job.misfire_grace_time, job.max_instances) == (SWEEP_TRIGGER, True, 240, 1)
        assert job.next_run_time.minute % 5 == 0 and job.next_run_time.second == 0
    finally:
        assert scheduled.stop(5)  # no sweep left running


def test_the_bots_sweep_runs_in_a_process_of_its_own_at_a_lower_priority_and_says_what_it_did(tmp_path, caplog):
    caplog.set_level("INFO", logger="scheduler.jobs")
    ran = SweepProcess(partial(child_sweeps.where_it_ran, str(tmp_path / "ran")), preload=["child_sweeps"])
    scheduled = start_scheduler(ran)
    try:
        give_up = time.monotonic() + 30
        while "sweep finished" not in caplog.text and time.monotonic() < give_up:
            time.sleep(0.05)
    finally:
        assert scheduled.stop(30)
    pid, nice = (int(n) for n in (tmp_path / "ran").read_text().split())
    assert pid != os.getpid() and nice >= min(19, os.nice(0) + SweepProcess.NICE)
    assert "0 messages sent, 1 left for the next sweep, 0 refused by Slack" in caplog.text
    with pytest.raises(SweepFailed, match="exit code 1"):  # its traceback is logged in the child
        SweepProcess(partial(child_sweeps.broken, ""), preload=["child_sweeps"])()


def test_a_sweep_that_does_not_end_is_stopped_so_the_next_can_run(tmp_path, monkeypatch):
    monkeypatch.setattr(SweepProcess, "TIME_LIMIT", 5.0)
    stuck = SweepProcess(partial(child_sweeps.never_ends, str(tmp_path / "child")), preload=["child_sweeps"])
    began = time.monotonic()
    with pytest.raises(SweepFailed, match="had not finished after 5 s"):
        stuck()
    assert time.monotonic() - began < 30
    child = int((tmp_path / "child").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # stopped, and reaped


def test_the_sweeps_process_ends_with_the_bots_even_a_killed_one(tmp_path):
    code = ("import functools, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import child_sweeps as t; "
            "from scheduler.jobs import SweepProcess; "
            "SweepProcess(functools.partial(t.never_ends, sys.argv[3]), preload=['child_sweeps'])()")
    marker = tmp_path / "child"
    bot = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(ROOT / "tests"), str(marker)])
    try:
        give_up = time.monotonic() + 30
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < give_up and bot.poll() is None
            time.sleep(0.05)
        child = int(marker.read_text())
        os.kill(child, signal.SIGTERM)  # the signals that stop the bot are the bot's to act on
        time.sleep(0.3)
        os.kill(child, 0)  # still there
    finally:
        bot.kill()
        bot.wait()
    give_up = time.monotonic() + 10
    while time.monotonic() < give_up:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the sweep's process outlived the bot's")
