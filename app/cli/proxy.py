"""`linli catalogue ...` and `linli station ...`: the proxy-handling catalogue and stations for operators."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.types import ID
from app.extensions import db
from app.handlers.proxy.bookings import close_day
from app.handlers.proxy.catalogue import items_for, load_catalogue
from app.handlers.proxy.catalogue_import import export_rows, import_file
from app.handlers.proxy.errors import CatalogueError, SlotError
from app.handlers.proxy.stations import (
    create_station,
    hours_summary,
    parse_hours_spec,
    remove_closure,
    set_hours,
    upcoming_closures,
)
from app.models import Community
from app.models.proxy import Station


def _community(name: str):

    rows = db.session.scalars(select(Community).where(Community.name == name)).all()
    if not rows:
        raise click.ClickException(f"没有名为“{name}”的社区 / no community named {name!r}; import it first")
    if len(rows) > 1:
        raise click.ClickException(f"有多个名为“{name}”的社区 / several communities are named {name!r}")
    return rows[0]


def _station(station_id: int):

    station = db.session.get(Station, station_id)
    if station is None:
        raise click.ClickException(f"没有编号为 {station_id} 的代办站 / no station with id {station_id}")
    return station


@click.group("catalogue")
def catalogue_group() -> None:
    """代办事项目录 / the proxy-handling catalogue of a community."""


@catalogue_group.command("load")
@click.option("--community", "community_name", required=True, help="社区名称 / community name.")
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="目录 YAML 文件（默认 LINLI_PROXY_CATALOGUE_FILE 或内置目录）/ catalogue YAML file.")
@click.option("--update", is_flag=True, help="覆盖已有事项 / overwrite existing items with the file's values.")
@with_appcontext
def catalogue_load(community_name: str, path: str | None, update: bool) -> None:
    """Load the default (or given) catalogue file into a community; safe to run again."""

    community = _community(community_name)
    try:
        result = load_catalogue(community, path=path, update=update)
    except CatalogueError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{community.name}: 新增 {len(result.created)} 项, 更新 {len(result.updated)} 项, "
               f"未变 {len(result.unchanged)} 项 / created {len(result.created)}, updated {len(result.updated)}, "
               f"unchanged {len(result.unchanged)}")


@catalogue_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--community", "community_name", required=True, help="社区名称 / community name.")
@with_appcontext
def catalogue_import(path: str, community_name: str) -> None:
    """Import catalogue rows from .xlsx or .csv (columns 标识, 名称, 别名, 材料清单, 承办部门, 办理时限, ...).

    Each row is an upsert by 标识 (key); bad rows are reported and skipped, good rows are kept.
    """

    community = _community(community_name)
    try:
        report = import_file(community, path)
    except CatalogueError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{community.name}: 新增 {report.created} 项, 更新 {report.updated} 项, 未变 {report.unchanged} 项 / "
               f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}")
    for problem in report.errors:
        click.echo(problem, err=True)
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} 行有错误未导入 / {len(report.errors)} row(s) not imported")


@catalogue_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--community", "community_name", required=True, help="社区名称 / community name.")
@with_appcontext
def catalogue_export(path: str, community_name: str) -> None:
    """Write the community's catalogue to .csv or .xlsx, in the import format (edit and import back)."""

    community = _community(community_name)
    rows = export_rows(community.id)
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        import openpyxl
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "代办事项"
        for row in rows:
            sheet.append(row)
        workbook.save(target)
    elif target.suffix.lower() == ".csv":
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)
    else:
        raise click.ClickException("只支持 .csv 或 .xlsx / only .csv or .xlsx")
    click.echo(f"{len(rows) - 1} 项已写入 {target} / {len(rows) - 1} items written")


@catalogue_group.command("list")
@click.option("--community", "community_name", required=True, help="社区名称 / community name.")
@with_appcontext
def catalogue_list(community_name: str) -> None:
    """List the community's items: key, name, time limit, aliases."""

    community = _community(community_name)
    for item in items_for(community.id, active_only=False):
        state = "" if item.active else "\t(停用/inactive)"
        click.echo(f"{item.key}\t{item.name}\t{item.time_limit_workdays}个工作日\t{'、'.join(item.aliases or [])}{state}")


@click.group("station")
def station_group() -> None:
    """代办站 / proxy-handling stations: hours, capacity, closures."""


