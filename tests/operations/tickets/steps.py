"""Tickets over HTTP, step by step, and a clock the tests set (the server runs in the test process)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from operations.tickets import flows, service
from opscenter.timekeeping import SHANGHAI
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import Identity, World

JSON = dict[str, Any]
TICKETS = "/api/v1/tickets"


def beijing(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Asia/Shanghai wall-clock time, as the UTC instant the API speaks."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class SetClock:
    """The tickets' "now", moved by the test: ``clock.now = beijing(...)``, ``clock.advance(minutes=5)``."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def tickets_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> Iterator[SetClock]:
    """Set the tickets' clock (service and flows) to ``start``; it stays where the block left it until the test
    ends (the sweep takes its own ``now``)."""
    clock = SetClock(start)
    monkeypatch.setattr(service, "utcnow", clock)
    monkeypatch.setattr(flows, "utcnow", clock)
    yield clock


def instance(api: ApiFactory, world: World, department: Identity | None = None, **options: Any) -> JSON:
    """A service instance of ``department`` (A when none), under an approved contract with the standard terms."""
    _, provisioned = contracts.provisioned_instance(api, world, department, **options)
    return provisioned


def body(instance: JSON, priority: str = "P1", kind: str = "incident", **extra: Any) -> JSON:
    return {
        "kind": kind,
        "priority": priority,
        "title": "电子健康档案系统无法登录",
        "description": "医生工作站登录返回502。",
        "service_instance_id": instance["id"],
        **extra,
    }


def open_ticket(api: ApiFactory, who: Identity, instance: JSON, priority: str = "P1", **extra: Any) -> JSON:
    response = open_response(api, who, instance, priority, **extra)
    return contracts.ok(response, 201)


def open_response(api: ApiFactory, who: Identity, instance: JSON, priority: str = "P1", **extra: Any) -> Any:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    return api.as_(who).post(TICKETS, body(instance, priority, **extra), headers=headers)


def path(ticket: JSON) -> str:
    return f"{TICKETS}/{ticket['id']}"


def act(api: ApiFactory, who: Identity, ticket: JSON, action: str, data: Any = None, status: int = 200) -> JSON:
    return contracts.ok(api.as_(who).act(path(ticket), action, data), status)


def read(api: ApiFactory, who: Identity, ticket: JSON) -> JSON:
    return contracts.ok(api.as_(who).get(path(ticket)))


def in_progress(api: ApiFactory, world: World, ticket: JSON) -> JSON:
    act(api, world.operator, ticket, "acknowledge")
    return act(api, world.operator, ticket, "start")


def resolved(api: ApiFactory, world: World, ticket: JSON) -> JSON:
    in_progress(api, world, ticket)
    return act(api, world.operator, ticket, "resolve", {"note": "已重启负载均衡，登录恢复。"})


def listed(api: ApiFactory, who: Identity, **params: Any) -> JSON:
    return contracts.ok(api.as_(who).get(TICKETS, params=params))
