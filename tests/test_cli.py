"""The command line: SPEC section 5 shapes, and one clear line for bad input."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def timescales(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=60, input=stdin)


def test_deadlines_json_for_the_spec_example(tmp_path):
    out = timescales("deadlines", "--event", "strategy_discussion", "--at", "2026-11-23T10:00",
                     "--detail", "s47=true", "--child", "123", "--now", "2026-11-23T11:00", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    deadlines = json.loads(out.stdout)
    icpc = next(d for d in deadlines if d["standard"] == "6.1")
    assert icpc["due"] == "2026-12-14" and icpc["child"] == "123" and icpc["state"] == "open"
    assert icpc["source"] == "Hackney Practice Standards 2026" and icpc["responsible"] == ["SW", "CPL"]
    visit = next(d for d in deadlines if d["standard"] == "5.1")
    assert visit["due_at"] == "2026-11-24T10:00:00+00:00"


def test_deadlines_for_a_planned_meeting(tmp_path):
    out = timescales("deadlines", "--event", "icpc", "--status", "planned", "--at", "2026-12-14",
                     "--now", "2026-12-01", "--json", cwd=tmp_path)
    assert {d["standard"]: d["due"] for d in json.loads(out.stdout)} == {"6.6": "2026-12-10", "6.7": "2026-12-09"}


def test_rules_json_lists_every_rule_with_its_citation(tmp_path):
    rows = json.loads(timescales("rules", "--json", cwd=tmp_path).stdout)
    assert len(rows) > 80
    row = next(r for r in rows if r["id"] == "core-group")
    assert row["standard"] == "7.2"
    assert row["timescale"] == "10 working days, then 6 weeks or 30 working days, whichever is earlier, repeating"
    assert row["responsible"] == ["SW"]
    # a rule lists every point it encodes: a manager searching for 13.3 finds the Looked After Review (issue 17)
    lac = next(r for r in rows if r["id"] == "lac-review")
    assert lac["points"] == ["10.3", "11.2", "13.1", "13.2", "13.3"]
    assert [r["id"] for r in rows if "13.3" in r["points"]] == ["lac-review"]
    text = timescales("rules", cwd=tmp_path).stdout
    assert "10.3         Looked After Review (also 11.2, 13.1, 13.2, 13.3)" in text


HISTORY = """child,unit,lead,event,date,time,status,details
1200,,,strategy_discussion,2027-03-22,10:00,,s47=true
1200,,,icpc,09/04/2027,,,
,,,core_group,2027-04-23,,done,
"""


def test_deadlines_over_a_whole_history_from_a_csv(tmp_path):
    # SPEC section 5: one child's history in the one-row-per-event layout of section 9 (child may be empty).
    (tmp_path / "history.csv").write_text(HISTORY)
    out = timescales("deadlines", "--history", "history.csv", "--now", "2027-04-26T09:00", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    deadlines = json.loads(out.stdout)
    assert {d["child"] for d in deadlines} == {"1200"}
    by_standard = {}
    for d in deadlines:
        by_standard.setdefault(d["standard"], []).append((d["due"], d["state"]))
    # ICPC: 15 WD from Mon 22 Mar 2027: 23 24 25(3) [26 Good Friday, 29 Easter Monday] 30 31(5) Apr 1 2(7)
    # 5-9(12) 12 13 14(15) = Wed 14 Apr; held Fri 9 Apr, on time.
    assert by_standard["6.1"] == [("2027-04-14", "met")]
    # First core group 10 WD from Fri 9 Apr: 12-16(5) 19-23(10) = Fri 23 Apr, met that day; the next is 6 weeks
    # on (Fri 4 Jun) or 30 WD: Apr 26-30(5) [3 May] 4-7(9) 10-14(14) 17-21(19) 24-28(24) [31 May] Jun 1-4(28)
    # 7 8(30) = Tue 8 Jun: the earlier holds.
    assert by_standard["7.2"] == [("2027-04-23", "met"), ("2027-06-04", "open")]
    text = timescales("deadlines", "--history", "history.csv", "--now", "2027-04-26T09:00", cwd=tmp_path)
    assert "Fri 4 Jun 2027" in text.stdout and "Core group meeting" in text.stdout


def test_a_history_with_problems_lists_each_with_its_row_and_stores_nothing(tmp_path):
    (tmp_path / "bad.csv").write_text("child,event,date,details\n1200,visit,31/11/2026,\n1201,strategy_meeting,"
                                      "2026-11-23,s47\n")
    out = timescales("deadlines", "--history", "bad.csv", "--json", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert "row 2, date: '31/11/2026' is not a date" in out.stderr
    assert "row 3, event: unknown event 'strategy_meeting'" in out.stderr
    assert "row 3, details: 's47' should look like key=value" in out.stderr
    assert "the history is of one child; it names 2: 1200, 1201" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["deadlines", "--event", "strategy_meeting", "--at", "2026-11-23"], "unknown event 'strategy_meeting'"),
        (["deadlines", "--event", "visit", "--at", "23/11/2026"], "--at '23/11/2026' is not an ISO 8601"),
        (["deadlines", "--at", "2026-11-23"], "give --event NAME --at ISO (one event), or --history FILE"),
        (["deadlines", "--history", "nope.csv"], "--history nope.csv: No such file or directory"),
        (["deadlines", "--event", "visit", "--at", "2026-11-23", "--detail", "s47"], "KEY=VALUE"),
        (["deadlines", "--event", "visit", "--at", "2026-11-23", "--child", "Jane"], "digits only"),
        (["deadlines", "--event", "icpc", "--at", "2040-01-02"], "outside the years the calendar knows"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_gets_one_line_and_no_traceback(tmp_path, args, says):
    out = timescales(*args, cwd=tmp_path)
    assert out.returncode != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_a_broken_config_file_is_named_in_one_line(tmp_path):
    (tmp_path / "timescales.toml").write_text('working_hours = ["17:00", "08:30"]\n')
    out = timescales("rules", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == ("timescales: timescales.toml: field 'working_hours': Value error, expected two "
                                  'times like ["08:30", "17:00"], start before end')


def test_extra_bank_holidays_from_the_config_move_deadlines(tmp_path):
    (tmp_path / "timescales.toml").write_text('extra_bank_holidays = ["2026-12-01"]\n')
    out = timescales("deadlines", "--event", "strategy_discussion", "--at", "2026-11-23", "--detail", "s47=true",
                     "--json", "--now", "2026-11-23T12:00", cwd=tmp_path)
    assert {d["standard"]: d["due"] for d in json.loads(out.stdout)}["6.1"] == "2026-12-15"


def test_run_without_tokens_says_so_in_one_line_and_opens_the_chat(tmp_path):
    env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": ""}
    out = timescales("run", "--now", "2026-11-23T10:00", cwd=tmp_path, env=env,
                     stdin="strategy discussion held today for child 123, S47 agreed\nwhat's due this week\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("No SLACK_BOT_TOKEN / SLACK_APP_TOKEN set")
    assert "demo unit" in lines[1]
    assert "Strategy discussion for child 123, done Mon 23 Nov (s47: yes)" in out.stdout
    assert "child 123: Child visited after the decision to start a Section 47 enquiry - due Tue 24 Nov 10:00" in out.stdout
    assert "[#C0DEMO] Unit meeting agenda, Demo unit" in out.stdout  # the scheduler runs in the chat too
    assert "*" not in out.stdout and "<@" not in out.stdout  # shown for a terminal, no raw Slack markup
    assert (tmp_path / "timescales.db").exists()
    # What the demo chat stored, `due` lists (with no config, the demo unit is the one there is).
    due = timescales("due", "--now", "2026-11-23T12:00", "--to", "2026-12-31", cwd=tmp_path)
    assert due.returncode == 0 and "child 123" in due.stdout and "Initial Child Protection Conference" in due.stdout


def test_serve_without_tokens_is_one_line(tmp_path):
    out = timescales("serve", "--port", "0", cwd=tmp_path, env={"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": ""})
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in out.stderr


UNIT_CONFIG = """
[[units]]
id = "unit-a"
name = "Unit A"
channel = "C0UNITA"
team_manager = "U0TM"
service_manager = "U0SM"
head_of_service = "U0HOS"
coordinator = "U0UC"
practitioners = ["U0SW1"]
"""


def test_due_refuses_a_database_without_the_schema_then_works_after_upgrade(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    refused = timescales("due", cwd=tmp_path)
    assert refused.returncode == 2 and "run 'timescales db upgrade'" in refused.stderr
    from store.db import head_revision

    upgraded = timescales("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0 and f"schema none -> {head_revision()}" in upgraded.stdout
    assert "config: added unit unit-a (Unit A)" in upgraded.stdout
    again = timescales("db", "upgrade", cwd=tmp_path)
    assert f"already at {head_revision()}" in again.stdout and "config:" not in again.stdout
    assert json.loads(timescales("due", "--json", cwd=tmp_path).stdout) == []


def test_due_and_export_read_what_the_store_holds(tmp_path):
    from datetime import date, datetime

    from rules.calendar import LONDON
    from rules.config import load_config
    from store.records import NewEvent, Posting, Store

    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    config = load_config(tmp_path / "timescales.toml")
    store = Store.open(f"sqlite:///{tmp_path / 'timescales.db'}", config)
    store.record(Posting("unit-a", "C0UNITA", "1.0", "U0SW1", datetime(2026, 11, 23, 15, tzinfo=LONDON), "strat"),
                 [NewEvent("123", "strategy_discussion", date(2026, 11, 23), details={"s47": True})])
    store.engine.dispose()
    due = json.loads(timescales("due", "--unit", "unit-a", "--now", "2026-11-25T09:00", "--json", cwd=tmp_path).stdout)
    # no time given, posted 15:00 the same day: the visit was due Tue 15:00, the record is due Wed 15:00
    assert {d["standard"]: d["state"] for d in due} == {"5.1": "overdue", "3.5": "open"}
    window = timescales("due", "--from", "2026-12-01", "--to", "2026-12-31", "--now", "2026-11-23T16:00",
                        cwd=tmp_path).stdout
    assert "Mon 14 Dec 2026" in window and "child 123" in window
    export = timescales("export", "--child", "123", cwd=tmp_path).stdout
    assert export.splitlines()[1].startswith("event,123,1,strategy_discussion,done,2026-11-23,U0SW1")
    bad = timescales("due", "--from", "2026-12-31", "--to", "2026-12-01", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "timescales: --to is before --from"
    # Each list shown on the terminal is in the access log, as any shown in Slack is: who ran it, the children.
    store = Store.open(f"sqlite:///{tmp_path / 'timescales.db'}", config)
    logged = [(r.user_id, r.via, r.units, r.shown) for r in store.access_log()]
    store.engine.dispose()
    ran = f"cli:{getpass.getuser()}"
    assert logged == [(ran, "cli", ["unit-a"], ["123"]), (ran, "cli", ["unit-a"], ["123"]),
                      (ran, "export", ["unit-a"], ["123"])]


def test_db_upgrade_after_a_bank_holiday_is_added_works_the_deadlines_out_again(tmp_path):
    from datetime import date, datetime

    from rules.calendar import LONDON
    from rules.config import load_config
    from store.records import NewEvent, Posting, Store

    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'timescales.db'}", load_config(tmp_path / "timescales.toml"))
    store.record(Posting("unit-a", "C0UNITA", "1.0", "U0SW1", datetime(2026, 11, 23, 15, tzinfo=LONDON), "strat"),
                 [NewEvent("123", "strategy_discussion", date(2026, 11, 23), details={"s47": True})])
    store.engine.dispose()
    (tmp_path / "timescales.toml").write_text('extra_bank_holidays = ["2026-12-01"]\n' + UNIT_CONFIG)
    upgraded = timescales("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "deadlines: worked out again for 1 child (the rules in force or the bank holidays changed)" in upgraded.stdout
    due = json.loads(timescales("due", "--from", "2026-12-01", "--to", "2026-12-31", "--now", "2026-11-23T16:00",
                                "--json", cwd=tmp_path).stdout)
    assert {d["standard"]: d["due"] for d in due}["6.1"] == "2026-12-15"  # a working day later than Mon 14 Dec
    assert "deadlines:" not in timescales("db", "upgrade", cwd=tmp_path).stdout


def test_an_unreachable_database_is_one_line(tmp_path):
    out = timescales("due", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timescales: cannot use the database: connection"), out.stderr


def test_export_refuses_a_unit_not_in_the_config(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    out = timescales("export", "--unit", "unit-z", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip() == (
        "timescales: --unit 'unit-z' is not in timescales.toml (units: unit-a)")


def _members(tmp_path: Path) -> set[tuple[str, str, str]]:
    import sqlite3

    with sqlite3.connect(tmp_path / "timescales.db") as db:
        return set(db.execute("select unit_id, user_id, role from unit_members"))


def test_a_mistyped_or_missing_config_refuses_and_never_empties_the_units(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    members = _members(tmp_path)
    assert ("unit-a", "U0TM", "team_manager") in members
    typo = timescales("due", cwd=tmp_path, env={"TIMESCALES_CONFIG": str(tmp_path / "timescale.toml")})
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr.strip() == f"timescales: cannot read {tmp_path / 'timescale.toml'}: No such file or directory"
    (tmp_path / "timescales.toml").rename(tmp_path / "elsewhere.toml")
    for args in (["due"], ["export", "--unit", "unit-a"], ["sweep", "--dry-run"]):
        out = timescales(*args, cwd=tmp_path)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        assert "timescales.toml not found, and the database holds units (unit-a)" in out.stderr
    upgraded = timescales("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0 and "units and people are left as they are" in upgraded.stdout
    assert _members(tmp_path) == members
    assert json.loads(timescales("due", "--json", "--config", "elsewhere.toml", cwd=tmp_path).stdout) == []


def test_a_config_edited_without_db_upgrade_is_pointed_out(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG.replace('["U0SW1"]', '["U0SW1", "U0SW9"]'))
    out = timescales("due", "--json", cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout) == []
    assert "differs from the units and people in the database: run 'timescales db upgrade'" in out.stderr
    assert ("unit-a", "U0SW9", "practitioner") not in _members(tmp_path)


@pytest.mark.parametrize(("line", "field"), [
    ('channel = "C0UNITA"', 'channel = "#unit-a"'),
    ('team_manager = "U0TM"', 'team_manager = "Jo Bloggs"'),
    ('practitioners = ["U0SW1"]', 'practitioners = ["U0SW1", "sam@council.gov.uk"]'),
])
def test_slack_ids_are_checked_for_their_shape_with_the_field_named(tmp_path, line, field):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG.replace(line, field))
    out = timescales("db", "upgrade", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    name = field.split(" =")[0]
    assert f"field 'units.0.{name}" in out.stderr and "Slack" in out.stderr and "id like" in out.stderr


def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    timescales("chat", "--now", "2026-11-23T10:00", cwd=tmp_path, stdin="HV done for 123 today\n")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("timescales.db")]
    assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files), [(p, oct(p.stat().st_mode)) for p in files]


def test_exports_are_in_the_access_log(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    timescales("chat", "--now", "2026-11-23T10:00", cwd=tmp_path,
               stdin="strategy discussion held today for 123, S47 agreed\nHV done for 124 today\n"
                     "what's due this week\n")
    assert timescales("export", "--unit", "unit-a", cwd=tmp_path).returncode == 0
    assert timescales("export", "--child", "１２３", cwd=tmp_path).returncode == 0
    log = json.loads(timescales("access-log", "--json", cwd=tmp_path).stdout)
    assert [(e["via"], e["units"], e["child"], e["children"]) for e in log] == [
        ("channel", ["unit-a"], None, 1), ("export", ["unit-a"], None, 2), ("export", ["unit-a"], "123", 1)]
    assert set(log[0]) == {"at", "user", "via", "units", "child", "children"}
    assert log[1]["user"].startswith("cli:") and log[0]["user"] == "U0SW1"
    only = json.loads(timescales("access-log", "--child", "124", "--json", cwd=tmp_path).stdout)
    assert [e["via"] for e in only] == ["export"]
    bad = timescales("access-log", "--from", "yesterday", cwd=tmp_path)
    assert bad.returncode == 2 and "--from 'yesterday' is not an ISO 8601" in bad.stderr


def test_an_empty_or_unreadable_config_never_removes_everyone(tmp_path):
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    members = _members(tmp_path)
    (tmp_path / "empty.toml").write_text("")
    out = timescales("db", "upgrade", "--config", "empty.toml", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "empty.toml lists no units, and the database holds unit-a: nothing changed" in out.stderr
    (tmp_path / "latin1.toml").write_bytes('name = "Caf\xe9"\n'.encode("latin-1"))
    out = timescales("db", "upgrade", "--config", "latin1.toml", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip() == "timescales: latin1.toml: not UTF-8 text (save it as UTF-8)"
    assert _members(tmp_path) == members


def test_the_chat_on_a_database_slack_uses_takes_no_reminder_from_slack(tmp_path):
    import sqlite3

    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    timescales("chat", "--now", "2026-11-23T10:00", cwd=tmp_path,
               stdin="strategy discussion held today for 123, S47 agreed\n")
    chat = timescales("chat", "--now", "2026-11-24T09:05", cwd=tmp_path, stdin="morning all\n")
    assert chat.stdout.count("due within the hour: child 123") == 1  # printed once, not after every line
    with sqlite3.connect(tmp_path / "timescales.db") as db:
        assert db.execute("select count(*) from outgoing_messages").fetchone() == (0,)
    dry = timescales("sweep", "--now", "2026-11-24T09:05", "--dry-run", cwd=tmp_path)
    assert "due within the hour: child 123" in dry.stdout  # still Slack's to send


def test_a_question_left_open_by_one_chat_is_asked_again_by_the_next_and_answered_there(tmp_path):
    """The question is kept in the store (as a Slack thread keeps it); a chat opened later
    asks it again, so the next line answers it rather than being read as a new message."""
    first = timescales("chat", "--now", "2026-11-23T10:00", cwd=tmp_path, stdin="No HV today\n")
    assert "Which child is this about?" in first.stdout and "Recorded" not in first.stdout
    second = timescales("chat", "--now", "2026-11-23T11:00", cwd=tmp_path, stdin="7121\n")
    assert second.returncode == 0, second.stderr
    said = second.stdout
    assert 'you (earlier)> No HV today\n  ↳ I read: Child visited for child ?.\n' in said
    assert said.index("Which child is this about?") < said.index("Recorded")
    assert "Child visited for child 7121, did not happen Mon 23 Nov" in said
    third = timescales("chat", "--now", "2026-11-23T12:00", cwd=tmp_path, stdin="quit\n")
    assert "earlier" not in third.stdout  # answered: nothing left open


def test_a_question_left_open_is_asked_again_only_of_the_person_it_was_asked(tmp_path):
    """Another member of the unit opening the chat is not handed someone else's question
    (their next line would be read as its answer); the one who was asked still is."""
    (tmp_path / "timescales.toml").write_text(UNIT_CONFIG)
    timescales("db", "upgrade", cwd=tmp_path)
    timescales("chat", "--now", "2026-11-23T10:00", "--user", "U0SW1", cwd=tmp_path, stdin="No HV today\n")
    other = timescales("chat", "--now", "2026-11-23T11:00", "--user", "U0UC", cwd=tmp_path, stdin="7121\n")
    assert other.returncode == 0, other.stderr
    assert "earlier" not in other.stdout and "did not happen" not in other.stdout
    asked = timescales("chat", "--now", "2026-11-23T11:05", "--user", "U0SW1", cwd=tmp_path, stdin="quit\n")
    assert "you (earlier)> No HV today" in asked.stdout


def test_the_chat_sends_a_line_to_the_open_question_only_if_it_reads_as_an_answer(tmp_path):
    """SPEC section 5: as a reply in the question's thread would be read (issue 14)."""
    out = timescales("chat", "--now", "2026-11-23T10:00", cwd=tmp_path, stdin=(
        "No HV today\n"                # which child?
        "HV for 7120 done today\n"     # a full update of its own, not the answer: done, not 'did not happen'
        "7121\n"                       # the answer
        "strat for 6110\n"             # did it happen today, or is it booked?
        "what's due this week?\n"      # a question is answered; the question stays open
        "not sure, will check\n"       # acknowledged; still open
        "held yesterday - NFA\n"       # the answer, its outcome kept
        "ICPC booked\n"                # which child?
        "morning all\n"                # short, but not an answer: nothing
        "for 5120\n"))                 # the answer; then: booked for when?
    assert out.returncode == 0, out.stderr
    said = out.stdout
    assert "Child visited for child 7120, done Mon 23 Nov" in said
    assert "Child visited for child 7121, did not happen Mon 23 Nov" in said and "7120, did not happen" not in said
    assert "Due Mon 23 Nov to Fri 27 Nov" in said and "OK, I'll keep this open" in said
    assert "Strategy discussion for child 6110, done Sun 22 Nov (s47: no)" in said
    assert said.count("Strategy discussion for child 6110, done") == 1
    assert said.rstrip().endswith("Initial Child Protection Conference: booked for when?\n"
                                  "    Nothing is recorded until you answer: reply in this thread.")
    after = said.split("Initial Child Protection Conference for child ?")[-1]
    assert "Recorded" not in after and "Initial Child Protection Conference for child 5120" in after
