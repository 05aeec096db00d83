"""Operator commands for the dashboard's rollup (docs/scaling.md, "The dashboard's 三率 over a street's year").

linli reports rollup --from DATE --to DATE [--community ID ...]   recompute closed days (after an import,
                                                                   a migration or a change of LINLI_REPLY_SLA_SECONDS)
linli reports refresh                                             run the periodic job once (cron runs it every 5 min)

Until a day is in the rollup the dashboard computes it live: the figures are the same, only slower.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.types import ID
from app.extensions import db
from app.handlers.reports import rollup
from app.localtime import FIRST_YEAR, LAST_YEAR
from app.models import Community


def _date(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式不对：{value!r}，请按 2026-01-31 这样填写") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise click.BadParameter(f"日期要在 {FIRST_YEAR} 年到 {LAST_YEAR} 年之间：{value!r}")
    return day


@click.group("reports")
def reports() -> None:
    """The dashboard's statistics: rebuild the rollup of closed days."""


@reports.command("rollup")
@click.option("--from", "first", required=True, callback=_date, help="First day (local date, e.g. 2026-01-01).")
@click.option("--to", "last", required=True, callback=_date,
              help="Last day, inclusive; days from today on are always computed live and skipped.")
@click.option("--community", "communities", type=ID, multiple=True, help="Only this community id (repeatable).")
@with_appcontext
def rollup_command(first: date, last: date, communities: tuple[int, ...]) -> None:
    """Recompute the rollup of [--from, --to] for every community (or the ones named)."""
    if first > last:
        raise click.BadParameter("开始日期不能晚于结束日期", param_hint="--from")
    ids = None
    if communities:
        known = set(db.session.scalars(select(Community.id).where(Community.id.in_(communities))))
        unknown = sorted(set(communities) - known)
        if unknown:
            raise click.BadParameter(f"没有这个社区：{', '.join(map(str, unknown))}", param_hint="--community")
        ids = sorted(known)

    def progress(done: int, total: int) -> None:
        click.echo(f"  {done}/{total} communities", err=True)

    result = rollup.rebuild(first, last, ids, progress=progress)
    click.echo(f"rollup rebuilt: {result['communities']} communities × {result['days']} days, "
               f"{result['rows']} rows")


@reports.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Run the periodic rollup job once, here (recompute changed days, build the days closed since)."""
    result = rollup.refresh()
    click.echo(f"rollup refreshed: {result['pairs']} community-days ({result['new_days']} new days), "
               f"{result['rows']} rows")


COMMANDS = [reports]
