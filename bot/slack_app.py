"""Slack: Bolt listeners (thin: the conversation does the work), the HTTP server
for `timescales serve`, and Socket Mode for `timescales run`.

Every Web API call goes through one WebClient whose base URL is SLACK_API_URL,
so GovSlack, proxies and the tests' fake Slack all work. Events are
acknowledged at once and handled on Bolt's worker threads, well inside Slack's
3 seconds; buttons and slash commands call ack() before doing anything.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.conversation import Conversation, Incoming, slash_query
from bot.replies import notice_message
from scheduler.outbox import Message, Reply, SendResult
from rules.calendar import LONDON

log = logging.getLogger(__name__)
SLACK_API_URL = "https://slack.com/api/"


def api_url() -> str:
    url = os.environ.get("SLACK_API_URL", SLACK_API_URL)
    return url if url.endswith("/") else url + "/"


def post(client: WebClient, reply: Reply) -> None:
    if reply.only_for:
        client.chat_postEphemeral(channel=reply.channel, user=reply.only_for, text=reply.text,
                                  blocks=reply.blocks or None, thread_ts=reply.thread_ts)
    else:
        client.chat_postMessage(channel=reply.channel, text=reply.text, blocks=reply.blocks or None,
                                thread_ts=reply.thread_ts)


def _channel(body: dict[str, Any]) -> str:
    """The channel a button was clicked in (a unit's, or the DM of a reminder)."""
    return str((body.get("channel") or {}).get("id", ""))


def _now() -> datetime:
    return datetime.now(LONDON)


def _at(ts: str) -> datetime:
    """A Slack ts is seconds since the epoch: when the message was posted."""
    return datetime.fromtimestamp(float(ts), LONDON)


class SlackSender:
    """The scheduler's Sender for Slack: posts with the batch id in the message
    metadata, and finds a batch again in the channel's recent history."""

    EVENT_TYPE = "timescales_notice"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, recipient: str, message: Message) -> SendResult:
        text, blocks = notice_message(message)
        try:
            response = self.client.chat_postMessage(
                channel=recipient, text=text, blocks=blocks,
                metadata={"event_type": self.EVENT_TYPE, "event_payload": {"batch": message.batch}})
        except SlackApiError as refused:
            status = refused.response.status_code
            retry_after = refused.response.headers.get("Retry-After") if status == 429 else None
            return SendResult(False, retry_after=float(retry_after) if retry_after else None,
                              error=f"{status} {refused.response.get('error', '')}")
        return SendResult(True, ts=response.get("ts"))

    def find(self, recipient: str, batch: str) -> str | None:
        try:
            channel = recipient
            if recipient.startswith(("U", "W")):  # a person: their DM with the bot
                channel = self.client.conversations_open(users=recipient)["channel"]["id"]
            history = self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        except SlackApiError:
            return None
        messages: list[dict[str, Any]] = history.get("messages") or []
        for posted in messages:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("batch") == batch:
                return str(posted["ts"])
        return None


