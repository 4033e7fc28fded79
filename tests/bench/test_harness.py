"""The benchmarks' load generator: wrk, driven by bench.harness, measures what the server answered."""

import shutil

from sqlalchemy import create_engine, text

from bench.harness import Load, Options, bare_server, databases, drive


def test_wrk_loads_a_server_and_reports_every_answer_it_counted() -> None:
    assert shutil.which("wrk"), "wrk is not installed: apt-get install wrk (scripts/test installs it)"
    with databases(["sqlite"], migrate=False) as urls, bare_server(urls["sqlite"]) as server:
        templated = Load("templated", "/rows", method="POST", headers={"Idempotency-Key": "k-{n}"}, body='{"n": "{n}"}')
        listed = Load("listed", "/rows", method="POST", bodies=['{"n": 1}', '{"n": 2}'])
        figures = [drive(server, load, Options(seconds=1, connections=2)) for load in (templated, listed)]
        engine = create_engine(urls["sqlite"])
        try:
            with engine.connect() as connection:
                inserted = connection.execute(text("SELECT count(*) FROM bench_row")).scalar_one()
        finally:
            engine.dispose()
    for figure in figures:
        assert figure.requests > 0
        assert figure.errors == 0
        assert figure.p50_ms <= figure.p95_ms <= figure.p99_ms
        assert figure.cpu_ms > 0
    # every answer wrk counted inserted a row (a request in flight when it stopped may have too)
    assert inserted >= sum(figure.requests for figure in figures)
