"""What a valid catalogue entry is: the fields an admin may set and how each is read.

The same rules serve the API (create, PATCH), the spreadsheet import and the
catalogue file; a refusal is a CatalogueError naming the field, in Chinese with
the English gist for operators.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from app.handlers.proxy.errors import CatalogueError

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
_LIST_SPLIT = re.compile(r"[、,，;；|/\n]+")
_MATERIAL_SPLIT = re.compile(r"[;；\n]+")
_TRUE = {"是", "需要", "必须", "true", "yes", "y", "1", "on", "启用"}
_FALSE = {"否", "不需要", "不必", "false", "no", "n", "0", "off", "停用"}
MAX_TIME_LIMIT = 365

# Fields an admin may set (API PATCH, import columns, catalogue file).
EDITABLE_FIELDS = ("name", "aliases", "materials", "department", "time_limit_workdays", "eligibility",
                   "visit_required", "notes", "sort_order", "active")


# ---- validating entries -----------------------------------------------------------------------------

def _text(value: Any, name: str, *, required: bool = False, max_length: int = 100) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CatalogueError(f"缺少{_LABELS[name]} ({name} is required)", name)
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise CatalogueError(f"{_LABELS[name]}必须是文字 ({name} must be text)", name)
    value = unicodedata.normalize("NFC", value).strip()
    if len(value) > max_length:
        raise CatalogueError(f"{_LABELS[name]}过长，最多{max_length}字 ({name} is too long)", name)
    return value


def _list(value: Any, name: str, splitter: re.Pattern, *, max_items: int = 30, max_length: int = 200) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = splitter.split(value)
    elif isinstance(value, (list, tuple)):
        parts = []
        for part in value:
            if not isinstance(part, (str, int, float)) or isinstance(part, bool):
                raise CatalogueError(f"{_LABELS[name]}的每一项必须是文字 ({name} entries must be text)", name)
            parts.append(str(part))
    else:
        raise CatalogueError(f"{_LABELS[name]}必须是列表或文字 ({name} must be a list or text)", name)
    cleaned: list[str] = []
    for part in parts:
        part = unicodedata.normalize("NFC", part).strip().lstrip("·•-* ").strip()
        part = re.sub(r"^\d+[.、)）]\s*", "", part)  # "1. 身份证" → "身份证"
        if not part:
            continue
        if len(part) > max_length:
            raise CatalogueError(f"{_LABELS[name]}中有一项过长（最多{max_length}字）({name} entry too long)", name)
        if part not in cleaned:
            cleaned.append(part)
    if len(cleaned) > max_items:
        raise CatalogueError(f"{_LABELS[name]}最多{max_items}项 ({name}: at most {max_items})", name)
    return cleaned


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise CatalogueError(f"{_LABELS[name]}应填“是”或“否” ({name} must be yes/no)", name)


def _int(value: Any, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        raise CatalogueError(f"{_LABELS[name]}必须是整数 ({name} must be an integer)", name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        digits = re.sub(r"(个)?(工作日|天|日)$", "", value.strip())
        if not re.fullmatch(r"-?\d+", digits):
            raise CatalogueError(f"{_LABELS[name]}必须是整数 ({name} must be an integer)", name)
        value = int(digits)
    if not isinstance(value, int):
        raise CatalogueError(f"{_LABELS[name]}必须是整数 ({name} must be an integer)", name)
    if value < minimum or value > maximum:
        raise CatalogueError(f"{_LABELS[name]}必须在{minimum}到{maximum}之间 ({name} out of range)", name)
    return value


_LABELS = {
    "key": "标识", "name": "名称", "aliases": "别名", "materials": "材料清单", "department": "承办部门",
    "time_limit_workdays": "办理时限（工作日）", "eligibility": "办理条件", "visit_required": "本人到场",
    "notes": "备注", "sort_order": "排序", "active": "启用",
}


def validate_entry(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check one catalogue entry and return its normalised fields.

    ``partial``: only the fields present are checked (PATCH); ``key`` may be absent.
    """
    if not isinstance(data, dict):
        raise CatalogueError("每个事项必须是一组字段 (an item must be a mapping)")
    unknown = sorted(set(data) - set(EDITABLE_FIELDS) - {"key"})
    if unknown:
        raise CatalogueError(f"未知字段：{', '.join(unknown)} (unknown field)", unknown[0])
    out: dict[str, Any] = {}
    if not partial or "key" in data:
        key = _text(data.get("key"), "key", required=True, max_length=50)
        if not KEY_PATTERN.match(key):
            raise CatalogueError("标识只能用小写字母、数字和下划线，以字母开头，如 zunlaojin "
                                 "(key: lowercase letters, digits, underscore)", "key")
        out["key"] = key
    if not partial or "name" in data:
        out["name"] = _text(data.get("name"), "name", required=True)
    if not partial or "aliases" in data:
        out["aliases"] = _list(data.get("aliases"), "aliases", _LIST_SPLIT, max_items=40, max_length=50)
    if not partial or "materials" in data:
        out["materials"] = _list(data.get("materials"), "materials", _MATERIAL_SPLIT)
    if not partial or "department" in data:
        out["department"] = _text(data.get("department"), "department")
    if not partial or "time_limit_workdays" in data:
        raw = data.get("time_limit_workdays")
        if raw is None or raw == "":
            raise CatalogueError("缺少办理时限（工作日）(time_limit_workdays is required)", "time_limit_workdays")
        out["time_limit_workdays"] = _int(raw, "time_limit_workdays", 0, MAX_TIME_LIMIT)
    if not partial or "eligibility" in data:
        out["eligibility"] = _text(data.get("eligibility"), "eligibility", max_length=1000)
    if not partial or "visit_required" in data:
        raw = data.get("visit_required")
        out["visit_required"] = True if raw is None or raw == "" else _bool(raw, "visit_required")
    if not partial or "notes" in data:
        out["notes"] = _text(data.get("notes"), "notes", max_length=1000)
    if not partial or "sort_order" in data:
        raw = data.get("sort_order")
        if raw is not None and raw != "":
            out["sort_order"] = _int(raw, "sort_order", 0, 100000)
    if not partial or "active" in data:
        raw = data.get("active")
        out["active"] = True if raw is None or raw == "" else _bool(raw, "active")
    if "name" in out and "aliases" in out:
        out["aliases"] = [a for a in out["aliases"] if a != out["name"]]
    return out
