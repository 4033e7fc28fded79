"""What every workflow shares: the words of its decisions, and the states an action is possible from.

The vocabulary is one for every domain (purchase requests, contracts and their amendments, maintenance windows,
statements): ``POST …/{id}/approve`` takes an optional body ``ApproveBody {note?}``, ``…/reject`` a required
``RejectBody {reason}``, ``…/return`` a required ``ReturnBody {comment}``. What the actor wrote is kept in the audit
event of the action (``audit.change(…, words=…)``), and so in the object's history.
"""

from typing import Any

from sqlmodel import Field

from opscenter.errors import Conflict
from opscenter.schemas import LabeledEnum, StrictInput, schema_config

MAX_WORDS = 2000  # the most characters of a note, a reason or a comment


class ApproveBody(StrictInput):
    """An approval, with a note for the record if the approver has one (the body itself may be left out)."""

    model_config = schema_config(extra="forbid", example={"note": "同意，请按计划执行"})

    note: str = Field(default="", max_length=MAX_WORDS, description="Optional: what the approver adds")


class RejectBody(StrictInput):
    """A rejection: final, and always with its reason."""

    model_config = schema_config(extra="forbid", example={"reason": "预算不足，请下一年度再申请"})

    reason: str = Field(min_length=1, max_length=MAX_WORDS, description="Why it is rejected")


class ReturnBody(StrictInput):
    """A return for revision: the comment says what to change."""

    model_config = schema_config(extra="forbid", example={"comment": "请补充数量测算依据"})

    comment: str = Field(min_length=1, max_length=MAX_WORDS, description="What to change before resubmitting")


def approval_note(body: ApproveBody | None) -> str:
    """The note of an approval whose body may be absent."""
    return body.note if body is not None else ""


def said(**words: str) -> dict[str, Any]:
    """``audit.change(…, words=said(note=note))``: the words of a decision, without the empty ones."""
    return {name: text for name, text in words.items() if text}


def require_status(current: LabeledEnum, *allowed: LabeledEnum, doing: str, noun: str) -> None:
    """Refuse (409) ``doing`` on a ``noun`` whose status is not one of ``allowed``.

    ``require_status(request.status, DRAFT, RETURNED, doing="edit", noun="purchase request")``
    """
    if current not in allowed:
        may = " or ".join(f"{state.value} ({state.label})" for state in allowed)
        raise Conflict(f"Cannot {doing} a {noun} that is {current.value} ({current.label}); it must be {may}.")
