"""Small factories for test data. Each returns a flushed row; pass fields to override."""
from __future__ import annotations

import itertools

from app.extensions import db
from app.models import (
    Building,
    Community,
    Department,
    DutyShift,
    Grid,
    Resident,
    ResidentGroup,
    ResidentIdentity,
    Staff,
    Street,
)

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def street(**kw) -> Street:
    row = Street(name=kw.pop("name", f"测试街道{_n()}"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def community(**kw) -> Community:
    st = kw.pop("street", None) or street()
    row = Community(street_id=st.id, name=kw.pop("name", f"测试社区{_n()}"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def grid(**kw) -> Grid:
    com = kw.pop("community", None) or community()
    row = Grid(community_id=com.id, name=kw.pop("name", f"第{_n()}网格"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def building(**kw) -> Building:
    grd = kw.pop("grid", None)
    com = kw.pop("community", None) or (db.session.get(Community, grd.community_id) if grd else community())
    number = str(kw.pop("number", _n()))
    row = Building(community_id=com.id, grid_id=grd.id if grd else None, number=number,
                   name=kw.pop("name", f"{number}号楼"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def department(**kw) -> Department:
    row = Department(name=kw.pop("name", f"测试部门{_n()}"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def staff(roles=("duty",), **kw) -> Staff:
    if "community_id" not in kw and "street_id" not in kw and "department_id" not in kw:
        kw["community_id"] = (kw.pop("community", None) or community()).id
    kw.pop("community", None)
    row = Staff(name=kw.pop("name", f"工作人员{_n()}"), **kw)
    row.set_roles(roles)
    db.session.add(row)
    db.session.flush()
    return row


def resident(identities=(), **kw) -> Resident:
    row = Resident(**kw)
    for channel, kind, value in identities:
        row.identities.append(ResidentIdentity(channel=channel, kind=kind, value=value))
    db.session.add(row)
    db.session.flush()
    return row


def group(**kw) -> ResidentGroup:
    com = kw.pop("community", None) or community()
    row = ResidentGroup(community_id=com.id, channel=kw.pop("channel", "group"),
                        chat_id=kw.pop("chat_id", f"chat-{_n()}"), name=kw.pop("name", f"居民群{_n()}"), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def shift(staff_row: Staff, starts_at, ends_at, **kw) -> DutyShift:
    row = DutyShift(community_id=kw.pop("community_id", staff_row.community_id), staff_id=staff_row.id,
                    starts_at=starts_at, ends_at=ends_at, **kw)
    db.session.add(row)
    db.session.flush()
    return row
