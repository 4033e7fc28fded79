import uuid
from typing import Annotated

from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from operations.assets.register import exports, service
from operations.assets.register.models import (
    Asset,
    AssetDetail,
    AssetKind,
    AssetPublic,
    AssetState,
    AssetUpdate,
    Retirement,
)
from opscenter.exports import SPREADSHEET_MEDIA_TYPES, ExportFormat
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.identity.models import Role
from opscenter.openapi import FILE_DOWNLOAD
from opscenter.pagination import CursorPage
from opscenter.parameters import harden
from opscenter.search import SearchQuery
from opscenter.web import AnyOf, DbSession, ExpectedVersion, Exporting, Paging, get, patch, post, respond

Filters = NamedDependency[service.AssetFilter]
Answer = Response[AssetDetail]


# Hardened like a handler's own parameters: the house decorators do not reach a dependency's (a NUL in ``q``
# reached PostgreSQL and answered 500 under the fuzzer).
@harden
def provide_filters(
    owner_department_id: Annotated[uuid.UUID | None, QueryParameter(description="The owning department")] = None,
    kind: AnyOf[AssetKind] = None,
    asset_state: Annotated[
        list[AssetState] | None, QueryParameter(name="state", description="Repeat to keep any of several states")
    ] = None,
    location: Annotated[str | None, QueryParameter(max_length=200, description="Location starts with this")] = None,
    serial_prefix: Annotated[
        str | None, QueryParameter(max_length=100, description="Serial number starts with this")
    ] = None,
    q: SearchQuery = None,
) -> service.AssetFilter:
    return service.AssetFilter(
        owner_department_id=owner_department_id,
        kind=kind,
        state=asset_state,
        location=location,
        serial_prefix=serial_prefix,
        q=q,
    )


def _answer(session: DbSession, asset: Asset, actor: CurrentActor) -> Answer:
    return respond(service.detail(session, asset, actor=actor))


class AssetController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]
    guards = [allow(*BUSINESS_ROLES)]
    dependencies = {"filters": Provide(provide_filters, sync_to_thread=False)}

    @get(
        "/",
        description="A department sees the assets it owns; the others see all. `sort`: `newest` (the default), "
        "`oldest` or `name`. `q`: a part of the name, serial number, model or location, case-insensitive.",
    )
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        filters: Filters,
        sort: Annotated[service.AssetSort, QueryParameter()] = service.AssetSort.NEWEST,
    ) -> CursorPage[AssetPublic]:
        rows = service.list_assets(session, actor=actor, page=page, filters=filters, sort=sort)
        return rows.page_of(service.to_public(session, rows.rows, actor=actor))

    @get(
        "/export",
        opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES},
        description="The register (with the list's filters) as CSV (UTF-8 with BOM) or XLSX, Chinese headers; "
        "a handover batch accepts the file back as an upload.",
    )
    def export(
        self,
        actor: CurrentActor,
        exporting: Exporting,
        filters: Filters,
        file_format: Annotated[ExportFormat, QueryParameter(name="format")] = ExportFormat.CSV,
    ) -> Stream:
        return exports.register_file(exporting, actor=actor, filters=filters, file_format=file_format)

    @get("/{asset_id:uuid}", description="The asset with its history, oldest change first.")
    def read(self, session: DbSession, actor: CurrentActor, asset_id: FromPath[uuid.UUID]) -> Answer:
        return _answer(session, service.get_asset(session, asset_id, actor=actor), actor)

    @patch(
        "/{asset_id:uuid}",
        guards=[allow(Role.OPERATOR)],
        description="Location, spec and the service instances it backs, of an operated asset.",
    )
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        asset_id: FromPath[uuid.UUID],
        data: JSONBody[AssetUpdate],
        expected_version: ExpectedVersion,
    ) -> Answer:
        asset = service.update_asset(session, asset_id, data, actor=actor, expected_version=expected_version)
        return _answer(session, asset, actor)

    @post(
        "/{asset_id:uuid}/retire", guards=[allow(Role.OPERATOR)], status_code=200, description="A reason is required."
    )
    def retire(
        self,
        session: DbSession,
        actor: CurrentActor,
        asset_id: FromPath[uuid.UUID],
        data: JSONBody[Retirement],
        expected_version: ExpectedVersion,
    ) -> Answer:
        asset = service.retire_asset(
            session, asset_id, actor=actor, expected_version=expected_version, reason=data.reason
        )
        return _answer(session, asset, actor)
