"""How timely the work was (SPEC section 11): a history built by hand with known outcomes
(on time, late, missed, cancelled, across two units), checked number by number in JSON
and CSV; the picture; the Slack answer with its upload; an outsider; the monthly report
sent once across two sweeps."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

from test_delivery import outbox

from rules.calendar import LONDON
from scheduler.sweep import sweep
from store.records import NewEvent, Posting, Store
from store.reports import timeliness_report

from fake_slack import FakeSlack
from helpers import TEST_CONFIG

ROOT = Path(__file__).resolve().parents[1]
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
TODAY = date(2026, 12, 1)


def record(store: Store, unit: str, channel: str, child: str, *events: NewEvent) -> None:
    store.record(Posting(unit, channel, f"{child}.history", "U0SW1" if unit == "unit-a" else "U0SW3",
                         datetime(2026, 9, 1, 9, tzinfo=LONDON), "history"), list(events))


def strategy(child: str) -> NewEvent:  # Mon 2 Nov 2026: ICPC due 15 working days on, Mon 23 Nov
    return NewEvent(child, "strategy_discussion", date(2026, 11, 2), time=time(10), details={"s47": True})


def history(store: Store) -> None:
    a, b = ("unit-a", "C0UNITA"), ("unit-b", "C0UNITB")
    record(store, *a, "601", strategy("601"), NewEvent("601", "icpc", date(2026, 11, 20)))  # on time
    record(store, *a, "602", strategy("602"), NewEvent("602", "icpc", date(2026, 11, 25)))  # 2 working days late
    record(store, *a, "603", strategy("603"))  # missed: 6 working days late on Tue 1 Dec
    record(store, *a, "604", strategy("604"), NewEvent("604", "case_closed", date(2026, 11, 10)))  # cancelled
    # Referred Tue 1 Sep: assessment due within 45 working days, Tue 3 Nov; completed Tue 10 Nov, late.
    record(store, *a, "605", NewEvent("605", "referral_received", date(2026, 9, 1)),
           NewEvent("605", "assessment_completed", date(2026, 11, 10), details={"fh_plan": False}))
    # On a plan from Mon 2 Nov: visits due Mon 16 Nov (seen Fri 13) then Fri 27 Nov (not seen: missed).
    record(store, *a, "606", NewEvent("606", "icpc", date(2026, 11, 2)), NewEvent("606", "visit", date(2026, 11, 13)))
    # ...and one seen Fri 13 Nov and Thu 26 Nov: every visit on time.
    record(store, *a, "607", NewEvent("607", "icpc", date(2026, 11, 2)), NewEvent("607", "visit", date(2026, 11, 13)),
           NewEvent("607", "visit", date(2026, 11, 26)))
    record(store, *b, "701", strategy("701"), NewEvent("701", "icpc", date(2026, 11, 19)))  # unit B: on time


def line(report_json: dict, unit: str, rule: str) -> dict:
    units = {u["unit"]: u for u in report_json["units"]}
    return next(s for s in units[unit]["standards"] if s["rule"] == rule)


def measure(report_json: dict, unit: str, name: str) -> dict:
    units = {u["unit"]: u for u in report_json["units"]}
    return next(m for m in units[unit]["measures"] if m["measure"] == name)


def test_a_month_counted_number_by_number(store):
    history(store)
    visits = sorted((d.child, d.due.isoformat(), d.state) for c in ("606", "607")
                    for d in store.child_deadlines(c) if d.rule == "visits-cp-plan")
    assert ("606", "2026-11-16", "met") in visits and ("606", "2026-11-27", "open") in visits
    assert ("607", "2026-11-27", "met") in visits
    report = timeliness_report(store, {"unit-a": "Unit A", "unit-b": "Unit B"}, *NOVEMBER, TODAY).as_json()
    assert (report["from"], report["to"]) == ("2026-11-01", "2026-11-30")
    icpc = line(report, "unit-a", "icpc")
    assert (icpc["standard"], icpc["due"], icpc["on_time"], icpc["late"], icpc["missed"]) == ("6.1", 3, 1, 1, 1)
    assert icpc["on_time_pct"] == 33.3 and icpc["median_days_late"] == 4  # median of 2 and 6 working days
    assert line(report, "unit-a", "wt-icpc")["due"] == 3  # the cancelled one (604) is not counted
    assessment = line(report, "unit-a", "wt-assessment")
    assert (assessment["due"], assessment["late"], assessment["median_days_late"]) == (1, 1, 5)
    assert line(report, "unit-b", "icpc") == {**line(report, "unit-b", "icpc"), "due": 1, "on_time": 1,
                                              "on_time_pct": 100.0, "median_days_late": None}
    assert measure(report, "unit-a", "icpc_within_15_working_days") == {
        "measure": "icpc_within_15_working_days", "numerator": 1, "denominator": 2,
        "title": "Initial Child Protection Conferences held within 15 working days of the strategy discussion"}
    assert (measure(report, "unit-a", "assessments_within_45_working_days")["numerator"],
            measure(report, "unit-a", "assessments_within_45_working_days")["denominator"]) == (0, 1)
    visited = measure(report, "unit-a", "cp_children_visited_within_timescale")
    assert (visited["numerator"], visited["denominator"]) == (1, 2)  # 607 yes, 606 no
    assert measure(report, "unit-b", "icpc_within_15_working_days")["numerator"] == 1


def test_the_command_gives_json_csv_and_a_picture(store, db_url, tmp_path):
    history(store)
    (tmp_path / "timescales.toml").write_text(_config())

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "report", "--db", db_url, "--now", "2026-12-01T09:00",
                               *args], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})

    shown = report("--json", "--png", "report.png")
    assert shown.returncode == 0, shown.stderr
    assert line(json.loads(shown.stdout), "unit-a", "icpc")["missed"] == 1
    picture = (tmp_path / "report.png").read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < len(picture) < 400_000
    width, height = int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")
    assert (width, height) == (1500, 900)
    rows = list(csv.DictReader(io.StringIO(report("--csv", "--unit", "unit-a").stdout)))
    icpc = next(r for r in rows if r["rule"] == "icpc")
    assert (icpc["due"], icpc["on_time"], icpc["late"], icpc["missed"], icpc["on_time_pct"]) == ("3", "1", "1", "1",
                                                                                                 "33.3")
    assert {r["unit"] for r in rows} == {"unit-a"}
    table = report("--unit", "unit-a")
    assert "Unit A: how timely, November 2026" in table.stdout and "6.1 Initial Child Protection Conference held: " \
        "33% on time (1 of 3; 1 late, 1 missed, median 4 working days late)" in table.stdout
    bad = report("--from", "2026-12-01", "--to", "2026-11-01")
    assert bad.returncode == 2 and bad.stderr.strip() == "timescales: --to is before --from"


def _config() -> str:
    from test_scheduler import _config_toml

    return _config_toml()


def test_how_are_we_doing_in_slack_answers_about_the_askers_units_with_the_picture(bot, slack):
    history(bot.store)
    bot.message("how are we doing on ICPCs this month?", user="U0TM")
    uploaded = slack.wait_for(1, "files.completeUploadExternal", timeout=20)
    assert uploaded and uploaded[0]["channel_id"] == "C0UNITA"
    (comment,) = [c for c in slack.uploads if c["channel"] == "C0UNITA"]
    assert "Unit A: how timely" in comment["initial_comment"] and "Initial Child Protection" in comment["initial_comment"]
    assert comment["data"][:8] == b"\x89PNG\r\n\x1a\n"
    bot.message("how are we doing?", user="U0STRANGER", channel="D_U0STRANGER", channel_type="im")
    refused = slack.wait_for(1)
    assert "no units configured" in refused[0]["text"] and "Unit A" not in json.dumps(refused)
    assert [r.via for r in bot.store.access_log(user="U0TM")] == ["report"]


def test_managers_get_last_months_report_on_the_first_working_day_once(store):
    history(store)
    slack = FakeSlack()
    try:
        for when in ("2026-12-01T08:35", "2026-12-01T09:05"):  # Tue 1 Dec: the first working day of December
            sweep(store, outbox(slack), TEST_CONFIG, datetime.fromisoformat(when).replace(tzinfo=LONDON))
        reports = [u for u in slack.uploads if "how timely, November 2026" in u["initial_comment"]]
        assert sorted(u["channel"] for u in reports) == ["D_U0HOS", "D_U0SM"]  # once each
        assert all("Unit A" in u["initial_comment"] and "Unit B" in u["initial_comment"] for u in reports)
    finally:
        slack.close()


def test_the_slash_command_answers_only_the_asker_and_sends_the_picture_to_their_dm(bot, slack):
    history(bot.store)
    bot.command("report month", user="U0SM", channel="C0GENERAL")
    (answer,) = slack.wait_for(1, "response_url")
    assert answer["response_type"] == "ephemeral" and "Unit A: how timely, October 2026" in answer["text"]
    slack.wait_for(1, "files.completeUploadExternal")
    (picture,) = slack.uploads
    assert picture["channel"] == "D_U0SM" and picture["data"][:4] == b"\x89PNG"
