"""Uploads within limits (issue 18), over HTTP on both databases: a malformed workbook is a 422 naming the file's
problem and adds nothing, never a 500; a file with a problem in every row is a short answer; blank rows count;
the limits are the server's settings."""

from collections.abc import Callable, Iterator

import pytest

from opscenter.app import create_app
from opscenter.settings import Settings
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.operations.assets import hostile, steps
from tests.operations.assets.steps import CHINESE_HEADER, csv_file, csv_row
from tests.support import RunningServer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Each was a 500 before issue 18 (an exception of openpyxl, or of the conversion of its values).
MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated XML": (hostile.truncated_xlsx, "xl/worksheets/sheet1.xml is not well-formed XML"),
    "a shared string past the table": (hostile.bad_shared_string_xlsx, "cell C2 refers to shared string '7'"),
    "a NaN cell": (hostile.nan_cell_xlsx, "cell G2 is a number cell holding 'NaN'"),
    "a number cell of text": (lambda: hostile.nan_cell_xlsx("abc"), "cell G2 is a number cell holding 'abc'"),
    "an invalid date cell": (hostile.invalid_date_xlsx, "cell H2 is a date cell holding '2021-13-45'"),
    "a billion laughs": (hostile.entity_xlsx, "xl/sharedStrings.xml declares a document type"),
    "an external entity": (
        lambda: hostile.entity_xlsx(hostile.EXTERNAL_ENTITY, b"&secret;"),
        "xl/sharedStrings.xml declares a document type",
    ),
}


def _nothing_added(api: ApiFactory, world: World, batch: steps.JSON) -> None:
    after = steps.ok(api.as_(world.department).get(steps.path(batch)))
    assert (after["item_count"], after["version"]) == (0, batch["version"])


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_workbook_is_a_422_naming_the_file_problem(case: str, world: World, api: ApiFactory) -> None:
    make, message = MALFORMED[case]
    batch = steps.batch(api, world.department)
    refused = steps.upload(api, world.department, batch, make(), content_type=XLSX)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    (error,) = refused.json()["errors"]
    assert error["field"] == "file"
    assert message in error["message"]
    _nothing_added(api, world, batch)


def test_a_workbook_whose_styles_openpyxl_refused_is_imported(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    imported = steps.upload(api, world.department, batch, hostile.bad_styles_xlsx(), content_type=XLSX)
    assert imported.status_code == 200, imported.text
    assert [item["serial_number"] for item in steps.items_of(api, world.department, batch)] == ["SN-X1"]


def test_a_file_with_a_problem_in_every_row_lists_the_first_200_and_counts_them_all(
    world: World, api: ApiFactory
) -> None:
    batch = steps.batch(api, world.department)
    content = csv_file([csv_row(f"SN-{n:05}", kind="打印机") for n in range(20_000)])
    refused = steps.upload(api, world.department, batch, content)
    assert refused.status_code == 422
    problem = refused.json()
    assert len(problem["errors"]) == 200
    assert problem["error_count"] == 20_000
    assert problem["detail"] == "Nothing was added: 20000 problem(s) found. The first 200 are listed."
    assert [error["line"] for error in problem["errors"][:2]] == [2, 3]
    assert len(refused.content) < 100_000
    _nothing_added(api, world, batch)


def test_blank_rows_count_toward_the_row_limit(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    content = csv_file([csv_row("SN-BLANK-1"), *([[""] * 8] * 20_000)])
    refused = steps.upload(api, world.department, batch, content)
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["field"], error["line"]) == ("file", 20_002)
    assert error["message"] == "more than 20000 rows below the header (blank rows count too): split the file"
    _nothing_added(api, world, batch)


@pytest.fixture
def strict_server(settings: Settings) -> Iterator[RunningServer]:
    """A server whose operator set low upload limits."""
    strict = make_settings(
        settings.database_url, upload_max_rows=3, upload_max_cell_chars=300, upload_max_unpacked_bytes=1024 * 1024
    )
    with RunningServer(create_app(strict)) as running:
        yield running


def test_the_limits_are_the_servers_settings(world: World, api: ApiFactory, strict_server: RunningServer) -> None:
    strict = ApiFactory(strict_server.base_url)
    batch = steps.batch(strict, world.department)
    four_rows = steps.upload(strict, world.department, batch, csv_file([csv_row(f"SN-L{n}") for n in range(4)]))
    assert four_rows.json()["errors"][0]["message"].startswith("more than 3 rows below the header")
    long_cell = steps.upload(strict, world.department, batch, csv_file([csv_row("SN-L9", model="型" * 301)]))
    assert long_cell.json()["errors"][0]["message"] == "the cell in column 4 is longer than 300 characters"
    big = hostile.workbook(hostile.sheet([hostile.header_row(), b"<!-- " + b"x" * (2 * 1024 * 1024) + b" -->"]))
    too_big = steps.upload(strict, world.department, batch, big, content_type=XLSX)
    assert "unpacks to more than 1048576 bytes (1 MiB)" in too_big.json()["errors"][0]["message"]
    assert steps.upload(strict, world.department, batch, csv_file([csv_row("SN-L1")])).status_code == 200
    strict.close()


def test_a_file_that_takes_longer_than_the_server_allows_is_refused(world: World, settings: Settings) -> None:
    hurried = make_settings(settings.database_url, upload_parse_seconds=0.001)
    with RunningServer(create_app(hurried)) as running:
        api = ApiFactory(running.base_url)
        batch = steps.batch(api, world.department)
        content = csv_file([csv_row(f"SN-T{n:05}") for n in range(5_000)], header=CHINESE_HEADER)
        refused = steps.upload(api, world.department, batch, content)
        assert refused.status_code == 422
        (error,) = refused.json()["errors"]
        assert error["message"].startswith("reading the file took more than 0.001 seconds of processor time")
        api.close()


def test_a_file_over_the_routes_16_mib_is_refused_naming_that_limit(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    refused = steps.upload(api, world.department, batch, b"x" * 17_000_000)
    assert refused.status_code == 413
    assert "larger than 16777216 bytes (16 MiB)" in refused.json()["detail"]
    _nothing_added(api, world, batch)


def test_a_big5_file_is_a_422_that_says_encoding_and_names_the_encodings_read(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    rows = [["server", "資料庫伺服器", "SN-TW-1", "臺北機房A區", "12000.00"]]
    content = csv_file(rows, header=["kind", "name", "serial_number", "location", "original_value"], encoding="big5")
    refused = steps.upload(api, world.department, batch, content)
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "file"
    assert "encoding" in error["message"]
    assert "UTF-8, UTF-8 with BOM, or GB18030/GBK" in error["message"]
    _nothing_added(api, world, batch)
