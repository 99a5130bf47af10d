"""The parser's contract beyond the corpus: its vocabulary, the JSON shape, clock
and zone handling, the dateparser fallback, and the command line."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_cli import timescales

from bot.parser import parse
from bot.parser.tokens import tokenize
from bot.parser.vocabulary import PHRASES_FILE, VocabularyError, load_vocabulary, vocabulary
from rules.calendar import LONDON
from rules.pack import load_vocabulary as rule_vocabulary
from rules.titles import event_titles

MONDAY = datetime(2026, 11, 23, 10, tzinfo=LONDON)
SPEC_EVENTS = [
    "contact_received", "referral_received", "assessment_allocated", "assessment_completed",
    "assessment_signed_off", "strategy_discussion", "s47_started", "s47_completed", "icpc", "cp_plan_started",
    "core_group", "rcpc", "cp_plan_ended", "fh_plan_started", "fh_review", "fh_plan_ended", "visit", "supervision",
    "missing", "found", "looked_after", "care_move", "lac_review", "pre_proceedings", "proceedings_decision",
    "supervision_order", "private_fostering_notified", "case_closed",
]


def test_every_event_the_parser_names_is_one_the_rules_know():
    v = vocabulary()
    known = set(rule_vocabulary().events)
    named = {m.name for m in _meanings(v.events) if m.kind == "event"}
    for verbs in v.verbs.values():
        named |= {m.name for m in _meanings(verbs)} - set(v.plans)
    named |= {e for events in v.plans.values() for e in events} | set(v.meetings)
    for events in v.detail_events.values():
        named |= events
    assert named - known == set()


def test_the_titles_questions_name_events_by_are_the_rule_packs():
    assert event_titles() == {name: e.title for name, e in rule_vocabulary().events.items()}


def test_every_spec_event_can_be_said_in_words():
    v = vocabulary()
    said = {m.name for m in _meanings(v.events) if m.kind == "event"}
    for verbs in v.verbs.values():
        said |= {m.name for m in _meanings(verbs)}
    said |= {e for events in v.plans.values() for e in events}
    assert set(SPEC_EVENTS) - said == set()


def _meanings(index):
    return [meaning for entries in index._by_first.values() for _, meaning in entries]


def test_a_typo_in_the_phrases_file_names_the_file_and_the_field(tmp_path):
    broken = tmp_path / "phrases.toml"
    broken.write_text(PHRASES_FILE.read_text().replace("[events.visit]\nphrases =", "[events.visit]\nphrase ="))
    with pytest.raises(VocabularyError, match=r"phrases.toml: events.visit.phrase: Extra inputs"):
        load_vocabulary(broken)


def test_tokens_keep_their_shape_and_offsets_past_spaces_and_line_breaks():
    text = "HV  #123 \n on 3/11 at 2 pm,  done"
    assert [(t.text, t.kind, text[t.start : t.end]) for t in tokenize(text)] == [
        ("hv", "word", "HV"), ("123", "hash_number", "#123"), ("\n", "punct", "\n"), ("on", "word", "on"),
        ("3/11", "slash_date", "3/11"), ("at", "word", "at"), ("2 pm", "clock", "2 pm"), (",", "punct", ","),
        ("done", "word", "done")]
    assert tokenize(text)[0].capitals and not tokenize(text)[-1].capitals


def test_json_shape_follows_spec_section_5():
    result = parse("strategy discussion for 123 today at 10am, S47 agreed", MONDAY).as_json()
    assert result == {
        "kind": "update",
        "updates": [{"event": "strategy_discussion", "child": "123", "status": "done", "date": "2026-11-23",
                     "time": "10:00", "details": {"s47": True}}],
        "query": None,
        "clarify": [],
    }
    assert parse("what's overdue?", MONDAY).as_json()["query"] == {"type": "overdue"}
    assert parse("what's due for 123?", MONDAY).as_json()["query"] == {"type": "child", "child": "123"}


def test_a_question_carries_its_options_as_fields_to_set():
    result = parse("HV for 401 on Friday", MONDAY)
    assert not result.complete
    (question,) = result.clarify
    assert question.field == "date" and question.updates == [0]
    assert [o.set for o in question.options] == [
        {"date": "2026-11-20", "status": "done"}, {"date": "2026-11-27", "status": "planned"}]
    assert [o.label for o in question.options] == ["Happened Fri 20 Nov", "Booked for Fri 27 Nov"]


def test_it_never_asks_for_a_name():
    questions = [c.question.lower() for m in ("HV done", "strategy held yesterday", "ICPC booked for 3 Dec")
                 for c in parse(m, MONDAY).clarify]
    assert questions and all("name" not in q and "number" in q for q in questions if "child" in q)


@pytest.mark.parametrize("seed", range(5))
def test_a_child_number_is_never_read_as_a_date_or_time(seed):
    rng = random.Random(seed)
    for _ in range(200):
        number = str(rng.randrange(100, 99999))
        message = rng.choice(["HV for {n} on 3/11", "child {n} visited 3/11", "{n} seen 3/11 at 2pm",
                              "strategy for #{n} on 3 Nov"]).format(n=number)
        (update,) = parse(message, MONDAY).updates
        assert (update.child, update.date.isoformat()) == (number, "2026-11-03"), message


def test_now_in_any_zone_is_read_in_london_time():
    # 00:30 UTC on 30 March 2026 is 01:30 in London (BST): "yesterday" is Sunday the 29th.
    (update,) = parse("HV 123 yesterday", datetime(2026, 3, 30, 0, 30, tzinfo=UTC)).updates
    assert update.date.isoformat() == "2026-03-29"
    # 23:30 UTC on 24 October 2026 is already Sunday the 25th in London (BST until 02:00).
    (update,) = parse("HV 123 today", datetime(2026, 10, 24, 23, 30, tzinfo=UTC)).updates
    assert update.date.isoformat() == "2026-10-25"


def test_dateparser_reads_only_what_our_grammar_cannot_and_says_so():
    result = parse("visited 123 a month ago", MONDAY)
    assert result.updates[0].date.isoformat() == "2026-10-23"
    assert result.notes == ["read 'a month ago' with dateparser as 2026-10-23"]


def test_common_messages_never_load_dateparser(tmp_path):
    code = (
        "import sys; from datetime import datetime; from rules.calendar import LONDON; from bot.parser import parse\n"
        "now = datetime(2026, 11, 23, 10, tzinfo=LONDON)\n"
        "for m in ['HV 123 yesterday', 'ICPC for 1 booked 24th November at 2pm', 'strat 44 on Weds, NFA',\n"
        "          'what is due next week?', 'core group 9 on 3/12', 'HV 5 the 30th']: parse(m, now)\n"
        "print('dateparser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "False", out.stderr


def test_typos_are_read_and_the_reading_is_reported():
    result = parse("startegy disucssion for 777 yday", MONDAY)
    assert result.updates[0].event == "strategy_discussion"
    assert result.notes == ["read 'startegy' as 'strategy'", "read 'disucssion' as 'discussion'"]


def test_cli_parse_reads_stdin_one_message_per_line(tmp_path):
    lines = "HV for 123 yesterday\nmorning all\nwhat's due this week\n"
    out = subprocess.run([sys.executable, "-m", "bot.cli", "parse", "-", "--now", "2026-11-23T10:00", "--json"],
                         input=lines, capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["kind"] for r in results] == ["update", "other", "query"]
    assert results[0]["updates"][0]["date"] == "2026-11-22"


def test_cli_parse_bad_now_is_one_line(tmp_path):
    out = timescales("parse", "HV 123", "--now", "yesterday", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--now 'yesterday'" in out.stderr


def test_cli_parse_loads_neither_the_store_nor_slack_nor_the_scheduler(tmp_path):
    code = ("import sys, io, contextlib; from bot.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['parse', 'HV for 123 yesterday', '--json'])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'slack_sdk', 'slack_bolt', "
            "'apscheduler', 'store', 'scheduler', 'holidays', 'dateparser'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]", out.stderr
