"""Logging (SPEC section 10): one line per record with time, level and logger;
level from env LOG_LEVEL (default INFO); JSON lines when env LOG_FORMAT=json.

Logs never hold message text, SQL parameters or tokens (SPEC section 8): an
exception is logged with where it happened and its type, not its message, which
can quote what a person typed; SQLAlchemy hides parameters (`store/db.py`); and
the Slack libraries, whose debug lines carry request bodies, log warnings only.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from types import TracebackType

QUIET = ("slack_sdk", "slack_bolt", "sqlalchemy", "alembic", "apscheduler", "urllib3", "waitress")
Failure = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class LineFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatException(self, ei: Failure) -> str:
        kind, _, tb = ei
        frames = "".join(traceback.format_tb(tb)) if tb else ""
        name = kind.__name__ if kind else "Exception"
        return f"Traceback (most recent call last):\n{frames}{name} (its message is not logged: it may quote people)"


class JsonFormatter(LineFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class LogLevelError(ValueError):
    pass


def configure_logging() -> None:
    """Records to stderr, from LOG_LEVEL and LOG_FORMAT."""
    name = os.environ.get("LOG_LEVEL", "INFO").upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise LogLevelError(f"LOG_LEVEL '{name}' is not a level: use DEBUG, INFO, WARNING or ERROR")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if os.environ.get("LOG_FORMAT", "").lower() == "json" else LineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for library in QUIET:
        logging.getLogger(library).setLevel(max(level, logging.WARNING))
    # slack_sdk logs every failed call at ERROR; the outbox and the CLI say what failed themselves.
    logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)
