"""The resident's report form (诉求) in the mini-program API: filing a request, and the bot's
suggestion for the form as the resident types — the same understanding as a chat message."""
from __future__ import annotations

from flask import jsonify

from app.api.schemas import requests as schemas
from app.api.support import current_resident, field, json_body, route
from app.errors import ValidationError
from app.extensions import db
from app.handlers import requests as flow
from app.handlers.org.profile import adopt_community
from app.handlers.requests import resident_request_view
from app.handlers.requests.classify import FILED_AS_OTHER, suggest
from app.handlers.uploads import attach_photos
from app.models import Community
from app.models.requests import CATEGORY_LABELS

TAGS = ["requests"]

@route("/requests/classify", ["POST"], auth="any", tags=TAGS,
       summary="The bot's category, deadline class and place for a form's text (as the resident types)",
       responses={"200": {"description": "the suggestion"}},
       body={"type": "object", "required": ["text"], "properties": {
           "text": {"type": "string", "maxLength": flow.MAX_TEXT}}}, returns=schemas.REQUESTS_CLASSIFY_TEXT)
def requests_classify_text():
    text = field(json_body(), "text", str, max_length=flow.MAX_TEXT)
    return jsonify(suggest(text))


@route("/my/requests", ["POST"], summary="Report a problem (诉求) with up to 9 photos", auth="resident", tags=TAGS,
       responses={"201": {"description": "created; without a category the bot's (classified_by: bot); "
                                         "classification.needs_choice when the bot could not place the text "
                                         "(filed as other: let the resident pick); danger now (a person trapped, "
                                         "gas, fire) gets the emergency deadline"},
                  "400": {"description": "a field refused (field names it; photos[i]: not one of my uploads)"}},
       body={"type": "object", "required": ["text"], "properties": {
           "text": {"type": "string", "maxLength": flow.MAX_TEXT},
           "category": {"type": "string", "enum": list(CATEGORY_LABELS),
                        "description": "omitted: the bot classifies the text, as in chat"},
           "building": {"type": "string", "maxLength": 20}, "unit": {"type": "string", "maxLength": 20},
           "room": {"type": "string", "maxLength": 20},
           "photos": {"type": "array", "maxItems": flow.MAX_PHOTOS, "items": {"type": "string", "maxLength": 500},
                      "description": "urls from POST /uploads (my own uploads)"},
           "community_id": {"type": "integer", "minimum": 1,
                            "description": "only when my account has no community yet (it becomes mine)"}}},
       returns=schemas.MY_FILED_REQUEST)
def requests_create_mine():
    resident = current_resident()
    data = json_body()
    text = field(data, "text", str, max_length=flow.MAX_TEXT)
    category = field(data, "category", str, required=False, choices=flow.CATEGORIES)
    building = field(data, "building", (str, int), required=False)
    if isinstance(building, int):
        building = str(building)
    if building is not None and len(building) > 20:
        raise ValidationError("字段 building 过长 (longer than 20)", field="building")
    unit = field(data, "unit", str, required=False, max_length=20)
    room = field(data, "room", str, required=False, max_length=20)
    community_id = resident.community_id
    if community_id is None:
        community_id = int(field(data, "community_id", int, minimum=1))
        if db.session.get(Community, community_id) is None:
            raise ValidationError("社区不存在 (unknown community)", field="community_id")
        adopt_community(resident, community_id)  # committed with the request
    photos = attach_photos(_photos(data), uploader_kind="resident", uploader_id=resident.id,
                           community_id=community_id)
    classified_by, needs_choice = "resident", False
    # The bot reads every form, with a category or not: danger now ("电梯困人") is an emergency
    # (the emergency deadline) whatever category the resident picked.
    guess = suggest(text)
    if category is None:
        # Unplaceable text is still filed (a report is never refused for its wording), as 其他,
        # and the answer says so: the form lets the resident pick, staff may reclassify.
        category, classified_by, needs_choice = guess["category"] or "other", "bot", guess["needs_choice"]
        building = building or guess["building"]
        unit, room = unit or guess["unit"], room or guess["room"]
    row = flow.create_request(community_id=community_id, text=text, category=category, resident=resident,
                              building=building, unit=unit, room=room, channel="miniprogram", photos=photos,
                              source="form", classified_by=classified_by,
                              urgency="emergency" if guess["urgency"] == "emergency" else None)
    db.session.refresh(row)
    classification = {"by": classified_by, "needs_choice": needs_choice,
                      "message": FILED_AS_OTHER if needs_choice else None}
    return jsonify({**resident_request_view(row), "classification": classification}), 201


def _photos(data: dict) -> list[str]:
    photos = data.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) and p.strip() and len(p) <= 500 for p in photos):
        raise ValidationError("photos 必须是图片 media id 或链接的列表 (list of strings)", field="photos")
    if len(photos) > flow.MAX_PHOTOS:
        raise ValidationError(f"照片最多{flow.MAX_PHOTOS}张 (at most {flow.MAX_PHOTOS} photos)", field="photos")
    return [p.strip() for p in photos]
