"""会员: the member registry, its certification flow and transfer history."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import relationship

from app.masking import mask_id_number, mask_phone

from .base import LabeledEnum, Model, UTCDateTime, utcnow
from .review import Transition


class IdType(LabeledEnum):
    RESIDENT = "resident", "居民身份证"
    PASSPORT = "passport", "护照"
    HK_MACAO = "hk_macao", "港澳居民来往内地通行证"
    TAIWAN = "taiwan", "台湾居民来往大陆通行证"
    OTHER = "other", "其他"


class Gender(LabeledEnum):
    MALE = "male", "男"
    FEMALE = "female", "女"


class MembershipStatus(LabeledEnum):
    ACTIVE = "active", "在会"
    TRANSFERRED_OUT = "transferred_out", "转出"
    RETIRED = "retired", "退休"
    LEFT = "left", "离会"


class CertStatus(LabeledEnum):
    UNVERIFIED = "unverified", "未认证"  # never submitted
    PENDING = "pending", "待审核"        # submitted by the member, awaits the base union
    VERIFIED = "verified", "已认证"      # approved: real name confirmed
    REJECTED = "rejected", "驳回"        # returned with a reason; may be resubmitted


# (from status, action) -> (to status, permission on MemberView)
CERT_FLOW: dict[tuple[str, str], Transition] = {
    (CertStatus.UNVERIFIED, "submit"): Transition(CertStatus.PENDING, "submit_cert", "提交认证"),
    (CertStatus.REJECTED, "submit"): Transition(CertStatus.PENDING, "submit_cert", "提交认证"),
    (CertStatus.PENDING, "approve"): Transition(CertStatus.VERIFIED, "review", "认证通过", review=True),
    (CertStatus.PENDING, "reject"): Transition(
        CertStatus.REJECTED, "review", "驳回认证", review=True, needs_reason=True
    ),
}


class Member(Model):
    """会员 (seed 003 fig. 5). One person, one membership: ``id_number`` is unique."""

    __tablename__ = "member"
    __audited__ = True
    __audit_masked__ = {"id_number": mask_id_number, "phone": mask_phone}

    id = Column(Integer, primary_key=True)
    member_no = Column(String(10), unique=True)
    name = Column(String(50), nullable=False)
    phone = Column(String(11))
    id_type = Column(String(16), nullable=False, default=IdType.RESIDENT)
    id_number = Column(String(32), nullable=False, unique=True)
    gender = Column(String(8))
    birth_date = Column(Date)
    migrant_worker = Column(Boolean, default=False)  # nullable: FAB would make the checkbox required
    position = Column(String(50))
    join_date = Column(Date)
    unit_id = Column(Integer, ForeignKey("unit.id"))
    unit = relationship("Unit")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    org = relationship("Org")
    status = Column(String(20), nullable=False, default=MembershipStatus.ACTIVE)
    cert_status = Column(String(16), nullable=False, default=CertStatus.UNVERIFIED)
    remark = Column(Text)
    # 市民卡 (S000:L17–20): 市内疗休养 is paid by the citizen card at the bases' POS, so it needs one
    citizen_card_no = Column(String(32))
    has_citizen_card = Column(Boolean, default=False, server_default=text("false"))  # nullable: FAB would make the checkbox required
    created_at = Column(UTCDateTime, default=utcnow)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # newest-first pages inside one union
        Index("ix_member_org_id_id", "org_id", "id"),
        # one unit's members: org_id in the index lets the scoped COUNT run index-only (a unit of
        # 500 members costs 500 index entries, not 500 row look-ups)
        Index("ix_member_unit_id_id", "unit_id", "org_id", "id"),
        # name-prefix search: LIKE 'x%' (SQLite: case_sensitive_like; PG: pattern ops). org_id
        # first: a county's search visits only its unions' matches, not the whole city's (the
        # count and the page stay flat as other counties grow), index-only
        Index("ix_member_name", "org_id", "name", "id", postgresql_ops={"name": "varchar_pattern_ops"}),
        # the review queue (待审核): a partial index stays tiny and costs bulk imports nothing
        Index("ix_member_cert_pending", "org_id", postgresql_where=text("cert_status = 'pending'"),
              sqlite_where=text("cert_status = 'pending'")),
    )

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def holds_citizen_card(self) -> bool:
        return bool(self.has_citizen_card or (self.citizen_card_no or "").strip())

    @property
    def citizen_card_label(self) -> str:
        number = (self.citizen_card_no or "").strip()
        if number:
            return f"已登记（尾号{number[-4:]}）"
        return "有卡" if self.has_citizen_card else "未登记"

    # Masked properties are what lists, APIs and exports show.
    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def gender_label(self) -> str:
        return Gender.label_of(self.gender)

    @property
    def id_type_label(self) -> str:
        return IdType.label_of(self.id_type)

    @property
    def status_label(self) -> str:
        return MembershipStatus.label_of(self.status)

    @property
    def cert_status_label(self) -> str:
        return CertStatus.label_of(self.cert_status)


class MemberTransfer(Model):
    """转会记录: one row per move between base unions; the member keeps its number."""

    __tablename__ = "member_transfer"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member", backref="transfers")
    from_org_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    from_org = relationship("Org", foreign_keys=[from_org_id])
    to_org_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    to_org = relationship("Org", foreign_keys=[to_org_id])
    from_unit_id = Column(Integer, ForeignKey("unit.id"))
    from_unit = relationship("Unit", foreign_keys=[from_unit_id])
    to_unit_id = Column(Integer, ForeignKey("unit.id"))
    to_unit = relationship("Unit", foreign_keys=[to_unit_id])
    reason = Column(String(255), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    actor_name = Column(String(64))
    at = Column(UTCDateTime, default=utcnow, nullable=False)


class MemberNoCounter(Model):
    """The last member number issued per district (seed 002: 3-digit district + 7 digits)."""

    __tablename__ = "member_no_counter"
    district = Column(String(3), primary_key=True)
    last = Column(Integer, nullable=False, default=0)