@station_group.command("add")
@click.option("--community", "community_name", required=True, help="社区名称 / community name.")
@click.option("--name", required=True, help="代办站名称 / station name.")
@click.option("--address", default=None, help="地址 / address shown to residents.")
@click.option("--phone", default=None, help="服务电话 / service phone.")
@click.option("--slot-minutes", type=click.IntRange(5, 240), default=30, show_default=True,
              help="每个时段分钟数 / minutes per slot.")
@click.option("--capacity", type=click.IntRange(1, 100), default=2, show_default=True,
              help="每个时段可预约人数 / residents per slot.")
@click.option("--hours", "hours_specs", multiple=True, required=True,
              help='办公时间，可多次 / weekly plan, repeatable: "mon-fri 08:30-11:30,14:00-17:30", '
                   '"sat 09:00-11:30x1" (x1 = capacity 1), "makeup 08:30-11:30" (调休上班日).')
@with_appcontext
def station_add(community_name, name, address, phone, slot_minutes, capacity, hours_specs) -> None:
    """Create a station with its weekly working plan."""

    community = _community(community_name)
    try:
        rows = [row for spec in hours_specs for row in parse_hours_spec(spec)]
        station = create_station(community.id, {"name": name, "address": address, "phone": phone,
                                                "slot_minutes": slot_minutes, "capacity": capacity, "hours": rows})
        db.session.commit()
    except SlotError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"station {station.id} {station.name}: {hours_summary(station)}")


@station_group.command("hours")
@click.argument("station_id", type=ID)
@click.option("--hours", "hours_specs", multiple=True, required=True,
              help='新的办公时间（替换原有）/ the new weekly plan (replaces the old one), repeatable.')
@with_appcontext
def station_hours(station_id: int, hours_specs) -> None:
    """Replace a station's weekly plan (existing bookings keep their times)."""

    station = _station(station_id)
    try:
        set_hours(station, [row for spec in hours_specs for row in parse_hours_spec(spec)])
        db.session.commit()
    except SlotError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"station {station.id} {station.name}: {hours_summary(station)}")


@station_group.command("close")
@click.argument("station_id", type=ID)
@click.option("--date", "day", required=True, help="日期 YYYY-MM-DD / date.")
@click.option("--reason", default=None, help="原因（会告诉居民）/ reason, shown to residents.")
@click.option("--cancel-bookings", is_flag=True,
              help="取消当天已有预约并通知居民 / cancel that day's bookings and tell the residents.")
@with_appcontext
def station_close(station_id: int, day: str, reason: str | None, cancel_bookings: bool) -> None:
    """Block a date (staff training, renovation...)."""

    station = _station(station_id)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise click.ClickException(f"日期格式应为 YYYY-MM-DD / bad date {day!r}") from None
    try:
        _, cancelled = close_day(station, when, reason, cancel_bookings=cancel_bookings)
    except SlotError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{station.name} {when.isoformat()} 暂停服务 / closed"
               + (f"; 已取消 {len(cancelled)} 个预约 / {len(cancelled)} booking(s) cancelled" if cancelled else ""))


@station_group.command("open")
@click.argument("station_id", type=ID)
@click.option("--date", "day", required=True, help="日期 YYYY-MM-DD / date.")
@with_appcontext
def station_open(station_id: int, day: str) -> None:
    """Remove a closure."""

    station = _station(station_id)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise click.ClickException(f"日期格式应为 YYYY-MM-DD / bad date {day!r}") from None
    if not remove_closure(station, when):
        raise click.ClickException(f"{when.isoformat()} 没有设置暂停服务 / no closure on that date")
    click.echo(f"{station.name} {when.isoformat()} 恢复服务 / reopened")


@station_group.command("list")
@click.option("--community", "community_name", default=None, help="只看该社区 / only this community.")
@with_appcontext
def station_list(community_name: str | None) -> None:
    """List stations: id, name, slot length, capacity, hours, upcoming closures."""

    statement = select(Station).order_by(Station.id)
    if community_name:
        statement = statement.where(Station.community_id == _community(community_name).id)
    for station in db.session.scalars(statement):
        closures = ", ".join(c.day.isoformat() for c in upcoming_closures(station))
        click.echo(f"{station.id}\t{station.name}\t{station.slot_minutes}分钟×{station.capacity}人\t"
                   f"{hours_summary(station)}" + (f"\t暂停: {closures}" if closures else "")
                   + ("" if station.active else "\t(停用/inactive)"))


COMMANDS = [catalogue_group, station_group]
