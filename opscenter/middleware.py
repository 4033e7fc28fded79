"""What every request and answer passes through: the request id, the client's address, the request's log line,
and an honest Allow header."""

import logging
import re
import time
import uuid
from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from opscenter.logs import REQUEST_ID, REQUEST_LOG, log_request

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


Networks = Sequence[IPv4Network | IPv6Network]


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "-"))


def client_address_of(scope: Scope) -> str:
    """The client's address as ``RequestIdMiddleware`` found it (through trusted proxies only), or ``-``."""
    return str(scope.get("state", {}).get("client_address", "-"))


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str:
    """Who sent the request: the peer, unless the peer is a trusted proxy; then the nearest address in
    ``X-Forwarded-For`` that is not a trusted proxy, read from the right (the hops a client wrote itself on the
    left are never believed over a proxy's). A client cannot move itself to another address by sending the
    header: from an untrusted peer the header is ignored."""
    if peer is None:
        return "-"
    if not trusted or not forwarded_for or not _trusted(peer, tuple(trusted)):
        return peer
    candidate = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            address = str(ip_address(hop))
        except ValueError:
            return candidate  # garbage from further left: the last trusted hop's view is all we know
        if not _trusted(address, tuple(trusted)):
            return address
        candidate = address
    return candidate


@lru_cache(maxsize=4096)
def _trusted(address: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the caller or makes one; echoes it and hands it to the audit trail.
    Also finds the client's address once (``client_address``), for rate limits, logs and audit events.

    With ``log_requests``, one line per request once it is answered (``opscenter.logs.log_request``): method,
    route template (never the path: ids and whatever a caller put there stay out), status, duration in ms, and
    the acting user's id. Never a header, a query string or a body, so never a key, a password or a cookie. Here
    rather than in a middleware of its own, so that the line costs no second wrapper around every request."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Networks = (), log_requests: bool = False) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = offered if _VALID_ID.match(offered) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        REQUEST_ID.set(request_id)  # this request's task: every log line made while serving it carries the id
        peer = scope.get("client")
        forwarded = (
            b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for") if self.trusted_proxies else b""
        )
        state["client_address"] = client_address(
            peer[0] if peer else None, forwarded.decode("latin-1"), self.trusted_proxies
        )
        status = 500  # unless an answer starts: a handler that never answers is the server's failure

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: Any = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):  # an error answer may carry it
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log_requests and REQUEST_LOG.isEnabledFor(logging.INFO):
                actor_id = getattr(scope.get("user"), "user_id", None)
                log_request(
                    str(scope.get("method", "-")),
                    str(scope.get("path_template") or "-"),
                    status,
                    (time.perf_counter() - started) * 1000,
                    str(actor_id) if actor_id is not None else None,
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
