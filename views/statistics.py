"""统计分析: per union of the scope — certification progress, activities by status, vouchers — sortable,
with charts, exported to xlsx through the one export path (``app/services/exports.py``).

The chart builders here (``certification_pie``, ``laggard_chart``, ``daily_chart``,
``activity_chart``) are also the home page's.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterRelationOneToManyEqual

from app.extensions import db
from app.security import current_user, org_ids_in_scope
from app.services import exports, statistics
from app.services.exports import ExportField
from app.storage import store
from models.members import CertStatus, MembershipStatus
from models.organizations import OrgLevel
from models.vouchers import ActivityStatus, Voucher, VoucherStatus

from .base import send_xlsx_once
from .charts import Series, Slice, bar_chart, line_chart, pie_chart
from .list_links import ListLink

TITLE = "统计分析"
CERT_COLORS = {CertStatus.VERIFIED: "#91cc75", CertStatus.PENDING: "#fac858", CertStatus.REJECTED: "#ee6666",
               CertStatus.UNVERIFIED: "#909399"}


def member_link(org_id: int, cert_status: str | None = None) -> ListLink:
    """The member list of one union: its 在会 members (of one certification status)."""
    filters = [("org", FilterRelationOneToManyEqual, org_id), ("status", FilterEqual, MembershipStatus.ACTIVE)]
    if cert_status:
        filters.append(("cert_status", FilterEqual, cert_status))
    return ListLink("MemberView", filters)


@dataclass(frozen=True)
class StatColumn:
    key: str                 # an OrgFigures attribute, or activity_<status>
    title: str
    kind: str = "int"        # text | int | pct | money
    cert_status: str | None = None  # member counts: the list it drills down to
    member_count: bool = False

    def value(self, row: statistics.OrgFigures):
        if self.key.startswith("activity_"):
            return row.activity(self.key[len("activity_"):])
        return getattr(row, self.key)

    def shown(self, row) -> str:
        value = self.value(row)
        if value is None:
            return "—"
        if self.kind == "pct":
            return f"{value}"
        if self.kind == "money":
            return f"{value:,.2f}"
        return str(value)


COLUMNS = (
    StatColumn("name", "工会组织", "text"),
    StatColumn("level_label", "层级", "text"),
    StatColumn("members", "在会会员", member_count=True),
    StatColumn("verified", "已认证", cert_status=CertStatus.VERIFIED),
    StatColumn("certified_pct", "认证率（%）", "pct"),
    StatColumn("pending", "待审核", cert_status=CertStatus.PENDING),
    StatColumn("rejected", "驳回", cert_status=CertStatus.REJECTED),
    StatColumn("unverified", "未认证", cert_status=CertStatus.UNVERIFIED),
    *(StatColumn(f"activity_{s.value}", f"活动{s.label}") for s in ActivityStatus),
    StatColumn("generated", "生成券码"),
    StatColumn("claimed", "已领取"),
    StatColumn("redeemed", "已核销"),
    StatColumn("expired", "已过期"),
    StatColumn("redeemed_value", "核销面值（元）", "money"),
)
SORTABLE = {c.key for c in COLUMNS} - {"level_label"}


@dataclass(frozen=True)
class Cell:
    css: str
    text: str
    url: str | None = None


_ORG = "9999999999"  # stands for the org id in a link built once per column


def table_cells(rows: list[statistics.OrgFigures], can_list_members: bool) -> list[tuple[int | None, list[Cell]]]:
    """The table as (org id, cells): text shown, and for member counts the member list that shows
    exactly those members (one ``url_for`` per column, not per cell: 500 unions × 6 links)."""
    links = {}
    if can_list_members:
        links = {c.key: member_link(int(_ORG), c.cert_status).url() for c in COLUMNS if c.member_count or c.cert_status}
    css = {c.key: f"stat-{c.key}{'' if c.kind == 'text' else ' text-right'}" for c in COLUMNS}
    out = []
    for row in rows:
        cells = []
        for column in COLUMNS:
            link = links.get(column.key) if row.org_id is not None else None
            cells.append(Cell(css[column.key], column.shown(row), link.replace(_ORG, str(row.org_id)) if link else None))
        out.append((row.org_id, cells))
    return out


# --- charts (also on the home page) ---------------------------------------------------------
def certification_pie(total: statistics.OrgFigures) -> dict:
    return pie_chart("实名认证进度（在会会员）",
                     [Slice(s.label, getattr(total, s.value), CERT_COLORS[s]) for s in CertStatus])


def laggard_chart(rows: list[statistics.OrgFigures], limit: int = 10) -> dict:
    """The base unions furthest behind on certification (seed 003: 督促限期完成)."""
    bases = [r for r in rows if r.level == OrgLevel.BASE and r.members]
    worst = statistics.sort_rows(bases, "certified_pct", descending=False)[:limit]
    return bar_chart(f"认证率最低的{len(worst)}个基层工会", [r.name for r in worst],
                     [Series("认证率（%）", [r.certified_pct for r in worst], "#5470c6")],
                     horizontal=True, percent_axis=True)


def certification_chart(shown: list[statistics.OrgFigures], can_list_members: bool) -> dict:
    """Members per union stacked by certification status; each bar opens its member list."""
    series = []
    for status in (CertStatus.VERIFIED, CertStatus.PENDING, CertStatus.REJECTED, CertStatus.UNVERIFIED):
        urls = [member_link(r.org_id, status).url() if can_list_members and r.org_id else None for r in shown]
        series.append(Series(status.label, [getattr(r, status.value) for r in shown], CERT_COLORS[status], urls))
    return bar_chart("各工会实名认证情况", [r.name for r in shown], series, stacked=True, horizontal=True)


def daily_chart(days: list[statistics.DayFigures], claims: bool = True) -> dict:
    series = [Series("核销", [d.redeemed for d in days], "#91cc75")]
    if claims:
        series.insert(0, Series("领取", [d.claimed for d in days], "#5470c6"))
    return line_chart(f"近{len(days)}天{'领取与' if claims else ''}核销（张）", [f"{d.day:%m-%d}" for d in days],
                      series)


def activity_chart(activities: list[statistics.ActivityFigures]) -> dict:
    redeemed_urls = [ListLink("VoucherView", [("activity", FilterRelationOneToManyEqual, a.activity_id),
                                              ("status", FilterEqual, VoucherStatus.REDEEMED)]).url()
                     if ListLink("VoucherView").readable() else None for a in activities]
    return bar_chart("各活动券码领取与核销（张）", [a.title for a in activities], [
        Series("生成", [a.generated for a in activities], "#c8d0e0"),
        Series("领取", [a.claimed for a in activities], "#5470c6"),
        Series("核销", [a.redeemed for a in activities], "#91cc75", redeemed_urls),
    ])


class StatisticsView(BaseView):
    """统计分析 of the user's org scope: the city every county, a county its subtree, a union itself."""

    route_base = "/statistics"
    default_view = "list"
    base_permissions = ["can_list", "can_export"]

    def _table(self):
        user = current_user()
        org_ids = org_ids_in_scope(user)
        if org_ids is None:
            abort(404)
        by_county = request.args.get("group") == "county"
        table = statistics.union_figures(db.session, org_ids, by_county=by_county)
        sort = request.args.get("sort", "")
        descending = request.args.get("dir", "desc") != "asc"
        if sort in SORTABLE:
            table.rows = statistics.sort_rows(table.rows, sort, descending)
        return org_ids, table, sort, descending, by_county

    @expose("/")
    @has_access
    def list(self):
        org_ids, table, sort, descending, by_county = self._table()
        sm = self.appbuilder.sm
        can_list_members = sm.has_access("can_list", "MemberView") and not by_county
        in_scope = Voucher.org_id.in_(org_ids)
        shown = [r for r in table.rows if r.members][:40]  # the table's order: sorting re-orders the bars
        chart_list = [
            ("stat-cert", certification_chart(shown, can_list_members), max(300, 26 * len(shown) + 90)),
            ("stat-daily", daily_chart(statistics.daily_claims(db.session, in_scope, days=30)), 300),
            ("stat-activities", activity_chart(statistics.activity_progress(db.session, org_ids)), 320),
        ]
        return self.render_template(
            "union/statistics.html", title=TITLE, total=table.total, columns=COLUMNS,
            sortable=SORTABLE, sort=sort, descending=descending, by_county=by_county,
            can_group=table.counties > 1, chart_list=chart_list,
            cells=table_cells(table.rows, can_list_members),
            can_export=sm.has_access("can_export", self.class_permission_name))

    @expose("/export/")
    @has_access
    def export(self):
        """The table as shown (scope, grouping, order) with its total row, as xlsx; audited."""
        _org_ids, table, _sort, _descending, _by_county = self._table()
        fields = [ExportField(c.title, None) for c in COLUMNS]
        data = ([c.value(r) for c in COLUMNS] for r in [*table.rows, table.total])
        with store().scratch(".xlsx") as path:
            count = exports.write_export(path, TITLE, fields, data)
            exports.audit_export(db.session, actor=current_user(), title=TITLE, count=count,
                                 args=request.args.to_dict(flat=False))
            return send_xlsx_once(path, TITLE)

