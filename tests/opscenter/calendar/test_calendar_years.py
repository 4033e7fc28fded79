"""A whole year's official schedule in one request: imported as JSON or CSV, checked as a whole, audited once,
undone by importing again; and /metrics says, from November on, whether next year is known."""

import copy
from datetime import date
from pathlib import Path

import pytest

from opscenter.calendar import figures as calendar_figures
from opscenter.plugin import PROCESS_FIGURE_SOURCES
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.contracts.steps import JSON, ok
from tests.factories import World
from tests.opscenter.calendar import steps
from tests.opscenter.test_cli import opscenter
from tests.support import scrape

YEAR_2027 = "/api/v1/calendar/years/2027"


def _import(api: ApiFactory, world: World, body: JSON) -> JSON:
    return ok(api.as_(world.admin).put(YEAR_2027, body))


def _2027_is_known(api: ApiFactory, world: World) -> bool:
    unknown: list[int] = steps.days(api, world.operator, "2027-01-01", "2027-01-07")["unknown_years"]
    return unknown == []


def test_an_admin_imports_next_years_schedule_in_one_request_and_the_clock_knows_it(
    world: World, api: ApiFactory
) -> None:
    assert not _2027_is_known(api, world)

    imported = _import(api, world, steps.schedule_2027())

    assert (imported["year"], imported["known"], imported["source"]) == (2027, True, "override")
    assert (len(imported["holidays"]), len(imported["workdays"])) == (29, 6)
    assert _2027_is_known(api, world)
    february = steps.days(api, world.operator, "2027-01-30", "2027-02-21")
    assert steps.day_of(february, "2027-02-08") | {"hours": []} == {
        "day": "2027-02-08", "is_working": False, "source": "override", "source_label": "管理员设定", "name": None,
        "reason": "春节", "hours": [],
    }  # fmt: skip
    assert steps.day_of(february, "2027-01-31")["is_working"] is True, "a 调休 Sunday is worked"
    assert steps.day_of(february, "2027-02-15")["is_working"] is True, "a Monday the notice does not name is worked"
    assert steps.day_of(february, "2027-02-21")["is_working"] is False, "a Sunday the notice does not name is off"
    assert ok(api.as_(world.department).get(YEAR_2027)) == imported, "read back as it was imported"
    events = ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"object_type": "calendar_year"}))
    assert [(event["action"], event["object_id"]) for event in events["items"]] == [("calendar_year.import", "2027")]
    assert events["items"][0]["changes"]["notice"] == [None, "国务院办公厅关于2027年部分节假日安排的通知"]


def test_a_schedule_is_checked_as_a_whole_and_every_problem_named_with_nothing_written(
    world: World, api: ApiFactory
) -> None:
    schedule = steps.schedule_2027()
    schedule["holidays"] = [entry for entry in schedule["holidays"] if entry["day"] != "2027-10-02"]
    schedule["holidays"].append({"day": "2028-01-01", "name": "元旦"})
    schedule["workdays"] += [{"day": "2027-02-08", "name": "春节调休"}, {"day": "2027-03-01", "name": "补班"}]

    refused = api.as_(world.admin).put(YEAR_2027, schedule)

    assert refused.status_code == 422, refused.text
    errors = {(error["field"], error["message"]) for error in refused.json()["errors"]}
    assert errors == {
        ("holidays.28.day", "2028-01-01 is not a day of 2027"),
        ("workdays.6.day", "2027-02-08 is listed already as holidays.6"),
        ("workdays.7.day", "2027-03-01 is a Monday: a make-up workday is a Saturday or Sunday"),
        ("holidays", "a whole year's schedule has 2027-10-02 (国庆节) off"),
    }
    unnamed = steps.schedule_2027()
    unnamed["holidays"][0]["name"] = ""
    assert api.as_(world.admin).put(YEAR_2027, unnamed).json()["errors"][0]["field"] == "holidays.0.name"
    part = {"holidays": [{"day": "2027-02-06", "name": "春节"}]}
    assert api.as_(world.admin).put(YEAR_2027, part).status_code == 422, "a part of a year is not a schedule"
    assert not _2027_is_known(api, world)
    assert (
        ok(api.as_(world.auditor).get("/api/v1/audit-events", params={"object_type": "calendar_year"}))["items"] == []
    )


