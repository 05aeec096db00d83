"""`linli events list|sweep` and `linli volunteers report|export`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.events.capacity import counts_for
from app.handlers.events.reminders import close_ended_events, remind_due
from app.handlers.events.report import KIND_LABELS, community_report, export_xlsx
from app.handlers.events.series import materialise_all
from app.handlers.events.volunteers import current_year
from app.localtime import FIRST_YEAR, LAST_YEAR, to_local
from app.models import Community
from app.models.events import Event, EventStatus


def _community(name: str):
    rows = db.session.scalars(select(Community).where(Community.name == name.strip())).all()
    if not rows:
        raise click.ClickException(f"no community named {name!r} (see `linli staff list` or the demo data)")
    if len(rows) > 1:
        raise click.ClickException(f"{len(rows)} communities are named {name!r}; rename one to tell them apart")
    return rows[0]


def _year(value: int | None) -> int:
    return value or current_year()


@click.group("events")
def events_group() -> None:
    """Community events and sign-ups."""


@events_group.command("list")
@click.option("--community", "community_name", default=None, help="Only this community (社区名称).")
@click.option("--all", "show_all", is_flag=True, help="Include past events and drafts.")
@with_appcontext
def list_events(community_name: str | None, show_all: bool) -> None:
    """List events: id, local start, title, status, places taken/capacity, waiting list."""
    statement = select(Event).order_by(Event.starts_at, Event.id)
    if community_name:
        statement = statement.where(Event.community_id == _community(community_name).id)
    if not show_all:
        statement = statement.where(Event.ends_at > now(), Event.status != EventStatus.DRAFT.value)
    events = db.session.scalars(statement).all()
    counters, waiting = counts_for([e.id for e in events])
    if not events:
        click.echo("no events" + ("" if show_all else " (use --all for past events and drafts)"))
        return
    for event in events:
        counter = counters[event.id]
        capacity = "∞" if counter.capacity is None else str(counter.capacity)
        click.echo(f"{event.id}\t{to_local(event.starts_at):%Y-%m-%d %H:%M}\t{event.title}\t{event.status}\t"
                   f"{counter.confirmed}/{capacity}\twaiting {waiting.get(event.id, 0)}")


@events_group.command("sweep")
@with_appcontext
def sweep_events() -> None:
    """Run the events sweep once: weekly occurrences ahead, due reminders, absentees."""
    click.echo(f"materialised {materialise_all()}, reminded {remind_due()}, closed {close_ended_events()}")


@click.group("volunteers")
def volunteers_group() -> None:
    """Volunteer hours of the community's registered party members (双报到)."""


@volunteers_group.command("report")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--year", type=click.IntRange(FIRST_YEAR, LAST_YEAR), default=None, help="Year (default: this year).")
@with_appcontext
def volunteers_report(community_name: str, year: int | None) -> None:
    """Print the year's report: totals, then one line per member (hours, projects, target met)."""
    community = _community(community_name)
    report = community_report(community, _year(year))
    click.echo(f"{community.name} {report['year']}: {report['party_members']} party members "
               f"({report['party_members_met_target']} met the {report['target_hours']}-hour target), "
               f"{report['volunteers']} volunteers, {report['hours']:g} hours "
               f"(check-in {report['hours_checkin']:g}, admin {report['hours_admin']:g}), "
               f"{report['events_held']}/{report['events']} events held, {report['attendances']} check-ins")
    for row in report["members"]:
        met = "-" if row["met_target"] is None else ("met" if row["met_target"] else "not met")
        click.echo(f"{row['member_id']}\t{row['name']}\t{KIND_LABELS.get(row['kind'], row['kind'])}\t"
                   f"{row['hours']:g}h\t{'、'.join(row['projects']) or '-'}\t{met}")


@volunteers_group.command("export")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--year", type=click.IntRange(FIRST_YEAR, LAST_YEAR), default=None, help="Year (default: this year).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@with_appcontext
def volunteers_export(community_name: str, year: int | None, output: Path) -> None:
    """Write the year's report as an .xlsx workbook (汇总, 党员时长, 时长明细, 活动)."""
    community = _community(community_name)
    if output.suffix.lower() != ".xlsx":
        raise click.ClickException(f"{output} should end in .xlsx")
    if not output.parent.exists():
        raise click.ClickException(f"folder {output.parent} does not exist")
    try:
        export_xlsx(community, _year(year), str(output))
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}")


COMMANDS = [events_group, volunteers_group]
