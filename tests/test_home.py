"""The home page as a to-do list: per role the right cards, each number is the row count of the
list its link opens (followed and counted), and the numbers are the scope's (checked in SQL)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_appbuilder.models.sqla.filters import FilterEqual
from sqlalchemy import func, select

from app.services import claims, vouchers
from models.audit import AuditEvent, AuditLog
from models.base import utcnow
from models.imports import DataJob, JobStatus
from models.members import CertStatus, Member
from models.organizations import Org
from models.security import AppUser
from models.vouchers import Activity, ActivityStatus, Voucher, VoucherStatus
from tests.conftest import login
from tests.factories import base_of, county, make_member, make_user
from tests.vouchers import conftest as voucher_fixtures

open_activity = voucher_fixtures.open_activity  # the vouchers' fixture, used here too

PAGE_SIZE = 20
CARD = re.compile(r'id="card-([\w-]+)" href="([^"]+)">\s*<div class="home-card-title">[^<]*</div>\s*'
                  r'<div class="home-card-count[^"]*">(\d+)\+?</div>')


def cards(client) -> dict[str, tuple[int, str]]:
    """{card key: (number shown, link)} of the home page."""
    html = client.get("/").get_data(as_text=True)
    return {key: (int(count), url.replace("&amp;", "&")) for key, url, count in CARD.findall(html)}


def list_rows(client, url) -> tuple[int, int]:
    """(记录数目 shown, rows on the page) of a list."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    total = re.search(r"记录数目:</strong>\s*(\d+)", html)
    base = url.split("/list/")[0]
    rows = set(re.findall(re.escape(base) + r"/show/(\d+)", html))
    return (int(total.group(1)) if total else 0), len(rows)


def assert_links_show_their_numbers(client, found: dict) -> None:
    for key, (count, url) in found.items():
        total, rows = list_rows(client, url)
        assert (total, rows) == (count, min(count, PAGE_SIZE)), (key, url)


@pytest.fixture()
def todo_data(ctx, open_activity):
    """Something waits in every card of the first county: a pending member, a rejected activity,
    a failed and a partial import, a voucher redeemed today, a locked and a stopped account,
    a failed login today."""
    union = base_of(ctx, county(ctx, 0), 0)
    member = make_member(ctx, union, name="待审测试")
    member.cert_status = CertStatus.PENDING
    activity, _coupon, merchant = open_activity(quantity=2, union=union)
    rejected = Activity(org_id=union.id, title="驳回测试活动", start_at=utcnow() + timedelta(days=2),
                        end_at=utcnow() + timedelta(days=9), status=ActivityStatus.REJECTED)
    base_admin = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin"))
    for status in (JobStatus.FAILED, JobStatus.PARTIAL):
        ctx.add(DataJob(kind="members", kind_label="会员", file_name=f"首页{status.label}.xlsx", status=status,
                        org_id=union.id, submitted_by_id=base_admin.id))
    pending = Activity(org_id=union.id, title="待审测试活动", start_at=utcnow() + timedelta(days=2),
                       end_at=utcnow() + timedelta(days=9), status=ActivityStatus.PENDING)
    ctx.add_all([rejected, pending])
    ctx.get(Activity, activity.id).start_at = utcnow() - timedelta(hours=1)
    locked = make_user(ctx, "财务", union)
    locked.locked_until = utcnow() + timedelta(minutes=20)
    stopped = make_user(ctx, "财务", union)
    stopped.active = False
    ctx.commit()
    claimer = make_member(ctx, union, name="核销测试", cert_status=CertStatus.VERIFIED)
    voucher = claims.claim_voucher(ctx, activity.id, claimer.id)
    vouchers.redeem_voucher(ctx, voucher.code, redeemer=vouchers.Redeemer(merchant.id, None))
    return {"union": union, "merchant": merchant, "member": member}


ROLE_CARDS = {
    "county_admin": {"pending-cert", "pending-activities", "rejected-activities", "draft-activities", "failed-jobs",
                     "partial-jobs", "redeemed-month"},
    "base_admin": {"pending-cert", "rejected-activities", "draft-activities", "failed-jobs", "partial-jobs",
                   "redeemed-month"},
    "reviewer": {"pending-cert", "pending-activities"},
    "finance": {"redeemed-month"},
    "merchant": {"redeemed-month", "merchant-coupons", "redeemed-today", "redeemed-all"},
    "auditor": set(),
    "sysadmin": {"locked-users", "inactive-users"},
    "auditadmin": {f"audit-{e.value}" for e in (AuditEvent.LOGIN_FAILED, AuditEvent.LOCKOUT,
                                                AuditEvent.PERMISSION_DENIED, AuditEvent.REVEAL, AuditEvent.EXPORT)},
}
OVERVIEW = {"members", "units", "open-activities", "redeemed-today", "jobs-today"}
READS = {"county_admin": OVERVIEW, "base_admin": OVERVIEW, "reviewer": {"members", "units", "open-activities"},
         "finance": {"units", "open-activities", "redeemed-today", "jobs-today"}, "auditor": OVERVIEW, "sysadmin": set(), "auditadmin": set()}


