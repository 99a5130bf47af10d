"""The `timescales` command (SPEC section 5).

Bad input exits non-zero with one line on stderr saying what to fix; nothing
here ever lets a traceback reach the user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, cast

from rules.zone import LONDON

# What most commands need (SQLAlchemy, Slack, APScheduler, the store, the rule pack, even
# logging) is imported inside the commands that use it: `timescales parse` loads only the parser.
if TYPE_CHECKING:
    from bot.chat import TerminalSender
    from bot.parser import ParseResult
    from bot.slack_app import SlackBot, SlackSender
    from rules.config import Config
    from rules.model import Deadline, DetailValue, Event, Rule
    from rules.pack import RulePack
    from scheduler.jobs import Scheduled
    from store.records import Store

DEFAULT_DB = "sqlite:///timescales.db"
DEFAULT_CONFIG = "timescales.toml"

class UsageError(ValueError):
    """Something the user typed that we cannot act on."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# -- reading what the user typed ------------------------------------------------
@dataclass(frozen=True)
class Instant:
    day: date
    clock: time | None  # None when only a date was given
    moment: datetime  # with zone; midnight London for a date alone


def parse_instant(text: str, option: str) -> Instant:
    """ISO 8601 date or date-time; without an offset it is London local time."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return Instant(day, None, datetime.combine(day, time(0), tzinfo=LONDON))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} '{text}' is not an ISO 8601 date or date-time, "
                         "e.g. 2026-11-23 or 2026-11-23T10:00") from None
    moment = moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment.astimezone(LONDON)
    return Instant(moment.date(), moment.time().replace(tzinfo=None), moment)


def parse_detail(text: str) -> tuple[str, DetailValue]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--detail '{text}' should look like KEY=VALUE, e.g. s47=true or rag=red")
    value: DetailValue
    if raw.lower() in ("true", "yes"):
        value = True
    elif raw.lower() in ("false", "no"):
        value = False
    elif raw.isdigit():
        value = int(raw)
    else:
        value = raw.lower()
    return key, value


def check_child(child: str) -> str:
    from bot.parser.tokens import plain_digits

    number = plain_digits(child).lstrip("#")
    if not (number.isascii() and number.isdigit()):
        raise UsageError(f"child '{child}' should be the child's number (digits only, no names)")
    return number


def check_event(pack: RulePack, name: str) -> str:
    import difflib

    if name in pack.vocabulary.events:
        return name
    close = difflib.get_close_matches(name, list(pack.vocabulary.events), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; 'timescales rules' lists the events rules listen to"
    raise UsageError(f"unknown event '{name}'{hint}")


# -- output --------------------------------------------------------------------
# strftime's %a and %b as Python leaves them (the C locale), looked up: a strftime call costs
# microseconds, and `timescales parse -` names a day on most of its lines.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def for_people(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def deadline_line(d: Deadline) -> str:
    due = for_people(d.due) + (f" {d.due_at:%H:%M}" if d.hours_based else "")
    state = d.state + (" (late)" if d.late else "")
    line = f"{due:<22} {d.standard:<12} {d.title} [{', '.join(d.responsible)}] {state}"
    if d.override:
        line += f" (moved from {d.override['was']} by {d.override['by']}: {d.override['reason']})"
    return line


def describe_timescale(pack: RulePack, rule: Rule) -> str:
    text = ", then ".join(step.describe() for step in rule.steps)
    if rule.recurs:
        text += ", repeating"
    if rule.active_for:
        text += f" (for the first {rule.active_for.describe()})"
    return text


def rule_row(pack: RulePack, rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "standard": rule.standard,
        "also_cites": rule.also_cites,
        # every point the rule encodes, its steps' included: searching for 13.3 finds 10.3's rule
        "points": [rule.standard, *rule.also_cites],
        "source": pack.source_name(rule),
        "title": rule.title,
        "trigger": [m.describe() for m in pack.triggers(rule)],
        "timescale": describe_timescale(pack, rule),
        "met_by": [m.describe() for m in rule.met_by],
        "responsible": rule.responsible,
        "in_force": pack.in_force(rule),
        "note": rule.note,
    }


# -- commands --------------------------------------------------------------------
@dataclass
class Context:
    args: argparse.Namespace
    config: Config  # not read for `parse`, which needs none
    config_found: bool

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))


def cmd_rules(ctx: Context) -> int:
    pack = ctx.config.rule_pack()
    rows = [rule_row(pack, rule) for rule in pack.rules]
    if ctx.json:
        print(json.dumps(rows, indent=1))
        return 0
    for rule, row in zip(pack.rules, rows, strict=True):
        flag = "" if row["in_force"] else "  (off by default: enabled_rules turns it on)"
        also = f" (also {', '.join(rule.also_cites)})" if rule.also_cites else ""
        print(f"{row['standard']:<12} {row['title']}{also}{flag}")
        print(f"{'':<12} when: {' or '.join(row['trigger'])}")  # type: ignore[arg-type]
        print(f"{'':<12} within: {row['timescale']}; done by: {' or '.join(row['met_by'])}")  # type: ignore[arg-type]
        print(f"{'':<12} responsible: {', '.join(row['responsible'])}; source: {row['source']}")  # type: ignore[arg-type]
    print(f"{len(rows)} rules from {', '.join(pack.vocabulary.sources.values())}")
    return 0


def read_history(path: str, pack: RulePack, now: datetime) -> list[Event]:
    """One child's events from a CSV in the one-row-per-event layout of SPEC section 9
    (`child,unit,lead,event,date,time,status,details`; child and unit may be empty), read
    as an import reads it. Every problem is reported at once, with its row (the header is
    row 1) and column."""
    from rules.caseload import decode, read_caseload
    from rules.model import Event

    try:
        text = decode(Path(path).read_bytes())
    except OSError as exc:
        raise UsageError(f"--history {path}: {exc.strerror or exc}") from None
    found = read_caseload(text, frozenset(pack.vocabulary.events), now.astimezone(LONDON).date(), one_child=True)
    problems = [f"row {p.row}, {p.column}: {p.problem}" if p.column else f"row {p.row}: {p.problem}"
                for p in found.problems]
    if found.layout != "events":
        problems.append("the header should be child,unit,lead,event,date,time,status,details")
    children = sorted(c for c in found.children if c)
    if len(children) > 1:
        problems.append(f"the history is of one child; it names {len(children)}: {', '.join(children)}")
    if not found.rows and not problems:
        problems.append("no events (a header, then one row per event)")
    if problems:
        raise UsageError(f"--history {path}: nothing worked out:\n  " + "\n  ".join(problems))
    child = children[0] if children else "0"
    return [Event(id=f"row-{r.line}", child=child, event=r.event, date=r.date, status=r.status, time=r.time,
                  details=r.details) for r in found.rows]


def cmd_deadlines(ctx: Context) -> int:
    from rules.engine import child_deadlines
    from rules.model import Event

    args = ctx.args
    pack = ctx.config.rule_pack()
    if args.history:
        return _history_deadlines(ctx, pack)
    if not args.event or not args.at:
        raise UsageError("give --event NAME --at ISO (one event), or --history FILE (one child's history)")
    name = check_event(pack, args.event)
    at = parse_instant(args.at, "--at")
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    details = dict(parse_detail(d) for d in args.detail)
    child = check_child(args.child) if args.child else "0"
    event = Event(id="event-1", child=child, event=name, date=at.day, status=args.status,
                  time=at.clock, details=details, posted_at=now)
    timeline = child_deadlines([event], pack, ctx.config.calendar(), now)
    if ctx.json:
        print(json.dumps([d.as_json() for d in timeline.deadlines], indent=1))
        return 0
    if not timeline.deadlines:
        print(f"No timescale starts from {name} ({args.status}) with those details.")
        return 0
    if event.id in timeline.assumed_times and any(d.hours_based for d in timeline.deadlines):
        print(f"No time given: assumed {timeline.assumed_times[event.id]} for the hour-based timescales.")
    for deadline in sorted(timeline.deadlines, key=lambda d: d.due_at):
        print(deadline_line(deadline))
    return 0


def _history_deadlines(ctx: Context, pack: RulePack) -> int:
    """The engine over one child's whole history (SPEC section 5): stores nothing."""
    from rules.engine import child_deadlines

    args = ctx.args
    if args.event or args.at or args.detail or args.child or args.status != "done":
        raise UsageError("--history takes the whole history from the file: leave out --event, --at, --status, "
                         "--detail and --child")
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    events = read_history(args.history, pack, now)
    timeline = child_deadlines(events, pack, ctx.config.calendar(), now)
    if ctx.json:
        print(json.dumps([d.as_json() for d in timeline.deadlines], indent=1))
        return 0
    if not timeline.deadlines:
        print("No timescale starts from this history.")
        return 0
    for deadline in sorted(timeline.deadlines, key=lambda d: d.due_at):
        print(deadline_line(deadline))
    return 0


