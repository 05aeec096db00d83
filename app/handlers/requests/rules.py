"""The rules of a request that need no database: labels, who may do what, deadlines, input checks.

Deadlines follow Beijing 12345 (接诉即办) by default; ``LINLI_RESOLUTION_DEADLINES``
and ``LINLI_REQUEST_CATEGORY_CLASSES`` override them class by class.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from app import localtime
from app.errors import ValidationError
from app.models import Role
from app.models.requests import CATEGORY_LABELS, URGENCY_LABELS
from app.workcal import load_calendar

CATEGORIES = tuple(CATEGORY_LABELS)
URGENCIES = tuple(URGENCY_LABELS)
MAX_TEXT = 2000
MAX_PHOTOS = 9
ACTOR_STAFF, ACTOR_RESIDENT, ACTOR_SYSTEM = "staff", "resident", "system"

# Defaults after Beijing 12345 (接诉即办): the setting overrides these class by class.
DEFAULT_DEADLINES: dict[str, tuple[int, str]] = {
    "emergency": (2, "h"), "utilities": (24, "h"), "general": (7, "d"), "complex": (15, "d")}

EVENT_LABELS = {
    "created": "提交诉求", "follow_up": "补充说明", "replied": "工作人员回复", "acknowledged": "已响应",
    "dispatched": "派单", "started": "开始处理", "escalated": "吹哨上报", "resolved": "办结",
    "rating_requested": "回访", "rated": "居民评价", "closed": "完结", "reopened": "重新办理",
    "merged": "合并到其他诉求", "merged_from": "合并重复诉求", "rejected": "不予受理",
    "reclassified": "调整分类", "supervised": "超期督办", "deadline_changed": "办理时限调整",
}
# What a resident may see of their own timeline (internal steps such as 督办 stay internal).
RESIDENT_EVENT_KINDS = ("created", "follow_up", "replied", "acknowledged", "dispatched", "started", "escalated",
                        "resolved", "rated", "closed", "reopened", "merged", "rejected")

ACTION_LABELS = {
    "acknowledge": "响应", "dispatch": "派单", "start": "开始处理", "escalate": "吹哨上报", "resolve": "办结",
    "rate": "评价", "reopen": "重新办理", "merge": "合并", "reject": "不予受理", "reclassify": "调整分类",
    "reply": "回复", "close": "完结",
}

_ALL_ROLES = frozenset(r.value for r in Role)
_COORDINATORS = frozenset({Role.DUTY.value, Role.GRID_LEADER.value, Role.COMMUNITY_ADMIN.value})
# Which roles may do what (on requests they can see at all; others get 404 first).
ACTION_ROLES: dict[str, frozenset[str]] = {
    "view": _ALL_ROLES,
    "reply": _ALL_ROLES,
    "dispatch": _COORDINATORS | {Role.STREET_ADMIN.value},
    "start": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value, Role.DEPARTMENT.value},
    "escalate": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value},
    "resolve": _COORDINATORS | {Role.GRID_WORKER.value, Role.STREET_ADMIN.value, Role.DEPARTMENT.value},
    "merge": _COORDINATORS,
    "reject": _COORDINATORS,
    "reopen": _COORDINATORS,
    "reclassify": _COORDINATORS,
    "stats": _COORDINATORS | {Role.STREET_ADMIN.value},
}


# ---- configuration ---------------------------------------------------------------------------

def _pairs(raw: str | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in (raw or "").replace("，", ",").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            result[key.strip().lower()] = value.strip().lower()
    return result


def deadline_spec() -> dict[str, tuple[int, str]]:
    """Deadline class → (amount, unit) with unit m, h (clock time) or d (working days)."""
    spec = dict(DEFAULT_DEADLINES)
    for key, value in _pairs(current_app.config.get("RESOLUTION_DEADLINES")).items():
        if key in spec and value[:-1].isdigit() and value[-1:] in ("m", "h", "d"):
            spec[key] = (int(value[:-1]), value[-1])
    return spec


def urgency_for(category: str) -> str:
    """The deadline class of a category (LINLI_REQUEST_CATEGORY_CLASSES; unlisted → general)."""
    mapping = _pairs(current_app.config.get("REQUEST_CATEGORY_CLASSES"))
    urgency = mapping.get(category, "general")
    return urgency if urgency in URGENCIES else "general"


def compute_due_at(start: datetime, urgency: str, calendar=None) -> datetime:
    """The resolution deadline: hours around the clock, days as WORKING days (调休 aware)."""
    amount, unit = deadline_spec().get(urgency, DEFAULT_DEADLINES["general"])
    if unit == "m":
        return start + timedelta(minutes=amount)
    if unit == "h":
        return start + timedelta(hours=amount)
    if calendar is None:
        calendar = load_calendar()
    return calendar.deadline(start, amount, tz=localtime.zone_name())


def describe_limit(urgency: str) -> str:
    amount, unit = deadline_spec().get(urgency, DEFAULT_DEADLINES["general"])
    return f"{amount}{ {'m': '分钟', 'h': '小时', 'd': '个工作日'}[unit] }"


def reply_sla_text() -> str:
    seconds = int(current_app.config.get("REPLY_SLA_SECONDS") or 3600)
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds >= 60:
        return f"{max(1, round(seconds / 60))}分钟"
    return f"{seconds}秒"


# ---- input -----------------------------------------------------------------------------------

def clean_text(value: Any, field: str, max_length: int, *, label: str, required: bool = True) -> str | None:
    """Stripped text, or ValidationError in Chinese naming the field (None when optional and empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"请填写{label} (missing {field})", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{label}格式不正确 ({field} must be text)", field=field)
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"{label}不能超过{max_length}字 ({field} too long)", field=field)
    return value


def check_category(category: str | None) -> None:
    if category is not None and category not in CATEGORIES:
        raise ValidationError(f"分类无效 (category one of {', '.join(CATEGORIES)})", field="category")


def parse_rating(text: str | None) -> str | None:
    """满意 / 基本满意 / 不满意 (and a few everyday ways to say them) → rating key."""
    if not text:
        return None
    t = re.sub(r"[\s，。！!,.~～]+", "", text)
    if not t:
        return None
    if any(w in t for w in ("不满意", "不太满意", "没解决", "没有解决", "未解决", "差评", "不行")) or t in ("3", "C", "c"):
        return "unsatisfied"
    if "基本满意" in t or t in ("一般", "还行", "还可以", "2", "B", "b"):
        return "basically"
    if "满意" in t or "好评" in t or t in ("1", "A", "a", "很好", "非常好", "好的", "谢谢"):
        return "satisfied"
    return None
