"""疗休养基地 and their products, with the per-product-per-day counter that caps reservations."""
from __future__ import annotations

from sqlalchemy import (CheckConstraint, Column, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow


class BaseStatus(LabeledEnum):
    ACTIVE = "active", "正常"      # takes reservations
    SUSPENDED = "suspended", "暂停"  # its products are not offered


class ProductCategory(LabeledEnum):
    MEAL = "meal", "餐饮套餐"
    ACTIVITY = "activity", "景点活动"
    LODGING = "lodging", "住宿"


class ProductStatus(LabeledEnum):
    ON_SALE = "on_sale", "上架"    # offered to declarers
    OFF_SALE = "off_sale", "下架"  # kept for past orders, not offered


class RecupBase(Model):
    """疗休养基地. ``org_id`` is its county federation (admins' scope); managers are users bound by
    ``AppUser.recup_base_id`` (scope ``own_base``)."""

    __tablename__ = "recup_base"
    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # 所在区县
    org = relationship("Org")
    address = Column(String(255))
    contact = Column(String(50))
    phone = Column(String(20))
    status = Column(String(16), nullable=False, default=BaseStatus.ACTIVE)
    created_at = Column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def status_label(self) -> str:
        return BaseStatus.label_of(self.status)


class Product(Model):
    """产品: 职工价 (``price``) never above 团队价 (``group_price``, S000:L47)."""

    __tablename__ = "recup_product"
    id = Column(Integer, primary_key=True)
    base_id = Column(Integer, ForeignKey("recup_base.id"), nullable=False, index=True)
    base = relationship("RecupBase", backref="products")
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)  # = the base's county (scope)
    category = Column(String(16), nullable=False)
    name = Column(String(120), nullable=False)
    price = Column(Numeric(10, 2), nullable=False)        # 职工价
    group_price = Column(Numeric(10, 2), nullable=False)  # 团队价
    daily_capacity = Column(Integer, nullable=False)
    available_from = Column(Date)
    available_to = Column(Date)
    status = Column(String(16), nullable=False, default=ProductStatus.ON_SALE)
    description = Column(Text)
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("base_id", "name", name="uq_recup_product_base_name"),
                      CheckConstraint("price <= group_price", name="ck_recup_product_price"),
                      CheckConstraint("daily_capacity >= 0", name="ck_recup_product_capacity"))

    def __repr__(self) -> str:
        return f"{self.name}（{ProductCategory.label_of(self.category)} {self.price} 元）" if self.name else ""

    @property
    def category_label(self) -> str:
        return ProductCategory.label_of(self.category)

    @property
    def status_label(self) -> str:
        return ProductStatus.label_of(self.status)


class ProductDay(Model):
    """Reserved quantity of one product on one date: reservations take it with one conditional
    UPDATE (``reserved + q <= capacity``), so concurrent declarers never oversell."""

    __tablename__ = "recup_product_day"
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("recup_product.id"), nullable=False)
    product = relationship("Product")
    day = Column(Date, nullable=False)
    base_id = Column(Integer, ForeignKey("recup_base.id"), nullable=False)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    capacity = Column(Integer, nullable=False)   # the product's daily capacity when the row was made (kept in step)
    reserved = Column(Integer, nullable=False, default=0)

    __table_args__ = (UniqueConstraint("product_id", "day", name="uq_recup_product_day"),
                      CheckConstraint("reserved >= 0 AND reserved <= capacity", name="ck_recup_product_day_cap"),
                      Index("ix_recup_product_day_base", "base_id", "day"))

    @property
    def remaining(self) -> int:
        return max((self.capacity or 0) - (self.reserved or 0), 0)
