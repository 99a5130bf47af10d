"""The Slack bot under load, as a deployment runs it: signed Events API requests at a
steady rate into two `timescales serve` processes sharing one PostgreSQL (a throwaway
cluster, or --sqlite for one file), Web API calls out to a fake Slack on 127.0.0.1.

    python -m bench.slack_load [SECONDS] [PER_SECOND] [--sqlite] [--kill]

Default: 60 s at 50 messages a second. Requests alternate between the two processes,
as a load balancer would send them; a request that gets no 200 is sent again a second
later to the other process, as Slack retries. With --kill, one process is killed
(SIGKILL) a third of the way in and started again at half way.

Prints: requests acknowledged; acknowledgement time (median, p99, max); for every
update acknowledged, whether it was stored (lost = acknowledged and not stored),
whether it got exactly one reply, and how long the reply took to reach Slack after the
message was first sent.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sqlalchemy import create_engine, text

from fake_slack import FakeSlack
from postgres import Cluster
from wire import SECRET, message_event, post_signed

ROOT = Path(__file__).resolve().parent.parent
UNITS = 10
MESSAGES = ["strategy discussion held today for child {n}, S47 agreed", "HV done for {n} today, seen alone",
            "ICPC booked for 14 Dec for {n}", "core group for {n} held today", "what's due this week?",
            "morning all", "FHA completed for {n} yesterday"]


def config() -> str:
    units = [f'[[units]]\nid = "unit-{u}"\nname = "Unit {u}"\nchannel = "C0LOAD{u}"\nteam_manager = "U0TM{u}"\n'
             f'service_manager = "U0SM"\nhead_of_service = "U0HOS"\ncoordinator = "U0UC{u}"\n'
             f'practitioners = ["U0SW{u}"]\n' for u in range(UNITS)]
    return "[reminders]\nclaim_lease_seconds = 10\n\n" + "\n".join(units)


class Process:
    def __init__(self, folder: Path, db: str, env: dict[str, str]) -> None:
        self.folder, self.db, self.env = folder, db, env
        self.url = ""
        self.popen: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--db", self.db],
                                      cwd=self.folder, env=self.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        self.url = f"http://127.0.0.1:{line.split()[3]}/slack/events"

    def kill(self) -> None:
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait()


def main() -> None:
    numbers = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(numbers[0]) if numbers else 60
    rate = float(numbers[1]) if len(numbers) > 1 else 50
    kill = "--kill" in sys.argv
    folder = Path(tempfile.mkdtemp())
    (folder / "timescales.toml").write_text(config())
    cluster = None
    if "--sqlite" in sys.argv:
        db = f"sqlite:///{folder / 'load.db'}"
    else:
        cluster = Cluster()
        cluster.start()
        db = cluster.url
    slack = FakeSlack()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": SECRET, "LOG_LEVEL": "ERROR"}
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--db", db], cwd=folder, env=env, check=True,
                   capture_output=True)
    processes = [Process(folder, db, env), Process(folder, db, env)]
    for p in processes:
        p.start()

    sent_at: dict[str, float] = {}
    acks: list[float] = []
    acknowledged: set[str] = set()
    expect_reply: set[str] = set()
    lock = threading.Lock()

    def send(n: int) -> None:
        unit = n % UNITS
        text = MESSAGES[n % len(MESSAGES)].format(n=1000 + n)
        ts = f"{time.time():.6f}"[:-3] + f"{n % 1000:03d}"
        body = message_event(text, ts, user=f"U0SW{unit}", channel=f"C0LOAD{unit}", event_id=f"Ev{n}")
        sent_at[ts] = time.monotonic()
        for attempt in range(4):  # Slack's retries: the other process, a second later
            target = processes[(n + attempt) % 2]
            t0 = time.perf_counter()
            status = post_signed(target.url, body, timeout=3)
            if status == 200:
                with lock:
                    acks.append(time.perf_counter() - t0)
                    acknowledged.add(ts)
                    if "morning" not in text:
                        expect_reply.add(ts)
                return
            time.sleep(1)

    total = int(seconds * rate)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            pool.submit(send, n)
            elapsed = time.monotonic() - start
            if kill and n == total // 3:
                processes[0].kill()
                print(f"killed one process at {elapsed:.0f} s", flush=True)
            if kill and n == total // 2:
                processes[0].start()
                print(f"started it again at {elapsed:.0f} s", flush=True)
            time.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not expect_reply <= set(slack.arrival):
        time.sleep(0.5)
    replies: dict[str, int] = {}
    for m in slack.posted():
        if m.get("thread_ts"):
            replies[m["thread_ts"]] = replies.get(m["thread_ts"], 0) + 1
    engine = create_engine(db)
    with engine.connect() as connection:
        stored = {r[0] for r in connection.execute(text("select distinct origin_ts from events"))}
        handled = {r[0] for r in connection.execute(text("select ts from inbound_messages"))}
    engine.dispose()
    updates = expect_reply  # every acknowledged message that wants a reply
    lost = {ts for ts in acknowledged if ts not in handled}
    killed = ", one killed and restarted" if kill else ""
    print(f"{'PostgreSQL' if cluster else 'SQLite'}, two serve processes{killed}: "
          f"{total} messages over {seconds:.0f} s ({rate:.0f}/s), {len(acknowledged)} acknowledged with 200")
    print(f"acknowledgement: median {statistics.median(acks) * 1000:.1f} ms, "
          f"p99 {sorted(acks)[int(0.99 * len(acks))] * 1000:.1f} ms, max {max(acks) * 1000:.1f} ms "
          "(target p99 < 300 ms)")
    delays = sorted(slack.arrival[t] - sent_at[t] for t in updates if t in slack.arrival)
    print(f"lost (acknowledged, never handled): {len(lost)}; stored updates: {len(stored & acknowledged)}; "
          f"replies: {len(set(replies) & updates)} of {len(updates)}, "
          f"{sum(1 for c in replies.values() if c > 1)} threads answered twice")
    print(f"time from message to its reply in Slack: median {statistics.median(delays) * 1000:.0f} ms, "
          f"p99 {delays[int(0.99 * len(delays))] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms "
          f"(target: every reply within 2 s)")
    refused = {error for _, _, error in slack.refused}
    if refused:
        print(f"refused by Slack: {len(slack.refused)} ({', '.join(sorted(refused))})")
    for p in processes:
        p.kill()
    slack.close()
    if cluster:
        cluster.remove()


if __name__ == "__main__":
    main()
