"""Reading the fields of a body (API, CLI, demo) with Chinese refusals that name the field.

Each reader takes the whole ``data`` mapping and the field name, so a refusal can
always say which field is wrong; ``label`` is the field's Chinese name.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Iterable

from app.handlers.governance.errors import refuse
from app.localtime import FIRST_YEAR, LAST_YEAR, zone

MISSING = object()
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_ID = 2**63 - 1
MAX_QUANTITY = 10**9


def present(data: dict, name: str) -> bool:
    value = data.get(name, MISSING)
    return value is not MISSING and value is not None and not (isinstance(value, str) and not value.strip())


def text(data: dict, name: str, label: str, *, required: bool = False, max_length: int = 200) -> str | None:
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}", field=name)
        return None
    value = data[name]
    if not isinstance(value, str):
        raise refuse(f"{label}必须是文字", field=name)
    value = value.strip()
    if len(value) > max_length:
        raise refuse(f"{label}不能超过{max_length}个字", field=name)
    return value


def choice(data: dict, name: str, label: str, choices: dict[str, str], *, required: bool = False,
           default: str | None = None) -> str | None:
    if not present(data, name):
        if required:
            raise refuse(f"请选择{label}（{_options(choices)}）", field=name)
        return default
    value = data[name]
    if not isinstance(value, str) or value.strip() not in choices:
        # Staff may type the Chinese label: accept it as well.
        by_label = {v: k for k, v in choices.items()}
        if isinstance(value, str) and value.strip() in by_label:
            return by_label[value.strip()]
        raise refuse(f"{label}取值无效，可选：{_options(choices)}", field=name)
    return value.strip()


def _options(choices: dict[str, str]) -> str:
    return "、".join(f"{key}（{label}）" for key, label in choices.items())


def number(data: dict, name: str, label: str, *, required: bool = False, minimum: float | None = None,
           maximum: float = MAX_QUANTITY, positive: bool = False) -> float | None:
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}", field=name)
        return None
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise refuse(f"{label}必须是数字", field=name)
    if positive and value <= 0:
        raise refuse(f"{label}必须大于0", field=name)
    if minimum is not None and value < minimum:
        raise refuse(f"{label}不能小于{minimum:g}", field=name)
    if abs(value) > maximum:
        raise refuse(f"{label}不能超过{maximum:g}", field=name)
    rounded = round(float(value), 2)   # stored with two decimals
    if positive and rounded <= 0:
        raise refuse(f"{label}最小为0.01", field=name)
    return rounded


def integer(data: dict, name: str, label: str, *, required: bool = False, minimum: int = 0,
            maximum: int = MAX_QUANTITY) -> int | None:
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}", field=name)
        return None
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse(f"{label}必须是整数", field=name)
    if not minimum <= value <= maximum:
        raise refuse(f"{label}必须在{minimum}到{maximum}之间", field=name)
    return value


def ident(data: dict, name: str, label: str, *, required: bool = False) -> int | None:
    return integer(data, name, f"{label}编号", required=required, minimum=1, maximum=MAX_ID)


def ids(data: dict, name: str, label: str, *, required: bool = False, limit: int = 200) -> list[int]:
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}", field=name)
        return []
    value = data[name]
    if not isinstance(value, list) or len(value) > limit or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID for v in value):
        raise refuse(f"{label}必须是编号列表（最多{limit}个）", field=name)
    return list(dict.fromkeys(value))


def day(data: dict, name: str, label: str, *, required: bool = False) -> date | None:
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}（YYYY-MM-DD）", field=name)
        return None
    value = data[name]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        parsed = date.fromisoformat(str(value).strip())
    except ValueError:
        raise refuse(f"{label}格式应为 YYYY-MM-DD", field=name) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise refuse(f"{label}的年份必须在{FIRST_YEAR}到{LAST_YEAR}之间", field=name)
    return parsed


def moment(data: dict, name: str, label: str, *, required: bool = False) -> datetime | None:
    """ISO 8601; a time without an offset is local time."""
    if not present(data, name):
        if required:
            raise refuse(f"请填写{label}", field=name)
        return None
    value = data[name]
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise refuse(f"{label}格式应为 ISO 8601，如 2026-11-24T18:00", field=name) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise refuse(f"{label}的年份必须在{FIRST_YEAR}到{LAST_YEAR}之间", field=name)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone())


def clock(data: dict, name: str, label: str) -> str | None:
    """A local wall-clock time "HH:MM"."""
    if not present(data, name):
        return None
    value = data[name]
    match = CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise refuse(f"{label}格式应为 HH:MM，如 08:30", field=name)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def weekdays(data: dict, name: str = "weekdays") -> list[int]:
    """ISO weekdays, 1 = Monday … 7 = Sunday."""
    if not present(data, name):
        return []
    value = data[name]
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 7
                                              for v in value):
        raise refuse("星期必须是 1（周一）到 7（周日）的列表", field=name)
    return sorted(set(value))


def words(data: dict, name: str, label: str, *, limit: int = 20, max_length: int = 20) -> list[str]:
    if not present(data, name):
        return []
    value = data[name]
    if isinstance(value, str):
        value = [part for part in re.split(r"[,，、;；\s]+", value) if part]
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise refuse(f"{label}必须是词语列表（最多{limit}个）", field=name)
    cleaned = [v.strip() for v in value if v.strip()]
    if any(len(v) > max_length for v in cleaned):
        raise refuse(f"{label}每个不能超过{max_length}个字", field=name)
    return list(dict.fromkeys(cleaned))


def coordinate(data: dict, name: str, label: str, limit: float, *, required: bool = False) -> float | None:
    value = number(data, name, label, required=required, minimum=-limit, maximum=limit)
    return None if value is None else float(data[name])


def only_known(data: dict, known: Iterable[str]) -> None:
    """Refuse a field nobody reads: a typo ("titel") would otherwise be dropped silently."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise refuse(f"不认识的字段：{', '.join(unknown)}", field=unknown[0])


def as_id(value: Any, field: str, label: str) -> int:
    """An id given on its own (a path part, a body field): a positive integer, or a refusal naming the field."""
    return ident({field: value}, field, label, required=True)