def describe_parse(result: ParseResult) -> str:
    """The parse result in a line or two, for people trying the parser out."""
    lines: list[str] = [result.kind]
    for u in result.updates:
        when = for_people(u.date) if u.date else "date unknown"
        at = f" {u.time.hour:02}:{u.time.minute:02}" if u.time else ""
        details = "".join(f", {k}={v}" for k, v in u.details.items())
        what = f"{u.event or 'unknown event'} for child {u.child or '?'}"
        lines.append(f"  {what}: {u.status or '?'}, {when}{at}{details}")
    if result.query:
        lines.append(f"  {json.dumps(result.query.as_json())}")
    if result.correction:
        lines.append(f"  {'undo' if result.correction.undo else 'corrects'} {json.dumps(result.correction.corrects)}")
    lines += [f"  asks: {c.question}" + "".join(f" [{o.label}]" for o in c.options) for c in result.clarify]
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)


def cmd_parse(ctx: Context) -> int:
    from bot.parser import parse

    args = ctx.args
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    messages = sys.stdin.read().splitlines() if args.text == "-" else [args.text]
    for message in messages:
        result = parse(message, now)
        print(json.dumps(result.as_json()) if ctx.json else describe_parse(result))
    return 0


def open_store(ctx: Context, background: bool = False) -> Store:
    """The store, refusing to run on units the config does not describe: the config is
    the source of truth, and only `db upgrade` changes units and people. With `background`
    (a bot serving Slack), a recompute after a rules or bank holiday change runs in a
    thread, in batches, while the bot answers: each child's deadlines are replaced in one
    transaction, so none is seen half-written."""
    from bot.chat import DEMO_UNIT
    from store.records import Store

    store = Store.open(ctx.args.db, ctx.config)
    held = set(store.unit_names()) - {DEMO_UNIT.id}
    if not ctx.config_found and held:
        raise UsageError(f"{ctx.args.config} not found, and the database holds units ({', '.join(sorted(held))}): "
                         "give --config PATH or set TIMESCALES_CONFIG")
    if ctx.config_found and store.sync_config(ctx.config, apply=False):
        print(f"timescales: {ctx.args.config} differs from the units and people in the database: run "
              "'timescales db upgrade' to bring them in line", file=sys.stderr)
    if background and store.rules_changed():
        threading.Thread(target=_recompute_in_background, args=(store,), name="recompute", daemon=True).start()
    else:
        store.recompute_stale()
    return store


