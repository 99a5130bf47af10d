"""Slack: a front door that stores every request before Slack is acknowledged, Bolt
listeners (thin: the conversation does the work) run by workers from that store, and
every post delivered through the ledger and the outbox (SPEC section 10).

Two Bolt apps share one WebClient. The front door verifies signatures (HTTP) and
writes the request to the inbox: stored, it answers 200 (Socket Mode: acks); not
stored (the database down or locked), it answers 503 (Socket Mode: no ack), so
Slack sends it again. The handler app, with the listeners, runs each stored request
to the end in a worker thread (process_before_response), and the request is marked
done only then: a crash or a stop leaves it for the next start.

Every Web API call goes to SLACK_API_URL, and the client never retries by itself:
a re-send that may post twice is the outbox's decision, made after looking in the
channel's history (slack_sdk's default handler retries a dropped connection blindly).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from http.client import HTTPException, IncompleteRead
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, App, BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation import SLASH, Conversation, Incoming, SharedFile, slash_query, wants_import
from bot.inbox import InboxWorkers
from bot.layout import Part
from bot.logs import configure_logging
from bot.parser.reports import ReportQuestion, period
from bot.replies import notice_message
from bot.report import picture, report_text
from rules.calendar import LONDON
from rules.caseload import decode
from rules.config import Config
from scheduler.delivery import deliver_replies
from scheduler.outbox import LookupFailed, Message, Outbox, Reply, SendResult
from scheduler.sweep import SweepReport, sweep
from store.db import make_engine
from store.inbox import HOLD, Inbox, Request
from store.records import HANDLING, Store

log = logging.getLogger(__name__)


class _ClientHasTheToken(logging.Filter):
    """Bolt warns at every start that SLACK_BOT_TOKEN goes unused when it is given a client:
    the client was made with that very token, so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_ClientHasTheToken())
SLACK_API_URL = "https://slack.com/api/"
# Slack's errors that say "not now" rather than "never": retried like a 500.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def api_url() -> str:
    url = os.environ.get("SLACK_API_URL", SLACK_API_URL)
    return url if url.endswith("/") else url + "/"


def slack_client(token: str) -> WebClient:
    """The Web API client: SLACK_API_URL, a bounded wait, no retries of its own."""
    return WebClient(token=token, base_url=api_url(), timeout=20, retry_handlers=[])


def _channel(body: dict[str, Any]) -> str:
    """The channel a button was clicked in (a unit's, or the DM of a reminder)."""
    return str((body.get("channel") or {}).get("id", ""))


def _now() -> datetime:
    return datetime.now(LONDON)


def _at(ts: str) -> datetime:
    """A Slack ts is seconds since the epoch: when the message was posted."""
    return datetime.fromtimestamp(float(ts), LONDON)


RESPONSES_PER_URL = 5  # Slack takes at most five answers through one response_url
CASELOAD_BYTES = 5_000_000  # a unit's caseload is a few hundred kB; anything bigger is not one
TOO_BIG = f"it is larger than {CASELOAD_BYTES // 1_000_000} MB, more than any unit's caseload"


def _for_asker(replies: list[Reply], user: str, response_url: str | None) -> list[Reply]:
    """Answers shown only to the person, through the command's response_url."""
    if len(replies) > RESPONSES_PER_URL:
        replies = replies[:RESPONSES_PER_URL - 1] + [Reply(replies[0].channel, (
            f"There are {len(replies) - RESPONSES_PER_URL + 1} more parts than I can show here: send me the same "
            "question in a direct message for all of it."))]
    for reply in replies:
        reply.only_for, reply.response_url = user, response_url
    return replies


def refused_result(refused: SlackApiError) -> SendResult:
    """What Slack's refusal means for trying again."""
    status = refused.response.status_code
    error = str(refused.response.get("error") or f"HTTP {status}")
    if status == 429:
        retry_after = refused.response.headers.get("Retry-After") or refused.response.headers.get("retry-after")
        return SendResult(False, retry_after=float(retry_after or 1), error="ratelimited")
    if status >= 500:  # Slack may have posted it before failing: look before sending again
        return SendResult(False, error=error, maybe_sent=True)
    if error in TRANSIENT_ERRORS:
        return SendResult(False, error=error)
    return SendResult(False, error=error, permanent=True)


