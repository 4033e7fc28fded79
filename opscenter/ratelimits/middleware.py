"""Rate limits, and refused credentials seen.

Every request is counted against one bucket: its credential (the API key it presents) or, without one, its client
address (``opscenter.middleware.client_address``: through trusted proxies only), for its route's class: ``reads``
(GET), ``writes`` (POST, PUT, PATCH, DELETE), ``batches`` (a route taking a larger body than JSON's limit: a ratings
batch, a file upload) or ``exports`` (a route answering a file). Past the class's limit in a window the answer is 429
problem+json with ``Retry-After``; every answer carries ``RateLimit-Policy`` and ``RateLimit`` (the IETF httpapi
draft's structured fields: ``"writes";q=300;w=60`` and ``"writes";r=12;t=41``: quota, window, remaining, seconds
to reset).

A presented credential is counted before it is checked (the check may need the database), by its SHA-256, so a
key's limit is the same in every process. Each credential refused (a 401: missing, unknown, revoked, expired) is
logged with the request id and client address (never the credential), counted on ``/metrics``
(``opscenter_auth_refused_total{reason}``) and against the client address: past ``rate_limit_refused`` in a
window, every request from that address is 429 until the window ends, so keys cannot be guessed at speed, and a
stream of invented keys creates no more buckets than that.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from monitoring.metrics import AUTH_REFUSED
from opscenter.errors import PROBLEM_JSON
from opscenter.middleware import client_address_of, request_id_of
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.ratelimits.counters import Counters
from opscenter.settings import Settings

log = logging.getLogger("opscenter.auth")

READS, WRITES, BATCHES, EXPORTS = "reads", "writes", "batches", "exports"
REFUSED = "refused"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Limits:
    """Requests per ``window`` seconds by route class, and refused credentials per client address."""

    window: int
    by_class: dict[str, int]
    refused: int

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            window=settings.rate_limit_window_seconds,
            by_class={
                READS: settings.rate_limit_reads,
                WRITES: settings.rate_limit_writes,
                BATCHES: settings.rate_limit_batches,
                EXPORTS: settings.rate_limit_exports,
            },
            refused=settings.rate_limit_refused,
        )


def route_class(handler: HTTPRouteHandler, method: str, default_body_limit: int | None) -> str:
    """The class a route's limit is taken from: what it answers (a file), how much it takes, or its method."""
    if handler.opt.get(FILE_DOWNLOAD):
        return EXPORTS
    body_limit = handler.request_max_body_size
    if isinstance(body_limit, int) and default_body_limit is not None and body_limit > default_body_limit:
        return BATCHES
    return READS if method in _SAFE else WRITES


class GuardMiddleware:
    """Counts every request (when ``counters`` is set) and watches every 401."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._classes: dict[tuple[int, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        limits: Limits | None = state.get("rate_limits")
        if limits is None:  # an app whose lifespan has not run (a test client outside `with`): nothing to count
            await self.app(scope, receive, send)
            return
        counters: Counters | None = state.get("rate_counters")
        address = client_address_of(scope)
        credential = _presented_credential(scope)
        refusals = f"refused:{address}"
        extra: list[tuple[bytes, bytes]] = []
        if counters is not None:
            name = self._class_of(scope)
            quota = limits.by_class[name]
            bucket = f"{name}:key:{credential}" if credential else f"{name}:address:{address}"
            taken = await counters.take(
                bucket, window=limits.window, address_refusals=refusals, refused_limit=limits.refused
            )
            if taken.blocked:
                await _too_many(send, REFUSED, limits.refused, limits.window, taken.seconds_left, scope)
                return
            extra = _headers(name, quota, limits.window, max(0, quota - taken.count), taken.seconds_left)
            if taken.count > quota:
                await _too_many(send, name, quota, limits.window, taken.seconds_left, scope)
                return
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except NotAuthorizedException:  # the authentication's refusal, answered by the error layer further out
            status = 401
            raise
        finally:
            if status == 401:
                await self._refused(scope, counters, limits, credential, address, refusals)

    async def _refused(
        self,
        scope: Scope,
        counters: Counters | None,
        limits: Limits,
        credential: str | None,
        address: str,
        refusals: str,
    ) -> None:
        """A 401: logged (never the credential), counted on /metrics and against the client address."""
        reason = "invalid" if credential else "missing"
        AUTH_REFUSED.labels(reason=reason).inc()
        log.warning(
            "credential refused (%s): request_id=%s client=%s %s %s",
            reason,
            request_id_of(scope),
            address,
            scope.get("method", "-"),
            scope.get("path_template", scope["path"]),
        )
        if counters is not None:
            await counters.refuse(refusals, window=limits.window)

    def _class_of(self, scope: Scope) -> str:
        handler: Any = scope["route_handler"]
        method = str(scope.get("method", "GET"))
        key = (id(handler), method)
        name = self._classes.get(key)
        if name is None:
            default = scope["app"].request_max_body_size
            name = self._classes[key] = route_class(handler, method, default if isinstance(default, int) else None)
        return name


def _presented_credential(scope: Scope) -> str | None:
    """A digest of the credential the request presents (a bearer token), or None: the bucket of a key, the same
    in every process, and never the key itself."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            token = token.strip()
            if scheme.lower() == b"bearer" and token:
                return hashlib.sha256(token).hexdigest()[:32]
            return None
    return None


def _headers(name: str, quota: int, window: int, remaining: int, seconds_left: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-policy", f'"{name}";q={quota};w={window}'.encode()),
        (b"ratelimit", f'"{name}";r={remaining};t={seconds_left}'.encode()),
    ]


async def _too_many(send: Send, name: str, quota: int, window: int, seconds_left: int, scope: Scope) -> None:
    who = "this client address's refused credentials" if name == REFUSED else f"the {name} of this credential"
    body: dict[str, Any] = {
        "type": "urn:opscenter:problem:rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": f"Too many requests: {who} are limited to {quota} per {window} s; retry in {seconds_left} s.",
    }
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(payload)).encode()),
        (b"retry-after", str(seconds_left).encode()),
        *_headers(name, quota, window, 0, seconds_left),
    ]
    start: Any = {"type": "http.response.start", "status": 429, "headers": headers}
    await send(start)
    body_message: Any = {"type": "http.response.body", "body": payload}
    await send(body_message)
