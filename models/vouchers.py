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
from sqlalchemy.ext.hybrid import hybrid_property
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


class CouponType(LabeledEnum):
    UNION_ACTIVITY = "union_activity", "工会活动券"  # the one type seed 003 uses (fig. 26)


class Coupon(Model):
    """优惠券: ``quantity`` in total; ``allocated`` of it promised to activity prizes.

    ``valid_from`` … ``valid_to`` is the redemption window, to the minute (seed 003: 有效日期（券核销的期限）).
    Face value, window, merchant and the quantity below what is allocated are locked while an
    activity using the coupon is submitted or approved (``vouchers.prepare_coupon``).
    """

    __tablename__ = "coupon"
    id = Column(Integer, primary_key=True)
    merchant_id = Column(Integer, ForeignKey("merchant.id"), nullable=False, index=True)
    merchant = relationship("Merchant")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the merchant's union: scope
    type = Column(String(20), nullable=False, default=CouponType.UNION_ACTIVITY)
    title = Column(String(120), nullable=False)
    name = Column(String(120), nullable=False)
    quantity = Column(Integer, nullable=False)
    allocated = Column(Integer, nullable=False, default=0)
    valid_from = Column(UTCDateTime, nullable=False)
    valid_to = Column(UTCDateTime, nullable=False)
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

    @property
    def type_label(self) -> str:
        return CouponType.label_of(self.type)


class CouponAuthorization(Model):
    """授权 (seed 003: 授权给其他商家（或个人）): another merchant, or one person's account, may redeem
    this coupon too. A person's redemptions are booked to the coupon's own merchant (A-23)."""

    __tablename__ = "coupon_authorization"
    id = Column(Integer, primary_key=True)
    coupon_id = Column(Integer, ForeignKey("coupon.id"), nullable=False)
    merchant_id = Column(Integer, ForeignKey("merchant.id"))
    merchant = relationship("Merchant")
    user_id = Column(Integer, ForeignKey("ab_user.id"))
    user = relationship("AppUser")
    __table_args__ = (
        UniqueConstraint("coupon_id", "merchant_id", name="uq_coupon_authorization"),
        UniqueConstraint("coupon_id", "user_id", name="uq_coupon_authorization_user"),
        CheckConstraint("(merchant_id IS NULL) <> (user_id IS NULL)", name="ck_coupon_authorization_one_holder"),
        Index("ix_coupon_authorization_user", "user_id"),
    )


class ActivityStatus(LabeledEnum):
    DRAFT = "draft", "草稿"          # editable by the publishing union
    PENDING = "pending", "待审核"     # submitted: locked for edits, never deletable again
    APPROVED = "approved", "审核通过"  # may be opened and closed; vouchers may be generated
    REJECTED = "rejected", "驳回"     # editable again, resubmittable
    WITHDRAWN = "withdrawn", "已撤回"  # closed after submission, before approval: never opened, prizes released


class ActivityEligibility(LabeledEnum):
    ALL = "all", "本范围全体会员"
    BIRTHDAY_MONTH = "birthday_month", "当月生日会员（生日蛋糕）"  # seed 003 L13/L27, A-24


class ActivityRunStatus(LabeledEnum):
    IDLE = "idle", "未开启"
    OPEN = "open", "进行中"      # opened; shown as 未开始 before start_at and 已结束 after end_at
    CLOSED = "closed", "已关闭"  # hidden from the app; may be opened again before end_at


