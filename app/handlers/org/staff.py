"""Creating staff members and their mini-program invite codes."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.clock import now
from app.extensions import db
from app.handlers.audit import record
from app.models import Community, Grid, Role, Staff
from app.models.auth import StaffInvite

INVITE_TTL = timedelta(days=14)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: read aloud and typed on phones


class StaffError(ValueError):
    pass


# C0 controls and lone surrogates: nothing a person's name or an id holds.
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _clean(value: str | None, what: str, max_length: int, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise StaffError(f"{what} must not be empty")
        return None
    if _CONTROL.search(value):
        raise StaffError(f"{what} contains control characters")
    if len(value) > max_length:
        raise StaffError(f"{what} is longer than {max_length} characters")
    return value


def new_invite(staff: Staff) -> StaffInvite:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    invite = StaffInvite(staff_id=staff.id, code=code, expires_at=now() + INVITE_TTL)
    db.session.add(invite)
    return invite


def create_staff(*, community_name: str, name: str, roles: list[str], phone: str | None = None,
                 grid_name: str | None = None, wework_userid: str | None = None) -> tuple[Staff, StaffInvite]:
    name = _clean(name, "the name", 100, required=True)
    phone = _clean(phone, "the phone number", 30)
    wework_userid = _clean(wework_userid, "the WeCom userid", 64)
    communities = db.session.scalars(select(Community).where(Community.name == community_name)).all()
    if not communities:
        raise StaffError(f"no community named {community_name!r}; import or create it first")
    if len(communities) > 1:
        raise StaffError(f"several communities are named {community_name!r}; use the import file with the street")
    community = communities[0]
    unknown = [r for r in roles if r not in {x.value for x in Role}]
    if unknown:
        raise StaffError(f"unknown role {unknown[0]!r}")
    grid = None
    if grid_name:
        grid = db.session.scalars(select(Grid).where(Grid.community_id == community.id,
                                                     Grid.name == grid_name)).first()
        if grid is None:
            raise StaffError(f"no grid named {grid_name!r} in {community_name}")
    if phone and db.session.scalars(select(Staff).where(Staff.phone == phone)).first():
        raise StaffError("a staff member with this phone number already exists")
    if wework_userid and db.session.scalars(select(Staff).where(Staff.wework_userid == wework_userid)).first():
        raise StaffError("a staff member with this WeCom userid already exists")
    staff = Staff(community_id=community.id, grid_id=grid.id if grid else None, name=name, phone=phone,
                  wework_userid=wework_userid)
    staff.set_roles(roles)
    db.session.add(staff)
    db.session.flush()
    invite = new_invite(staff)
    record("operator", None, "staff.created", staff, community_id=community.id, detail={"roles": sorted(roles)})
    db.session.commit()
    return staff, invite
