"""The public co-governance pages: the board's 议事 and 共建项目 section and the service map (/map), drawn
from the community's own coordinates — no login, nothing private, no map tiles from outside."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Building, MapStation, PartyMember, Resident, TopicComment


def test_the_board_shows_public_topics_with_vote_counts_and_projects(demo, client):
    page = client.get(f"/board?community={demo.community_id}").get_data(as_text=True)
    assert "议事公开" in page and "2栋加装电梯" in page and "茶馆会投票进行中" in page
    assert "共建项目" in page and "GJ2026-002" in page and "独居老人午餐送餐" in page and "40%" in page
    partial = client.get(f"/board?community={demo.community_id}&partial=1").get_data(as_text=True)
    assert "议事公开" in partial  # refreshed with the rest


def test_the_board_names_no_resident_and_no_member(demo, client):
    page = client.get(f"/board?community={demo.community_id}").get_data(as_text=True)
    for comment in db.session.scalars(select(TopicComment)):
        if comment.text and len(comment.text) > 4:
            assert comment.text not in page  # residents' own words stay off the hall's screen
    for member in db.session.scalars(select(PartyMember).where(PartyMember.community_id == demo.community_id)):
        assert member.name not in page
    for resident in db.session.scalars(select(Resident).where(Resident.community_id == demo.community_id)):
        if resident.phone:
            assert resident.phone not in page


def test_the_map_is_drawn_from_coordinates_without_tiles(demo, client):
    response = client.get(f"/map?community={demo.community_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    stations = db.session.scalars(select(MapStation).where(MapStation.community_id == demo.community_id)).all()
    assert stations and all(s.name in page for s in stations)
    assert page.count("<circle class=\"st ") == len(stations)
    assert page.count('class="bldg"') >= 30  # the demo's buildings have coordinates
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", page)  # nothing from the internet
    xs = [float(x) for x in re.findall(r'<circle class="st [a-z]+" cx="([\d.]+)"', page)]
    assert xs and all(0 <= x <= 800 for x in xs)


def test_the_map_finds_the_nearest_station_for_a_service_from_a_building(demo, client):
    building = db.session.scalars(select(Building).where(Building.community_id == demo.community_id)
                                  .order_by(Building.id)).first()
    page = client.get(f"/map?community={demo.community_id}&service=blood_pressure&building={building.id}"
                      ).get_data(as_text=True)
    offering = [s for s in db.session.scalars(select(MapStation).where(MapStation.community_id == demo.community_id))
                if "blood_pressure" in (s.services or [])]
    others = [s for s in db.session.scalars(select(MapStation).where(MapStation.community_id == demo.community_id))
              if "blood_pressure" not in (s.services or [])]
    assert offering and all(s.name in page for s in offering)
    assert all(f"{s.name}（" not in page for s in others)
    assert f"距{building.name}约" in page and "我的位置" in page


def test_bad_map_arguments_are_answered_without_a_traceback(demo, client):
    assert client.get("/map?community=NOPE").status_code == 404
    assert "没有这个社区" in client.get("/map?community=NOPE").get_data(as_text=True)
    response = client.get(f"/map?community={demo.community_id}&service=<script>&building=abc")
    assert response.status_code == 200 and "<script>" not in response.get_data(as_text=True)
    assert client.get("/map?community=%00").status_code == 404
