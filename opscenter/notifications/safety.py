"""Receivers that cannot be turned against us (SSRF): a webhook or robot URL is https (http only where the admin
allows it) and names no loopback, private, link-local, multicast or reserved address (unless a setting allows it,
for labs and tests). The name is checked when the URL is saved, and again when a delivery is made: the transport
resolves the name, checks every address, and connects to the checked address itself (keeping the Host header
and the TLS server name), so a DNS answer that changes between the check and the connection gains nothing.
"""

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from opscenter.errors import InvalidInput
from opscenter.settings import Settings

Resolver = Callable[[str, int], list[str]]
"""host, port → the addresses the name resolves to."""


class UnsafeTarget(Exception):
    """A receiver's address that policy forbids; nothing was sent."""


@dataclass(frozen=True)
class Policy:
    allow_http: bool = False
    allow_private: bool = False


def policy_of(settings: Settings) -> Policy:
    return Policy(allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private)


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def check_url(url: str, policy: Policy, *, field: str = "url") -> str:
    """Refuse (422 naming ``field``) a URL that is not http(s), not https where http is not allowed, or that
    names a forbidden address literally. Names are checked at delivery time, after resolution."""
    parts = urlsplit(url)
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise InvalidInput(field, "must be an https:// URL" + (" or http://" if policy.allow_http else ""))
    if not parts.hostname or parts.username or parts.password:
        raise InvalidInput(field, "must name a host, without user or password")
    try:
        check_address(parts.hostname, policy)
    except UnsafeTarget as refused:
        raise InvalidInput(field, str(refused)) from None
    return url


def check_address(host: str, policy: Policy) -> None:
    """Raise UnsafeTarget when ``host`` is an IP address policy forbids (a name passes: it is resolved later)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if policy.allow_private:
        return
    if not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified:
        raise UnsafeTarget(f"{address} is not a public address (loopback, private, link-local or reserved)")


class SafeTransport(httpx.BaseTransport):
    """Resolves the request's host, refuses it unless every address is allowed, then sends the request to the
    first address through ``inner`` with the Host header and TLS server name of the original name."""

    def __init__(self, policy: Policy, *, resolver: Resolver = system_resolver, inner: httpx.BaseTransport) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in (("https", "http") if self.policy.allow_http else ("https",)):
            raise UnsafeTarget(f"{url.scheme}:// receivers are not allowed")
        host = url.host
        check_address(host, self.policy)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = self.resolver(host, port)
        except OSError as failed:
            raise httpx.ConnectError(f"cannot resolve {host}: {failed}", request=request) from failed
        if not addresses:
            raise httpx.ConnectError(f"{host} resolves to no address", request=request)
        for address in addresses:
            check_address(address, self.policy)
        pinned = url.copy_with(host=addresses[0])
        request.url = pinned
        request.headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
