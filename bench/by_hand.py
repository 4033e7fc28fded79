"""The same work as the house's audited writes, written by hand: the baseline of ``bench.writes``.

A bare Litestar app serving ``POST /api/v1/purchase-requests``, ``POST /api/v1/ratings`` and
``POST /api/v1/tickets`` with the statements the house sends for each (read off its SQL log in the steady state)
and nothing else: the API key looked up in a dict loaded at start (the house's key cache, always warm), the body
validated by the domain's own pydantic input model, SQLAlchemy Core statements on the same engine configuration
(WAL and ``BEGIN IMMEDIATE`` on SQLite, the same pool) in one transaction per request, in a worker thread:

- purchase request: the Idempotency-Key claim (the benchmark sends one, and the house then keeps the answer); one
  catalog read; the request, its item, the audit event and its sealing-queue entry; the answer kept on the claim;
- rating: the Idempotency-Key claim; the instance's contract line in force; the rating already there; the rating
  period's state (and, the first time a contract's month is rated, the period and its audit event); the rating,
  its audit event and queue entry; the answer kept on the claim;
- ticket: the Idempotency-Key claim; the instance; the contract's current version; the calendar's fingerprint
  (the calendar itself and the terms parsed once, as the house caches them); the next serial; the ticket, its
  audit event and queue entry; the answer kept on the claim.

Every answer carries the names beside its ids, as the house's do (``opscenter/names.py``): one read of them (the
house's UNION ALL, built once) before the answer is kept.

Pure domain arithmetic (an item's estimate, due times on the business clock) is the house's own functions: the
comparison is about the machinery around the statements, not the rules. Refusals answer a bare 4xx; the benchmark
sends only valid requests. Never part of the product.

    python -m bench.by_hand --url sqlite:///path.db --port 8003
"""

import argparse
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import uvicorn
from litestar import Litestar, Request, get, post
from litestar.exceptions import HTTPException
from sqlalchemy import Connection, Engine, String, Table, and_, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from contracts.purchasing.models import PurchaseItem, PurchaseRequestIn
from contracts.terms import Clock
from migrations import tables
from operations.tickets.models import TicketCreate
from operations.tickets.sla_clocks import due_times
from opscenter.calendar.service import working_calendar
from opscenter.db import Database, new_id
from opscenter.settings import LogLevel, Settings
from opscenter.timekeeping import business_date, utcnow
from sla.ratings.models import RatingIn


class Actor:
    __slots__ = ("organization_id", "role", "user_id", "user_name")

    def __init__(self, user_id: uuid.UUID, user_name: str, organization_id: uuid.UUID, role: str) -> None:
        self.user_id, self.user_name, self.organization_id, self.role = user_id, user_name, organization_id, role