def _recompute_in_background(store: Store) -> None:
    import logging

    log = logging.getLogger(__name__)
    try:
        children = store.recompute_stale()
        log.info("deadlines worked out again for %d children", children)
    except Exception:  # the next start finds them out of date and tries again
        log.exception("recompute failed")


def cmd_db_upgrade(ctx: Context) -> int:
    from bot.chat import DEMO_UNIT
    from store.db import make_engine, upgrade, upgrade_lock
    from store.people import People
    from store.records import Store

    engine = make_engine(ctx.args.db)
    with upgrade_lock(engine):  # several processes upgrading at once (a deployment's replicas): one by one
        before, after = upgrade(engine)
        where = engine.url.render_as_string(hide_password=True)
        print(f"{where}: schema already at {after}" if before == after
              else f"{where}: schema {before or 'none'} -> {after}")
        store = Store(engine, ctx.config.rule_pack(), ctx.config.calendar())
        held = set(store.unit_names()) - {DEMO_UNIT.id}
        if ctx.config_found and not ctx.config.units and held:
            raise UsageError(f"{ctx.args.config} lists no units, and the database holds {', '.join(sorted(held))}: "
                             "nothing changed (an empty or wrong file must not remove everyone; list the units)")
        if ctx.config_found:
            for change in store.sync_config(ctx.config) + People(store).sync_config(ctx.config, datetime.now(LONDON)):
                print(f"config: {change}")
        else:
            print(f"config: no {ctx.args.config}, so units and people are left as they are")
    if store.rules_changed() and (children := store.recompute_all()):
        print(f"deadlines: worked out again for {children} {'child' if children == 1 else 'children'} "
              "(the rules in force or the bank holidays changed)")
    return 0


def cmd_db_backup(ctx: Context) -> int:
    """A consistent copy of a running SQLite store (PostgreSQL: pg_dump)."""
    from store.db import backup_sqlite

    size = backup_sqlite(ctx.args.db, Path(ctx.args.path))
    print(f"backed up {ctx.args.db} to {ctx.args.path} ({size:,} bytes)")
    return 0


def cmd_due(ctx: Context) -> int:
    args = ctx.args
    store = open_store(ctx)
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    known = check_unit(store, ctx, args.unit)
    start = parse_instant(args.start, "--from").day if args.start else None
    end = parse_instant(args.end, "--to").day if args.end else None
    if start and end and end < start:
        raise UsageError("--to is before --from")
    units = [args.unit] if args.unit else known
    items = store.due(units, now, start, end, overdue_only=args.overdue)
    # Shown on the server's terminal, as Slack's answers are shown in Slack: in the access log.
    store.log_access(operator(), "cli", units, (i.record.child for i in items), datetime.now(LONDON))
    if ctx.json:
        print(json.dumps([i.as_json() for i in items], indent=1))
        return 0
    if not items:
        print("Nothing overdue or due in that window.")
    for item in items:
        r = item.record
        due = for_people(r.due) + (f" {r.due_at.astimezone(LONDON):%H:%M}" if r.hours_based else "")
        imported = " (already overdue when imported)" if r.overdue_at_import else ""
        print(f"{item.state.upper() if item.overdue else '':<8}{due:<22} child {r.child:<8} {r.standard:<12} "
              f"{r.title} [{', '.join(r.responsible)}]{imported}")
    return 0


