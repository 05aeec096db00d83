"""Importing the organisation from the spreadsheets community offices keep (`linli import`).

A file is .xlsx (one sheet per kind) or .csv (one kind per file). Every data row
is an upsert by its natural key, so importing the same file again updates rows
and never duplicates them. The whole file is one transaction; each row runs in
a savepoint, so a bad row writes nothing, is reported with its sheet, row
number and a reason in Chinese, and the good rows are kept. The format is
documented in docs/import-format.md.

The row functions (``upsert_street`` ... ``upsert_group``) take the canonical
keys of the columns and are also used by the demo data (app/handlers/demo.py).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Building,
    Channel,
    Community,
    Department,
    Grid,
    GroupKind,
    ResidentGroup,
    Role,
    Staff,
    Street,
)
from app.models.people import ROLE_LABELS
from app.text_numbers import normalise_building_number, parse_chinese_number

# Processing order follows the dependencies: a community needs its street, a
# building its community and grid, staff their grid or department, ...
KINDS = ("streets", "communities", "grids", "buildings", "departments", "staff", "groups")

KIND_LABELS = {
    "streets": "街道", "communities": "社区", "grids": "网格", "buildings": "楼栋",
    "departments": "部门", "staff": "工作人员", "groups": "居民群",
}

# Sheet names and CSV file-name stems that mean each kind (compared after normalisation).
KIND_ALIASES = {
    "streets": ("街道", "streets", "street"),
    "communities": ("社区", "communities", "community"),
    "grids": ("网格", "grids", "grid"),
    "buildings": ("楼栋", "楼宇", "buildings", "building"),
    "departments": ("部门", "职能部门", "departments", "department"),
    "staff": ("工作人员", "人员", "staff"),
    "groups": ("居民群", "群", "groups", "group", "resident_groups"),
}

ROLE_ALIASES = {
    "值班": Role.DUTY, "值班人员": Role.DUTY, "duty": Role.DUTY,
    "网格员": Role.GRID_WORKER, "专职网格员": Role.GRID_WORKER, "兼职网格员": Role.GRID_WORKER,
    "grid_worker": Role.GRID_WORKER,
    "网格长": Role.GRID_LEADER, "grid_leader": Role.GRID_LEADER,
    "社区管理员": Role.COMMUNITY_ADMIN, "community_admin": Role.COMMUNITY_ADMIN,
    "街道管理员": Role.STREET_ADMIN, "street_admin": Role.STREET_ADMIN,
    "部门": Role.DEPARTMENT, "部门人员": Role.DEPARTMENT, "department": Role.DEPARTMENT,
}
ROLE_CHOICES_TEXT = "值班、网格员、网格长、社区管理员、街道管理员、部门"

CHANNEL_ALIASES = {
    "group": Channel.GROUP, "群接入": Channel.GROUP, "微信群": Channel.GROUP,
    "wework": Channel.WEWORK, "企业微信": Channel.WEWORK,
    "mp": Channel.MP, "公众号": Channel.MP,
    "miniprogram": Channel.MINIPROGRAM, "小程序": Channel.MINIPROGRAM,
}
GROUP_KIND_ALIASES = {
    "居民群": GroupKind.RESIDENT, "resident": GroupKind.RESIDENT,
    "值班群": GroupKind.DUTY, "duty": GroupKind.DUTY,
}
_TRUE = {"是", "在岗", "启用", "有效", "1", "true", "yes", "y", "on"}
_FALSE = {"否", "离岗", "停用", "无效", "0", "false", "no", "n", "off"}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_OFFICE_PHONE = re.compile(r"^[0-9][0-9-]{5,19}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ROLE_SPLIT = re.compile(r"[、,，/;；\s]+")
_HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]")
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in office spreadsheets


@dataclass(frozen=True)
class Column:
    key: str
    labels: tuple[str, ...]  # the first label is the Chinese header used in docs and samples
    required: bool = False


def _c(key: str, *labels: str, required: bool = False) -> Column:
    return Column(key, labels, required)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "streets": (
        _c("name", "名称", "街道", "街道名称", "name", "street", required=True),
        _c("district", "区", "所属区", "区县", "district"),
    ),
    "communities": (
        _c("street", "街道", "street", required=True),
        _c("name", "名称", "社区", "社区名称", "name", "community", required=True),
        _c("code", "编码", "社区编码", "code"),
        _c("address", "地址", "address"),
        _c("phone", "电话", "办公电话", "联系电话", "phone"),
    ),
    "grids": (
        _c("community", "社区", "community", required=True),
        _c("name", "名称", "网格", "网格名称", "name", "grid", required=True),
        _c("street", "街道", "street"),
    ),
    "buildings": (
        _c("community", "社区", "community", required=True),
        _c("number", "楼号", "楼栋", "楼栋号", "number", "building", required=True),
        _c("grid", "网格", "grid"),
        _c("name", "名称", "楼栋名称", "name"),
        _c("compound", "小区", "compound"),
        _c("units", "单元数", "units"),
        _c("floors", "层数", "floors"),
        _c("street", "街道", "street"),
    ),
    "departments": (
        _c("name", "名称", "部门", "部门名称", "name", "department", required=True),
        _c("street", "街道", "street"),
        _c("phone", "电话", "联系电话", "phone"),
    ),
    "staff": (
        _c("name", "姓名", "name", required=True),
        _c("roles", "角色", "roles", "role", required=True),
        _c("phone", "手机", "手机号", "手机号码", "phone", "mobile"),
        _c("community", "社区", "community"),
        _c("grid", "网格", "grid"),
        _c("department", "部门", "department"),
        _c("street", "街道", "street"),
        _c("title", "职务", "title"),
        _c("wework_userid", "企业微信账号", "企业微信", "企业微信ID", "wework_userid", "wework"),
        _c("active", "在岗", "active"),
    ),
    "groups": (
        _c("community", "社区", "community", required=True),
        _c("name", "群名称", "名称", "name", required=True),
        _c("chat_id", "群ID", "chat_id", required=True),
        _c("channel", "渠道", "channel"),
        _c("kind", "类型", "kind"),
        _c("grid", "网格", "grid"),
        _c("webhook_url", "推送地址", "webhook_url", "webhook"),
        _c("active", "启用", "active"),
        _c("street", "街道", "street"),
    ),
}


# ---- errors and results ---------------------------------------------------------------------------

class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is written). One line for the operator."""


