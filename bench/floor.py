"""The house's floor for a write: OpsCenter itself, plus one route that does everything an audited POST does
before and after its database work, and no database work.

``POST /bench/floor`` is a house ``post`` (worker thread, a write session that is never used, so no statement
and no commit), guarded for departments, taking a purchase request's body through the same validation, and
answering a small JSON object. Against it, the real ``POST /api/v1/purchase-requests`` shows what its SQL and
ORM work cost; against the bare one-row insert, it shows what authentication, validation and the house's request
machinery cost. Served as ``opscenter serve`` serves (frozen heap, no access log), never part of the product.

    python -m bench.floor --url sqlite:///path.db --port 8002
"""

import argparse
import uuid

import uvicorn
from litestar import Litestar
from litestar.params import JSONBody

from contracts.purchasing.models import PurchaseRequestIn
from opscenter.app import create_app, frozen
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import allow
from opscenter.identity.models import Role
from opscenter.settings import LogLevel, Settings
from opscenter.web import DbSession, post

FLOOR_PATH = "/bench/floor"


@post(FLOOR_PATH, guards=[allow(Role.DEPARTMENT)])
def floor(session: DbSession, actor: CurrentActor, data: JSONBody[PurchaseRequestIn]) -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "title": data.title, "department_id": str(actor.required_organization_id)}


def create_floor_app(url: str) -> Litestar:
    app = create_app(Settings(database_url=url, log_level=LogLevel.WARNING))
    app.register(floor)
    return frozen(app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_floor_app(args.url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
