"""The FAB user extended with its binding (org, member) and lockout state."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import relationship

from .base import UTCDateTime


class AppUser(User):
    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}
    org_id = Column(Integer, ForeignKey("org.id"), nullable=True)
    org = relationship("Org")
    member_id = Column(Integer, ForeignKey("member.id"), nullable=True)
    member = relationship("Member")
    merchant_id = Column(Integer, ForeignKey("merchant.id"), nullable=True)  # 商家管理员's merchant
    merchant = relationship("Merchant")
    locked_until = Column(UTCDateTime, nullable=True)
