"""The infrastructure the demo's departments hand over: plain data, generated the same way every time."""

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from operations.assets.register.models import AssetIn, AssetKind
from opscenter.demo.province import DEPARTMENTS, Department


@dataclass(frozen=True)
class BatchPlan:
    department: Department
    title: str
    items: int
    rejected: int  # how many items inspection rejects
    fate: str  # "completed": inspected and signed by all three; "inspecting": half inspected; "draft"


BATCH_PLANS = (
    BatchPlan(DEPARTMENTS[0], "卫健委第一批基础设施移交", 75, 2, "completed"),
    BatchPlan(DEPARTMENTS[1], "公安厅政务云迁移资产移交", 65, 1, "completed"),
    BatchPlan(DEPARTMENTS[2], "人社厅机房设备移交", 60, 0, "completed"),
    BatchPlan(DEPARTMENTS[3], "教育厅数据中心资产移交", 55, 3, "completed"),
    BatchPlan(DEPARTMENTS[4], "交通厅业务系统及设备移交", 50, 0, "completed"),
    BatchPlan(DEPARTMENTS[5], "自然资源厅第一批资产移交", 36, 1, "inspecting"),
    BatchPlan(DEPARTMENTS[9], "民政厅机房设备移交（草稿）", 8, 0, "draft"),
)

# kind, serial code, share of a batch, models, value range in yuan, spec
_KINDS: tuple[tuple[AssetKind, str, int, tuple[str, ...], tuple[int, int]], ...] = (
    (
        AssetKind.SERVER,
        "SRV",
        40,
        ("华为 FusionServer 2288H V6", "浪潮 NF5280M6", "新华三 UniServer R4900 G5"),
        (45_000, 120_000),
    ),
    (AssetKind.STORAGE, "STO", 8, ("华为 OceanStor 5310", "浪潮 AS5600G5"), (180_000, 600_000)),
    (AssetKind.NETWORK_DEVICE, "NET", 15, ("华为 CE6881-48S6CQ", "新华三 S6850-56HF"), (30_000, 90_000)),
    (AssetKind.SECURITY_DEVICE, "SEC", 8, ("深信服 AF-1000", "奇安信 NSG-5000"), (60_000, 200_000)),
    (AssetKind.RACK, "RCK", 10, ("图腾 G36042",), (3_000, 8_000)),
    (AssetKind.APPLICATION_SYSTEM, "APP", 8, ("自研", "东软定制开发"), (300_000, 2_000_000)),
    (AssetKind.DATABASE, "DB", 6, ("达梦 DM8", "人大金仓 KingbaseES V8"), (80_000, 300_000)),
    (AssetKind.SOFTWARE_LICENSE, "LIC", 5, ("麒麟高级服务器操作系统 V10", "东方通 TongWeb"), (5_000, 40_000)),
)
_SYSTEMS = ("业务办理系统", "门户网站", "数据交换前置机", "统一身份认证", "电子档案系统", "移动政务应用")


def batch_items(plan: BatchPlan) -> list[AssetIn]:
    """The inventory of one batch: a realistic mix of kinds, serial numbers unique in the province."""
    rng = random.Random(f"{plan.department.slug}:{plan.title}")
    weights = [share for _, _, share, _, _ in _KINDS]
    counters: dict[str, int] = {}
    items = []
    for _ in range(plan.items):
        kind, code, _, models, (low, high) = rng.choices(_KINDS, weights)[0]
        counters[code] = counters.get(code, 0) + 1
        number = counters[code]
        items.append(
            AssetIn(
                kind=kind,
                name=_name(plan.department, kind, number),
                serial_number=f"{plan.department.slug.upper()}-{code}-{number:04d}",
                model=rng.choice(models),
                location=f"省政务云机房{rng.choice('ABC')}区-{rng.randint(1, 24):02d}",
                spec=_spec(kind, rng),
                original_value=Decimal(rng.randrange(low, high, 100)),
                purchase_date=date(rng.randint(2017, 2023), rng.randint(1, 12), rng.randint(1, 28)),
            )
        )
    return items


def _name(department: Department, kind: AssetKind, number: int) -> str:
    if kind == AssetKind.APPLICATION_SYSTEM:
        return f"{department.short}{_SYSTEMS[(number - 1) % len(_SYSTEMS)]}"
    return f"{department.short}{kind.label}{number:02d}"


def _spec(kind: AssetKind, rng: random.Random) -> dict[str, object]:
    if kind == AssetKind.SERVER:
        return {"cpu": rng.choice([32, 48, 64]), "memory_gb": rng.choice([128, 256, 512])}
    if kind == AssetKind.STORAGE:
        return {"capacity_tb": rng.choice([100, 200, 400])}
    if kind == AssetKind.RACK:
        return {"units": 42}
    return {}
