"""My profile (``/my/profile``) and the community and building pickers (``/communities``).

The resident sees their own name and phone unmasked here (and nowhere else outside the staff API).
The phone is typed or comes from the mini-program's getPhoneNumber button: its one-time
``phone_code`` is exchanged with WeChat (getuserphonenumber) on the server, so the number is one
WeChat verified.
"""
from __future__ import annotations

from flask import current_app, jsonify

from app.api.auth import UpstreamError
from app.api.schemas import profile as schemas
from app.api.support import current_resident, json_body, route
from app.channels import wechat_api
from app.errors import ValidationError
from app.handlers.org import profile as org_profile

TAGS = ["profile"]


@route("/my/profile", summary="My profile: name and phone unmasked (to me), community, building, unit, room",
       auth="resident", tags=TAGS, responses={"200": {"description": "my profile"}}, returns=schemas.PROFILE)
def my_profile():
    return jsonify(org_profile.profile_view(current_resident()))


@route("/my/profile", ["PATCH"], auth="resident", tags=TAGS,
       summary="Change my profile; the fields sent change (null clears), phone typed or phone_code from getPhoneNumber",
       body={"type": "object", "additionalProperties": False, "properties": {
           "name": {"type": ["string", "null"], "maxLength": org_profile.MAX_NAME},
           "phone": {"type": ["string", "null"], "maxLength": 20,
                     "description": "11-digit mobile or a landline with its area code"},
           "phone_code": {"type": "string", "maxLength": 128,
                          "description": "getPhoneNumber's code; WeChat's number replaces a typed phone"},
           "community_id": {"type": "integer", "minimum": 1,
                            "description": "a new community clears the building unless building_id is sent"},
           "building_id": {"type": ["integer", "null"], "minimum": 1,
                           "description": "a building of the community (GET /communities/{id}/buildings)"},
           "unit": {"type": ["string", "null"], "maxLength": org_profile.MAX_UNIT},
           "room": {"type": ["string", "null"], "maxLength": org_profile.MAX_UNIT}}},
       returns=schemas.PROFILE, responses={"200": {"description": "my profile after the change"},
                  "400": {"description": "a field refused (field names it; phone_code: invalid or used code)",
                          "x-error-codes": ["invalid"]},
                  "502": {"description": "WeChat could not be asked for the phone number (field: phone_code)",
                          "x-error-codes": ["wechat_unavailable"]}})
def my_profile_update():
    resident = current_resident()
    data = json_body()
    verified = None
    if data.get("phone_code") not in (None, ""):
        verified = _exchange_phone_code(data["phone_code"])
    org_profile.update_profile(resident, data, verified_phone=verified)
    return jsonify(org_profile.profile_view(resident))


def _exchange_phone_code(code) -> str:
    if not isinstance(code, str) or len(code) > 128:
        raise ValidationError("手机号授权码无效，请重新授权 (invalid phone_code)", field="phone_code")
    try:
        answer = wechat_api.phone_number(code)
    except wechat_api.WeChatError as exc:
        if exc.code in (40029, "40029"):
            raise ValidationError("手机号授权已失效，请重新点击获取手机号 (invalid or used phone_code)",
                                  field="phone_code") from None
        current_app.logger.warning("getuserphonenumber refused: %s", exc.code)
        raise UpstreamError("暂时无法获取微信手机号，请手动填写 (WeChat unavailable)", field="phone_code") from None
    except wechat_api.TransportError as exc:
        current_app.logger.warning("getuserphonenumber failed: %s", exc)
        raise UpstreamError("暂时无法获取微信手机号，请手动填写 (WeChat unavailable)", field="phone_code") from None
    if answer["country_code"] != "86":
        raise ValidationError("暂只支持中国大陆手机号，请手动填写 (mainland numbers only)", field="phone_code")
    return org_profile.clean_phone(answer["phone"], "phone_code")


@route("/communities", summary="The communities a resident can choose", auth="none", tags=TAGS,
       responses={"200": {"description": "communities by street and name"}}, returns=schemas.COMMUNITIES)
def communities_list():
    return jsonify({"items": [org_profile.community_view(c) for c in org_profile.list_communities()]})


@route("/communities/<int:community_id>/buildings", summary="The buildings of a community (the building picker)",
       auth="none", tags=TAGS,
       returns=schemas.BUILDINGS, responses={"200": {"description": "buildings by compound and number"},
                  "404": {"description": "no such community", "x-error-codes": ["not_found"]}})
def community_buildings_list(community_id: int):
    return jsonify({"items": [org_profile.building_view(b) for b in org_profile.community_buildings(community_id)]})
