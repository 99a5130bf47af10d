"""How deadlines live: met, late, overdue, cancelled, moved, superseded, overridden."""

from __future__ import annotations

from datetime import date

from rules.model import Override

from helpers import at, by_rule, ev, only, run


def test_a_met_deadline_records_the_event_that_met_it(pack, calendar):
    icpc = ev("icpc", "2026-12-10")
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23", s47=True), icpc], now="2026-12-20T09:00")
    deadline = only(timeline, "icpc")
    assert (deadline.state, deadline.met_event_id, deadline.late) == ("met", icpc.id, False)


def test_met_after_the_due_date_is_met_late_and_stays_visible(pack, calendar):
    # 6.1: due Mon 14 Dec, held Tue 15 Dec
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23", s47=True), ev("icpc", "2026-12-15")],
                   now="2026-12-20T09:00")
    deadline = only(timeline, "icpc")
    assert (deadline.state, deadline.late, deadline.closed_on) == ("met", True, date(2026, 12, 15))


def test_date_only_deadline_is_overdue_from_the_start_of_the_next_day(pack, calendar):
    events = [ev("strategy_discussion", "2026-11-23", s47=True)]
    assert only(run(pack, calendar, events, now="2026-12-14T23:59"), "icpc").state == "open"
    assert only(run(pack, calendar, events, now="2026-12-15T00:00:01"), "icpc").state == "overdue"


def test_hour_based_deadline_is_overdue_when_it_falls_due(pack, calendar):
    events = [ev("strategy_discussion", "2026-10-24T12:00", s47=True)]  # visit due Sun 25 Oct 11:00 GMT
    assert only(run(pack, calendar, events, now="2026-10-25T10:59"), "s47-visit").state == "open"
    assert only(run(pack, calendar, events, now="2026-10-25T11:01"), "s47-visit").state == "overdue"


def test_hour_based_met_compares_times_not_dates(pack, calendar):
    decided = ev("strategy_discussion", "2026-11-23T10:00", s47=True)
    on_time = run(pack, calendar, [decided, ev("visit", "2026-11-24T09:30")], now="2026-11-25T09:00")
    late = run(pack, calendar, [decided, ev("visit", "2026-11-24T10:30")], now="2026-11-25T09:00")
    assert only(on_time, "s47-visit").late is False
    assert only(late, "s47-visit").late is True


def test_no_time_given_uses_the_posting_time_on_the_day_it_was_posted(pack, calendar):
    posted_same_day = ev("strategy_discussion", "2026-11-23", posted="2026-11-23T15:20", s47=True)
    timeline = run(pack, calendar, [posted_same_day], now="2026-11-23T16:00")
    assert only(timeline, "s47-visit").due_at.isoformat() == "2026-11-24T15:20:00+00:00"
    assert timeline.assumed_times[posted_same_day.id] == "the time it was posted"


def test_no_time_given_for_an_earlier_day_assumes_five_pm(pack, calendar):
    yesterday = ev("strategy_discussion", "2026-11-22", posted="2026-11-23T09:00", s47=True)
    timeline = run(pack, calendar, [yesterday], now="2026-11-23T09:05")
    assert only(timeline, "s47-visit").due_at.isoformat() == "2026-11-23T17:00:00+00:00"
    assert timeline.assumed_times[yesterday.id] == "17:00"


def test_strategy_discussion_without_s47_starts_no_enquiry(pack, calendar):
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23", s47=False)])
    assert not by_rule(timeline, "icpc") and not by_rule(timeline, "s47-visit")
    assert by_rule(timeline, "strategy-record-shared")


def test_a_second_strategy_discussion_does_not_restart_the_icpc_clock(pack, calendar):
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23", s47=True),
                                    ev("strategy_discussion", "2026-11-30", s47=True)])
    assert only(timeline, "icpc").due == date(2026, 12, 14)


def test_a_new_enquiry_after_the_last_conference_gets_its_own_icpc_deadline(pack, calendar):
    events = [ev("strategy_discussion", "2026-01-05", s47=True), ev("icpc", "2026-01-20", plan=False),
              ev("strategy_discussion", "2026-11-23", s47=True)]
    assert [d.due for d in by_rule(run(pack, calendar, events), "icpc")] == [date(2026, 1, 26), date(2026, 12, 14)]