def check_unit(store: Store, ctx: Context, unit: str | None) -> list[str]:
    """The units the database holds, having checked that `unit` (if given) is one of them."""
    known = list(store.unit_names())
    if unit and unit not in known:
        raise UsageError(f"--unit '{unit}' is not in {ctx.args.config} (units: {', '.join(known) or 'none'})")
    return known


def cmd_export(ctx: Context) -> int:
    args = ctx.args
    if bool(args.child) == bool(args.unit):
        raise UsageError("give one of --child ID or --unit ID")
    child = check_child(args.child) if args.child else None
    store = open_store(ctx)
    check_unit(store, ctx, args.unit)
    exported = store.export_csv(child=child, unit=args.unit)
    units = [args.unit] if args.unit else [u for u in [store.child_unit(child or "")] if u]
    store.log_access(operator(), "export", units, store.children_of(units) if args.unit else [child or ""],
                     datetime.now(LONDON), child=child)
    sys.stdout.write(exported)
    return 0


def cmd_report(ctx: Context) -> int:
    """How timely the work was (SPEC section 11), per unit and standard, with the national measures."""
    from bot.chat import for_terminal
    from bot.parser.reports import last_full_month
    from bot.report import report_csv, report_png, unit_lines
    from store.reports import timeliness_report

    args = ctx.args
    if args.json and args.csv:
        raise UsageError("give one of --json or --csv")
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    start, end = last_full_month(now.date())
    start = parse_instant(args.start, "--from").day if args.start else start
    end = parse_instant(args.end, "--to").day if args.end else end
    if end < start:
        raise UsageError("--to is before --from")
    store = open_store(ctx)
    known = check_unit(store, ctx, args.unit)
    names = {u: n for u, n in store.unit_names().items() if u in ([args.unit] if args.unit else known)}
    report = timeliness_report(store, names, start, end, now.date())
    store.log_access(operator(), "report", list(names), [], datetime.now(LONDON))
    if args.png:
        Path(args.png).write_bytes(report_png(report))
    if args.json:
        print(json.dumps(report.as_json(), indent=1))
    elif args.csv:
        sys.stdout.write(report_csv(report))
    else:
        for unit in report.units:
            print("\n".join(for_terminal(line) for line in unit_lines(unit, start, end)))
        if args.png:
            print(f"picture: {args.png}")
    return 0


def cmd_import(ctx: Context) -> int:
    """A unit's caseload from a CSV (SPEC section 9): all or nothing, problems by row and column."""
    from bot.chat import for_terminal
    from bot.importing import import_file, summary_lines

    args = ctx.args
    path = Path(args.file)
    from rules.caseload import decode

    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    store = open_store(ctx)
    if args.unit:
        check_unit(store, ctx, args.unit)
    result = import_file(store, text, args.unit, operator(), now, path.name, dry_run=args.dry_run)
    if ctx.json:
        print(json.dumps(result.as_json(), indent=1))
    else:
        print("\n".join(for_terminal(line) for line in summary_lines(result, args.dry_run, limit=50)))
    return 1 if result.problems else 0


def cmd_child(ctx: Context) -> int:
    """What the bot takes to be true of one child (SPEC section 9)."""
    from bot.importing import child_json

    child = check_child(ctx.args.child)
    store = open_store(ctx)
    about = child_json(store, child, datetime.now(LONDON))
    if about is None:
        raise UsageError(f"nothing is recorded for child {child}")
    store.log_access(operator(), "export", [str(about["unit"])], [child], datetime.now(LONDON), child=child)
    if ctx.json:
        print(json.dumps(about, indent=1))
        return 0
    print(f"child {child}, {about['unit']}, lead {about['lead'] or 'not set'}")
    for plan in about["in_force"]:
        print(f"  {plan['title']}: since {plan['since'] or 'a date not known (assumed from an update)'}")
    if not about["in_force"]:
        print("  no plan known")
    for event, day in about["last"].items():
        print(f"  last {event.replace('_', ' ')}: {day}")
    for d in about["deadlines"]:
        print(f"  {d['state']:<8} {d['due']}  {d['standard']:<12} {d['title']}")
    return 0


def operator() -> str:
    """Who ran a command on the server, for the access log."""
    import getpass

    return f"cli:{getpass.getuser()}"


