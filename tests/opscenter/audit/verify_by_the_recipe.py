"""An auditor's own verifier, written only from the recipe in the API documentation (GET /api/v1/audit-events and
GET /api/v1/audit-checkpoints in /schema), importing nothing of OpsCenter: what a department could write."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

RECIPE_2 = [
    "action", "actor_name", "actor_organization_id", "actor_role", "actor_user_id", "changes", "client_address",
    "credential_id", "credential_kind", "id", "object_id", "object_type", "occurred_at", "prev_hash", "recipe",
    "request_id", "seq",
]  # fmt: skip
RECIPE_1 = [name for name in RECIPE_2 if name not in ("client_address", "credential_id", "credential_kind", "recipe")]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _hash(event: dict[str, Any]) -> str:
    recipe = event["recipe"]
    content = {name: event[name] for name in (RECIPE_2 if recipe == 2 else RECIPE_1)}
    instant = _instant(event["occurred_at"])
    if recipe == 2:
        content["occurred_at"] = instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond:06d}Z"
    else:
        fraction = f".{instant.microsecond:06d}" if instant.microsecond else ""
        content["occurred_at"] = instant.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "+00:00"
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_export_by_the_recipe(lines: list[str], checkpoint: dict[str, Any], public_pem: bytes) -> list[str]:
    problems = []
    key = load_pem_public_key(public_pem)
    assert isinstance(key, Ed25519PublicKey)
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if hashlib.sha256(raw).hexdigest() != checkpoint["key_id"]:
        problems.append("another key")
    signed_at = _instant(checkpoint["signed_at"])
    message = (
        f"opscenter-audit-checkpoint/1\nseq={checkpoint['seq']}\nhash={checkpoint['hash']}\n"
        f"signed_at={signed_at.strftime('%Y-%m-%dT%H:%M:%S.')}{signed_at.microsecond:06d}Z\n"
    )
    try:
        key.verify(base64.b64decode(checkpoint["signature"]), message.encode("utf-8"))
    except Exception:
        problems.append("bad signature")
    previous, seq = "0" * 64, 0
    for line in lines:
        event = json.loads(line)
        seq += 1
        if event["seq"] != seq or event["prev_hash"] != previous or _hash(event) != event["hash"]:
            problems.append(f"event {seq}")
        if event["seq"] == checkpoint["seq"] and event["hash"] != checkpoint["hash"]:
            problems.append("checkpoint")
        previous = event["hash"]
    if seq < checkpoint["seq"]:
        problems.append("short")
    return problems
