"""The house decorators harden every handler's parameters, whether or not it says FromQuery."""

import typing
from datetime import UTC, datetime

import pytest
from litestar.params import FromQuery, ParameterKwarg

from opscenter.errors import InvalidInput
from opscenter.parameters import harden, parse_instant
from opscenter.schemas import INT_MAX, INT_MIN
from opscenter.web import DbSession


def handler(session: DbSession, year: int, since: FromQuery[datetime | None] = None, note: str = "") -> object:
    return year, since, note


def test_integers_are_bounded_and_instants_are_read_as_text() -> None:
    hints = typing.get_type_hints(harden(handler), include_extras=True)
    year = next(item for item in typing.get_args(hints["year"]) if isinstance(item, ParameterKwarg))
    assert (year.ge, year.le) == (INT_MIN, INT_MAX)
    assert typing.get_args(hints["since"])[0] == str | None
    assert hints["session"] == DbSession, "dependencies are left alone"


def test_a_hardened_handler_gets_an_aware_instant_and_refuses_nul() -> None:
    hardened: typing.Any = harden(handler)  # called as Litestar calls it: with the raw text of `since`
    assert hardened(session=None, year=2027, since="2026-11-01T08:00:00+08:00") == (
        2027,
        datetime(2026, 11, 1, tzinfo=UTC),
        "",
    )
    with pytest.raises(InvalidInput) as refused:
        hardened(session=None, year=2027, note="a\x00")
    assert (refused.value.status, refused.value.errors[0].field) == (400, "note")


@pytest.mark.parametrize("text", ["1700000000", "2026-11-01", "2026-11-01T00:00:00", "2026-02-30T00:00:00Z"])
def test_an_instant_is_rfc_3339_or_a_400(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_instant("since", text)
    assert refused.value.status == 400
