"""计划申报: a member's plan for a year, its itinerary, the bases' orders, consumption, groups."""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import relationship

from app.masking import mask_id_number, mask_phone

from ..base import LabeledEnum, Model, UTCDateTime, utcnow
from ..review import Transition
from .policy import RecupType


class DeclarationStatus(LabeledEnum):
    DRAFT = "draft", "草稿"              # editable; the type too until the first submit
    SUBMITTED = "submitted", "已上报"    # reservations held; modifiable until the first travel day
    UNIT_APPROVED = "unit_approved", "单位已审核"  # 平台拼团: the member's union approved it
    GROUPED = "grouped", "已组团"        # 平台拼团: assigned to a tour group by the platform
    TRAVELLING = "travelling", "出行中"  # the first travel day has come: no more edits
    COMPLETED = "completed", "已完成"    # the last travel day has passed
    CANCELLED = "cancelled", "已取消"    # reservations released; the type stays locked for the year


# (from, action) → Transition; applied by app/services/review_flow.py (permission on DeclarationView)
DECLARATION_FLOW: dict[tuple[str, str], Transition] = {
    (DeclarationStatus.DRAFT, "submit"): Transition(DeclarationStatus.SUBMITTED, "declare", "计划上报"),
    (DeclarationStatus.SUBMITTED, "resubmit"): Transition(DeclarationStatus.SUBMITTED, "declare", "修改计划重新上报"),
    (DeclarationStatus.SUBMITTED, "unit_approve"): Transition(DeclarationStatus.UNIT_APPROVED, "review", "单位审核通过",
                                                              review=True),
    (DeclarationStatus.SUBMITTED, "unit_reject"): Transition(DeclarationStatus.DRAFT, "review", "单位审核退回",
                                                             review=True, needs_reason=True),
    (DeclarationStatus.UNIT_APPROVED, "resubmit"): Transition(DeclarationStatus.SUBMITTED, "declare",
                                                              "修改计划重新上报"),  # back to unit review
    (DeclarationStatus.UNIT_APPROVED, "group"): Transition(DeclarationStatus.GROUPED, "group", "平台组团"),
    (DeclarationStatus.SUBMITTED, "cancel"): Transition(DeclarationStatus.CANCELLED, "declare", "取消计划"),
    (DeclarationStatus.UNIT_APPROVED, "cancel"): Transition(DeclarationStatus.CANCELLED, "declare", "取消计划"),
    (DeclarationStatus.CANCELLED, "redeclare"): Transition(DeclarationStatus.DRAFT, "declare", "重新申报"),
    (DeclarationStatus.SUBMITTED, "start"): Transition(DeclarationStatus.TRAVELLING, "declare", "开始出行"),
    (DeclarationStatus.GROUPED, "start"): Transition(DeclarationStatus.TRAVELLING, "declare", "开始出行"),
    (DeclarationStatus.TRAVELLING, "finish"): Transition(DeclarationStatus.COMPLETED, "declare", "出行结束"),
}

LIVE_STATUSES = (DeclarationStatus.SUBMITTED, DeclarationStatus.UNIT_APPROVED, DeclarationStatus.GROUPED,
                 DeclarationStatus.TRAVELLING, DeclarationStatus.COMPLETED)


class Declaration(Model):
    """计划申报: one per member per year. ``locked_type`` is set at the first submit and never
    changes again (S000:L27), whatever path (resubmit, cancel + redeclare) is taken."""

    __tablename__ = "recup_declaration"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False)
    member = relationship("Member")
    year = Column(Integer, nullable=False)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the union (or a PENDING org)
    org = relationship("Org")
    type = Column(String(20), nullable=False)
    locked_type = Column(String(20))
    status = Column(String(20), nullable=False, default=DeclarationStatus.DRAFT)
    destination = Column(String(200))          # 本单位组织 / 平台拼团: destination or route preference
    planned_from = Column(Date)                # 本单位组织 / 平台拼团: planned dates
    planned_to = Column(Date)
    first_travel_date = Column(Date)
    last_travel_date = Column(Date)
    planned_total = Column(Numeric(10, 2), nullable=False, default=0)
    over_budget = Column(Boolean, nullable=False, default=False, server_default=text("false"))
    commitment_accepted_at = Column(UTCDateTime)
    first_submitted_at = Column(UTCDateTime)
    last_submitted_at = Column(UTCDateTime)
    version = Column(Integer, nullable=False, default=0)
    tour_group_id = Column(Integer, ForeignKey("recup_tour_group.id"), index=True)
    tour_group = relationship("TourGroup", backref="declarations")
    declared_by_id = Column(Integer, ForeignKey("ab_user.id"))  # the member's account or a union clerk
    created_at = Column(UTCDateTime, default=utcnow)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("member_id", "year", name="uq_recup_declaration_member_year"),
                      Index("ix_recup_declaration_year_org", "year", "org_id"))

    def __repr__(self) -> str:
        return f"{self.year}年度计划申报" if self.year else ""

    @property
    def type_label(self) -> str:
        return RecupType.label_of(self.type)

    @property
    def status_label(self) -> str:
        return DeclarationStatus.label_of(self.status)

    @property
    def member_name(self) -> str:
        return self.member.name if self.member else ""