class RowError(Exception):
    """A row that cannot be imported; the message is the reason in Chinese."""


@dataclass
class RowProblem:
    sheet: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"[{self.sheet}] 第{self.row}行：{self.reason}"


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors}


@dataclass
class ImportResult:
    file: str
    dry_run: bool
    counts: dict[str, KindCounts] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


# ---- reading files --------------------------------------------------------------------------------

@dataclass
class Sheet:
    kind: str
    title: str
    columns: dict[str, int]  # canonical key -> column index
    rows: list[tuple[int, dict[str, Any]]]  # (row number as the spreadsheet shows it, values by key)


def _norm_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", text).lower()


def _norm_header(value: Any) -> str:
    if value is None:
        return ""
    text = _HEADER_NOTE.sub("", unicodedata.normalize("NFKC", str(value)))  # 手机(选填) → 手机
    return re.sub(r"[\s*＊:：]+", "", text).lower()


_KIND_BY_ALIAS = {_norm_name(alias): kind for kind, aliases in KIND_ALIASES.items() for alias in aliases}


def resolve_kind(name: str) -> str | None:
    """The kind a sheet name or --kind value means (Chinese or English), or None."""
    return _KIND_BY_ALIAS.get(_norm_name(name))


def kind_from_stem(stem: str) -> str | None:
    """Infer a CSV's kind from its file name: 楼栋.csv, buildings.csv, 富强新村-楼栋.csv."""
    exact = resolve_kind(stem)
    if exact:
        return exact
    normal = _norm_name(stem)
    found = {kind for alias, kind in _KIND_BY_ALIAS.items() if alias in normal}
    return found.pop() if len(found) == 1 else None


