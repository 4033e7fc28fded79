"""Who and what the demo province holds: plain data, no database. The dates are relative to the day it is
seeded (``Calendar``), so a demo seeded any day has a contract year in progress and a last month to bill."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from contracts.agreements.models import ProcurementMethod
from contracts.catalog.models import ServiceCategory
from opscenter.identity.models import OrgKind, Role
from opscenter.timekeeping import SHANGHAI, Period, business_date

BUREAU = "政务服务数据管理局"
OPERATOR = "数字政府运营中心"


@dataclass(frozen=True)
class Department:
    name: str
    slug: str  # in host names, serial numbers and Prometheus labels
    short: str  # as people say it: 卫健委, 公安厅


DEPARTMENTS = (
    Department("省卫生健康委员会", "wsjkw", "卫健委"),
    Department("省公安厅", "gat", "公安厅"),
    Department("省人力资源和社会保障厅", "rst", "人社厅"),
    Department("省教育厅", "jyt", "教育厅"),
    Department("省交通运输厅", "jtt", "交通厅"),
    Department("省自然资源厅", "zrt", "自然资源厅"),
    Department("省生态环境厅", "sthjt", "生态环境厅"),
    Department("省市场监督管理局", "scjgj", "市场监管局"),
    Department("省医疗保障局", "ybj", "医保局"),
    Department("省民政厅", "mzt", "民政厅"),
)


@dataclass(frozen=True)
class Person:
    login: str
    display_name: str
    role: Role
    organization: str
    kind: OrgKind


PEOPLE = (
    Person("zhou.hua", "周华", Role.ADMIN, BUREAU, OrgKind.BUREAU),
    Person("li.na", "李娜", Role.BUREAU, BUREAU, OrgKind.BUREAU),
    Person("wang.qiang", "王强", Role.BUREAU, BUREAU, OrgKind.BUREAU),
    Person("sun.li", "孙丽", Role.AUDITOR, BUREAU, OrgKind.BUREAU),
    Person("zhao.min", "赵敏", Role.OPERATOR, OPERATOR, OrgKind.OPERATOR),
    Person("qian.lei", "钱磊", Role.OPERATOR, OPERATOR, OrgKind.OPERATOR),
    *(
        Person(login, display, Role.DEPARTMENT, department.name, OrgKind.DEPARTMENT)
        for department, (login, display) in zip(
            DEPARTMENTS,
            (
                ("chen.jie", "陈洁"),
                ("liu.yang", "刘洋"),
                ("huang.li", "黄丽"),
                ("yang.fan", "杨帆"),
                ("wu.gang", "吴刚"),
                ("xu.jing", "徐静"),
                ("he.ping", "何平"),
                ("guo.tao", "郭涛"),
                ("ma.lin", "马琳"),
                ("lin.xue", "林雪"),
            ),
            strict=True,
        )
    ),
)

# Who gets the printed API key, one per role; and who acts in each part.
KEY_HOLDERS = ("zhou.hua", "li.na", "zhao.min", "chen.jie", "sun.li")
DRAFTER, APPROVER = "li.na", "wang.qiang"  # four eyes on contracts
OPERATOR_USER = "zhao.min"


def department_user(department: Department) -> str:
    return next(person.login for person in PEOPLE if person.organization == department.name)


@dataclass(frozen=True)
class Offering:
    code: str
    name: str
    category: ServiceCategory
    unit: str
    list_price: Decimal
    description: str


CATALOG = (
    Offering(
        "ECS-4C8G", "云服务器（4核8G）", ServiceCategory.COMPUTE, "台/月", Decimal("680.00"), "政务云通用型云服务器"
    ),
    Offering("ECS-8C32G", "云服务器（8核32G）", ServiceCategory.COMPUTE, "台/月", Decimal("1850.00"), "内存型云服务器"),
    Offering("OSS-TB", "对象存储", ServiceCategory.STORAGE, "TB/月", Decimal("120.00"), "三副本对象存储"),
    Offering("EBS-SSD-TB", "云硬盘（SSD）", ServiceCategory.STORAGE, "TB/月", Decimal("450.00"), "高性能块存储"),
    Offering("RDS-MYSQL", "云数据库 MySQL（高可用）", ServiceCategory.DATABASE, "套/月", Decimal("2600.00"), "主备"),
    Offering("RDS-PG", "云数据库 PostgreSQL（高可用）", ServiceCategory.DATABASE, "套/月", Decimal("2800.00"), "主备"),
    Offering("SLB", "负载均衡", ServiceCategory.NETWORK, "个/月", Decimal("300.00"), "四层/七层负载均衡"),
    Offering("VPN-GOV", "政务外网专线", ServiceCategory.NETWORK, "条/月", Decimal("3500.00"), "100M 政务外网专线"),
    Offering("WAF", "网站应用防火墙", ServiceCategory.SECURITY, "个/月", Decimal("1500.00"), "Web 应用防护"),
    Offering("HIDS", "主机安全防护", ServiceCategory.SECURITY, "台/月", Decimal("80.00"), "主机入侵检测"),
    Offering("APP-OPS", "应用系统运维", ServiceCategory.APPLICATION_OPERATIONS, "套/月", Decimal("15000.00"), "7×24"),
    Offering(
        "DATA-EXCH", "数据共享交换", ServiceCategory.DATA_SERVICES, "套/月", Decimal("8000.00"), "数据共享交换平台接入"
    ),
)
RETIRED = "ECS-8C32G"  # taken off sale: new purchases can no longer choose it


@dataclass(frozen=True)
class Calendar:
    """The demo's dates, from the moment it is seeded: contracts began ten months ago and run two years, and
    everything happened at a plausible time before now (``at``)."""

    now: datetime

    @property
    def today(self) -> date:
        return business_date(self.now)

    @property
    def this_month(self) -> Period:
        return Period.of(self.today)

    @property
    def last_month(self) -> Period:
        return Period.of(self.this_month.first_day - timedelta(days=1))

    @property
    def month_before_last(self) -> Period:
        return Period.of(self.last_month.first_day - timedelta(days=1))

    def months_ago(self, months: int) -> date:
        index = self.this_month.year * 12 + self.this_month.month - 1 - months
        return date(index // 12, index % 12 + 1, 1)

    @property
    def contract_start(self) -> date:
        return self.months_ago(10)

    @property
    def contract_end(self) -> date:
        return self.months_ago(-14) - timedelta(days=1)

    def at(self, day: date, hour: int = 10, minute: int = 0) -> datetime:
        """That Asia/Shanghai time; if it has not come yet (a demo seeded early in a month), a moment ago."""
        instant = datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)
        return min(instant, self.now - timedelta(minutes=1))

    def days_ago(self, days: int, hour: int = 10) -> datetime:
        return self.at(self.today - timedelta(days=days), hour)


@dataclass(frozen=True)
class Item:
    code: str
    quantity: int
    justification: str
    starts_months_ago: int = 10  # a new purchase (not under a running contract) starts next month: -1


@dataclass(frozen=True)
class RequestPlan:
    department: Department
    title: str
    items: tuple[Item, ...]
    fate: str  # "contract:N", "approved", "draft", "submitted", "returned", "rejected"
    note: str = ""


def _infrastructure(index: int, department: Department) -> RequestPlan:
    database = "RDS-PG" if index % 3 == 0 else "RDS-MYSQL"
    return RequestPlan(
        department,
        f"{department.short}政务云基础资源",
        (
            Item("ECS-4C8G", 8 + 4 * (index % 4), "业务系统迁移上云所需云服务器"),
            Item("OSS-TB", 10 + 5 * (index % 3), "影像与档案资料存储"),
            Item(database, 1 + index % 2, "业务数据库高可用部署"),
        ),
        "contract:1",
    )


REQUEST_PLANS = (
    *(_infrastructure(index, department) for index, department in enumerate(DEPARTMENTS)),
    *(
        RequestPlan(
            department,
            f"{department.short}应用运维与安全防护",
            (
                Item("APP-OPS", 1, "核心业务系统 7×24 运维"),
                Item("WAF", 1 + index % 2, "对外服务网站防护"),
            ),
            "contract:2",
        )
        for index, department in enumerate(DEPARTMENTS[:7])
    ),
    *(
        RequestPlan(
            department,
            f"{department.short}数据共享交换平台接入",
            (Item("DATA-EXCH", 1, "与省数据共享交换平台对接", starts_months_ago=7),),
            "contract:3",
        )
        for department in DEPARTMENTS[:6]
    ),
    RequestPlan(
        DEPARTMENTS[8],
        "医保结算系统负载均衡",
        (Item("SLB", 2, "医保结算高峰期流量分担", -1),),
        "contract:4",
    ),
    RequestPlan(DEPARTMENTS[6], "环境监测数据备份存储", (Item("EBS-SSD-TB", 8, "监测数据异地备份", -1),), "approved"),
    RequestPlan(DEPARTMENTS[9], "养老服务信息系统扩容", (Item("ECS-4C8G", 4, "养老服务补贴系统扩容", -1),), "draft"),
    RequestPlan(
        DEPARTMENTS[3], "招生考试系统考试季扩容", (Item("ECS-4C8G", 12, "高考报名与查分高峰", -1),), "submitted"
    ),
    RequestPlan(DEPARTMENTS[4], "主机安全防护全覆盖", (Item("HIDS", 40, "等保三级整改", -1),), "submitted"),
    RequestPlan(
        DEPARTMENTS[5],
        "不动产登记系统存储扩容",
        (Item("EBS-SSD-TB", 20, "不动产登记影像增长", -1),),
        "returned",
        "请补充容量测算依据（近三年影像增长数据）后重新提交。",
    ),
    RequestPlan(
        DEPARTMENTS[7],
        "市场监管专线带宽升级",
        (Item("VPN-GOV", 2, "专线带宽不足", -1),),
        "rejected",
        "与省政务外网统一扩容项目重复，不予单独采购。",
    ),
)


@dataclass(frozen=True)
class ContractPlan:
    number: int
    title: str
    method: ProcurementMethod
    starts_months_ago: int
    approved: bool = True


CONTRACT_PLANS = (
    ContractPlan(1, "政务云基础资源服务合同", ProcurementMethod.PUBLIC_TENDER, 10),
    ContractPlan(2, "政务应用运维与安全服务合同", ProcurementMethod.COMPETITIVE_CONSULTATION, 10),
    ContractPlan(3, "数据共享交换平台服务合同", ProcurementMethod.SINGLE_SOURCE, 7),
    ContractPlan(4, "负载均衡服务框架协议", ProcurementMethod.FRAMEWORK_AGREEMENT, -1, approved=False),
)


def contract_number(calendar: Calendar, plan: ContractPlan) -> str:
    return f"SZSJ-{calendar.contract_start.year}-{plan.number:03d}"
