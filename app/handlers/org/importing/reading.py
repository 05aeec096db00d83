"""Reading .xlsx and .csv files into sheets of rows keyed by canonical column names."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.handlers.org.importing.columns import (
    COLUMNS,
    HEADER_NOTE,
    HEADER_SEARCH_ROWS,
    KIND_ALIASES,
    KIND_LABELS,
    KINDS,
)
from app.handlers.org.importing.results import ImportFileError

# ---- reading files --------------------------------------------------------------------------------

@dataclass
class Sheet:
    kind: str
    title: str
    columns: dict[str, int]  # canonical key -> column index
    rows: list[tuple[int, dict[str, Any]]]  # (row number as the spreadsheet shows it, values by key)


def norm_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", text).lower()


def _norm_header(value: Any) -> str:
    if value is None:
        return ""
    text = HEADER_NOTE.sub("", unicodedata.normalize("NFKC", str(value)))  # 手机(选填) → 手机
    return re.sub(r"[\s*＊:：]+", "", text).lower()


_KIND_BY_ALIAS = {norm_name(alias): kind for kind, aliases in KIND_ALIASES.items() for alias in aliases}


def resolve_kind(name: str) -> str | None:
    """The kind a sheet name or --kind value means (Chinese or English), or None."""
    return _KIND_BY_ALIAS.get(norm_name(name))


def kind_from_stem(stem: str) -> str | None:
    """Infer a CSV's kind from its file name: 楼栋.csv, buildings.csv, 富强新村-楼栋.csv."""
    exact = resolve_kind(stem)
    if exact:
        return exact
    normal = norm_name(stem)
    found = {kind for alias, kind in _KIND_BY_ALIAS.items() if alias in normal}
    return found.pop() if len(found) == 1 else None


def cell_value(value: Any) -> Any:
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
        values = {key: cell_value(raw[pos]) if pos < len(raw) else None for key, pos in columns.items()}
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
