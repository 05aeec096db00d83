"""The proxy-handling catalogue (代办事项目录): the catalogue file, editing items, and finding them.

Each community has its own items (``ServiceItem``), seeded from the default
catalogue file (app/data/catalogue.yaml, or LINLI_PROXY_CATALOGUE_FILE) and then
edited by its admins through the API or a spreadsheet import
(app/handlers/proxy/catalogue_import.py). Items are keyed by a slug that is the
same in every community ("zunlaojin"), which is how the bot's ``service`` slot
names them; what the bot knows of them is app/handlers/proxy/chat.py.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from flask import current_app
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.proxy.catalogue_entries import EDITABLE_FIELDS, validate_entry
from app.handlers.proxy.errors import CatalogueError
from app.models import Community
from app.models.proxy import ServiceItem

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "catalogue.yaml"

# ---- the catalogue file -----------------------------------------------------------------------------

def catalogue_path() -> Path:
    configured = current_app.config.get("PROXY_CATALOGUE_FILE")
    return Path(configured) if configured else DEFAULT_CATALOGUE


def read_catalogue_file(path: Path | str | None = None) -> list[dict[str, Any]]:
    """The validated entries of a catalogue YAML file; CatalogueError names the item and field."""
    path = Path(path) if path else catalogue_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"找不到目录文件 {path} (catalogue file not found)") from None
    except OSError as exc:
        raise CatalogueError(f"无法读取目录文件 {path}：{exc.strerror} (cannot read the file)") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"目录文件 {path} 不是 UTF-8 编码 (not UTF-8)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark else ""
        raise CatalogueError(f"目录文件 {path.name} {where}格式错误 (invalid YAML)") from None
    items = raw.get("items") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise CatalogueError(f"目录文件 {path.name} 里没有 items 列表 (no items list)")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        try:
            entry = validate_entry(item)
        except CatalogueError as exc:
            label = item.get("key") or item.get("name") if isinstance(item, dict) else None
            raise CatalogueError(f"目录文件 {path.name} 第{index}项{f'（{label}）' if label else ''}："
                                 f"{exc.message}", exc.field) from None
        if entry["key"] in seen:
            raise CatalogueError(f"目录文件 {path.name} 第{index}项：标识 {entry['key']} 重复 (duplicate key)", "key")
        seen.add(entry["key"])
        entry.setdefault("sort_order", index * 10)
        entries.append(entry)
    return entries


# ---- writing items ----------------------------------------------------------------------------------

@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _apply(item: ServiceItem, entry: dict[str, Any]) -> bool:
    changed = False
    for name in EDITABLE_FIELDS:
        if name in entry and getattr(item, name) != entry[name]:
            setattr(item, name, entry[name])
            changed = True
    if changed:
        item.updated_at = now()
    return changed


def upsert_entry(community_id: int, entry: dict[str, Any], *, update: bool = True) -> tuple[ServiceItem, str]:
    """Create or update one item by (community, key); returns (item, created|updated|unchanged). No commit."""
    item = db.session.scalars(select(ServiceItem).where(
        ServiceItem.community_id == community_id, ServiceItem.key == entry["key"])).first()
    if item is None:
        item = ServiceItem(community_id=community_id, key=entry["key"], aliases=[], materials=[])
        _apply(item, {"sort_order": 100, **entry})
        db.session.add(item)
        db.session.flush()
        return item, "created"
    if not update:
        return item, "unchanged"
    check_alias_conflicts(community_id, entry, exclude_id=item.id)
    return item, "updated" if _apply(item, entry) else "unchanged"


def check_alias_conflicts(community_id: int, entry: dict[str, Any], exclude_id: int | None = None) -> None:
    """Two items may not share a name or alias: the bot could not tell them apart."""
    names = {entry[k] for k in ("name",) if entry.get(k)} | set(entry.get("aliases") or [])
    if not names:
        return
    statement = select(ServiceItem).where(ServiceItem.community_id == community_id)
    for other in db.session.scalars(statement):
        if other.id == exclude_id or other.key == entry.get("key"):
            continue
        clash = names & set(other.names)
        if clash:
            raise CatalogueError(f"名称或别名“{sorted(clash)[0]}”已用于事项“{other.name}”，机器人将无法区分 "
                                 f"(name/alias already used by {other.key})", "aliases")


def load_catalogue(community: Community, *, path: Path | str | None = None, update: bool = False,
                   commit: bool = True) -> LoadResult:
    """Load the catalogue file into a community in one transaction (existing keys kept unless ``update``)."""
    entries = read_catalogue_file(path)
    result = LoadResult()
    try:
        for entry in entries:
            _, outcome = upsert_entry(community.id, entry, update=update)
            getattr(result, outcome).append(entry["key"])
        if commit:
            db.session.commit()
    except Exception:
        if commit:
            db.session.rollback()
        raise
    return result


def create_item(community_id: int, data: dict[str, Any]) -> ServiceItem:
    entry = validate_entry(data)
    exists = db.session.scalars(select(ServiceItem.id).where(
        ServiceItem.community_id == community_id, ServiceItem.key == entry["key"])).first()
    if exists is not None:
        raise CatalogueError(f"标识 {entry['key']} 已存在 (key already exists)", "key")
    check_alias_conflicts(community_id, entry)
    item, _ = upsert_entry(community_id, entry)
    return item


def update_item(item: ServiceItem, data: dict[str, Any]) -> ServiceItem:
    if "key" in data and data["key"] != item.key:
        raise CatalogueError("标识创建后不能修改 (key cannot be changed)", "key")
    entry = validate_entry({k: v for k, v in data.items() if k != "key"}, partial=True)
    merged = {"key": item.key, "name": entry.get("name", item.name),
              "aliases": entry.get("aliases", item.aliases)}
    if "name" in entry and "aliases" not in entry:
        merged["aliases"] = [a for a in (item.aliases or []) if a != entry["name"]]
        entry["aliases"] = merged["aliases"]
    check_alias_conflicts(item.community_id, merged, exclude_id=item.id)
    _apply(item, entry)
    return item


# ---- reading ----------------------------------------------------------------------------------------

def items_for(community_id: int, *, active_only: bool = True) -> list[ServiceItem]:
    statement = select(ServiceItem).where(ServiceItem.community_id == community_id)
    if active_only:
        statement = statement.where(ServiceItem.active.is_(True))
    return list(db.session.scalars(statement.order_by(ServiceItem.sort_order, ServiceItem.id)))


def find_item(community_id: int, key: str) -> ServiceItem | None:
    return db.session.scalars(select(ServiceItem).where(
        ServiceItem.community_id == community_id, ServiceItem.key == key)).first()


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).lower()


def match_item(community_id: int, text: str, *, items: Iterable[ServiceItem] | None = None) -> ServiceItem | None:
    """The active item whose name or alias appears in ``text`` (the longest match wins)."""
    haystack = _normalise(text)
    if not haystack:
        return None
    best: tuple[int, ServiceItem] | None = None
    for item in items if items is not None else items_for(community_id):
        for name in item.names:
            needle = _normalise(name)
            if needle and needle in haystack and (best is None or len(needle) > best[0]):
                best = (len(needle), item)
    return best[1] if best else None

def short_name(item: ServiceItem) -> str:
    """What residents call it in one word: 尊老金 for 尊老金申领 (the shortest alias inside the name)."""
    inside = [a for a in (item.aliases or []) if a and a in item.name]
    return min(inside, key=len) if inside else item.name


def format_item(item: ServiceItem, *, with_booking_hint: bool = True) -> str:
    """A resident-facing description: materials, who is eligible, where it goes, how long."""
    lines = [f"【{item.name}】"]
    if item.materials:
        lines.append("需携带材料：")
        lines.extend(f"· {m}" for m in item.materials)
    if item.eligibility:
        lines.append(f"办理条件：{item.eligibility}")
    facts = []
    if item.department:
        facts.append(f"承办部门：{item.department}")
    if item.time_limit_workdays:
        facts.append(f"办理时限：{item.time_limit_workdays}个工作日")
    if facts:
        lines.append("；".join(facts))
    lines.append("需本人到场办理。" if item.visit_required else "本人行动不便的，家属可代为递交材料。")
    if item.notes:
        lines.append(item.notes)
    if with_booking_hint:
        lines.append(f"社区代办站可全程代办，回复“预约代办{short_name(item)}”即可预约。")
    return "\n".join(lines)