def test_enquiry_ending_with_no_conference_cancels_the_icpc_deadline(pack, calendar):
    events = [ev("strategy_discussion", "2026-11-23", s47=True), ev("s47_completed", "2026-12-01", icpc=False)]
    timeline = run(pack, calendar, events, now="2026-12-20T09:00")
    assert only(timeline, "icpc").state == "cancelled"
    assert only(timeline, "wt-icpc").state == "cancelled"


def test_icpc_without_a_plan_starts_no_plan_timescales(pack, calendar):
    timeline = run(pack, calendar, [ev("icpc", "2026-12-10", plan=False)])
    assert not by_rule(timeline, "core-group") and not by_rule(timeline, "visits-cp-plan")
    assert "cp_plan" not in timeline.statuses


def test_core_groups_re_arm_from_each_meeting_and_stop_when_the_plan_ends(pack, calendar):
    events = [ev("icpc", "2026-12-17"), ev("core_group", "2027-01-04"), ev("core_group", "2027-02-10"),
              ev("cp_plan_ended", "2027-03-01")]
    groups = by_rule(run(pack, calendar, events, now="2027-03-02T09:00"), "core-group")
    assert [(d.due.isoformat(), d.state) for d in groups] == [
        ("2027-01-05", "met"),  # 10 WD from the ICPC
        ("2027-02-15", "met"),  # 30 WD from Mon 4 Jan
        ("2027-03-24", "cancelled"),  # 30 WD from Wed 10 Feb; plan ended
    ]


def test_visits_follow_the_strictest_plan_in_force(pack, calendar):
    # Family Help Plan (20 WD), then a Child Protection Plan (10 WD) supersedes it.
    events = [ev("fh_plan_started", "2026-11-02"), ev("visit", "2026-11-09"), ev("icpc", "2026-11-16"),
              ev("visit", "2026-11-20")]
    timeline = run(pack, calendar, events, now="2026-11-21T09:00")
    fh = by_rule(timeline, "visits-fh-plan")
    cp = by_rule(timeline, "visits-cp-plan")
    assert [(d.due.isoformat(), d.state) for d in fh] == [("2026-11-30", "met"), ("2026-12-07", "cancelled")]
    # CP visits: 10 WD from the ICPC (Mon 30 Nov), met Fri 20 Nov, re-armed: Fri 4 Dec
    assert [(d.due.isoformat(), d.state) for d in cp] == [("2026-11-30", "met"), ("2026-12-04", "open")]


def test_when_the_stricter_plan_ends_the_other_plan_takes_over_from_the_last_visit(pack, calendar):
    events = [ev("fh_plan_started", "2026-11-02"), ev("icpc", "2026-11-16"), ev("visit", "2026-11-20"),
              ev("cp_plan_ended", "2026-11-25")]
    timeline = run(pack, calendar, events, now="2026-11-26T09:00")
    cp = by_rule(timeline, "visits-cp-plan")
    assert [(d.due.isoformat(), d.state) for d in cp] == [("2026-11-30", "met"), ("2026-12-04", "cancelled")]
    fh_open = [d for d in by_rule(timeline, "visits-fh-plan") if d.state == "open"]
    # 20 WD from the last visit (Fri 20 Nov): Nov 23-27(5) 30 Dec 1-4(10) 7-11(15) 14-18(20)
    assert [d.due for d in fh_open] == [date(2026, 12, 18)]


def test_only_one_visit_deadline_is_open_at_a_time(pack, calendar):
    events = [ev("assessment_allocated", "2026-11-02"), ev("fh_plan_started", "2026-11-03"),
              ev("looked_after", "2026-11-04"), ev("visit", "2026-11-05")]
    timeline = run(pack, calendar, events, now="2026-11-05T18:00")
    visit_rules = {r.id for r in pack.groups["visits"]}
    open_visits = [d for d in timeline.deadlines if d.rule in visit_rules and d.state == "open"]
    # the assessment regime (15 WD) is the strictest of the three in force
    assert [(d.rule, d.due) for d in open_visits] == [("visits-assessment", date(2026, 11, 26))]