def broken_result(error: Exception) -> SendResult:
    """A network error: unreachable (nothing was sent), or broken mid-way (Slack may have it)."""
    reason = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, (ConnectionRefusedError, socket.gaierror)) or (
            isinstance(reason, OSError) and reason.errno in (101, 113)):  # network / host unreachable
        return SendResult(False, error=f"Slack unreachable ({type(reason).__name__})", unreachable=True)
    return SendResult(False, error=f"connection broken ({type(reason).__name__})", maybe_sent=True)


NETWORK_ERRORS = (URLError, OSError, HTTPException)
DOWNLOAD_TRIES = 2  # a file Slack will not give for now is asked for once more, then the person is told
DOWNLOAD_WAIT_AT_MOST = 5.0  # seconds: a person is waiting for the answer


def _refusal(status: int) -> str:
    """Slack's refusal of a file for now, in a person's words."""
    return "Slack asked me to slow down" if status == 429 else f"Slack answered with an error, HTTP {status}"


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _download(url: str, token: str) -> bytes:
    """A file's bytes from Slack's own address for it, with the bot's token; a body cut
    short (the connection closed before Content-Length's end) raises IncompleteRead, as
    http.client does not when asked for at most so many bytes."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        data: bytes = answer.read(CASELOAD_BYTES + 1)
        if answer.length and len(data) <= CASELOAD_BYTES:
            raise IncompleteRead(data, answer.length)
    return data


class SlackSender:
    """The outbox's Sender for Slack: posts with the batch id in the message metadata,
    and finds a batch again in the channel's (or the thread's) recent history."""

    EVENT_TYPE = "timescales_notice"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, recipient: str, message: Message) -> SendResult:
        """Post it: as many Slack messages as it takes (a long agenda), in order, each with
        the batch id and its part number in its metadata; parts found in Slack already
        (`message.posted`) are not posted again."""
        reply = message.reply
        first = message.posted.get(0)
        try:
            if reply and reply.attachment:
                return self._share(recipient, reply.text, reply.attachment, reply.thread_ts)
            if message.report is not None:
                return self._share(recipient, report_text(message.report), picture(message.report), None)
            if reply and reply.response_url:
                return self._respond(reply)
            if reply and reply.only_for:
                response = self.client.chat_postEphemeral(channel=reply.channel, user=reply.only_for, text=reply.text,
                                                          blocks=reply.blocks or None, thread_ts=reply.thread_ts)
                return SendResult(True, ts=response.get("message_ts"))
            if reply:
                parts, thread = [Part(reply.text, reply.blocks)], reply.thread_ts
            else:
                parts, thread = ([Part(message.text, [])] if message.text else notice_message(message)), None
            for n, part in enumerate(parts):
                if n in message.posted:
                    continue
                response = self.client.chat_postMessage(
                    channel=recipient, text=part.text, blocks=part.blocks or None, thread_ts=thread,
                    metadata={"event_type": self.EVENT_TYPE,
                              "event_payload": {"batch": message.batch, "part": n, "parts": len(parts)}})
                message.posted[n] = str(response.get("ts"))
                first = first or message.posted[n]
        except SlackApiError as refused:
            return refused_result(refused)
        except NETWORK_ERRORS as broken:
            return broken_result(broken)
        return SendResult(True, ts=first)

    def _share(self, recipient: str, text: str, attachment: dict[str, str], thread: str | None) -> SendResult:
        """A file (a report's picture) shared with its text as the comment, with files_upload_v2.
        (A file's message carries no metadata to find it by: one whose upload may have
        reached Slack is shared again.)"""
        channel = recipient
        if recipient.startswith(("U", "W")):
            channel = self.client.conversations_open(users=recipient)["channel"]["id"]
        self.client.files_upload_v2(channel=channel, thread_ts=thread, initial_comment=text,
                                    file=base64.b64decode(attachment["base64"]), filename=attachment["filename"],
                                    title=attachment["title"])
        return SendResult(True)

    def _respond(self, reply: Reply) -> SendResult:
        """A slash command's answer, through its response_url: Slack shows it to the asker
        in whatever channel or DM they typed it, the bot a member or not."""
        assert reply.response_url
        webhook = WebhookClient(reply.response_url, timeout=20, retry_handlers=[])
        try:
            answered = webhook.send(text=reply.text, blocks=reply.blocks or None, response_type="ephemeral")
        except NETWORK_ERRORS as broken:
            return broken_result(broken)
        if answered.status_code == 200:
            return SendResult(True)
        if answered.status_code == 429 or answered.status_code >= 500:
            return SendResult(False, error=f"HTTP {answered.status_code}", retry_after=1.0,
                              maybe_sent=answered.status_code >= 500)
        return SendResult(False, error=answered.body or f"HTTP {answered.status_code}", permanent=True)

    def find(self, recipient: str, message: Message) -> str | None:
        reply = message.reply
        if reply and reply.only_for:
            return None  # an ephemeral message is in nobody's history: it is sent again
        try:
            channel = recipient
            if recipient.startswith(("U", "W")):  # a person: their DM with the bot
                channel = self.client.conversations_open(users=recipient)["channel"]["id"]
            if reply and reply.thread_ts:
                history = self.client.conversations_replies(channel=channel, ts=reply.thread_ts, limit=200,
                                                            include_all_metadata=True)
            else:
                history = self.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        except SlackApiError as refused:
            result = refused_result(refused)
            if result.permanent:
                return None  # no such channel: the send will be refused for good and reported
            raise LookupFailed(result.error) from None
        except NETWORK_ERRORS as broken:
            raise LookupFailed(broken_result(broken).error) from None
        found: dict[int, str] = {}
        parts = 1
        for posted in history.get("messages") or []:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("batch") == message.batch:
                found[int(payload.get("part", 0))] = str(posted["ts"])
                parts = int(payload.get("parts", 1))
        message.posted.update(found)
        return found[0] if len(found) >= parts and 0 in found else None


def sweep_to_slack(url: str, config_json: str, token: str) -> SweepReport:
    """One sweep now, sending to Slack, in a process of its own (scheduler.jobs.SweepProcess):
    the bot's database and config (its rules and calendar worked out here: given as text,
    what the process is started with stays small), with an engine of its own."""
    configure_logging()
    config = Config.model_validate_json(config_json)
    store = Store(make_engine(url), config.rule_pack(), config.calendar())
    try:
        return sweep(store, Outbox(SlackSender(slack_client(token))), config, datetime.now(LONDON))
    finally:
        store.engine.dispose()


def request_key(body: dict[str, Any], raw: str) -> str:
    """What Slack's retries of one request share: the event id, the view, the click."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "view_submission" and (body.get("view") or {}).get("id"):
        return f"view:{body['view']['id']}"
    if body.get("type") == "block_actions" and body.get("actions"):
        action = body["actions"][0]
        return f"action:{(body.get('user') or {}).get('id')}:{action.get('action_id')}:{action.get('action_ts')}"
    return "body:" + hashlib.sha256(raw.encode()).hexdigest()


