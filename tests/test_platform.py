"""Platform behaviours shared by every list: lookups in scope, capped counts,
idempotent start-up."""
from flask import current_app
from sqlalchemy import func, select

from models.members import Member
from models.organizations import Org, Unit
from seed.loader import seed_demo
from tests.factories import base_of, county, make_unit


def test_unit_lookup_returns_only_units_in_scope(client_as, ctx):
    mine = make_unit(ctx, base_of(ctx, county(ctx, 0)), name="查找测试本区单位")
    theirs = make_unit(ctx, base_of(ctx, county(ctx, 1)), name="查找测试外区单位")
    client = client_as("county_admin")
    found = client.get("/memberview/lookup/unit?q=查找测试").json
    assert [row["text"] for row in found] == [mine.name]
    assert client.get(f"/memberview/lookup/unit?id={theirs.id}").json == []
    assert client.get("/memberview/lookup/secret").status_code == 404
    assert client_as("sysadmin").get("/memberview/lookup/unit?q=查找").status_code == 403


def test_list_count_is_capped_with_a_hint(client_as, app):
    client = client_as("city_admin")
    app.config["LIST_COUNT_CAP"] = 25
    try:
        html = client.get("/memberview/list/").get_data(as_text=True)
    finally:
        app.config["LIST_COUNT_CAP"] = 10000
    assert "记录数目:</strong> 25" in html and "匹配记录超过 25 条" in html
    html = client.get("/memberview/list/").get_data(as_text=True)
    assert "匹配记录超过" not in html


def test_audit_admin_filters_the_log_by_event(client_as):
    client = client_as("auditadmin")
    html = client.get("/auditlogview/list/?_flt_0_event=login_ok").get_data(as_text=True)
    assert "登录成功" in html and "新增" not in html.split("<tbody")[-1]


def test_second_start_changes_nothing(ctx):
    from app.cli import init_db

    before = [ctx.scalar(select(func.count(m.id))) for m in (Org, Unit, Member)]
    assert init_db(from_models=True) == {"added": 0, "removed": 0}
    assert seed_demo(ctx) == "demo data already present: skipped"
    assert [ctx.scalar(select(func.count(m.id))) for m in (Org, Unit, Member)] == before
    assert current_app.appbuilder.sm.find_user(username="county_admin") is not None


def test_unit_edit_with_contradicting_counts_is_a_form_error(client_as, ctx):
    unit = make_unit(ctx, base_of(ctx, county(ctx, 0)), employee_count=10)
    client = client_as("county_admin")
    response = client.post(f"/unitview/edit/{unit.id}", data={
        "org": str(unit.org_id), "name": "改名后的单位", "uscc": unit.uscc, "nature": "government",
        "employee_count": "12", "migrant_count": "20"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "农民工人数不能超过职工人数" in html and "改名后的单位" in html
    client.post(f"/unitview/edit/{unit.id}", data={
        "org": str(unit.org_id), "name": "改名后的单位", "uscc": unit.uscc, "nature": "government",
        "employee_count": "12", "migrant_count": "3"})
    ctx.expire_all()
    saved = ctx.get(Unit, unit.id)
    assert (saved.name, saved.employee_count, saved.migrant_count) == ("改名后的单位", 12, 3)


def test_filtering_by_time_uses_beijing_time(client_as, ctx):
    from datetime import timedelta

    from models.audit import AuditLog
    from models.base import DISPLAY_TZ

    latest = ctx.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    local = latest.at.astimezone(DISPLAY_TZ)
    client = client_as("auditadmin")
    after = (local + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    before = (local - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    response = client.get(f"/auditlogview/list/?_flt_1_at={before}")
    assert response.status_code == 200 and latest.summary in response.get_data(as_text=True)
    html = client.get(f"/auditlogview/list/?_flt_1_at={after}").get_data(as_text=True)
    assert "记录数目:</strong> 0" in html  # nothing is newer than an hour from now


def test_sorting_by_a_property_or_forged_column_is_ignored(client_as):
    client = client_as("county_admin")
    for url in ("/memberview/list/?_oc_MemberView=id_number_masked&_od_MemberView=asc",
                "/memberview/list/?_oc_MemberView=__class__&_od_MemberView=desc",
                "/activityview/list/?_oc_ActivityView=claim_count&_od_ActivityView=asc"):
        assert client.get(url).status_code == 200, url
    html = client.get("/memberview/list/").get_data(as_text=True)
    assert "_oc_MemberView=name" in html and "_oc_MemberView=id_number_masked" not in html


def test_forged_list_parameters_never_give_a_500(client_as):
    client = client_as("city_admin")
    for view in ("memberview", "unitview", "activityview", "datajobview"):
        for query in ("_flt_0_unit=abc", "_flt_1_created_at=notadate", "page_MemberView=-5", "_flt_0_status=%00",
                      "_flt_9_name=x", "psize_MemberView=100000"):
            assert client.get(f"/{view}/list/?{query}").status_code < 500, (view, query)
    assert client.get("/memberview/export/?_flt_0_unit=abc").status_code < 500
    assert client.get("/memberview/show/abc").status_code == 404
