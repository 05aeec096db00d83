"""Chinese numerals → int, for slots ("三号楼", "十二幢", "五零一", "两点半").

Pure and small on purpose: the bot must not depend on the database or Flask.
"""
from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "幺": 1, "壹": 1, "二": 2, "两": 2, "俩": 2, "贰": 2,
          "三": 3, "叁": 3, "仨": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
          "八": 8, "捌": 8, "九": 9, "玖": 9}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10000}

# Characters a numeral may be made of (used by the slot regexes).
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)


def to_int(text: str) -> int | None:
    """Parse "12", "十二", "一百零一", "五零一" (digit by digit), "两"; None if it is not a number."""
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    if all(ch in DIGITS or ch.isdigit() for ch in text):
        # "五零一", "3零1": read digit by digit, as room numbers are spoken.
        value = 0
        for ch in text:
            value = value * 10 + (DIGITS[ch] if ch in DIGITS else int(ch))
        return value
    total = 0      # completed 万 groups
    section = 0    # below 万
    digit = None   # pending digit
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch.isdigit() and ch.isascii():
            digit = (digit or 0) * 10 + int(ch) if digit is not None else int(ch)
        elif ch in UNITS:
            unit = UNITS[ch]
            if unit == 10000:
                section += digit or 0
                total += (section or 1) * 10000
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)
