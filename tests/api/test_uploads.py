"""Photo uploads (POST /uploads), photos on a report and on a resolution, and the form's emergency deadline."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from app.extensions import db
from app.handlers import uploads
from app.handlers.org.auth import RESIDENT, STAFF, issue_token
from app.models import Upload
from app.models.requests import ServiceRequest
from tests import factories as f

GPS_IFD = 0x8825


def bearer(row) -> dict:
    kind = STAFF if row.__tablename__ == "staff" else RESIDENT
    return {"Authorization": f"Bearer {issue_token(kind, row.id).token}"}


def jpeg(size=(800, 600), *, gps: bool = False, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (200, 80, 40, 128) if mode == "RGBA" else (200, 80, 40))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 46.0, 12.0), 3: "E", 4: (119.0, 57.0, 30.0)})
        image.save(out, fmt, exif=exif.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def w(app, clock):
    community = f.community(name="富强新村社区")
    duty = f.staff(community=community, roles=("duty",), name="李建国")
    resident = f.resident(community_id=community.id, name="王秀英")
    neighbour = f.resident(community_id=community.id, name="张三华")
    db.session.commit()
    return {"community": community, "duty": duty, "resident": resident, "neighbour": neighbour}


def post_photo(client, who, data: bytes, name="photo.jpg", field="file"):
    return client.post("/api/v1/uploads", headers=bearer(who), content_type="multipart/form-data",
                       data={field: (io.BytesIO(data), name)})


def test_a_photo_is_stored_upright_without_exif_and_served_back(app, client, w):
    response = post_photo(client, w["resident"], jpeg((4000, 3000), gps=True))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["url"] == f"/api/v1/uploads/{body['key']}.jpg" and len(body["key"]) == 43
    assert (body["width"], body["height"]) == (1920, 2560)  # turned upright, shrunk to 2560 px
    stored = uploads.file_path(body["key"])
    assert stored.is_file() and str(stored).startswith(app.instance_path)
    served = client.get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (1920, 2560) and not image.getexif().get_ifd(GPS_IFD) and "exif" not in image.info
    assert db.session.get(Upload, body["id"]).community_id == w["community"].id


def test_png_and_webp_become_jpeg(client, w):
    for data in (jpeg(fmt="PNG", mode="RGBA"), jpeg(fmt="WEBP")):
        response = post_photo(client, w["resident"], data, name="x.png")
        assert response.status_code == 201 and response.get_json()["content_type"] == "image/jpeg"


@pytest.mark.parametrize("data, field_name, status", [
    (b"not an image at all", "file", 400),
    (b"", "file", 400),
    (b"GIF89a" + b"\x00" * 100, "file", 400),
    (jpeg()[:200], "file", 400),                  # a truncated JPEG
    (jpeg(), "photo", 400),                       # the wrong form field
])
def test_what_is_not_a_photo_is_refused_on_the_file_field(client, w, data, field_name, status):
    response = post_photo(client, w["resident"], data, field=field_name)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == "file"
    assert db.session.query(Upload).count() == 0


def test_a_file_over_10_mb_is_413(client, w):
    response = post_photo(client, w["resident"], b"\xff\xd8\xff" + b"0" * uploads.MAX_BYTES)
    assert response.status_code == 413
    assert response.get_json()["error"] == {"code": "too_large", "field": "file",
                                            "message": response.get_json()["error"]["message"]}


def test_uploads_need_a_login_and_unknown_photos_are_404(client, w):
    anonymous = client.post("/api/v1/uploads", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(jpeg()), "a.jpg")})
    assert anonymous.status_code == 401
    assert client.get(f"/api/v1/uploads/{'A' * 43}.jpg").status_code == 404
    assert client.get("/api/v1/uploads/short.jpg").status_code == 404


def test_the_daily_limit(client, w, monkeypatch):
    monkeypatch.setattr(uploads, "DAILY_LIMIT", 2)
    assert [post_photo(client, w["resident"], jpeg()).status_code for _ in range(3)] == [201, 201, 429]
    assert post_photo(client, w["neighbour"], jpeg()).status_code == 201


# ---- photos on requests ------------------------------------------------------------------------

def report(client, who, **body):
    return client.post("/api/v1/my/requests", headers=bearer(who), json={"text": "3栋楼道墙皮脱落", **body})


def test_a_report_carries_my_uploads(client, w):
    urls = [post_photo(client, w["resident"], jpeg()).get_json()["url"] for _ in range(2)]
    response = report(client, w["resident"], photos=["http://linli.example" + urls[0], urls[1]])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["photos"] == urls  # kept as paths on this server
    detail = client.get(f"/api/v1/requests/{response.get_json()['id']}", headers=bearer(w["duty"])).get_json()
    assert detail["photos"] == urls


def test_someone_elses_or_a_made_up_upload_is_refused(client, w):
    theirs = post_photo(client, w["neighbour"], jpeg()).get_json()["url"]
    mine = post_photo(client, w["resident"], jpeg()).get_json()["url"]
    response = report(client, w["resident"], photos=[mine, theirs])
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "photos[1]"
    made_up = report(client, w["resident"], photos=[f"/api/v1/uploads/{'B' * 43}.jpg"])
    assert made_up.status_code == 400 and made_up.get_json()["error"]["field"] == "photos[0]"
    assert db.session.query(ServiceRequest).count() == 0


def test_a_resident_without_a_community_gives_the_photo_the_request_community(client, w):
    newcomer = f.resident()
    db.session.commit()
    upload = post_photo(client, newcomer, jpeg()).get_json()
    assert db.session.get(Upload, upload["id"]).community_id is None
    response = report(client, newcomer, photos=[upload["url"]], community_id=w["community"].id)
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Upload, upload["id"]).community_id == w["community"].id


def test_resolution_photos_are_shown_to_staff_and_the_resident(client, w):
    request_id = report(client, w["resident"]).get_json()["id"]
    photos = [post_photo(client, w["duty"], jpeg()).get_json()["url"] for _ in range(3)]
    refused = client.post(f"/api/v1/requests/{request_id}/resolve", headers=bearer(w["duty"]),
                          json={"note": "已修补", "photos": "not a list"})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "photos"
    resolved = client.post(f"/api/v1/requests/{request_id}/resolve", headers=bearer(w["duty"]),
                           json={"note": "墙皮已铲除重新粉刷", "photos": photos})
    assert resolved.status_code == 200, resolved.get_json()
    staff_view = client.get(f"/api/v1/requests/{request_id}", headers=bearer(w["duty"])).get_json()
    assert staff_view["resolution_photos"] == photos and staff_view["photos"] == []
    mine = client.get(f"/api/v1/my/requests/{request_id}", headers=bearer(w["resident"])).get_json()
    assert mine["resolution_photos"] == photos
    assert [p["photos"] for p in mine["progress"] if p["kind"] == "resolved"] == [photos]


def test_a_resident_upload_cannot_be_a_resolution_photo(client, w):
    request_id = report(client, w["resident"]).get_json()["id"]
    theirs = post_photo(client, w["resident"], jpeg()).get_json()["url"]
    response = client.post(f"/api/v1/requests/{request_id}/resolve", headers=bearer(w["duty"]),
                           json={"note": "已处理", "photos": [theirs]})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "photos[0]"


# ---- the form's deadline class -------------------------------------------------------------------

def test_danger_now_gets_the_emergency_deadline_whatever_the_category(client, w, clock):
    trapped = report(client, w["resident"], text="5栋电梯困人了，快来人").get_json()
    row = db.session.get(ServiceRequest, trapped["id"])
    assert (row.category, row.urgency, row.building_id) == ("repair", "emergency", None)
    assert row.due_at - row.created_at == timedelta(hours=2)
    picked = report(client, w["resident"], text="楼道一股煤气味", category="other").get_json()
    assert db.session.get(ServiceRequest, picked["id"]).urgency == "emergency"
    plain = report(client, w["resident"], text="3栋2单元楼道灯坏了").get_json()
    assert db.session.get(ServiceRequest, plain["id"]).urgency != "emergency"
    suggestion = client.post("/api/v1/requests/classify", headers=bearer(w["resident"]),
                             json={"text": "厨房着火了"}).get_json()
    assert suggestion["urgency"] == "emergency"


def test_a_photo_larger_than_the_api_body_limit_is_still_taken(app, client, w):
    noise = Image.frombytes("RGB", (1600, 1200), __import__("os").urandom(1600 * 1200 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    assert app.config["MAX_CONTENT_LENGTH"] < len(out.getvalue()) < uploads.MAX_BYTES
    response = post_photo(client, w["resident"], out.getvalue())
    assert response.status_code == 201, response.get_json()