def test_rebooking_a_meeting_moves_its_before_deadlines(pack, calendar):
    booked = ev("rcpc", "2027-01-07", status="planned", posted="2026-11-02T09:00")
    rebooked = ev("rcpc", "2027-01-14", status="planned", posted="2026-11-10T09:00")
    deadline = only(run(pack, calendar, [booked, rebooked], now="2026-11-10T10:00"), "rcpc-report-to-family")
    # 5 WD before Thu 14 Jan: 13 12 11 8 7
    assert (deadline.due, deadline.event_id, deadline.state) == (date(2027, 1, 7), rebooked.id, "open")


def test_cancelling_a_booked_meeting_cancels_its_before_deadlines(pack, calendar):
    booked = ev("icpc", "2026-12-14", status="planned", posted="2026-11-25T09:00")
    cancelled = ev("icpc", "2026-12-14", status="not_done", posted="2026-12-01T09:00")
    deadline = only(run(pack, calendar, [booked, cancelled], now="2026-12-20T09:00"), "icpc-report-shared")
    assert (deadline.state, deadline.late) == ("cancelled", False)


def test_report_marked_done_before_the_meeting_meets_the_before_deadline(pack, calendar):
    events = [ev("icpc", "2026-12-14", status="planned", posted="2026-11-25T09:00"),
              ev("task_done", "2026-12-09", rule="icpc-report-shared")]
    deadline = only(run(pack, calendar, events, now="2026-12-20T09:00"), "icpc-report-shared")
    assert (deadline.state, deadline.late) == ("met", False)


def test_the_next_review_conference_booking_gets_fresh_before_deadlines(pack, calendar):
    events = [ev("icpc", "2026-06-01"),
              ev("rcpc", "2026-08-27", status="planned", posted="2026-07-01T09:00"),
              ev("task_done", "2026-08-20", rule="rcpc-report-to-family"),
              ev("rcpc", "2026-08-27"),
              ev("rcpc", "2027-02-25", status="planned", posted="2026-09-01T09:00")]
    found = by_rule(run(pack, calendar, events, now="2026-09-02T09:00"), "rcpc-report-to-family")
    assert [(d.due.isoformat(), d.state) for d in found] == [("2026-08-20", "met"), ("2027-02-18", "open")]


def test_a_correction_supersedes_the_event_and_the_deadlines_follow(pack, calendar):
    wrong = ev("strategy_discussion", "2026-11-23", s47=True)
    right = ev("strategy_discussion", "2026-11-16", s47=True, supersedes=wrong.id)
    deadline = only(run(pack, calendar, [wrong, right]), "icpc")
    # 15 WD from Mon 16 Nov = Mon 7 Dec
    assert (deadline.due, deadline.event_id) == (date(2026, 12, 7), right.id)


def test_an_undo_withdraws_the_event_and_its_deadlines(pack, calendar):
    wrong = ev("strategy_discussion", "2026-11-23", s47=True)
    timeline = run(pack, calendar, [wrong, ev("retraction", "2026-11-23", supersedes=wrong.id)])
    assert timeline.deadlines == []


def test_closing_the_child_cancels_every_open_deadline(pack, calendar):
    events = [ev("strategy_discussion", "2026-11-23T10:00", s47=True), ev("visit", "2026-11-23T15:00"),
              ev("case_closed", "2026-11-30")]
    timeline = run(pack, calendar, events, now="2026-12-20T09:00")
    states = {d.rule: d.state for d in timeline.deadlines}
    assert states["s47-visit"] == "met"
    assert states["icpc"] == states["s47-completed"] == states["strategy-record-shared"] == "cancelled"
    # the record was due 25 Nov and never done: cancelled after its due date, so it shows as late
    assert only(timeline, "strategy-record-shared").late is True


def test_a_found_child_cancels_the_missing_timescales_not_yet_due(pack, calendar):
    events = [ev("missing", "2026-11-23T20:00"), ev("found", "2026-11-24T10:00")]
    timeline = run(pack, calendar, events, now="2026-11-30T09:00")
    assert only(timeline, "missing-child-discussion").state == "cancelled"
    assert only(timeline, "return-home-interview").state == "overdue"  # due Fri 27 Nov 10:00


def test_missing_strategy_discussion_only_for_children_on_a_plan_or_enquiry(pack, calendar):
    assert not by_rule(run(pack, calendar, [ev("missing", "2026-11-23T20:00")]), "missing-strategy-cp")
    on_plan = run(pack, calendar, [ev("icpc", "2026-11-02"), ev("missing", "2026-11-23T20:00")])
    assert only(on_plan, "missing-strategy-cp").due == date(2026, 11, 30)


