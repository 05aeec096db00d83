import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.text_numbers import normalise_building_number, parse_chinese_number


@pytest.mark.parametrize("text, value", [
    ("一", 1), ("两", 2), ("九", 9), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("九十九", 99),
    ("一百", 100), ("两百", 200), ("一百零二", 102), ("一百一十", 110), ("一百二", 120), ("两千五", 2500),
    ("五零一", 501), ("零", 0), ("叁拾", 30), ("12", 12), ("１２", 12),
])
def test_parse_chinese_number(text, value):
    assert parse_chinese_number(text) == value


@pytest.mark.parametrize("text", ["", "  ", "三四十", "十百", "百", "两零", "3栋", "abc", "一万", None])
def test_parse_chinese_number_rejects_non_numbers(text):
    assert parse_chinese_number(text) is None


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


@given(st.integers(min_value=1, max_value=99))
def test_every_chinese_numeral_up_to_99(n):
    assert parse_chinese_number(_cn(n)) == n
    assert normalise_building_number(f"{_cn(n)}号楼") == str(n)
    assert normalise_building_number(f"{n}栋") == str(n)


@pytest.mark.parametrize("raw, number", [
    ("3栋", "3"), ("3号楼", "3"), ("三号楼", "3"), ("12幢", "12"), ("3", "3"), (3, "3"), (3.0, "3"),
    ("3.0", "3"), ("第3栋", "3"), ("3#楼", "3"), ("3#", "3"), ("03", "3"), (" 3 栋 ", "3"), ("３栋", "3"),
    ("两号楼", "2"), ("十号楼", "10"), ("二十三幢", "23"), ("3号", "3"), ("A座", "A"), ("12a", "12A"),
    ("3-1栋", "3-1"), ("甲栋", "甲"),
])
def test_normalise_building_number(raw, number):
    assert normalise_building_number(raw) == number


@pytest.mark.parametrize("raw", [None, "", "楼", "栋", "0", 0, -1, 3.5, True, "三单元?", "物业楼栋"])
def test_normalise_building_number_rejects_garbage(raw):
    assert normalise_building_number(raw) is None
