"""When a resource is available and when a need wants it: weekdays, a time window, a date range."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.handlers.governance import fields
from app.handlers.governance.errors import refuse

WEEKDAY_LABELS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "日"}


@dataclass(frozen=True)
class Window:
    weekdays: tuple[int, ...] = field(default_factory=tuple)   # empty: any day
    time_from: str | None = None
    time_until: str | None = None
    starts: date | None = None
    ends: date | None = None

    @classmethod
    def of(cls, row: Any, starts: str | None = None, ends: str | None = None) -> "Window":
        return cls(tuple(row.weekdays or ()), row.time_from, row.time_until,
                   getattr(row, starts) if starts else None, getattr(row, ends) if ends else None)


def read_window(data: dict[str, Any]) -> dict[str, Any]:
    """weekdays, time_from, time_until from a body; the window must not end before it starts."""
    values = {"weekdays": fields.weekdays(data), "time_from": fields.clock(data, "time_from", "开始时间"),
              "time_until": fields.clock(data, "time_until", "结束时间")}
    if values["time_from"] and values["time_until"] and values["time_until"] <= values["time_from"]:
        raise refuse("结束时间必须晚于开始时间", field="time_until")
    return values


def describe(window: Window) -> str:
    """每周六 09:00–11:30（2026-03-01起）; "时间不限" when nothing is set."""
    parts = []
    if window.weekdays:
        parts.append("每周" + "、".join(WEEKDAY_LABELS[d] for d in window.weekdays))
    if window.time_from or window.time_until:
        parts.append(f"{window.time_from or '00:00'}–{window.time_until or '24:00'}")
    text = " ".join(parts) or "时间不限"
    if window.starts and window.ends:
        text += f"（{window.starts.isoformat()}至{window.ends.isoformat()}）"
    elif window.starts:
        text += f"（{window.starts.isoformat()}起）"
    elif window.ends:
        text += f"（至{window.ends.isoformat()}）"
    return text


def fit(offer: Window, want: Window, today: date) -> tuple[bool, str]:
    """Does the offered time cover the wanted time? (fits, the reason in Chinese)."""
    if offer.ends is not None and offer.ends < today:
        return False, f"已过可用期（至{offer.ends.isoformat()}）"
    if want.ends is not None and offer.starts is not None and offer.starts > want.ends:
        return False, f"{offer.starts.isoformat()}才可用，晚于需要的{want.ends.isoformat()}"
    if want.weekdays and offer.weekdays:
        common = sorted(set(want.weekdays) & set(offer.weekdays))
        if not common:
            return False, "可用的星期与需要的不一致"
        days = "每周" + "、".join(WEEKDAY_LABELS[d] for d in common)
    else:
        days = ""
    start = max(want.time_from or "00:00", offer.time_from or "00:00")
    end = min(want.time_until or "24:00", offer.time_until or "24:00")
    if start >= end:
        return False, "可用的时段与需要的不重合"
    if not (want.weekdays or want.time_from or want.time_until):
        return True, f"可用时间：{describe(offer)}"
    span = "" if start == "00:00" and end == "24:00" else f" {start}–{end}"
    return True, f"时间吻合：{days or '可用日'}{span}".rstrip()
