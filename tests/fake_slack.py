"""A small fake of Slack's Web API on 127.0.0.1, reached through SLACK_API_URL.

It records every call (method and arguments, form or JSON) and answers ok, the
way Slack does; `fail_next` makes it answer the next calls with an HTTP status
(429 with Retry-After, 500) to test what the bot does then.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "U0BOT"


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[int] = []
        self.arrival: dict[str, float] = {}  # thread ts -> when its first reply arrived (time.monotonic)
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, newest first
        self.delay = 0.0  # seconds to wait before answering chat.postMessage (after recording it)
        self._lock = threading.Lock()
        self._counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "view", "metadata"):
                        if isinstance(args.get(key), str):
                            args[key] = json.loads(args[key])
                status, answer = fake.answer(method, args)
                if method == "chat.postMessage" and fake.delay:
                    time.sleep(fake.delay)  # Slack has the message; the answer is slow
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.failures and method != "auth.test":
                status = self.failures.pop(0)
                return status, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            self.calls.append((method, args))
            if method == "chat.postMessage" and args.get("thread_ts"):
                self.arrival.setdefault(args["thread_ts"], time.monotonic())
            self._counter += 1
            ts = f"{time.time():.0f}.{self._counter:06d}"
            if method == "chat.postMessage":
                channel = self.dm(args["channel"])
                self.history.setdefault(channel, []).insert(0, {"ts": ts, "text": args.get("text"),
                                                                "metadata": args.get("metadata")})
        if method == "auth.test":
            return 200, {"ok": True, "user_id": BOT_USER, "bot_id": "B0BOT", "team_id": "T0", "user": "timescales"}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": self.dm(args["users"])}}
        if method == "conversations.history":
            return 200, {"ok": True, "messages": self.history.get(args["channel"], [])[: int(args.get("limit", 100))]}
        return 200, {"ok": True, "ts": ts, "channel": args.get("channel"), "message": {"ts": ts}}

    @staticmethod
    def dm(channel: str) -> str:
        """A message posted to a user id lands in their DM with the bot."""
        return "D_" + channel if channel.startswith("U") else channel

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [args for m, args in self.calls if m == method]

    def wait_for(self, count: int, method: str = "chat.postMessage", timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.posted(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.posted(method)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
