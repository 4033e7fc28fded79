"""The console's audit pages, for auditors and the admin: the trail with the API list's filters (actor, action,
object type and id, since/until, ``q``) and cursor pages, its export with the same filters, and the chain's state
(the sealed head, the events waiting for their seal, the newest signed checkpoint and whether the chain still ends
in the hash it signed, the nightly verification's last run), with a full verification on request. The same
services as ``opscenter/audit/controller.py``; reading changes nothing, so nothing here is audited.

In the shell, not beside the audit's controller: ``opscenter.pages`` stands on ``opscenter.auth``, which audits
through ``opscenter.audit``, so an ``opscenter/audit/pages.py`` would close an import circle."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream
from sqlmodel import Session, select

from opscenter.audit import checkpoints, exports, sequencer, service
from opscenter.audit.jobs import VERIFY_JOB
from opscenter.audit.models import AuditChainHead, AuditCheckpoint, AuditSeal
from opscenter.errors import InvalidInput
from opscenter.exports import ExportFormat
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.job_runs import JobRun
from opscenter.pages import render
from opscenter.settings import Settings
from opscenter.timekeeping import SHANGHAI, as_utc
from opscenter.web import DbSession, Exporting, Paging, get

PAGE = "/console/audit"
FILTERS = ("actor_user_id", "action", "object_type", "object_id", "since", "until", "q")


def parse_local_instant(field: str, text: str, *, parameter: bool = True) -> datetime | None:
    """An instant as a form gives it: ISO 8601 with a zone, or without one (a ``datetime-local`` input), which is
    read as Asia/Shanghai time, as the pages show times. Empty: none."""
    if not text:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "请填写日期时间，例如 2026-11-01T08:00", parameter=parameter) from None
    return as_utc(instant if instant.tzinfo else instant.replace(tzinfo=SHANGHAI))


def _filters(values: dict[str, str]) -> service.EventFilter:
    actor_text = values.get("actor_user_id", "")
    try:
        actor_user_id = uuid.UUID(actor_text) if actor_text else None
    except ValueError:
        raise InvalidInput("actor_user_id", "请填写用户 ID（UUID）", parameter=True) from None
    return service.EventFilter(
        object_type=values.get("object_type") or None,
        object_id=values.get("object_id") or None,
        action=values.get("action") or None,
        actor_user_id=actor_user_id,
        since=parse_local_instant("since", values.get("since", "")),
        until=parse_local_instant("until", values.get("until", "")),
        q=values.get("q") or None,
    )


def _asked(**values: str | None) -> dict[str, str]:
    """The filters as the person typed them (kept in the form and in every next-page and export link); text, not
    the API's types, so that a form's empty fields mean "any" and a Beijing time needs no zone."""
    return {name: (values.get(name) or "").strip()[:200] for name in FILTERS}


@dataclass(frozen=True)
class ChainState:
    head_seq: int
    head_hash: str
    unsealed: int
    oldest_unsealed_at: datetime | None
    checkpoint: AuditCheckpoint | None
    checkpoint_matches: bool | None  # the chain at the checkpoint's seq still ends in the hash it signed
    signature_holds: bool | None  # None when this process has no signing key to check it with
    last_verified_at: datetime | None


def chain_state(session: Session, settings: Settings) -> ChainState:
    """What the chain's own rows say, in a few small queries (the whole walk is ``service.verify_chain``)."""
    head = session.get(AuditChainHead, 1)
    backlog = sequencer.backlog(session)
    checkpoint = checkpoints.newest(session)
    matches = holds = None
    if checkpoint is not None:
        seal = session.exec(select(AuditSeal).where(AuditSeal.seq == checkpoint.seq)).first()
        matches = seal is not None and seal.hash == checkpoint.hash
        key = checkpoints.signing_key(settings)
        if key is not None:
            public = key.public_key()
            holds = checkpoint.key_id == checkpoints.key_id(public) and checkpoints.signature_holds(checkpoint, public)
    verified = session.get(JobRun, VERIFY_JOB.id)
    return ChainState(
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else "",
        unsealed=backlog.events,
        oldest_unsealed_at=backlog.oldest_at,
        checkpoint=checkpoint,
        checkpoint_matches=matches,
        signature_holds=holds,
        last_verified_at=verified.last_run_at if verified else None,
    )


class AuditPages(Controller):
    path = PAGE
    include_in_schema = False
    guards = [allow(Role.ADMIN, Role.AUDITOR)]

    @get("/")
    def index(
        self,
        request: Request[Any, Any, Any],
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        actor_user_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Response[str]:
        asked = _asked(
            actor_user_id=actor_user_id, action=action, object_type=object_type, object_id=object_id,
            since=since, until=until, q=q,
        )  # fmt: skip
        rows = service.list_events(session, page=page, filters=_filters(asked))
        query = {name: value for name, value in asked.items() if value}
        limit = {"limit": request.query_params["limit"]} if "limit" in request.query_params else {}
        return render(
            request,
            "audit/list.html",
            rows=list(rows),
            asked=asked,
            next_link=f"?{urlencode({**query, **limit, 'cursor': rows.next_cursor})}" if rows.next_cursor else "",
            export_link=f"{PAGE}/export?{urlencode(query)}",
            chain=chain_state(session, request.app.state.settings),
        )

    @get("/export")
    def export(
        self,
        request: Request[Any, Any, Any],
        actor: CurrentActor,
        exporting: Exporting,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
        actor_user_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Stream:
        """The API's export (``/api/v1/audit-events/export``) with the page's filters, for a person's browser."""
        asked = _asked(
            actor_user_id=actor_user_id, action=action, object_type=object_type, object_id=object_id,
            since=since, until=until, q=q,
        )  # fmt: skip
        return exports.events_file(exporting, filters=_filters(asked), file_format=file_format)

    @get("/chain")
    def chain(
        self, request: Request[Any, Any, Any], actor: CurrentActor, verify: FromQuery[bool] = False
    ) -> Response[str]:
        """The chain's state; with ``verify``, the whole chain walked now, as the nightly job walks it (in short
        read transactions of its own, so this handler holds none)."""
        db = request.app.state.db
        report = service.verify_chain(db) if verify else None
        problems = list(report.problems) if report else []
        key = checkpoints.signing_key(db.settings) if report is not None else None
        if key is not None:  # and against the newest signed head, as the nightly job checks it
            problems += checkpoints.check_against_newest(db, key.public_key()).problems
        with db.transaction(write=False) as session:
            state = chain_state(session, request.app.state.settings)
        return render(request, "audit/chain.html", chain=state, report=report, problems=problems)
