"""What a contract's steps tell people (DESIGN §9): a draft or an amendment waits for a second approver."""

from sqlmodel import Session

from contracts.agreements.models import Contract, ContractVersion
from opscenter.identity.actor import Actor
from opscenter.notifications import outbox
from opscenter.notifications.models import NotificationKind as K


def tell_awaiting_approval(session: Session, contract: Contract, version: ContractVersion, *, actor: Actor) -> None:
    """A drafted contract (version 1) or amendment waits for a second bureau user."""
    kind = K.CONTRACT_AWAITING_APPROVAL if version.number == 1 else K.AMENDMENT_AWAITING_APPROVAL
    outbox.emit(
        session,
        kind=kind,
        subject=contract,
        title=f"{kind.label}：{contract.number}（第 {version.number} 版）",
        body=f"合同《{contract.title}》（{contract.number}）第 {version.number} 版由 {actor.user_name} 起草，"
        "须由另一位管理局用户复核审批。",
        payload={"contract_id": contract.id, "number": contract.number, "version": version.number},
        actor=actor,
    )
