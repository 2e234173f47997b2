"""The FAB user extended with its binding (org, member) and lockout state."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, false
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
    member_unit_id = Column(Integer, ForeignKey("member_unit.id"), nullable=True)  # 会员单位经办人's unit
    member_unit = relationship("MemberUnit")
    mobile = Column(String(11), nullable=True)  # one-time passwords and reset codes go here
    # a provisioned account's one-time password must be changed before anything else (I-9)
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=false())
