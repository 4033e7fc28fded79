import uuid

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery, JSONBody

from contracts.budgets import service
from contracts.budgets.models import BudgetCreate, BudgetPublic, BudgetUpdate
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import WITHOUT_OPERATIONS, allow
from opscenter.identity.models import Role
from opscenter.pagination import CursorPage
from opscenter.web import DbSession, ExpectedVersion, Paging, get, patch, post, respond


class BudgetController(Controller):
    path = "/api/v1/budgets"
    tags = ["budgets"]
    guards = [allow(*WITHOUT_OPERATIONS)]

    @post("/", guards=[allow(Role.BUREAU)])
    def create(self, session: DbSession, actor: CurrentActor, data: JSONBody[BudgetCreate]) -> Response[BudgetPublic]:
        budget = service.create_budget(session, data, actor=actor)
        return respond(service.to_public_one(session, budget), created=f"/api/v1/budgets/{budget.id}")

    @get("/", description="A department sees its own budgets.")
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        department_id: FromQuery[uuid.UUID | None] = None,
        fiscal_year: FromQuery[int | None] = None,
    ) -> CursorPage[BudgetPublic]:
        rows = service.list_budgets(
            session, actor=actor, page=page, department_id=department_id, fiscal_year=fiscal_year
        )
        return rows.page_of(service.to_public(session, rows.rows))

    @get("/{budget_id:uuid}")
    def read(self, session: DbSession, actor: CurrentActor, budget_id: FromPath[uuid.UUID]) -> Response[BudgetPublic]:
        return respond(service.to_public_one(session, service.get_budget(session, budget_id, actor=actor)))

    @patch("/{budget_id:uuid}", guards=[allow(Role.BUREAU)], description="Never below what is already committed.")
    def update(
        self,
        session: DbSession,
        actor: CurrentActor,
        budget_id: FromPath[uuid.UUID],
        data: JSONBody[BudgetUpdate],
        expected_version: ExpectedVersion,
    ) -> Response[BudgetPublic]:
        budget = service.update_budget(session, budget_id, data, actor=actor, expected_version=expected_version)
        return respond(service.to_public_one(session, budget))
