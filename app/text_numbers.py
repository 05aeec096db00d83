"""Numbers as Chinese offices and residents write them: 三号楼, 12幢, 两百, ３栋.

Used by the import (building numbers in spreadsheets), so "三号楼" and "3栋"
name the same building ("3"). The bot has its own lenient reader for chat
(app/bot/numerals.py); merging the two is listed as follow-up work.
"""
from __future__ import annotations

import re
import unicodedata

_DIGITS = {
    "零": 0, "〇": 0, "○": 0,
    "一": 1, "壹": 1, "幺": 1,
    "二": 2, "贰": 2, "两": 2,
    "三": 3, "叁": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}

#: Characters that may appear in a Chinese numeral (for regexes in other modules).
CHINESE_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)

# Suffixes that only say "building": 3号楼, 3栋, 3幢, 3座, 3#楼, 3#.
_BUILDING_SUFFIXES = ("号楼", "楼", "栋", "幢", "座", "号", "#")
# Building names that are not numbers but are still keys: A座, 12A, 3-1, 甲栋.
_BUILDING_CODE = re.compile(r"^[0-9A-Z]+(?:-[0-9A-Z]+)*$")
_STEMS = "甲乙丙丁戊己庚辛"


def parse_chinese_number(text: str) -> int | None:
    """Parse a Chinese numeral (0..9999) or ASCII digits; None if it is not one.

    Handles 十二, 二十, 两百, 一百零二, colloquial 一百二 (=120), and digit-by-digit
    forms used for room numbers (五零一 = 501).
    """
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", str(text)).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if len(text) > 1 and all(ch in _DIGITS for ch in text):
        # 五零一 → 501; "两" is never used this way.
        if "两" in text:
            return None
        return int("".join(str(_DIGITS[ch]) for ch in text))

    total = 0
    digit: int | None = None
    last_unit: int | None = None
    zero_since_unit = False
    for ch in text:
        if ch in _DIGITS:
            value = _DIGITS[ch]
            if value == 0:
                if digit is not None or last_unit is None:
                    return None if len(text) > 1 else 0
                zero_since_unit = True
                continue
            if digit is not None:
                return None  # two digits in a row inside a positional numeral: 三四十
            digit = value
        else:
            unit = _UNITS[ch]
            if last_unit is not None and unit >= last_unit:
                return None  # 十百, 百百
            if digit is None:
                if unit == 10 and last_unit is None:
                    digit = 1  # 十二 = 12
                else:
                    return None
            total += digit * unit
            digit = None
            last_unit = unit
            zero_since_unit = False
    if digit is not None:
        if last_unit is not None and last_unit >= 100 and not zero_since_unit:
            total += digit * (last_unit // 10)  # 一百二 = 120, 两千五 = 2500
        else:
            total += digit
    return total


def normalise_building_number(raw) -> str | None:
    """The key of a building as residents and spreadsheets name it; None if unrecognisable.

    "3栋", "3号楼", "三号楼", "第3栋", "3#楼", "12幢", "03", 3, 3.0 → "3";
    "A座" → "A"; "12a" → "12A"; "3-1栋" → "3-1"; "甲栋" → "甲".
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw) if raw > 0 else None
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() and raw > 0 else None
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"\s+", "", text).upper()
    if text.startswith("第"):
        text = text[1:]
    stripped = True
    while stripped and text:
        stripped = False
        for suffix in _BUILDING_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                stripped = True
                break
    if not text:
        return None
    if re.fullmatch(r"\d+\.0+", text):  # a number cell that went through text: "3.0"
        text = text.split(".")[0]
    if text.isdigit():
        value = int(text)
        return str(value) if value > 0 else None
    number = parse_chinese_number(text)
    if number is not None:
        return str(number) if number > 0 else None
    if _BUILDING_CODE.fullmatch(text):
        return text
    if len(text) == 1 and text in _STEMS:
        return text
    return None
