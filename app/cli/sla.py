"""Operator commands for the duty roster and the reply SLA.

linli roster import FILE --community NAME
linli roster show --community NAME [--days 7]
linli roster gaps --community NAME [--days 14]
linli sla alerts [--community NAME] [--since DATE] [--kind KIND]
linli sla sweep
linli stats sla [--community NAME] [--since DATE] [--until DATE]
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.alerts import recipient_view
from app.handlers.sla import format_duration, sla_seconds, sla_stats, sweep
from app.handlers.sla.roster import RosterError, find_community, gaps, shifts_between
from app.handlers.sla.roster_import import import_roster
from app.localtime import WEEKDAY_NAMES, local_date, local_midnight, to_local, zone
from app.models import Community
from app.models.alerts import ALERT_KIND_LABELS, Alert

# Exit codes of `linli roster import`, as `linli import`: 1 some rows failed (the others
# were saved), 2 the file could not be used at all.
EXIT_ROW_ERRORS = 1
EXIT_FILE_ERROR = 2


def parse_moment(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD, local midnight; with ``end_of_day`` the next midnight) or an ISO time."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            moment = local_midnight(day)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (2026-11-17) or time (2026-11-17T08:00)",
                                 param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone())


def _community(name: str) -> Community:
    try:
        return find_community(name)
    except RosterError as exc:
        raise click.ClickException(exc.message) from None


def _local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(moment).strftime(fmt)


def _span(start: datetime, end: datetime) -> str:
    start_l, end_l = to_local(start), to_local(end)
    if end_l.date() == start_l.date():
        return f"{start_l:%Y-%m-%d %H:%M}–{end_l:%H:%M}"
    if end_l.time() == time(0) and end_l.date() == start_l.date() + timedelta(days=1):
        return f"{start_l:%Y-%m-%d %H:%M}–24:00"
    return f"{start_l:%Y-%m-%d %H:%M}–{end_l:%Y-%m-%d %H:%M}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


# ---- roster -------------------------------------------------------------------------------------

@click.group("roster")
def roster_group() -> None:
    """The 24-hour duty roster (值班表): import, show, gaps."""


@roster_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@with_appcontext
def roster_import(path: str, community_name: str) -> None:
    """Import shifts from an .xlsx or .csv file (日期/开始/结束/值班人员/值班长).

    Rows with problems are listed by row number; the other rows are imported.
    Importing the same file again adds nothing. Exit code 0: all rows imported;
    1: some rows failed; 2: the file could not be used. See docs/sla-and-roster.md.
    """
    community = _community(community_name)
    try:
        result = import_roster(path, community)
    except RosterError as exc:
        click.echo(f"linli: {exc.message}", err=True)
        raise SystemExit(EXIT_FILE_ERROR) from None
    click.echo(f"{community.name} 值班表导入 / roster import: 新增 {result.created}，已存在 {result.skipped}，"
               f"出错 {len(result.errors)}  (created {result.created}, already there {result.skipped}, "
               f"errors {len(result.errors)})")
    if result.errors:
        click.echo(f"{len(result.errors)} 行出错 / rows failed，其余行已保存 / the other rows were saved:", err=True)
        for error in result.errors:
            click.echo(f"  {error}", err=True)
        raise SystemExit(EXIT_ROW_ERRORS)


@roster_group.command("show")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--days", type=click.IntRange(1, 62), default=7, show_default=True, help="Days from today.")
@click.option("--from", "start_text", default=None, help="First day (YYYY-MM-DD); default today.")
@with_appcontext
def roster_show(community_name: str, days: int, start_text: str | None) -> None:
    """Print the shifts of the next days, and any gaps (无人值班时段)."""
    community = _community(community_name)
    start = parse_moment(start_text, "--from") or local_midnight(local_date(now()))
    end = start + timedelta(days=days)
    shifts = shifts_between(community.id, start, end)
    click.echo(f"{community.name} roster {_local(start, '%Y-%m-%d')} – "
               f"{_local(end - timedelta(seconds=1), '%Y-%m-%d')} ({len(shifts)} shifts)")
    current_day = None
    for shift in shifts:
        day = local_date(shift.starts_at)
        if day != current_day:
            current_day = day
            click.echo(f"{day:%Y-%m-%d} 周{WEEKDAY_NAMES[day.weekday()]}")
        lead = " 值班长" if shift.is_lead else ""
        inactive = " (已停用)" if not shift.staff.active else ""
        phone = f" {shift.staff.phone}" if shift.staff.phone else ""
        click.echo(f"  #{shift.id} {_span(shift.starts_at, shift.ends_at)}  {shift.staff.name}{phone}{lead}{inactive}")
    holes = gaps(community.id, start, end)
    if holes:
        click.echo(f"gaps (无人值班): {len(holes)}")
        for gap_start, gap_end in holes:
            click.echo(f"  {_span(gap_start, gap_end)}")
    else:
        click.echo("no gaps (全天有人值班)")


@roster_group.command("gaps")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True, help="Days to check from now.")
@with_appcontext
def roster_gaps(community_name: str, days: int) -> None:
    """List the times nobody is on duty from now on; exit code 1 if there are any."""
    community = _community(community_name)
    start = now()
    end = start + timedelta(days=days)
    holes = gaps(community.id, start, end)
    if not holes:
        click.echo(f"{community.name}: no gaps in the next {days} days (全天有人值班)")
        return
    total = sum((b - a).total_seconds() for a, b in holes)
    click.echo(f"{community.name}: {len(holes)} gaps in the next {days} days, {_duration(total)} uncovered")
    for gap_start, gap_end in holes:
        click.echo(f"  {_span(gap_start, gap_end)}  ({_duration((gap_end - gap_start).total_seconds())})")
    raise SystemExit(1)


# ---- sla ----------------------------------------------------------------------------------------

@click.group("sla")
def sla_group() -> None:
    """The one-hour reply clock: alerts and the sweep."""


@sla_group.command("alerts")
@click.option("--community", "community_name", default=None, help="Only this community.")
@click.option("--since", "since_text", default=None, help="From this date/time (default: 7 days ago).")
@click.option("--kind", type=click.Choice(["warn", "breach", "no_duty", "overdue"]), default=None)
@with_appcontext
def sla_alerts(community_name: str | None, since_text: str | None, kind: str | None) -> None:
    """Every alert with its recipients and their delivery state."""
    since = parse_moment(since_text, "--since") or now() - timedelta(days=7)
    statement = select(Alert).where(Alert.created_at >= since).order_by(Alert.created_at, Alert.id)
    if community_name:
        statement = statement.where(Alert.community_id == _community(community_name).id)
    if kind:
        statement = statement.where(Alert.kind == kind)
    alerts = db.session.scalars(statement).all()
    click.echo(f"{len(alerts)} alerts since {_local(since)}")
    names = {c.id: c.name for c in db.session.scalars(select(Community))}
    for alert in alerts:
        click.echo(f"{_local(alert.created_at, '%Y-%m-%d %H:%M:%S')}  {alert.kind} ({ALERT_KIND_LABELS.get(alert.kind, '')})"
                   f"  {names.get(alert.community_id, '-')}  key={alert.key}"
                   f"{'' if alert.dispatched_at else '  [not yet dispatched]'}")
        click.echo(f"    {alert.text}")
        if not alert.recipients:
            click.echo("    → nobody to notify (no staff, no duty group)")
        for recipient in alert.recipients:
            view = recipient_view(recipient)
            who = view["staff"]["name"] if view["staff"] else "(duty group)"
            via = f"group {view['group']['name']}" if view["group"] else (view["channel"] or "no channel")
            extra = f" error={view['error']}" if view["error"] else ""
            click.echo(f"    → {who} [{view['role']}] via {via}: {view['delivery']}"
                       f" (attempts {view['attempts']}){extra}")


@sla_group.command("sweep")
@with_appcontext
def sla_sweep() -> None:
    """Run the reply-clock sweep once (normally every 30 s from `linli cron`)."""
    result = sweep()
    click.echo(f"warned {result['warned']}, breached {result['breached']}, "
               f"finished {result['redispatched']} interrupted alerts")


# ---- stats --------------------------------------------------------------------------------------

def _stats_group() -> click.Group:
    """`linli stats`: shared with other features' statistics, whoever registers first creates it."""
    import sys
    # Without importing app.cli (it imports this module): when it is loading, reuse its group.
    cli = getattr(sys.modules.get("app.cli"), "cli", None)
    existing = cli.commands.get("stats") if cli is not None else None
    if isinstance(existing, click.Group):
        return existing

    @click.group("stats")
    def stats_group() -> None:
        """Statistics (统计)."""

    return stats_group