def _cell(value: Any) -> Any:
    """A cell as the row functions expect it: None for blank, stripped text, numbers as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 13812345678 and 3 as floats
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _find_header(kind: str, rows: list[tuple[Any, ...]], title: str) -> tuple[int, dict[str, int], list[str]]:
    """The header row index (0-based), column map and unknown header names."""
    by_label = {_norm_header(label): col.key for col in COLUMNS[kind] for label in col.labels}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [_norm_header(v) for v in row]
        if not any(h in by_label for h in headers):
            continue
        columns: dict[str, int] = {}
        unknown: list[str] = []
        for position, header in enumerate(headers):
            if not header:
                continue
            key = by_label.get(header)
            if key is None:
                unknown.append(str(row[position]).strip())
            elif key in columns:
                raise ImportFileError(f"[{title}] 第{index + 1}行的列“{str(row[position]).strip()}”重复 / "
                                      f"duplicate column")
            else:
                columns[key] = position
        missing = [c.labels[0] for c in COLUMNS[kind] if c.required and c.key not in columns]
        if missing:
            raise ImportFileError(f"[{title}] 缺少必填列：{'、'.join(missing)} / missing required column(s); "
                                  f"nothing was imported")
        return index, columns, unknown
    required = "、".join(c.labels[0] for c in COLUMNS[kind] if c.required)
    raise ImportFileError(f"[{title}] 找不到表头（前{HEADER_SEARCH_ROWS}行里没有 {required} 等列名）/ "
                          f"no header row found; nothing was imported")


def _make_sheet(kind: str, title: str, raw_rows: list[tuple[Any, ...]], warnings: list[str]) -> Sheet:
    header_index, columns, unknown = _find_header(kind, raw_rows, title)
    if unknown:
        warnings.append(f"[{title}] 忽略未知列 / ignored unknown column(s)：{'、'.join(unknown)}")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index in range(header_index + 1, len(raw_rows)):
        raw = raw_rows[index]
        values = {key: _cell(raw[pos]) if pos < len(raw) else None for key, pos in columns.items()}
        if all(v is None for v in values.values()):
            continue  # blank lines between blocks are common
        rows.append((index + 1, values))
    return Sheet(kind, title, columns, rows)


def _read_xlsx(path: Path, only_kind: str | None, warnings: list[str]) -> list[Sheet]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever breaks inside a corrupted zip/XML, the file is unreadable
        raise ImportFileError(f"无法读取 Excel 文件 {path.name}（文件损坏或不是 .xlsx）/ cannot read the "
                              f"workbook: {type(exc).__name__}") from None
    try:
        sheets: list[Sheet] = []
        seen: dict[str, str] = {}
        for worksheet in workbook.worksheets:
            kind = resolve_kind(worksheet.title)
            if kind is None:
                warnings.append(f"忽略工作表 / ignored sheet “{worksheet.title}”（不是 "
                                f"{'/'.join(KIND_LABELS.values())}）")
                continue
            if only_kind and kind != only_kind:
                continue
            if kind in seen:
                raise ImportFileError(f"工作表“{seen[kind]}”和“{worksheet.title}”都是{KIND_LABELS[kind]} / "
                                      f"two sheets of the same kind")
            seen[kind] = worksheet.title
            # Some writers record a wrong used range; read every row that is really there.
            worksheet.reset_dimensions()
            raw_rows = [tuple(row) for row in worksheet.iter_rows(values_only=True)]
            sheets.append(_make_sheet(kind, worksheet.title, raw_rows, warnings))
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a sheet's XML may be broken in many ways
        raise ImportFileError(f"无法读取 Excel 文件 {path.name}（文件损坏）/ corrupted workbook: "
                              f"{type(exc).__name__}") from None
    finally:
        workbook.close()
    if not sheets:
        wanted = KIND_LABELS[only_kind] if only_kind else "/".join(KIND_LABELS.values())
        raise ImportFileError(f"{path.name} 里没有可导入的工作表（工作表名应为 {wanted}）/ no sheet to import")
    return sheets


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(f"{name} 其实是 Excel 文件，请把扩展名改为 .xlsx / this is an xlsx file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel in China saves "CSV" in the ANSI code page, GBK; GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(f"无法识别 {name} 的编码，请另存为 UTF-8 或 GBK 编码的 CSV / "
                              f"unknown text encoding") from None


def _read_csv(path: Path, kind: str | None, warnings: list[str]) -> list[Sheet]:
    kind = kind or kind_from_stem(path.stem)
    if kind is None:
        raise ImportFileError(f"无法从文件名“{path.name}”判断数据类型，请用 --kind 指定 "
                              f"({'/'.join(KINDS)}) / cannot tell the kind from the file name")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"无法读取文件 {path}：{exc.strerror} / cannot read the file") from None
    text = _decode(data, path.name)
    if "\x00" in text:
        raise ImportFileError(f"{path.name} 不是文本 CSV 文件 / not a text CSV file")
    try:
        raw_rows = [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise ImportFileError(f"{path.name} 不是有效的 CSV：{exc} / invalid CSV") from None
    if not any(any(cell.strip() for cell in row) for row in raw_rows):
        raise ImportFileError(f"{path.name} 是空文件 / the file is empty")
    return [_make_sheet(kind, path.name, raw_rows, warnings)]


def read_file(path: Path, kind: str | None = None, warnings: list[str] | None = None) -> list[Sheet]:
    """Read and check the structure of an import file; rows are not validated here."""
    warnings = [] if warnings is None else warnings
    path = Path(path)
    if kind is not None and kind not in KINDS:
        resolved = resolve_kind(kind)
        if resolved is None:
            raise ImportFileError(f"未知的数据类型“{kind}”（可用 {'/'.join(KINDS)}）/ unknown kind")
        kind = resolved
    if not path.exists():
        raise ImportFileError(f"找不到文件 {path} / file not found")
    if path.is_dir():
        raise ImportFileError(f"{path} 是文件夹，不是文件 / is a folder")
    suffix = path.suffix.lower()
    if suffix == ".xlsx" or suffix == ".xlsm":
        return _read_xlsx(path, kind, warnings)
    if suffix == ".csv":
        return _read_csv(path, kind, warnings)
    if suffix == ".xls":
        raise ImportFileError("不支持旧版 .xls，请在 Excel/WPS 里另存为 .xlsx / .xls is not supported: "
                              "save as .xlsx")
    raise ImportFileError(f"不支持的文件类型“{suffix or path.name}”（支持 .xlsx 和 .csv）/ unsupported file type")


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
        if not _MOBILE.match(digits):
            self.problems.append(f"{label}格式不正确“{value}”（应为11位手机号）")
            return None
        return digits

    def office_phone(self, key: str, label: str = "电话") -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        phone = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
        if not _OFFICE_PHONE.match(phone):
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
        text = _norm_name(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.problems.append(f"{label}应为“是”或“否”，不是“{value}”")
        return None

    def choice(self, key: str, label: str, aliases: dict[str, Any], shown: str) -> Any:
        value = self.values.get(key)
        if value is None:
            return None
        found = aliases.get(_norm_name(value))
        if found is None:
            self.problems.append(f"未知{label}“{value}”（可用：{shown}）")
        return found

    def roles(self, key: str = "roles") -> set[Role]:
        value = self.values.get(key)
        if value is None:
            self.problems.append("角色不能为空")
            return set()
        roles: set[Role] = set()
        for part in _ROLE_SPLIT.split(str(value)):
            if not part:
                continue
            role = ROLE_ALIASES.get(_norm_name(part))
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


def _assign(row: Any, changes: dict[str, Any]) -> bool:
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


# ---- row functions (one per kind) ------------------------------------------------------------------

def upsert_street(values: dict[str, Any]) -> tuple[str, Street]:
    fields = Fields(values)
    name = fields.text("name", "街道名称", required=True)
    district = fields.text("district", "区")
    fields.check()
    street = db.session.scalars(select(Street).where(Street.name == name)).first()
    if street is None:
        street = Street(name=name, district=district)
        db.session.add(street)
        db.session.flush()
        return CREATED, street
    return (UPDATED if _assign(street, {"district": district}) else UNCHANGED), street


def upsert_community(values: dict[str, Any]) -> tuple[str, Community]:
    fields = Fields(values)
    street = find_street(fields, required=True)
    name = fields.text("name", "社区名称", required=True)
    code = fields.text("code", "社区编码", max_length=50)
    address = fields.text("address", "地址", max_length=200)
    phone = fields.office_phone("phone", "电话")
    fields.check()
    community = db.session.scalars(select(Community).where(
        Community.street_id == street.id, Community.name == name)).first()
    if code is not None:
        holder = db.session.scalars(select(Community).where(Community.code == code)).first()
        if holder is not None and holder is not community:
            raise RowError(f"社区编码“{code}”已被“{holder.name}”使用")
    changes = {"code": code, "address": address, "phone": phone}
    if community is None:
        community = Community(street_id=street.id, name=name, **changes)
        db.session.add(community)
        db.session.flush()
        return CREATED, community
    return (UPDATED if _assign(community, changes) else UNCHANGED), community


def upsert_grid(values: dict[str, Any]) -> tuple[str, Grid]:
    fields = Fields(values)
    community = find_community(fields)
    name = fields.text("name", "网格名称", required=True)
    fields.check()
    grid = db.session.scalars(select(Grid).where(Grid.community_id == community.id, Grid.name == name)).first()
    if grid is None:
        grid = Grid(community_id=community.id, name=name)
        db.session.add(grid)
        db.session.flush()
        return CREATED, grid
    return UNCHANGED, grid


def upsert_building(values: dict[str, Any]) -> tuple[str, Building]:
    fields = Fields(values)
    community = find_community(fields)
    raw_number = values.get("number")
    number = normalise_building_number(raw_number)
    if raw_number is None:
        fields.fail("楼号不能为空")
    elif number is None:
        fields.fail(f"楼号“{raw_number}”无法识别（例如 3、3栋、三号楼、A座）")
    grid = find_grid(fields, community)
    name = fields.text("name", "楼栋名称")
    compound = fields.text("compound", "小区")
    units = fields.count("units", "单元数")
    floors = fields.count("floors", "层数")
    fields.check()
    building = db.session.scalars(select(Building).where(
        Building.community_id == community.id, Building.number == number)).first()
    changes = {"grid_id": grid.id if grid else None, "name": name, "compound": compound,
               "units": units, "floors": floors}
    if building is None:
        changes["name"] = name or f"{number}号楼"
        building = Building(community_id=community.id, number=number, **changes)
        db.session.add(building)
        db.session.flush()
        return CREATED, building
    return (UPDATED if _assign(building, changes) else UNCHANGED), building


def upsert_department(values: dict[str, Any]) -> tuple[str, Department]:
    fields = Fields(values)
    name = fields.text("name", "部门名称", required=True)
    street = find_street(fields)
    phone = fields.office_phone("phone", "电话")
    fields.check()
    statement = select(Department).where(Department.name == name)
    statement = statement.where(Department.street_id == street.id if street else Department.street_id.is_(None))
    department = db.session.scalars(statement).first()
    if department is None:
        department = Department(name=name, street_id=street.id if street else None, phone=phone)
        db.session.add(department)
        db.session.flush()
        return CREATED, department
    return (UPDATED if _assign(department, {"phone": phone}) else UNCHANGED), department


_NEEDS_COMMUNITY = (Role.DUTY, Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_ADMIN)


def _match_staff(name: str, phone: str | None, wework_userid: str | None, community: Community | None,
                 street: Street | None, department: Department | None) -> Staff | None:
    """The existing staff member a row means: by phone, else WeCom account, else name in the same place.

    A row's phone is the strongest key: a record found another way but holding a
    different phone number is somebody else.
    """
    if phone:
        found = db.session.scalars(select(Staff).where(Staff.phone == phone)).first()
        if found is not None:
            return found
    if wework_userid:
        found = db.session.scalars(select(Staff).where(Staff.wework_userid == wework_userid)).first()
        if found is not None and not (phone and found.phone):
            return found
    statement = select(Staff).where(Staff.name == name)
    if community is not None:
        statement = statement.where(Staff.community_id == community.id)
    elif department is not None:
        statement = statement.where(Staff.department_id == department.id)
    elif street is not None:
        statement = statement.where(Staff.street_id == street.id, Staff.community_id.is_(None))
    else:
        return None
    if phone:
        statement = statement.where(Staff.phone.is_(None))
    found = db.session.scalars(statement).all()
    if len(found) > 1:
        raise RowError(f"有多位名叫“{name}”的工作人员，请填写手机号以区分")
    return found[0] if found else None


def upsert_staff(values: dict[str, Any]) -> tuple[str, Staff]:
    fields = Fields(values)
    name = fields.text("name", "姓名", required=True)
    roles = fields.roles()
    phone = fields.mobile("phone")
    street = find_street(fields)
    community = find_community(fields, required=False)
    grid = find_grid(fields, community)
    department = find_department(fields, street)
    title = fields.text("title", "职务", max_length=50)
    wework_userid = fields.text("wework_userid", "企业微信账号", max_length=64)
    active = fields.flag("active", "在岗")
    fields.check()

    staff = _match_staff(name, phone, wework_userid, community, street, department)
    # A blank cell keeps the existing value, so role requirements look at both.
    has_community = community is not None or (staff is not None and staff.community_id is not None)
    same_community = staff is not None and (community is None or community.id == staff.community_id)
    has_grid = grid is not None or (same_community and staff.grid_id is not None)
    has_department = department is not None or (staff is not None and staff.department_id is not None)
    for role in sorted(roles, key=lambda r: r.value):
        label = ROLE_LABELS[role]
        if role in _NEEDS_COMMUNITY and not has_community:
            fields.fail(f"角色“{label}”需要填写社区")
        elif role in (Role.GRID_WORKER, Role.GRID_LEADER) and not has_grid:
            fields.fail(f"角色“{label}”需要填写网格")
        elif role == Role.DEPARTMENT and not has_department:
            fields.fail(f"角色“{label}”需要填写部门")
        elif role == Role.STREET_ADMIN and street is None and not has_community and (
                staff is None or staff.street_id is None):
            fields.fail(f"角色“{label}”需要填写街道或社区")
    if staff is None and not (community or street or department) and not fields.problems:
        fields.fail("请至少填写社区、街道或部门之一")
    fields.check()
    if wework_userid:
        holder = db.session.scalars(select(Staff).where(Staff.wework_userid == wework_userid)).first()
        if holder is not None and holder is not staff:
            raise RowError(f"企业微信账号“{wework_userid}”已被“{holder.name}”使用")

    street_id = street.id if street else None
    if street_id is None and Role.STREET_ADMIN in roles and community is not None:
        street_id = community.street_id
    if street_id is None and department is not None:
        street_id = department.street_id
    changes = {"name": name, "phone": phone, "community_id": community.id if community else None,
               "street_id": street_id, "grid_id": grid.id if grid else None,
               "department_id": department.id if department else None, "title": title,
               "wework_userid": wework_userid, "active": active}
    if community is not None and grid is None and staff is not None and staff.community_id != community.id:
        staff.grid_id = None  # moved to another community: the old grid is not theirs any more
    wanted_roles = {r.value for r in roles}
    if staff is None:
        staff = Staff(**{k: v for k, v in changes.items() if v is not None})
        staff.set_roles(wanted_roles)
        db.session.add(staff)
        db.session.flush()
        return CREATED, staff
    changed = _assign(staff, changes)
    if staff.roles != wanted_roles:
        staff.set_roles(wanted_roles)
        changed = True
    return (UPDATED if changed else UNCHANGED), staff


def upsert_group(values: dict[str, Any]) -> tuple[str, ResidentGroup]:
    fields = Fields(values)
    community = find_community(fields)
    name = fields.text("name", "群名称", required=True)
    chat_id = fields.text("chat_id", "群ID", required=True, max_length=128)
    channel = fields.choice("channel", "渠道", CHANNEL_ALIASES, "企业微信/wework、群接入/group、公众号/mp、小程序/miniprogram")
    kind = fields.choice("kind", "类型", GROUP_KIND_ALIASES, "居民群、值班群")
    grid = find_grid(fields, community)
    webhook_url = fields.text("webhook_url", "推送地址", max_length=500)
    if webhook_url is not None and not _URL.match(webhook_url):
        fields.fail("推送地址应以 https:// 开头")
    active = fields.flag("active", "启用")
    fields.check()
    channel_value = (channel or Channel.GROUP).value
    group = db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.channel == channel_value, ResidentGroup.chat_id == chat_id)).first()
    changes = {"community_id": community.id, "grid_id": grid.id if grid else None, "name": name,
               "kind": kind.value if kind else None, "webhook_url": webhook_url, "active": active}
    if group is None:
        changes["kind"] = changes["kind"] or GroupKind.RESIDENT.value
        group = ResidentGroup(channel=channel_value, chat_id=chat_id,
                              **{k: v for k, v in changes.items() if v is not None})
        db.session.add(group)
        db.session.flush()
        return CREATED, group
    return (UPDATED if _assign(group, changes) else UNCHANGED), group


UPSERTS: dict[str, Callable[[dict[str, Any]], tuple[str, Any]]] = {
    "streets": upsert_street, "communities": upsert_community, "grids": upsert_grid,
    "buildings": upsert_building, "departments": upsert_department, "staff": upsert_staff,
    "groups": upsert_group,
}


# ---- the import -------------------------------------------------------------------------------------

def begin_write_transaction() -> None:
    """Start the outer transaction for real before the first savepoint.

    Python's sqlite3 driver opens a transaction only before the first INSERT/
    UPDATE/DELETE. If a SAVEPOINT comes first, SQLite treats it as the outer
    transaction and RELEASE commits it, so a later rollback (a failed file, a
    dry run) would undo nothing. BEGIN IMMEDIATE also takes the write lock up
    front, so the import never fails half-way on a lock upgrade.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _integrity_reason(exc: IntegrityError) -> str:
    message = str(exc.orig).lower()
    if "phone" in message:
        return "手机号与已有记录重复"
    if "wework_userid" in message:
        return "企业微信账号与已有记录重复"
    if "code" in message:
        return "编码与已有记录重复"
    return "与已有数据冲突（唯一值重复）"


