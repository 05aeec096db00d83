"""Admin API of the working-day calendar: the State Council's yearly notice, previewed then imported.

The calendar is the deployment's, not one community's: every community admin
and street admin may import the notice (the same as `linli calendar import`).
``confirm: false`` (the default) answers what was understood and what would
change; ``confirm: true`` applies it in one transaction, then open deadlines and
upcoming bookings follow (``followed``: app/handlers/calendar_sync.py). A notice with any
problem is refused as a whole: 400 with ``field: "text"`` and ``problems``,
one per line at fault.
"""
from __future__ import annotations

from app.api.schemas import sla as schemas
from app.api.support import current_staff, field, json_body, require_role, route
from app.handlers.calendar.notice_import import plan_view
from app.handlers.calendar_sync import import_notice
from app.models import Role

ADMIN_ROLES = (Role.COMMUNITY_ADMIN.value, Role.STREET_ADMIN.value)
MAX_TEXT = 100_000


@route("/calendar/import", methods=["POST"], tags=["calendar"],
       summary="Import the State Council's holiday notice (preview, or apply with confirm)",
       body={"type": "object", "required": ["text"], "properties": {
           "text": {"type": "string", "maxLength": MAX_TEXT,
                    "description": "the notice as published, title included"},
           "confirm": {"type": "boolean", "default": False, "description": "false: preview only"}}},
       responses={"200": {"description": "what was understood; applied when confirmed"},
                  "400": {"description": "a problem in the notice (field text, problems by line) or the body"}},
       returns=schemas.IMPORT_CALENDAR_NOTICE, errors={400: ["invalid_notice"], 404: ["not_found"]})
def import_calendar_notice():
    staff = current_staff()
    require_role(staff, *ADMIN_ROLES)
    data = json_body()
    text = field(data, "text", str, max_length=MAX_TEXT)
    confirm = field(data, "confirm", bool, required=False, default=False)
    plan, followed = import_notice(text, confirm=confirm, actor_type="staff", actor_id=staff.id)
    return {**plan_view(plan), "followed": followed.view()}
