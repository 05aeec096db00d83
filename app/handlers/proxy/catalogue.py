"""The proxy-handling catalogue (代办事项目录): loading, editing, importing, and what the bot knows.

Each community has its own items (``ServiceItem``), seeded from the default
catalogue file (app/data/catalogue.yaml, or LINLI_PROXY_CATALOGUE_FILE) and then
edited by its admins through the API or a spreadsheet import. Items are keyed
by a slug that is the same in every community ("zunlaojin"), which is how the
bot's ``service`` slot names them.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.models import Community
from app.models.proxy import ServiceItem

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "catalogue.yaml"

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
_LIST_SPLIT = re.compile(r"[、,，;；|/\n]+")
_MATERIAL_SPLIT = re.compile(r"[;；\n]+")
_TRUE = {"是", "需要", "必须", "true", "yes", "y", "1", "on", "启用"}
_FALSE = {"否", "不需要", "不必", "false", "no", "n", "0", "off", "停用"}
MAX_TIME_LIMIT = 365

# Fields an admin may set (API PATCH, import columns, catalogue file).
EDITABLE_FIELDS = ("name", "aliases", "materials", "department", "time_limit_workdays", "eligibility",
                   "visit_required", "notes", "sort_order", "active")


class CatalogueError(ValueError):
    """A catalogue entry or file that cannot be used; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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


def catalogue_path() -> Path:
    configured = current_app.config.get("PROXY_CATALOGUE_FILE")
    return Path(configured) if configured else DEFAULT_CATALOGUE


def read_catalogue_file(path: Path | str | None = None) -> list[dict[str, Any]]:
    """The validated entries of a catalogue YAML file; CatalogueError names the item and field."""
    import yaml

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
    _check_alias_conflicts(community_id, entry, exclude_id=item.id)
    return item, "updated" if _apply(item, entry) else "unchanged"


def _check_alias_conflicts(community_id: int, entry: dict[str, Any], exclude_id: int | None = None) -> None:
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
    _check_alias_conflicts(community_id, entry)
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
    _check_alias_conflicts(item.community_id, merged, exclude_id=item.id)
    _apply(item, entry)
    return item


# ---- spreadsheet import -----------------------------------------------------------------------------

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("标识", "key", "事项标识"),
    "name": ("名称", "事项名称", "事项", "name"),
    "aliases": ("别名", "常用叫法", "aliases"),
    "materials": ("材料清单", "材料", "所需材料", "materials"),
    "department": ("承办部门", "部门", "department"),
    "time_limit_workdays": ("办理时限", "时限", "办理时限（工作日）", "时限（工作日）", "time_limit_workdays",
                            "time_limit"),
    "eligibility": ("办理条件", "条件", "eligibility"),
    "visit_required": ("本人到场", "需本人到场", "visit_required"),
    "notes": ("备注", "说明", "notes"),
    "sort_order": ("排序", "sort_order"),
    "active": ("启用", "active"),
}
REQUIRED_COLUMNS = ("key", "name", "time_limit_workdays")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _norm_header(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"[\s*:：]+", "", text).lower()


_HEADER_LOOKUP = {_norm_header(label): key for key, labels in IMPORT_COLUMNS.items() for label in labels}


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (bool, int)):
        return value
    text = str(value).strip()
    return text or None