def test_flexible_scheme_icpc_date_set_by_lead_social_worker(pack, calendar):
    decision = Override(target="icpc", due=date(2026, 12, 18), by="U0SW1", at=at("2026-11-24T09:00"),
                        reason="family availability")
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23", s47=True)],
                   now="2026-12-16T09:00", overrides=[decision])
    for rule in ("icpc", "wt-icpc"):  # both the local and the statutory deadline follow the scheme
        deadline = only(timeline, rule)
        assert deadline.due == date(2026, 12, 18) and deadline.state == "open"
        assert deadline.override == {"by": "U0SW1", "at": "2026-11-24T09:00:00+00:00",
                                     "reason": "family availability", "was": "2026-12-14"}
    assert only(timeline, "s47-completed").override is None


def test_an_extension_moves_one_deadline_and_a_meeting_after_it_is_on_time(pack, calendar):
    extension = Override(target="assessment-completed", due=date(2027, 1, 20), by="U0SM",
                         at=at("2026-12-30T11:00"), reason="second parent abroad; SM agreed")
    events = [ev("assessment_allocated", "2026-11-30"), ev("assessment_completed", "2027-01-15")]
    deadline = only(run(pack, calendar, events, now="2027-01-16T09:00", overrides=[extension]),
                    "assessment-completed")
    assert (deadline.state, deadline.late, deadline.override["was"]) == ("met", False, "2027-01-04")


def test_an_override_with_nothing_to_move_is_reported_not_lost(pack, calendar):
    decision = Override(target="icpc", due=date(2026, 12, 18), by="U0SW1", at=at("2026-11-24T09:00"), reason="r")
    timeline = run(pack, calendar, [], overrides=[decision])
    assert timeline.unapplied == [decision]


def test_recurring_visits_re_arm_from_each_visit(pack, calendar):
    events = [ev("icpc", "2026-11-02"), ev("visit", "2026-11-06"), ev("visit", "2026-11-13")]
    visits = by_rule(run(pack, calendar, events, now="2026-11-14T09:00"), "visits-cp-plan")
    # 10 WD from Mon 2 Nov = Mon 16 Nov; from Fri 6 Nov = Fri 20 Nov; from Fri 13 Nov = Fri 27 Nov
    assert [(d.due.isoformat(), d.state) for d in visits] == [
        ("2026-11-16", "met"), ("2026-11-20", "met"), ("2026-11-27", "open")]


def test_a_visit_that_did_not_happen_meets_nothing(pack, calendar):
    events = [ev("icpc", "2026-11-02"), ev("visit", "2026-11-06", status="not_done")]
    visits = by_rule(run(pack, calendar, events, now="2026-11-17T09:00"), "visits-cp-plan")
    assert [(d.due.isoformat(), d.state) for d in visits] == [("2026-11-16", "overdue")]


def test_events_arrive_in_any_order_and_are_replayed_by_date(pack, calendar):
    events = [ev("icpc", "2026-12-10"), ev("strategy_discussion", "2026-11-23", s47=True)]
    assert only(run(pack, calendar, events, now="2026-12-20T09:00"), "icpc").state == "met"


def test_the_engine_is_deterministic(pack, calendar):
    events = [ev("strategy_discussion", "2026-11-23", s47=True), ev("icpc", "2026-12-10"), ev("visit", "2026-12-11")]
    first = [d.as_json() for d in run(pack, calendar, events, now="2026-12-20T09:00").deadlines]
    second = [d.as_json() for d in run(pack, calendar, list(reversed(events)), now="2026-12-20T09:00").deadlines]
    assert first == second


def test_every_deadline_carries_what_spec_section_4_lists(pack, calendar):
    timeline = run(pack, calendar, [ev("strategy_discussion", "2026-11-23T10:00", s47=True)])
    for deadline in timeline.deadlines:
        shape = deadline.as_json()
        for key in ("id", "child", "standard", "also_cites", "source", "title", "due", "due_at", "state",
                    "responsible", "event_id", "override"):
            assert key in shape
        assert shape["child"] == "123" and shape["responsible"]


