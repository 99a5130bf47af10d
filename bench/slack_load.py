"""The Slack bot under load, as a deployment runs it: signed Events API requests at a
steady rate into two `timescales serve` processes sharing one PostgreSQL (a throwaway
cluster, --server URL, or --sqlite for one file), Web API calls out to a fake Slack on
127.0.0.1, and the scheduler's sweep running in one of them during the load.

    python -m bench.slack_load [SECONDS] [PER_SECOND] [--sqlite | --server URL] [--kill]
                               [--children N] [--backlog weekend|all] [--no-sweep]

Default: 60 s at 50 messages a second into 60 units (bench.growth's). Requests alternate
between the two processes, as a load balancer would send them; a request that gets no
200 is sent again a second later to the other process, as Slack retries. With --kill,
one process is killed (SIGKILL) a third of the way in and started again at half way.

The servers start while the bench holds the service's sweep lock, so their start-up
sweeps find another process sweeping and leave the work alone; the load then begins
LEAD seconds before the next five-minute mark, where the scheduler's sweep in one of
the servers takes it on (so a run waits up to five minutes for that mark; --no-sweep:
`serve --no-scheduler`, no waiting, no sweep at all).

With --children N the store holds a service's caseload: N children with realistic
histories (bench.growth's `fill`: 30 events each, their dates moved on by whole weeks
so that bench.growth's Monday is this week's), every deadline worked out (a full
recompute); the messages are then about those children. The sweep's work: with
--backlog weekend (the default) everything since last Friday 15:00 (a sweep at that
moment is run first, into the ledger), as on a Monday morning; with --backlog all,
everything in its window (a service's first start). The bench's timescales.toml has
working hours 00:00-23:59 and the digest at 00:00, so what the sweep sends does not
depend on the hour the bench is run (it does on the day: at weekends only the urgent go
out; on the first working day of a month the monthly reports go too). --server URL (a
PostgreSQL server's URL) keeps the prepared caseload there as a template database and
runs each time on a copy: preparing 10,000 children takes minutes, a copy seconds.

Prints: requests acknowledged; acknowledgement time (median, p99, max); for every
update acknowledged, whether it was stored (lost = acknowledged and not handled by the
end), whether it got its reply, and how long the reply took to reach Slack after the
message was first sent. Then the sweeps, from the servers' logs (which process swept,
when and for how long; the other one's say another process was sweeping), and the
acknowledgement and reply times of the messages sent while a sweep ran (split by the
process that acknowledged them; either process's workers may handle a message) and
while none did.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sqlalchemy import create_engine, func, select, text

from bench import growth
from bench.sweep import CountingSender
from rules.calendar import LONDON
from rules.config import Config, load_config
from scheduler.outbox import Outbox
from scheduler.sweep import sweep
from store.ledger import Ledger, new_owner
from store.models import DeadlineRecord
from store.records import Store

from fake_slack import FakeSlack
from postgres import Cluster
from wire import SECRET, message_event, post_signed

ROOT = Path(__file__).resolve().parent.parent
UNITS = growth.UNITS
MESSAGES = ["strategy discussion held today for child {n}, S47 agreed", "HV done for {n} today, seen alone",
            "ICPC booked for 14 Dec for {n}", "core group for {n} held today", "what's due this week?",
            "morning all", "FHA completed for {n} yesterday"]
LEAD = 20  # seconds of load before the sweep
LOGGED = re.compile(r"^(\S+ \S+) INFO scheduler\.jobs sweep (started|finished in [\d.]+ s: (.*))$")


def config() -> str:
    """bench.growth's 60 units as timescales.toml, the sweep's work at any hour of a working day."""
    lines = ['working_hours = ["00:00", "23:59"]', "", "[reminders]", "claim_lease_seconds = 10",
             'digest_time = "00:00"', ""]
    for unit in growth.config().units:
        lines.append("[[units]]")
        lines += [f"{name} = {json.dumps(getattr(unit, name))}" for name in
                  ("id", "name", "channel", "team_manager", "service_manager", "head_of_service", "coordinator",
                   "practitioners")]
        lines.append("")
    return "\n".join(lines)


def last_friday() -> datetime:
    """15:00 on the Friday before this week's Monday."""
    today = datetime.now(LONDON).date()
    return datetime.combine(today - timedelta(days=today.weekday() + 3), clock(15), tzinfo=LONDON)


