"""Secrets that signing needs in clear (webhook secrets, 钉钉's 加签 secret): stored encrypted with Fernet under
``OPSCENTER_NOTIFICATIONS_SECRET_KEY``, decrypted only by the worker when it signs. A database dump alone does
not reveal them; rotating the key means re-saving the secrets (README "Notifications")."""

import base64
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

from opscenter.errors import Conflict
from opscenter.settings import Settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

# cryptography is imported where a secret is encrypted or decrypted: it costs every API process ~6 MiB, and only
# the notification settings and the worker's signing use it.

WEBHOOK_PREFIX = "whsec_"


def _fernet(settings: Settings) -> "Fernet":
    from cryptography.fernet import Fernet

    key = settings.notifications_secret_key
    if key is None:
        raise Conflict("Set OPSCENTER_NOTIFICATIONS_SECRET_KEY (a Fernet key) before storing notification secrets.")
    return Fernet(key.get_secret_value().encode("ascii"))


def encrypt(settings: Settings, secret: str) -> str:
    return _fernet(settings).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(settings: Settings, token: str) -> str:
    """The secret in clear. Kept in this process for the next parcels of the same receiver: the worker signs
    thousands with one secret (a rotated secret is another token, a new key another cache entry)."""
    key = settings.notifications_secret_key
    if key is None:
        _fernet(settings)  # refuses, saying which setting is missing
    return _decrypt(key.get_secret_value() if key is not None else "", token)


@lru_cache(maxsize=1024)
def _decrypt(key: str, token: str) -> str:
    from cryptography.fernet import Fernet, InvalidToken

    try:
        return Fernet(key.encode("ascii")).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as wrong:
        raise ValueError("the secret was stored under another OPSCENTER_NOTIFICATIONS_SECRET_KEY") from wrong


def new_webhook_secret() -> str:
    """``whsec_`` and 32 random bytes in base64, as Standard Webhooks writes them."""
    return WEBHOOK_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_key() -> str:
    """A fresh Fernet key, for ``OPSCENTER_NOTIFICATIONS_SECRET_KEY``."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")