def cmd_access_log(ctx: Context) -> int:
    """Who was shown or exported which children (SPEC section 8)."""
    args = ctx.args
    since = parse_instant(args.start, "--from").moment if args.start else None
    store = open_store(ctx)
    rows = store.access_log(child=check_child(args.child) if args.child else None, user=args.user, since=since)
    entries = [{"at": r.at.astimezone(LONDON).isoformat(), "user": r.user_id, "via": r.via, "units": r.units,
                "child": r.child, "children": r.children} for r in rows]
    if ctx.json:
        print(json.dumps(entries, indent=1))
        return 0
    for r in rows:
        about = f"child {r.child}" if r.child else f"{r.children} children"
        print(f"{r.at.astimezone(LONDON):%Y-%m-%d %H:%M}  {r.user_id:<16} {r.via:<8} {','.join(r.units):<20} {about}")
    if not rows:
        print("Nobody was shown any children in that window.")
    return 0


def _clock(ctx: Context) -> Callable[[], datetime]:
    fixed = parse_instant(ctx.args.now, "--now").moment if getattr(ctx.args, "now", None) else None
    return (lambda: fixed) if fixed else (lambda: datetime.now(LONDON))


def cmd_chat(ctx: Context) -> int:
    from bot.chat import DEMO_UNIT, run_chat
    from bot.conversation import Conversation
    from store.db import make_engine, upgrade

    args = ctx.args
    config = ctx.config
    if not config.units:
        config = config.model_copy(update={"units": [DEMO_UNIT]})
        print(f"No units in {args.config}: starting on a demo unit (channel {DEMO_UNIT.channel}, you are "
              f"{DEMO_UNIT.practitioners[0]}, a practitioner).")
    units = {u.id: u for u in config.units}
    if args.unit and args.unit not in units:
        raise UsageError(f"--unit '{args.unit}' is not in {args.config} (units: {', '.join(units)})")
    unit = units[args.unit] if args.unit else config.units[0]
    user = args.user or next(iter(unit.practitioners), None) or unit.coordinator or unit.team_manager
    if not user:
        raise UsageError(f"unit {unit.id} has nobody in it: give --user ID")
    clock = _clock(ctx)
    upgrade(make_engine(args.db))  # the local chat sets up its own database
    store = open_store(Context(args, config, ctx.config_found))
    if not ctx.config_found:
        store.sync_config(config)  # the demo unit (open_store refused a database holding real units)
    elif unit.id not in store.unit_names():
        raise UsageError(f"unit {unit.id} is not in the database yet: run 'timescales db upgrade'")
    print(f"Chat as {user} in {unit.name} ({unit.channel}). Post updates as you would in Slack, ask "
          "\"what's due this week\", \"quit\" to end.")
    run_chat(Conversation(store), unit, user, clock, sys.stdin, sys.stdout, config)
    return 0


def _slack_env(*names: str) -> dict[str, str]:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise UsageError(f"set {' and '.join(missing)} (from your Slack app's settings; see the README)")
    return {n: os.environ[n] for n in names}


STOP_WITHIN = 25.0  # seconds from SIGTERM to exit (SPEC section 10)


def _scheduled_sweeps(ctx: Context, store: Store, token: str) -> Scheduled:
    """Every sweep in a process of its own (scheduler.jobs), so this one keeps its GIL for Slack."""
    from functools import partial

    from bot.slack_app import sweep_to_slack
    from scheduler.jobs import SweepProcess, start_scheduler

    url = store.engine.url.render_as_string(hide_password=False)
    run = partial(sweep_to_slack, url, ctx.config.model_dump_json(by_alias=True), token)
    return start_scheduler(SweepProcess(run, preload=["bot.slack_app"]))


def _lease(ctx: Context) -> timedelta:
    """How long a process's hold on a request or a message lasts without renewal."""
    return timedelta(seconds=min(ctx.config.reminders.claim_lease_seconds, 30))


def _stopped(bot: SlackBot, scheduled: Scheduled | None, began: float) -> int:
    """Finish what is in hand within STOP_WITHIN seconds of the signal, then exit 0; what
    could not be finished waits in the store for the next start."""
    import signal
    from time import monotonic

    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, signal.SIG_IGN)
    left = lambda: max(0.0, STOP_WITHIN - 1 - (monotonic() - began))  # noqa: E731
    finished = bot.stop(left())
    if scheduled is not None:
        finished = scheduled.stop(left()) and finished
    print("Stopped: " + ("everything in hand was finished." if finished else
                         "what was not finished is stored and is done at the next start."), flush=True)
    if not finished:  # a sweep or a request still running: its claims and leases make it safe to leave
        sys.stderr.flush()
        os._exit(0)
    return 0


def _exit_on_sigterm(*_: object) -> None:
    raise SystemExit(0)  # waitress stops its loop on SystemExit, as on Ctrl-C