def import_sheets(sheets: Iterable[Sheet], result: ImportResult) -> None:
    """Upsert every row, each in a savepoint; the caller commits or rolls back."""
    ordered = sorted(sheets, key=lambda s: KINDS.index(s.kind))
    begin_write_transaction()
    for sheet in ordered:
        counts = result.counts.setdefault(sheet.kind, KindCounts())
        upsert = UPSERTS[sheet.kind]
        for row_number, values in sheet.rows:
            try:
                with db.session.begin_nested():
                    outcome, _row = upsert(values)
                    db.session.flush()
            except RowError as exc:
                counts.errors += 1
                result.problems.append(RowProblem(sheet.title, row_number, str(exc)))
            except IntegrityError as exc:
                counts.errors += 1
                result.problems.append(RowProblem(sheet.title, row_number, _integrity_reason(exc)))
            else:
                setattr(counts, outcome, getattr(counts, outcome) + 1)


@dataclass
class LoadedFile:
    """A file read and checked for structure, ready to import."""

    name: str
    sheets: list[Sheet]
    warnings: list[str]


def load_file(path: str | Path, *, kind: str | None = None) -> LoadedFile:
    """Read an import file (no database needed). Raises ImportFileError when it is unusable."""
    path = Path(path)
    warnings: list[str] = []
    return LoadedFile(path.name, read_file(path, kind, warnings), warnings)


def import_loaded(loaded: LoadedFile, *, dry_run: bool = False) -> ImportResult:
    """Upsert a loaded file: good rows saved in one transaction (unless ``dry_run``), bad rows reported."""
    from app.handlers.audit import record

    result = ImportResult(file=loaded.name, dry_run=dry_run, warnings=list(loaded.warnings))
    try:
        import_sheets(loaded.sheets, result)
        if dry_run:
            db.session.rollback()
            return result
        record("operator", None, "data.imported", detail={
            "file": loaded.name, "counts": {k: c.as_dict() for k, c in result.counts.items()},
            "errors": len(result.problems)})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def import_file(path: str | Path, *, kind: str | None = None, dry_run: bool = False) -> ImportResult:
    """Import a file. Raises ImportFileError (nothing written) when the file as a whole is unusable."""
    return import_loaded(load_file(path, kind=kind), dry_run=dry_run)


def rows_from_records(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Records with canonical keys as row values (numbers become text, as from a file)."""
    for record_ in records:
        yield {key: _cell(value) for key, value in record_.items()}