def test_a_csv_from_a_chinese_spreadsheet_imports_and_importing_again_replaces_the_year(
    world: World, api: ApiFactory
) -> None:
    wrong = steps.schedule_2027()
    wrong["holidays"].append({"day": "2027-06-10", "name": "端午节"})
    admin = api.as_(world.admin)
    sent = admin.put(YEAR_2027, content=steps.as_csv(wrong, encoding="gb18030"), headers={"Content-Type": "text/csv"})
    assert ok(sent)["holidays"][-1] == {"day": "2027-10-07", "name": "国庆节"}
    assert steps.day_of(steps.days(api, world.admin, "2027-06-10", "2027-06-10"), "2027-06-10")["is_working"] is False

    corrected = admin.put(YEAR_2027, content=steps.as_csv(steps.schedule_2027()), headers={"Content-Type": "text/csv"})

    assert len(ok(corrected)["holidays"]) == 29
    assert steps.day_of(steps.days(api, world.admin, "2027-06-10", "2027-06-10"), "2027-06-10")["is_working"] is True
    bad = steps.as_csv(steps.schedule_2027()).replace(b"2027-05-08,\xe7\x8f\xad", b"2027-05-08,maybe")
    refused = admin.put(YEAR_2027, content=bad, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    assert [(e["line"], e["column"]) for e in refused.json()["errors"]] == [(34, "type")]
    weekday = steps.as_csv(steps.schedule_2027()).replace(b"2027-05-08", b"2027-05-07")
    assert admin.put(YEAR_2027, content=weekday, headers={"Content-Type": "text/csv"}).json()["errors"] == [
        {"field": "workdays.3.day", "line": 34, "message": "2027-05-07 is a Friday: a make-up workday is a "
         "Saturday or Sunday"}
    ]  # fmt: skip


def test_an_imported_schedule_decides_a_year_the_package_knows_too(world: World, api: ApiFactory) -> None:
    package = ok(api.as_(world.admin).get("/api/v1/calendar/years/2026"))
    assert package["source"] == "package"
    body = {"holidays": copy.deepcopy(package["holidays"]), "workdays": package["workdays"]}
    dropped = next(entry for entry in body["holidays"] if entry["day"] == "2026-06-19")  # 端午节, a Friday
    body["holidays"].remove(dropped)

    imported = ok(api.as_(world.admin).put("/api/v1/calendar/years/2026", body))

    assert imported["source"] == "override"
    assert dropped not in imported["holidays"]
    day = steps.day_of(steps.days(api, world.admin, "2026-06-19", "2026-06-19"), "2026-06-19")
    assert day["is_working"] is True, "the import, not the package, decides the year"


def test_the_command_line_imports_a_years_file(
    world: World, api: ApiFactory, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "2027.csv"
    path.write_bytes(steps.as_csv(steps.schedule_2027()))
    ran = opscenter(settings, "calendar", "import", "--year", "2027", str(path))
    assert ran.returncode == 0, ran.stderr
    assert "2027: 29 holidays and 6 make-up workdays imported" in ran.stdout
    assert _2027_is_known(api, world)
    path.write_bytes(steps.as_csv({"holidays": [{"day": "2027-02-06", "name": "春节"}], "workdays": []}))
    refused = opscenter(settings, "calendar", "import", "--year", "2027", str(path))
    assert refused.returncode != 0
    assert "2027-10-01 (国庆节)" in refused.stderr


@pytest.mark.parametrize(
    ("today", "watched"),
    [
        (date(2026, 10, 31), [2026]),
        (date(2026, 11, 1), [2026, 2027]),
        (date(2026, 12, 31), [2026, 2027]),
        (date(2027, 1, 1), [2027]),
    ],
)
def test_next_year_is_watched_from_november_first(today: date, watched: list[int]) -> None:
    assert calendar_figures.watched_years(today) == watched


def test_metrics_say_next_year_is_unknown_from_november_until_it_is_imported(
    world: World, api: ApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_figures, "today", lambda: date(2026, 11, 20))
    assert calendar_figures.figures in PROCESS_FIGURE_SOURCES, "open to any scraper"

    def known() -> list[str]:
        text = scrape(api.base_url, token=None)
        return [line for line in text.splitlines() if line.startswith("opscenter_calendar_year_known{")]

    assert known() == [
        'opscenter_calendar_year_known{year="2026"} 1.0',
        'opscenter_calendar_year_known{year="2027"} 0.0',
    ]
    _import(api, world, steps.schedule_2027())
    assert known()[1] == 'opscenter_calendar_year_known{year="2027"} 1.0'