def test_deadline_ids_are_unique_when_a_regime_resumes_from_the_same_visit(pack, calendar):
    events = [ev("fh_plan_started", "2026-11-02"), ev("visit", "2026-11-09"), ev("icpc", "2026-11-16"),
              ev("cp_plan_ended", "2026-11-18")]
    timeline = run(pack, calendar, events, now="2026-11-19T09:00")
    ids = [d.id for d in timeline.deadlines]
    assert len(ids) == len(set(ids))
    fh = by_rule(timeline, "visits-fh-plan")
    # armed from the 9 Nov visit, superseded by the plan, resumed from the same visit: 20 WD = Mon 7 Dec
    assert [(d.due.isoformat(), d.state) for d in fh] == [
        ("2026-11-30", "met"), ("2026-12-07", "cancelled"), ("2026-12-07", "open")]


def test_a_deadline_lists_the_other_points_its_timescale_comes_from(pack, calendar):
    # SPEC 4: where the timescale comes from more than one point, also_cites lists the others.
    events = [ev("looked_after", "2026-12-23"), ev("lac_review", "2027-01-25")]
    first, second = by_rule(run(pack, calendar, events, now="2027-01-26T09:00"), "lac-review")
    assert (first.standard, first.as_json()["also_cites"]) == ("10.3", ["11.2", "13.1"])
    assert (second.standard, second.as_json()["also_cites"]) == ("13.2", ["11.2"])
    assert second.timescale == "less than 91 days or less than 3 months, whichever is earlier"


def test_a_new_plan_never_makes_a_visit_due_later_than_it_already_was(pack, calendar):
    # 8.6 then 10.2: a Family Help child last seen Mon 14 Dec 2026 is due a visit 20 WD on: Dec 15-18(4)
    # 21-24(8) [25, 28 off] 29 30 31(11) [1 Jan] Jan 4-8(16) 11 12 13 14(20) = Thu 14 Jan 2027. Becoming looked
    # after on Wed 13 Jan would set 4 weeks from then (Wed 10 Feb): the earlier visit still holds.
    events = [ev("fh_plan_started", "2026-12-01"), ev("visit", "2026-12-14"), ev("looked_after", "2027-01-13"),
              ev("visit", "2027-01-13")]
    before = run(pack, calendar, events[:3], now="2027-01-13T18:00")
    open_visits = [(d.rule, d.due) for d in before.deadlines
                   if d.rule in {r.id for r in pack.groups["visits"]} and d.state == "open"]
    assert open_visits == [("visits-fh-plan", date(2027, 1, 14))]
    # The next visit (Wed 13 Jan) re-arms at the looked-after frequency, the strictest in force:
    # 4 weeks = Wed 10 Feb; 20 WD = Jan 14 15(2) 18-22(7) 25-29(12) Feb 1-5(17) 8 9 10(20) = Wed 10 Feb too.
    after = run(pack, calendar, events, now="2027-01-13T18:00")
    open_visits = [(d.rule, d.due) for d in after.deadlines
                   if d.rule in {r.id for r in pack.groups["visits"]} and d.state == "open"]
    assert open_visits == [("visits-looked-after", date(2027, 2, 10))]


def test_an_assessment_before_the_child_was_closed_does_not_set_the_next_plans_clock(pack, calendar):
    # 8.8 counts from the last assessment, but closing the child's involvement starts afresh:
    # plan from Mon 7 Jun 2027 + 12 months = Wed 7 Jun 2028.
    events = [ev("assessment_completed", "2026-12-31"), ev("case_closed", "2027-02-01"),
              ev("fh_plan_started", "2027-06-07")]
    found = [d for d in by_rule(run(pack, calendar, events), "fh-assessment-update") if d.state == "open"]
    assert [d.due for d in found] == [date(2028, 6, 7)]


