"""分流落实: the decision becomes tasks — a request, a need (co-building project), a proxy case, or a task.

Requests and proxy cases belong to their own domains: a task only names one by id
and reads its status (``app.models``) to know when it is finished; nothing here
changes them. A need is created on the need list when the task asks for one.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.clock import now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.governance import fields
from app.handlers.governance.errors import not_found, refuse
from app.localtime import iso, local_date
from app.models import Case, Need, ServiceRequest, Staff, Topic, TopicEvent, TopicTask
from app.models.deliberation import TASK_KINDS
from app.models.governance import NEED_STATUSES
from app.models.proxy import CASE_STATUS_LABELS
from app.models.requests import DONE_STATUSES, STATUS_LABELS

TASK_FIELDS = ("kind", "ref_id", "title", "owner_staff_id", "deadline", "note", "need")


def add_task(topic: Topic, data: dict[str, Any], staff: Staff, *, create_need=None) -> TopicTask:
    """Add a task of the decision. ``create_need(data) -> Need`` makes the need for kind "need" without a ref."""
    fields.only_known(data, TASK_FIELDS)
    if topic.stage != "carry_out":
        raise refuse(f"议题{topic.number}不在“分流落实”阶段，不能添加任务", "invalid_state", 409)
    kind = fields.choice(data, "kind", "任务类型", TASK_KINDS, required=True)
    ref_id = fields.ident(data, "ref_id", TASK_KINDS[kind])
    title = fields.text(data, "title", "任务名称", max_length=100)
    if kind == "need" and ref_id is None:
        if create_need is None or not isinstance(data.get("need"), dict):
            raise refuse("请填写已有需求的编号（ref_id），或在 need 中写明要新建的需求", field="ref_id")
        ref_id = create_need(data["need"]).id
    elif kind != "task" and ref_id is None:
        raise refuse(f"请填写{TASK_KINDS[kind]}的编号", field="ref_id")
    default_title = _check_ref(topic.community_id, kind, ref_id)
    owner_id = fields.ident(data, "owner_staff_id", "负责人") or topic.owner_staff_id
    owner = db.session.get(Staff, owner_id) if owner_id else None
    if owner_id and (owner is None or owner.community_id != topic.community_id):
        raise not_found("负责人（本社区工作人员）", "owner_staff_id")
    task = TopicTask(topic_id=topic.id, kind=kind, ref_id=ref_id, title=title or default_title or "",
                     owner_staff_id=owner_id, deadline=fields.day(data, "deadline", "完成期限") or topic.deadline,
                     note=fields.text(data, "note", "备注", max_length=500), created_by_staff_id=staff.id)
    if not task.title:
        raise refuse("请填写任务名称", field="title")
    db.session.add(task)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise refuse(f"这个{TASK_KINDS[kind]}已经是本议题的任务了", "duplicate", 409, field="ref_id") from None
    db.session.add(TopicEvent(topic_id=topic.id, at=now(), actor_type="staff", actor_id=staff.id, kind="task",
                              detail={"task_id": task.id, "kind": kind, "ref_id": ref_id, "title": task.title}))
    record("staff", staff.id, "governance.topic.task", topic, community_id=topic.community_id,
           detail={"task_id": task.id, "kind": kind, "ref_id": ref_id})
    db.session.commit()
    return task


def _check_ref(community_id: int, kind: str, ref_id: int | None) -> str | None:
    """The referenced row must exist in this community; returns its title for a default task name."""
    if kind == "task":
        return None
    model = {"request": ServiceRequest, "case": Case, "need": Need}[kind]
    row = db.session.get(model, ref_id)
    if row is None or row.community_id != community_id:
        raise not_found(TASK_KINDS[kind], "ref_id")
    if kind == "request":
        return f"诉求{row.code}：{row.title}"
    if kind == "case":
        return f"代办件{row.code}"
    return f"共建需求：{row.title}"


def finish_task(topic: Topic, task: TopicTask, note: Any, staff: Staff) -> TopicTask:
    """A plain task is marked done by staff; the others finish when their request, case or need does."""
    if task.kind != "task":
        raise refuse(f"{TASK_KINDS[task.kind]}任务随{TASK_KINDS[task.kind]}办结自动完成", "derived", 409)
    if task.done_at is None:
        task.done_at = now()
        task.note = fields.text({"note": note}, "note", "完成情况", max_length=500) or task.note
        db.session.add(TopicEvent(topic_id=topic.id, at=task.done_at, actor_type="staff", actor_id=staff.id,
                                  kind="task_done", detail={"task_id": task.id, "note": task.note}))
        db.session.commit()
    return task


def task_in(topic: Topic, task_id: int) -> TopicTask:
    task = db.session.get(TopicTask, task_id)
    if task is None or task.topic_id != topic.id:
        raise not_found("任务", "task_id")
    return task


def tasks_of(topic_id: int) -> list[TopicTask]:
    return list(db.session.scalars(select(TopicTask).where(TopicTask.topic_id == topic_id).order_by(TopicTask.id)))


def status_of(task: TopicTask) -> dict[str, Any]:
    """finished: followed to its end (done, or a request/need that ended otherwise), and the status in words."""
    if task.kind == "task":
        done = task.done_at is not None
        return {"finished": done, "done": done, "label": "已完成" if done else "进行中"}
    if task.kind == "request":
        row = db.session.get(ServiceRequest, task.ref_id)
        done = row.status in DONE_STATUSES
        return {"finished": done or row.status in ("rejected", "merged"), "done": done,
                "label": STATUS_LABELS.get(row.status, row.status)}
    if task.kind == "case":
        row = db.session.get(Case, task.ref_id)
        return {"finished": row.status == "done", "done": row.status == "done",
                "label": CASE_STATUS_LABELS.get(row.status, row.status)}
    row = db.session.get(Need, task.ref_id)
    return {"finished": row.status in ("done", "closed"), "done": row.status == "done",
            "label": NEED_STATUSES.get(row.status, row.status)}


def task_view(task: TopicTask) -> dict[str, Any]:
    status = status_of(task)
    owner = db.session.get(Staff, task.owner_staff_id) if task.owner_staff_id else None
    overdue = bool(task.deadline and not status["finished"] and task.deadline < local_date(now()))
    return {"id": task.id, "kind": task.kind, "kind_label": TASK_KINDS.get(task.kind, task.kind),
            "ref_id": task.ref_id, "title": task.title, "owner": owner.public_view() if owner else None,
            "deadline": task.deadline.isoformat() if task.deadline else None, "status": status["label"],
            "finished": status["finished"], "done": status["done"], "overdue": overdue,
            "done_at": iso(task.done_at), "note": task.note}
