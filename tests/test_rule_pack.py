"""The rule pack is data a manager can check against the standards."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from rules.model import Rule
from rules.pack import RulePackError, load_pack

DATA = Path(__file__).resolve().parents[1] / "rules" / "data"


def test_every_rule_has_a_citation_and_a_responsible_role(pack):
    for rule in pack.rules:
        assert rule.standard.strip(), rule.id
        assert rule.source in pack.vocabulary.sources, rule.id
        assert rule.responsible and all(role.strip() for role in rule.responsible), rule.id


def test_practice_standard_citations_are_point_numbers_or_named_sections(pack):
    # CCP-n: Child Centred Practice, "Every child must have" point n; SFAC-n: Our Standards For All Children.
    point = r"(\d+\.\d+|[MR]\.\d+|CCP-\d|SFAC-\d|At a Glance \(.+\))"
    for rule in pack.rules:
        if rule.source == "PS2026":
            assert re.fullmatch(point, rule.standard), rule.id
            assert all(re.fullmatch(point, cited) for cited in rule.also_cites), rule.id
        else:
            assert rule.standard.startswith(rule.source + "-"), rule.id


def test_the_working_together_statutory_timescales_are_all_there(pack):
    standards = {rule.standard for rule in pack.rules}
    assert {"WT2015-58", "WT2015-60", "WT2015-ICPC", "WT2013-CG", "WT2013-RCPC"} <= standards


def test_every_at_a_glance_point_we_rely_on_is_covered(pack):
    standards = {rule.standard for rule in pack.rules} | {c for rule in pack.rules for c in rule.also_cites}
    expected = {"1.2", "1.3", "2.1", "2.2", "2.3", "2.5", "3.1", "3.6", "4.3", "4.4", "4.7", "5.1", "5.3", "6.1",
                "6.6", "7.2", "7.3", "7.5", "7.9", "7.12", "7.13", "8.1", "8.2", "8.6", "8.8", "8.9", "8.10",
                "9.2", "9.4", "9.7", "9.8", "9.11", "9.13", "9.14", "10.1", "10.2", "10.3", "10.4", "10.7",
                "10.9", "15.1", "16.1", "16.3",
                # issue 17: left out before, now encoded
                "7.16", "9.6", "11.13", "13.9", "16.4", "CCP-3", "SFAC-3"}
    assert expected <= standards, expected - standards


def test_recording_standards_are_off_unless_turned_on():
    default = load_pack()
    assert "visit-recorded" not in default.by_id and "icpc" in default.by_id
    turned_on = load_pack(enabled=frozenset({"visit-recorded"}), disabled=frozenset({"icpc"}))
    assert "visit-recorded" in turned_on.by_id and "icpc" not in turned_on.by_id


def test_naming_a_rule_that_does_not_exist_in_the_config_is_an_error():
    with pytest.raises(RulePackError, match="do not exist: no-such-rule"):
        load_pack(enabled=frozenset({"no-such-rule"}))


@pytest.fixture
def copy_of_rules(tmp_path: Path) -> Path:
    for name in DATA.glob("*.toml"):
        shutil.copy(name, tmp_path / name.name)
    return tmp_path


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "practice_standards.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('met_by = ["icpc"]\nflexible', 'meet_by = ["icpc"]\nflexible', "rule 'icpc': field 'meet_by': Extra inputs"),
        ('steps = ["15 working days"]\nmet_by = ["icpc"]', 'steps = ["15 workin days"]\nmet_by = ["icpc"]',
         "rule 'icpc': field 'steps.0"),
        ('met_by = ["icpc"]\nflexible', 'met_by = ["icpcc"]\nflexible', "rule 'icpc': field 'met_by': unknown event 'icpcc'"),
        ('responsible = ["SW", "CPL"]\ntrigger = ["s47_started"', 'responsible = []\ntrigger = ["s47_started"',
         "rule 'icpc': field 'responsible'"),
        ('id = "icpc"\nstandard = "6.1"', 'id = "icpc"\nstandard = ""', "rule 'icpc': field 'standard'"),
    ],
)
def test_a_typo_in_a_rule_file_names_the_file_the_rule_and_the_field(copy_of_rules, old, new, message):
    _edit(copy_of_rules, old, new)
    with pytest.raises(RulePackError) as caught:
        load_pack(copy_of_rules)
    assert str(caught.value).startswith("practice_standards.toml: ")
    assert message in str(caught.value)


def test_a_duplicate_rule_id_is_refused(copy_of_rules):
    _edit(copy_of_rules, 'id = "icpc-report-shared"', 'id = "icpc"')
    with pytest.raises(RulePackError, match="'icpc': id already used"):
        load_pack(copy_of_rules)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ('steps = ["less than 24 hours"]', "'less than' goes with a number of days, weeks or months"),
        ('steps = [{ within = "6 weeks", or_within = "30 working days before" }]', "both be 'before' a meeting"),
        ('steps = [{ within = "2 days", or_within = "48 hours" }]', "both be hours, or neither"),
        ('steps = [{ within = "3 months", standard = "7.99" }]', "a step cites 7.99, which the rule's also_cites"),
    ],
)
def test_a_step_with_two_timescales_or_a_less_than_must_make_sense(copy_of_rules, steps, message):
    _edit(copy_of_rules, 'steps = ["3 months", "6 months"]\nrecurs = true\nmet_by = ["rcpc"]',
          f'{steps}\nrecurs = true\nmet_by = ["rcpc"]')
    with pytest.raises(RulePackError, match="rule 'rcpc'") as caught:
        load_pack(copy_of_rules)
    assert message in str(caught.value)


def test_where_the_sources_differ_the_step_says_both_and_which_holds(pack):
    steps = pack.compiled["lac-review"].steps
    assert [s.text for s in steps] == [
        "20 working days",
        "less than 91 days or less than 3 months, whichever is earlier",
        "less than 183 days or less than 6 months, whichever is earlier",
    ]
    assert [s.standard for s in steps] == ["10.3", "13.2", "13.3"]


def test_counting_from_the_last_time_done_needs_events_of_its_own():
    base = {"id": "x", "standard": "8.8", "source": "PS2026", "title": "Something", "responsible": ["SW"],
            "while": "fh_plan", "steps": ["12 months"], "from_last_done": True}
    with pytest.raises(ValidationError, match="from_last_done"):
        Rule.model_validate({**base, "met_by": ["task_done"]})
    assert Rule.model_validate({**base, "met_by": ["assessment_completed"]}).from_last_done
