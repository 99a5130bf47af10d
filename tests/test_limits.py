"""Every message and view fits Slack at a real service's size (SPEC section 10): five
units of 60 children, hundreds of items overdue and due in each, one service manager,
one head of service and one child protection lead over all five. Every payload the bot
sends is checked by the fake Slack, which refuses what Slack refuses, and by slack_sdk's
own Block Kit models."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from test_delivery import outbox

from bot.parser import parse
from bot.replies import deadline_line, unit_counts
from rules.calendar import LONDON
from rules.config import Config, UnitConfig
from scheduler.sweep import sweep
from store.db import make_engine, upgrade
from store.records import NewEvent, Posting, Store, page_key

from fake_slack import FakeSlack
from helpers import UNIT_A, UNIT_B, due_for, new_database
from wire import Bot

UNITS = [UnitConfig(id=f"unit-{u}", name=f"Unit {u}", channel=f"C0SVC{u}", team_manager=f"U0TM{u}",
                    service_manager="U0SM", head_of_service="U0HOS", coordinator=f"U0UC{u}",
                    practitioners=[f"U0SW{u}"], child_protection_lead="U0CPL") for u in range(5)]
SERVICE = Config(units=UNITS)
NOW = datetime(2026, 11, 23, 10, tzinfo=LONDON)  # a Monday: the agendas go out


def children_of(unit: int) -> list[str]:
    return [str(40000 + unit * 100 + n) for n in range(60)]


@pytest.fixture(scope="module")
def service(tmp_path_factory, request):
    """The store, built once: each child was referred in October, its assessment allocated a
    month ago, a visit four weeks ago and a strategy discussion (S47) three weeks ago, and it
    has an ICPC booked next week: some 400 items overdue and 100 due in each unit."""
    url = new_database("sqlite", tmp_path_factory.mktemp("service"), request)
    upgrade(make_engine(url))
    store = Store.open(url, SERVICE)
    store.sync_config(SERVICE)
    for u, unit in enumerate(UNITS):
        for n, child in enumerate(children_of(u)):
            posted = datetime(2026, 11, 2, 16, tzinfo=LONDON)
            store.record(Posting(unit.id, unit.channel, f"{child}.1", f"U0SW{u}", posted, "history"), [
                NewEvent(child, "visit", date(2026, 10, 26)),
                NewEvent(child, "strategy_discussion", date(2026, 11, 2), details={"s47": True}),
                NewEvent(child, "referral_received", date(2026, 10, 1)),
                NewEvent(child, "assessment_allocated", date(2026, 10, 20)),
                NewEvent(child, "icpc", date(2026, 11, 30) + timedelta(days=n % 5), status="planned")])
    yield url, store
    store.engine.dispose()


@pytest.fixture
def wire(service, monkeypatch):
    url, store = service
    slack = FakeSlack()
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    bot = Bot(store, slack, now=NOW)
    yield bot, slack
    end = time.monotonic() + 30  # the store is shared: leave no request for the next test's bot
    while time.monotonic() < end and {"waiting", "working"} & set(bot.slack_bot.inbox.counts()):
        time.sleep(0.1)
    bot.close()
    slack.close()


def quiet(slack: FakeSlack, for_seconds: float = 1.5) -> None:
    """Until the bot has stopped posting."""
    seen, still = -1, 0.0
    while still < for_seconds:
        count = len(slack.calls)
        still = still + 0.1 if count == seen else 0.0
        seen = count
        time.sleep(0.1)


def acceptable(call: dict) -> None:
    """slack_sdk's Block Kit models accept it (the fake has already applied Slack's limits)."""
    for block in Block.parse_all(call.get("blocks") or []):
        block.validate_json()
    assert len(call.get("text") or "") <= 40_000


def everything_sent(slack: FakeSlack) -> list[dict]:
    assert slack.refused == [], [(m, e) for m, _, e in slack.refused]
    sent = [args for method, args in slack.calls if method in ("chat.postMessage", "chat.postEphemeral",
                                                                "response_url")]
    for call in sent:
        acceptable(call)
    return sent


def next_page(message: dict) -> dict | None:
    return next((e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "due_page"), None)


def to_the_last_page(bot: Bot, slack: FakeSlack, first: dict, channel: str, user: str) -> list[dict]:
    """A paged list followed to its end, `user` pressing each page's Next page in `channel`."""
    pages = [first]
    while button := next_page(pages[-1]):
        posted = len(slack.posted())
        bot.click("due_page", {**json.loads(button["value"]), "channel": channel}, user=user)
        pages.append(slack.wait_for(posted + 1)[posted])
        assert pages[-1]["channel"] == channel
    return pages


