"""The worker's side of notifications, in short steps (``Job.run_steps``): fan committed events out to their
recipients, then deliver what is due, at least once.

A step claims a batch of due deliveries in one short write transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
so two workers never claim the same row; SQLite: its single writer), counts the attempt and leases the rows; it
sends with no transaction open, a few at a time and each within its timeout; then it writes each attempt's log
row and outcome in another short transaction. An attempt's log row is unique by (delivery, number), and an
outcome is written only by the worker whose claim made that attempt, so no attempt is delivered or logged twice.
A worker that dies mid-batch leaves leased rows that another claims again after the lease: at least once.

Outcomes: 2xx delivered; 408, 429, 5xx, timeouts and connection errors tried again after ``delivery_backoff
× 2^(n-1)``; other 4xx dead at once; 410 disables the subscription; after ``delivery_max_attempts`` a delivery
is a dead letter (``opscenter_notification_dead_letters`` on /metrics, the NotificationDeadLetters alert).
"""

import functools
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from opscenter.db import Transactions, core_table, insert_rows, new_id
from opscenter.identity.actor import Actor
from opscenter.notifications import messages
from opscenter.notifications.delivery_models import (
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationDelivery,
    NotificationPreference,
    WebhookSubscription,
)
from opscenter.notifications.models import NotificationEvent
from opscenter.notifications.recipients import EVENT_COLUMNS, Directory, EventFacts, fan_out, scope_of
from opscenter.notifications.safety import SafeTransport, policy_of
from opscenter.notifications.secrets import decrypt
from opscenter.notifications.send import DEAD, DELIVERED, GONE, RETRY, Outcome, Parcel, send
from opscenter.notifications.signing import dingtalk_signed_url, standard_webhook_headers
from opscenter.scheduler import Job, JobContext
from opscenter.settings import Settings, get_settings
from opscenter.timekeeping import utcnow

FAN_OUT_BATCH = 500
SENDERS = 8  # parcels in flight at once per worker
MAX_BATCHES = 50  # per run; the rest at the next tick, so a run stays short
IN_FLIGHT = 2  # batches sent while the next is claimed

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DispatchResult:
    fanned_out: int
    attempts: int
    delivered: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# The CAs that receivers' certificates are checked against, read once per process: httpx would read and parse the
# whole bundle again for every client, about 40 ms of CPU on each dispatch run.
_verifying_context = functools.cache(httpx.create_ssl_context)