def create_by_hand_app(url: str) -> Litestar:
    database = Database(Settings(database_url=url, log_level=LogLevel.WARNING))
    engine = database.write_engine
    t = tables.metadata.tables  # the house's table definitions (column types), used through Core only
    actors = _keys(database.engine, t)
    with Session(database.engine) as session:
        calendar = working_calendar(session)  # parsed once; each ticket still checks its fingerprint
    terms: dict[uuid.UUID, dict[str, Any]] = {}
    is_postgres = engine.dialect.name == "postgresql"
    # The names each answer carries, read as the house reads them (opscenter/names.py), one statement built once.
    pr_names = _names_query(t, ("organization", "user", "service"))
    rating_names = _names_query(t, ("instance", "contract", "organization", "user"))
    ticket_names = _names_query(t, ("instance", "organization", "contract", "user"))
    upsert = pg_insert if is_postgres else sqlite_insert

    def department(request: Request[Any, Any, Any]) -> Actor:
        header = request.headers.get("authorization", "")
        actor = actors.get(hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest())
        if actor is None:
            raise HTTPException(status_code=401)
        if actor.role != "department":
            raise HTTPException(status_code=403)
        return actor

    def audit(connection: Connection, actor: Actor, action: str, table: str, object_id: uuid.UUID, after: Any) -> None:
        changes = {key: [None, value] for key, value in after.items() if value not in (None, [])}
        event_id = new_id()
        connection.execute(
            t["audit_event"].insert(),
            {
                "id": event_id,
                "occurred_at": utcnow(),
                "actor_user_id": actor.user_id,
                "actor_name": actor.user_name,
                "actor_organization_id": actor.organization_id,
                "actor_role": actor.role,
                "action": action,
                "object_type": table,
                "object_id": str(object_id),
                "changes": changes,
                "request_id": uuid.uuid4().hex,
            },
        )
        connection.execute(t["audit_queue"].insert(), {"event_id": event_id})

    def named(
        connection: Connection, query: Any, wanted: list[tuple[str, list[Any]]]
    ) -> dict[str, dict[Any, tuple[Any, ...]]]:
        """The house's names read (one UNION ALL of the kinds of id an answer holds), by kind and id."""
        found: dict[str, dict[Any, tuple[Any, ...]]] = {kind: {} for kind, _ in wanted}
        ids = {f"ids_{index}": values for index, (_, values) in enumerate(wanted)}
        for row in connection.execute(query, ids):
            found[wanted[row[0]][0]][row[1]] = tuple(row[2:])
        return found

    def claimed(connection: Connection, actor: Actor, request: Request[Any, Any, Any], body: bytes) -> uuid.UUID:
        claim_id = new_id()
        won = connection.execute(
            upsert(t["idempotency_key"])
            .values(
                id=claim_id,
                organization_id=actor.organization_id,
                key=request.headers["idempotency-key"],
                user_id=actor.user_id,
                method="POST",
                path=request.url.path,
                fingerprint=hashlib.sha256(body).hexdigest(),
                media_type="",
                response_headers={},
                response_body=b"",
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["organization_id", "key"])
            .returning(t["idempotency_key"].c.id)
        ).scalar()
        if won is None:
            raise HTTPException(status_code=409, detail="replays are not part of this baseline")
        return claim_id

    def answered(connection: Connection, claim_id: uuid.UUID, answer: dict[str, Any]) -> dict[str, Any]:
        connection.execute(
            t["idempotency_key"].update().where(t["idempotency_key"].c.id == claim_id),
            {
                "status_code": 201,
                "media_type": "application/json",
                "response_headers": {},
                "response_body": json.dumps(answer, default=str).encode(),
            },
        )
        return answer

    @post("/api/v1/purchase-requests", sync_to_thread=True)
    def purchase_request(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
        actor = department(request)
        data = PurchaseRequestIn.model_validate_json(body)
        now, request_id = utcnow(), new_id()
        with engine.begin() as connection:
            claim_id = claimed(connection, actor, request, body)
            prices = dict(
                connection.execute(
                    select(t["catalog_service"].c.id, t["catalog_service"].c.list_price_fen).where(
                        t["catalog_service"].c.id.in_({item.service_id for item in data.items}),
                        t["catalog_service"].c.status != "retired",
                    )
                ).all()
            )
            if len(prices) != len({item.service_id for item in data.items}):
                raise HTTPException(status_code=422, detail="items.service_id")
            items = [
                {
                    "id": new_id(),
                    "purchase_request_id": request_id,
                    "position": position,
                    "service_id": item.service_id,
                    "quantity": item.quantity,
                    "start_date": item.start_date,
                    "end_date": item.end_date,
                    "justification": item.justification,
                    "unit_price_fen": prices[item.service_id],
                    "estimated_amount_fen": PurchaseItem.estimate_fen(
                        item.quantity, prices[item.service_id], item.start_date, item.end_date
                    ),
                }
                for position, item in enumerate(data.items)
            ]
            row = {
                "id": request_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "title": data.title,
                "department_id": actor.organization_id,
                "status": "draft",
                "created_by_id": actor.user_id,
                "decision_note": "",
            }
            audited = {key: _jsonable(row[key]) for key in ("title", "department_id", "status", "created_by_id")}
            audited["items"] = [{k: _jsonable(v) for k, v in item.items() if k != "id"} for item in items]
            audit(connection, actor, "purchase_request.create", "purchase_request", request_id, audited)
            connection.execute(t["purchase_request"].insert(), row)
            connection.execute(t["purchase_item"].insert(), items)
            names = named(
                connection,
                pr_names,
                [
                    ("organization", [actor.organization_id]),
                    ("user", [actor.user_id]),
                    ("service", [item["service_id"] for item in items]),
                ],
            )
            total = sum(item["estimated_amount_fen"] for item in items)
            answer = {
                **row,
                "submitted_at": None,
                "decided_at": None,
                "decided_by_id": None,
                "contract_id": None,
                "status_label": "草稿",
                "estimated_total": _money(total),
                "items": [
                    {key: value for key, value in item.items() if key not in ("unit_price_fen", "estimated_amount_fen")}
                    | {
                        "unit_price": _money(item["unit_price_fen"]),
                        "estimated_amount": _money(item["estimated_amount_fen"]),
                    }
                    for item in items
                ],
                "department_name": names["organization"][actor.organization_id][0],
                "created_by_name": names["user"][actor.user_id][0],
            }
            return answered(connection, claim_id, answer)

    @post("/api/v1/ratings", sync_to_thread=True)
    def rating(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
        actor = department(request)
        data = RatingIn.model_validate_json(body)
        instance, line, version = t["service_instance"], t["contract_line"], t["contract_version"]
        first_day = date.fromisoformat(f"{data.period}-01")
        now, rating_id = utcnow(), new_id()
        with engine.begin() as connection:
            claim_id = claimed(connection, actor, request, body)
            contract_id = connection.execute(
                select(instance.c.contract_id)
                .join(t["contract"], t["contract"].c.id == instance.c.contract_id)
                .join(
                    version,
                    and_(
                        version.c.contract_id == instance.c.contract_id,
                        version.c.number == t["contract"].c.current_version,
                    ),
                )
                .join(line, and_(line.c.contract_version_id == version.c.id, line.c.line_no == instance.c.line_no))
                .where(
                    instance.c.id == data.service_instance_id,
                    instance.c.department_id == actor.organization_id,
                    line.c.start_date <= func.coalesce(line.c.end_date, first_day),
                )
            ).scalar()
            if contract_id is None:
                raise HTTPException(status_code=404)
            taken = connection.execute(
                select(t["rating"].c.id).where(
                    t["rating"].c.department_id == actor.organization_id,
                    t["rating"].c.service_instance_id == data.service_instance_id,
                    t["rating"].c.period == data.period,
                )
            ).first()
            if taken is not None:
                raise HTTPException(status_code=409)
            period = t["rating_period"]
            state = connection.execute(
                select(period.c.status).where(period.c.contract_id == contract_id, period.c.period == data.period)
            ).scalar()
            if state is None:
                # As the house does: a racing request may open the same month first (ON CONFLICT DO NOTHING).
                period_id = new_id()
                opened = connection.execute(
                    upsert(period)
                    .values(
                        id=period_id,
                        version=1,
                        created_at=now,
                        updated_at=now,
                        contract_id=contract_id,
                        period=data.period,
                        status="open",
                        closed_note="",
                    )
                    .on_conflict_do_nothing(index_elements=["contract_id", "period"])
                    .returning(period.c.id)
                ).scalar()
                if opened is not None:
                    audited = {"contract_id": str(contract_id), "period": data.period, "status": "open"}
                    audit(connection, actor, "rating_period.open", "rating_period", period_id, audited)
            elif state != "open":
                raise HTTPException(status_code=409)
            dimensions = data.dimensions
            row = {
                "id": rating_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "department_id": actor.organization_id,
                "service_instance_id": data.service_instance_id,
                "contract_id": contract_id,
                "period": data.period,
                "score": data.score,
                "quality": dimensions.quality if dimensions else None,
                "timeliness": dimensions.timeliness if dimensions else None,
                "attitude": dimensions.attitude if dimensions else None,
                "comment": data.comment,
                "rated_by_id": actor.user_id,
                "revised_by_id": None,
            }
            audit(
                connection,
                actor,
                "rating.create",
                "rating",
                rating_id,
                {
                    key: _jsonable(row[key])
                    for key in (
                        "department_id",
                        "service_instance_id",
                        "contract_id",
                        "period",
                        "score",
                        "quality",
                        "timeliness",
                        "attitude",
                        "comment",
                        "rated_by_id",
                    )
                },
            )
            connection.execute(t["rating"].insert(), row)
            answer = {
                key: row[key]
                for key in (
                    "id",
                    "version",
                    "created_at",
                    "updated_at",
                    "score",
                    "comment",
                    "service_instance_id",
                    "period",
                    "contract_id",
                    "department_id",
                    "rated_by_id",
                    "revised_by_id",
                )
            }
            answer["dimensions"] = dimensions.model_dump() if dimensions else None
            names = named(
                connection,
                rating_names,
                [
                    ("instance", [data.service_instance_id]),
                    ("contract", [contract_id]),
                    ("organization", [actor.organization_id]),
                    ("user", [actor.user_id]),
                ],
            )
            answer["instance_label"], answer["service_name"] = names["instance"][data.service_instance_id]
            answer["contract_number"] = names["contract"][contract_id][0]
            answer["department_name"] = names["organization"][actor.organization_id][0]
            answer["rated_by_name"], answer["revised_by_name"] = names["user"][actor.user_id][0], None
            return answered(connection, claim_id, answer)

    @post("/api/v1/tickets", sync_to_thread=True)
    def ticket(request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
        actor = department(request)
        data = TicketCreate.model_validate_json(body)
        instance, version = t["service_instance"], t["contract_version"]
        now, ticket_id = utcnow(), new_id()
        with engine.begin() as connection:
            claim_id = claimed(connection, actor, request, body)
            found = connection.execute(
                select(instance.c.contract_id, instance.c.department_id, instance.c.line_no, instance.c.status).where(
                    instance.c.id == data.service_instance_id, instance.c.department_id == actor.organization_id
                )
            ).first()
            if found is None or found.status != "active":
                raise HTTPException(status_code=422, detail="service_instance_id")
            version_id = connection.execute(
                select(version.c.id)
                .join(t["contract"], t["contract"].c.id == version.c.contract_id)
                .where(t["contract"].c.id == found.contract_id, version.c.number == t["contract"].c.current_version)
            ).scalar_one()
            if version_id not in terms:
                read = select(version.c.terms).where(version.c.id == version_id)
                terms[version_id] = connection.execute(read).scalar_one()
            target = terms[version_id]["ticket_targets"][data.priority.value]
            _calendar_fingerprint(connection, t)  # the house checks the calendar is still the one it parsed
            due = due_times(
                Clock(target["clock"]),
                lambda: calendar,
                opened_at=now,
                response_minutes=target["response_minutes"],
                resolution_minutes=target["resolution_minutes"],
            )
            serial = _next_serial(connection, t, is_postgres)
            row = {
                "id": ticket_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "kind": data.kind.value,
                "priority": data.priority.value,
                "title": data.title,
                "description": data.description,
                "number": f"T-{business_date(now).year}-{serial:06d}",
                "serial": serial,
                "service_instance_id": data.service_instance_id,
                "department_id": found.department_id,
                "contract_id": found.contract_id,
                "line_no": found.line_no,
                "status": "new",
                "opened_by_id": actor.user_id,
                "assignee_id": None,
                "clock": target["clock"],
                "response_minutes": target["response_minutes"],
                "resolution_minutes": target["resolution_minutes"],
                "response_due_at": due.response,
                "resolution_due_at": due.resolution,
                "escalation_due_at": due.escalation,
                "paused_seconds": 0,
                "pending_question": "",
                "resolution_note": "",
                "reopen_count": 0,
                "reopen_reason": "",
                "satisfaction_comment": "",
            }
            bookkeeping = ("id", "version", "created_at", "updated_at")
            audited = {key: _jsonable(value) for key, value in row.items() if key not in bookkeeping}
            audit(connection, actor, "ticket.open", "ticket", ticket_id, audited)
            connection.execute(t["ticket"].insert(), row)
            names = named(
                connection,
                ticket_names,
                [
                    ("instance", [data.service_instance_id]),
                    ("organization", [found.department_id]),
                    ("contract", [found.contract_id]),
                    ("user", [actor.user_id]),
                ],
            )
            answer = {**row, "asset_ids": [], "status_label": "新建", "assignee_name": None}
            answer["instance_label"], answer["service_name"] = names["instance"][data.service_instance_id]
            answer["department_name"] = names["organization"][found.department_id][0]
            answer["contract_number"] = names["contract"][found.contract_id][0]
            answer["opened_by_name"] = names["user"][actor.user_id][0]
            return answered(connection, claim_id, answer)

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(
        [purchase_request, rating, ticket, health],
        on_shutdown=[lambda: database.dispose()],
        debug=os.environ.get("BENCH_DEBUG") == "1",  # tracebacks in the answer, when a baseline misbehaves
    )


def _names_query(t: Mapping[str, Table], kinds: tuple[str, ...]) -> Any:
    """The house's UNION ALL of names for ``kinds`` (in this order), ids bound as ``ids_0``, ``ids_1``, …"""
    organization, user, service, instance, contract = (
        t[name] for name in ("organization", "user", "catalog_service", "service_instance", "contract")
    )
    sources: dict[str, tuple[Any, list[Any], Any]] = {
        "organization": (organization.c.id, [organization.c.name], None),
        "user": (user.c.id, [func.coalesce(func.nullif(user.c.display_name, ""), user.c.name)], None),
        "service": (service.c.id, [service.c.name], None),
        "instance": (
            instance.c.id,
            [instance.c.name, service.c.name],
            (service, service.c.id == instance.c.service_id),
        ),
        "contract": (contract.c.id, [contract.c.number], None),
    }
    width = max(len(sources[kind][1]) for kind in kinds)
    selects = []
    for index, kind in enumerate(kinds):
        key, columns, join = sources[kind]
        values = [cast(column, String) for column in columns] + [cast(null(), String)] * (width - len(columns))
        query = select(literal(index).label("source"), key.label("key"), *values).where(
            key.in_(bindparam(f"ids_{index}", expanding=True))
        )
        if join is not None:
            query = query.join(*join)
        selects.append(query)
    return union_all(*selects)


def _keys(engine: Engine, t: Mapping[str, Table]) -> dict[str, Actor]:
    key, user = t["api_key"], t["user"]
    query = select(key.c.key_hash, user.c.id, user.c.name, user.c.organization_id, user.c.role).join(
        user, user.c.id == key.c.user_id
    )
    with engine.connect() as connection:
        return {row[0]: Actor(row[1], row[2], row[3], str(row[4]).lower()) for row in connection.execute(query)}


def _calendar_fingerprint(connection: Connection, t: Mapping[str, Table]) -> tuple[Any, ...]:
    override, hours = t["calendar_override"], t["calendar_hours"]
    version = select(hours.c.version).where(hours.c.scope == "default").scalar_subquery()
    return tuple(
        connection.execute(
            select(func.count(override.c.id), func.sum(override.c.version), func.max(override.c.updated_at), version)
        ).one()
    )


def _next_serial(connection: Connection, t: Mapping[str, Table], is_postgres: bool) -> int:
    if is_postgres:
        return int(connection.exec_driver_sql("SELECT nextval('ticket_serial')").scalar_one())
    return int(connection.execute(select(func.coalesce(func.max(t["ticket"].c.serial), 0) + 1)).scalar_one())


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


_JSONABLE: dict[type, Callable[[Any], Any]] = {uuid.UUID: str, date: date.isoformat, datetime: datetime.isoformat}


def _jsonable(value: Any) -> Any:
    convert = _JSONABLE.get(type(value))
    return value if convert is None else convert(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_by_hand_app(args.url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
