"""The Slack bot under load: signed Events API requests at a steady rate.

    python -m bench.slack_load [SECONDS] [PER_SECOND]      (default: 60 s at 20 messages/s)

Starts the real HTTP app (SQLite file store) and a fake Slack Web API on
127.0.0.1, sends each message as Slack would, and prints: how many requests were
acknowledged, the acknowledgement time (median, p99, max), and how long each
threaded reply took to reach Slack after its message was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_slack import FakeSlack  # noqa: E402

from bot.conversation import Conversation  # noqa: E402
from bot.slack_app import build_app, http_server  # noqa: E402
from rules.config import Config, UnitConfig  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from store.records import Store  # noqa: E402

SECRET = "bench-secret"
UNIT = UnitConfig(id="unit", name="Unit", channel="C0LOAD", team_manager="U0TM", service_manager="U0SM",
                  head_of_service="U0HOS", coordinator="U0UC", practitioners=["U0SW"])
MESSAGES = ["strategy discussion held today for child {n}, S47 agreed", "HV done for {n} today, seen alone",
            "ICPC booked for 14 Dec for {n}", "core group for {n} held today", "what's due this week?",
            "morning all", "FHA completed for {n} yesterday"]


def signed(url: str, body: str) -> urllib.request.Request:
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    slack = FakeSlack()
    os.environ["SLACK_API_URL"] = slack.url
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/load.db"
    upgrade(make_engine(url))
    config = Config(units=[UNIT])
    store = Store.open(url, config)
    store.sync_config(config)
    server = http_server(build_app(Conversation(store), "xoxb-bench", SECRET), 0, host="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/slack/events"

    sent_at: dict[str, float] = {}
    acks: list[float] = []
    statuses: list[int] = []
    expect_reply: set[str] = set()

    def send(n: int) -> None:
        text = MESSAGES[n % len(MESSAGES)].format(n=1000 + n)
        ts = f"{1_790_000_000 + n}.000100"
        event = {"type": "message", "channel": UNIT.channel, "user": "U0SW", "text": text, "ts": ts,
                 "channel_type": "channel"}
        body = json.dumps({"type": "event_callback", "event_id": f"Ev{n}", "event": event})
        if "morning" not in text:
            expect_reply.add(ts)
        t0 = time.perf_counter()
        sent_at[ts] = time.monotonic()
        with urllib.request.urlopen(signed(endpoint, body), timeout=10) as response:
            statuses.append(response.status)
        acks.append(time.perf_counter() - t0)

    total = int(seconds * rate)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for n in range(total):
            pool.submit(send, n)
            time.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len({r["thread_ts"] for r in slack.posted()}) < len(expect_reply):
        time.sleep(0.1)
    replies = {r["thread_ts"] for r in slack.posted()}
    print(f"{total} messages over {seconds:.0f} s ({rate:.0f}/s): {statuses.count(200)} acknowledged with 200, "
          f"{len(statuses) - statuses.count(200)} not")
    print(f"acknowledgement: median {statistics.median(acks) * 1000:.1f} ms, "
          f"p99 {sorted(acks)[int(0.99 * len(acks))] * 1000:.1f} ms, max {max(acks) * 1000:.1f} ms (target p99 < 300 ms)")
    delays = sorted(slack.arrival[t] - sent_at[t] for t in replies if t in sent_at and t in slack.arrival)
    print(f"threaded replies: {len(replies & expect_reply)} of {len(expect_reply)} expected; time to reach Slack: "
          f"median {statistics.median(delays) * 1000:.0f} ms, p99 {delays[int(0.99 * len(delays))] * 1000:.0f} ms, "
          f"max {delays[-1] * 1000:.0f} ms (target: all within 2 s)")
    server.shutdown()
    slack.close()


if __name__ == "__main__":
    main()