class SlackBot:
    """The bot on Slack: the front door, the workers and the handler app."""

    def __init__(self, conversation: Conversation, token: str, signing_secret: str | None = None,
                 now: Callable[[], datetime] = _now, workers: int = 4, hold: timedelta = HOLD) -> None:
        self.conversation, self.now = conversation, now
        store = conversation.store
        self.client = slack_client(token)
        self.outbox = Outbox(SlackSender(self.client), per_channel_gap=0)
        # The front door waits at most 2 s for the database: Slack wants an answer in 3.
        self.inbox = Inbox(make_engine(store.engine.url.render_as_string(hide_password=False), wait=2), hold)
        self.workers = InboxWorkers(self.inbox, self._handle, workers)
        # Over HTTP every request's signature is checked; Socket Mode has no signatures to check.
        self.front = App(client=self.client, signing_secret=signing_secret,
                         request_verification_enabled=signing_secret is not None)
        self.front.use(self._store_first)
        self.handler = App(client=self.client, request_verification_enabled=False, token_verification_enabled=False,
                           process_before_response=True)
        self._listen(self.handler)

    def start(self) -> None:
        self.workers.start()

    def stop(self, timeout: float) -> bool:
        """Finish what the workers have in hand within `timeout` seconds; the rest stays stored."""
        finished = self.workers.stop(timeout)
        self.inbox.engine.dispose()
        return finished

    # -- the front door --------------------------------------------------------------
    def _store_first(self, req: BoltRequest, next: Callable[[], None]) -> BoltResponse:
        body: dict[str, Any] = req.body
        if refusal := self._form_errors(body):  # shown in the form itself, so answered now; nothing to store
            return BoltResponse(status=200, body=json.dumps({"response_action": "errors", "errors": refusal}),
                                headers={"content-type": "application/json"})
        raw = req.raw_body if req.mode == "http" else json.dumps(body)
        content_type = (req.headers.get("content-type") or [""])[0]
        try:
            if self.inbox.put(request_key(body, raw), req.mode, content_type, raw):
                self.workers.wake()
        except SQLAlchemyError as down:
            log.warning("a Slack request could not be stored (%s): not acknowledged, so Slack sends it again",
                        type(down).__name__)
            return BoltResponse(status=503, body="")
        return BoltResponse(status=200, body="")

    def _form_errors(self, body: dict[str, Any]) -> dict[str, str] | None:
        view = body.get("view") or {}
        if body.get("type") != "view_submission" or view.get("callback_id") != "reason_form":
            return None
        try:
            new_due = view["state"]["values"]["due"]["date"].get("selected_date")
            deadline = json.loads(view["private_metadata"])["deadline"]
        except (KeyError, TypeError, ValueError):
            return {"reason": "This form could not be read: please open it again."}
        refusal = self.conversation.check_reason(deadline, body["user"]["id"], new_due)
        return {"due": refusal} if refusal else None

    # -- the workers' side -----------------------------------------------------------
    def _handle(self, request: Request) -> bool:
        """Run one stored request through the listeners; True when it was handled."""
        http = request.mode == "http"
        bolt = BoltRequest(body=request.body if http else json.loads(request.body), mode=request.mode,
                           headers={"content-type": [request.content_type]} if http else None,
                           context={"request": str(request.id)})
        token = HANDLING.set(str(request.id))
        try:
            response = self.handler.dispatch(bolt)
        finally:
            HANDLING.reset(token)
        return response.status != 500  # 404: no listener wants it, which is handled too

    # -- files (a caseload shared with "import caseload") ---------------------------------
    def shared_file(self, file_id: str, name: str = "") -> SharedFile:
        """A file's text as Slack holds it (files:read), or None for text when it cannot be
        read as one; the bot's token goes with the download, as Slack requires. What Slack
        refuses for now (429, 5xx, the connection broken, the file cut short) is tried once
        more, after Retry-After; then the file says why (`refused`), and nothing is read."""
        info: dict[str, Any] = {}

        def called() -> str:  # as Slack names it, once it has said
            return str(info.get("name") or name or file_id)

        for attempt in range(DOWNLOAD_TRIES):
            wait: float | None = None
            try:
                info = self.client.files_info(file=file_id)["file"]
                data = _download(info["url_private_download"], str(self.client.token))
                if len(data) > CASELOAD_BYTES:
                    return SharedFile(file_id, called(), None, unreadable=TOO_BIG)
                return SharedFile(file_id, called(), decode(data))
            except SlackApiError as refused:
                status = refused.response.status_code
                if status != 429 and status < 500:  # file_not_found and the like: not for trying again
                    error = refused.response.get("error")
                    log.warning("a shared file could not be read: %s", error)
                    return SharedFile(file_id, called(), None, unreadable=f"Slack would not give it to me ({error})")
                why, wait = _refusal(status), _retry_after(refused.response.headers)
            except urllib.error.HTTPError as refused:
                if refused.code != 429 and refused.code < 500:
                    log.warning("a shared file could not be read: HTTP %s", refused.code)
                    return SharedFile(file_id, called(), None,
                                      unreadable=f"Slack would not give it to me (HTTP {refused.code})")
                why, wait = _refusal(refused.code), _retry_after(refused.headers)
            except KeyError:  # no download address: not a file the bot can read
                return SharedFile(file_id, called(), None, unreadable="Slack gives no download of it")
            except NETWORK_ERRORS as broken:
                why = "the connection to Slack broke off"
                log.warning("a shared file's download broke off: %s", type(broken).__name__)
            log.warning("a shared file could not be downloaded (attempt %d): %s", attempt + 1, why)
            if attempt + 1 < DOWNLOAD_TRIES:
                time.sleep(min(wait if wait is not None else 0.5, DOWNLOAD_WAIT_AT_MOST))
        return SharedFile(file_id, called(), None, refused=why)

    def latest_csv(self, channel: str) -> SharedFile | None:
        """The newest CSV file shared in a channel (for /timescales import); None when there is
        none (or Slack will not list them at all)."""
        try:
            files = self.client.files_list(channel=channel, count=20)["files"]
        except SlackApiError as refused:
            log.warning("the channel's files could not be listed: %s", refused.response.get("error"))
            status = refused.response.status_code
            if status == 429 or status >= 500:  # refused for now: the person is told so, not "share a CSV"
                return SharedFile("", "the newest CSV", None, refused=_refusal(status))
            return None
        except NETWORK_ERRORS as broken:
            log.warning("the channel's files could not be listed: %s", type(broken).__name__)
            return SharedFile("", "the newest CSV", None, refused="the connection to Slack broke off")
        csvs = sorted((f for f in files if f.get("filetype") == "csv"), key=lambda f: f.get("created", 0))
        return self.shared_file(csvs[-1]["id"], csvs[-1].get("name", "")) if csvs else None

    def send(self, replies: list[Reply], context: BoltContext) -> None:
        deliver_replies(self.conversation.store, self.outbox, replies, str(context.get("request") or uuid.uuid4()),
                        self.now())

    def _open_form(self, refused: list[Reply], context: BoltContext, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a form, unless the person may not use it: then they are told why, only them."""
        if refused:
            self.send(refused, context)
            return
        try:  # a form's trigger lasts 3 seconds: no point trying again later
            self.client.views_open(trigger_id=trigger_id, view=view)
        except (SlackApiError, *NETWORK_ERRORS) as failed:
            log.warning("a form could not be opened: %s", type(failed).__name__)

    def _listen(self, app: App) -> None:
        conversation, now, send = self.conversation, self.now, self.send

        def on_message(event: dict[str, Any], context: BoltContext) -> None:
            subtype = event.get("subtype")
            if event.get("bot_id") or subtype == "bot_message" or event.get("user") == context.get("bot_user_id"):
                return  # never answer ourselves or other bots
            channel = event["channel"]
            if subtype == "message_changed":
                new = event["message"]
                if new.get("bot_id") or new.get("text") == event.get("previous_message", {}).get("text"):
                    return
                send(conversation.edited(channel, new["ts"], new.get("text", ""), new.get("user", ""),
                                         event.get("event_ts", event["ts"]), now()), context)
            elif subtype == "message_deleted":
                send(conversation.deleted(channel, event["deleted_ts"],
                                          event.get("previous_message", {}).get("user", ""), now()), context)
            elif subtype in (None, "thread_broadcast", "file_share"):
                text, files = event.get("text", ""), event.get("files") or []
                shared = None  # a file is downloaded only when the words ask for an import
                if files and wants_import(text):
                    shared = self.shared_file(files[0]["id"], files[0].get("name", ""))
                send(conversation.message(Incoming(
                    channel=channel, user=event.get("user", ""), ts=event["ts"], text=text,
                    now=_at(event["ts"]) if now is _now else now(), thread_ts=event.get("thread_ts"),
                    direct=event.get("channel_type") == "im", file=shared)), context)

        app.event("message")(on_message)
        app.event("app_mention")(on_message)  # the same message again: the store drops the twin

        @app.event("app_home_opened")
        def home(event: dict[str, Any]) -> None:
            try:
                self.client.views_publish(user_id=event["user"],
                                          view={"type": "home", "blocks": conversation.home(event["user"], now())})
            except (SlackApiError, *NETWORK_ERRORS) as failed:  # shown again next time they open it
                log.warning("App Home could not be published: %s", type(failed).__name__)

        @app.command("/timescales")
        def command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
            ack()
            text, user = command.get("text", ""), command["user_id"]
            if text.split()[:1] == ["report"]:  # /timescales report [month|quarter]
                asked = ReportQuestion(*period(text, now().date()), None)
                (answer,) = conversation.report_answer(asked, user, now(), command["channel_id"], None, via="slash")
                shown = _for_asker([Reply(answer.channel, answer.text, answer.blocks)], user,
                                   command.get("response_url"))
                drawn = [Reply(user, "The picture of the report you asked for.", attachment=answer.attachment)]
                send(shown + (drawn if answer.attachment else []), context)
                return
            if text.split()[:1] == ["import"]:  # /timescales import: the newest CSV shared in the channel
                shared = self.latest_csv(command["channel_id"])
                importing = Incoming(command["channel_id"], user, f"{SLASH}{command.get('trigger_id', uuid.uuid4())}",
                                 "import caseload", now(), file=shared)
                send(_for_asker(conversation.message(importing), user, command.get("response_url")), context)
                return
            replies = conversation.answer_query(slash_query(text, now()), user, now(), command["channel_id"], None)
            send(_for_asker(replies, user, command.get("response_url")), context)

        @app.action(re.compile(r"^show_unit_\d+$"))
        def show_unit(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            user, container = body["user"]["id"], body.get("container") or {}
            if body.get("response_url"):  # under an answer only the asker sees (a slash command's)
                send(_for_asker(conversation.show_unit(json.loads(action["value"]), user, now(), _channel(body), None,
                                                       "slash"), user, body["response_url"]), context)
            else:
                send(conversation.show_unit(json.loads(action["value"]), user, now(), _channel(body),
                                            container.get("thread_ts") or container.get("message_ts"), "dm"), context)

        @app.action("due_page")
        def due_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            user, container = body["user"]["id"], body.get("container") or {}
            value = json.loads(action["value"])
            if body.get("response_url"):  # under an answer only the asker sees (a slash command's)
                send(_for_asker(conversation.next_page(value, user, now(), _channel(body), None, "slash"), user,
                                body["response_url"]), context)
            else:  # in the thread it was asked in (a unit's channel) or the DM
                send(conversation.next_page(value, user, now(), _channel(body),
                                            container.get("thread_ts") or container.get("message_ts")), context)

        @app.action(re.compile(r"^answer_\d+$"))
        def chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            send(conversation.chose(value["channel"], value["ts"], value["option"], body["user"]["id"],
                                    action["action_ts"], now()), context)

        @app.action(re.compile(r"^visit_plan_\d+$"))
        def visit_plan(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            send(conversation.visit_plan(str(value["event"]), str(value["status"]), body["user"]["id"],
                                         action["action_ts"], now(), _channel(body)), context)

        @app.action("import_confirm")
        def import_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            shared = self.shared_file(str(value["file"]), str(value.get("name", "")))  # named: the file may be gone
            send(conversation.confirm_import(_channel(body), shared, str(value["digest"]), str(value["thread"]),
                                             body["user"]["id"], action["action_ts"], now()), context)

        @app.action("undo")
        def undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            send(conversation.undo(value["channel"], value["ts"], body["user"]["id"], action["action_ts"], now()),
                 context)

        @app.action("mark_done")
        def mark_done(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            send(conversation.mark_done(value["deadline"], body["user"]["id"], action["action_ts"], now(),
                                        _channel(body)), context)

        @app.action(re.compile(r"^transfer_(agree|decline)$"))
        def transfer(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            value = json.loads(action["value"])
            send(conversation.decide_transfer(int(value["transfer"]), action["action_id"] == "transfer_agree",
                                              body["user"]["id"], now(), _channel(body)), context)

        @app.action("reason")
        def reason(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            refused = conversation.may_give_reason(json.loads(action["value"])["deadline"], body["user"]["id"],
                                                   _channel(body))
            self._open_form(refused, context, body["trigger_id"], {
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
        def reasoned(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
            ack()  # the front door already refused what this person may not record, in the form
            values = view["state"]["values"]
            send(conversation.record_reason(json.loads(view["private_metadata"])["deadline"], body["user"]["id"],
                                            values["reason"]["text"]["value"] or "",
                                            values["due"]["date"].get("selected_date"), now(), view["id"]), context)

        @app.action("correct")
        def correct(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
            ack()
            where = json.loads(action["value"])
            refused = conversation.may_correct(where["channel"], where["ts"], body["user"]["id"])
            self._open_form(refused, context, body["trigger_id"], {
                "type": "modal", "callback_id": "correct_form", "private_metadata": action["value"],
                "title": {"type": "plain_text", "text": "Correct an update"},
                "submit": {"type": "plain_text", "text": "Correct"},
                "blocks": [{"type": "input", "block_id": "what",
                            "label": {"type": "plain_text", "text": "What should it say?"},
                            "hint": {"type": "plain_text",
                                     "text": "e.g. \"it was yesterday\", \"child 124 not 123\", \"booked for 3 Dec\""},
                            "element": {"type": "plain_text_input", "action_id": "text"}}]})

        @app.view("correct_form")
        def corrected(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
            ack()
            where = json.loads(view["private_metadata"])
            text = view["state"]["values"]["what"]["text"]["value"] or ""
            send(conversation.message(Incoming(channel=where["channel"], user=body["user"]["id"],
                                               ts=f"form:{view['id']}", text="correction: " + text, now=now(),
                                               thread_ts=where["ts"])), context)

        @app.error
        def failed(error: Exception) -> None:
            log.error("a Slack request failed: %s", type(error).__name__, exc_info=error)
