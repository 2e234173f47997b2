"""给付 (S002:L65–68): filed by the member's union at the city centre, reviewed and paid through
CLAIM_FLOW (the review-flow engine).

Rules: the member holds a valid card (正常) on the incident date and a registration covers it;
critical illness = one of exactly four categories, first diagnosed within the period AND treated in
hospital → 10,000.00, once per member and category for life (A-16); accident within the period →
total disability or death (established within 180 days, A-15) → 30,000.00 at most per accident."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services import numbers, review_flow
from app.services.errors import DomainError, NotFoundError
from models.base import utcnow
from models.members import Member
from models.service_cards import (
    CLAIM_FLOW,
    COUNTED_CLAIM,
    BenefitKind,
    CardBenefitClaim,
    ClaimStatus,
    DiseaseCategory,
)

from .cards import valid_card_on
from .coverage import beijing_date, coverage_on

CRITICAL_AMOUNT = Decimal("10000.00")
ACCIDENT_AMOUNT = Decimal("30000.00")
ESTABLISHED_WITHIN_DAYS = 180  # the default of the setting CARD_CLAIM_ESTABLISHED_DAYS


def claim_scope(actor):
    return org_scope_clause(CardBenefitClaim.org_id, actor)


def file_claim(session: Session, *, actor, member_id: int, kind: str, incident_date: date,
               disease_category: str | None = None, hospitalized: bool = False, established_on: date | None = None,
               beneficiary: str | None = None, materials: str | None = None, today: date | None = None,
               established_within: int = ESTABLISHED_WITHIN_DAYS) -> CardBenefitClaim:
    """申请给付 by the member's union (the actor's scope holds the member).

    Raises:
        NotFoundError (member outside scope), DomainError (every rule above, in Chinese).
    """
    member = session.scalars(select(Member).where(Member.id == member_id,
                                                  org_scope_clause(Member.org_id, actor))).first()
    if member is None:
        raise NotFoundError("会员不存在或不在您的管辖范围内")
    if kind not in {k.value for k in BenefitKind}:
        raise DomainError("请选择给付类型（重大疾病、意外全残或意外身故）", field="kind")
    today = today or beijing_date()
    if incident_date is None or incident_date > today:
        raise DomainError("确诊或事故日期不能为空，且不能晚于今天", field="incident_date")
    coverage = coverage_on(session, member.id, incident_date)
    if coverage is None:
        raise DomainError(f"{incident_date:%Y-%m-%d} 不在该会员已注册的保障期内，不能给付", field="incident_date")
    if valid_card_on(session, member.id, incident_date) is None:
        raise DomainError(f"该会员在 {incident_date:%Y-%m-%d} 未持有效（正常状态）的会员服务卡，不能给付",
                          field="incident_date")
    counted = (CardBenefitClaim.member_id == member.id) & CardBenefitClaim.status.in_(COUNTED_CLAIM)
    if kind == BenefitKind.CRITICAL:
        if disease_category not in {c.value for c in DiseaseCategory}:
            raise DomainError("重大疾病须为四类之一：恶性肿瘤、终末期肾病、良性脑肿瘤、重大器官移植术或造血干细胞移植术",
                              field="disease_category")
        if not hospitalized:
            raise DomainError("重大疾病须经住院治疗方可给付", field="hospitalized")
        if session.scalar(select(func.count()).where(counted, CardBenefitClaim.kind == BenefitKind.CRITICAL,
                                                      CardBenefitClaim.disease_category == disease_category)):
            raise DomainError(f"该会员的「{DiseaseCategory.label_of(disease_category)}」已申请过给付（首次确诊一次性给付）",
                              field="disease_category")
        amount = CRITICAL_AMOUNT
    else:
        established_on = established_on or incident_date
        if established_on < incident_date or established_on > incident_date + timedelta(days=established_within):
            raise DomainError(f"全残或身故须在意外发生后{established_within}天内确定", field="established_on")
        if kind == BenefitKind.DEATH and not (beneficiary or "").strip():
            raise DomainError("意外身故须填写受益人", field="beneficiary")
        already = session.scalar(select(func.coalesce(func.sum(CardBenefitClaim.amount), 0)).where(
            counted, CardBenefitClaim.kind.in_([BenefitKind.DISABILITY, BenefitKind.DEATH]),
            CardBenefitClaim.incident_date == incident_date))
        amount = ACCIDENT_AMOUNT - Decimal(already)
        if amount <= 0:
            raise DomainError("同一意外已给付30,000.00元（每次意外最多一次性给付3万元）", field="incident_date")
        disease_category, hospitalized = None, False
    claim = CardBenefitClaim(
        number=numbers.daily_number(session, "GF"), member_id=member.id, org_id=member.org_id,
        coverage_id=coverage.id, kind=kind, incident_date=incident_date, established_on=established_on,
        disease_category=disease_category, hospitalized=bool(hospitalized), beneficiary=(beneficiary or None),
        amount=amount, materials=materials, status=ClaimStatus.FILED, filed_by_id=getattr(actor, "id", None))
    session.add(claim)
    session.flush()
    session.add(review_flow_trail_filed(claim, actor))
    session.commit()
    return claim


def review_flow_trail_filed(claim, actor):
    """The first trail row (filed by the union): the centre may not review its own filing."""
    from models.review import ReviewTrail

    return ReviewTrail(entity=CardBenefitClaim.__tablename__, entity_id=claim.id, action="file", action_label="申请给付",
                       from_status=None, to_status=ClaimStatus.FILED, actor_id=getattr(actor, "id", None),
                       actor_name=getattr(actor, "username", None) or "system")


def review_claim(session: Session, claim_id: int, action: str, *, actor, reason: str | None = None,
                 can=None) -> CardBenefitClaim:
    """审核通过 / 不予给付 / 确认给付 by the city centre."""
    claim = review_flow.apply_transition(session, CardBenefitClaim, claim_id, action, flow=CLAIM_FLOW, actor=actor,
                                         reason=reason, status_labels=ClaimStatus, scope_clause=claim_scope(actor),
                                         can=can)
    if action == "pay":
        claim.paid_at = utcnow()
    session.commit()
    return claim
