"""HTTP to the suite's own servers on 127.0.0.1, without httpx reading the CA bundle again for every request.

httpx builds a new SSL context, the whole CA bundle read and parsed, for every client it makes, and ``httpx.get``
makes a client per call: about 40 ms of CPU each, measured. The suite makes thousands (a client per identity per
test, polls while a server starts), and that was nearly half of an API test's CPU. Every client here shares one
context; the servers speak plain HTTP anyway. The benchmarks' harness uses it too.
"""

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def client(base_url: str = "", **options: Any) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=TLS, **options)


def get(url: str, **options: Any) -> httpx.Response:
    return httpx.get(url, verify=TLS, **options)


def post(url: str, **options: Any) -> httpx.Response:
    return httpx.post(url, verify=TLS, **options)


def request(method: str, url: str, **options: Any) -> httpx.Response:
    return httpx.request(method, url, verify=TLS, **options)
