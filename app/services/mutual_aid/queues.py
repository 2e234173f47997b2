"""The figures an office watches (issue 10, item 7): pending registrations and their age,
enrollments by status, payable vs received per settlement period — scoped, exportable."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from models.base import DISPLAY_TZ, utcnow
from models.mutual_aid import Enrollment, EnrollmentStatus, MemberUnit, RegistrationStatus

from .enrollment import enrollment_scope
from .invoicing import period_figures


def pending_registrations(session: Session, actor, limit: int = 50) -> list[dict]:
    """注册/审核 pool, oldest first, with the age in hours (an SLA the office watches)."""
    now = utcnow()
    rows = session.scalars(select(MemberUnit).where(MemberUnit.status == RegistrationStatus.PENDING,
                                                    org_scope_clause(MemberUnit.org_id, actor))
                           .order_by(MemberUnit.registered_at).limit(limit)).all()
    return [{"id": u.id, "name": u.name, "office": u.org.name, "registered_at": u.registered_at,
             "age_hours": int((now - u.registered_at).total_seconds() // 3600)} for u in rows]


def enrollments_by_status(session: Session, actor) -> list[tuple[str, int]]:
    counts = dict(session.execute(select(Enrollment.status, func.count(Enrollment.id))
                                  .where(enrollment_scope(actor)).group_by(Enrollment.status)).all())
    return [(status.label, counts.get(status.value, 0)) for status in EnrollmentStatus]


def office_figures(session: Session, actor) -> dict:
    return {"pending": pending_registrations(session, actor),
            "pending_count": session.scalar(select(func.count(MemberUnit.id)).where(
                MemberUnit.status == RegistrationStatus.PENDING, org_scope_clause(MemberUnit.org_id, actor))),
            "by_status": enrollments_by_status(session, actor),
            "periods": period_figures(session, enrollment_scope(actor))}


def figure_rows(figures: dict):
    """The same figures as sheet rows (one sheet, three sections) for the xlsx export."""
    yield ["待审核注册", "", "", ""]
    yield ["单位名称", "办事处", "提交时间", "已等待（小时）"]
    for row in figures["pending"]:
        registered = row["registered_at"].astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
        yield [row["name"], row["office"], registered, row["age_hours"]]
    yield ["", "", "", ""]
    yield ["参保单状态", "数量", "", ""]
    for label, count in figures["by_status"]:
        yield [label, count, "", ""]
    yield ["", "", "", ""]
    yield ["结算期", "参保单数", "应缴金额（元）", "已到账金额（元）"]
    for row in figures["periods"]:
        yield [f"{row['month']}（{row['status']}）", row["count"], row["payable"], row["received"]]
