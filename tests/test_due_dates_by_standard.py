"""Due dates worked out by hand from the standards, one case per rule.

Calendar facts used below (England):
  2026: Good Friday 3 Apr, Easter Monday 6 Apr, Late Summer 31 Aug,
        Christmas Fri 25 Dec, Boxing Day Sat 26 Dec observed Mon 28 Dec;
        clocks go forward Sun 29 Mar (01:00 GMT), back Sun 25 Oct (02:00 BST).
  2027: New Year Fri 1 Jan, Good Friday 26 Mar, Easter Monday 29 Mar,
        Early May Mon 3 May, Spring Mon 31 May.
  "WD" counts below list each working day with its running count.

Where two places in the sources give one task two timescales, the earlier date holds
(issue 17): the cases marked "earlier holds" work both out and take the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rules.model import Override

from helpers import at, by_rule, ev, run


@dataclass
class Case:
    standard: str
    rule: str
    events: list
    due: str  # a date, or an ISO date-time with offset for hour-based timescales
    pick: int = -1  # which of the rule's deadlines (in order created)
    decisions: list = field(default_factory=list)  # a manager's decisions (Override), with author and reason


def decided(target: str, when: str) -> Override:
    """A Service Manager's decision taking effect on the day it is recorded."""
    moment = at(when)
    return Override(target=target, due=moment.date(), by="U0SM", at=moment, reason="progress is good")


