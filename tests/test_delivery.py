"""Nothing acknowledged is lost, nothing is sent twice (SPEC section 10), tested as the
unlucky meet it: `timescales serve` killed or stopped with work in hand, the database
stopped or locked, Slack slow, refusing, rate-limiting, unreachable, or dropping the
connection after it read the request. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient
from sqlalchemy import text
from test_scheduler import ROOT, _config_toml, at, post, two_units_overdue_since_friday

import store.db as db_module
from bot.slack_app import SlackSender
from scheduler.outbox import Outbox
from scheduler.sweep import sweep
from store.db import make_engine
from store.ledger import Ledger

from fake_slack import FakeSlack
from helpers import TEST_CONFIG
from postgres import Cluster
from wire import Served


def updates(count: int, first: int = 5000) -> list[tuple[str, str]]:
    """(text, ts) of `count` updates about different children, dated now."""
    now = time.time()
    return [(f"HV done for {first + n} today", f"{now + n / 1000:.6f}") for n in range(count)]


def replies_by_thread(slack: FakeSlack) -> Counter[str]:
    return Counter(m["thread_ts"] for m in slack.posted() if m.get("thread_ts"))


def stored_messages(db_url: str) -> Counter[str]:
    """How many events each Slack message has in the store."""
    engine = make_engine(db_url)
    with engine.connect() as connection:
        from sqlalchemy import text

        rows = connection.execute(text("select message_ts from events where channel = 'C0UNITA'")).all()
    engine.dispose()
    return Counter(r[0] for r in rows)


def settle(served: Served, slack: FakeSlack, expected: set[str], timeout: float = 40) -> None:
    """Wait until every expected thread has its reply, running a sweep now and then (it
    sends the replies a dead process left claimed)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not expected <= set(replies_by_thread(slack)):
        time.sleep(4)
        served.cli("sweep")


def send_at_rate(served: Served, messages: list[tuple[str, str]], per_second: float) -> dict[str, int]:
    statuses: dict[str, int] = {}
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for n, (text, ts) in enumerate(messages):
            pool.submit(lambda t=text, s=ts: statuses.__setitem__(s, served.post(t, s)))
            time.sleep(max(0.0, start + (n + 1) / per_second - time.monotonic()))
    return statuses


def test_sigkill_with_a_slow_slack_loses_nothing_acknowledged_and_replies_once(db_url, tmp_path):
    slack = FakeSlack()
    try:
        slack.delay = 1.5  # each post answered in 1.5 s: work piles up in hand
        served = Served(tmp_path, db_url, slack).start()
        messages = updates(100)
        killer = threading.Timer(3.0, lambda: served.process.kill())  # type: ignore[union-attr]
        killer.start()
        statuses = send_at_rate(served, messages, 20)
        killer.join()
        acknowledged = {ts for ts, status in statuses.items() if status == 200}
        assert 20 <= len(acknowledged) < 100  # some before the kill, none after
        slack.delay = 0
        served.start()
        settle(served, slack, acknowledged)
        stored = stored_messages(db_url)
        assert acknowledged <= set(stored) and set(stored.values()) == {1}  # every acknowledged one, once
        replies = replies_by_thread(slack)
        assert acknowledged <= set(replies) and max(replies.values()) == 1  # a reply each, never two
        served.stop()
    finally:
        slack.close()


def test_sigterm_with_a_backlog_finishes_in_time_and_the_rest_is_done_at_the_next_start(db_url, tmp_path):
    slack = FakeSlack()
    try:
        slack.delay = 1.5
        served = Served(tmp_path, db_url, slack).start()
        messages = updates(40)
        statuses = send_at_rate(served, messages, 40)
        assert set(statuses.values()) == {200}
        code, took = served.stop(signal.SIGTERM)
        assert code == 0 and took < 25
        assert served.post("HV done for 9999 today", f"{time.time():.6f}", timeout=2) == 0  # no longer taking any
        slack.delay = 0
        served.start()
        expected = {ts for _, ts in messages}
        settle(served, slack, expected)
        assert set(stored_messages(db_url)) >= expected and set(stored_messages(db_url).values()) == {1}
        replies = replies_by_thread(slack)
        assert expected <= set(replies) and max(replies.values()) == 1
        served.stop()
    finally:
        slack.close()


