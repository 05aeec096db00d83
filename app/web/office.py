"""Console pages of the community office: the roster (who is on duty now, the gaps), the SLA alerts
with their delivery state, and the record of sent messages (发送记录).

Scoped as the API's roster and alert routes (app/api/sla.py): the staff member's community;
alerts for community admins only.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.clock import now
from app.extensions import db
from app.handlers.alerts import alert_view
from app.handlers.inbox import REPLY_ROLES
from app.handlers.reports.outbound import sent_messages
from app.handlers.sla import roster
from app.localtime import local_midnight, to_local
from app.models import Alert, Message, ResidentGroup, Role, Staff
from app.models.alerts import ALERT_KIND_LABELS
from app.web.login import current_staff, staff_required
from app.web.support import arg_id, demo_mode, preload, protect

bp = protect(Blueprint("web_office", __name__, url_prefix="/console"))

ROSTER_DAYS = 7
GAP_DAYS = 14
ALERTS_SHOWN = 30
# Who a recipient is for this alert (app/handlers/alerts.py and its callers) and the channel it went by.
ROLE_LABELS = {"duty": "值班人员", "lead": "值班长", "admin": "社区管理员", "group": "值班群", "staff": "工作人员",
               "assignee": "承办人", "responsible": "负责人"}
CHANNEL_LABELS = {"wework": "企业微信", "group": "群", "mp": "公众号", "miniprogram": "小程序"}
DELIVERY_LABELS = {"pending": "待发送", "queued": "排队中", "sent": "已送达", "failed": "发送失败",
                   "rejected": "被拒绝", "no_channel": "无联系渠道", "sending": "发送中", "unknown": "结果未知"}


@bp.get("/roster")
@staff_required()
def roster_page():
    staff = current_staff()
    at = now()
    start = local_midnight(to_local(at).date())
    shifts = roster.shifts_between(staff.community_id, start, start + timedelta(days=ROSTER_DAYS))
    holes = roster.gaps(staff.community_id, at, at + timedelta(days=GAP_DAYS))
    return render_template("console/roster.html", on_duty=roster.on_duty(staff.community_id, at), shifts=shifts,
                           gaps=holes, gap_days=GAP_DAYS, at=at)


@bp.get("/alerts")
@staff_required(Role.COMMUNITY_ADMIN.value)
def alerts_page():
    staff = current_staff()
    rows = db.session.scalars(select(Alert).options(selectinload(Alert.recipients))
                              .where(Alert.community_id == staff.community_id)
                              .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(ALERTS_SHOWN)).all()
    recipients = [r for alert in rows for r in alert.recipients]
    loaded = (preload(Staff, (r.staff_id for r in recipients)) + preload(Message, (r.message_id for r in recipients))  # noqa: F841
              + preload(ResidentGroup, (r.group_id for r in recipients)))
    return render_template("console/alerts.html", alerts=[alert_view(a) for a in rows], kinds=ALERT_KIND_LABELS,
                           deliveries=DELIVERY_LABELS, roles=ROLE_LABELS, channels=CHANNEL_LABELS)


@bp.get("/sent")
@staff_required(*REPLY_ROLES)
def sent_page():
    staff = current_staff()
    rows = sent_messages(staff.community_id, limit=100, after_id=arg_id("after") or 0)
    template = "console/_sent_items.html" if request.args.get("partial") else "console/sent.html"
    return render_template(template, rows=rows, demo=demo_mode())
