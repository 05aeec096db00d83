"""Write the sample import files docs/samples/community.xlsx and docs/samples/buildings.csv.

They hold the demo community (the same data as `linli seed-demo`) in the import
format of docs/import-format.md, with Chinese column headers as community
offices write them. Run from the project root:

    .venv/bin/python docs/samples/make_samples.py [OUTPUT_FOLDER]

tests/handlers/org/test_importing.py checks that the committed files are what this
script writes and that they import without a single bad row.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from app.handlers import demo  # noqa: E402
from app.handlers.org.importing import COLUMNS  # noqa: E402

_CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1..99 in Chinese (三, 十二, 二十, 三十六), as offices write 三号楼."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def building_label(number: int) -> str:
    """The building number in the forms found in real spreadsheets (all mean the same key)."""
    forms = [f"{number}号楼", f"{number}栋", str(number), f"{chinese_numeral(number)}号楼", f"{number}幢"]
    return forms[number % len(forms)]


def _header(kind: str, key: str) -> str:
    for column in COLUMNS[kind]:
        if column.key == key:
            return column.labels[0]
    raise KeyError(f"{kind}.{key}")


# (sheet name, kind, keys in column order, rows)
def sheets() -> list[tuple[str, str, list[str], list[dict]]]:
    buildings = [dict(row, number=building_label(int(row["number"].rstrip("栋")))) for row in demo.BUILDINGS]
    return [
        ("街道", "streets", ["name", "district"], [demo.STREET]),
        ("社区", "communities", ["street", "name", "code", "address", "phone"], [demo.COMMUNITY]),
        ("网格", "grids", ["community", "name"],
         [{"community": demo.COMMUNITY["name"], "name": grid} for grid in demo.GRIDS]),
        ("楼栋", "buildings", ["community", "number", "grid", "name", "compound", "units", "floors"], buildings),
        ("部门", "departments", ["name", "street", "phone"], demo.DEPARTMENTS),
        ("工作人员", "staff", ["name", "phone", "roles", "community", "grid", "department", "street", "title",
                           "wework_userid", "active"], demo.STAFF),
        ("居民群", "groups", ["community", "name", "channel", "chat_id", "kind", "grid", "webhook_url", "active"],
         demo.GROUPS),
    ]


NOTES = [
    "填写说明 / How to fill in (this sheet is ignored by `linli import`)",
    "每种数据一个工作表，工作表名：街道、社区、网格、楼栋、部门、工作人员、居民群（也可用英文 streets/communities/...）。",
    "第一行是列名；带 * 的列在 docs/import-format.md 中为必填。空单元格不修改已有数据。",
    "楼号可写 3、3栋、3号楼、三号楼、3幢，都表示 3 号楼。",
    "角色可写多个，用顿号、逗号、斜杠或空格分隔：值班、网格员、网格长、社区管理员、街道管理员、部门。",
    "导入命令：linli import community.xlsx（先试运行：加 --dry-run）",
]


def write_xlsx(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    notes = workbook.active
    notes.title = "说明"
    for line in NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    for title, kind, keys, rows in sheets():
        sheet = workbook.create_sheet(title)
        sheet.append([_header(kind, key) for key in keys])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            # Everything as text, as offices type it (and so phones never become 1.39E+10).
            sheet.append([None if row.get(key) is None else str(row[key]) for key in keys])
        for column in "ABCDEFGHIJ":
            sheet.column_dimensions[column].width = 16
    # Fixed document times keep the file identical between runs.
    from datetime import datetime
    workbook.properties.created = workbook.properties.modified = datetime(2026, 1, 1)
    workbook.properties.creator = "linli"
    workbook.save(path)


def buildings_csv() -> str:
    _title, kind, keys, rows = sheets()[3]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_header(kind, key) for key in keys])
    for row in rows[:10]:
        writer.writerow(["" if row.get(key) is None else row[key] for key in keys])
    return out.getvalue()


def write_csv(path: Path) -> None:
    # UTF-8 with a BOM: what Excel's "CSV UTF-8" writes and what it opens without mojibake.
    path.write_bytes(buildings_csv().encode("utf-8-sig"))


def main(argv: list[str]) -> None:
    folder = Path(argv[1]) if len(argv) > 1 else HERE
    folder.mkdir(parents=True, exist_ok=True)
    write_xlsx(folder / "community.xlsx")
    write_csv(folder / "buildings.csv")
    print(f"wrote {folder / 'community.xlsx'} and {folder / 'buildings.csv'}")


if __name__ == "__main__":
    main(sys.argv)
