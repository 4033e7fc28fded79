"""Signatures receivers check: Standard Webhooks for webhooks, 钉钉's signed URL for its robots."""

import base64
import hashlib
import hmac
import urllib.parse

from opscenter.notifications.secrets import WEBHOOK_PREFIX


def standard_webhook_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``,
    keyed with the secret's bytes (base64 after ``whsec_``), as https://www.standardwebhooks.com specifies."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by secret>``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"
