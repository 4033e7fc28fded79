"""PromQL: building queries from data, and the HTTP client that runs them.

Label values come from users and are always escaped here; no user ever writes PromQL. The client speaks only the
standard HTTP API (``/api/v1/query``, ``/api/v1/query_range``), so it works unchanged against Prometheus, Thanos
Query, Grafana Mimir and VictoriaMetrics. Its answers are strict: anything but a complete, well-typed, finite answer
raises one ``PromQLError`` subclass per kind of failure, and nothing partial is ever returned.

Where Prometheus is and how to talk to it is a ``PrometheusSettings`` the caller gives (OpsCenter's settings
make one: ``Settings.prometheus``); this module reads no configuration of its own.
"""

import functools
import re
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar, Self

import httpx

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def quote(value: str) -> str:
    """A PromQL string literal holding exactly ``value``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _check_names(metric: str, labels: Sequence[str]) -> None:
    if not METRIC_NAME.match(metric):
        raise ValueError(f"not a metric name: {metric!r}")
    for name in labels:
        if not LABEL_NAME.match(name):
            raise ValueError(f"not a label name: {name!r}")


def selector(metric: str, matchers: Mapping[str, str]) -> str:
    """``metric{label="value",…}`` with equality matchers, labels sorted, values escaped."""
    _check_names(metric, list(matchers))
    inside = ",".join(f"{name}={quote(matchers[name])}" for name in sorted(matchers))
    return f"{metric}{{{inside}}}"


# ---- windows cut to the sample ------------------------------------------------------------------------------------


class RangeSelectors(StrEnum):
    """Which samples a range selector ``[d]`` takes at ``t``: ``closed`` [t-d, t] (Prometheus 2.x, Thanos, Mimir
    2.x) or ``left_open`` (t-d, t] (Prometheus 3.x)."""

    CLOSED = "closed"
    LEFT_OPEN = "left_open"


@dataclass(frozen=True, order=True)
class Window:
    """A half-open interval [start, end) of UTC instants, at millisecond precision (Prometheus's own)."""

    start_ms: int
    end_ms: int

    @classmethod
    def of(cls, start: datetime, end: datetime) -> Self:
        window = cls(_ms(start), _ms(end))
        if window.end_ms <= window.start_ms:
            raise ValueError("a window ends after it starts")
        return window

    @property
    def seconds(self) -> Decimal:
        return Decimal(self.end_ms - self.start_ms) / 1000


def _ms(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    delta = instant.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _at(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def over_window(function: str, series: str, window: Window, semantics: RangeSelectors) -> str:
    """``function(series[range] @ t)`` taking exactly the samples in [start, end).

    Evaluated 1 ms before the end, so a sample exactly at the end belongs to the next window. Prometheus 2.x range
    selectors are closed ([t-d, t]): the range is 1 ms shorter; 3.x's are left-open ((t-d, t]): the full length.
    The ``@`` modifier pins the window, so the query gives the same answer whenever and wherever it is pasted.
    """
    length = window.end_ms - window.start_ms
    if semantics is RangeSelectors.CLOSED:
        length -= 1
    return f"{function}({series}[{length}ms] @ {_at(window.end_ms - 1)})"


def aggregated(function: str, metric: str, by: Sequence[str], window: Window, semantics: RangeSelectors) -> str:
    """``sum by (labels) (function(metric[…] @ t))``: one answer per label combination, for every instance alike."""
    _check_names(metric, by)
    return f"sum by ({','.join(sorted(by))}) ({over_window(function, metric, window, semantics)})"


def for_one(function: str, metric: str, matchers: Mapping[str, str], window: Window, semantics: RangeSelectors) -> str:
    """The query that gives one instance's figure alone: what ``aggregated`` answers for it, to paste anywhere."""
    return f"sum({over_window(function, selector(metric, matchers), window, semantics)})"


# ---- failures: one type per kind ----------------------------------------------------------------------------------


@functools.cache
def verifying_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The context that checks Prometheus's certificate against ``ca_bundle`` (default: httpx's CAs), read once per
    process: httpx would read and parse the whole bundle again for every client, about 40 ms of CPU each. A changed
    CA file takes effect when the process restarts, as the rest of the settings do."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else httpx.create_ssl_context()


class PromQLError(Exception):
    """Prometheus could not give a complete, trustworthy answer. Nothing may be concluded from it."""

    kind: ClassVar[str] = "error"


class PrometheusUnreachable(PromQLError):
    """No connection (refused, reset, DNS, TLS), still after the retries."""

    kind = "unreachable"


class PrometheusTimeout(PromQLError):
    """Connected, but the answer did not come within the read timeout."""

    kind = "timeout"


class PrometheusServerError(PromQLError):
    """5xx, still after the retries."""

    kind = "server_error"


class PrometheusRefused(PromQLError):
    """4xx or a redirect: the query or the credentials are wrong; retrying would not help."""

    kind = "refused"


class MalformedAnswer(PromQLError):
    """Not the API's JSON, ``status`` not ``success``, or a result of another type than asked for."""

    kind = "malformed"


class PartialAnswer(PromQLError):
    """The answer carried ``warnings`` (e.g. a store or querier missing): partial data is no data."""

    kind = "partial"


class NotANumber(PromQLError):
    """A NaN or an infinity where a count was expected."""

    kind = "not_a_number"


# ---- the client ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrometheusSettings:
    """Where the query API is (without ``/api/v1``) and how to talk to it: timeouts, at most one kind of auth
    (a bearer token, or a username with a password), extra headers, the CAs to trust, retries."""

    url: str
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    retries: int = 3
    retry_backoff_seconds: float = 0.5
    range_selectors: RangeSelectors = RangeSelectors.CLOSED


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector: its labels and its value, exact."""

    labels: Mapping[str, str]
    value: Decimal


_RETRIED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class PrometheusClient:
    """Runs PromQL over HTTP with the settings' URL, timeouts, credentials, headers and CA bundle.

    Never follows redirects. Retries (with doubling backoff) only connection errors and 5xx; a read timeout, a 4xx
    or a bad answer fails at once. ``requests`` counts the HTTP requests sent, retries included.
    """

    def __init__(self, settings: PrometheusSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.retries = settings.retries
        self.backoff = settings.retry_backoff_seconds
        self.semantics = settings.range_selectors
        self.requests = 0
        self._counting = threading.Lock()  # a client may be shared between threads
        auth: httpx.Auth | None = None
        headers = dict(settings.headers)
        if settings.bearer_token is not None:
            headers["Authorization"] = f"Bearer {settings.bearer_token}"
        elif settings.username is not None and settings.password is not None:
            auth = httpx.BasicAuth(settings.username, settings.password)
        self._http = httpx.Client(
            base_url=settings.url.rstrip("/"),
            timeout=httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds),
            auth=auth,
            headers=headers,
            verify=verifying_context(settings.ca_bundle),
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def vector(self, query: str, *, at: datetime | None = None) -> list[Sample]:
        """An instant query whose answer must be a vector of finite values."""
        return self.vector_of(self.send(query, at=at))

    def send(self, query: str, *, at: datetime | None = None) -> httpx.Response:
        """Sends an instant query and returns its answer unread, for ``vector_of`` to read: one thread may wait on
        Prometheus for the next answer while another reads this one. Raises the failures of the sending."""
        form = {"query": query}
        if at is not None:
            form["time"] = _at(_ms(at))
        return self._send("/api/v1/query", form)

    def vector_of(self, response: httpx.Response) -> list[Sample]:
        """The answer to an instant query that ``send`` returned, read as strictly as ``vector`` reads it."""
        data = self._read(response)
        if data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
            raise MalformedAnswer(f"expected a vector, got {data.get('resultType')!r}")
        return [_sample(item) for item in data["result"]]

    def matrix(self, query: str, *, start: datetime, end: datetime, step_seconds: int) -> list[list[Sample]]:
        """A range query whose answer must be a matrix of finite values: one list of points per series."""
        form = {"query": query, "start": _at(_ms(start)), "end": _at(_ms(end)), "step": str(step_seconds)}
        data = self._call("/api/v1/query_range", form)
        if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            raise MalformedAnswer(f"expected a matrix, got {data.get('resultType')!r}")
        series = []
        for item in data["result"]:
            if not isinstance(item, dict) or not isinstance(item.get("values"), list):
                raise MalformedAnswer("a matrix series without values")
            series.append([_sample({"metric": item.get("metric"), "value": point}) for point in item["values"]])
        return series

    def _call(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        return self._read(self._send(path, form))

    def _read(self, response: httpx.Response) -> dict[str, Any]:
        path = response.request.url.path
        if response.is_redirect:
            raise PrometheusRefused(f"{path} answered {response.status_code} (a redirect; not followed)")
        try:
            body = response.json()
        except ValueError as exc:
            if response.status_code >= 400:
                raise PrometheusRefused(f"{path} answered {response.status_code}") from exc
            raise MalformedAnswer(f"{path} answered {response.status_code} with a body that is not JSON") from exc
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            if response.status_code >= 400:
                raise PrometheusRefused(f"{path} answered {response.status_code}: {error}")
            raise MalformedAnswer(f"{path} answered status {body.get('status')!r}: {error}")
        if body.get("warnings"):
            raise PartialAnswer(f"{path} answered with warnings: {body['warnings']}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise MalformedAnswer(f"{path} answered without data")
        return data

    def _send(self, path: str, form: dict[str, str]) -> httpx.Response:
        attempt = 0
        while True:
            with self._counting:
                self.requests += 1
            try:
                response = self._http.post(path, data=form)
            except httpx.TimeoutException as exc:
                if not isinstance(exc, httpx.ConnectTimeout):
                    raise PrometheusTimeout(f"{path}: no answer within the read timeout") from exc
                failure: PromQLError = PrometheusUnreachable(f"{path}: {type(exc).__name__}: {exc}")
            except _RETRIED as exc:
                failure = PrometheusUnreachable(f"{path}: {type(exc).__name__}: {exc}")
            except httpx.HTTPError as exc:
                raise PrometheusUnreachable(f"{path}: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code < 500:
                    return response
                failure = PrometheusServerError(f"{path} answered {response.status_code}")
            if attempt >= self.retries:
                raise failure
            time.sleep(self.backoff * 2**attempt)
            attempt += 1


def _sample(item: Any) -> Sample:
    if not isinstance(item, dict) or not isinstance(labels := item.get("metric"), dict):
        raise MalformedAnswer("a series without labels")
    point = item.get("value")
    if not isinstance(point, list) or len(point) != 2 or not isinstance(point[1], str):
        raise MalformedAnswer('a sample that is not [time, "value"]')
    try:
        value = Decimal(point[1])
    except InvalidOperation as exc:
        raise MalformedAnswer(f"a value that is not a number: {point[1]!r}") from exc
    if not value.is_finite():
        raise NotANumber(f"{point[1]} for {labels}")
    # JSON object keys are strings; values are too in any answer of Prometheus's (kept as they are, not copied)
    if not all(isinstance(text, str) for text in labels.values()):
        labels = {name: str(text) for name, text in labels.items()}
    return Sample(labels=labels, value=value)
