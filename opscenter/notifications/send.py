"""Sending one parcel, and what its answer means: delivered, try again later, dead (never retried) or gone (the
receiver asked to be forgotten: 410). Runs in the worker only, with no transaction open."""

import functools
import json
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx

from opscenter.notifications.safety import UnsafeTarget
from opscenter.settings import Settings

DELIVERED, RETRY, DEAD, GONE = "delivered", "retry", "dead", "gone"
RETRIED_4XX = frozenset({408, 429})  # a 4xx that means "later", not "never"


@dataclass(frozen=True)
class Parcel:
    """One attempt of one delivery, built in the claim's transaction, sent outside it."""

    delivery_id: uuid.UUID
    number: int
    channel: str
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    mail: EmailMessage | None = None
    robot: bool = False  # 企业微信 and 钉钉 answer 200 with {"errcode": 0} when they took it


@dataclass(frozen=True)
class Outcome:
    result: str
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0


def send(parcel: Parcel, client: httpx.Client, settings: Settings) -> Outcome:
    started = time.perf_counter()
    outcome = _mail(parcel, settings) if parcel.mail is not None else _post(parcel, client)
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    return Outcome(outcome.result, outcome.status_code, outcome.error[:500], elapsed_ms)


def _post(parcel: Parcel, client: httpx.Client) -> Outcome:
    headers = {"content-type": "application/json", "user-agent": "OpsCenter-Notifications/1", **parcel.headers}
    try:
        response = client.post(parcel.url, content=parcel.body, headers=headers)
    except UnsafeTarget as refused:
        return Outcome(DEAD, error=f"refused: {refused}")
    except httpx.TimeoutException as slow:
        return Outcome(RETRY, error=f"timeout: {type(slow).__name__}")
    except httpx.HTTPError as failed:
        return Outcome(RETRY, error=f"{type(failed).__name__}: {failed}")
    code = response.status_code
    if code == 410:
        return Outcome(GONE, code, "410 Gone: the receiver retired this subscription")
    if 200 <= code < 300:
        return _robot_answer(response) if parcel.robot else Outcome(DELIVERED, code)
    if 400 <= code < 500 and code not in RETRIED_4XX:
        return Outcome(DEAD, code, f"{code}: {response.text[:200]}")
    return Outcome(RETRY, code, f"{code}: {response.text[:200]}")


def _robot_answer(response: httpx.Response) -> Outcome:
    try:
        answer = response.json()
    except ValueError:
        return Outcome(RETRY, response.status_code, "the robot answered something other than JSON")
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if errcode == 0:
        return Outcome(DELIVERED, response.status_code)
    return Outcome(RETRY, response.status_code, f"errcode {errcode}: {json.dumps(answer, ensure_ascii=False)[:200]}")


@functools.cache
def _mail_relay_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The CAs the relay's certificate is checked against, read once per process rather than for every mail (about
    40 ms of CPU each); a changed CA file takes effect when the process restarts."""
    return ssl.create_default_context(cafile=ca_bundle)


def _mail(parcel: Parcel, settings: Settings) -> Outcome:
    assert parcel.mail is not None
    if settings.smtp_host is None:
        return Outcome(DEAD, error="no mail relay configured (OPSCENTER_SMTP_HOST)")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.delivery_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=_mail_relay_context(settings.smtp_ca_bundle))
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(parcel.mail)
    except smtplib.SMTPRecipientsRefused as refused:
        return Outcome(DEAD, error=f"recipient refused: {refused.recipients}")
    except smtplib.SMTPResponseException as answered:
        result = RETRY if answered.smtp_code >= 400 and answered.smtp_code < 500 else DEAD
        return Outcome(result, answered.smtp_code, f"{answered.smtp_code} {answered.smtp_error!r}")
    except (OSError, smtplib.SMTPException) as failed:
        return Outcome(RETRY, error=f"{type(failed).__name__}: {failed}")
    return Outcome(DELIVERED, 250)
