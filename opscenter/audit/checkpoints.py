"""Signed checkpoints of the audit chain: what makes a rewrite by the database's own admin visible.

The hash chain shows an edited event, but whoever can write the database can recompute every hash after an edit.
So the chain's head (``seq``, its ``hash``, the time) is signed with an Ed25519 key that the database never holds
(``OPSCENTER_AUDIT_SIGNING_KEY_FILE`` or ``OPSCENTER_AUDIT_SIGNING_KEY``; ``opscenter audit keygen`` makes a pair),
at least hourly (the ``audit.checkpoint`` job). Checkpoints are kept in ``audit_checkpoint`` and served
(``GET /api/v1/audit-checkpoints``) so copies live elsewhere (an auditor's files; the notification channels may push
each new one out: ``published`` below is that hook). A chain rewritten below a checkpoint no longer ends, at that
``seq``, in the signed hash; a forged checkpoint does not verify under the public key.

The signed message is UTF-8 text, each line ending in ``\\n``::

    opscenter-audit-checkpoint/1
    seq=<seq, decimal>
    hash=<the head's hash, 64 lowercase hex>
    signed_at=<UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>

``signature`` is the Ed25519 signature of those bytes in standard base64; ``key_id`` the SHA-256 (hex) of the raw
32-byte public key.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from opscenter.audit.chain import rfc3339
from opscenter.audit.models import AuditChainHead, AuditCheckpoint, AuditCheckpointPublic, AuditSeal
from opscenter.db import Transactions
from opscenter.errors import NotFound
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# cryptography is imported where a key is made, loaded or used: it costs every process ~6 MiB, and only the
# checkpoint job, the API's checkpoint reads and the audit commands use it.

log = logging.getLogger(__name__)

# Called with each new checkpoint after it is committed: where the notification channels attach, so copies of the
# signed heads leave the database (issue 22). A failing subscriber is logged and never stops the next one.
published: list[Callable[[AuditCheckpointPublic], None]] = []


def message(seq: int, head_hash: str, signed_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers (the module's docstring)."""
    return f"opscenter-audit-checkpoint/1\nseq={seq}\nhash={head_hash}\nsigned_at={rfc3339(signed_at)}\n".encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new Ed25519 pair: (private key PEM, PKCS#8, unencrypted; public key PEM, SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def signing_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The configured signing key, or None when none is configured. A key that is not an Ed25519 PEM is an
    error naming the setting, never the key."""
    if settings.audit_signing_key is not None:
        pem, source = settings.audit_signing_key.get_secret_value().encode(), "OPSCENTER_AUDIT_SIGNING_KEY"
    elif settings.audit_signing_key_file:
        pem, source = Path(settings.audit_signing_key_file).read_bytes(), "OPSCENTER_AUDIT_SIGNING_KEY_FILE"
    else:
        return None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{source} is not an Ed25519 key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign_head(db: Transactions, key: Ed25519PrivateKey) -> AuditCheckpoint | None:
    """Sign the chain's head now and keep the checkpoint; None while nothing is sealed. Two short transactions:
    the head is read (the sequencer commits seals and head together), then the checkpoint written."""
    with db.transaction(write=False) as session:
        head = session.get(AuditChainHead, 1)
    if head is None or head.seq == 0:
        return None
    signed_at = utcnow()
    signature = key.sign(message(head.seq, head.hash, signed_at))
    checkpoint = AuditCheckpoint(
        seq=head.seq,
        hash=head.hash,
        signed_at=signed_at,
        key_id=key_id(key.public_key()),
        signature=base64.b64encode(signature).decode(),
    )
    with db.transaction(write=True) as session:
        session.add(checkpoint)
        session.flush()
    public = AuditCheckpointPublic.model_validate(checkpoint)
    for subscriber in published:
        try:
            subscriber(public)
        except Exception:
            log.exception("a subscriber of audit checkpoints failed on checkpoint %s", checkpoint.seq)
    return checkpoint


def signature_holds(checkpoint: AuditCheckpointPublic | AuditCheckpoint, public_key: Ed25519PublicKey) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, message(checkpoint.seq, checkpoint.hash, checkpoint.signed_at))
    except (InvalidSignature, ValueError):
        return False
    return True


def list_checkpoints(session: Session, *, page: PageRequest) -> Slice[AuditCheckpoint]:
    """Checkpoints newest first (by id, time-ordered)."""
    return keyset(session, select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()), page)


def get_checkpoint(session: Session, checkpoint_id: uuid.UUID) -> AuditCheckpoint:
    checkpoint = session.get(AuditCheckpoint, checkpoint_id)
    if checkpoint is None:
        raise NotFound("audit checkpoint")
    return checkpoint


def newest(session: Session) -> AuditCheckpoint | None:
    return session.exec(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc(), col(AuditCheckpoint.id).desc()).limit(1)
    ).first()


@dataclass
class CheckpointReport:
    """What checking the chain against its newest checkpoint found."""

    checkpoint: AuditCheckpoint | None
    problems: list[str]


def check_against_newest(db: Transactions, public_key: Ed25519PublicKey) -> CheckpointReport:
    """The newest checkpoint is signed by ``public_key``, and the chain at its ``seq`` ends in its hash."""
    with db.transaction(write=False) as session:
        checkpoint = newest(session)
        seal = (
            None
            if checkpoint is None
            else session.exec(select(AuditSeal).where(AuditSeal.seq == checkpoint.seq)).first()
        )
    if checkpoint is None:
        return CheckpointReport(None, ["no signed checkpoint yet: is audit.checkpoint running with a signing key?"])
    problems = []
    if checkpoint.key_id != key_id(public_key) or not signature_holds(checkpoint, public_key):
        problems.append(f"checkpoint at event {checkpoint.seq} is not signed by this public key: forged or altered")
    if seal is None:
        problems.append(f"event {checkpoint.seq}, signed in a checkpoint, is missing from the chain")
    elif seal.hash != checkpoint.hash:
        problems.append(f"event {checkpoint.seq} no longer has the hash its checkpoint signed: the chain was rewritten")
    return CheckpointReport(checkpoint, problems)
