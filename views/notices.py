"""公告通知 / 文章资讯 / 宣传手册 (I-11) in the back office: written as rich text (sanitized on save),
a cover picture and an attachment, the publishing org in scope; 发布 / 下线 as flow actions."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from wtforms import SelectField, TextAreaField

from app.extensions import db
from app.security import current_user
from app.services import notices as svc
from app.services.attachments import attachments_of
from app.services.errors import DomainError
from app.services.review_flow import actions_from, trail_of
from models.notices import ARTICLE_FLOW, COVER, FILE, Article, ArticleKind, ArticleStatus

from .attachments import AttachmentsMixin
from .base import ReviewFlowMixin, ScopedInterface, ScopedModelView, scope_rel


class ArticleView(AttachmentsMixin, ReviewFlowMixin, ScopedModelView):
    """文章 of the orgs in scope; published ones reach the workers of the org's subtree."""

    datamodel = ScopedInterface(Article)
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete", "can_publish", "can_upload"]
    method_permission_name = {"upload": "upload"}
    exclude_route_methods = {"download"}
    list_title = show_title = add_title = edit_title = "公告与资讯"
    list_columns = ["title", "kind_label", "org", "status_label", "published_at", "updated_at"]
    add_columns = edit_columns = ["kind", "title", "org", "body"]
    show_columns = ["title", "kind_label", "org", "status_label", "published_at", "created_at", "updated_at"]
    search_columns = ["title", "kind", "status", "published_at"]
    label_columns = {"title": "标题", "kind": "栏目", "kind_label": "栏目", "org": "发布组织", "status": "状态",
                     "status_label": "状态", "published_at": "发布时间", "created_at": "创建时间",
                     "updated_at": "更新时间", "body": "正文"}
    description_columns = {"body": "可使用常用排版标签（段落、标题、列表、链接、图片、表格）；脚本、样式和事件属性保存时会被移除",
                           "org": "本组织及下级组织的职工可在职工客户端看到已发布的文章"}
    enum_columns = {"kind": ArticleKind, "status": ArticleStatus}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"org": scope_rel("id")}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": SelectField("栏目", choices=ArticleKind.choices()),
        "body": TextAreaField("正文", render_kw={"rows": 14}),
    }
    base_order = ("id", "desc")
    show_template = "union/notice_show.html"
    review_flow = ARTICLE_FLOW

    def prepare(self, item, is_created):
        if item.org is not None:
            item.org_id = item.org.id
        svc.prepare(item, current_user())

    def check_edit(self, item) -> None:
        if item.status == ArticleStatus.PUBLISHED:
            raise DomainError("已发布的文章须先下线再修改")

    def check_state_delete(self, item) -> None:
        if item.status == ArticleStatus.PUBLISHED:
            raise DomainError("已发布的文章须先下线再删除")

    def apply_review(self, item_id, action, reason):
        svc.publish_step(db.session, item_id, action, actor=current_user())

    def show_context(self, item):
        sm = self.appbuilder.sm
        allowed = [a for a in actions_from(ARTICLE_FLOW, item.status)
                   if sm.has_access(f"can_{ARTICLE_FLOW[(item.status, a)].permission}", self.class_permission_name)]
        return {"trail": trail_of(db.session, Article, item.id), "status_label": ArticleStatus.label_of,
                "flow_actions": allowed, "flow_labels": {a: t.label for (_s, a), t in ARTICLE_FLOW.items()},
                "cover": attachments_of(db.session, item, COVER), "file": attachments_of(db.session, item, FILE),
                "can_upload": sm.has_access("can_upload", self.class_permission_name)}

    @expose("/upload/<int:pk>", methods=["POST"])
    @has_access
    def upload(self, pk):
        """封面 (picture) or 附件 (picture or PDF) of one article."""
        item = self.scoped_item(pk)
        kind = request.form.get("kind")
        upload = request.files.get("file")
        if kind not in (COVER, FILE) or not upload or not upload.filename:
            flash("请选择要上传的文件", "danger")
            return redirect(url_for(".show", pk=pk))
        try:
            svc.set_file(db.session, item.id, kind, upload.filename,
                         upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1), actor=current_user())
            flash("封面已上传" if kind == COVER else "附件已上传", "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "danger")
        return redirect(url_for(".show", pk=pk))
