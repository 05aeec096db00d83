"""`linli staff add` and `linli staff token`: staff accounts and API tokens for operators."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.types import ID
from app.extensions import db
from app.handlers.org.auth import STAFF, issue_token
from app.handlers.org.staff import StaffError, create_staff, new_invite
from app.models import Community, Role, Staff
from app.web.demo import demo_duty_staff
from app.web.login import LINK_LABEL, LINK_TTL


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
@click.argument("staff_id", type=ID)
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="Valid for this many days.")
@click.option("--label", default="cli", help="A note on what the token is for.")
@click.option("--link", is_flag=True, help="Print a one-time web console login link (valid 24 hours) instead.")
@click.option("--base-url", default=None, help="Start of the link (default: http://LINLI_HOST:LINLI_PORT).")
@with_appcontext
def staff_token(staff_id: int, days: int, label: str, link: bool, base_url: str | None) -> None:
    """Print a bearer token for a staff member (shown once), or with --link a one-time login link."""

    staff = db.session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise click.ClickException(f"no active staff member with id {staff_id}")
    if link:
        click.echo(login_link(staff, base_url))
        return
    issued = issue_token(STAFF, staff.id, ttl=timedelta(days=days), label=label)
    click.echo(issued.token)


def base_url_of(app, given: str | None = None) -> str:
    return (given or f"http://{app.config['HOST']}:{app.config['PORT']}").rstrip("/")


def login_link(staff, base_url: str | None = None) -> str:
    """A one-time /console login link for ``staff`` (see app/web/login.py)."""

    issued = issue_token(STAFF, staff.id, ttl=LINK_TTL, label=LINK_LABEL)
    return f"{base_url_of(current_app, base_url)}/console/login/link?token={issued.token}"


@click.command("web-demo")
@click.option("--base-url", default=None, help="Start of the links (default: http://LINLI_HOST:LINLI_PORT).")
@with_appcontext
def web_demo(base_url: str | None) -> None:
    """Print the start page and how to log in as the demo community's duty staff member."""

    url = base_url_of(current_app, base_url)
    click.echo(f"linli: 首页 / start page: {url}/")
    staff = demo_duty_staff()
    if staff is None:
        click.echo("linli: no demo community yet (run `linli seed-demo`)")
        return
    invite = new_invite(staff)
    db.session.commit()
    click.echo(f"linli: 演示登录 / demo login as {staff.name} (on duty now): {login_link(staff, base_url)}")
    click.echo(f"linli:   or the invite code {invite.code} at {url}/console/login ; try the group at {url}/try")


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


COMMANDS = [staff_group, web_demo]
