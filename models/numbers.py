"""Document number counters (I-6): one row per series (e.g. ``enrollment:20250125``)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, String

from .base import Model


class NumberCounter(Model):
    """The last number issued in one series; bumped under a row lock."""

    __tablename__ = "number_counter"
    series = Column(String(60), primary_key=True)
    last = Column(BigInteger, nullable=False, default=0)