def prepare(db: str, folder: Path, env: dict[str, str], children: int, backlog: str) -> None:
    """The schema, the units and people of the bench's config, and with `children` a
    service's caseload, its deadlines worked out and (backlog weekend) the ledger as a
    sweep at last Friday 15:00 left it."""
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--db", db], cwd=folder, env=env, check=True,
                   capture_output=True)
    if not children:
        return
    cfg = load_config(folder / "timescales.toml")
    store = Store.open(db, cfg)
    friday = last_friday()
    weeks = (friday.date() + timedelta(days=3) - growth.MONDAY.date()).days // 7
    t0 = time.perf_counter()
    growth.fill(store, children, date(2026, 1, 5) + timedelta(weeks=weeks))
    filled = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.recompute_stale()
    full = time.perf_counter() - t0
    with store.session() as s:
        deadlines = s.scalar(select(func.count()).select_from(DeadlineRecord)) or 0
    print(f"preloaded {children:,} children in {UNITS} units ({children * growth.EVENTS_EACH:,} events, "
          f"{filled:.0f} s), full recompute {full:.1f} s ({deadlines:,} deadlines)", flush=True)
    if backlog == "weekend":
        sender = CountingSender()
        t0 = time.perf_counter()
        sweep(store, Outbox(sender, per_channel_gap=0), cfg, friday)
        print(f"a sweep at {friday:%a %d %b %H:%M} into the ledger ({sender.sent:,} messages, "
              f"{time.perf_counter() - t0:.1f} s): the servers' first sweep has everything since", flush=True)
    store.engine.dispose()


class Process:
    def __init__(self, folder: Path, db: str, env: dict[str, str], number: int, options: list[str]) -> None:
        self.folder, self.db, self.env, self.options = folder, db, env, options
        self.log = folder / f"serve{number}.log"
        self.url = ""
        self.popen: subprocess.Popen[str] | None = None
        self.cpu_before = 0.0  # CPU seconds of the process's earlier lives (--kill), and before the load

    def cpu(self) -> float:
        """CPU seconds (user + system) of this process, its lives so far included: the bot's own
        work, not the sweep's process or PostgreSQL's."""
        assert self.popen is not None
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return self.cpu_before + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def launch(self) -> None:
        with self.log.open("a") as log:
            self.popen = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--db", self.db,
                                           *self.options],
                                          cwd=self.folder, env=self.env, stdout=subprocess.PIPE, stderr=log,
                                          text=True)

    def listening(self) -> None:
        assert self.popen is not None and self.popen.stdout is not None
        line = self.popen.stdout.readline()
        self.url = f"http://127.0.0.1:{line.split()[3]}/slack/events"

    def start(self) -> None:
        self.launch()
        self.listening()

    def kill(self) -> None:
        assert self.popen is not None
        self.cpu_before = self.cpu()
        self.popen.kill()
        self.popen.wait()


@dataclass
class Swept:
    process: int
    start: float  # time.time()
    end: float | None  # None: still running when the load ended
    summary: str


def servers_up_for_the_next_sweep(processes: list[Process], db: str, cfg: Config) -> None:
    """Both servers started while the bench holds the service's sweep lock, so that their
    start-up sweeps leave the backlog alone (another process is sweeping, they log); then
    the lock let go and the load begun LEAD seconds before the next five-minute mark,
    where the scheduler's sweep in one of them takes the backlog on, as it would in a
    service that has been up a while."""
    store = Store.open(db, cfg)
    with Ledger(store, timedelta(minutes=10)).sweeping(new_owner()) as mine:
        assert mine, "a sweep is running already"
        for p in processes:
            p.launch()
        for p in processes:
            p.listening()
        while not all(any(s.end is not None for s in sweeps(0, p.log)) for p in processes):
            time.sleep(0.2)
    store.engine.dispose()
    mark = (time.time() + LEAD) // 300 * 300 + 300
    print(f"servers up; their start-up sweeps found the sweep lock held; the next sweep at "
          f"{time.strftime('%H:%M:%S', time.localtime(mark))}, {LEAD} s into the load", flush=True)
    time.sleep(max(0.0, mark - LEAD - time.time()))