CASES = [
    # ------------------------------------------------------------- contacts (MASH)
    # 24 h from Thu 24 Dec 16:00 lands on Christmas Day: hours do not skip holidays.
    Case("1.2", "contact-initial-decision", [ev("contact_received", "2026-12-24T16:00")], "2026-12-25T16:00:00+00:00"),
    # 00:30 BST on the night the clocks go back = 23:30 UTC; +4 h = 03:30 UTC = 03:30 GMT.
    Case("1.3", "screening-red", [ev("contact_received", "2026-10-25T00:30", rag="red")], "2026-10-25T03:30:00+00:00"),
    Case("1.3", "screening-amber", [ev("contact_received", "2026-12-18T10:00", rag="amber")], "2026-12-20T10:00:00+00:00"),
    Case("1.3", "screening-green", [ev("contact_received", "2026-12-23T14:00", rag="green")], "2026-12-26T14:00:00+00:00"),
    # Earlier holds: "10 days" (At a Glance) = Mon 21 Dec + 10 = Thu 31 Dec; "10 working days" (1.4) would be
    # 22(1) 23(2) 24(3) [25,26,27,28 off] 29(4) 30(5) 31(6) [1 Jan,2,3 off] 4(7) 5(8) 6(9) 7(10) = Thu 7 Jan.
    Case("1.4", "information-request", [ev("information_request", "2026-12-21")], "2026-12-31"),
    # ------------------------------------------------------------- Working Together
    # Thu 24 Dec + 1 WD: Fri 25 and Mon 28 are bank holidays -> Tue 29 Dec.
    Case("WT2015-58", "wt-referral-decision", [ev("referral_received", "2026-12-24")], "2026-12-29"),
    # Saturday + 1 WD = Monday (SPEC 4): Sat 21 Nov -> Mon 23 Nov.
    Case("WT2015-58", "wt-referral-decision", [ev("referral_received", "2026-11-21")], "2026-11-23"),
    # Boxing Day (Sat) + 1 WD: Mon 28 is the observed holiday -> Tue 29 Dec.
    Case("WT2015-58", "wt-referral-decision", [ev("referral_received", "2026-12-26")], "2026-12-29"),
    # Mon 30 Nov + 45 WD: Dec 1-4(4) 7-11(9) 14-18(14) 21-24(18) 29-31(21) Jan 4-8(26)
    # 11-15(31) 18-22(36) 25-29(41) Feb 1(42) 2(43) 3(44) 4(45)
    Case("WT2015-60", "wt-assessment", [ev("referral_received", "2026-11-30")], "2027-02-04"),
    # SPEC 4's own example: strategy discussion Mon 23 Nov 2026 -> ICPC Mon 14 Dec 2026.
    Case("WT2015-ICPC", "wt-icpc", [ev("strategy_discussion", "2026-11-23", s47=True)], "2026-12-14"),
    # ICPC Thu 17 Dec + 10 WD: 18(1) 21(2) 22(3) 23(4) 24(5) 29(6) 30(7) 31(8) Jan 4(9) 5(10)
    Case("WT2013-CG", "wt-first-core-group", [ev("icpc", "2026-12-17")], "2027-01-05"),
    # ICPC Mon 30 Nov + 3 months = 30 Feb, clipped to Sun 28 Feb 2027.
    Case("WT2013-RCPC", "wt-rcpc", [ev("icpc", "2026-11-30")], "2027-02-28"),
    # Transfer-in notified Wed 16 Dec + 15 WD, as for 6.1 below -> Mon 11 Jan 2027.
    Case("WT2013-TI", "wt-transfer-in-conference", [ev("cp_transfer_in", "2026-12-16")], "2027-01-11"),
    # ------------------------------------------------------------- 2. assessments
    # 10:00 BST Fri 23 Oct = 09:00 UTC; +72 h = 09:00 UTC Mon 26 Oct, now GMT.
    Case("2.1", "allocation-record", [ev("assessment_allocated", "2026-10-23T10:00")], "2026-10-26T09:00:00+00:00"),
    # Mon 30 Nov + 35 calendar days = Mon 4 Jan 2027; + 40 = Sat 9 Jan.
    Case("2.2", "assessment-completed", [ev("assessment_allocated", "2026-11-30")], "2027-01-04"),
    Case("2.2", "assessment-signed-off", [ev("assessment_allocated", "2026-11-30")], "2027-01-09"),
    # Mon 30 Nov + 20 WD: Dec 1-4(4) 7-11(9) 14-18(14) 21-24(18) 29(19) 30(20)
    Case("2.3", "assessment-supervision", [ev("assessment_allocated", "2026-11-30")], "2026-12-30"),
    # Mon 30 Nov + 20 calendar days = Sun 20 Dec.
    Case("M.2", "new-allocation-supervision", [ev("assessment_allocated", "2026-11-30")], "2026-12-20"),
    # Thu 24 Dec + 5 WD: 29(1) 30(2) 31(3) Jan 4(4) 5(5)
    Case("2.5", "visits-assessment", [ev("assessment_allocated", "2026-12-24")], "2027-01-05", pick=0),
    # then the visit on Tue 5 Jan + 15 WD: 6 7 8(3) 11-15(8) 18-22(13) 25(14) 26(15)
    Case("2.5", "visits-assessment", [ev("assessment_allocated", "2026-12-24"), ev("visit", "2027-01-05")], "2027-01-26"),
    # 4 weeks from Mon 30 Nov = Mon 28 Dec (a bank holiday: calendar weeks do not roll).
    Case("CCP-4", "first-case-supervision", [ev("assessment_allocated", "2026-11-30")], "2026-12-28", pick=0),
    # then supervision Tue 29 Dec + 8 weeks = Tue 23 Feb 2027.
    Case("CCP-4", "first-case-supervision",
         [ev("assessment_allocated", "2026-11-30"), ev("supervision", "2026-12-29")], "2027-02-23"),
    Case("2.16", "care-package-panel", [ev("assessment_completed", "2026-12-21", care_package=True)], "2027-01-04"),
    # ------------------------------------------------------------- 3. strategy
    # 18:00 BST Sat 24 Oct = 17:00 UTC; +24 h = 17:00 UTC Sun 25 Oct = 17:00 GMT.
    Case("3.1", "strategy-discussion", [ev("concern_raised", "2026-10-24T18:00")], "2026-10-25T17:00:00+00:00"),
    # 12:00 GMT Fri 27 Mar; +48 h = 12:00 UTC Sun 29 Mar = 13:00 BST (clocks went forward).
    Case("3.5", "strategy-record-shared", [ev("strategy_discussion", "2026-03-27T12:00")], "2026-03-29T13:00:00+01:00"),
    # ------------------------------------------------------------- 4. missing
    Case("3.6", "missing-locate-strategy", [ev("missing", "2026-03-28T12:00")], "2026-03-29T13:00:00+01:00"),
    # 20:00 BST Fri 23 Oct = 19:00 UTC; +72 h = 19:00 UTC Mon 26 Oct = 19:00 GMT.
    Case("4.3", "missing-child-discussion", [ev("missing", "2026-10-23T20:00")], "2026-10-26T19:00:00+00:00"),
    Case("4.4", "missing-need-to-know", [ev("missing", "2026-10-23T20:00")], "2026-11-02"),
    # On a Child Protection Plan (ICPC 1 Dec), missing Fri 18 Dec + 7 days = Fri 25 Dec.
    Case("4.5", "missing-strategy-cp", [ev("icpc", "2026-12-01"), ev("missing", "2026-12-18T09:00")], "2026-12-25"),
    # 09:00 GMT Thu 26 Mar + 72 h = 09:00 UTC Sun 29 Mar = 10:00 BST.
    Case("4.7", "return-home-interview", [ev("missing", "2026-03-25T20:00"), ev("found", "2026-03-26T09:00")],
         "2026-03-29T10:00:00+01:00"),
    # ------------------------------------------------------------- 5. section 47
    # SPEC 4: 24 h after 12:00 on the Saturday of the October change is 11:00 on Sunday.
    Case("5.1", "s47-visit", [ev("strategy_discussion", "2026-10-24T12:00", s47=True)], "2026-10-25T11:00:00+00:00"),
    # Fri 18 Dec + 5 WD: 21(1) 22(2) 23(3) 24(4) 29(5)
    Case("5.2", "icpc-threshold-decision",
         [ev("strategy_discussion", "2026-12-18", s47=True, icpc_decision="deferred")], "2026-12-29"),
    # Wed 16 Dec + 15 WD: 17(1) 18(2) 21(3) 22(4) 23(5) 24(6) 29(7) 30(8) 31(9) Jan 4(10) 5(11) 6(12) 7(13) 8(14) 11(15)
    Case("5.3", "s47-completed", [ev("s47_started", "2026-12-16")], "2027-01-11"),
    # ------------------------------------------------------------- 6. ICPC
    Case("6.1", "icpc", [ev("strategy_discussion", "2026-11-23", s47=True)], "2026-12-14"),
    Case("6.1", "icpc", [ev("strategy_discussion", "2026-12-16", s47=True)], "2027-01-11"),
    # ICPC booked for Wed 31 Mar 2027: 2 WD before = Tue 30(1), [Mon 29 Easter Monday,
    # weekend, Fri 26 Good Friday], Thu 25(2).
    Case("6.6", "icpc-report-shared", [ev("icpc", "2027-03-31", status="planned", posted="2027-03-01T10:00")],
         "2027-03-25"),
    # 3 WD before Wed 31 Mar 2027: 30(1) 25(2) 24(3).
    Case("6.7", "icpc-preparation-discussion",
         [ev("icpc", "2027-03-31", status="planned", posted="2027-03-01T10:00")], "2027-03-24"),
    Case("6.9", "icpc-decisions-circulated", [ev("icpc", "2026-12-24T14:00")], "2026-12-25T14:00:00+00:00"),
    # Thu 17 Dec + 15 WD: 18 21 22 23 24(5) 29 30 31(8) Jan 4 5 6 7 8(13) 11(14) 12(15)
    Case("6.10", "icpc-record-circulated", [ev("icpc", "2026-12-17")], "2027-01-12"),
    # ------------------------------------------------------------- 7. CP plan
    Case("7.2", "core-group", [ev("icpc", "2026-12-17")], "2027-01-05", pick=0),
    # core group Tue 5 Jan + 30 WD: Jan 6-8(3) 11-15(8) 18-22(13) 25-29(18) Feb 1-5(23) 8-12(28) 15(29) 16(30)
    # = Tue 16 Feb, the same day as 6 weeks with no bank holiday between.
    Case("7.2", "core-group", [ev("icpc", "2026-12-17"), ev("core_group", "2027-01-05")], "2027-02-16"),
    # Earlier holds, across Christmas: core group Mon 14 Dec + 6 weeks = Mon 25 Jan 2027; + 30 WD:
    # 15-18(4) 21-24(8) [25, 28 off] 29 30 31(11) [1 Jan] Jan 4-8(16) 11-15(21) 18-22(26) 25 26 27 28(30) = Thu 28 Jan.
    Case("7.2", "core-group", [ev("icpc", "2026-12-01"), ev("core_group", "2026-12-14")], "2027-01-25"),
    # Earlier holds, across the Early May bank holiday: core group Mon 26 Apr 2027 + 6 weeks = Mon 7 Jun;
    # + 30 WD: Apr 27-30(4) [3 May] 4-7(8) 10-14(13) 17-21(18) 24-28(23) [31 May] Jun 1-4(27) 7 8 9(30) = Wed 9 Jun.
    Case("7.2", "core-group", [ev("icpc", "2027-04-12"), ev("core_group", "2027-04-26")], "2027-06-07"),
    # visit Mon 22 Mar 2027 + 10 WD: 23 24 25(3) [Good Fri, weekend, Easter Mon] 30 31(5) Apr 1 2(7) 5 6 7(10)
    Case("7.3", "visits-cp-plan", [ev("icpc", "2027-03-01"), ev("visit", "2027-03-22")], "2027-04-07"),
    # plan from Mon 31 Aug 2026 (SPEC: 31 Aug + 6 months = 28 Feb).
    Case("7.5", "chronology-cp", [ev("cp_plan_started", "2026-08-31")], "2027-02-28"),
    Case("7.9", "rcpc", [ev("icpc", "2026-11-30")], "2027-02-28", pick=0),
    # RCPC held Fri 26 Feb 2027 + 6 months = Thu 26 Aug 2027.
    Case("7.9", "rcpc", [ev("icpc", "2026-11-30"), ev("rcpc", "2027-02-26")], "2027-08-26"),
    # RCPC booked Thu 7 Jan 2027. 10 WD before: Jan 6(1) 5(2) 4(3) Dec 31(4) 30(5) 29(6) 24(7) 23(8) 22(9) 21(10)
    # (2 weeks before Thu 7 Jan is Thu 24 Dec: 10 WD before is earlier, and holds.)
    Case("7.12", "rcpc-report-to-managers",
         [ev("rcpc", "2027-01-07", status="planned", posted="2026-11-02T09:00")], "2026-12-21"),
    # Earlier holds the other way for a conference on a Saturday, Sat 6 Feb 2027: 10 WD before = Feb 5(1) 4 3 2 1(5)
    # Jan 29 28 27 26 25(10) = Mon 25 Jan; 2 weeks before = Sat 23 Jan, the earlier.
    Case("7.12", "rcpc-report-to-managers",
         [ev("rcpc", "2027-02-06", status="planned", posted="2026-12-01T09:00")], "2027-01-23"),
    Case("7.13", "rcpc-report-to-family",
         [ev("rcpc", "2027-01-07", status="planned", posted="2026-11-02T09:00")], "2026-12-30"),
    # ... 18(11) 17(12) 16(13) 15(14) 14(15)
    Case("7.14", "rcpc-preparation-discussion",
         [ev("rcpc", "2027-01-07", status="planned", posted="2026-11-02T09:00")], "2026-12-14"),
    # 29 Jun 2026 + 8 months = 29 Feb 2027, clipped to Sun 28 Feb.
    Case("7.17", "cp-plan-8-months", [ev("cp_plan_started", "2026-06-29")], "2027-02-28"),
    # 29 Feb 2028 (leap day) + 12 months = 28 Feb 2029.
    Case("7.18", "cp-plan-12-months", [ev("cp_plan_started", "2028-02-29")], "2029-02-28"),
    # 31 Jan 2027 + 13 months = 29 Feb 2028 (a leap year).
    Case("7.19", "cp-plan-13-months", [ev("cp_plan_started", "2027-01-31")], "2028-02-29"),
    # 7.16 Midway Oversight Review: ICPC Thu 17 Dec 2026 + 6 weeks = Thu 28 Jan 2027.
    Case("7.16", "cp-midway-review-first", [ev("icpc", "2026-12-17")], "2027-01-28"),
    # Earlier holds: RCPC Fri 26 Feb 2027, plan continues: 3 months = Wed 26 May; 13 weeks = Feb 28(2) Mar 31(33)
    # Apr 30(63) May 28(91) = Fri 28 May; the months are earlier.
    Case("7.16", "cp-midway-review", [ev("icpc", "2026-12-01"), ev("rcpc", "2027-02-26")], "2027-05-26"),
    # ... RCPC Mon 31 May 2027 (Spring bank holiday): 3 months = Tue 31 Aug; 13 weeks = Jun 30(30) Jul 31(61)
    # Aug 30(91) = Mon 30 Aug (the Late Summer bank holiday: calendar days do not roll), the earlier.
    Case("7.16", "cp-midway-review", [ev("icpc", "2027-03-01"), ev("rcpc", "2027-05-31")], "2027-08-30"),
    # ------------------------------------------------------------- 8. Family Help
    # assessment completed Wed 1 Apr 2026 + 15 WD: Apr 2(1) [3 Good Fri, 4-5, 6 Easter Mon]
    # 7 8 9 10(5) 13-17(10) 20-24(15)
    Case("8.1", "fh-initial-meeting", [ev("assessment_completed", "2026-04-01")], "2026-04-24"),
    # CP plan ended Mon 7 Dec 2026 stepping down: + 6 weeks = Mon 18 Jan 2027.
    Case("8.1", "fh-review-after-cp",
         [ev("icpc", "2026-06-01"), ev("cp_plan_ended", "2026-12-07", step_down=True)], "2027-01-18"),
    Case("8.2", "fh-review", [ev("fh_plan_started", "2026-12-07")], "2027-03-01"),
    # Mon 7 Dec + 20 WD: 8-11(4) 14-18(9) 21-24(13) 29 30 31(16) Jan 4 5 6 7(20)
    Case("8.6", "visits-fh-plan", [ev("fh_plan_started", "2026-12-07")], "2027-01-07"),
    # Earlier holds after a step-down (8.6): the child was last seen on a visit Fri 11 Dec 2026, the plan stepped
    # down Mon 21 Dec. 20 WD from the visit: Dec 14-18(5) 21-24(9) [25, 28 off] 29 30 31(12) [1 Jan] Jan 4-8(17)
    # 11 12 13(20) = Wed 13 Jan 2027; from the step-down it would be 22 23 24(3) 29 30 31(6) Jan 4-8(11)
    # 11-15(16) 18 19 20 21(20) = Thu 21 Jan, later.
    Case("8.6", "visits-fh-plan",
         [ev("icpc", "2026-11-02"), ev("visit", "2026-12-11"), ev("cp_plan_ended", "2026-12-21", step_down=True)],
         "2027-01-13"),
    # The same when the step-down is decided at the Review Conference itself (rcpc, plan=false).
    Case("8.6", "visits-fh-plan",
         [ev("icpc", "2026-11-02"), ev("visit", "2026-12-11"), ev("rcpc", "2026-12-21", plan=False, step_down=True)],
         "2027-01-13"),
    # The step-down starts the Family Help Plan (8.1): its Service Manager review is 6 months from Mon 21 Dec
    # 2026 = Mon 21 Jun 2027.
    Case("8.9", "fh-plan-6-months", [ev("icpc", "2026-11-02"), ev("cp_plan_ended", "2026-12-21", step_down=True)],
         "2027-06-21"),
    # No assessment known: 12 months from the plan's start.
    Case("8.8", "fh-assessment-update", [ev("fh_plan_started", "2026-12-07")], "2027-12-07"),
    # Earlier holds: the assessment completed Thu 31 Dec 2026, the plan started Mon 11 Jan 2027: 12 months from
    # the assessment = Fri 31 Dec 2027 (from the plan it would be Tue 11 Jan 2028).
    Case("8.8", "fh-assessment-update",
         [ev("assessment_allocated", "2026-11-30"), ev("assessment_completed", "2026-12-31"),
          ev("fh_plan_started", "2027-01-11")], "2027-12-31"),
    # ... and an updated assessment, completed Mon 29 Mar 2027 (Easter Monday is no matter for months), re-arms
    # it: 12 months on = Wed 29 Mar 2028.
    Case("8.8", "fh-assessment-update",
         [ev("assessment_completed", "2026-12-31"), ev("fh_plan_started", "2027-01-11"),
          ev("assessment_completed", "2027-03-29")], "2028-03-29"),
    Case("8.9", "fh-plan-6-months", [ev("fh_plan_started", "2026-12-07")], "2027-06-07"),
    Case("8.9", "fh-plan-9-months", [ev("fh_plan_started", "2026-12-07")], "2027-09-07"),
    Case("8.10", "fh-plan-16-months", [ev("fh_plan_started", "2026-12-07")], "2028-04-07"),
    Case("8.12", "chronology-fh", [ev("fh_plan_started", "2026-08-31")], "2027-02-28"),
    # ------------------------------------------------------------- chronology, every child (CCP-3)
    # Assessment allocated Mon 30 Nov 2026 + 6 months = Sun 30 May 2027.
    Case("CCP-3", "chronology", [ev("assessment_allocated", "2026-11-30")], "2027-05-30"),
    # Earlier holds: an ICPC on Tue 15 Dec would set 7.5's 6 months at Tue 15 Jun 2027; the chronology already
    # due Sun 30 May stays the one deadline.
    Case("CCP-3", "chronology", [ev("assessment_allocated", "2026-11-30"), ev("icpc", "2026-12-15")], "2027-05-30"),
    # ... updated Fri 28 May 2027 (Mark done): the Child Protection Plan's 7.5 sets the next, 6 months on, Sun 28 Nov.
    Case("7.5", "chronology-cp",
         [ev("assessment_allocated", "2026-11-30"), ev("icpc", "2026-12-15"),
          ev("task_done", "2027-05-28", rule="chronology")], "2027-11-28"),
    # ------------------------------------------------------------- 9. legal
    # CRP Thu 24 Dec + 5 WD: 29 30 31 Jan 4 5 ; + 10 WD: ... 6 7 8 11 12
    Case("9.2", "letter-of-intent", [ev("pre_proceedings", "2026-12-24")], "2027-01-05"),
    Case("9.2", "initial-pre-proceedings-meeting", [ev("pre_proceedings", "2026-12-24")], "2027-01-12"),
    Case("At a Glance (Pre-Proceedings)", "legal-tracker-meeting", [ev("pre_proceedings", "2026-12-24")],
         "2027-01-05"),
    # initial meeting Tue 12 Jan 2027 + 6 weeks = Tue 23 Feb.
    Case("9.4", "pre-proceedings-review",
         [ev("pre_proceedings", "2026-12-24"), ev("pre_proceedings_meeting", "2027-01-12")], "2027-02-23"),
    # 9.6: PPM Thu 24 Dec 2026 + 5 WD: 29 30 31 Jan 4 5 = Tue 5 Jan 2027.
    Case("9.6", "ppm-minutes-shared",
         [ev("pre_proceedings", "2026-12-01"), ev("pre_proceedings_meeting", "2026-12-24")], "2027-01-05"),
    # Thu 24 Dec + 18 weeks (126 days) = Thu 29 Apr 2027.
    Case("9.7", "pre-proceedings-concluded", [ev("pre_proceedings", "2026-12-24")], "2027-04-29"),
    # Wed 24 Mar 2027 + 10 WD: 25(1) [26 GF, 29 EM] 30 31(3) Apr 1 2(5) 5-9(10)
    Case("9.8", "court-application", [ev("proceedings_decision", "2027-03-24")], "2027-04-09"),
    Case("15.1", "permanency-planning-meeting", [ev("pre_proceedings", "2026-12-24")], "2027-01-21"),
    # SO Mon 21 Dec + 10 WD: 22 23 24(3) 29 30 31(6) Jan 4 5 6 7(10)
    Case("9.11", "visits-supervision-order-first-12-weeks", [ev("supervision_order", "2026-12-21")], "2027-01-07"),
    # Earlier holds: 12 weeks ran out on Mon 15 Mar 2027 with no Service Manager's decision recorded, so a visit
    # Tue 16 Mar re-arms at 10 WD still: 17 18 19(3) 22-25(7) [26 GF, 29 EM] 30 31(9) Apr 1(10) = Thu 1 Apr.
    Case("9.11", "visits-supervision-order-first-12-weeks",
         [ev("supervision_order", "2026-12-21"), ev("visit", "2027-03-16")], "2027-04-01"),
    # The Service Manager decides on Wed 17 Mar that visits can reduce (9.11): 20 WD from the last visit, Tue 16
    # Mar: 17 18 19(3) 22-25(7) [26 GF, 29 EM] 30 31(9) Apr 1 2(11) 5-9(16) 12 13 14 15(20) = Thu 15 Apr.
    Case("9.11", "visits-supervision-order",
         [ev("supervision_order", "2026-12-21"), ev("visit", "2027-03-16")], "2027-04-15",
         decisions=[decided("so_visits_reduced", "2027-03-17T11:00")]),
    Case("9.11", "supervision-order-3-month-review", [ev("supervision_order", "2026-12-21")], "2027-03-15"),
    Case("9.13", "supervision-order-network-meeting", [ev("supervision_order", "2026-12-21")], "2027-02-01"),
    # Earlier holds: network meetings Mon 1 Feb and Fri 12 Mar 2027 (Mark done); with nothing agreed at the 3-month
    # review they stay 6-weekly: Fri 12 Mar + 42 days = Mar 31(19) Apr 23(42) = Fri 23 Apr.
    Case("9.13", "supervision-order-network-meeting",
         [ev("supervision_order", "2026-12-21"), ev("task_done", "2027-02-01", rule="supervision-order-network-meeting"),
          ev("task_done", "2027-03-12", rule="supervision-order-network-meeting")], "2027-04-23"),
    # ... agreed on Mon 15 Mar to reduce to 12-weekly ("thereafter"): 84 days from the last meeting, Fri 12 Mar:
    # Mar 31(19) Apr 30(49) May 31(80) Jun 4(84) = Fri 4 Jun (the May bank holidays do not move calendar weeks).
    Case("9.13", "supervision-order-network-meeting-reduced",
         [ev("supervision_order", "2026-12-21"), ev("task_done", "2027-02-01", rule="supervision-order-network-meeting"),
          ev("task_done", "2027-03-12", rule="supervision-order-network-meeting")], "2027-06-04",
         decisions=[decided("so_meetings_reduced", "2027-03-15T10:00")]),
    Case("9.14", "supervision-order-9-month-review", [ev("supervision_order", "2026-12-21")], "2027-09-21"),
    Case("9.15", "adoption-life-story", [ev("final_order", "2026-12-21", order="adoption")], "2027-03-15"),
    Case("9.16", "later-life-letter-care-order", [ev("final_order", "2026-12-21", order="care_order")], "2027-01-18"),
    # ------------------------------------------------------------- 10/11/13. looked after
    # Wed 23 Dec + 5 WD: 24 29 30 31 Jan 4
    Case("10.1", "settling-in-meeting", [ev("looked_after", "2026-12-23")], "2027-01-04"),
    Case("10.2", "visit-on-entering-care", [ev("looked_after", "2026-12-23")], "2026-12-23", pick=0),
    Case("10.2", "visit-on-entering-care", [ev("looked_after", "2026-12-23"), ev("visit", "2026-12-23")],
         "2026-12-30"),
    # Earlier holds ("4 weekly (20 days)"): visit Wed 30 Dec + 4 weeks = Wed 27 Jan 2027;
    # + 20 WD: 31(1) [1 Jan] Jan 4-8(6) 11-15(11) 18-22(16) 25 26 27 28(20) = Thu 28 Jan.
    Case("10.2", "visits-looked-after",
         [ev("looked_after", "2026-12-23"), ev("visit", "2026-12-23"), ev("visit", "2026-12-30")], "2027-01-27"),
    # Across Easter 2027: visit Mon 22 Mar + 4 weeks = Mon 19 Apr; + 20 WD: 23 24 25(3) [26 GF, 29 EM] 30 31(5)
    # Apr 1 2(7) 5-9(12) 12-16(17) 19 20 21(20) = Wed 21 Apr.
    Case("10.2", "visits-looked-after",
         [ev("looked_after", "2027-03-01"), ev("visit", "2027-03-01"), ev("visit", "2027-03-05"),
          ev("visit", "2027-03-22")], "2027-04-19"),
    # Wed 23 Dec + 20 WD: 24(1) 29 30 31(4) Jan 4-8(9) 11-15(14) 18-22(19) 25(20)
    Case("10.3", "lac-review", [ev("looked_after", "2026-12-23")], "2027-01-25", pick=0),
    # Earlier holds (second review "less than 91 days" (13.2) / "less than 3 months" (11.2)): first review
    # Mon 25 Jan 2027 + 90 days: Jan 31(6) Feb 28(34) Mar 31(65) Apr 25(90) = Sun 25 Apr; the day before
    # 25 Apr (3 months on) = Sat 24 Apr, the earlier: February is short.
    Case("13.2", "lac-review", [ev("looked_after", "2026-12-23"), ev("lac_review", "2027-01-25")], "2027-04-24"),
    # ... and the days are earlier over 31-day months: first review Thu 1 Jul 2027 + 90 days: Jul 31(30)
    # Aug 31(61) Sep 29(90) = Wed 29 Sep; the day before 1 Oct = Thu 30 Sep.
    Case("13.2", "lac-review", [ev("looked_after", "2027-06-01"), ev("lac_review", "2027-07-01")], "2027-09-29"),
    # second review Tue 20 Apr + 182 days: Apr 30(10) May(41) Jun(71) Jul(102) Aug(133) Sep(163) Oct 19(182);
    # the day before 20 Oct (6 months on) is the same Tue 19 Oct.
    Case("13.3", "lac-review",
         [ev("looked_after", "2026-12-23"), ev("lac_review", "2027-01-25"), ev("lac_review", "2027-04-20")],
         "2027-10-19"),
    # Earlier holds (later reviews "less than 183 days" (13.3) / "less than 6 months" (11.2)): review Thu 1 Oct
    # 2026 + 182 days: Oct 31(30) Nov(60) Dec(91) Jan(122) Feb(150) Mar(181) Apr 1(182) = Thu 1 Apr 2027; the
    # day before 1 Apr (6 months on) = Wed 31 Mar, the earlier.
    Case("13.3", "lac-review",
         [ev("looked_after", "2026-06-01"), ev("lac_review", "2026-06-26"), ev("lac_review", "2026-09-01"),
          ev("lac_review", "2026-10-01")], "2027-03-31"),
    Case("10.4", "health-assessment-referral", [ev("looked_after", "2026-10-24T12:00")], "2026-10-25T11:00:00+00:00"),
    Case("10.5", "initial-health-assessment", [ev("looked_after", "2026-12-23")], "2027-01-25"),
    Case("10.7", "first-pep", [ev("looked_after", "2026-12-23")], "2027-01-25"),
    # Earlier holds (10.8, 10.9: "5 days" before; 13.6: "5 working days" before): review booked Mon 4 Jan 2027:
    # 5 days before = Wed 30 Dec; 5 WD before = Dec 31(1) 30(2) 29(3) [28, 25 off] 24(4) 23(5) = Wed 23 Dec.
    Case("10.8", "lac-care-plan", [ev("lac_review", "2027-01-04", status="planned", posted="2026-11-02T09:00")],
         "2026-12-23"),
    Case("10.9", "lac-report-shared", [ev("lac_review", "2027-01-04", status="planned", posted="2026-11-02T09:00")],
         "2026-12-23"),
    # review booked Thu 1 Apr 2027: 5 days before = Sat 27 Mar; 5 WD before = Mar 31(1) 30(2) [29 EM, 26 GF]
    # 25(3) 24(4) 23(5) = Tue 23 Mar.
    Case("10.9", "lac-report-shared", [ev("lac_review", "2027-04-01", status="planned", posted="2027-02-01T09:00")],
         "2027-03-23"),
    # 2 weeks before Mon 4 Jan = Mon 21 Dec.
    Case("11.3", "lac-child-prepared", [ev("lac_review", "2027-01-04", status="planned", posted="2026-11-02T09:00")],
         "2026-12-21"),
    # 15 WD before Mon 4 Jan 2027: Dec 31 30 29(3) 24 23 22 21(7) 18 17 16 15 14(12) 11 10 9(15)
    Case("11.4", "lac-iro-discussion", [ev("lac_review", "2027-01-04", status="planned", posted="2026-11-02T09:00")],
         "2026-12-09"),
    # review held Thu 24 Dec + 5 WD: 29 30 31 Jan 4 5 ; + 20 WD: ... 6 7 8(8) 11-15(13) 18-22(18) 25 26(20)
    Case("11.8", "lac-decisions-shared", [ev("lac_review", "2026-12-24")], "2027-01-05"),
    Case("11.8", "lac-minutes", [ev("lac_review", "2026-12-24")], "2027-01-26"),
    Case("11.1", "lac-care-plan-review", [ev("looked_after", "2026-08-31")], "2027-02-28"),
    # 11.13: first PEP meeting marked done Thu 14 Jan 2027; reviewed 6 months on, Wed 14 Jul 2027.
    Case("11.13", "pep-review",
         [ev("looked_after", "2026-12-23"), ev("task_done", "2027-01-14", rule="first-pep")], "2027-07-14"),
    # 13.9 Midway Oversight Review: first review Mon 25 Jan 2027 + 6 weeks = Mon 8 Mar.
    Case("13.9", "lac-midway-review-first", [ev("looked_after", "2026-12-23"), ev("lac_review", "2027-01-25")],
         "2027-03-08"),
    # Earlier holds: second review Thu 1 Jul 2027: 3 months = Fri 1 Oct; 13 weeks = Jul 31(30) Aug 31(61)
    # Sep 30(91) = Thu 30 Sep, the earlier.
    Case("13.9", "lac-midway-review",
         [ev("looked_after", "2027-05-04"), ev("lac_review", "2027-05-28"), ev("lac_review", "2027-07-01")],
         "2027-09-30"),
    Case("10.10", "viability-assessment", [ev("care_move", "2026-10-23T15:00", connected_carer=True)],
         "2026-10-25T14:00:00+00:00"),
    Case("10.11", "connected-carer-assessment", [ev("care_move", "2026-12-21", connected_carer=True)], "2027-04-12"),
    # ------------------------------------------------------------- 16. private fostering
    # Tue 22 Dec + 7 WD: 23 24(2) 29 30 31(5) Jan 4 5(7)
    Case("16.1", "private-fostering-visit", [ev("private_fostering_notified", "2026-12-22")], "2027-01-05"),
    # + 45 days: Dec 31(9) Jan 31(40) Feb 5(45)
    Case("16.3", "private-fostering-assessment", [ev("private_fostering_notified", "2026-12-22")], "2027-02-05"),
    # assessed Thu 24 Dec + 10 WD: 29 30 31 Jan 4 5 6 7 8 11 12
    Case("16.5", "private-fostering-panel",
         [ev("private_fostering_notified", "2026-11-02"), ev("private_fostering_assessed", "2026-12-24")],
         "2027-01-12"),
    # 16.4: 45 days from the notification, Tue 22 Dec 2026: Dec 31(9) Jan 31(40) Feb 5(45) = Fri 5 Feb 2027.
    Case("16.4", "private-fostering-panel-45-days", [ev("private_fostering_notified", "2026-12-22")], "2027-02-05"),
    Case("16.6", "visits-private-fostering-first-year", [ev("private_fostering_notified", "2026-12-22")],
         "2027-02-02"),
    Case("16.7", "private-fostering-annual-review", [ev("private_fostering_notified", "2026-12-22")], "2027-12-22"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.standard}:{c.rule}:{c.due}" for c in CASES])
def test_due_date_worked_out_by_hand(pack, calendar, case: Case) -> None:
    timeline = run(pack, calendar, case.events, now="2026-01-01T00:00", overrides=case.decisions)
    found = by_rule(timeline, case.rule)
    assert found, f"{case.rule} created no deadline"
    deadline = found[case.pick]
    assert deadline.standard == case.standard
    if "T" in case.due:
        assert deadline.hours_based
        assert deadline.due_at.isoformat() == case.due
    else:
        assert deadline.due.isoformat() == case.due
        # a date-only deadline is overdue from the start of the next day
        assert deadline.due_at.isoformat().startswith(case.due + "T23:59:59")


def test_the_cases_cover_at_least_forty_rules() -> None:
    assert len({c.rule for c in CASES}) >= 40
