"""Which text encodings a CSV may come in, and whether bytes that decode as GB18030 are GB18030 text at all.

Almost any byte string decodes as GB18030 (its two-byte range covers most byte pairs), so "it decodes" proves
nothing: a Big5 or Shift_JIS file, or a binary one, decodes too, as mojibake. What tells them apart is what the
decoded text holds. Chinese text in GB18030 is overwhelmingly characters of GB2312 (the 6,763 common hanzi) and
CJK or full-width punctuation; Big5 bytes read as GB18030 turn into kana, Greek, Cyrillic, box drawing, private-use
characters and rare extension hanzi; Shift_JIS into rare extension hanzi and the same; binary into control
characters besides. So the non-ASCII text must be at least ``PLAUSIBLE_SHARE`` common characters (rare hanzi count
half, so a name in traditional characters still passes among common ones), and no control character but tab and
line breaks may appear.
"""

import re
from collections import Counter
from functools import lru_cache

ACCEPTED = "UTF-8, UTF-8 with BOM, or GB18030/GBK"
PLAUSIBLE_SHARE = 0.9
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    """The hanzi of GB2312 (rows 16–87), what Chinese text in GBK/GB18030 is made of."""
    return frozenset(
        bytes([lead, trail]).decode("gb2312") for lead in range(0xB0, 0xF8) for trail in range(0xA1, 0xFF)
        if not (lead == 0xD7 and trail > 0xF9)  # the end of row 55 is empty
    )  # fmt: skip


def _weight(char: str) -> float:
    """How plausible ``char`` is in Chinese text: 1 common, 0.5 a rare hanzi, 0 what mojibake is made of."""
    point = ord(char)
    if char in _common_hanzi():
        return 1.0
    if (
        0x3000 <= point <= 0x303F  # CJK punctuation: 、。《》「」【】
        or 0xFF01 <= point <= 0xFF5E  # full-width ASCII forms: （），：
        or 0x2010 <= point <= 0x2027  # dashes, quotes, ellipsis: —“”…
        or point in (0x00B7, 0x00D7, 0x00F7, 0x00A5, 0x00B0, 0x00B1, 0x2103, 0x2116, 0xFFE5)  # ·×÷¥°±℃№￥
        or point == 0xFEFF
    ):
        return 1.0
    if 0x4E00 <= point <= 0x9FFF:
        return 0.5
    return 0.0


def plausible_chinese(text: str) -> bool:
    """Whether ``text`` (decoded as GB18030) reads as text rather than as another encoding's or binary bytes."""
    if _CONTROL.search(text) is not None:
        return False
    found = Counter(_NON_ASCII.findall(text))
    total = sum(found.values())
    if not total:
        return True
    score = sum(_weight(char) * count for char, count in found.items())
    return score >= PLAUSIBLE_SHARE * total


def refusal(why: str) -> str:
    return f"the file's encoding is not one we read ({why}): save it as CSV in {ACCEPTED}, or as XLSX"