def on_server(server: str, folder: Path, env: dict[str, str], children: int, backlog: str) -> str:
    """A database of this run's own on a PostgreSQL server: a copy of a template prepared
    there once (the caseload takes minutes to preload; a copy, seconds)."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    base = server.rsplit("/", 1)[0]
    template = f"slack_load_{children}_{backlog}_{last_friday():%Y%m%d}"
    with admin.connect() as c:
        if not c.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": template}):
            c.execute(text(f"DROP DATABASE IF EXISTS {template}_making"))
            c.execute(text(f"CREATE DATABASE {template}_making"))
            prepare(f"{base}/{template}_making", folder, env, children, backlog)
            c.execute(text(f"ALTER DATABASE {template}_making RENAME TO {template}"))
        run = f"slack_load_run_{os.getpid()}"
        c.execute(text(f"CREATE DATABASE {run} TEMPLATE {template}"))
    admin.dispose()
    return f"{base}/{run}"


def sweeps(process: int, log: Path) -> list[Swept]:
    """The sweeps in a server's log: when each started and finished, and what it said."""
    found: list[Swept] = []
    for line in log.read_text().splitlines():
        logged = LOGGED.match(line)
        if not logged:
            continue
        stamp, millis = logged.group(1).split(",")
        at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
        if logged.group(2) == "started":
            found.append(Swept(process, at, None, "still running when the load ended"))
        elif found:
            found[-1].end, found[-1].summary = at, logged.group(3)
    return found