def cmd_serve(ctx: Context) -> int:
    import signal
    from time import monotonic

    from bot.conversation import Conversation
    from bot.slack_app import SlackBot, api_url
    from bot.web import HttpService

    env = _slack_env("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    store = open_store(ctx, background=True)
    bot = SlackBot(Conversation(store), env["SLACK_BOT_TOKEN"], env["SLACK_SIGNING_SECRET"], hold=_lease(ctx))
    service = HttpService(bot, ctx.args.port)
    bot.start()
    scheduled = None if ctx.args.no_scheduler else _scheduled_sweeps(ctx, store, env["SLACK_BOT_TOKEN"])
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"Listening on port {service.port} at /slack/events, /health and /ready (Slack API {api_url()})",
          flush=True)
    try:
        service.serve()
    finally:
        began = monotonic()
        service.close()
    return _stopped(bot, scheduled, began)


def cmd_sweep(ctx: Context) -> int:
    """One pass of the reminder job at --now: what the scheduler runs every five minutes."""
    from bot.chat import TerminalSender
    from bot.slack_app import SlackSender, slack_client
    from scheduler.outbox import Outbox
    from scheduler.sweep import sweep

    args = ctx.args
    now = parse_instant(args.now, "--now").moment if args.now else datetime.now(LONDON)
    store = open_store(ctx)
    if args.dry_run:
        sender: SlackSender | TerminalSender = TerminalSender(sys.stdout)
    else:
        sender = SlackSender(slack_client(_slack_env("SLACK_BOT_TOKEN")["SLACK_BOT_TOKEN"]))
    report = sweep(store, Outbox(sender), ctx.config, now, dry_run=args.dry_run)
    if args.dry_run:
        for recipient, message in report.messages.items():
            sender.send(recipient, message)
    messages, lines = len(report.messages), sum(len(m.notices) + m.more for m in report.messages.values())
    print(f"{'would send' if args.dry_run else 'sent'} {messages} message{'' if messages == 1 else 's'} "
          f"({lines} reminder and escalation line{'' if lines == 1 else 's'})"
          + (f"; {len(report.failed)} not delivered, left for the next sweep" if report.failed else "")
          + (f"; {len(report.refused)} refused by Slack for good, reported to the unit (timescales status)"
             if report.refused else "")
          + (f"; {report.recovered} recovered from an earlier sweep" if report.recovered else ""))
    return 1 if report.failed or report.refused else 0


def cmd_status(ctx: Context) -> int:
    """The delivery state (SPEC section 10): what is waiting, what failed and why."""
    from store.inbox import Inbox
    from store.ledger import Ledger

    store = open_store(ctx)
    ledger = Ledger(store)
    pending, oldest = ledger.pending()
    last = ledger.marked("last_sweep")
    requests = Inbox(store.engine).counts()
    waiting, given_up = requests.get("waiting", 0) + requests.get("working", 0), requests.get("failed", 0)
    failures = [{"recipient": f.recipient, "error": f.error, "since": f.since.astimezone(LONDON).isoformat(),
                 "messages": f.messages} for f in ledger.failures(datetime.min.replace(tzinfo=LONDON))]
    oldest_at = oldest.astimezone(LONDON).isoformat() if oldest else None
    last_at = last.at.astimezone(LONDON).isoformat() if last else None
    if ctx.json:
        print(json.dumps({"pending": pending, "failed": ledger.failed_messages(), "oldest_pending": oldest_at,
                          "last_sweep": last_at, "failures": failures,
                          "requests": {"waiting": waiting, "failed": given_up}}, indent=1))
        return 0
    print(f"{pending} message{'' if pending == 1 else 's'} waiting to be sent"
          + (f" (the oldest claimed {oldest_at})" if oldest_at else "")
          + f"; {ledger.failed_messages()} refused by Slack; last sweep {last_at or 'never'}")
    for f in failures:
        print(f"  {f['messages']} to {f['recipient']}: {f['error']} (since {f['since']})")
    print(f"{waiting} Slack request{'' if waiting == 1 else 's'} waiting to be handled, {given_up} given up")
    return 0


def cmd_run(ctx: Context) -> int:
    if os.environ.get("SLACK_BOT_TOKEN") and os.environ.get("SLACK_APP_TOKEN"):
        import signal
        import threading
        from time import monotonic

        from slack_bolt.adapter.socket_mode import SocketModeHandler

        from bot.conversation import Conversation
        from bot.slack_app import SlackBot

        store = open_store(ctx, background=True)
        bot = SlackBot(Conversation(store), os.environ["SLACK_BOT_TOKEN"], hold=_lease(ctx))
        bot.start()
        scheduled = _scheduled_sweeps(ctx, store, os.environ["SLACK_BOT_TOKEN"])
        socket_mode = SocketModeHandler(bot.front, os.environ["SLACK_APP_TOKEN"])
        stopping = threading.Event()
        for name in (signal.SIGTERM, signal.SIGINT):
            signal.signal(name, lambda *_: stopping.set())
        socket_mode.connect()
        print("Connected to Slack over Socket Mode.", flush=True)
        stopping.wait()
        began = monotonic()
        socket_mode.close()  # no more requests taken; those not acknowledged Slack sends again
        return _stopped(bot, scheduled, began)
    print("No SLACK_BOT_TOKEN / SLACK_APP_TOKEN set: running the chat in this terminal instead of Slack "
          "(app_manifest.yml and the README's 'Connecting Slack' give you the tokens).")
    ctx.args.unit = ctx.args.user = None
    return cmd_chat(ctx)