class DeclarationDay(Model):
    """One day of the itinerary (第N日); also the insurance roster's row (S000:L56)."""

    __tablename__ = "recup_declaration_day"
    id = Column(Integer, primary_key=True)
    declaration_id = Column(Integer, ForeignKey("recup_declaration.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    declaration = relationship("Declaration", backref="days")
    seq = Column(Integer, nullable=False)
    day = Column(Date, nullable=False, index=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)  # the declaration's union (scope)
    items = relationship("DeclarationItem", backref="declaration_day", cascade="all, delete-orphan",
                         order_by="DeclarationItem.id")

    __table_args__ = (UniqueConstraint("declaration_id", "seq", name="uq_recup_declaration_day_seq"),)

    # what the insurance roster shows (masked)
    @property
    def member_name(self) -> str:
        return self.declaration.member.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.declaration.member.id_number)

    @property
    def bases(self) -> str:
        return "、".join(dict.fromkeys(i.product.base.name for i in self.items))

    @property
    def org(self):
        return self.declaration.org


class DeclarationItem(Model):
    """A product chosen for one day, with the price when chosen."""

    __tablename__ = "recup_declaration_item"
    id = Column(Integer, primary_key=True)
    day_id = Column(Integer, ForeignKey("recup_declaration_day.id", ondelete="CASCADE"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("recup_product.id"), nullable=False)
    product = relationship("Product")
    quantity = Column(Integer, nullable=False, default=1)
    price = Column(Numeric(10, 2), nullable=False)


class ReservationStatus(LabeledEnum):
    RESERVED = "reserved", "已预约"    # held against the product's daily capacity
    CANCELLED = "cancelled", "已取消"  # released (plan modified or cancelled)
    CONSUMED = "consumed", "已消费"    # the member came


# (from, action) → Transition; the base's own step on its order (app/services/recuperation/orders.py)
RESERVATION_FLOW: dict[tuple[str, str], Transition] = {
    (ReservationStatus.RESERVED, "base_cancel"): Transition(ReservationStatus.CANCELLED, "cancel", "基地取消预约",
                                                            needs_reason=True),
}


class Reservation(Model):
    """A base's order: created the moment a plan is submitted or modified (S000:L39)."""

    __tablename__ = "recup_reservation"
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("recup_product.id"), nullable=False)
    product = relationship("Product")
    base_id = Column(Integer, ForeignKey("recup_base.id"), nullable=False)
    base = relationship("RecupBase")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)  # the base's county (admins' scope)
    day = Column(Date, nullable=False)
    quantity = Column(Integer, nullable=False)
    price = Column(Numeric(10, 2), nullable=False)
    declaration_id = Column(Integer, ForeignKey("recup_declaration.id"), nullable=False, index=True)
    declaration = relationship("Declaration", backref="reservations")
    member_name = Column(String(50), nullable=False)
    member_phone = Column(String(11))
    version = Column(Integer, nullable=False)  # the declaration version that took it
    status = Column(String(16), nullable=False, default=ReservationStatus.RESERVED)
    created_at = Column(UTCDateTime, default=utcnow)
    cancelled_at = Column(UTCDateTime)

    __table_args__ = (Index("ix_recup_reservation_base_day", "base_id", "day", "status"),)

    @property
    def status_label(self) -> str:
        return ReservationStatus.label_of(self.status)

    @property
    def member_phone_masked(self) -> str:
        return mask_phone(self.member_phone)


class Consumption(Model):
    """POS / 市民卡 consumption at a base, imported from statements (the balance's source)."""

    __tablename__ = "recup_consumption"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    member = relationship("Member")
    base_id = Column(Integer, ForeignKey("recup_base.id"), nullable=False, index=True)
    base = relationship("RecupBase")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)  # the base's county
    amount = Column(Numeric(10, 2), nullable=False)
    at = Column(UTCDateTime, nullable=False)
    serial = Column(String(64), nullable=False, unique=True)   # the statement's 流水号 (re-import harmless)
    source_file = Column(String(255))


class TourGroupStatus(LabeledEnum):
    FORMING = "forming", "组团中"
    FORMED = "formed", "已成团"
    TRAVELLED = "travelled", "已出行"
    CANCELLED = "cancelled", "已取消"


class TourGroup(Model):
    """平台拼团: a route run by an operator that 单位已审核 declarations are assigned to."""

    __tablename__ = "recup_tour_group"
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # the organizing federation
    org = relationship("Org")
    route = Column(String(120), nullable=False)
    operator = Column(String(120))
    destination = Column(String(120), nullable=False)
    starts_on = Column(Date)
    ends_on = Column(Date)
    capacity = Column(Integer, nullable=False, default=40)
    status = Column(String(16), nullable=False, default=TourGroupStatus.FORMING)
    created_at = Column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"{self.route}（{self.destination}）" if self.route else ""

    @property
    def status_label(self) -> str:
        return TourGroupStatus.label_of(self.status)


class FrontlineRoster(Model):
    """一线职工名单 imported by a city or county federation (A-19)."""

    __tablename__ = "recup_frontline_roster"
    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False)
    member = relationship("Member")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)  # the importing federation (scope)
    org = relationship("Org")

    __table_args__ = (UniqueConstraint("year", "member_id", name="uq_recup_frontline_year_member"),)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.member.id_number) if self.member else ""

    @property
    def member_org(self):
        return self.member.org if self.member else None