def read_sheet(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, values) of a catalogue .xlsx (first sheet, or one named 代办事项) or .csv."""
    path = Path(path)
    if not path.exists() or path.is_dir():
        raise CatalogueError(f"找不到文件 {path} (file not found)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure inside the zip/XML means unreadable
            raise CatalogueError(f"无法读取 Excel 文件 {path.name}（{type(exc).__name__}）(unreadable workbook)") from None
        try:
            sheets = workbook.worksheets
            chosen = next((s for s in sheets if s.title.strip() in ("代办事项", "事项目录", "catalogue")), sheets[0])
            chosen.reset_dimensions()
            raw_rows = [tuple(row) for row in chosen.iter_rows(values_only=True)]
        finally:
            workbook.close()
    elif suffix == ".csv":
        data = path.read_bytes()
        if data.startswith(b"PK\x03\x04"):
            raise CatalogueError(f"{path.name} 其实是 Excel 文件，请改扩展名为 .xlsx (this is an xlsx file)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel in China saves CSV as GBK
            except UnicodeDecodeError:
                raise CatalogueError(f"无法识别 {path.name} 的编码，请存为 UTF-8 或 GBK (unknown encoding)") from None
        raw_rows = [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]
    else:
        raise CatalogueError(f"不支持的文件类型 {suffix or path.name}（支持 .xlsx 和 .csv）(unsupported file type)")
    for index, row in enumerate(raw_rows[:10]):
        headers = [_norm_header(v) for v in row]
        columns = {_HEADER_LOOKUP[h]: pos for pos, h in enumerate(headers) if h in _HEADER_LOOKUP}
        if not columns:
            continue
        missing = [IMPORT_COLUMNS[k][0] for k in REQUIRED_COLUMNS if k not in columns]
        if missing:
            raise CatalogueError(f"{path.name} 缺少必填列：{'、'.join(missing)}，未导入任何数据 "
                                 f"(missing required columns; nothing imported)")
        rows = []
        for number in range(index + 1, len(raw_rows)):
            raw = raw_rows[number]
            values = {key: _cell(raw[pos]) if pos < len(raw) else None for key, pos in columns.items()}
            if all(v is None for v in values.values()):
                continue
            rows.append((number + 1, values))
        return rows
    raise CatalogueError(f"{path.name} 前10行里找不到表头（标识、名称、办理时限）(no header row; nothing imported)")


def import_file(community: Community, path: Path | str) -> ImportReport:
    """Import a catalogue sheet: each row is an upsert by key in its own savepoint.

    A bad row writes nothing and is reported as "第N行：reason"; the good rows
    are kept (the same contract as `linli import`).
    """
    from app.handlers.cases import begin_write_transaction

    rows = read_sheet(Path(path))
    report = ImportReport()
    begin_write_transaction()  # the per-row savepoints must sit inside a real transaction
    seen: dict[str, int] = {}
    for number, values in rows:
        if values.get("key") in seen:
            report.errors.append(f"第{number}行：标识 {values['key']} 与第{seen[values['key']]}行重复 (duplicate key)")
            continue
        try:
            entry = validate_entry({k: v for k, v in values.items() if v is not None or k in REQUIRED_COLUMNS})
            with db.session.begin_nested():
                _check_alias_conflicts(community.id, entry)
                _, outcome = upsert_entry(community.id, entry)
        except CatalogueError as exc:
            report.errors.append(f"第{number}行：{exc.message}")
            continue
        seen[entry["key"]] = number
        setattr(report, outcome, getattr(report, outcome) + 1)
    db.session.commit()
    return report


def export_rows(community_id: int) -> list[list[Any]]:
    """The community's catalogue as spreadsheet rows (header first), for editing and re-import."""
    header = [IMPORT_COLUMNS[k][0] for k in ("key", "name", *EDITABLE_FIELDS[1:])]
    rows: list[list[Any]] = [header]
    for item in items_for(community_id, active_only=False):
        rows.append([item.key, item.name, "、".join(item.aliases or []), "；".join(item.materials or []),
                     item.department or "", item.time_limit_workdays, item.eligibility or "",
                     "是" if item.visit_required else "否", item.notes or "", item.sort_order,
                     "是" if item.active else "否"])
    return rows


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


def service_terms(community_id: int | None) -> list:
    """The bot's vocabulary of service items: the community's active items, or the default file's."""
    from app.bot import ServiceTerm  # imported here: the catalogue's CLI and API do not load the bot
    if community_id is not None:
        items = items_for(community_id)
        if items:
            return [ServiceTerm(item.key, item.names) for item in items]
    try:
        entries = _default_entries()
    except CatalogueError:
        return []
    return [ServiceTerm(e["key"], [e["name"], *[a for a in e["aliases"] if a != e["name"]]])
            for e in entries if e.get("active", True)]


_DEFAULT_CACHE: dict[str, Any] = {"stamp": None, "entries": []}


def _default_entries() -> list[dict[str, Any]]:
    """The default catalogue file, parsed again only when it changes on disk.

    The bot asks for the vocabulary on every message; parsing the YAML each
    time cost ~50 ms per message (see docs/benchmarks.md).
    """
    path = catalogue_path()
    try:
        stat = path.stat()
    except OSError:
        return read_catalogue_file(path)  # raises the clear CatalogueError
    stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    if _DEFAULT_CACHE["stamp"] != stamp:
        _DEFAULT_CACHE["entries"] = read_catalogue_file(path)
        _DEFAULT_CACHE["stamp"] = stamp
    return _DEFAULT_CACHE["entries"]


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


def describe_item(ctx) -> str | None:
    """INFO_SOURCES hook: answers "办居住证要带什么材料" when the message names a catalogue item."""
    slots = getattr(ctx.understanding, "slots", None) or {}
    community_id = ctx.community_id
    item = None
    if community_id is not None and slots.get("service"):
        item = find_item(community_id, slots["service"])
        if item is not None and not item.active:
            item = None
    if item is None and community_id is not None:
        item = match_item(community_id, getattr(ctx.inbound, "text", None) or "")
    if item is None:
        return None
    return format_item(item)


# ---- demo data --------------------------------------------------------------------------------------

def seed_demo_catalogue(community: Community) -> list[str]:
    """DEMO_EXTRAS hook: the default catalogue and a proxy-handling station for the demo community.

    Runs inside the demo's transaction (no commit here); returns lines for its summary.
    """
    from app.handlers.slots import hours_summary, seed_demo_station

    result = load_catalogue(community, update=False, commit=False)
    station = seed_demo_station(community, commit=False)
    return [f"代办事项 / catalogue items: {len(result.created)} new, {len(result.unchanged)} kept",
            f"代办站 / station: {station.name}（{hours_summary(station)}）"]