def test_the_service_is_as_big_as_a_real_one(service):
    _, store = service
    overdue = store.due([u.id for u in UNITS], NOW, overdue_only=True)
    due = [i for i in store.due([u.id for u in UNITS], NOW) if not i.overdue]
    assert len(overdue) >= 5 * 200 and len(due) >= 5 * 90  # a real backlog in every unit


def test_every_answer_fits_slack_and_a_managers_shows_every_overdue_child(wire, service):
    bot, slack = wire
    for u in range(5):
        bot.message("what's due this week?", user=f"U0SW{u}", channel=f"C0SVC{u}")
        bot.message("what's overdue?", user=f"U0TM{u}", channel=f"C0SVC{u}")
    bot.message("what's due this week?", user="U0SM", channel="D_U0SM", channel_type="im")
    _, asked = bot.message("what's overdue?", user="U0HOS", channel="D_U0HOS", channel_type="im")
    bot.command("due week", user="U0SM", channel="C0SVC0")
    slack.wait_for(1, "response_url")
    quiet(slack)
    sent = everything_sent(slack)
    # The head of service over five units gets each unit's counts first, with a button per unit...
    summary = next(m for m in sent if m.get("channel") == "D_U0HOS")
    assert all(f"Unit {u}: " in summary["text"] for u in range(5))
    buttons = [e for b in summary["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == [f"Show Unit {u}" for u in range(5)]
    shown = ""
    for b in buttons:  # each unit's list, a page at a time
        posted = len(slack.posted())
        bot.click(b["action_id"], {**json.loads(b["value"]), "channel": "D_U0HOS"}, user="U0HOS")
        first = slack.wait_for(posted + 1)[posted]
        assert "Page 1 of " in first["text"]
        shown += " ".join(m["text"] for m in to_the_last_page(bot, slack, first, "D_U0HOS", "U0HOS"))
    quiet(slack)
    sent = everything_sent(slack)
    _, store = service
    overdue_children = {i.record.child for i in store.due([u.id for u in UNITS], NOW, overdue_only=True)}
    assert overdue_children and all(f"child {c}:" in shown for c in overdue_children)
    # ...and a unit's channel answer holds only that unit's children.
    unit_0 = " ".join(m["text"] for m in sent if m.get("channel") == "C0SVC0")
    assert "child 40001:" in unit_0 and not re.search(r"child 40[1-4]\d\d:", unit_0)


def test_app_home_fits_for_a_manager_over_five_units(wire):
    bot, slack = wire
    for user in ("U0HOS", "U0TM0", "U0SW1"):
        bot.event({"type": "app_home_opened", "user": user, "channel": f"D_{user}", "tab": "home"})
    views = slack.wait_for(3, "views.publish")
    assert slack.refused == []
    for call in views:
        View(type="home", blocks=call["view"]["blocks"]).validate_json()
        assert len(call["view"]["blocks"]) <= 100
    hos = json.dumps(next(v for v in views if v["user_id"] == "U0HOS")["view"])
    assert all(f"Unit {u}: " in hos for u in range(5)) and "more: message me" in hos


def test_the_weekly_agenda_shows_every_child_of_every_unit_and_digests_fit(wire, service):
    bot, slack = wire
    _, store = service
    sweep(store, outbox(slack), SERVICE, NOW)
    sent = everything_sent(slack)
    for u in range(5):
        agenda = "\n".join(m["text"] for m in sent if m.get("channel") == f"C0SVC{u}")
        assert f"Unit meeting agenda, Unit {u}" in agenda
        assert all(f"*Child {c}*" in agenda for c in children_of(u))  # every child, every week
        order = [int(c) for c in re.findall(r"\*Child (\d+)\*", agenda)]
        assert order == sorted(order) and len(order) == 60  # each once, in the same order each week
    digest = next(m for m in sent if m.get("channel") == "U0HOS")
    assert "more, less late" in digest["text"]


def test_a_reply_about_many_children_fits(wire):
    bot, slack = wire
    children = ", ".join(str(48000 + n) for n in range(40))
    bot.message(f"strategy discussion held today for children {children}, S47 agreed", user="U0SW0",
                channel="C0SVC0", ts=f"{NOW.timestamp() + 5000:.6f}")  # the store is shared: a ts of its own
    slack.wait_for(1, timeout=20)
    quiet(slack)
    sent = everything_sent(slack)
    replies = [m for m in sent if m.get("channel") == "C0SVC0"]
    recorded = " ".join(m["text"] for m in replies)
    assert all(f"child {48000 + n}" in recorded for n in range(40))
    assert sum(b["type"] == "section" for m in replies for b in m["blocks"]) > 2  # over several sections


def test_a_units_long_list_comes_a_page_at_a_time_with_every_item_once(wire, service):
    """Hundreds of items in a unit's channel: a page with the unit's counts and a Next page
    button, and the pages together are the whole list, each item once, in the list's order;
    someone of another unit pressing Next page there is refused and shown nothing."""
    bot, slack = wire
    _, store = service
    bot.message("what's due this week?", user="U0SW1", channel="C0SVC1", ts=f"{NOW.timestamp() + 6000:.6f}")
    first = slack.wait_for(1, timeout=20)[0]
    asked = parse("what's due this week?", NOW).query
    assert asked is not None
    whole = store.due(["unit-1"], NOW, asked.start, asked.end)
    overdue = sum(i.overdue for i in whole)
    assert f"Unit 1: {overdue} overdue, {len(whole) - overdue} due" in first["text"]
    assert f"Page 1 of {-(-len(whole) // 100)}: items 1-100 of {len(whole)}" in first["text"]
    # Someone of another unit presses it: refused, only to them, nothing listed.
    bot.click("due_page", {**json.loads(next_page(first)["value"]), "channel": "C0SVC1"}, user="U0SW2")
    (refusal,) = slack.wait_for(1, "chat.postEphemeral")
    assert refusal["user"] == "U0SW2" and "not in this channel's unit" in refusal["text"]
    assert "child 4" not in refusal["text"]
    pages = to_the_last_page(bot, slack, first, "C0SVC1", "U0SW1")
    listed = [line.removeprefix(":red_circle: ").removeprefix("• ") for page in pages
              for line in page["text"].splitlines() if line.startswith((":red_circle: child", "• child"))]
    assert listed == [deadline_line(i.record, NOW.date() if i.overdue else None) for i in
                      sorted(whole, key=lambda i: not i.overdue)]
    assert "Next page" not in json.dumps(pages[-1]["blocks"]) and len(pages) == -(-len(whole) // 100)
    everything_sent(slack)


def lines_of(pages: list[dict]) -> list[str]:
    """The item lines of a list's pages, in order, as `deadline_line` writes them."""
    return [line.removeprefix(":red_circle: ").removeprefix("• ") for page in pages
            for line in page["text"].splitlines() if line.startswith((":red_circle: child", "• child"))]


def as_listed(items: list) -> list[str]:
    return [deadline_line(i.record, NOW.date() if i.overdue else None) for i in sorted(items, key=lambda i: not i.overdue)]


def test_a_persons_own_long_list_comes_a_page_at_a_time_and_only_for_them(wire, service, monkeypatch):
    """"What's due for me" for the child protection lead over all five units (hundreds of
    conference tasks): a page at a time, the most urgent first across their units, each page
    read alone (nothing loads the whole list) with only its children in the access log; the
    pages together are their whole list, each item once, in order. In a unit's channel, where
    others see the list, anyone else pressing its Next page (a member of that unit too) is
    refused, only they see it, and shown nothing."""
    bot, slack = wire
    _, store = service
    whole = due_for(store, "U0CPL", NOW)
    in_unit_1 = [i for i in whole if i.record.unit_id == "unit-1"]
    assert len({i.record.unit_id for i in whole}) == 5 and len(whole) > 300 and len(in_unit_1) > 100

    def whole_list(*args, **kwargs):
        raise AssertionError("a person's list read whole")

    monkeypatch.setattr(Store, "due", whole_list)
    logged = len(store.access_log(user="U0CPL"))
    bot.message("what's due for me?", user="U0CPL", channel="D_U0CPL", channel_type="im")
    first = slack.wait_for(1, timeout=20)[0]
    assert f"Page 1 of {-(-len(whole) // 100)}: items 1-100 of {len(whole)}, the most urgent first" in first["text"]
    for u in range(5):
        theirs = [i for i in whole if i.record.unit_id == f"unit-{u}"]
        overdue = sum(i.overdue for i in theirs)
        assert f"Unit {u}: {overdue} overdue, {len(theirs) - overdue} due" in first["text"]
    pages = to_the_last_page(bot, slack, first, "D_U0CPL", "U0CPL")
    assert lines_of(pages) == as_listed(whole) and len(pages) == -(-len(whole) // 100)
    assert "Next page" not in json.dumps(pages[-1]["blocks"])
    ordered = sorted(whole, key=lambda i: not i.overdue)
    logs = store.access_log(user="U0CPL")[logged:]
    assert [(log.via, log.shown) for log in logs] == [
        ("dm", sorted({i.record.child for i in ordered[k:k + 100]})) for k in range(0, len(whole), 100)]
    assert len(logs[0].shown) < len({i.record.child for i in whole})  # the page's children, not all of theirs

    # In unit 1's channel: that unit's part of their list, which others there read too.
    posted = len(slack.posted())
    bot.message("what's due for me?", user="U0CPL", channel="C0SVC1", ts=f"{NOW.timestamp() + 7000:.6f}")
    here = slack.wait_for(posted + 1, timeout=20)[posted]
    assert f"Page 1 of 2: items 1-100 of {len(in_unit_1)}" in here["text"] and "Unit 0" not in here["text"]
    button = json.loads(next_page(here)["value"])
    assert button["for"] == "U0CPL"
    logged = len(store.access_log())
    for other in ("U0SW1", "U0TM1", "U0SW2"):  # in the unit, its manager, another unit's practitioner
        bot.click("due_page", {**button, "channel": "C0SVC1"}, user=other)
    refusals = slack.wait_for(3, "chat.postEphemeral")
    assert sorted(r["user"] for r in refusals) == ["U0SW1", "U0SW2", "U0TM1"]
    assert all("only they can turn its pages" in r["text"] and "child 4" not in json.dumps(r) for r in refusals)
    assert len(store.access_log()) == logged  # shown nothing
    rest = to_the_last_page(bot, slack, here, "C0SVC1", "U0CPL")
    assert lines_of(rest) == as_listed(in_unit_1) and len(rest) == 2
    assert len(slack.posted("chat.postEphemeral")) == 3  # nobody else was shown a page
    everything_sent(slack)


def test_a_persons_list_is_paged_in_the_database_and_keeps_its_place(store):
    """A team manager over two units who also leads children of one: their list (the
    children they lead, every task; their role's tasks in both units) counted and read a
    page at a time in SQL is the list `due_for` works out from everything, each item once,
    in order. Between two pages a child shown on the first is closed and a child is recorded
    whose items come before the page's end: the next page starts after the last item shown,
    so nothing moves past the reader and nothing comes twice."""
    store.sync_config(Config(units=[UNIT_A, UNIT_B.model_copy(update={"team_manager": "U0TM"})]))
    units, per_page = ["unit-a", "unit-b"], 7

    def referred(unit: str, by: str, children: list[str], ts: str, day: date) -> None:
        store.record(Posting(unit, f"C0{unit.upper().replace('-', '')}", ts, by, datetime(2026, 11, 2, 16,
                                                                                             tzinfo=LONDON)),
                     [e for c in children for e in (NewEvent(c, "assessment_allocated", day),
                                                    NewEvent(c, "strategy_discussion", day, details={"s47": True}))])

    referred("unit-a", "U0SW1", [str(61000 + n) for n in range(4)], "a.1", date(2026, 10, 20))
    referred("unit-b", "U0SW3", [str(62000 + n) for n in range(4)], "b.1", date(2026, 11, 16))
    referred("unit-b", "U0TM", ["62100"], "b.2", date(2026, 11, 18))  # led by the manager: every task theirs

    def whole() -> list:
        return sorted(due_for(store, "U0TM", NOW), key=lambda i: not i.overdue)

    def read_from(after: list | None) -> list[str]:
        paged: list[str] = []
        while page := store.due_page(units, NOW, after, per_page, whose="U0TM"):
            assert len(page) <= per_page
            paged, after = paged + [i.record.id for i in page], page_key(page[-1])
        return paged

    before = whole()
    assert {i.record.unit_id for i in before} == set(units) and {i.overdue for i in before} == {True, False}
    assert any("TM" not in i.record.responsible for i in before)  # the child they lead: not only a TM's tasks
    assert len(before) > 3 * per_page and len({i.record.id for i in before}) == len(before)
    assert store.due_counts(units, NOW, whose="U0TM") == unit_counts(before)
    assert read_from(None) == [i.record.id for i in before]
    assert store.due_page(units, NOW, None, per_page, whose="U0SW2") == []  # leads nothing, no role's tasks
    # Between two pages.
    first = store.due_page(units, NOW, None, per_page, whose="U0TM")
    closed = next(i.record.child for i in first if i.record.child != first[-1].record.child)
    store.record(Posting("unit-a", "C0UNITA", "a.2", "U0SW1", NOW), [NewEvent(closed, "case_closed", NOW.date())])
    referred("unit-a", "U0SW1", ["61100"], "a.3", date(2026, 10, 1))  # more overdue than the first page
    after = whole()
    assert closed not in {i.record.child for i in after} and "61100" in {i.record.child for i in after}
    at = [i.record.id for i in after].index(first[-1].record.id)
    assert at != per_page - 1  # the items before the page's end are not those it showed
    rest = read_from(page_key(first[-1]))
    assert rest == [i.record.id for i in after[at + 1:]]  # from the last item shown, whatever came before it
    assert [i.record.id for i in before[per_page:] if i.record.child != closed] == [
        i for i in rest if i in {d.record.id for d in before}]  # none of what was still to come passed over
    assert not set(rest) & {i.record.id for i in first}  # nor shown again
