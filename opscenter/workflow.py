"""State checks every workflow shares: an action is only possible from certain states."""

from opscenter.errors import Conflict
from opscenter.schemas import LabeledEnum


def require_status(current: LabeledEnum, *allowed: LabeledEnum, doing: str, noun: str) -> None:
    """Refuse (409) ``doing`` on a ``noun`` whose status is not one of ``allowed``.

    ``require_status(request.status, DRAFT, RETURNED, doing="edit", noun="purchase request")``
    """
    if current not in allowed:
        may = " or ".join(f"{state.value} ({state.label})" for state in allowed)
        raise Conflict(f"Cannot {doing} a {noun} that is {current.value} ({current.label}); it must be {may}.")
