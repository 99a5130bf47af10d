"""A fake of Slack's Web API on 127.0.0.1, reached through SLACK_API_URL.

It records every call (method and arguments, form or JSON) and answers the way
Slack does, refusing what Slack refuses, so a test fails where Slack would:

- messages over Slack's limits: more than 50 blocks (100 in a Home view), a section
  over 3,000 characters, a header over 150, a button label over 75 or value over
  2,000, more than 25 elements in an actions block, text over 40,000 characters
  (`invalid_blocks`, `msg_too_long`);
- channels it was told of: `missing` (channel_not_found), `outside` (not_in_channel),
  `archived` (is_archived);
- `failures`: the next calls answered with an HTTP status (429 with Retry-After, 500);
- `drop_after_read`: the next N posts are kept (they reach the history) and the
  connection is closed without an answer, as when a connection drops mid-way;
- `delay`: the answer to chat.postMessage comes after this many seconds;
- `download_failures`: the next file downloads answered with an HTTP status (429 with
  Retry-After, 500), or "drop": half the file sent, then the connection closed.

Slash commands' `response_url` is served too, at /respond/..., recorded as
method "response_url"; and file uploads as slack_sdk's files_upload_v2 makes them
(files.getUploadURLExternal, the bytes posted to the upload URL, then
files.completeUploadExternal), kept in `uploads` with the channel and comment.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "U0BOT"
POSTS = ("chat.postMessage", "chat.postEphemeral")


def over_limits(args: dict[str, Any], home: bool = False) -> str | None:
    """Slack's error for a message or view over its documented limits, or None."""
    blocks = args.get("blocks") or []
    if len(args.get("text") or "") > 40_000:
        return "msg_too_long"
    if len(blocks) > (100 if home else 50):
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > 3000:
            return "invalid_blocks"
        if block.get("type") == "header" and len(text) > 150:
            return "invalid_blocks"
        elements = block.get("elements") or []
        if block.get("type") == "actions" and len(elements) > 25:
            return "invalid_blocks"
        for element in elements:
            if element.get("type") == "button" and (len(element["text"]["text"]) > 75
                                                     or len(element.get("value", "")) > 2000):
                return "invalid_blocks"
    return None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []  # what Slack accepted
        self.refused: list[tuple[str, dict[str, Any], str]] = []  # what it refused, and its error
        self.failures: list[int] = []
        self.arrival: dict[str, float] = {}  # thread ts -> when its first reply arrived (time.monotonic)
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, newest first
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (channel, thread ts) -> replies
        self.delay = 0.0  # seconds to wait before answering chat.postMessage (after recording it)
        self.drop_after_read = 0
        self.uploads: list[dict[str, Any]] = []  # files shared: channel, thread, comment, title, bytes
        self._files: dict[str, bytes] = {}
        self.shared: dict[str, dict[str, Any]] = {}  # files people shared: id -> Slack's file object and bytes
        self.token = ""  # the bot token a file download must carry (empty: any)
        self.download_failures: list[int | str] = []  # the next downloads: 429 or 500, or "drop" half-way
        self.downloads: list[tuple[str, int | str]] = []  # each download asked for: file id, and its answer
        self.missing: set[str] = set()
        self.outside: set[str] = set()
        self.archived: set[str] = set()
        self._lock = threading.Lock()
        self._counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # a file's url_private_download: only with the bot's token
                file = fake.shared.get(self.path.rsplit("/", 1)[-1])
                authorised = self.headers.get("Authorization", "") == f"Bearer {fake.token}" if fake.token else (
                    self.headers.get("Authorization", "").startswith("Bearer "))
                body = file["data"] if file and authorised else b"<html>sign in to Slack</html>"
                status = 200 if file and authorised else 302 if file else 404
                with fake._lock:
                    failure = fake.download_failures.pop(0) if fake.download_failures and status == 200 else None
                fake.downloads.append((self.path.rsplit("/", 1)[-1], failure or status))
                if isinstance(failure, int):
                    status, body = failure, b"<html>Slack is busy</html>"
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if failure == "drop":  # half the file, then the connection closes
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                if self.path.startswith("/respond/"):
                    method = "response_url"
                if self.path.startswith("/upload/"):  # a file's bytes, for files.completeUploadExternal
                    with fake._lock:
                        fake._files[method] = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "view", "metadata"):
                        if isinstance(args.get(key), str):
                            args[key] = json.loads(args[key])
                status, answer = fake.answer(method, args)
                if method == "chat.postMessage" and status == 200 and fake._drop():
                    self.close_connection = True  # Slack has the message; the answer never comes
                    self.connection.shutdown(2)
                    return
                if method == "chat.postMessage" and fake.delay:
                    time.sleep(fake.delay)  # Slack has the message; the answer is slow
                body = json.dumps(answer).encode() if method != "response_url" else b"ok"
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
        self.server.handle_error = lambda *_: None  # a client gone mid-answer is the test's own doing
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _drop(self) -> bool:
        with self._lock:
            if self.drop_after_read > 0:
                self.drop_after_read -= 1
                return True
        return False

    def share_file(self, channel: str, name: str, data: bytes, user: str, filetype: str = "csv") -> dict[str, Any]:
        """A file a person shares in a channel: the object Slack puts in the message event."""
        with self._lock:
            self._counter += 1
            file_id = f"F{self._counter:08d}"
        file = {"id": file_id, "name": name, "filetype": filetype, "user": user, "channels": [channel],
                "created": int(time.time()) + self._counter, "size": len(data),
                "url_private_download": f"{self.base}/files/{file_id}"}
        self.shared[file_id] = {**file, "data": data}
        return file

    def response_url(self, name: str) -> str:
        return f"{self.base}/respond/{name}"

    def _refusal(self, method: str, args: dict[str, Any]) -> str | None:
        channel = str(args.get("channel", ""))
        if method in POSTS or method in ("conversations.history", "conversations.replies"):
            if channel in self.missing:
                return "channel_not_found"
            if channel in self.archived and method in POSTS:
                return "is_archived"
            if channel in self.outside:
                return "not_in_channel"
        if method in POSTS or method == "response_url":
            return over_limits(args)
        if method == "views.publish":
            return over_limits(args.get("view") or {}, home=True)
        return None

    def answer(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.failures and method != "auth.test":
                status = self.failures.pop(0)
                return status, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            if refusal := self._refusal(method, args):
                self.refused.append((method, args, refusal))
                return (404 if method == "response_url" else 200), {"ok": False, "error": refusal}
            self.calls.append((method, args))
            if method == "chat.postMessage" and args.get("thread_ts"):
                self.arrival.setdefault(args["thread_ts"], time.monotonic())
            self._counter += 1
            ts = f"{time.time():.0f}.{self._counter:06d}"
            if method == "chat.postMessage":
                posted = {"ts": ts, "text": args.get("text"), "metadata": args.get("metadata")}
                channel = self.dm(args["channel"])
                if args.get("thread_ts"):
                    self.threads.setdefault((channel, args["thread_ts"]), []).append(posted)
                else:
                    self.history.setdefault(channel, []).insert(0, posted)
        if method == "auth.test":
            return 200, {"ok": True, "user_id": BOT_USER, "bot_id": "B0BOT", "team_id": "T0", "user": "timescales"}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": self.dm(args["users"])}}
        if method == "conversations.history":
            return 200, {"ok": True, "messages": self.history.get(args["channel"], [])[: int(args.get("limit", 100))]}
        if method == "files.info":
            file = self.shared.get(str(args.get("file")))
            if file is None:
                return 200, {"ok": False, "error": "file_not_found"}
            return 200, {"ok": True, "file": {k: v for k, v in file.items() if k != "data"}}
        if method == "files.list":
            files = [{k: v for k, v in f.items() if k != "data"} for f in self.shared.values()
                     if not args.get("channel") or args["channel"] in f["channels"]]
            return 200, {"ok": True, "files": files[-int(args.get("count", 100)):]}
        if method == "files.getUploadURLExternal":
            file_id = f"F{ts.replace('.', '')}"
            return 200, {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = json.loads(args["files"]) if isinstance(args.get("files"), str) else args.get("files") or []
            channel = self.dm(str(args.get("channel_id", "")))
            with self._lock:
                for f in files:
                    self.uploads.append({"channel": channel, "thread_ts": args.get("thread_ts"),
                                         "initial_comment": args.get("initial_comment", ""), "title": f.get("title"),
                                         "data": self._files.get(f["id"], b"")})
            return 200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "conversations.replies":
            replies = self.threads.get((args["channel"], args["ts"]), [])
            return 200, {"ok": True, "messages": replies[: int(args.get("limit", 100))]}
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
