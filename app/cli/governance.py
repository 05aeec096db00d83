"""`linli governance report|export|hotspots` and `linli map stations|locate|import-locations`."""
from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.clock import now
from app.errors import DomainError
from app.extensions import db
from app.handlers.governance import export, hotspots, report, stations
from app.localtime import FIRST_YEAR, LAST_YEAR, local_date
from app.models import Building, Community
from app.workcal import load_calendar


def _community(name: str) -> Community:
    rows = db.session.scalars(select(Community).where(Community.name == name.strip())).all()
    if not rows:
        raise click.ClickException(f"no community named {name!r} (see `linli staff list` or the demo data)")
    if len(rows) > 1:
        raise click.ClickException(f"{len(rows)} communities are named {name!r}; rename one to tell them apart")
    return rows[0]


def _building(community: Community, number: str) -> Building:
    key = number.strip().removesuffix("栋").removesuffix("号楼").removesuffix("幢")
    building = db.session.scalars(select(Building).where(Building.community_id == community.id,
                                                         Building.number == key)).first()
    if building is None:
        raise click.ClickException(f"{community.name} has no building {number!r}")
    return building


@click.group("governance")
def governance_group() -> None:
    """Co-governance: the three lists, projects, 议事 (see docs/governance.md)."""


@governance_group.command("report")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--year", type=click.IntRange(FIRST_YEAR, LAST_YEAR), default=None, help="Year (default: this year).")
@with_appcontext
def governance_report(community_name: str, year: int | None) -> None:
    """The year's figures: units, members, needs, projects, hours, topics, suggestions."""
    community = _community(community_name)
    data = report.community_report(community, year or local_date(now()).year)
    s = data["summary"]
    click.echo(f"{community.name} {data['year']}: {s['units']} units, {s['members']} party members, "
               f"{s['resources']} resources, {s['needs']} needs ({s['needs_claimed']} claimed), "
               f"{s['projects_started']} projects ({s['projects_done']} done), {s['hours']:g} hours, "
               f"{s['topics']} topics ({s['topics_closed']} closed), {s['votes']} votes, "
               f"{s['suggestions']} suggestions ({s['suggestions_answered']} answered)")
    for unit in data["units"]:
        click.echo(f"  {unit['name']}: {unit['needs_claimed']} claimed, {unit['projects']} projects, "
                   f"{unit['hours']:g} h {unit['other']}".rstrip())


@governance_group.command("export")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--year", type=click.IntRange(FIRST_YEAR, LAST_YEAR), default=None, help="Year (default: this year).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@with_appcontext
def governance_export(community_name: str, year: int | None, output: Path) -> None:
    """Write the workbook a street office reports upward (汇总表, 共建单位, 在职党员, 项目清单 …)."""
    community = _community(community_name)
    if output.suffix.lower() != ".xlsx":
        raise click.ClickException(f"{output} should end in .xlsx")
    if not output.parent.exists():
        raise click.ClickException(f"folder {output.parent} does not exist")
    try:
        export.export_xlsx(community, year or local_date(now()).year, out=str(output))
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}")


@governance_group.command("hotspots")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--days", type=click.IntRange(1, 365), default=hotspots.DEFAULT_DAYS, show_default=True)
@click.option("--min-count", type=click.IntRange(2, 100), default=hotspots.DEFAULT_MIN_COUNT, show_default=True)
@with_appcontext
def governance_hotspots(community_name: str, days: int, min_count: int) -> None:
    """Problems that came back in one building: candidates for the need list or a topic."""
    found = hotspots.hotspots(_community(community_name).id, days=days, min_count=min_count)
    if not found:
        click.echo(f"no problem came back {min_count}+ times in one building in {days} days")
    for spot in found:
        view = spot.view()
        click.echo(f"{view['suggested_title']}: requests {', '.join(r['code'] for r in view['requests'])}")


@click.group("map")
def map_group() -> None:
    """The service map (红色地图): stations and building locations."""


@map_group.command("stations")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--service", default=None, help="Only stations offering this service key (e.g. blood_pressure).")
@with_appcontext
def map_stations(community_name: str, service: str | None) -> None:
    """The stations with their hours and whether they are open now."""
    community, moment, calendar = _community(community_name), now(), load_calendar()
    for station in stations.stations(community.id, service=service):
        closes = stations.open_until(station, moment, calendar)
        state = f"open until {closes}" if closes else "closed now"
        click.echo(f"{station.id}\t{station.name}\t{state}\t{stations.hours_text(station)}\t"
                   f"{','.join(station.services or [])}")


@map_group.command("locate")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--building", required=True, help="Building number (3, 3栋).")
@click.option("--lat", type=float, required=True)
@click.option("--lng", type=float, required=True)
@with_appcontext
def map_locate(community_name: str, building: str, lat: float, lng: float) -> None:
    """Set where one building stands (decimal degrees, as a phone map shows them)."""
    row = _building(_community(community_name), building)
    try:
        stations.set_building_location(row, {"lat": lat, "lng": lng}, None)
    except DomainError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    click.echo(f"{row.name}: {lat}, {lng}")


@map_group.command("import-locations")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def map_import_locations(community_name: str, file: Path) -> None:
    """Building locations from a UTF-8 CSV with the columns 楼栋,纬度,经度 (or building,lat,lng)."""
    community = _community(community_name)
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = set(reader.fieldnames or ())
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    missing = [zh for zh, en in (("楼栋", "building"), ("纬度", "lat"), ("经度", "lng")) if not {zh, en} & columns]
    if missing:
        raise click.ClickException(f"{file}: no column {', '.join(missing)} (the columns are 楼栋,纬度,经度 or "
                                   f"building,lat,lng); nothing saved")
    done = 0
    for line, row in enumerate(rows, start=2):
        number, lat, lng = (row.get("楼栋") or row.get("building"), row.get("纬度") or row.get("lat"),
                            row.get("经度") or row.get("lng"))
        try:
            stations.set_building_location(_building(community, number or ""), {"lat": float(lat), "lng": float(lng)},
                                           None)
        except (TypeError, ValueError, click.ClickException, DomainError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise click.ClickException(f"{file} line {line}: {message} ({done} buildings saved before it)") from None
        done += 1
    click.echo(f"{done} building locations saved for {community.name}")


COMMANDS = [governance_group, map_group]