def test_postgresql_stopped_means_no_acknowledgement_and_slacks_retry_is_stored(tmp_path):
    cluster = Cluster()
    cluster.start()
    slack = FakeSlack()
    try:
        served = Served(tmp_path, cluster.url, slack).start()
        assert served.get("/ready") == 200
        cluster.stop()
        messages = updates(10)
        refused = [served.post(text, ts) for text, ts in messages]
        assert set(refused) == {503}  # not acknowledged: Slack sends each again
        assert served.get("/health") == 200 and served.get("/ready") == 503
        cluster.start()
        assert [served.post(text, ts) for text, ts in messages] == [200] * 10  # Slack's retries
        assert served.get("/ready") == 200
        expected = {ts for _, ts in messages}
        settle(served, slack, expected)
        assert set(stored_messages(cluster.url)) == expected and set(stored_messages(cluster.url).values()) == {1}
        assert max(replies_by_thread(slack).values()) == 1
        served.stop()
    finally:
        slack.close()
        cluster.remove()


def test_a_sqlite_write_lock_held_elsewhere_is_answered_in_time_and_nothing_acknowledged_is_lost(tmp_path):
    slack = FakeSlack()
    url = f"sqlite:///{tmp_path / 'timescales.db'}"
    try:
        served = Served(tmp_path, url, slack).start()
        locker = subprocess.Popen([sys.executable, "-c", (
            "import sqlite3, sys, time\n"
            f"db = sqlite3.connect({str(tmp_path / 'timescales.db')!r}, isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(8); db.execute('COMMIT')\n")],
            stdout=subprocess.PIPE, text=True)
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        messages = updates(5)
        first = {}
        for text, ts in messages:
            began = time.monotonic()
            first[ts] = served.post(text, ts)
            assert time.monotonic() - began < 3  # Slack's 3 seconds: an answer either way
        assert set(first.values()) <= {200, 503} and 503 in first.values()  # refused while locked, not lost
        locker.wait(30)
        retried = {ts: served.post(text, ts) for text, ts in messages if first[ts] != 200}  # Slack's retries
        assert set(retried.values()) <= {200}
        expected = {ts for _, ts in messages}
        settle(served, slack, expected)
        assert set(stored_messages(url)) == expected and set(stored_messages(url).values()) == {1}
        served.stop()
    finally:
        slack.close()


def test_ready_says_whether_the_store_can_be_used(tmp_path):
    slack = FakeSlack()
    try:
        url = f"sqlite:///{tmp_path / 'timescales.db'}"
        served = Served(tmp_path, url, slack).start()
        assert (served.get("/health"), served.get("/ready"), served.get("/nowhere")) == (200, 200, 404)
        with sqlite3.connect(tmp_path / "timescales.db") as db:
            db.execute("update alembic_version set version_num = '0001'")
        assert served.get("/ready") == 503 and served.get("/health") == 200
        served.stop()
    finally:
        slack.close()


# -- the sending side -------------------------------------------------------------


def outbox(slack: FakeSlack) -> Outbox:
    return Outbox(SlackSender(WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[])),
                  per_channel_gap=0, sleep=lambda s: time.sleep(min(s, 0.05)))


def lines_to(slack: FakeSlack) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for m in slack.posted():
        got.setdefault(m["channel"], []).extend(line for line in m["text"].splitlines() if "child" in line)
    return got


def test_overlapping_sweeps_with_a_slow_slack_send_each_message_once(db_url, tmp_path):
    slack = FakeSlack()
    try:
        store, command, env = two_units_overdue_since_friday(db_url, slack, tmp_path, "2026-11-23T09:05")
        slack.delay = 2.5  # every post is slow: the first sweep is still sending when the next starts
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        slack.wait_for(1, timeout=30)
        time.sleep(7)  # past the first sweep's 6-second lease, which its heartbeat keeps renewing
        second = subprocess.run(command[:-1] + ["2026-11-23T09:10"], env=env, capture_output=True, text=True)
        assert second.returncode == 0, second.stderr
        assert first.wait(120) == 0
        got = lines_to(slack)
        assert {"C0UNITA", "C0UNITB", "U0TM", "U0TMB"} <= set(got)
        assert all(len(v) == len(set(v)) for v in got.values())  # nothing twice to anyone
        assert Ledger(store).count("claimed") == 0
        store.engine.dispose()
    finally:
        slack.close()


