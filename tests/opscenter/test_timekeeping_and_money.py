from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from opscenter.money import Money, from_fen, parse_amount, round_yuan, to_fen
from opscenter.timekeeping import Period, business_date, days_between


def test_business_dates_are_asia_shanghai() -> None:
    # 2026-01-31 16:30 UTC is already 1 February in Beijing
    assert business_date(datetime(2026, 1, 31, 16, 30, tzinfo=UTC)) == date(2026, 2, 1)


def test_a_period_is_a_shanghai_month() -> None:
    october = Period.parse("2026-10")
    assert (october.days, october.first_day, october.last_day) == (31, date(2026, 10, 1), date(2026, 10, 31))
    start, end = october.bounds()
    assert start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert str(Period.parse("2026-12").next()) == "2027-01"
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse("2026-13")


def test_days_between_counts_both_ends() -> None:
    assert days_between(date(2026, 10, 10), date(2026, 10, 31)) == 22
    assert days_between(date(2026, 10, 31), date(2026, 10, 1)) == 0


def test_rounding_is_half_up_to_the_fen() -> None:
    assert round_yuan(Decimal("0.005")) == Decimal("0.01")
    assert round_yuan(Decimal("2.675")) == Decimal("2.68")  # a float would say 2.67
    assert round_yuan(Decimal("-0.005")) == Decimal("-0.01")
    # the worked example of DESIGN §5: 20 × 1500.00 × 22/31
    assert round_yuan(Decimal(20) * Decimal("1500.00") * 22 / 31) == Decimal("21290.32")


def test_fen_round_trip_and_refusal_of_sub_fen() -> None:
    assert to_fen(Decimal("21290.32")) == 2129032
    assert from_fen(2129032) == Decimal("21290.32")
    with pytest.raises(ValueError, match="two decimals"):
        to_fen(Decimal("1.005"))


class _Priced(BaseModel):
    price: Money


def test_money_crosses_the_api_as_a_two_decimal_string() -> None:
    assert _Priced.model_validate({"price": "1500"}).model_dump(mode="json") == {"price": "1500.00"}
    assert parse_amount("0.5") == Decimal("0.50")
    for bad in (1500.0, 1500, "1,500.00", "1500.001", "abc"):
        with pytest.raises(ValidationError):
            _Priced.model_validate({"price": bad})
