"""What every request and answer passes through: the request id, the request's log line, and an honest Allow
header."""

import logging
import re
import time
import uuid
from typing import Any

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from opscenter.logs import REQUEST_FIELDS, REQUEST_ID

request_log = logging.getLogger("opscenter.requests")

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "-"))


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the caller or makes one; echoes it and hands it to the audit trail."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = offered if _VALID_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        REQUEST_ID.set(request_id)  # this request's task: every log line made while serving it carries the id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Any = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):  # an error answer may carry it
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestLogMiddleware:
    """One line per request, once it is answered: method, route template (never the path: ids and whatever a
    caller put there stay out), status, duration in ms, and the acting user's id. Never a header, a query string
    or a body, so never a key, a password or a cookie. The request id comes with every record
    (``opscenter.logs``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: a handler that never answers is the server's failure

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            if request_log.isEnabledFor(logging.INFO):
                _log_request(scope, status, (time.perf_counter() - started) * 1000)


def _log_request(scope: Scope, status: int, duration_ms: float) -> None:
    route = str(scope.get("path_template") or "-")
    actor_id = getattr(scope.get("user"), "user_id", None)
    method = str(scope.get("method", "-"))
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "actor_id": str(actor_id) if actor_id is not None else None,
    }
    request_log.info(
        "%s %s %d %.1f ms actor %s",
        method,
        route,
        status,
        duration_ms,
        fields["actor_id"] or "-",
        extra={REQUEST_FIELDS: fields},
    )


def _methods_by_path(app: Litestar) -> dict[str, str]:
    if "allow_by_path" not in app.state:
        app.state["allow_by_path"] = {
            route.path_format: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)
        }
    methods: dict[str, str] = app.state["allow_by_path"]
    return methods


def truthful_allow(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: an OPTIONS answer's ``Allow`` names every method of its path.

    Litestar's automatic OPTIONS handler lists only the methods of the first handler registered on a path
    (its route is rebuilt when a second controller's handler joins it, the OPTIONS handler is not).
    """
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    methods = _methods_by_path(scope["app"]).get(str(scope.get("path_template", "")))
    if methods:
        MutableScopeHeaders.from_message(message)["Allow"] = methods
