"""疗休养 notifications (requirement: 站内信 + SMS): plan submitted, plan returned by the union,
group formed, a booking cancelled by a base, complaint answered, the window open.

Each goes as a 站内信 to every account bound to the member (``AppUser.member_id``) and as one SMS
to the member's phone through the outbox; nothing is committed here, so both exist exactly when
the caller's event does.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services import messages, outbox
from models.members import Member
from models.messages import MessageCategory
from models.security import AppUser

# template → 站内信 title (the SMS text is outbox.SMS_TEMPLATES[template])
TITLES = {
    "recup_submitted": "疗休养计划已上报",
    "recup_returned": "疗休养计划被退回",
    "recup_grouped": "已加入平台拼团",
    "recup_group_formed": "疗休养拼团已成团",
    "recup_booking_cancelled": "基地取消了您的预约",
    "recup_complaint_answered": "投诉已答复",
    "recup_window_open": "疗休养申报已开放",
}


def member_accounts(session: Session, member_id: int) -> list[int]:
    return list(session.scalars(select(AppUser.id).where(AppUser.member_id == member_id).order_by(AppUser.id)))


def send(session: Session, member: Member, template: str, params: dict, *, related=None) -> int:
    """One 站内信 per account of ``member`` and one SMS; returns the number of 站内信 (no commit)."""
    params = {"name": member.name, **params}
    body = outbox.SMS_TEMPLATES[template].format(**params).removeprefix("【工会服务】")
    accounts = member_accounts(session, member.id)
    for user_id in accounts:
        messages.notify(session, recipient_id=user_id, category=MessageCategory.RECUPERATION,
                        title=TITLES[template], body=body, related=related)
    if member.phone:
        outbox.queue_sms(session, member.phone, template, params, related=related)
    return len(accounts)


def complaint_answered(session: Session, complaint) -> int:
    member = session.get(Member, complaint.member_id)
    reply = complaint.reply if len(complaint.reply) <= 60 else complaint.reply[:60] + "…"
    return send(session, member, "recup_complaint_answered",
                {"base": complaint.base.name if complaint.base else "疗休养", "reply": reply}, related=complaint)


def group_formed(session: Session, group) -> int:
    """已成团: every member assigned to the group is told (no commit). Returns the members told."""
    from models.recuperation import Declaration

    told = 0
    for declaration in session.scalars(select(Declaration).where(Declaration.tour_group_id == group.id)):
        send(session, declaration.member, "recup_group_formed",
             {"year": declaration.year, "group": group.route, "starts": group.starts_on.isoformat()
              if group.starts_on else "待定", "operator": group.operator or "承办单位"}, related=declaration)
        told += 1
    return told


def announce_window(session: Session, now=None) -> int:
    """Scheduled: on the year's opening day (Beijing) every member with an account is told once that
    declarations are open. The policy row is claimed by a conditional update first, so two runs of
    the job never send twice. Commits. Returns the members told."""
    from sqlalchemy import update

    from models.base import utcnow
    from models.recuperation import RecuperationPolicy

    from .policy import beijing_today

    now = now or utcnow()
    today = beijing_today(now)
    policy = session.scalar(select(RecuperationPolicy).where(RecuperationPolicy.year == today.year))
    if policy is None or today < policy.opens_on or (policy.closes_on and today > policy.closes_on) \
            or policy.window_announced_at is not None:
        return 0
    claimed = session.execute(update(RecuperationPolicy).where(RecuperationPolicy.id == policy.id,
                                                               RecuperationPolicy.window_announced_at.is_(None))
                              .values(window_announced_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        session.rollback()
        return 0
    closes = policy.closes_on or policy.opens_on.replace(month=12, day=31)
    params = {"year": policy.year, "opens": f"{policy.opens_on.month}月{policy.opens_on.day}日",
              "closes": f"{closes.month}月{closes.day}日"}
    members = session.scalars(select(Member).where(Member.id.in_(select(AppUser.member_id).where(
        AppUser.member_id.is_not(None)))).order_by(Member.id)).all()
    for member in members:
        send(session, member, "recup_window_open", params, related=policy)
    session.commit()
    return len(members)