def http_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client every HTTP channel sends through: checked addresses only, bounded time, no redirects."""
    inner = httpx.HTTPTransport(retries=0, verify=_verifying_context())
    safe = transport or SafeTransport(policy_of(settings), inner=inner)
    return httpx.Client(
        transport=safe, timeout=settings.delivery_timeout_seconds, follow_redirects=False, trust_env=False
    )


def fan_out_pending(db: Transactions, now: datetime) -> int:
    """Turn committed, not yet fanned-out events into notifications and deliveries, a batch per transaction."""
    total = 0
    while True:
        with db.transaction(write=True) as session:
            events = [
                EventFacts(*row)
                for row in session.execute(
                    sa_select(*EVENT_COLUMNS)
                    .where(col(NotificationEvent.fanned_out_at).is_(None))
                    .order_by(col(NotificationEvent.id))
                    .limit(FAN_OUT_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ]
            if events:
                fan_out(session, events, Directory.load(session), now)
        total += len(events)
        if len(events) < FAN_OUT_BATCH:
            return total


def claim(session: Session, settings: Settings, *, now: datetime, limit: int) -> list[Parcel]:
    """Lease up to ``limit`` due deliveries to this worker and build what each attempt sends."""
    due = session.exec(
        select(NotificationDelivery)
        .where(
            NotificationDelivery.status == DeliveryStatus.PENDING,
            col(NotificationDelivery.next_attempt_at) <= now,
            or_(col(NotificationDelivery.claimed_until).is_(None), col(NotificationDelivery.claimed_until) < now),
        )
        .order_by(col(NotificationDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []
    events = _by_id(session, NotificationEvent, {row.event_id for row in due})
    subscriptions = _by_id(session, WebhookSubscription, {row.subscription_id for row in due if row.subscription_id})
    scopes = {scope_of(row.organization_id) for row in due}
    preferences = {
        row.scope: row
        for row in session.exec(select(NotificationPreference).where(col(NotificationPreference.scope).in_(scopes)))
    }
    # Long enough for this batch and the one sent before it (IN_FLIGHT), each parcel taking its whole timeout.
    rounds = IN_FLIGHT * (math.ceil(limit / SENDERS) + 1)
    lease = now + timedelta(seconds=settings.delivery_timeout_seconds * rounds + 60)
    parcels = []
    for row in due:
        row.attempts += 1
        row.claimed_until = lease
        parcel = _parcel(row, events[row.event_id], subscriptions, preferences, settings)
        if parcel is None:  # its subscription or robot is gone: nothing to send, ever
            row.status, row.claimed_until, row.last_error = DeliveryStatus.DROPPED, None, "receiver removed"
        else:
            parcels.append(parcel)
        session.add(row)
    return parcels


def _by_id(session: Session, model: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    rows: Sequence[Any] = session.exec(select(model).where(col(model.id).in_(ids))).all() if ids else []
    return {row.id: row for row in rows}


def _parcel(
    row: NotificationDelivery,
    event: object,
    subscriptions: dict[uuid.UUID, object],
    preferences: dict[str, NotificationPreference],
    settings: Settings,
) -> Parcel | None:
    assert isinstance(event, NotificationEvent)
    base = {"delivery_id": row.id, "number": row.attempts, "channel": row.channel.value}
    if row.channel == Channel.EMAIL:
        mail = messages.email(event, sender=settings.smtp_from, to=row.address, console_url=settings.console_url)
        return Parcel(**base, mail=mail)  # type: ignore[arg-type]
    if row.channel == Channel.WEBHOOK:
        subscription = subscriptions.get(row.subscription_id) if row.subscription_id else None
        if not isinstance(subscription, WebhookSubscription) or not subscription.active:
            return None
        body = messages.webhook(event, row.organization_id, settings.console_url)
        secret = decrypt(settings, subscription.secret_encrypted)
        headers = standard_webhook_headers(secret, f"msg_{event.id}", int(time.time()), body)
        return Parcel(**base, url=subscription.url, headers=headers, body=body)  # type: ignore[arg-type]
    preference = preferences.get(scope_of(row.organization_id))
    if preference is None:
        return None
    if row.channel == Channel.WECOM and preference.wecom_url:
        body = messages.wecom(event, settings.console_url)
        return Parcel(**base, url=preference.wecom_url, body=body, robot=True)  # type: ignore[arg-type]
    if row.channel == Channel.DINGTALK and preference.dingtalk_url:
        url = preference.dingtalk_url
        if preference.dingtalk_secret_encrypted:
            secret = decrypt(settings, preference.dingtalk_secret_encrypted)
            url = dingtalk_signed_url(url, secret, int(time.time() * 1000))
        body = messages.dingtalk(event, settings.console_url)
        return Parcel(**base, url=url, body=body, robot=True)  # type: ignore[arg-type]
    return None


def record(
    session: Session, results: Sequence[tuple[Parcel, Outcome]], settings: Settings, *, worker: str, now: datetime
) -> int:
    """Log each attempt and apply its outcome, if the delivery is still this attempt's; returns how many
    were delivered."""
    delivered = 0
    ids = [parcel.delivery_id for parcel, _ in results]
    rows = {
        row.id: row
        for row in session.exec(
            select(NotificationDelivery).where(col(NotificationDelivery.id).in_(ids)).with_for_update()
        )
    }
    log: list[dict[str, object]] = []
    for parcel, outcome in results:
        row = rows.get(parcel.delivery_id)
        if row is None or row.attempts != parcel.number or row.status != DeliveryStatus.PENDING:
            continue  # another worker took it over after our lease ran out; its attempt is the one that counts
        last = parcel.number >= settings.delivery_max_attempts
        result = DEAD if outcome.result == RETRY and last else outcome.result
        log.append(
            {
                "id": new_id(),
                "delivery_id": row.id,
                "number": parcel.number,
                "worker": worker[:100],
                "started_at": now - timedelta(milliseconds=outcome.duration_ms),
                "duration_ms": outcome.duration_ms,
                "status_code": outcome.status_code,
                "outcome": result,
                "error": outcome.error,
            }
        )
        row.claimed_until, row.last_error = None, outcome.error
        if outcome.result == DELIVERED:
            row.status, row.delivered_at = DeliveryStatus.DELIVERED, now
            delivered += 1
        elif outcome.result == GONE and row.subscription_id is not None:
            row.status = DeliveryStatus.DROPPED
            _retire(session, row.subscription_id, outcome.error)
        elif result in (DEAD, GONE):
            row.status = DeliveryStatus.DEAD
        else:
            row.next_attempt_at = now + timedelta(seconds=settings.delivery_backoff_seconds * 2 ** (parcel.number - 1))
        session.add(row)
    insert_rows(session, core_table(DeliveryAttempt), log)
    return delivered


def _retire(session: Session, subscription_id: uuid.UUID, reason: str) -> None:
    """A 410: the subscription is disabled, and what was still waiting for it is dropped."""
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is not None and subscription.active:
        subscription.active, subscription.disabled_reason = False, reason[:200]
        session.add(subscription)
    session.execute(
        update(NotificationDelivery)
        .where(
            col(NotificationDelivery.subscription_id) == subscription_id,
            col(NotificationDelivery.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.DROPPED, claimed_until=None, last_error="subscription disabled (410)")
    )


def deliver_due(
    db: Transactions,
    settings: Settings,
    client: httpx.Client,
    *,
    worker: str,
    clock: Clock = utcnow,
    max_batches: int = MAX_BATCHES,
) -> tuple[int, int]:
    """Claim, send and record batches until nothing is due (or ``max_batches`` claimed); returns (attempts,
    delivered). The next batch is claimed while the last one is on the wire, so the database and the network wait
    on each other less; at most ``IN_FLIGHT`` batches are leased to this worker at once."""
    attempts = delivered = 0
    sending: deque[tuple[list[Parcel], list[Future[Outcome]]]] = deque()
    claimed = 0
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="notify") as pool:
        while True:
            parcels: list[Parcel] = []
            if claimed < max_batches:
                with db.transaction(write=True) as session:
                    parcels = claim(session, settings, now=clock(), limit=settings.delivery_batch)
                claimed += 1
            if parcels:
                sending.append((parcels, [pool.submit(send, parcel, client, settings) for parcel in parcels]))
                attempts += len(parcels)
            if not sending:
                break
            if parcels and len(sending) < IN_FLIGHT:
                continue
            done, futures = sending.popleft()
            outcomes = [future.result() for future in futures]
            with db.transaction(write=True) as session:
                delivered += record(session, list(zip(done, outcomes, strict=True)), settings, worker=worker,
                                    now=clock())  # fmt: skip
    return attempts, delivered


def dispatch(db: Transactions, context: JobContext[Actor]) -> DispatchResult:
    settings = get_settings()
    fanned = fan_out_pending(db, context.now)
    with http_client(settings) as client:
        attempts, delivered = deliver_due(db, settings, client, worker=worker_name())
    return DispatchResult(fanned, attempts, delivered)


JOBS = [
    Job(
        id="notifications.dispatch",
        description="Fan notification events out to their recipients and deliver them (email, robots, webhooks)",
        trigger=IntervalTrigger(seconds=10),
        run_steps=dispatch,
    ),
]
