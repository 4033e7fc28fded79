"""The handover, step by step over HTTP, for tests to build on."""

import codecs
import csv
import io
from typing import Any

import httpx

from tests.conftest import ApiFactory
from tests.contracts.steps import JSON as JSON
from tests.contracts.steps import ok as ok
from tests.factories import Identity, World

HANDOVERS = "/api/v1/handovers"
ASSETS = "/api/v1/assets"
CHINESE_HEADER = ["资产类别", "资产名称", "序列号", "型号", "存放位置", "规格参数", "原值（元）", "购置日期"]


def item(serial: str, kind: str = "server", **extra: Any) -> JSON:
    body = {
        "kind": kind,
        "name": f"业务服务器 {serial}",
        "serial_number": serial,
        "model": "华为 FusionServer 2288H V6",
        "location": "市政务云机房A区-03",
        "spec": {"cpu": 32, "memory_gb": 256},
        "original_value": "158000.00",
        "purchase_date": "2021-03-15",
    }
    return {**body, **extra}


def path(batch: JSON) -> str:
    return f"{HANDOVERS}/{batch['id']}"


def batch(api: ApiFactory, who: Identity, *items: JSON, title: str = "卫健委第一批基础设施移交", **extra: Any) -> JSON:
    body = {"title": title, "planned_date": "2027-01-15", "items": list(items), **extra}
    return ok(api.as_(who).post(HANDOVERS, body), 201)


def etag(api: ApiFactory, who: Identity, batch: JSON) -> str:
    response = api.as_(who).get(path(batch))
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def upload(
    api: ApiFactory, who: Identity, batch: JSON, content: bytes, content_type: str = "text/csv"
) -> httpx.Response:
    headers = {"If-Match": etag(api, who, batch), "Content-Type": content_type}
    return api.as_(who).post(f"{path(batch)}/items/import", content=content, headers=headers)


def act(api: ApiFactory, who: Identity, batch: JSON, action: str, body: Any = None, status: int = 200) -> JSON:
    return ok(api.as_(who).act(path(batch), action, body), status)


def inspect(api: ApiFactory, world: World, batch: JSON, *decisions: JSON, accept_remaining: bool = True) -> JSON:
    body = {"decisions": list(decisions), "accept_remaining": accept_remaining}
    return act(api, world.operator, batch, "inspect", body)


def items_of(api: ApiFactory, who: Identity, batch: JSON) -> list[JSON]:
    items: list[JSON] = ok(api.as_(who).get(f"{path(batch)}/items", params={"limit": 200}))["items"]
    return items


def reject(item: JSON, note: str = "硬盘SMART告警，需更换后再移交") -> JSON:
    return {"item_id": item["id"], "result": "rejected", "defect_note": note}


def sign_all(api: ApiFactory, world: World, batch: JSON) -> JSON:
    for who in (world.department, world.operator, world.bureau):
        signed = act(api, who, batch, "sign")
    return signed


def handed_over(api: ApiFactory, world: World, *items: JSON) -> JSON:
    """A batch of ``items`` from department A, submitted, every item accepted, signed by all three."""
    created = batch(api, world.department, *items)
    act(api, world.department, created, "submit")
    inspect(api, world, created)
    return sign_all(api, world, created)


def assets(api: ApiFactory, who: Identity, **params: Any) -> list[JSON]:
    found: list[JSON] = ok(api.as_(who).get(ASSETS, params={"limit": 200, **params}))["items"]
    return found


def csv_file(rows: list[list[str]], header: list[str] = CHINESE_HEADER, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def csv_row(serial: str, kind: str = "服务器", value: str = "158000.00", **extra: str) -> list[str]:
    cells = {
        "kind": kind,
        "name": f"业务服务器 {serial}",
        "serial": serial,
        "model": "华为 FusionServer 2288H V6",
        "location": "市政务云机房A区-03",
        "spec": '{"cpu": 32}',
        "value": value,
        "date": "2021-03-15",
    }
    cells.update(extra)
    return list(cells.values())


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(codecs.BOM_UTF8), "exports carry a BOM so that Excel reads Chinese"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
