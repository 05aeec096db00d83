"""Every staff endpoint of the proxy API: other communities get 404, missing roles 403, no token 401."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.handlers.proxy import bookings as b
from app.handlers.proxy import desk
from app.models.proxy import Booking, BookingStatus, Case
from tests import factories as f
from tests.handlers.proxy.support import local, resident, setup_community

ADMIN_ONLY = "admin"
HANDLERS = "handlers"

# (method, path template, body, who may call it)
ENDPOINTS = [
    ("patch", "/api/v1/catalogue/{item}", {"time_limit_workdays": 9}, ADMIN_ONLY),
    ("patch", "/api/v1/stations/{station}", {"capacity": 3}, ADMIN_ONLY),
    ("put", "/api/v1/stations/{station}/hours",
     {"hours": [{"weekday": 0, "opens": "09:00", "closes": "11:00"}]}, ADMIN_ONLY),
    ("post", "/api/v1/stations/{station}/closures", {"date": "2026-11-27", "reason": "培训"}, ADMIN_ONLY),
    ("delete", "/api/v1/stations/{station}/closures/2026-11-26", None, ADMIN_ONLY),
    ("get", "/api/v1/stations/{station}/bookings", None, HANDLERS),
    ("get", "/api/v1/bookings/{booking}", None, HANDLERS),
    ("post", "/api/v1/bookings/{booking}/check-in", None, HANDLERS),
    ("post", "/api/v1/bookings/{booking}/no-show", None, HANDLERS),
    ("post", "/api/v1/bookings/{booking}/hand-over", {"staff_id": "{duty}"}, HANDLERS),
    ("post", "/api/v1/bookings/{booking}/cancel", {"reason": "x"}, HANDLERS),
    ("post", "/api/v1/bookings/{booking}/complete", {}, HANDLERS),
    ("get", "/api/v1/cases/{case}", None, HANDLERS),
    ("post", "/api/v1/cases/{case}/transitions", {"status": "forwarded"}, HANDLERS),
    ("post", "/api/v1/cases/{case}/assign", {"staff_id": "{duty}"}, HANDLERS),
]
# Endpoints scoped to the caller's own community (no id of another community to probe).
OWN_COMMUNITY = [
    ("get", "/api/v1/community/catalogue", None, HANDLERS),
    ("post", "/api/v1/catalogue", {"key": "newitem", "name": "新事项", "time_limit_workdays": 3}, ADMIN_ONLY),
    ("post", "/api/v1/catalogue/load-default", {}, ADMIN_ONLY),
    ("post", "/api/v1/stations", {"name": "新代办点", "hours": []}, ADMIN_ONLY),
    ("get", "/api/v1/cases", None, HANDLERS),
    ("post", "/api/v1/cases", {"service_key": "dibao", "resident_id": "{resident}"}, HANDLERS),
]


def token(subject) -> dict:
    kind = STAFF if subject.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, subject.id).token}"}


@pytest.fixture
def world(app, clock):
    home = setup_community()
    away = setup_community(name="隔壁社区")
    r = resident(home.community)
    booking = b.book(resident=r, item=home.item(), station=home.station, slot_start=local(2026, 11, 17, 10, 0),
                     idempotency_key="k").booking
    walk_in = b.book(resident=r, item=home.item("dibao"), station=home.station,
                     slot_start=local(2026, 11, 17, 10, 30), idempotency_key="k2").booking
    case = desk.complete(walk_in, staff=home.duty)
    clock.set(local(2026, 11, 17, 10, 10))  # after the start: no-show is allowed
    ids = {"item": home.item().id, "station": home.station.id, "booking": booking.id, "case": case.id,
           "duty": home.duty.id, "resident": r.id}
    people = {
        "outsider_admin": away.admin,                                               # right role, other community
        "grid_worker": f.staff(roles=("grid_worker",), community=home.community),   # a handler, not an admin
        "department": f.staff(roles=("department",), community=home.community),    # no handling role
        "resident": r,
    }
    db.session.commit()
    return home, ids, people


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: (int(_fill(v, ids)) if isinstance(v, str) and v.startswith("{") else _fill(v, ids))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _call(client, method, path, body, ids, who=None):
    kwargs = {"headers": token(who) if who is not None else {}}
    if body is not None:
        kwargs["json"] = _fill(body, ids)
    return getattr(client, method)(_fill(path, ids), **kwargs)


@pytest.mark.parametrize("method, path, body, allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_staff_endpoints_are_scoped_and_role_checked(client, world, method, path, body, allowed):
    home, ids, people = world
    assert _call(client, method, path, body, ids).status_code == 401
    assert _call(client, method, path, body, ids, people["resident"]).status_code == 403
    assert _call(client, method, path, body, ids, people["department"]).status_code == 403
    assert _call(client, method, path, body, ids, people["outsider_admin"]).status_code == 404
    if allowed == ADMIN_ONLY:
        assert _call(client, method, path, body, ids, people["grid_worker"]).status_code == 403
        caller = home.admin
    else:
        caller = people["grid_worker"]
    if "closures/2026-11-26" in path:
        _call(client, "post", "/api/v1/stations/{station}/closures", {"date": "2026-11-26"}, ids, home.admin)
    response = _call(client, method, path, body, ids, caller)
    assert response.status_code in (200, 201), (response.status_code, response.get_json())


@pytest.mark.parametrize("method, path, body, allowed", OWN_COMMUNITY, ids=[f"{m} {p}" for m, p, _, _ in OWN_COMMUNITY])
def test_own_community_endpoints_use_the_callers_community(client, world, method, path, body, allowed):
    home, ids, people = world
    assert _call(client, method, path, body, ids).status_code == 401
    assert _call(client, method, path, body, ids, people["resident"]).status_code == 403
    assert _call(client, method, path, body, ids, people["department"]).status_code == 403
    if allowed == ADMIN_ONLY:
        assert _call(client, method, path, body, ids, people["grid_worker"]).status_code == 403
    outsider = _call(client, method, path, body, ids, people["outsider_admin"])
    if method == "get":
        # They see their own community's data, never ours.
        data = outsider.get_json()
        assert outsider.status_code == 200
        assert data.get("community_id", people["outsider_admin"].community_id) != home.community.id
        if "items" in data and path.endswith("/cases"):
            assert data["total"] == 0
    elif path == "/api/v1/cases":
        # Our resident and item id are not theirs to use.
        assert outsider.status_code == 400 and outsider.get_json()["error"]["field"] == "resident_id"
    caller = home.admin if allowed == ADMIN_ONLY else people["grid_worker"]
    response = _call(client, method, path, body, ids, caller)
    assert response.status_code in (200, 201), (response.status_code, response.get_json())


def test_case_transitions_by_another_community_change_nothing(client, world):
    home, ids, people = world
    response = _call(client, "post", "/api/v1/cases/{case}/transitions", {"status": "forwarded"}, ids,
                     people["outsider_admin"])
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, ids["case"]).status == "submitted"
    assert db.session.get(Booking, ids["booking"]).status == BookingStatus.CONFIRMED.value