# -- wiring --------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """--db and --config, before or after the subcommand's name (after it wins)."""
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_DB) if top else argparse.SUPPRESS,
                        help="database URL (default: env DATABASE_URL, else sqlite:///timescales.db)")
    parser.add_argument("--config", default=None if top else argparse.SUPPRESS,
                        help="config file (default: env TIMESCALES_CONFIG, else timescales.toml)")


def installed_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("timescales")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


class _Version(argparse.Action):
    """--version, looking the version up only when asked (the package metadata costs a start-up)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(f"timescales {installed_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="timescales", description="Statutory and local timescales for social work units.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the installed version and exit")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands: dict[str, Callable[[Context], int]] = {}

    run = sub.add_parser("run", help="run the bot (Slack Socket Mode, or the terminal chat without tokens)")
    _common(run)
    run.add_argument("--now", help="fix the clock for the local chat (ISO 8601)")
    commands["run"] = cmd_run

    chat = sub.add_parser("chat", help="the bot in this terminal, no Slack needed")
    _common(chat)
    chat.add_argument("--unit", help="the unit whose channel you are in (default: the first)")
    chat.add_argument("--user", help="who you are, a Slack user id (default: the unit's first practitioner)")
    chat.add_argument("--now", help="fix the clock (ISO 8601)")
    commands["chat"] = cmd_chat

    serve = sub.add_parser("serve", help="the bot over HTTP (Events API, commands, interactivity)")
    _common(serve)
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--no-scheduler", action="store_true", help="do not run reminders in this process")
    commands["serve"] = cmd_serve

    rules = sub.add_parser("rules", help="every rule in force, with its citation")
    _common(rules)
    rules.add_argument("--json", action="store_true")
    commands["rules"] = cmd_rules

    deadlines = sub.add_parser("deadlines", help="the deadlines one event, or one child's history, creates "
                                                 "(stores nothing)")
    _common(deadlines)
    deadlines.add_argument("--event", help="event name, e.g. strategy_discussion")
    deadlines.add_argument("--at", help="when it happened or is booked (ISO 8601)")
    deadlines.add_argument("--history", metavar="FILE",
                           help="one child's events as a CSV: child,unit,lead,event,date,time,status,details")
    deadlines.add_argument("--status", choices=["done", "planned", "not_done"], default="done")
    deadlines.add_argument("--detail", action="append", default=[], metavar="KEY=VALUE")
    deadlines.add_argument("--child", help="the child's number")
    deadlines.add_argument("--now", help="the time to judge open/overdue at (default: now)")
    deadlines.add_argument("--json", action="store_true")
    commands["deadlines"] = cmd_deadlines

    status = sub.add_parser("status", help="the delivery state: messages waiting, refused, the last sweep")
    _common(status)
    status.add_argument("--json", action="store_true")
    commands["status"] = cmd_status

    sweep_cmd = sub.add_parser("sweep", help="one pass of the reminder and escalation job")
    _common(sweep_cmd)
    sweep_cmd.add_argument("--now", help="the instant to sweep at (default: now)")
    sweep_cmd.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")
    commands["sweep"] = cmd_sweep

    parse_cmd = sub.add_parser("parse", help="read one message as the bot would (stores nothing)")
    _common(parse_cmd)
    parse_cmd.add_argument("text", help="the message; - reads one message per line from stdin")
    parse_cmd.add_argument("--now", help="when it was posted (default: now)")
    parse_cmd.add_argument("--json", action="store_true")
    commands["parse"] = cmd_parse

    due = sub.add_parser("due", help="deadlines from the store: overdue plus the next 7 days by default")
    _common(due)
    due.add_argument("--unit", help="one unit's id (default: every unit in the config)")
    due.add_argument("--from", dest="start", help="first due date to list (ISO date)")
    due.add_argument("--to", dest="end", help="last due date to list (ISO date)")
    due.add_argument("--overdue", action="store_true", help="only what is overdue")
    due.add_argument("--now", help="the time to judge overdue at (default: now)")
    due.add_argument("--json", action="store_true")
    commands["due"] = cmd_due

    export = sub.add_parser("export", help="CSV of events, deadlines and decisions with their authors")
    _common(export)
    export.add_argument("--child")
    export.add_argument("--unit")
    commands["export"] = cmd_export

    report = sub.add_parser("report", help="how timely the work was, per unit and standard (SPEC section 11)")
    _common(report)
    report.add_argument("--unit", help="one unit's id (default: every unit)")
    report.add_argument("--from", dest="start", help="first due date counted (default: the last full month)")
    report.add_argument("--to", dest="end", help="last due date counted")
    report.add_argument("--now", help="the time that decides what is missed (default: now)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--csv", action="store_true")
    report.add_argument("--png", help="also draw the picture to this file")
    commands["report"] = cmd_report

    import_cmd = sub.add_parser("import", help="a unit's caseload from a CSV: what is already true (SPEC section 9)")
    _common(import_cmd)
    import_cmd.add_argument("file", help="the CSV: one row per event, or one row per child (see the README)")
    import_cmd.add_argument("--unit", help="the unit the children are in, when the file has no unit column")
    import_cmd.add_argument("--dry-run", action="store_true", help="check the file and show what would be recorded")
    import_cmd.add_argument("--now", help="the import's time (default: now)")
    import_cmd.add_argument("--json", action="store_true")
    commands["import"] = cmd_import

    child_cmd = sub.add_parser("child", help="what the bot takes to be true of one child, and its deadlines")
    _common(child_cmd)
    child_cmd.add_argument("child", help="the child's number")
    child_cmd.add_argument("--json", action="store_true")
    commands["child"] = cmd_child

    access = sub.add_parser("access-log", help="who was shown or exported which children")
    _common(access)
    access.add_argument("--child", help="only what showed this child")
    access.add_argument("--user", help="only what this person (a Slack id, or cli:NAME) was shown")
    access.add_argument("--from", dest="start", help="from this date or date-time (ISO 8601)")
    access.add_argument("--json", action="store_true")
    commands["access-log"] = cmd_access_log

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_upgrade = db_sub.add_parser("upgrade", help="create or migrate the schema, and load the config's units")
    _common(db_upgrade)
    db_backup = db_sub.add_parser("backup", help="a consistent copy of a running SQLite store")
    _common(db_backup)
    db_backup.add_argument("path", help="the new file to write the copy to")
    commands["db upgrade"], commands["db backup"] = cmd_db_upgrade, cmd_db_backup

    parser.set_defaults(_commands=commands)
    return parser


def read_config(args: argparse.Namespace) -> tuple[Config, bool]:
    """The config, and whether there was one. A file named with --config or
    TIMESCALES_CONFIG must exist: a mistyped path is an error, never an empty config."""
    from rules.config import Config, load_config

    named = getattr(args, "config", None) or os.environ.get("TIMESCALES_CONFIG")
    args.config = named or DEFAULT_CONFIG
    path = Path(args.config)
    if path.exists() or named:
        return load_config(path), True
    return Config(), False


class _NeverRaised(Exception):
    pass


def _loaded(module: str, name: str) -> type[BaseException]:
    """An exception class of a library the command loaded; one nothing raises when it did not
    load it (then nothing of that library can have failed)."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else _NeverRaised


