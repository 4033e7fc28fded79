"""Money, in one place: integer fen in storage, Decimal yuan in arithmetic, ROUND_HALF_UP to the fen.

Amounts cross the API as strings with two decimals (``"21290.32"``); JSON numbers are refused for
money because a decoder would turn them into floats before we could see them.
"""

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from opscenter.schemas import documented_pattern

FEN = Decimal("0.01")
# ASCII digits only, matched whole: no full-width digits, no trailing newline. 15 digits of yuan keep every
# amount (and sums of many) far inside a BIGINT of fen.
AMOUNT_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"
NON_NEGATIVE_AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


def round_yuan(amount: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half up (the rule of DESIGN §5 at every named step)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Yuan (already at fen precision) to integer fen; an amount with sub-fen digits is refused."""
    if amount != amount.quantize(FEN):
        raise ValueError(f"{amount} has more than two decimals")
    return int(amount * 100)


def from_fen(fen: int) -> Decimal:
    """Integer fen to yuan, exactly two decimals."""
    return (Decimal(fen) / 100).quantize(FEN)


def parse_amount(text: str) -> Decimal:
    """An amount as written in the API (``"1500.00"``, ``"1500"``), to yuan with two decimals."""
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError('amount must be a string of yuan with at most two decimals, e.g. "1500.00"')
    return Decimal(text).quantize(FEN)


def format_amount(amount: Decimal) -> str:
    """Yuan as the API writes it: two decimals, no exponent, no thousands separator."""
    return f"{round_yuan(amount):.2f}"


def _money_from_api(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return round_yuan(value)
    if isinstance(value, str):
        return parse_amount(value)
    raise ValueError('amount must be a string of yuan with at most two decimals, e.g. "1500.00"')


Money = Annotated[
    Decimal,
    BeforeValidator(_money_from_api),
    PlainSerializer(format_amount, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["21290.32"]}),
    # What the OpenAPI document says (Litestar reads this, not WithJsonSchema): a string, with its pattern.
    Field(json_schema_extra=documented_pattern(AMOUNT_PATTERN, example="21290.32")),
]
"""An amount in yuan as the API carries it: a two-decimal string in JSON, a Decimal in Python."""


def _non_negative(amount: Decimal) -> Decimal:
    if amount < 0:
        raise ValueError("amount must not be negative")
    return amount


NonNegativeMoney = Annotated[
    Money,
    AfterValidator(_non_negative),
    WithJsonSchema({"type": "string", "pattern": NON_NEGATIVE_AMOUNT_PATTERN, "examples": ["21290.32"]}),
    Field(json_schema_extra=documented_pattern(NON_NEGATIVE_AMOUNT_PATTERN, example="21290.32")),
]
