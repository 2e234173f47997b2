"""Yearly recuperation policy (申报窗口, types allowed, reference budget, commitment)."""
from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Table, Text
from sqlalchemy.orm import relationship

from ..base import LabeledEnum, Model, UTCDateTime, utcnow


class RecupType(LabeledEnum):
    CITY_ALL = "city_all", "市内-全市"
    CITY_COUNTY = "city_county", "市内-区县"          # only counties that enabled it
    PROV_UNIT = "prov_unit", "省内-本单位组织"         # filing only
    PROV_PLATFORM = "prov_platform", "省内-平台拼团"   # unit review → platform grouping
    OUT_UNIT = "out_unit", "省外-本单位组织"           # filing only
    OUT_PLATFORM = "out_platform", "省外-平台拼团"     # unit review → platform grouping
    FRONTLINE = "frontline", "一线职工疗休养"           # members on a federation's 一线 roster
    NONE = "none", "本年度不参加"                      # filing only


CITY_TYPES = (RecupType.CITY_ALL, RecupType.CITY_COUNTY)
PLATFORM_TYPES = (RecupType.PROV_PLATFORM, RecupType.OUT_PLATFORM)
UNIT_TYPES = (RecupType.PROV_UNIT, RecupType.OUT_UNIT)


policy_county = Table(
    "recup_policy_county", Model.metadata,
    Column("policy_id", Integer, ForeignKey("recup_policy.id"), primary_key=True),
    Column("org_id", Integer, ForeignKey("org.id"), primary_key=True),
)


class RecuperationPolicy(Model):
    """One row per year, edited by the city admin. Window dates are Beijing calendar days."""

    __tablename__ = "recup_policy"
    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False, unique=True)
    opens_on = Column(Date, nullable=False)     # default 01-10 (S000:L58), 00:00 Beijing
    closes_on = Column(Date)                    # last day declarations are taken (A-18: default 31 Dec)
    allowed_types_csv = Column(String(200), nullable=False, default=",".join(t.value for t in RecupType))
    destinations = Column(String(500))          # allowed out-of-province destinations (对口支援地区)
    budget = Column(Numeric(10, 2), nullable=False, default=400)       # 参考标准 (warning only, A-20)
    entitlement = Column(Numeric(10, 2), nullable=False, default=400)  # the year's 额度 (balance)
    commitment_text = Column(Text)
    counties = relationship("Org", secondary=policy_county)            # offering 市内-区县
    window_announced_at = Column(UTCDateTime)  # "申报已开放" sent to the members (once, by the beat job)
    created_at = Column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"{self.year}年度疗休养政策" if self.year else ""

    @property
    def allowed_types(self) -> list[str]:
        return [t for t in (self.allowed_types_csv or "").split(",") if t]

    @allowed_types.setter
    def allowed_types(self, values) -> None:
        self.allowed_types_csv = ",".join(t.value for t in RecupType if t.value in set(values or []))

    @property
    def allowed_types_label(self) -> str:
        return "、".join(RecupType.label_of(t) for t in self.allowed_types)
