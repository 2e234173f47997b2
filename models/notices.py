"""公告通知 / 文章资讯 / 宣传手册 (I-11, S001:L27): written in the back office, read in the worker client."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import LabeledEnum, Model, UTCDateTime, utcnow
from .review import Transition


class ArticleKind(LabeledEnum):
    NOTICE = "notice", "公告通知"
    NEWS = "news", "文章资讯"
    BROCHURE = "brochure", "宣传手册"


class ArticleStatus(LabeledEnum):
    DRAFT = "draft", "草稿"            # being written: only the back office sees it
    PUBLISHED = "published", "已发布"  # visible to the workers of the org's subtree
    WITHDRAWN = "withdrawn", "已下线"  # taken down: editable, publishable again


ARTICLE_FLOW: dict[tuple[str, str], Transition] = {
    (ArticleStatus.DRAFT, "publish"): Transition(ArticleStatus.PUBLISHED, "publish", "发布"),
    (ArticleStatus.WITHDRAWN, "publish"): Transition(ArticleStatus.PUBLISHED, "publish", "发布"),
    (ArticleStatus.PUBLISHED, "withdraw"): Transition(ArticleStatus.WITHDRAWN, "publish", "下线"),
}
COVER, FILE = "cover", "file"  # attachment kinds


class Article(Model):
    """One article; ``org_id`` is the publishing org: its whole subtree reads it once published."""

    __tablename__ = "article"
    __audited__ = True

    id = Column(Integer, primary_key=True)
    kind = Column(String(10), nullable=False, default=ArticleKind.NOTICE)
    title = Column(String(120), nullable=False)
    body = Column(Text)                       # sanitized HTML (nh3) — never stored unsanitized
    org_id = Column(Integer, ForeignKey("org.id"), nullable=False, index=True)
    org = relationship("Org")
    status = Column(String(10), nullable=False, default=ArticleStatus.DRAFT)
    published_at = Column(UTCDateTime)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = Column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (Index("ix_article_status_kind", "status", "kind", "published_at"),)

    def __repr__(self) -> str:
        return self.title or ""

    @property
    def kind_label(self) -> str:
        return ArticleKind.label_of(self.kind)

    @property
    def status_label(self) -> str:
        return ArticleStatus.label_of(self.status)
