"""统计分析: per union of the scope — certification, activities by status, vouchers and face value
redeemed (Decimal) — sortable, exported to xlsx; the city sees every county, a county its
subtree, a base union itself; roles without the grant are refused."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from app.services import claims, statistics, vouchers
from models.audit import AuditEvent, AuditLog
from models.base import utcnow
from models.members import CertStatus, Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.vouchers import Voucher
from tests.factories import base_of, county, make_member
from tests.vouchers import conftest as voucher_fixtures

open_activity = voucher_fixtures.open_activity  # the vouchers' fixture, used here too


def _rows(data):
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _subtree(org):
    return select(Org.id).where(Org.path.like(org.path + "%"))


def test_percent_rounds_half_up_to_a_tenth():
    assert statistics.percent(1, 3) == Decimal("33.3") and statistics.percent(2, 3) == Decimal("66.7")
    assert statistics.percent(1, 2000) == Decimal("0.1")  # 0.05 → 0.1 (half-up, not to even)
    assert statistics.percent(0, 0) is None and statistics.percent(5, 5) == Decimal("100.0")


def test_union_figures_count_active_members_by_certification(ctx):
    union = base_of(ctx, county(ctx, 2), 3)
    before = statistics.union_figures(ctx, _subtree(union)).rows[0]
    for status in (CertStatus.VERIFIED, CertStatus.VERIFIED, CertStatus.PENDING, CertStatus.REJECTED):
        make_member(ctx, union).cert_status = status
    make_member(ctx, union, status=MembershipStatus.RETIRED).cert_status = CertStatus.VERIFIED  # not 在会
    ctx.commit()
    row = statistics.union_figures(ctx, _subtree(union)).rows[0]
    assert (row.org_id, row.level) == (union.id, OrgLevel.BASE)
    assert (row.members - before.members, row.verified - before.verified, row.pending - before.pending,
            row.rejected - before.rejected) == (4, 2, 1, 1)
    in_sql = ctx.scalar(select(func.count()).select_from(Member).where(
        Member.org_id == union.id, Member.status == MembershipStatus.ACTIVE))
    assert row.members == in_sql and row.certified_pct == statistics.percent(row.verified, in_sql)


def test_vouchers_and_face_value_redeemed_are_decimal(ctx, open_activity):
    union = base_of(ctx, county(ctx, 2), 2)
    activity, _coupon, merchant = open_activity(quantity=3, union=union)
    later = utcnow() + timedelta(minutes=10)
    for i in range(2):
        member = make_member(ctx, union, name="统计会员", cert_status=CertStatus.VERIFIED)
        voucher = claims.claim_voucher(ctx, activity.id, member.id, now=later)
        if i == 0:
            vouchers.redeem_voucher(ctx, voucher.code, redeemer=vouchers.Redeemer(merchant.id, None), now=later)
    row = next(r for r in statistics.union_figures(ctx, _subtree(union)).rows if r.org_id == union.id)
    assert (row.generated, row.claimed, row.redeemed, row.expired) == (3, 2, 1, 0)
    assert row.redeemed_value == Decimal("20.00") and isinstance(row.redeemed_value, Decimal)
    assert row.activity("approved") >= 1


def test_daily_claims_count_on_the_beijing_day(ctx, open_activity):
    union = base_of(ctx, county(ctx, 2), 1)
    activity, _coupon, _merchant = open_activity(quantity=2, union=union)
    now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
    late_evening = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)  # 23:30 on 8 March in Beijing
    early_morning = datetime(2026, 3, 8, 16, 30, tzinfo=UTC)  # 00:30 on 9 March in Beijing
    codes = ctx.scalars(select(Voucher).where(Voucher.activity_id == activity.id)).all()
    for voucher, at in zip(codes, (late_evening, early_morning)):
        voucher.member_id = make_member(ctx, union).id
        voucher.claimed_at, voucher.status = at, "claimed"
    ctx.commit()
    days = statistics.daily_claims(ctx, Voucher.activity_id == activity.id, days=3, now=now)
    assert [(d.day.isoformat(), d.claimed) for d in days] == [("2026-03-08", 1), ("2026-03-09", 1), ("2026-03-10", 0)]


def _table(client, url="/statistics/"):
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr class="stat-row" data-org="(\d+)">(.*?)</tr>', html, re.DOTALL)
    return html, [(int(org), [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", body)])
                  for org, body in rows]


def test_scopes_city_every_county_county_its_subtree_base_itself(client_as, ctx):
    bases = lambda org: set(ctx.scalars(select(Org.id).where(
        Org.path.like(org.path + "%"), Org.level == OrgLevel.BASE)))
    first, second = county(ctx, 0), county(ctx, 1)
    _html, city = _table(client_as("city_admin"))
    assert bases(first) | bases(second) | bases(county(ctx, 2)) <= {org for org, _ in city}
    _html, mine = _table(client_as("county_admin"))
    assert bases(first) <= {org for org, _ in mine} and not bases(second) & {org for org, _ in mine}
    _html, own = _table(client_as("base_admin"))
    assert {org for org, _ in own} == {base_of(ctx, first, 0).id}


def test_city_folds_into_counties_with_the_same_total(client_as, ctx):
    client = client_as("city_admin")
    html, _by_org = _table(client)
    folded_html, by_county = _table(client, "/statistics/?group=county")
    counties = set(ctx.scalars(select(Org.id).where(Org.level == OrgLevel.COUNTY)))
    assert {org for org, _ in by_county} == counties and 'id="stat-grouping"' in html
    total = re.search(r'<tr id="stat-total".*?</tr>', html, re.DOTALL).group(0)
    assert total == re.search(r'<tr id="stat-total".*?</tr>', folded_html, re.DOTALL).group(0)
    assert 'id="stat-grouping"' not in _table(client_as("county_admin"))[0]  # one county: nothing to fold


def test_member_counts_drill_down_to_their_member_list(client_as, ctx):
    client = client_as("county_admin")
    html = client.get("/statistics/").get_data(as_text=True)
    union = base_of(ctx, county(ctx, 0), 0)
    row = re.search(rf'<tr class="stat-row" data-org="{union.id}">(.*?)</tr>', html, re.DOTALL).group(1)
    link, shown = re.search(r'class="stat-pending[^"]*"><a href="([^"]+)">(\d+)</a>', row).groups()
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert int(re.search(r"记录数目:</strong>\s*(\d+)", listed).group(1)) == int(shown) == ctx.scalar(
        select(func.count()).select_from(Member).where(Member.org_id == union.id,
                                                       Member.status == MembershipStatus.ACTIVE,
                                                       Member.cert_status == CertStatus.PENDING))


def test_sorting_orders_rows_on_the_figure(client_as):
    client = client_as("city_admin")
    for direction, reverse in (("asc", False), ("desc", True)):
        html = client.get(f"/statistics/?sort=members&dir={direction}").get_data(as_text=True)
        members = [int(m) for m in re.findall(r'<td class="stat-members[^"]*">(?:<a [^>]+>)?(\d+)', html)]
        assert len(members) > 3 and members == sorted(members, reverse=reverse)
    assert client.get("/statistics/?sort=__class__&dir=x").status_code == 200  # unknown keys: table order


def test_export_is_the_table_as_shown_with_its_total_and_is_audited(client_as, ctx):
    client = client_as("county_admin")
    _html, shown = _table(client, "/statistics/?sort=members&dir=asc")
    before = ctx.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.event == AuditEvent.EXPORT))
    response = client.get("/statistics/export/?sort=members&dir=asc")
    assert response.status_code == 200 and response.mimetype.endswith("sheet")
    rows = _rows(response.data)
    assert rows[0][:5] == ["工会组织", "层级", "在会会员", "已认证", "认证率（%）"] and rows[0][-1] == "核销面值（元）"
    assert [r[0] for r in rows[1:-1]] == [cells[0] for _org, cells in shown] and rows[-1][0] == "合计"
    assert rows[-1][2] == sum(r[2] for r in rows[1:-1])
    ctx.expire_all()
    assert ctx.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.event == AuditEvent.EXPORT)) == \
        before + 1


@pytest.mark.parametrize("username", ["merchant", "sysadmin", "auditadmin", "base_manager"])
def test_roles_without_the_grant_are_refused(client_as, username):
    client = client_as(username)
    assert client.get("/statistics/").status_code == 403
    assert client.get("/statistics/export/").status_code == 403


def test_anonymous_goes_to_login(app):
    response = app.test_client().get("/statistics/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_statistics_page_draws_its_charts_from_our_static_files(client_as):
    html = client_as("auditor").get("/statistics/").get_data(as_text=True)
    assert all(f'id="{c}" class="union-chart"' in html for c in ("stat-cert", "stat-daily", "stat-activities"))
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/js/charts.js" in html
    assert 'id="stat-export"' in html
