"""The FAB user extended with its binding (org, member, merchant), lockout state and session epoch."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, event, text
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
    recup_base_id = Column(Integer, ForeignKey("recup_base.id"), nullable=True)  # 基地管理员's base
    recup_base = relationship("RecupBase")
    mobile = Column(String(11), nullable=True)  # one-time passwords and reset codes go here
    # a provisioned account's one-time password must be changed before anything else (I-9)
    must_change_password = Column(Boolean, nullable=False, default=False, server_default=text("false"))  # portable: SQLite (3.23+) and PostgreSQL both read it
    # Every browser session and API token carries the epoch it was issued under; raising it
    # revokes them all, server-side (a captured cookie or refresh token stops working).
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")

    def revoke_sessions(self) -> None:
        """End every session and token of this account (they carry an older epoch)."""
        self.session_epoch = (self.session_epoch or 0) + 1


# Whatever path changes them (forms, reset, CLI, provisioning, lockout), these revoke the sessions.
@event.listens_for(AppUser.password, "set")
def _password_changed(user, value, oldvalue, _initiator):
    if value != oldvalue:
        user.revoke_sessions()


@event.listens_for(AppUser.active, "set", active_history=True)
def _deactivated(user, value, oldvalue, _initiator):
    if oldvalue is True and not value:
        user.revoke_sessions()


@event.listens_for(AppUser.locked_until, "set")
def _locked(user, value, _oldvalue, _initiator):
    if value is not None:
        user.revoke_sessions()
