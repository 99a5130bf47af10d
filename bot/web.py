"""`timescales serve`: the bot over HTTP on waitress, a production WSGI server.

Why waitress: pure Python with no dependencies of its own, a fixed pool of worker
threads with idle connections parked in its event loop (so 200 idle connections
cost no threads, and `channel_timeout` closes them), HEAD, keep-alive and request
size limits done right, and it drains the requests in hand when asked to stop.
Slack's requests need little work here (each is stored, then answered), so its
threads are never the bottleneck; the inbox workers do the handling.

Routes: POST /slack/events (Events API, slash commands, interactivity), GET /health
(the process answers), GET /ready (the store answers and its schema is current).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack_app import SlackBot
from store.db import not_ready

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def wsgi_app(bot: SlackBot) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    slack = SlackRequestHandler(bot.front)
    engine = bot.conversation.store.engine

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST":
            return slack(environ, start_response)
        if path == "/health" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", "ok")
        if path == "/ready" and method in ("GET", "HEAD"):
            reason = not_ready(engine)
            return _plain(start_response, "503 Service Unavailable", f"not ready: {reason}") if reason else _plain(
                start_response, "200 OK", "ready")
        return _plain(start_response, "404 Not Found", "not found")

    return app


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class HttpService:
    """The WSGI app served by waitress on `port` (0: a free one)."""

    def __init__(self, bot: SlackBot, port: int, host: str = "0.0.0.0", threads: int = 8) -> None:
        self.server: Any = waitress.create_server(wsgi_app(bot), host=host, port=port, threads=threads,
                                                  channel_timeout=30, ident="timescales", expose_tracebacks=False)
        self.port = int(self.server.effective_port)

    def serve(self) -> None:
        """Until a signal stops it (SystemExit or KeyboardInterrupt in this thread) or `close`."""
        self.server.run()

    def close(self) -> None:
        """Stop taking requests; those in hand get a few seconds to finish."""
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.close()
