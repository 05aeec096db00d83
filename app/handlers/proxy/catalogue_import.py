"""Catalogue spreadsheets: import a community's items from .xlsx/.csv, export them for editing.

Each row is an upsert by key in its own savepoint: a bad row writes nothing and
is reported as "第N行：reason", the good rows are kept (the same contract as
`linli import`).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.proxy.catalogue import check_alias_conflicts, items_for, upsert_entry
from app.handlers.proxy.catalogue_entries import EDITABLE_FIELDS, validate_entry
from app.handlers.proxy.errors import CatalogueError
from app.models import Community

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


def _xlsx_rows(path: Path) -> list[tuple]:
    import openpyxl  # slow to import; only an import of a workbook needs it
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure inside the zip/XML means unreadable
        raise CatalogueError(f"无法读取 Excel 文件 {path.name}（{type(exc).__name__}）(unreadable workbook)") from None
    try:
        sheets = workbook.worksheets
        chosen = next((s for s in sheets if s.title.strip() in ("代办事项", "事项目录", "catalogue")), sheets[0])
        chosen.reset_dimensions()
        return [tuple(row) for row in chosen.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_rows(path: Path) -> list[tuple]:
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
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]


def read_sheet(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, values) of a catalogue .xlsx (first sheet, or one named 代办事项) or .csv."""
    path = Path(path)
    if not path.exists() or path.is_dir():
        raise CatalogueError(f"找不到文件 {path} (file not found)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw_rows = _xlsx_rows(path)
    elif suffix == ".csv":
        raw_rows = _csv_rows(path)
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
    rows = read_sheet(Path(path))
    report = ImportReport()
    begin_write_transaction(db.session)  # the per-row savepoints must sit inside a real transaction
    seen: dict[str, int] = {}
    for number, values in rows:
        if values.get("key") in seen:
            report.errors.append(f"第{number}行：标识 {values['key']} 与第{seen[values['key']]}行重复 (duplicate key)")
            continue
        try:
            entry = validate_entry({k: v for k, v in values.items() if v is not None or k in REQUIRED_COLUMNS})
            with db.session.begin_nested():
                check_alias_conflicts(community.id, entry)
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