def test_a_service_managers_decision_reduces_supervision_order_visits_and_meets_the_review(pack, calendar):
    # 9.11: Supervision Order Mon 21 Dec 2026; the 3-month review is due 12 weeks on, Mon 15 Mar 2027.
    # Visits: 10 WD until the decision (recorded Wed 17 Mar, two days late), then 20 WD from the last visit.
    decision = Override(target="so_visits_reduced", due=date(2027, 3, 17), by="U0SM", at=at("2027-03-17T11:00"),
                        reason="progress is good")
    events = [ev("supervision_order", "2026-12-21"), ev("visit", "2027-03-16")]
    timeline = run(pack, calendar, events, now="2027-03-18T09:00", overrides=[decision])
    review = only(timeline, "supervision-order-3-month-review")
    assert (review.due, review.state, review.late) == (date(2027, 3, 15), "met", True)
    assert review.met_event_id == "decision:so_visits_reduced:2027-03-17T11:00:00Z"
    ten = [(d.due, d.state) for d in by_rule(timeline, "visits-supervision-order-first-12-weeks")]
    # 10 WD from the order: Dec 22 23 24(3) 29 30 31(6) Jan 4 5 6 7(10); from the 16 Mar visit: Thu 1 Apr
    # (17 18 19(3) 22-25(7) [26 GF, 29 EM] 30 31(9) Apr 1(10)), cancelled by the decision
    assert ten == [(date(2027, 1, 7), "met"), (date(2027, 4, 1), "cancelled")]  # the first met late
    assert [(d.due, d.state) for d in by_rule(timeline, "visits-supervision-order")] == [(date(2027, 4, 15), "open")]
    # the decision is not an override of any deadline
    assert timeline.unapplied == [] and all(d.override is None for d in timeline.deadlines)


def test_the_stability_panel_meets_both_private_fostering_panel_deadlines(pack, calendar):
    # 16.4: notified Mon 2 Nov 2026 + 45 days = Nov 30(28) Dec 17(45) = Thu 17 Dec; 16.5: assessed Thu 24 Dec
    # + 10 WD: 29 30 31 Jan 4-8(8) 11 12(10) = Tue 12 Jan 2027. Presented Mon 11 Jan: 16.5 on time, 16.4 late.
    events = [ev("private_fostering_notified", "2026-11-02"), ev("private_fostering_assessed", "2026-12-24"),
              ev("stability_panel", "2027-01-11")]
    timeline = run(pack, calendar, events, now="2027-01-12T09:00")
    first, second = only(timeline, "private-fostering-panel-45-days"), only(timeline, "private-fostering-panel")
    assert (first.due, first.state, first.late) == (date(2026, 12, 17), "met", True)
    assert (second.due, second.state, second.late) == (date(2027, 1, 12), "met", False)


def test_a_midway_review_not_done_by_the_next_review_is_closed_late(pack, calendar):
    # 13.9: first review Mon 25 Jan 2027, midway due Mon 8 Mar; the second review on Tue 20 Apr closes it, late,
    # and the next midway runs from it: 3 months = Tue 20 Jul; 13 weeks = Apr 30(10) May 31(41) Jun 30(71)
    # Jul 20(91) = Tue 20 Jul too.
    events = [ev("looked_after", "2026-12-23"), ev("lac_review", "2027-01-25"), ev("lac_review", "2027-04-20")]
    timeline = run(pack, calendar, events, now="2027-04-21T09:00")
    first = only(timeline, "lac-midway-review-first")
    assert (first.due, first.state, first.late) == (date(2027, 3, 8), "cancelled", True)
    assert [(d.due, d.state) for d in by_rule(timeline, "lac-midway-review")] == [(date(2027, 7, 20), "open")]


def test_every_deadline_turns_overdue_on_its_due_date_so_open_and_due_before_today_is_overdue(pack, calendar):
    """The digest counts "open, due before today" as overdue from the units' index alone:
    that holds only while each deadline's due instant falls on its due date, in London
    (hours-based ones across the October clock change, extensions, 'less than' timescales)."""
    import random

    from bench.histories import child_history
    from rules.calendar import LONDON

    rng = random.Random(3)
    histories = [child_history(str(900 + n), 30, rng, start=date(2025, 6, 2)) for n in range(150)]
    histories.append([ev("strategy_discussion", "2026-10-24T12:00", s47=True)])  # a visit due across the change
    seen, hours_based, overridden = 0, 0, 0
    for events in histories:
        child = events[0].child
        extended = [Override(target=rule, due=date(2026, 3, 29), by="U0SM", at=at("2026-03-27T09:00"),
                             reason="parent in hospital") for rule in ("s47-visit", "wt-assessment", "cp-visit")]
        timeline = run(pack, calendar, events, now="2026-12-01T09:00", overrides=extended)
        for deadline in timeline.deadlines:
            assert deadline.due_at.astimezone(LONDON).date() == deadline.due, (child, deadline)
            seen += 1
            hours_based += deadline.hours_based
            overridden += deadline.override is not None
    assert seen > 5_000 and hours_based > 500 and overridden > 20, (seen, hours_based, overridden)
