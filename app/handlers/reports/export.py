"""Each dashboard chart as a table, and the table as an .xlsx workbook (openpyxl).

The chart and its download come from the same table, so what an official prints is what
the screen showed. Rates are written as numbers with a percent format (Excel can sum and
sort them); an unranked small sample says so in its own column.
"""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from app.errors import NotFound

PERCENT = "0.0%"
RATE_HEADERS = ["响应率", "解决率", "满意率", "一小时回复率"]


def _rates(row: dict) -> list[Any]:
    return [row["response_rate"], row["resolution_rate"], row["satisfaction_rate"], row["reply_rate"]]


def _rank_cell(row: dict) -> Any:
    if row.get("rank"):
        return row["rank"]
    return "样本不足，不排名" if row.get("small_sample") else "—"


def _unit_table(rows: list[dict], unit: str) -> tuple[list[str], list[list[Any]]]:
    headers = [unit, "诉求数", *RATE_HEADERS, "网格就地解决占比", "超期未办", "排名"]
    body = [[r["name"], r["total"], *_rates(r), r["grid_share"], r["overdue_open"], _rank_cell(r)] for r in rows]
    return headers, body


def table(chart: str, data: dict) -> tuple[str, list[str], list[list[Any]]]:
    """(title, headers, rows) of one chart of ``stats.dashboard``; NotFound for an unknown chart."""
    span = data["period"]
    when = f"{span.first.isoformat()} 至 {span.last.isoformat()}"
    if chart == "rates":
        o = data["overview"]
        return (f"三率与一小时回复率（{when}）", ["指标", "数值"],
                [[h, v] for h, v in zip(RATE_HEADERS, _rates(o), strict=True)]
                + [["网格就地解决占比", o["grid_share"]], ["诉求总数", o["total"]], ["超期未办", o["overdue_open"]],
                   ["督办次数", o["supervised"]], ["吹哨上报", o["escalated"]]])
    if chart == "communities":
        return (f"各社区（{when}）", *_unit_table(data["per_community"], "社区"))
    if chart == "grids":
        return (f"各网格（{when}）", *_unit_table(data["per_grid"], "网格"))
    if chart == "staff":
        headers = ["工作人员", "职务", "首次回复次数", "一小时内回复", "一小时回复率", "办结诉求", "排名"]
        return (f"工作人员考核（{when}）", headers,
                [[r["name"], r["title"], r["answered"], r["within"], r["reply_rate"], r["resolved"], _rank_cell(r)]
                 for r in data["per_staff"]])
    if chart == "trend":
        trend = data["trend"]
        headers = ["日期" if trend["step_days"] == 1 else "周起始", *[s["label"] for s in trend["series"]]]
        return (f"诉求类别趋势（{when}）", headers,
                [[label, *[s["counts"][i] for s in trend["series"]]] for i, label in enumerate(trend["labels"])])
    if chart == "hotspots":
        return (f"高发问题（会商研判，{when}）", ["楼栋", "类别", "次数", "诉求编号"],
                [[h["building"], h["category"], h["count"], "、".join(r["code"] for r in h["requests"])]
                 for h in data["hotspots"]])
    raise NotFound("没有这张图表")


CHARTS = ("rates", "communities", "grids", "staff", "trend", "hotspots")


def workbook(title: str, headers: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31].replace("/", "-") if len(title) <= 31 else title.split("（")[0][:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    rate_columns = {i for i, h in enumerate(headers) if h.endswith("率") or h.endswith("占比")}
    for row in rows:
        sheet.append(row)
        current = sheet.max_row
        for index in rate_columns:
            cell = sheet.cell(row=current, column=index + 1)
            if isinstance(cell.value, float):
                cell.number_format = PERCENT
    if headers[:1] == ["指标"]:
        for row_cells in sheet.iter_rows(min_row=3):
            label, value = row_cells[0].value, row_cells[1]
            if isinstance(label, str) and (label.endswith("率") or label.endswith("占比")) \
                    and isinstance(value.value, float):
                value.number_format = PERCENT
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column[1:]) if len(column) > 1 else 10
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
