"""组织与单位: the union org tree (materialized path) and employers (units)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import LabeledEnum, Model, UTCDateTime, utcnow


class OrgLevel(LabeledEnum):
    CITY = "city", "市总工会"          # root of the tree
    COUNTY = "county", "区县/产业总工会"  # second level, carries the 3-digit district code
    BASE = "base", "基层工会"          # leaf: owns units and members
    PENDING = "pending", "待核实组织"    # typed in by a member, awaits an administrator


class Org(Model):
    """工会组织. ``path`` is ``/1/4/17/``: a subtree is one indexed prefix match."""

    __tablename__ = "org"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey("org.id"), index=True)
    parent = relationship("Org", remote_side=[id], backref="children")
    path = Column(String(255), nullable=False, default="", index=True)
    depth = Column(Integer, nullable=False, default=0)
    level = Column(String(16), nullable=False, default=OrgLevel.BASE)
    code = Column(String(16), index=True)
    name = Column(String(120), nullable=False, index=True)
    uscc = Column(String(18))
    chairman = Column(String(50))
    contact = Column(String(50))
    phone = Column(String(20))
    address = Column(String(255))
    created_at = Column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_org_path_pattern", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def level_label(self) -> str:
        return OrgLevel.label_of(self.level)

    def district_code(self) -> str:
        """The 3-digit code of the county-level ancestor (seed 002's member numbers)."""
        node = self
        while node is not None:
            if node.level == OrgLevel.COUNTY and node.code:
                return node.code[:3]
            node = node.parent
        return "000"


class UnitNature(LabeledEnum):
    ENTERPRISE = "enterprise", "企业"
    GOVERNMENT = "government", "机关"
    INSTITUTION = "institution", "事业单位"
    SOCIAL = "social", "社会组织"


class Unit(Model):
    """单位 (employer), seed 003 fig. 20. Belongs to one base union."""

    __tablename__ = "unit"
    id = Column(Integer, primary_key=True)
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    name = Column(String(120), nullable=False, index=True)
    uscc = Column(String(18), unique=True)
    leader = Column(String(50))
    phone = Column(String(20))
    nature = Column(String(16), default=UnitNature.ENTERPRISE)
    economic_type = Column(String(50))
    industry = Column(String(50))
    wage_negotiation = Column(Boolean, default=False)
    contract_valid_until = Column(Date)
    address = Column(String(255))
    employee_count = Column(Integer, default=0)
    migrant_count = Column(Integer, default=0)
    remark = Column(Text)
    created_at = Column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def nature_label(self) -> str:
        return UnitNature.label_of(self.nature)
