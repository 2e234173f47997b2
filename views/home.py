"""The landing page: what waits for the logged-in user in his scope."""
from __future__ import annotations

from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select

from app.extensions import db
from app.security import current_user, org_scope_clause, scope_kind
from models.members import CertStatus, Member


class HomeView(IndexView):
    index_template = "union/index.html"

    @expose("/")
    def index(self):
        user = current_user()
        stats = None
        if user is not None and user.org_id:
            in_scope = org_scope_clause(Member.org_id, user)
            stats = {
                "members": db.session.scalar(select(func.count()).select_from(
                    select(Member.id).where(in_scope).limit(1_000_000).subquery())),
                "pending_cert": db.session.scalar(select(func.count()).where(
                    in_scope, Member.cert_status == CertStatus.PENDING)),
            }
        return self.render_template(self.index_template, appbuilder=self.appbuilder, stats=stats,
                                    scope=scope_kind(user) if user else None)
