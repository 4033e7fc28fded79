"""Security headers on every answer, set in one place (``SecurityHeadersMiddleware``, outside everything Litestar
does, so a 404 for an unknown path and a 405 carry them too).

- Every answer: ``X-Content-Type-Options: nosniff`` (a browser never runs an upload or a JSON body as script),
  ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` (no page of ours inside another site's frame),
  ``Referrer-Policy: same-origin`` (an id in our URL never leaves in a Referer).
- An HTML page (the console, the API documentation under ``/schema``): a strict Content-Security-Policy, every
  script and style from this server's own files, none inline: the console loads HTMX, ECharts and its own
  ``charts.js``, the documentation pages their vendored renderers and ``apidocs.js`` (opscenter/console/assets.py).
  The documentation renderers (ReDoc's styled-components, Swagger UI, Elements) write their styles at run time,
  so those pages alone also allow inline *styles* (never script) and ReDoc's search worker from a ``blob:``.
- Any other answer (JSON, problem+json, CSV, a static file): ``default-src 'none'``: it is data, nothing in it
  may load or run anything.
- ``Strict-Transport-Security`` only when the console is served behind TLS (``OPSCENTER_CONSOLE_SECURE_COOKIES``,
  the setting that already says so): sent over plain HTTP it would lock a browser out of a test install.
"""

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
DOCS_PREFIX = "/schema"

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
_OURS = {name for name, _ in _ALWAYS} | {b"content-security-policy", b"strict-transport-security"}


def policy_for(path: str, content_type: str) -> str:
    """The Content-Security-Policy of an answer to ``path`` with this ``Content-Type``."""
    if not content_type.lower().startswith("text/html"):
        return DATA_POLICY
    if path == DOCS_PREFIX or path.startswith(f"{DOCS_PREFIX}/"):
        return DOCS_POLICY
    return PAGE_POLICY


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP answer, replacing any a handler set (one policy, stated here)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                content_type = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
                headers.extend(_ALWAYS)
                headers.append((b"content-security-policy", policy_for(path, content_type).encode()))
                if self.hsts:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
