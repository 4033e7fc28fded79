"""The load a fault run drives from its own threads: ratings, tickets opened and acknowledged, purchase requests,
each request recorded, each 2xx answer kept with what it made; and a probe that notes when the API answers.

A request that never reached the server (connection refused) is sent again. One that may have reached it (the
connection broke mid-request, or a 5xx) is sent again with the same ``Idempotency-Key`` where the route is
idempotent (ratings, tickets); a purchase request's route is not, so it is sent again only after a 503 (the API
says "retry shortly") and one left without an answer is looked up afterwards instead of being sent twice.
"""

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests import loopback

RETRY_FOR = 45.0  # seconds a request is retried for: longer than a PostgreSQL restart with crash recovery
PAUSE = 0.05  # between one thread's requests: a steady load that leaves the 2 shared cores some air


@dataclass
class Write:
    """One write as the client saw it: what was sent, how often, and the answer it ended with."""

    kind: str  # "rating", "ticket", "acknowledge", "purchase request"
    key: str  # the Idempotency-Key (or, for an acknowledgement, the ticket's id)
    attempts: int = 0
    status: int | None = None  # the final answer's status; None when no answer came
    made: str | None = None  # the id in a 2xx answer
    broken: int = 0  # attempts that ended without an answer (connection lost mid-request)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def answered_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Ledger:
    writes: list[Write] = field(default_factory=list)
    probes: list[tuple[float, bool]] = field(default_factory=list)  # (monotonic, answered 2xx)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)


class Driver:
    """Three writing threads and a probe against ``base_url`` until ``stop()``."""

    def __init__(
        self, base_url: str, *, department_key: str, operator_key: str, instance_ids: list[str], service_id: str
    ) -> None:
        self.base_url = base_url
        self.department = {"Authorization": f"Bearer {department_key}"}
        self.operator = {"Authorization": f"Bearer {operator_key}"}
        self.instance_ids = instance_ids
        self.service_id = service_id
        self.ledger = Ledger()
        self._unrated = self._pairs()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._guarded, args=(work,), name=work.__name__, daemon=True)
            for work in (self._ratings, self._tickets, self._purchases, self._probe)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=RETRY_FOR + 30)

    def _guarded(self, work: Any) -> None:
        # a fresh connection per request (no keep-alive): a connection to a killed worker is never reused, so
        # "no answer" always means the request itself was in flight
        with loopback.client(base_url=self.base_url, timeout=20, limits=httpx.Limits(max_keepalive_connections=0)) as c:
            while not self._stopping.is_set():
                work(c)
                time.sleep(PAUSE)

    def send(self, client: httpx.Client, write: Write, path: str, headers: dict[str, str], *, idempotent: bool) -> Any:
        """Send until answered, for at most ``RETRY_FOR`` seconds: again after a refused connection (never sent) or
        a 503 (the API's "database unavailable; retry shortly", nothing written), and, when ``idempotent``, after a
        connection lost mid-request or any 5xx."""
        self.ledger.add(write)
        until = time.monotonic() + RETRY_FOR
        while True:
            write.attempts += 1
            try:
                answer = client.post(path, json=write.body or None, headers=headers)
            except httpx.ConnectError:
                write.status = None
            except httpx.TransportError:
                write.status, write.broken = None, write.broken + 1
                if not idempotent:
                    return None
            else:
                write.status = answer.status_code
                if answer.status_code < 500 or (answer.status_code != 503 and not idempotent):
                    if write.answered_2xx:
                        write.made = str(answer.json().get("id", write.key))
                    return answer
            if time.monotonic() > until:
                return None
            time.sleep(0.2)

    def _pairs(self) -> Iterator[tuple[str, str]]:
        months = [f"{year}-{month:02d}" for year in range(2020, 2027) for month in range(1, 13)]
        return ((instance, month) for month in months for instance in self.instance_ids)

    def _ratings(self, client: httpx.Client) -> None:
        pair = next(self._unrated, None)
        if pair is None:
            self._stopping.wait()  # every (instance, month) rated: this thread is done
            return
        key = f"rating-{uuid.uuid4()}"
        body = {"service_instance_id": pair[0], "period": pair[1], "score": 80}
        self.send(client, Write("rating", key, body=body), "/api/v1/ratings", {**self.department,
                  "Idempotency-Key": key}, idempotent=True)  # fmt: skip

    _numbers = itertools.count(1)

    def _tickets(self, client: httpx.Client) -> None:
        key = f"ticket-{next(self._numbers)}-{uuid.uuid4().hex[:8]}"
        body = {"service_instance_id": self.instance_ids[0], "kind": "incident", "priority": "P3",
                "title": f"故障演练 {key}", "description": "faults under load"}  # fmt: skip
        opened = self.send(client, Write("ticket", key, body=body), "/api/v1/tickets",
                           {**self.department, "Idempotency-Key": key}, idempotent=True)  # fmt: skip
        if opened is None or opened.status_code != 201:
            return
        ticket_id = opened.json()["id"]
        # acknowledge is guarded by If-Match: a repeat after a lost answer is refused (409/412), never doubled
        self.send(client, Write("acknowledge", ticket_id), f"/api/v1/tickets/{ticket_id}/acknowledge",
                  {**self.operator, "If-Match": opened.headers["ETag"]}, idempotent=True)  # fmt: skip

    def _purchases(self, client: httpx.Client) -> None:
        key = f"purchase-{next(self._numbers)}-{uuid.uuid4().hex[:8]}"
        item = {"service_id": self.service_id, "quantity": 1, "start_date": "2027-01-01", "end_date": "2027-12-31",
                "justification": "faults under load"}  # fmt: skip
        body = {"title": f"故障演练 {key}", "items": [item]}
        # not an idempotent route: sent again only when refused (never reached the server, or 503)
        self.send(client, Write("purchase request", key, body=body), "/api/v1/purchase-requests",
                  {**self.department, "Idempotency-Key": key}, idempotent=False)  # fmt: skip

    def _probe(self, client: httpx.Client) -> None:
        try:
            ok = client.get("/api/v1/service-instances?limit=1", headers=self.department).status_code == 200
        except httpx.TransportError:
            ok = False
        with self.ledger.lock:
            self.ledger.probes.append((time.monotonic(), ok))
        time.sleep(0.05)

    def answering_again(self, since: float) -> float | None:
        """Seconds from ``since`` to the first probe answered 2xx after it; None while none was."""
        with self.ledger.lock:
            return next((at - since for at, ok in self.ledger.probes if at >= since and ok), None)