def test_with_the_network_refused_a_sweep_ends_quickly_and_the_next_delivers(store):
    post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-20T10:00")
    post(store, "strategy discussion held today for child 888, S47 agreed", "2026-11-20T10:00", "U0SW3", "C0UNITB")
    nowhere = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
    began = time.monotonic()
    report = sweep(store, Outbox(SlackSender(nowhere), per_channel_gap=0), TEST_CONFIG, at("2026-11-23T09:05"))
    assert time.monotonic() - began < 10 and report.messages == {}
    assert set(report.failed) >= {"C0UNITA", "C0UNITB", "U0TM", "U0TMB"} and report.refused == []
    slack = FakeSlack()
    try:
        again = sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-23T09:10"))
        assert again.recovered >= 4 and Ledger(store).count("claimed") == 0
        got = lines_to(slack)
        assert {"C0UNITA", "C0UNITB", "U0TM", "U0TMB"} <= set(got)
        assert all(len(v) == len(set(v)) for v in got.values())
        # The weekly agendas, read only when their message goes, are read again for the retry.
        agendas = [m["text"] for m in slack.posted() if "*Unit meeting agenda" in m["text"]]
        assert len(agendas) == 2 and any("Unit A" in a and "*Child 123*" in a for a in agendas)
        assert any("Unit B" in a and "*Child 888*" in a for a in agendas)
    finally:
        slack.close()


def test_a_connection_dropped_after_slack_read_the_post_is_looked_for_before_any_resend(store):
    slack = FakeSlack()
    try:
        post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-20T10:00")
        slack.drop_after_read = 1  # Slack keeps the first post, the answer never comes
        report = sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-23T09:05"))
        assert report.failed == []
        in_channel = [m for m in slack.history["C0UNITA"]]
        assert len(in_channel) == 1 and Ledger(store).count("claimed") == 0
        methods = [m for m, _ in slack.calls]
        assert methods.count("conversations.history") >= 1
    finally:
        slack.close()


