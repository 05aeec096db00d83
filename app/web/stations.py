"""Console pages of the service map's stations (红色地图, the public /map): every station with whether it
is open now; add one, edit its kind, address, coordinates, opening hours, services, phone and the partner
unit that runs it; take it off the map and put it back.

The same handlers and roles as app/api/governance/servicemap.py: community staff see the stations,
EDITORS keep them. The API has no delete (old timelines and audit rows name a station), so "remove"
is ``active: false``, as a PATCH of the API would do, and can be undone.
"""
from __future__ import annotations

from itertools import zip_longest
from typing import Any

from flask import Blueprint, render_template, request, url_for

from app.clock import now
from app.errors import ValidationError
from app.handlers.governance import fields, stations, terms, units
from app.handlers.governance.roles import EDITORS, VIEWERS
from app.localtime import WEEKDAY_NAMES
from app.models import Staff
from app.models.servicemap import STATION_KINDS
from app.web.govforms import form_body, submit, typed
from app.web.login import current_staff, staff_required
from app.web.support import protect
from app.workcal import load_calendar

bp = protect(Blueprint("web_stations", __name__, url_prefix="/console"))

TEXT_FIELDS = ("name", "kind", "address", "lat", "lng", "phone", "notes", "unit_id")
HOUR_FIELDS = ("hours_days", "hours_open", "hours_close")
DAY_CHOICES = [("workdays", "工作日"), ("daily", "每天"), ("weekends", "周末"),
               *((str(n), f"周{name}") for n, name in enumerate(WEEKDAY_NAMES, start=1))]
BLANK_ROWS = 2   # empty opening-hours lines under the filled ones: a lunch break is a second line


def _days_value(days: Any) -> str:
    """A rule's days as the select's value: "workdays", or "1,3,5" for weekdays."""
    return ",".join(str(d) for d in days) if isinstance(days, list) else str(days)


def _days_of(value: str) -> Any:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if parts and all(p.isascii() and p.isdigit() and len(p) < 3 for p in parts):
        return [int(p) for p in parts]
    return value.strip()  # workdays / daily / weekends; anything else is refused by the handler


def _hours() -> list[dict[str, Any]]:
    """The opening-hours lines of the form; an empty line is skipped, a half-filled one refused."""
    rules = []
    lines = zip_longest(*(request.form.getlist(name) for name in HOUR_FIELDS), fillvalue="")
    for number, (days, opens, closes) in enumerate(lines, start=1):
        opens = fields.clock({"hours": opens}, "hours", f"开放时间第{number}行的开门时间")
        closes = fields.clock({"hours": closes}, "hours", f"开放时间第{number}行的关门时间")
        if opens is None and closes is None:
            continue
        if opens is None or closes is None:
            raise ValidationError(f"开放时间第{number}行请同时填写开门和关门时间", field="hours")
        if opens >= closes:
            raise ValidationError(f"开放时间第{number}行的关门时间要晚于开门时间", field="hours")
        rules.append({"days": _days_of(days), "open": opens, "close": closes})
    return rules


def station_body() -> dict[str, Any]:
    """The whole station as the form shows it: every field is sent, so a field left blank is cleared."""
    filled = form_body(numbers=("lat", "lng"), ints=("unit_id",), party_select=False,
                       skip=("services", *HOUR_FIELDS))
    body: dict[str, Any] = {name: filled.get(name) for name in TEXT_FIELDS}
    body["services"] = [v.strip() for v in request.form.getlist("services") if v.strip()]
    body["hours"] = _hours()
    return body


def _hour_rows(rules: list[dict]) -> list[dict]:
    return [{"days": _days_value(r["days"]), "open": r["open"], "close": r["close"]} for r in rules] + \
        [{"days": "workdays", "open": "", "close": ""}] * BLANK_ROWS


def _typed_rows() -> list[dict]:
    lines = zip_longest(*(request.form.getlist(name) for name in HOUR_FIELDS), fillvalue="")
    return [{"days": d, "open": o, "close": c} for d, o, c in lines] or _hour_rows([])


