"""What each channel carries of an event: the same title and body, in the receiver's format, with a link to the
console page of the object. A webhook's payload names only the receiving organization among departments."""

import json
import uuid
from email.message import EmailMessage
from typing import Any

from opscenter.notifications.models import NotificationEvent
from opscenter.timekeeping import SHANGHAI

# The console page of each kind of object (opscenter/console); others link to the start page ("awaiting me").
_PAGES = {
    "ticket": "tickets",
    "purchase_request": "purchase-requests",
    "contract": "contracts",
    "maintenance_window": "maintenance-windows",
    "handover_batch": "handovers",
    "statement": "statements",
}


def link(console_url: str, event: NotificationEvent) -> str:
    base = console_url.rstrip("/")
    page = _PAGES.get(event.object_type)
    return f"{base}/{page}/{event.object_id}" if page else f"{base}/"


def _when(event: NotificationEvent) -> str:
    return f"{event.created_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def email(event: NotificationEvent, *, sender: str, to: str, console_url: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"【运营中心】{event.title}"
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = f"<{event.id}@opscenter>"
    message.set_content(
        f"{event.body}\n\n时间：{_when(event)}（北京时间）\n操作人：{event.actor_name}\n"
        f"查看详情：{link(console_url, event)}\n\n此邮件由运营中心系统自动发送，请勿直接回复。\n"
    )
    return message


def _markdown(event: NotificationEvent, console_url: str) -> str:
    return (
        f"### {event.title}\n{event.body}\n\n> 时间：{_when(event)}　操作人：{event.actor_name}\n\n"
        f"[查看详情]({link(console_url, event)})"
    )


def wecom(event: NotificationEvent, console_url: str) -> bytes:
    """企业微信 group robot: ``{"msgtype": "markdown", "markdown": {"content": …}}``."""
    return _json({"msgtype": "markdown", "markdown": {"content": _markdown(event, console_url)}})


def dingtalk(event: NotificationEvent, console_url: str) -> bytes:
    """钉钉 group robot: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``."""
    return _json({"msgtype": "markdown", "markdown": {"title": event.title, "text": _markdown(event, console_url)}})


def webhook(event: NotificationEvent, receiver: uuid.UUID, console_url: str) -> bytes:
    """The event as a department's system reads it: its id (the ``webhook-id`` too, to drop duplicates), type,
    time, and data about the object; among departments only the receiver is named."""
    departments = [department for department in event.department_ids if department == str(receiver)]
    data = {
        "object_type": event.object_type,
        "object_id": event.object_id,
        "title": event.title,
        "body": event.body,
        "kind_label": event.kind.label,
        "link": link(console_url, event),
        "department_ids": departments,
        **event.payload,
    }
    envelope = {"id": str(event.id), "type": event.kind.value, "timestamp": event.created_at.isoformat()}
    return _json({**envelope, "data": data})


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