def test_a_channel_that_always_refuses_is_marked_failed_reported_once_a_day_and_retried_daily(store, tmp_path):
    slack = FakeSlack()
    try:
        post(store, "strategy discussion held today for child 123, S47 agreed", "2026-11-20T10:00")
        slack.outside.add("C0UNITA")  # the bot was never invited
        report = sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-23T09:05"))
        assert report.refused == ["C0UNITA"] and Ledger(store).count("failed") >= 1
        reports = [m for m in slack.posted() if "could not deliver" in m["text"]]
        assert sorted(m["channel"] for m in reports) == ["U0TM", "U0UC"]
        assert "I am not in <#C0UNITA>: type /invite @Timescales in that channel." in reports[0]["text"]
        refused_before = len(slack.refused)
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-23T14:05"))  # the same day: no retry, no report
        assert len(slack.refused) == refused_before
        assert len([m for m in slack.posted() if "could not deliver" in m["text"]]) == 2
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-24T09:05"))  # the next day: one try, one report
        assert len(slack.refused) > refused_before
        assert len([m for m in slack.posted() if "could not deliver" in m["text"]]) == 4
        (tmp_path / "timescales.toml").write_text(_config_toml())
        status = subprocess.run([sys.executable, "-m", "bot.cli", "status", "--json", "--db",
                                 store.engine.url.render_as_string(hide_password=False)], cwd=tmp_path,
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        state = json.loads(status.stdout)
        assert state["failed"] >= 1 and state["last_sweep"] is not None
        assert {(f["recipient"], f["error"]) for f in state["failures"]} == {("C0UNITA", "not_in_channel")}
        slack.outside.clear()  # invited at last: the next day's try delivers
        sweep(store, outbox(slack), TEST_CONFIG, at("2026-11-25T09:05"))
        assert Ledger(store).count("failed") == 0
    finally:
        slack.close()


def test_a_thread_reply_refused_with_429_then_500s_still_reaches_its_poster_once(bot, slack):
    slack.failures = [429]  # the first try is rate limited: sent again after Retry-After
    _, ts = bot.message("HV done for 123 today")
    (reply,) = slack.wait_for(1)
    assert reply["thread_ts"] == ts and "Recorded" in reply["text"]
    slack.failures = [500] * 4  # as many as the worker tries (a post, then looks in the thread): left for the sweep
    _, ts2 = bot.message("HV done for 124 today")
    time.sleep(6)
    assert len(slack.posted()) == 1 and Ledger(bot.store).count("claimed") == 1
    sweep(bot.store, outbox(slack), TEST_CONFIG, at("2026-11-23T10:30"))
    replies = [m for m in slack.posted() if m.get("thread_ts") == ts2]
    assert len(replies) == 1 and "child 124" in replies[0]["text"]
    assert "conversations.replies" in [m for m, _ in slack.calls]  # looked in the thread before sending


def test_serve_logs_json_lines_and_no_warning_about_its_token(tmp_path):
    slack = FakeSlack()
    try:
        served = Served(tmp_path, f"sqlite:///{tmp_path / 'timescales.db'}", slack)
        served.env.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
        served.start()
        served.post("HV done for 123 today", f"{time.time():.6f}")
        slack.wait_for(1)
        code, took = served.stop()
        assert code == 0 and took < 25
        assert served.process is not None and served.process.stderr is not None
        lines = [line for line in served.process.stderr.read().splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]  # every line is one JSON record
        assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
        assert not any("token" in r["message"] for r in records)
        assert not any("HV done" in line for line in lines)  # no message text in the logs
    finally:
        slack.close()


def test_in_socket_mode_a_request_the_store_cannot_take_is_not_acknowledged(store, slack):
    """Socket Mode acknowledges only a 200 from the app (slack_bolt's SocketModeHandler)."""
    from slack_bolt.request import BoltRequest

    from bot.conversation import Conversation
    from bot.slack_app import SlackBot

    bot = SlackBot(Conversation(store), "xoxb-test")
    event = {"type": "event_callback", "event_id": "EvSOCKET", "team_id": "T0",
             "event": {"type": "message", "channel": "C0UNITA", "user": "U0SW1", "text": "HV done for 123 today",
                       "ts": "1795428000.000100", "channel_type": "channel"}}
    assert bot.front.dispatch(BoltRequest(body=event, mode="socket_mode")).status == 200
    assert bot.inbox.counts() == {"waiting": 1}
    from store.inbox import Inbox

    bot.inbox = Inbox(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/gone", wait=1))  # the database away
    assert bot.front.dispatch(BoltRequest(body={**event, "event_id": "EvSOCKET2"}, mode="socket_mode")).status == 503


def test_a_pooled_connection_that_rested_through_a_postgresql_restart_is_replaced_not_used(monkeypatch):
    """Connections in use a moment ago go out unpinged (no round trip a transaction); one
    that rested while PostgreSQL restarted is pinged, found dead and replaced, so the first
    request after a quiet spell is not refused."""
    cluster = Cluster()
    cluster.start()
    try:
        engine = make_engine(cluster.url)
        pings: list[bool] = []
        ping = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(True) or ping(connection))
        with engine.connect() as c:
            backend = c.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as c:  # at once: the same connection, not pinged
            assert c.scalar(text("SELECT pg_backend_pid()")) == backend and pings == []
        cluster.stop()
        cluster.start()
        monkeypatch.setattr(db_module, "PING_WHEN_IDLE_FOR", 0.0)  # it has rested long enough
        with engine.connect() as c:
            assert c.scalar(text("SELECT pg_backend_pid()")) != backend and pings
        engine.dispose()
    finally:
        cluster.remove()
