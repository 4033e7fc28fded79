"""Names and search on a list at scale: a page of 50 tickets with the names beside their ids, beside the same
page without them, and ``q`` searches, with 100,000 and 1,000,000 tickets.

Seeds N tickets over ten departments and fifty instances (``bench.tickets.seed_tickets``), then serves OpsCenter
with one more route, ``GET /bench/tickets-without-names``: the same handler as ``GET /api/v1/tickets`` (the same
service query, the same public models, the same serializer) registered without the house's names step, so its
name fields stay null. At one connection (the cost of one page, unqueued) and as the operations center:

- ``names``:  the page with names beside the page without them. Goal: at most 1.3x its time (so at least 0.77x
              its throughput: the ratio printed is of throughputs).
- ``q``:      ``q=压测工单 1`` (many matches: the page fills at once), ``q=T-2026-0<N/2>`` (one ticket: the whole
              list is searched), ``q=证书到期`` (none: the whole list). Goal: p99 at most 50 ms at 100,000 rows.

On PostgreSQL a search of three characters or more reads the trigram index (migration 0015); on SQLite it is a
scan in the list's order that stops once the page is full, so the rare and absent searches read every row.

    .venv/bin/python -m bench.names_search [--rows 100000 1000000] [--db sqlite|postgresql|both] [--seconds 5]
    python -m bench.names_search serve --url URL --port N     (the server the benchmark starts)
"""

import argparse
import sys
import urllib.parse
from dataclasses import replace
from datetime import UTC, datetime

import litestar
import uvicorn
from litestar import Litestar

from bench.harness import (
    HEALTH,
    Figure,
    Load,
    arguments,
    check,
    chosen,
    databases,
    drive,
    each,
    module_server,
    options,
    print_figures,
    require_tools,
)
from bench.harness.servers import UNREACHED_RATE_LIMITS
from bench.tickets import seed_tickets
from operations.tickets import service
from operations.tickets.models import TicketPublic
from operations.tickets.service import TicketFilter
from opscenter.app import create_app, frozen
from opscenter.db import Database
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import BUSINESS_ROLES, allow
from opscenter.pagination import CursorPage
from opscenter.settings import LogLevel, Settings
from opscenter.web import DbSession, Paging

WITHOUT_NAMES = "/bench/tickets-without-names"


@litestar.get(WITHOUT_NAMES, guards=[allow(*BUSINESS_ROLES)], sync_to_thread=True)
def without_names(
    session: DbSession, actor: CurrentActor, page: Paging, q: str | None = None
) -> CursorPage[TicketPublic]:
    """``GET /api/v1/tickets`` as its handler answers it, ended as the house ends a read, without the names."""
    try:
        rows = service.list_tickets(session, actor=actor, page=page, filters=TicketFilter(q=q))
        return rows.page_of(service.to_public(session, rows.rows))
    finally:
        Database.finish(session, commit=False)


def create_bench_app(url: str) -> Litestar:
    app = create_app(Settings(database_url=url, log_level=LogLevel.WARNING))
    app.register(without_names)
    return frozen(app)


def serve() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(sys.argv[2:])
    uvicorn.run(create_bench_app(args.url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


def run(db_name: str, url: str, rows: int, args: argparse.Namespace) -> None:
    operator_key, _, _ = seed_tickets(url, rows, datetime.now(UTC))
    load = options(args, connections=1)
    operator = {"Authorization": f"Bearer {operator_key}"}
    page = "limit=50"
    searches = {
        "many": "压测工单 1",
        "one": f"T-2026-{rows // 2:06d}",
        "none": "证书到期",
    }
    without = Load("page of 50 without names", f"{WITHOUT_NAMES}?{page}", headers=operator, baseline=HEALTH.name)
    named = Load("page of 50 with names", f"/api/v1/tickets?{page}", headers=operator, baseline=without.name)
    loads = [without, named]
    for label, text in searches.items():
        query = f"{page}&q={urllib.parse.quote(text)}"
        loads.append(Load(f"q={text} ({label}), without names", f"{WITHOUT_NAMES}?{query}", headers=operator))
        loads.append(
            Load(f"q={text} ({label}), with names", f"/api/v1/tickets?{query}", headers=operator,
                 baseline=f"q={text} ({label}), without names")
        )  # fmt: skip
    figures: list[Figure] = []
    # rate limits a load never reaches, as opscenter_server sets them (the default 1,200 reads a minute answers 429)
    serving = module_server(
        "bench.names_search", "serve", "--url", url, pin=args.pin, ready_path="/ready", env=UNREACHED_RATE_LIMITS
    )
    with serving as server:
        for request in [HEALTH, *loads]:
            check(server, request)
            figures.append(replace(drive(server, request, load), baseline=request.baseline))
    print_figures(
        f"{db_name}: tickets, {rows:,} rows, 1 connection, {each(load)} "
        "(goals: names >= 0.77x the page without them, i.e. <= 1.3x its time; q p99 <= 50 ms at 100,000)",
        figures,
    )
    by_name = {figure.name: figure for figure in figures}
    base, with_names = by_name[without.name], by_name[named.name]
    search_p99 = ", ".join(
        f"{label} {by_name[f'q={text} ({label}), with names'].p99_ms:.1f} ms" for label, text in searches.items()
    )
    print(
        f"   names cost {with_names.cpu_ms / base.cpu_ms:.2f}x the CPU and {with_names.p50_ms / base.p50_ms:.2f}x "
        f"the p50 of the page without them; q p99 with names: {search_p99}",
        flush=True,
    )


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve()
        return
    parser = arguments(__doc__, load=True, seconds=5)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    for rows in args.rows:
        with databases(chosen(args)) as urls:
            for db_name, url in urls.items():
                run(db_name, url, rows, args)


if __name__ == "__main__":
    main()
