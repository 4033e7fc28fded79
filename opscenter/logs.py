"""Logging for every process (``serve``, ``worker``, the CLI): text a person reads, or one JSON object a line for a
collector (``OPSCENTER_LOG_FORMAT=json``). Every record made while a request is served carries its request id (the
one its ``X-Request-ID`` header and a 500's problem body carry), so a user's report leads to the log lines.

Libraries stay at ``OPSCENTER_LOG_LIBRARIES`` (WARNING): httpx logs each Prometheus query at INFO, Alembic its
context on every command, APScheduler every run of a job that runs every second.
"""

import json
import logging
import os
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any

from opscenter.settings import LogFormat, Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("opscenter_request_id", default=None)
"""The request being served in this context (set by ``opscenter.middleware.RequestIdMiddleware``)."""

LIBRARIES = ("httpx", "httpcore", "alembic", "apscheduler")
REQUEST_FIELDS = "request"
"""The ``extra`` key of a request line: method, route, status, duration_ms, actor_id."""
REQUEST_LOG = logging.getLogger("opscenter.requests")
_REQUEST_MESSAGE = "%s %s %d %.1f ms actor %s"

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
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # strftime once a second, not once a line: a busy server writes hundreds of lines in the same second
        second, text = self._second
        if second != int(record.created):
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (int(record.created), text)
        return f"{text},{int(record.msecs):03d}"

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, the request line's
    fields, and the exception's traceback as text."""

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second, text = self._second
        if second != int(record.created):  # once a second, as TextFormatter
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            self._second = (int(record.created), text)
        entry: dict[str, Any] = {
            "time": f"{text}.{int(record.msecs):03d}+00:00",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := getattr(record, "request_id", None)) is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, REQUEST_FIELDS, None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry)


_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one encoder, not one built per line


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (on stderr), replaced when logging is configured again. A line-buffered
    stream (stderr is, on a terminal or not) writes each line whole as its newline arrives: no flush after it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if not getattr(self.stream, "line_buffering", False):
                self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def log_request(method: str, route: str, status: int, duration_ms: float, actor_id: str | None) -> None:
    """The request's line on ``opscenter.requests`` (the caller has asked ``isEnabledFor(INFO)``): its message and
    its fields (``REQUEST_FIELDS``) for a JSON line. The record is the one ``logger.info`` would make, built from
    a per-process template: logging's own way looks the caller's frame up and asks the kernel for the process
    id on every line, which cost as much as formatting and writing it. Where another record factory is in place
    (one adding a trace id, say), the usual way, so that its fields are there too."""
    fields = {"method": method, "route": route, "status": status, "duration_ms": round(duration_ms, 1)}
    fields["actor_id"] = actor_id
    args = (method, route, status, duration_ms, actor_id or "-")
    if logging.getLogRecordFactory() is not _record_with_request_id:
        REQUEST_LOG.info(_REQUEST_MESSAGE, *args, extra={REQUEST_FIELDS: fields})
        return
    template = _template()
    record = logging.LogRecord.__new__(logging.LogRecord)
    attributes = record.__dict__
    attributes.update(template)
    created = time.time()
    attributes["created"] = created
    attributes["msecs"] = int((created - int(created)) * 1000) + 0.0
    attributes["relativeCreated"] = template["relativeCreated"] + (created - template["created"]) * 1000
    attributes["thread"] = threading.get_ident()
    attributes["threadName"] = threading.current_thread().name
    attributes["args"] = args
    attributes["request_id"] = REQUEST_ID.get()
    attributes[REQUEST_FIELDS] = fields
    if "taskName" in template:  # Python 3.12+: the asyncio task, as LogRecord finds it
        attributes["taskName"] = _task_name()
    REQUEST_LOG.handle(record)


def _task_name() -> str | None:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or not getattr(logging, "logAsyncioTasks", True):
        return None
    try:
        return str(asyncio.current_task().get_name())
    except Exception:  # no running loop, or no task
        return None


_TEMPLATES: dict[int, dict[str, Any]] = {}


def _template() -> dict[str, Any]:
    """The attributes every request line of this process shares, from a record made the usual way once."""
    pid = _pid[0]
    template = _TEMPLATES.get(pid)
    if template is None:
        made = _record_with_request_id(REQUEST_LOG.name, logging.INFO, __file__, 0, _REQUEST_MESSAGE, (), None)
        made.funcName = "log_request"
        template = _TEMPLATES[pid] = dict(made.__dict__)
    return template


_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))  # a forked worker: its own template


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