@pytest.mark.parametrize("username", sorted(ROLE_CARDS))
def test_home_shows_each_role_its_cards_and_every_link_shows_its_number(client_as, todo_data, username):
    client = client_as(username)
    found = cards(client)
    todo = {k for k in found if k not in OVERVIEW | {"merchant-coupons", "redeemed-all"}}
    assert todo == ROLE_CARDS[username] - {"merchant-coupons", "redeemed-today", "redeemed-all"}
    if username in READS:
        assert set(found) - todo == READS[username]
    else:
        assert {"merchant-coupons", "redeemed-today", "redeemed-all"} <= set(found)
    assert_links_show_their_numbers(client, found)


def _in_subtree(org: Org):
    return select(Org.id).where(Org.path.like(org.path + "%"))


def test_numbers_are_the_scope_s(client_as, ctx, todo_data):
    first, second = county(ctx, 0), county(ctx, 1)
    union = todo_data["union"]
    pending = lambda orgs: ctx.scalar(select(func.count()).select_from(Member).where(
        Member.cert_status == CertStatus.PENDING, Member.org_id.in_(orgs)))
    assert cards(client_as("county_admin"))["pending-cert"][0] == pending(_in_subtree(first)) > 0
    assert cards(client_as("county2_admin"))["pending-cert"][0] == pending(_in_subtree(second))
    assert cards(client_as("base_admin"))["pending-cert"][0] == pending(select(Org.id).where(Org.id == union.id))
    redeemed = ctx.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.status == VoucherStatus.REDEEMED, Voucher.redeemed_merchant_id == todo_data["merchant"].id))
    merchant_user = make_user(ctx, "商家管理员", None, merchant_id=todo_data["merchant"].id)
    merchant_client = client_as(merchant_user.username)
    assert merchant_client.get("/").status_code == 200
    found = cards(merchant_client)
    assert found["redeemed-today"][0] == found["redeemed-all"][0] == redeemed == 1
    locked = ctx.scalar(select(func.count()).select_from(AppUser).where(AppUser.locked_until > utcnow()))
    assert cards(client_as("sysadmin"))["locked-users"][0] == locked >= 1


def test_a_new_pending_member_and_a_failed_login_move_their_cards(client_as, app, ctx, todo_data):
    client, other = client_as("county_admin"), client_as("county2_admin")
    before, other_before = cards(client)["pending-cert"][0], cards(other)["pending-cert"][0]
    member = make_member(ctx, base_of(ctx, county(ctx, 0), 1), name="新待审")
    member.cert_status = CertStatus.PENDING
    ctx.commit()
    assert cards(client)["pending-cert"][0] == before + 1
    assert cards(other)["pending-cert"][0] == other_before  # another county's home does not move

    auditor = client_as("auditadmin")
    failed_before = cards(auditor)["audit-login_failed"][0]
    login(app.test_client(), "finance", "wrong-password-1")
    assert cards(auditor)["audit-login_failed"][0] == failed_before + 1
    assert ctx.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.event == AuditEvent.LOGIN_FAILED)) >= failed_before + 1


def test_figures_and_charts_show_to_roles_with_statistics(client_as, todo_data):
    html = client_as("county_admin").get("/").get_data(as_text=True)
    for chart in ("cert-pie", "cert-laggards", "claims-daily", "claims-activities"):
        assert f'id="{chart}" class="union-chart"' in html
    own = client_as("base_admin").get("/").get_data(as_text=True)
    assert 'id="cert-pie"' in own and 'id="cert-laggards"' not in own  # one union: nobody to compare with
    assert "/static/vendor/echarts/echarts.min.js" in html and "http://" not in html.split("<body")[1].replace(
        "http://www.w3.org", "")
    assert 'id="home-statistics-link"' in html
    merchant = client_as("merchant").get("/").get_data(as_text=True)
    assert 'id="merchant-daily"' in merchant and "home-statistics-link" not in merchant
    for username in ("sysadmin", "auditadmin"):
        page = client_as(username).get("/").get_data(as_text=True)
        assert "union-chart" not in page and "echarts" not in page


def test_anonymous_home_asks_to_log_in(app):
    html = app.test_client().get("/").get_data(as_text=True)
    assert "请登录" in html and "home-todo" not in html and "union-chart" not in html


def test_cached_figures_are_per_scope(client_as, ctx):
    from views import home

    home._FIGURES.clear()  # figures cached by earlier tests predate their members

    def members_shown(username):
        html = client_as(username).get("/").get_data(as_text=True)
        return int(re.search(r"在会会员 (\d+) 人", html).group(1))

    def active(org):
        return ctx.scalar(select(func.count()).select_from(Member).where(
            Member.org_id.in_(_in_subtree(org)), Member.status == "active"))

    first, second = members_shown("county_admin"), members_shown("county2_admin")
    assert (first, second) == (active(county(ctx, 0)), active(county(ctx, 1)))
    assert members_shown("base_admin") == active(base_of(ctx, county(ctx, 0), 0)) < first


def test_a_card_on_a_column_the_list_no_longer_filters_is_left_out(client_as, monkeypatch):
    from views import home

    broken = home.Card("broken", "坏卡片", home.ListLink("MemberView", [("remark", FilterEqual, "1")]))
    monkeypatch.setattr(home, "overview_cards", lambda kind: [broken])
    response = client_as("county_admin").get("/")
    assert response.status_code == 200 and "card-broken" not in response.get_data(as_text=True)
