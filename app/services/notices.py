"""公告通知 / 文章资讯 / 宣传手册 (I-11): written in the back office as sanitized rich text with a
cover and an attachment, published to an org's subtree, read by the workers of that subtree."""
from __future__ import annotations

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.security import org_scope_clause
from app.services import attachments, review_flow
from app.services.errors import DomainError, NotFoundError
from app.validators import normalize_text
from models.base import utcnow
from models.notices import ARTICLE_FLOW, COVER, FILE, Article, ArticleKind, ArticleStatus
from models.organizations import Org

MAX_BODY = 200_000
# what an editor may keep: text structure, links, images (no scripts, styles or event handlers)
TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "a",
        "img", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "hr"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"},
              "th": {"colspan", "rowspan"}}


def sanitize(html: str | None) -> str:
    """The body as an allow-list keeps it (nh3/ammonia): ``<script>``, ``onerror=``, ``javascript:`` gone."""
    html = html or ""
    if len(html) > MAX_BODY:
        raise DomainError(f"正文不能超过{MAX_BODY // 1000}千字符", code="bad_request")
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def prepare(article: Article, actor) -> None:
    """Before a back-office save: title required, kind known, body sanitized."""
    article.title = normalize_text(article.title)[:120]
    if not article.title:
        raise DomainError("请填写标题", field="title")
    if article.kind not in ArticleKind._value2member_map_:
        raise DomainError("请选择栏目", field="kind")
    article.body = sanitize(article.body)
    if article.created_by_id is None:
        article.created_by_id = getattr(actor, "id", None)


def publish_step(session: Session, article_id: int, action: str, *, actor) -> Article:
    """发布 / 下线 in the actor's scope. Commits.

    Raises:
        NotFoundError, InvalidTransitionError.
    """
    article = review_flow.apply_transition(session, Article, article_id, action, flow=ARTICLE_FLOW, actor=actor,
                                           status_labels=ArticleStatus,
                                           scope_clause=org_scope_clause(Article.org_id, actor))
    if action == "publish":
        article.published_at = utcnow()
    session.commit()
    return article


def set_file(session: Session, article_id: int, kind: str, file_name: str, data: bytes, *, actor) -> Article:
    """The cover picture (封面) or the attachment (附件, picture or PDF); a new one replaces the old. Commits.

    Raises:
        NotFoundError; DomainError: refused file.
    """
    article = session.scalar(select(Article).where(Article.id == article_id, org_scope_clause(Article.org_id, actor)))
    if article is None:
        raise NotFoundError("文章不存在")
    if kind not in (COVER, FILE):
        raise DomainError("附件类型不正确")
    for old in attachments.attachments_of(session, article, kind):
        attachments.delete_attachment(session, article, old.id)
    attachments.add_attachment(session, owner=article, kind=kind, file_name=file_name, data=data, actor=actor,
                               accept=(attachments.IMAGES,) if kind == COVER else (attachments.IMAGES, attachments.PDFS))
    session.commit()
    return article


def _visible(session: Session, org_ids: list[int]):
    """Articles published by one of these orgs or an org above them: the ancestors are read off the
    materialized paths (``/1/4/17/`` → orgs 1, 4, 17)."""
    ancestors = {int(part) for path in session.scalars(select(Org.path).where(Org.id.in_(org_ids or [-1])))
                 for part in path.strip("/").split("/") if part.isdigit()}
    return Article.org_id.in_(ancestors or [-1])


def published_for(session: Session, org_ids: list[int], *, kind=None, page: int = 0, size: int = 20) -> list[Article]:
    """What a worker reads: published articles of his org scope, newest first."""
    stmt = select(Article).where(Article.status == ArticleStatus.PUBLISHED, _visible(session, org_ids))
    if kind:
        labels = {k.label: k.value for k in ArticleKind}
        kind = labels.get(kind, kind)
        if kind not in ArticleKind._value2member_map_:
            raise DomainError(f"栏目须为：{'、'.join(k.label for k in ArticleKind)}", code="bad_request")
        stmt = stmt.where(Article.kind == kind)
    page = max(0, min(int(page or 0), 10_000))
    return list(session.scalars(stmt.order_by(Article.published_at.desc(), Article.id.desc())
                                .offset(page * size).limit(size)))


def published_one(session: Session, org_ids: list[int], article_id: int) -> Article:
    """Raises: NotFoundError — not published or not in the worker's scope."""
    article = session.scalar(select(Article).where(Article.id == article_id, Article.status == ArticleStatus.PUBLISHED,
                                                   _visible(session, org_ids)))
    if article is None:
        raise NotFoundError("文章不存在或已下线")
    return article