class ActivityPhase(LabeledEnum):
    """What a clerk and a member read: the run status against the clock."""

    IDLE = "idle", "未开启"
    NOT_STARTED = "not_started", "未开始"
    OPEN = "open", "进行中"
    ENDED = "ended", "已结束"
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
    # seed 003 L447: after submission an activity can be closed, never deleted (vouchers-gaps defect 4)
    (ActivityStatus.PENDING, "close"): Transition(ActivityStatus.WITHDRAWN, "operate", "关闭"),
    (ActivityStatus.REJECTED, "close"): Transition(ActivityStatus.WITHDRAWN, "operate", "关闭"),
}
# 开启 / 关闭 is a toggle (seed 003 L462-472) for approved activities before their end (checked by the service)
ACTIVITY_RUN_FLOW: dict[tuple[str, str], Transition] = {
    (ActivityRunStatus.IDLE, "open"): Transition(ActivityRunStatus.OPEN, "operate", "开启"),
    (ActivityRunStatus.CLOSED, "open"): Transition(ActivityRunStatus.OPEN, "operate", "开启"),
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
    eligibility = Column(String(20), nullable=False, default=ActivityEligibility.ALL)
    start_at = Column(UTCDateTime, nullable=False)
    end_at = Column(UTCDateTime, nullable=False)
    content = Column(Text)
    status = Column(String(10), nullable=False, default=ActivityStatus.DRAFT)
    run_status = Column(String(10), nullable=False, default=ActivityRunStatus.IDLE)
    vouchers_generated = Column(Boolean, nullable=False, default=False)
    reviewed_at = Column(UTCDateTime)  # 审核时间: the last approval or rejection
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow)

    prizes = relationship("Prize", back_populates="activity", cascade="all, delete-orphan")
    # the merchants of the prizes' coupons: the list's 商家 filter
    merchants = relationship("Merchant", secondary=lambda: Prize.__table__.join(Coupon.__table__,
                                                                                 Prize.coupon_id == Coupon.id),
                             primaryjoin=lambda: Activity.id == Prize.activity_id,
                             secondaryjoin=lambda: Coupon.merchant_id == Merchant.id, viewonly=True)
    __table_args__ = (UniqueConstraint("id", "org_id", name="uq_activity_org"),)  # vouchers' FK target

    def __repr__(self) -> str:
        return self.title or ""

    @hybrid_property
    def name(self):
        """What the scoped lookups (the voucher list's 活动 filter) search and show: the title."""
        return self.title

    @property
    def status_label(self) -> str:
        return ActivityStatus.label_of(self.status)

    @property
    def phase(self) -> str:
        """``ActivityPhase``: an opened activity reads 未开始 before its start and 已结束 after its end."""
        if self.run_status != ActivityRunStatus.OPEN:
            return ActivityPhase.CLOSED if self.run_status == ActivityRunStatus.CLOSED else ActivityPhase.IDLE
        now = utcnow()
        if self.start_at is not None and now < self.start_at:
            return ActivityPhase.NOT_STARTED
        if self.end_at is not None and now > self.end_at:
            return ActivityPhase.ENDED
        return ActivityPhase.OPEN

    @property
    def run_status_label(self) -> str:
        return ActivityPhase.label_of(self.phase)

    @property
    def eligibility_label(self) -> str:
        return ActivityEligibility.label_of(self.eligibility)

    @property
    def trail_pk(self) -> int:
        """The 处理轨迹 column of the lists (rendered as a link by the view)."""
        return self.id

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
    redeemed_by_id = Column(Integer, ForeignKey("ab_user.id"))  # the operator, or the authorized person
    redeemed_by = relationship("AppUser")
    member = relationship("Member")
    face_value = Column(Numeric(12, 2), nullable=False)  # frozen at generation: what settlement sums
    expires_at = Column(UTCDateTime, nullable=False)     # the coupon's valid_to at generation

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
    def current_status(self) -> str:
        """The status as of now: past its expiry a voucher reads 已过期 before the hourly job marks it."""
        if self.status in (VoucherStatus.UNCLAIMED, VoucherStatus.CLAIMED) and self.expires_at is not None \
                and self.expires_at < utcnow():
            return VoucherStatus.EXPIRED
        return self.status

    @property
    def status_label(self) -> str:
        return VoucherStatus.label_of(self.current_status)

    @property
    def coupon_title(self) -> str:
        return self.coupon.title

    @property
    def member_masked(self) -> str:
        from app.masking import mask_name

        return mask_name(self.member.name) if self.member else ""
