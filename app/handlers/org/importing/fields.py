"""Parsing and checking cell values, and finding the rows a value refers to."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.handlers.org.importing.columns import (
    FALSE_WORDS,
    MOBILE,
    OFFICE_PHONE,
    ROLE_ALIASES,
    ROLE_CHOICES_TEXT,
    ROLE_SPLIT,
    TRUE_WORDS,
)
from app.handlers.org.importing.reading import norm_name
from app.handlers.org.importing.results import RowError
from app.models import (
    Community,
    Department,
    Grid,
    Role,
    Street,
)
from app.text_numbers import parse_chinese_number

# ---- value parsing ----------------------------------------------------------------------------------

class Fields:
    """The values of one row, with their parsing; problems collect into one reason."""

    def __init__(self, values: dict[str, Any]):
        self.values = values
        self.problems: list[str] = []

    def text(self, key: str, label: str, *, required: bool = False, max_length: int = 100) -> str | None:
        value = self.values.get(key)
        if value is None:
            if required:
                self.problems.append(f"{label}不能为空")
            return None
        text = str(value).strip()
        if len(text) > max_length:
            self.problems.append(f"{label}太长（最多{max_length}个字）")
            return None
        return text

    def given(self, key: str) -> bool:
        return self.values.get(key) is not None

    def mobile(self, key: str, label: str = "手机号") -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", str(value)))
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if not MOBILE.match(digits):
            self.problems.append(f"{label}格式不正确“{value}”（应为11位手机号）")
            return None
        return digits

    def office_phone(self, key: str, label: str = "电话") -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        phone = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
        if not OFFICE_PHONE.match(phone):
            self.problems.append(f"{label}格式不正确“{value}”")
            return None
        return phone

    def count(self, key: str, label: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        text = re.sub(r"(层|单元|个)$", "", unicodedata.normalize("NFKC", str(value)).strip())
        number = parse_chinese_number(text)
        if number is None or not 1 <= number <= 200:
            self.problems.append(f"{label}应为1到200的整数，不是“{value}”")
            return None
        return number

    def flag(self, key: str, label: str) -> bool | None:
        value = self.values.get(key)
        if value is None:
            return None
        text = norm_name(value)
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        self.problems.append(f"{label}应为“是”或“否”，不是“{value}”")
        return None

    def choice(self, key: str, label: str, aliases: dict[str, Any], shown: str) -> Any:
        value = self.values.get(key)
        if value is None:
            return None
        found = aliases.get(norm_name(value))
        if found is None:
            self.problems.append(f"未知{label}“{value}”（可用：{shown}）")
        return found

    def roles(self, key: str = "roles") -> set[Role]:
        value = self.values.get(key)
        if value is None:
            self.problems.append("角色不能为空")
            return set()
        roles: set[Role] = set()
        for part in ROLE_SPLIT.split(str(value)):
            if not part:
                continue
            role = ROLE_ALIASES.get(norm_name(part))
            if role is None:
                self.problems.append(f"未知角色“{part}”（可用：{ROLE_CHOICES_TEXT}）")
            else:
                roles.add(role)
        if not roles and not self.problems:
            self.problems.append("角色不能为空")
        return roles

    def fail(self, reason: str) -> None:
        self.problems.append(reason)

    def check(self) -> None:
        if self.problems:
            raise RowError("；".join(dict.fromkeys(self.problems)))


def assign_changes(row: Any, changes: dict[str, Any]) -> bool:
    """Set attributes that differ; True if anything changed. None values leave a field as it is."""
    changed = False
    for name, value in changes.items():
        if value is None:
            continue
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


# ---- lookups ------------------------------------------------------------------------------------------

def find_street(fields: Fields, key: str = "street", *, required: bool = False) -> Street | None:
    name = fields.text(key, "街道", required=required)
    if name is None:
        return None
    street = db.session.scalars(select(Street).where(Street.name == name)).first()
    if street is None:
        fields.fail(f"未知街道“{name}”")
    return street


def find_community(fields: Fields, *, required: bool = True) -> Community | None:
    name = fields.text("community", "社区", required=required)
    if name is None:
        return None
    statement = select(Community).where(Community.name == name)
    street_name = fields.values.get("street")
    if street_name is not None:
        statement = statement.join(Street, Street.id == Community.street_id).where(
            Street.name == str(street_name).strip())
    found = db.session.scalars(statement).all()
    if not found:
        where = f"（街道“{street_name}”下）" if street_name is not None else ""
        fields.fail(f"未知社区“{name}”{where}")
        return None
    if len(found) > 1:
        fields.fail(f"有多个名为“{name}”的社区，请填写街道列")
        return None
    return found[0]


def find_grid(fields: Fields, community: Community | None) -> Grid | None:
    name = fields.text("grid", "网格")
    if name is None:
        return None
    if community is None:
        if fields.values.get("community") is None:
            fields.fail("填写网格时必须填写社区")
        return None
    grid = db.session.scalars(select(Grid).where(Grid.community_id == community.id, Grid.name == name)).first()
    if grid is None:
        fields.fail(f"社区“{community.name}”没有网格“{name}”")
    return grid


def find_department(fields: Fields, street: Street | None) -> Department | None:
    name = fields.text("department", "部门")
    if name is None:
        return None
    statement = select(Department).where(Department.name == name)
    if street is not None:
        statement = statement.where(Department.street_id == street.id)
    found = db.session.scalars(statement).all()
    if not found:
        fields.fail(f"未知部门“{name}”")
        return None
    if len(found) > 1:
        fields.fail(f"有多个名为“{name}”的部门，请填写街道列")
        return None
    return found[0]