def _day_choices(rows: list[dict]) -> list[tuple[str, str]]:
    """The usual choices, and any set of weekdays a station already has (entered through the API)."""
    known = {key for key, _label in DAY_CHOICES}
    extra = []
    for row in rows:
        value = row["days"]
        if value not in known and value and all(p.isdigit() and 1 <= int(p) <= 7 for p in value.split(",")):
            extra.append((value, "周" + "、".join(WEEKDAY_NAMES[int(p) - 1] for p in value.split(","))))
            known.add(value)
    return DAY_CHOICES + extra


def _form(values: dict, services: list[str], rows: list[dict], community_id: int) -> dict:
    return {"values": values, "chosen_services": services, "hour_rows": rows, "day_choices": _day_choices(rows),
            "services": terms.terms().services, "kinds": STATION_KINDS,
            "unit_options": [(str(u.id), u.name) for u in units.units(community_id, active_only=True)]}


def _stations_context(staff: Staff, *, error: str | None = None) -> dict:
    moment, calendar = now(), load_calendar()
    rows = stations.stations(staff.community_id, active_only=False)
    form = (_form(typed(), request.form.getlist("services"), _typed_rows(), staff.community_id) if error
            else _form({"kind": "party_center"}, [], _hour_rows([]), staff.community_id))
    return {"stations": [stations.station_view(s, moment, calendar) for s in rows if s.active],
            "removed": [stations.station_view(s) for s in rows if not s.active],
            "can_edit": staff.has_role(*EDITORS), "error": error, **form}


@bp.get("/stations")
@staff_required(*VIEWERS)
def stations_page():
    return render_template("console/stations.html", **_stations_context(current_staff()))


@bp.post("/stations")
@staff_required(*EDITORS)
def station_create():
    staff = current_staff()

    def create():
        station = stations.create_station(staff.community_id, station_body(), staff)
        return f"站点“{station.name}”已添加到服务地图。", url_for("web_stations.station_page", station_id=station.id)

    return submit(create, "console/stations.html", lambda error: _stations_context(staff, error=error))


def _station_context(staff: Staff, station_id: int, *, error: str | None = None) -> dict:
    station = stations.station_in(staff.community_id, station_id)
    if error:
        form = _form(typed(), request.form.getlist("services"), _typed_rows(), staff.community_id)
    else:
        values = {name: getattr(station, name) for name in TEXT_FIELDS}
        form = _form({k: "" if v is None else str(v) for k, v in values.items()}, list(station.services or []),
                     _hour_rows(list(station.hours or [])), staff.community_id)
    return {"station": stations.station_view(station, now()), "can_edit": staff.has_role(*EDITORS),
            "error": error, **form}


@bp.get("/stations/<int(max=9223372036854775807):station_id>")
@staff_required(*VIEWERS)
def station_page(station_id: int):
    return render_template("console/station.html", **_station_context(current_staff(), station_id))


def _change(station_id: int, change, said: str):
    staff = current_staff()
    station = stations.station_in(staff.community_id, station_id)

    def run():
        stations.update_station(station, change(), staff)
        return said.format(name=station.name), url_for("web_stations.station_page", station_id=station_id)

    return submit(run, "console/station.html", lambda error: _station_context(staff, station_id, error=error))


@bp.post("/stations/<int(max=9223372036854775807):station_id>")
@staff_required(*EDITORS)
def station_update(station_id: int):
    return _change(station_id, station_body, "站点“{name}”已保存，服务地图随之更新。")


@bp.post("/stations/<int(max=9223372036854775807):station_id>/remove")
@staff_required(*EDITORS)
def station_remove(station_id: int):
    return _change(station_id, lambda: {"active": False}, "站点“{name}”已从服务地图撤下（可以随时恢复）。")


@bp.post("/stations/<int(max=9223372036854775807):station_id>/restore")
@staff_required(*EDITORS)
def station_restore(station_id: int):
    return _change(station_id, lambda: {"active": True}, "站点“{name}”已恢复到服务地图上。")

