"""`linli staff add` and `linli staff token`: staff accounts and API tokens for operators."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.handlers.org.auth import STAFF, issue_token
from app.handlers.org.staff import StaffError, create_staff
from app.models import Community, Role, Staff


@click.group("staff")
def staff_group() -> None:
    """Staff accounts and their API tokens."""


@staff_group.command("add")
@click.option("--community", "community_name", required=True, help="Community name (社区名称).")
@click.option("--name", required=True, help="Full name (姓名).")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="Role (repeatable).")
@click.option("--phone", default=None, help="Mobile number (shown only in the staff API).")
@click.option("--grid", "grid_name", default=None, help="Grid name, for grid workers and leaders.")
@click.option("--wework-userid", default=None, help="WeCom userid, for alerts by WeCom app message.")
@with_appcontext
def add_staff(community_name, name, roles, phone, grid_name, wework_userid) -> None:
    """Create a staff member of a community and print their id and invite code."""

    try:
        staff, invite = create_staff(community_name=community_name, name=name, roles=list(roles), phone=phone,
                                     grid_name=grid_name, wework_userid=wework_userid)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"staff {staff.id} {staff.name} ({', '.join(sorted(staff.roles))}); "
               f"mini-program invite code: {invite.code}")


@staff_group.command("token")
@click.argument("staff_id", type=int)
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="Valid for this many days.")
@click.option("--label", default="cli", help="A note on what the token is for.")
@with_appcontext
def staff_token(staff_id: int, days: int, label: str) -> None:
    """Print a bearer token for a staff member (shown once)."""

    staff = db.session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise click.ClickException(f"no active staff member with id {staff_id}")
    issued = issue_token(STAFF, staff.id, ttl=timedelta(days=days), label=label)
    click.echo(issued.token)


@staff_group.command("list")
@click.option("--community", "community_name", default=None, help="Only this community.")
@with_appcontext
def list_staff(community_name: str | None) -> None:
    """List staff: id, name, roles, community."""

    statement = select(Staff).order_by(Staff.id)
    if community_name:
        statement = statement.join(Community, Community.id == Staff.community_id).where(
            Community.name == community_name)
    for staff in db.session.scalars(statement):
        click.echo(f"{staff.id}\t{staff.name}\t{','.join(sorted(staff.roles))}\t{staff.community_id or ''}")


COMMANDS = [staff_group]
