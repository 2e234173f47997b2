"""The trail of every review-flow step (处理轨迹), shared by all reviewed entities."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, ForeignKey, Index, Integer, String

from .base import Model, UTCDateTime, utcnow


@dataclass(frozen=True)
class Transition:
    """Where an action leads and who may take it.

    ``permission`` is the FAB permission (without ``can_``) on the entity's view;
    ``review`` marks steps that the submitter may not take himself;
    ``needs_reason`` marks rejections/returns.
    """

    to: str
    permission: str
    label: str
    review: bool = False
    needs_reason: bool = False


class ReviewTrail(Model):
    """One applied transition: who, when, from, to, why."""

    __tablename__ = "review_trail"
    id = Column(Integer, primary_key=True)
    entity = Column(String(40), nullable=False)
    entity_id = Column(Integer, nullable=False)
    action = Column(String(40), nullable=False)
    action_label = Column(String(40))
    from_status = Column(String(30))
    to_status = Column(String(30), nullable=False)
    actor_id = Column(Integer, ForeignKey("ab_user.id"))
    actor_name = Column(String(64), nullable=False)
    reason = Column(String(500))
    at = Column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_review_trail_entity", "entity", "entity_id", "id"),)
