"""The one review-flow engine: applies a transition table to any status column.

Each reviewed model declares ``{(status, action): Transition}``. ``apply_transition``
locks the row, checks the table, refuses self-approval, requires a reason where the
step says so, sets the status and writes the trail row and an audit row. It does
not commit: the domain service that calls it does.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services import audit
from app.services.errors import (
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ReasonRequiredError,
    SelfApprovalError,
)
from models.audit import AuditEvent
from models.review import ReviewTrail, Transition


def actions_from(flow: dict, status: str) -> list[str]:
    """Actions the table allows from ``status`` (for buttons and API hints)."""
    return [action for (src, action) in flow if src == status]


def flow_actions(flow: dict) -> dict[str, Transition]:
    """One representative transition per action name (labels and permissions)."""
    out: dict[str, Transition] = {}
    for (_src, action), transition in flow.items():
        out.setdefault(action, transition)
    return out


def apply_transition(
    session: Session,
    model,
    entity_id: int,
    action: str,
    *,
    flow: dict,
    actor,
    reason: str | None = None,
    status_attr: str = "status",
    status_labels=None,
    scope_clause=None,
    can=None,
    obj=None,
):
    """Apply ``action`` to the row ``model(entity_id)`` under ``flow``.

    Rules enforced:
      - the row exists and satisfies ``scope_clause`` (else NotFoundError → 404);
      - ``(current status, action)`` is in the table;
      - ``can(permission)`` when given (entry points without FAB's decorator);
      - review steps: the actor is not the one who submitted the current state;
      - steps marked ``needs_reason`` carry a non-blank reason.

    Raises:
        NotFoundError, InvalidTransitionError, PermissionDeniedError,
        SelfApprovalError, ReasonRequiredError.

    ``obj``: the row itself, already loaded under a row lock (``SELECT … FOR UPDATE``) by a caller
    that checked its scope — the transition then costs no second read; or a new row (``entity_id``
    None), inserted here in its new state (one INSERT, no UPDATE after it).
    """
    if obj is None:
        stmt = select(model).where(model.id == entity_id)
        if scope_clause is not None:
            stmt = stmt.where(scope_clause)
        obj = session.scalars(stmt.with_for_update()).first()
    if obj is None:
        raise NotFoundError("记录不存在或不在您的管辖范围内")
    current = getattr(obj, status_attr)
    label_of = (lambda v: status_labels.label_of(v)) if status_labels else str
    transition = flow.get((current, action))
    if transition is None:
        label = flow_actions(flow).get(action)
        raise InvalidTransitionError(
            f"当前状态为「{label_of(current)}」，不能执行「{label.label if label else action}」"
        )
    if can is not None and not can(transition.permission):
        raise PermissionDeniedError("您没有执行该操作的权限")
    reason = (reason or "").strip()
    if transition.needs_reason and not reason:
        raise ReasonRequiredError(f"「{transition.label}」须填写原因")
    entity = model.__tablename__
    if transition.review:
        submitted_by = session.scalar(
            select(ReviewTrail.actor_id)
            .where(ReviewTrail.entity == entity, ReviewTrail.entity_id == entity_id,
                   ReviewTrail.to_status == current)
            .order_by(ReviewTrail.id.desc()).limit(1)
        )
        if actor is not None and submitted_by is not None and submitted_by == actor.id:
            raise SelfApprovalError("不能审核自己提交的申请")
    setattr(obj, status_attr, transition.to)
    if entity_id is None:
        session.flush()
        entity_id = obj.id
    actor_name = getattr(actor, "username", None) or audit.SYSTEM
    session.add(ReviewTrail(
        entity=entity, entity_id=entity_id, action=action, action_label=transition.label,
        from_status=current, to_status=transition.to, actor_id=getattr(actor, "id", None),
        actor_name=actor_name, reason=reason or None,
    ))
    audit.record(session, AuditEvent.ACTION, actor=actor, target_type=entity, target_id=entity_id,
                 summary=f"{transition.label}: {label_of(current)} → {label_of(transition.to)}",
                 detail={"action": action, "reason": reason} if reason else {"action": action})
    return obj


def trail_of(session: Session, model, entity_id: int) -> list[ReviewTrail]:
    """The 处理轨迹 of one row, oldest first."""
    return list(session.scalars(
        select(ReviewTrail)
        .where(ReviewTrail.entity == model.__tablename__, ReviewTrail.entity_id == entity_id)
        .order_by(ReviewTrail.id)
    ))