stats_group = _stats_group()


@stats_group.command("sla")
@click.option("--community", "community_name", default=None, help="Only this community.")
@click.option("--since", "since_text", default=None, help="Clocks started from this date (default: 30 days ago).")
@click.option("--until", "until_text", default=None, help="…up to the end of this date (default: now).")
@with_appcontext
def stats_sla(community_name: str | None, since_text: str | None, until_text: str | None) -> None:
    """Reply-within-the-hour rate, median and p90 first-reply time, per community and per staff member."""
    at = now()
    until = parse_moment(until_text, "--until", end_of_day=True)
    since = parse_moment(since_text, "--since") or (until or at) - timedelta(days=30)
    if since >= (until or at):
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    community_ids = [_community(community_name).id] if community_name else None
    stats = sla_stats(community_ids=community_ids, since=since, until=until, at=at)
    click.echo(f"reply SLA {_local(since)} – {_local(until or at)} "
               f"(public reply within {format_duration(sla_seconds())})")
    header = f"{'':<20}{'clocks':>7}{'replied':>8}{'within':>7}{'late':>5}{'unanswered':>11}{'open':>5}" \
             f"{'rate':>8}{'median':>9}{'p90':>9}"
    click.echo("per community")
    click.echo(header)
    for row in stats["communities"]:
        click.echo(_stats_line(row["name"], row))
    if not stats["communities"]:
        click.echo("  (no reply clocks in this period)")
    click.echo("per staff member (first public replies)")
    click.echo(header)
    for row in stats["staff"]:
        click.echo(_stats_line(f"{row['name']}", row))
    if not stats["staff"]:
        click.echo("  (no staff replies in this period)")


def _stats_line(label: str, row: dict) -> str:
    rate = "-" if row["rate"] is None else f"{row['rate'] * 100:.1f}%"
    # Pad by display width: CJK characters take two columns.
    width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in label)
    label = label + " " * max(1, 20 - width)
    return (f"{label}{row['clocks']:>7}{row['replied']:>8}{row['within']:>7}{row['late']:>5}{row['unanswered']:>11}"
            f"{row['open']:>5}{rate:>8}{_duration(row['median_seconds']):>9}{_duration(row['p90_seconds']):>9}")


COMMANDS = [roster_group, sla_group, stats_group]