def build_app(conversation: Conversation, token: str, signing_secret: str | None = None,
              now: Callable[[], datetime] = _now) -> App:
    client = WebClient(token=token, base_url=api_url())
    # Over HTTP every request's signature is checked; Socket Mode has no signatures to check.
    app = App(client=client, signing_secret=signing_secret,
              request_verification_enabled=signing_secret is not None)

    def send(replies: list[Reply]) -> None:
        for reply in replies:
            post(client, reply)

    def on_message(event: dict[str, Any], context: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if event.get("bot_id") or subtype == "bot_message" or event.get("user") == context.get("bot_user_id"):
            return  # never answer ourselves or other bots
        channel = event["channel"]
        if subtype == "message_changed":
            new = event["message"]
            if new.get("bot_id") or new.get("text") == event.get("previous_message", {}).get("text"):
                return
            send(conversation.edited(channel, new["ts"], new.get("text", ""), new.get("user", ""),
                                     event.get("event_ts", event["ts"]), now()))
        elif subtype == "message_deleted":
            send(conversation.deleted(channel, event["deleted_ts"],
                                      event.get("previous_message", {}).get("user", ""), now()))
        elif subtype in (None, "thread_broadcast", "file_share"):
            send(conversation.message(Incoming(
                channel=channel, user=event.get("user", ""), ts=event["ts"], text=event.get("text", ""),
                now=_at(event["ts"]) if now is _now else now(), thread_ts=event.get("thread_ts"),
                direct=event.get("channel_type") == "im")))

    app.event("message")(on_message)
    app.event("app_mention")(on_message)  # the same message again: the store drops the twin

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": conversation.home(event["user"], now())})

    @app.command("/timescales")
    def command(ack: Ack, command: dict[str, Any]) -> None:
        ack()
        reply = conversation.answer_query(slash_query(command.get("text", ""), now()), command["user_id"], now(),
                                          command["channel_id"], None)
        reply.only_for = command["user_id"]
        post(client, reply)

    @app.action(re.compile(r"^answer_\d+$"))
    def chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        value = json.loads(action["value"])
        send(conversation.chose(value["channel"], value["ts"], value["option"], body["user"]["id"],
                                action["action_ts"], now()))

    @app.action("undo")
    def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        value = json.loads(action["value"])
        send(conversation.undo(value["channel"], value["ts"], body["user"]["id"], action["action_ts"], now()))

    @app.action("mark_done")
    def mark_done(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        value = json.loads(action["value"])
        send(conversation.mark_done(value["deadline"], body["user"]["id"], action["action_ts"], now(), _channel(body)))

    @app.action(re.compile(r"^transfer_(agree|decline)$"))
    def transfer(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        value = json.loads(action["value"])
        send(conversation.decide_transfer(int(value["transfer"]), action["action_id"] == "transfer_agree",
                                          body["user"]["id"], now(), _channel(body)))

    @app.action("reason")
    def reason(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if refused := conversation.may_give_reason(json.loads(action["value"])["deadline"], body["user"]["id"],
                                                   _channel(body)):
            send(refused)
            return
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "reason_form", "private_metadata": action["value"],
            "title": {"type": "plain_text", "text": "Reason or extension"},
            "submit": {"type": "plain_text", "text": "Record"},
            "blocks": [
                {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Reason"},
                 "element": {"type": "plain_text_input", "action_id": "text", "multiline": True}},
                {"type": "input", "block_id": "due", "optional": True,
                 "label": {"type": "plain_text", "text": "New due date (an extension: managers only)"},
                 "element": {"type": "datepicker", "action_id": "date"}}]})

    @app.view("reason_form")
    def reasoned(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        new_due = values["due"]["date"].get("selected_date")
        refusal = conversation.check_reason(json.loads(view["private_metadata"])["deadline"], body["user"]["id"],
                                            new_due)
        if refusal:
            ack(response_action="errors", errors={"due": refusal})
            return
        ack()
        send(conversation.record_reason(json.loads(view["private_metadata"])["deadline"], body["user"]["id"],
                                        values["reason"]["text"]["value"] or "", new_due, now(), view["id"]))

    @app.action("correct")
    def correct(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        where = json.loads(action["value"])
        if refused := conversation.may_correct(where["channel"], where["ts"], body["user"]["id"]):
            send(refused)
            return
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "correct_form", "private_metadata": action["value"],
            "title": {"type": "plain_text", "text": "Correct an update"},
            "submit": {"type": "plain_text", "text": "Correct"},
            "blocks": [{"type": "input", "block_id": "what", "label": {"type": "plain_text", "text": "What should it say?"},
                        "hint": {"type": "plain_text", "text": "e.g. \"it was yesterday\", \"child 124 not 123\", \"booked for 3 Dec\""},
                        "element": {"type": "plain_text_input", "action_id": "text"}}]})

    @app.view("correct_form")
    def corrected(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        where = json.loads(view["private_metadata"])
        text = view["state"]["values"]["what"]["text"]["value"] or ""
        send(conversation.message(Incoming(channel=where["channel"], user=body["user"]["id"], ts=f"form:{view['id']}",
                                           text="correction: " + text, now=now(), thread_ts=where["ts"])))

    @app.error
    def failed(error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack request failed: %s", error, exc_info=error)

    return app


class _Handler(BaseHTTPRequestHandler):
    app: App

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?")[0] != "/slack/events":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
        headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        payload = (response.body or "").encode("utf-8")
        self.send_response(response.status)
        for name, values in response.headers.items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        payload = b"ok"
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: one line per request is noise
        log.debug(format, *args)


def http_server(app: App, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """The Events API, slash commands and interactivity at /slack/events, a thread per request."""
    handler = type("Handler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
