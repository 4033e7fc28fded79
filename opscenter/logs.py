"""Logging for every process (``serve``, ``worker``, the CLI): text a person reads, or one JSON object a line for a
collector (``OPSCENTER_LOG_FORMAT=json``). Every record made while a request is served carries its request id (the
one its ``X-Request-ID`` header and a 500's problem body carry), so a user's report leads to the log lines.

Libraries stay at ``OPSCENTER_LOG_LIBRARIES`` (WARNING): httpx logs each Prometheus query at INFO, Alembic its
context on every command, APScheduler every run of a job that runs every second.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from opscenter.settings import LogFormat, Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("opscenter_request_id", default=None)
"""The request being served in this context (set by ``opscenter.middleware.RequestIdMiddleware``)."""

LIBRARIES = ("httpx", "httpcore", "alembic", "apscheduler")
REQUEST_FIELDS = "request"
"""The ``extra`` key of a request line: method, route, status, duration_ms, actor_id."""

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = REQUEST_ID.get()
    return record


class TextFormatter(logging.Formatter):
    """``2026-12-05 10:00:00,123 ERROR opscenter.errors: unhandled error on POST /… [request 3f2a…]``."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, the request line's
    fields, and the exception's traceback as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := getattr(record, "request_id", None)) is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, REQUEST_FIELDS, None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (on stderr), replaced when logging is configured again."""


def configure_logging(settings: Settings) -> None:
    """Set the root logger up from ``settings`` (level, format) and quiet the libraries. Where something else
    already configured the root logger (an embedding application, pytest), its handlers are left alone."""
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if isinstance(handler, _Ours)]:
        root.removeHandler(handler)
    if not root.handlers:
        handler = _Ours()
        handler.setFormatter(JsonFormatter() if settings.log_format is LogFormat.JSON else TextFormatter())
        root.addHandler(handler)
        root.setLevel(settings.log_level.value)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(settings.log_libraries.value)