def figures(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    return (f"{len(ordered):>5}: median {statistics.median(ordered) * 1000:5.0f} ms, "
            f"p99 {ordered[int(0.99 * len(ordered))] * 1000:5.0f} ms, max {ordered[-1] * 1000:5.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", nargs="?", type=float, default=60)
    parser.add_argument("rate", nargs="?", type=float, default=50)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("--children", type=int, default=0)
    parser.add_argument("--backlog", choices=("weekend", "all"), default="weekend")
    parser.add_argument("--no-sweep", action="store_true", help="serve --no-scheduler: no sweep at all")
    parser.add_argument("--server", help="a PostgreSQL server's URL, instead of a throwaway cluster: the caseload "
                        "is prepared there once, as a template database, and each run works on a copy of it")
    args = parser.parse_args()
    if args.children and args.children < UNITS:
        parser.error(f"--children: at least one child a unit ({UNITS})")
    seconds, rate, kill, children = args.seconds, args.rate, args.kill, args.children
    folder = Path(tempfile.mkdtemp())
    (folder / "timescales.toml").write_text(config())
    slack = FakeSlack()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": SECRET, "LOG_LEVEL": "INFO"}
    cluster = None
    if args.server:
        db = on_server(args.server, folder, env, children, args.backlog)
    else:
        if args.sqlite:
            db = f"sqlite:///{folder / 'load.db'}"
        else:
            cluster = Cluster()
            cluster.start()
            db = cluster.url
        prepare(db, folder, env, children, args.backlog)
    serve = ["--no-scheduler"] if args.no_sweep else []
    processes = [Process(folder, db, env, 1, serve), Process(folder, db, env, 2, serve)]
    if args.no_sweep:
        for p in processes:
            p.start()
    else:
        servers_up_for_the_next_sweep(processes, db, load_config(folder / "timescales.toml"))

    sent_at: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    acks: dict[str, tuple[float, int]] = {}  # ts -> (seconds to the 200, the process that gave it)
    expect_reply: set[str] = set()
    lock = threading.Lock()

    def send(n: int) -> None:
        unit = n % UNITS
        if children:  # one of the unit's children, posted by its lead practitioner
            child = unit + UNITS * ((n * 7919) % (children // UNITS))
            number, user = 100000 + child, f"U0SW{unit}X{child % 6}"
        else:
            number, user = 1000 + n, f"U0SW{unit}X0"
        text = MESSAGES[n % len(MESSAGES)].format(n=number)
        ts = f"{time.time():.6f}"[:-3] + f"{n % 1000:03d}"
        body = message_event(text, ts, user=user, channel=f"C0UNIT{unit}", event_id=f"Ev{n}")
        sent_at[ts], sent_wall[ts] = time.monotonic(), time.time()
        for attempt in range(4):  # Slack's retries: the other process, a second later
            target = (n + attempt) % 2
            t0 = time.perf_counter()
            status = post_signed(processes[target].url, body, timeout=3)
            if status == 200:
                with lock:
                    acks[ts] = (time.perf_counter() - t0, target)
                    if "morning" not in text:
                        expect_reply.add(ts)
                return
            time.sleep(1)

    total = int(seconds * rate)
    for p in processes:  # what start-up took is not the load's
        p.cpu_before = -p.cpu()
    load_before = os.getloadavg()[0]
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
    replies: dict[str, list[str]] = {}  # thread -> what was posted in it (an answer may take two replies)
    for m in slack.posted():
        if m.get("thread_ts"):
            replies.setdefault(m["thread_ts"], []).append(m.get("text") or "")
    engine = create_engine(db)
    with engine.connect() as connection:
        stored = {r[0] for r in connection.execute(text("select distinct origin_ts from events"))}
        handled = {r[0] for r in connection.execute(text("select ts from inbound_messages"))}
    engine.dispose()
    updates = expect_reply  # every acknowledged message that wants a reply
    lost = {ts for ts in acks if ts not in handled}
    killed = ", one killed and restarted" if kill else ""
    caseload = f", {children:,} children preloaded (backlog: {args.backlog})" if children else ""
    print(f"{'SQLite' if db.startswith('sqlite') else 'PostgreSQL'}, two serve processes{killed}{caseload}: "
          f"{total} messages over {seconds:.0f} s ({rate:.0f}/s), {len(acks)} acknowledged with 200")
    ack_times = sorted(a for a, _ in acks.values())
    print(f"acknowledgement: median {statistics.median(ack_times) * 1000:.1f} ms, "
          f"p99 {ack_times[int(0.99 * len(ack_times))] * 1000:.1f} ms, max {ack_times[-1] * 1000:.1f} ms "
          "(target p99 < 300 ms)")
    delay = {t: slack.arrival[t] - sent_at[t] for t in updates if t in slack.arrival}
    delays = sorted(delay.values())
    print(f"lost (acknowledged, never handled): {len(lost)}; stored updates: {len(stored & set(acks))}; "
          f"replies: {len(set(replies) & updates)} of {len(updates)}, "
          f"{sum(1 for t in replies.values() if len(set(t)) < len(t))} threads with a reply posted twice")
    print(f"time from message to its reply in Slack: median {statistics.median(delays) * 1000:.0f} ms, "
          f"p99 {delays[int(0.99 * len(delays))] * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms "
          f"(target: every reply within 2 s)")
    refused = {error for _, _, error in slack.refused}
    if refused:
        print(f"refused by Slack: {len(slack.refused)} ({', '.join(sorted(refused))})")
    cpu = sum(p.cpu() for p in processes)
    print(f"the serve processes' CPU: {cpu:.1f} s, {cpu / max(1, len(acks)) * 1000:.1f} ms a message acknowledged "
          f"(load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
    for p in processes:
        p.kill()
    slack.close()
    if cluster:
        cluster.remove()
    elif args.server:
        admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE {db.rsplit('/', 1)[1]}"))
        admin.dispose()
    windows(processes, sent_wall, acks, delay)


def windows(processes: list[Process], sent_wall: dict[str, float], acks: dict[str, tuple[float, int]],
            delay: dict[str, float]) -> None:
    """The sweeps the servers logged, and the messages' figures while one ran and while none did."""
    found = [s for number, p in enumerate(processes) for s in sweeps(number, p.log)]
    print("sweeps (from the servers' logs):")
    for s in sorted(found, key=lambda s: s.start):
        took = f"for {s.end - s.start:.1f} s" if s.end is not None else ""
        print(f"  process {s.process + 1} at {time.strftime('%H:%M:%S', time.localtime(s.start))} {took}: {s.summary}")
    running = [s for s in found if not s.summary.startswith("another process")]

    def sweeping(ts: str, process: int | None = None) -> bool:
        return any(s.start <= sent_wall[ts] <= (s.end or float("inf")) for s in running
                   if process is None or s.process == process)

    during = {ts for ts in acks if sweeping(ts)}
    to_sweeper = {ts for ts in during if sweeping(ts, acks[ts][1])}
    print("sent while                     acknowledgement                              reply in Slack")
    for name, group in (("a sweep ran", during), ("  to the sweeping process", to_sweeper),
                        ("  to the other", during - to_sweeper), ("no sweep ran", set(acks) - during)):
        print(f"  {name:<28} {figures([acks[t][0] for t in group]):<45} "
              f"{figures([delay[t] for t in group if t in delay])}")


if __name__ == "__main__":
    main()