def _failed(exc: Exception) -> int:
    """One line on stderr for what went wrong, and the exit code."""
    if isinstance(exc, (ValueError, _loaded("store.db", "SchemaError"))):  # our own errors, each a sentence
        print(f"timescales: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, _loaded("slack_sdk.errors", "SlackApiError")):  # at start, Slack refused the token
        print(f"timescales: Slack refused the bot token ({exc.response.get('error')}): check SLACK_BOT_TOKEN",  # type: ignore[attr-defined]
              file=sys.stderr)
        return 2
    if isinstance(exc, (_loaded("urllib.error", "URLError"), ConnectionError,
                        _loaded("slack_bolt.error", "BoltError"))):
        from bot.slack_app import api_url  # at start, Slack could not be reached

        reason = getattr(exc, "reason", None) or exc
        print(f"timescales: cannot reach Slack at {api_url()} ({reason}); check the network or SLACK_API_URL",
              file=sys.stderr)
        return 2
    if isinstance(exc, _loaded("sqlalchemy.exc", "DBAPIError")):  # the database is down, unreachable or refused us
        orig = getattr(exc, "orig", None)
        reason = str(orig).strip().splitlines()[0] if orig else type(exc).__name__
        print(f"timescales: cannot use the database: {reason}", file=sys.stderr)
        return 2
    print(f"timescales: internal error ({type(exc).__name__}: {exc}); please report it", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        name = f"db {args.db_command}" if args.command == "db" else args.command
        if name == "parse":  # the parser alone: no config, store or rule pack to load, and it logs nothing
            return cmd_parse(Context(args, cast("Config", None), False))
        from bot.logs import configure_logging

        configure_logging()
        config, found = read_config(args)
        return args._commands[name](Context(args, config, found))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:
        return _failed(exc)


if __name__ == "__main__":
    sys.exit(main())
