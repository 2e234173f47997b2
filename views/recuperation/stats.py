"""疗休养统计: declarations by type per union or county against members (xlsx through the one export path)."""
from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose, has_access

from app.extensions import db
from app.security import current_user
from app.services import exports
from app.services.exports import ExportField
from app.services.recuperation import policy as policies
from app.services.recuperation import statistics as svc
from app.storage import store

from ..base import send_xlsx_once

TITLE = "疗休养申报统计"


def _titles(by_county: bool) -> list[str]:
    return ["区县", "基层工会数", *svc.TITLES[2:]] if by_county else svc.TITLES


class RecupStatsView(BaseView):
    route_base = "/recup-stats"
    default_view = "list"
    base_permissions = ["can_list", "can_export"]

    def _args(self):
        year = request.args.get("year", "")
        year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else policies.beijing_today().year
        return year, request.args.get("group") == "county"

    @expose("/")
    @has_access
    def list(self):
        year, by_county = self._args()
        rows, total = svc.declaration_table(db.session, current_user(), year, by_county=by_county)
        return self.render_template("union/recuperation/stats.html", title=f"{year}年度{TITLE}", rows=rows, total=total,
                                    titles=_titles(by_county), year=year, by_county=by_county,
                                    can_export=self.appbuilder.sm.has_access("can_export", self.class_permission_name))

    @expose("/export/")
    @has_access
    def export(self):
        year, by_county = self._args()
        rows, total = svc.declaration_table(db.session, current_user(), year, by_county=by_county)
        title = f"{year}年度{TITLE}"
        with store().scratch(".xlsx") as path:
            count = exports.write_export(path, title, [ExportField(t, None) for t in _titles(by_county)],
                                         (r.values() for r in [*rows, total]))
            exports.audit_export(db.session, actor=current_user(), title=title, count=count,
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, title)
