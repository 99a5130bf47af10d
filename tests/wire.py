"""The bot over the real wire, as Slack drives it: signed HTTP requests into
`/slack/events` (events, slash commands, buttons, forms), with the Web API calls
going to a fake Slack on 127.0.0.1 (SLACK_API_URL)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot.conversation import Conversation
from bot.slack_app import SlackBot
from bot.web import HttpService
from rules.calendar import LONDON
from store.records import Store

from fake_slack import FakeSlack

SECRET = "test-signing-secret"
NOW = datetime(2026, 11, 23, 10, tzinfo=LONDON)
MONDAY_TS = f"{NOW.timestamp():.6f}"


def post_signed(url: str, body: str, content_type: str = "application/json", secret: str = SECRET,
                retry: int | None = None, timeout: float = 10) -> int:
    """A request signed as Slack signs it; the HTTP status, or 0 when no answer came
    (the connection refused or dropped, or no answer within `timeout`)."""
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)
    except (urllib.error.URLError, OSError):
        return 0


def message_event(text: str, ts: str, user: str = "U0SW1", channel: str = "C0UNITA", event_id: str | None = None,
                  **extra: Any) -> str:
    """An Events API envelope for a channel message, as Slack sends it."""
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "channel", **extra}
    return json.dumps({"token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback",
                       "event_id": event_id or f"Ev{ts}", "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": "T0", "user_id": "U0BOT", "is_bot": True}]})


class Bot:
    """The app served on a free port, with its store and the fake Slack it talks to."""

    def __init__(self, store: Store, slack: FakeSlack, now: datetime = NOW) -> None:
        self.store, self.slack = store, slack
        self.slack_bot = SlackBot(Conversation(store), "xoxb-test", SECRET, now=lambda: now)
        self.service = HttpService(self.slack_bot, 0, host="127.0.0.1")
        self.base = f"http://127.0.0.1:{self.service.port}"
        self.url = f"{self.base}/slack/events"
        self.slack_bot.start()
        self.serving = threading.Thread(target=self.service.serve, daemon=True)
        self.serving.start()
        self._n = 0

    def send(self, body: str, content_type: str, secret: str = SECRET, retry: int | None = None) -> int:
        return post_signed(self.url, body, content_type, secret, retry)

    def event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> int:
        self._n += 1
        envelope = {"token": "x", "team_id": "T0", "api_app_id": "A0", "type": "event_callback",
                    "event_id": event_id or f"Ev{uuid.uuid4().hex[:12]}", "event_time": int(time.time()), "event": event,
                    "authorizations": [{"team_id": "T0", "user_id": "U0BOT", "is_bot": True}]}
        return self.send(json.dumps(envelope), "application/json", **kw)

    def message(self, text: str, user: str = "U0SW1", channel: str = "C0UNITA", ts: str | None = None,
                **extra: Any) -> tuple[int, str]:
        self._n += 1
        ts = ts or f"{NOW.timestamp() + self._n:.6f}"
        event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                 "event_ts": ts, "channel_type": "channel", **extra}
        return self.event(event), ts

    def command(self, text: str, user: str = "U0UC", channel: str = "C0UNITA") -> int:
        self._n += 1
        form = {"command": "/timescales", "text": text, "user_id": user, "channel_id": channel, "team_id": "T0",
                "response_url": self.slack.response_url(f"cmd{self._n}"), "trigger_id": f"t{self._n}"}
        return self.send(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: dict[str, Any], user: str = "U0SW1") -> int:
        self._n += 1
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0"}, "trigger_id": "t2",
                   "container": {"type": "message"}, "channel": {"id": value["channel"]},
                   "actions": [{"action_id": action_id, "value": json.dumps(value), "type": "button",
                                "block_id": "b", "action_ts": f"{time.time() + self._n:.6f}"}]}
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def submit(self, callback_id: str, private_metadata: str, values: dict[str, Any], user: str = "U0SW1",
               view_id: str = "V0FORM") -> int:
        """A modal's form submitted."""
        payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0"}, "view": {
            "id": view_id, "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
            "state": {"values": values}}}
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    def close(self) -> None:
        """As `serve` stops, but from outside the loop's thread: its sockets are closed in that
        thread (a socket closed under its select was "Bad file descriptor" there), which
        then ends with nothing left to watch."""
        server = self.service.server
        server.task_dispatcher.shutdown(timeout=5)
        server.trigger.pull_trigger(lambda: [channel.close() for channel in list(server._map.values())])
        self.serving.join(5)
        assert not self.serving.is_alive(), "the HTTP loop did not stop"
        self.slack_bot.stop(5)


ROOT = Path(__file__).resolve().parents[1]
SERVE_CONFIG = """
[reminders]
claim_lease_seconds = 3

[[units]]
id = "unit-a"
name = "Unit A"
channel = "C0UNITA"
team_manager = "U0TM"
service_manager = "U0SM"
head_of_service = "U0HOS"
coordinator = "U0UC"
practitioners = ["U0SW1", "U0SW2"]
"""


class Served:
    """`timescales serve` in a process of its own, as a deployment runs it, on a free port.
    Claims and holds last 3 seconds (SERVE_CONFIG), so a killed process's work is taken over
    quickly."""

    def __init__(self, folder: Path, db_url: str, slack: FakeSlack, config: str = SERVE_CONFIG) -> None:
        self.folder, self.db_url, self.slack = folder, db_url, slack
        (folder / "timescales.toml").write_text(config)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-test",
                    "SLACK_SIGNING_SECRET": SECRET}
        upgraded = self.cli("db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args, "--db", self.db_url], cwd=self.folder,
                              env=self.env, capture_output=True, text=True, timeout=120)

    def start(self, *args: str) -> Served:
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", "0", "--db", self.db_url,
                                         *args], cwd=self.folder, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("Listening on port"), line + (self.process.stderr.read() if self.process.stderr else "")
        self.url = f"http://127.0.0.1:{line.split()[3]}"
        return self

    def post(self, text: str, ts: str, timeout: float = 10) -> int:
        return post_signed(self.url + "/slack/events", message_event(text, ts), timeout=timeout)

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    def stop(self, how: int = signal.SIGTERM, timeout: float = 40) -> tuple[int, float]:
        """Signal the process; its exit code and how long it took to exit."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(how)
        code = self.process.wait(timeout)
        return code, time.monotonic() - began
