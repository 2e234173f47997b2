"""公告通知 / 文章资讯 / 宣传手册 (I-11): sanitized on save, published to an org's subtree, listed in the
worker API only when published and in the worker's scope; 发布 / 下线; the refused side."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.services import notices
from app.services.errors import InvalidTransitionError, NotFoundError
from models.notices import Article, ArticleStatus
from models.organizations import Org
from models.security import AppUser
from tests.factories import county
from tests.mutual_aid.conftest import finance, office, office_staff, plan, unit_and_handler  # noqa: F401
from tests.mutual_aid.test_subsidies_api import api, token  # noqa: F401 (fixtures)
from tests.mutual_aid.worker_fixtures import covered, png, worker  # noqa: F401 (fixtures)


def _article(ctx, org, title="关于开展2026年度职工互助保障活动的通知", body="<p>正文</p>", kind="notice"):
    article = Article(kind=kind, title=title, body=body, org_id=org.id)
    notices.prepare(article, None)
    ctx.add(article)
    ctx.commit()
    return article


def _admin(ctx, name="county_admin"):
    return ctx.scalar(select(AppUser).where(AppUser.username == name))


def test_the_body_is_sanitized():
    dirty = '<p onclick="steal()">通知<script>alert(1)</script><a href="javascript:alert(1)">链接</a>' \
            '<img src="https://x.invalid/a.png" onerror="x()"></p><style>p{}</style>'
    clean = notices.sanitize(dirty)
    assert "script" not in clean and "onclick" not in clean and "onerror" not in clean and "javascript" not in clean
    assert "<style" not in clean and "通知" in clean and '<img src="https://x.invalid/a.png">' in clean


def test_publish_and_withdraw_follow_the_flow(ctx):
    article = _article(ctx, county(ctx, 0))
    admin = _admin(ctx)
    notices.publish_step(ctx, article.id, "publish", actor=admin)
    assert article.status == ArticleStatus.PUBLISHED and article.published_at is not None
    with pytest.raises(InvalidTransitionError):
        notices.publish_step(ctx, article.id, "publish", actor=admin)
    notices.publish_step(ctx, article.id, "withdraw", actor=admin)
    assert article.status == ArticleStatus.WITHDRAWN
    other = _admin(ctx, "county2_admin")
    with pytest.raises(NotFoundError):
        notices.publish_step(ctx, article.id, "publish", actor=other)


def test_the_worker_sees_published_articles_of_his_scope_only(ctx, api, worker):  # noqa: F811
    office = county(ctx, 0)
    city = ctx.scalar(select(Org).where(Org.id == office.parent_id))
    admin = _admin(ctx, "city_admin")
    ours = _article(ctx, office, title="黄浦区互助公告")
    citywide = _article(ctx, city, title="全市职工互助宣传手册", kind="brochure")
    elsewhere = _article(ctx, county(ctx, 1), title="徐汇区公告")
    draft = _article(ctx, office, title="草稿公告")
    for a in (ours, citywide, elsewhere):
        notices.publish_step(ctx, a.id, "publish", actor=admin)
    notices.set_file(ctx, ours.id, "cover", "封面.png", png(), actor=admin)
    call = api(worker)
    titles = [a["title"] for a in call("get", "/api/v1/articles/").json["result"]]
    assert "黄浦区互助公告" in titles and "全市职工互助宣传手册" in titles
    assert "徐汇区公告" not in titles and "草稿公告" not in titles
    brochures = call("get", "/api/v1/articles/?kind=宣传手册").json["result"]
    assert [a["title"] for a in brochures if a["title"] in titles] == ["全市职工互助宣传手册"]
    detail = call("get", f"/api/v1/articles/{ours.id}").json["result"]
    assert detail["body"] == "<p>正文</p>" and detail["cover"].endswith("/file/cover")
    assert call("get", detail["cover"]).status_code == 200
    for hidden in (elsewhere.id, draft.id):
        response = call("get", f"/api/v1/articles/{hidden}")
        assert response.status_code == 404 and response.json["message"]
    assert call("get", "/api/v1/articles/?kind=广告").status_code == 400


def test_the_back_office_writes_publishes_and_uploads(ctx, client_as):
    client = client_as("county_admin")
    office = county(ctx, 0)
    response = client.post("/articleview/add", data={"kind": "news", "title": "职工互助新闻", "org": office.id,
                                                     "body": "<p>好消息<script>x()</script></p>"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    article = ctx.scalar(select(Article).where(Article.title == "职工互助新闻"))
    assert article.body == "<p>好消息</p>" and article.status == ArticleStatus.DRAFT
    upload = client.post(f"/articleview/upload/{article.id}", content_type="multipart/form-data",
                         data={"kind": "file", "file": (io.BytesIO(b"not a file"), "x.pdf")}, follow_redirects=True)
    assert "仅支持" in upload.get_data(as_text=True) or "有效" in upload.get_data(as_text=True)
    form = client.post(f"/articleview/flow/publish?pk={article.id}", data={"pk": article.id}, follow_redirects=True)
    assert "「发布」已完成 1 条" in form.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(Article, article.id).status == ArticleStatus.PUBLISHED
    # another county's admin: 404; a role without the grant: 403
    assert client_as("county2_admin").get(f"/articleview/show/{article.id}").status_code == 404
    assert client_as("finance").get("/articleview/list/").status_code == 403
