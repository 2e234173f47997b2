"""普惠活动: merchants, coupons, claim activities under review, and their vouchers."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import object_session, relationship

from .base import LabeledEnum, Model, UTCDateTime, utcnow
from .review import Transition


class MerchantType(LabeledEnum):
    MERCHANT = "merchant", "商家"
    UNION = "union", "工会"      # a union registered as a merchant to hand out goods (seed step 1)


class Merchant(Model):
    __tablename__ = "merchant"
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the union that manages it
    org = relationship("Org")
    name = Column(String(120), nullable=False)
    contact = Column(String(50))
    mobile = Column(String(11))
    landline = Column(String(20))
    type = Column(String(10), nullable=False, default=MerchantType.MERCHANT)
    service_type = Column(String(50))
    tags = Column(String(255))
    region = Column(String(50))
    address = Column(String(255))
    intro = Column(Text)
    settled_date = Column(Date)
    licence_image = Column(String(255), info={"file_kinds": ("images",)})
    logo_image = Column(String(255), info={"file_kinds": ("images",)})
    longitude = Column(Numeric(10, 6))
    latitude = Column(Numeric(10, 6))
    online = Column(Boolean, default=False)
    created_at = Column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def type_label(self) -> str:
        return MerchantType.label_of(self.type)


class Coupon(Model):
    """优惠券: ``quantity`` in total; ``allocated`` of it promised to activity prizes."""

    __tablename__ = "coupon"
    id = Column(Integer, primary_key=True)
    merchant_id = Column(Integer, ForeignKey("merchant.id"), nullable=False, index=True)
    merchant = relationship("Merchant")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the merchant's union: scope
    type = Column(String(20), nullable=False, default="union_activity")  # 工会活动券
    title = Column(String(120), nullable=False)
    name = Column(String(120), nullable=False)
    quantity = Column(Integer, nullable=False)
    allocated = Column(Integer, nullable=False, default=0)
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date, nullable=False)
    face_value = Column(Numeric(12, 2), nullable=False)
    usage_condition = Column(String(255))
    intro = Column(Text)
    enabled = Column(Boolean, default=False)
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("allocated <= quantity", name="ck_coupon_not_over_allocated"),
        CheckConstraint("valid_from <= valid_to", name="ck_coupon_valid_range"),
    )

    def __repr__(self) -> str:
        return self.title or ""

    @property
    def remaining(self) -> int:
        return self.quantity - (self.allocated or 0)


class CouponAuthorization(Model):
    """授权: another merchant may redeem this coupon too."""

    __tablename__ = "coupon_authorization"
    id = Column(Integer, primary_key=True)
    coupon_id = Column(Integer, ForeignKey("coupon.id"), nullable=False)
    merchant_id = Column(Integer, ForeignKey("merchant.id"), nullable=False)
    __table_args__ = (UniqueConstraint("coupon_id", "merchant_id", name="uq_coupon_authorization"),)


class ActivityStatus(LabeledEnum):
    DRAFT = "draft", "草稿"          # editable by the publishing union
    PENDING = "pending", "待审核"     # submitted: locked for edits, never deletable again
    APPROVED = "approved", "审核通过"  # may be opened and closed; vouchers may be generated
    REJECTED = "rejected", "驳回"     # editable again, resubmittable


class ActivityRunStatus(LabeledEnum):
    IDLE = "idle", "未开启"
    OPEN = "open", "进行中"
    CLOSED = "closed", "已关闭"


class ClaimLimit(LabeledEnum):
    ONCE = "once", "仅限一次"
    DAILY = "daily", "每天N次"


class ActivityScope(LabeledEnum):
    OWN = "own", "本工会"
    SUBTREE = "subtree", "本工会及下级工会"


ACTIVITY_FLOW: dict[tuple[str, str], Transition] = {
    (ActivityStatus.DRAFT, "submit"): Transition(ActivityStatus.PENDING, "submit", "提交审核"),
    (ActivityStatus.REJECTED, "submit"): Transition(ActivityStatus.PENDING, "submit", "提交审核"),
    (ActivityStatus.PENDING, "approve"): Transition(ActivityStatus.APPROVED, "review", "审核通过", review=True),
    (ActivityStatus.PENDING, "reject"): Transition(ActivityStatus.REJECTED, "review", "驳回", review=True,
                                                   needs_reason=True),
}
# opening and closing apply to approved activities only (checked by the service)
ACTIVITY_RUN_FLOW: dict[tuple[str, str], Transition] = {
    (ActivityRunStatus.IDLE, "open"): Transition(ActivityRunStatus.OPEN, "operate", "开启"),
    (ActivityRunStatus.OPEN, "close"): Transition(ActivityRunStatus.CLOSED, "operate", "关闭"),
    (ActivityRunStatus.IDLE, "close"): Transition(ActivityRunStatus.CLOSED, "operate", "关闭"),
}


class Activity(Model):
    __tablename__ = "activity"
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # 发布工会
    org = relationship("Org")
    type = Column(String(20), nullable=False, default="claim")  # 领券活动
    title = Column(String(120), nullable=False)
    cover_image = Column(String(255), info={"file_kinds": ("images",)})
    claim_limit = Column(String(10), nullable=False, default=ClaimLimit.ONCE)
    claims_per_day = Column(Integer, nullable=False, default=1)
    scope = Column(String(10), nullable=False, default=ActivityScope.OWN)
    start_at = Column(UTCDateTime, nullable=False)
    end_at = Column(UTCDateTime, nullable=False)
    content = Column(Text)
    status = Column(String(10), nullable=False, default=ActivityStatus.DRAFT)
    run_status = Column(String(10), nullable=False, default=ActivityRunStatus.IDLE)
    vouchers_generated = Column(Boolean, nullable=False, default=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow)

    prizes = relationship("Prize", back_populates="activity", cascade="all, delete-orphan")
    __table_args__ = (UniqueConstraint("id", "org_id", name="uq_activity_org"),)  # vouchers' FK target

    def __repr__(self) -> str:
        return self.title or ""

    @property
    def status_label(self) -> str:
        return ActivityStatus.label_of(self.status)

    @property
    def run_status_label(self) -> str:
        return ActivityRunStatus.label_of(self.run_status)

    def _count(self, expr) -> int:
        session = object_session(self)
        return session.scalar(select(expr).where(Voucher.activity_id == self.id)) if session else 0

    @property
    def claim_count(self) -> int:
        """报名人数: vouchers claimed."""
        return self._count(func.count(Voucher.member_id))

    @property
    def participant_count(self) -> int:
        """参与人数: distinct members who claimed."""
        return self._count(func.count(func.distinct(Voucher.member_id)))

    @property
    def redeemed_count(self) -> int:
        """核销数."""
        return self._count(func.count(Voucher.redeemed_at))


class Prize(Model):
    """奖品: a coupon and how many of it the activity hands out."""

    __tablename__ = "prize"
    id = Column(Integer, primary_key=True)
    activity_id = Column(Integer, ForeignKey("activity.id"), nullable=False, index=True)
    activity = relationship("Activity", back_populates="prizes")
    coupon_id = Column(Integer, ForeignKey("coupon.id"), nullable=False)
    coupon = relationship("Coupon")
    quantity = Column(Integer, nullable=False)
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_prize_quantity_positive"),
        UniqueConstraint("id", "activity_id", "coupon_id", name="uq_prize_voucher_key"),  # vouchers' FK target
    )


class VoucherStatus(LabeledEnum):
    UNCLAIMED = "unclaimed", "未领取"
    CLAIMED = "claimed", "未使用"     # a member holds it
    REDEEMED = "redeemed", "已核销"
    EXPIRED = "expired", "已过期"


class Voucher(Model):
    """券码. ``claim_slot`` ("once" or "2026-11-22#2") makes the claim limit a constraint."""

    __tablename__ = "voucher"
    id = Column(Integer, primary_key=True)
    code = Column(String(14), nullable=False, unique=True)
    # two composite keys bind prize, activity, coupon and union together (and cost the bulk
    # generation two checks per row instead of four): see __table_args__
    org_id = Column(Integer, nullable=False, index=True)  # the activity's union: scope
    activity_id = Column(Integer, nullable=False)
    activity = relationship("Activity", foreign_keys=[activity_id, org_id], viewonly=True)
    prize_id = Column(Integer, nullable=False)
    coupon_id = Column(Integer, nullable=False)
    coupon = relationship("Coupon", primaryjoin="foreign(Voucher.coupon_id) == Coupon.id", viewonly=True)
    status = Column(String(10), nullable=False, default=VoucherStatus.UNCLAIMED)
    member_id = Column(Integer, ForeignKey("member.id"))
    claim_slot = Column(String(16))
    claimed_at = Column(UTCDateTime)
    redeemed_at = Column(UTCDateTime)
    redeemed_merchant_id = Column(Integer, ForeignKey("merchant.id"))
    redeemed_merchant = relationship("Merchant")
    redeemed_by_id = Column(Integer, ForeignKey("ab_user.id"))
    member = relationship("Member")
    expires_on = Column(Date, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["prize_id", "activity_id", "coupon_id"], ["prize.id", "prize.activity_id", "prize.coupon_id"],
                             name="fk_voucher_prize"),
        ForeignKeyConstraint(["activity_id", "org_id"], ["activity.id", "activity.org_id"], name="fk_voucher_activity"),
        # the next free voucher of an activity: one index range
        Index("ix_voucher_activity_status", "activity_id", "status", "id"),
        # claimed vouchers only: generating 100,000 unclaimed ones writes no entries here
        Index("ix_voucher_member", "member_id", postgresql_where=text("member_id IS NOT NULL"),
              sqlite_where=text("member_id IS NOT NULL")),
        Index("uq_voucher_claim_slot", "activity_id", "member_id", "claim_slot", unique=True,
              postgresql_where=text("member_id IS NOT NULL"), sqlite_where=text("member_id IS NOT NULL")),
    )

    @property
    def status_label(self) -> str:
        return VoucherStatus.label_of(self.status)

    @property
    def coupon_title(self) -> str:
        return self.coupon.title

    @property
    def face_value(self):
        return self.coupon.face_value

    @property
    def member_masked(self) -> str:
        from app.masking import mask_name

        return mask_name(self.member.name) if self.member else ""
