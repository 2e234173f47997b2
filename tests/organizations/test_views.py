"""Org tree and units as a county admin; refusals from the other sides."""
from sqlalchemy import func, select

from models.organizations import Org, OrgLevel, Unit
from tests.factories import base_of, county, make_unit


def test_tree_shows_own_subtree_indented(client_as, ctx):
    own, other = county(ctx, 0), county(ctx, 1)
    html = client_as("county_admin").get("/orgtree/").get_data(as_text=True)
    assert own.name in html and base_of(ctx, own).name in html
    assert other.name not in html and "上海市总工会" not in html
    assert "padding-left: 24px" in html  # base unions one level below the county


def test_tree_fuzzy_search_keeps_ancestors(client_as, ctx):
    target = base_of(ctx, county(ctx, 0), 2)
    word = target.name[-6:-2]
    html = client_as("city_admin").get(f"/orgtree/?q={word}").get_data(as_text=True)
    assert f"<mark>{target.name}</mark>" in html and county(ctx, 0).name in html
    assert base_of(ctx, county(ctx, 0), 0).name not in html


def test_foreign_org_and_unit_by_id_answer_404(client_as, ctx):
    foreign_union = base_of(ctx, county(ctx, 1))
    unit = make_unit(ctx, foreign_union)
    client = client_as("county_admin")
    assert client.get(f"/orgview/show/{foreign_union.id}").status_code == 404
    assert client.get(f"/unitview/show/{unit.id}").status_code == 404
    assert client.get(f"/unitview/edit/{unit.id}").status_code == 404
    assert client.post(f"/unitview/delete/{unit.id}").status_code == 404
    assert ctx.get(Unit, unit.id) is not None


def test_county_admin_adds_base_union_with_path(client_as, ctx):
    parent = county(ctx, 0)
    client_as("county_admin").post("/orgview/add", data={"parent": str(parent.id), "name": "测试新建基层工会"})
    org = ctx.scalar(select(Org).where(Org.name == "测试新建基层工会"))
    assert org.level == OrgLevel.BASE and org.path == f"{parent.path}{org.id}/"


def test_add_org_under_foreign_parent_is_refused(client_as, ctx):
    client_as("county_admin").post("/orgview/add", data={"parent": str(county(ctx, 1).id), "name": "越权工会"})
    assert ctx.scalar(select(Org).where(Org.name == "越权工会")) is None


def test_add_unit_bad_uscc_is_a_form_error_and_keeps_input(client_as, ctx):
    org = base_of(ctx, county(ctx))
    before = ctx.scalar(select(func.count(Unit.id)))
    response = client_as("county_admin").post("/unitview/add", data={
        "org": str(org.id), "name": "保留输入测试单位", "uscc": "91350100M000100Y44", "nature": "enterprise",
        "employee_count": "10", "migrant_count": "2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "统一社会信用代码校验位不正确" in html and "保留输入测试单位" in html
    assert ctx.scalar(select(func.count(Unit.id))) == before


def test_add_unit_valid(client_as, ctx):
    org = base_of(ctx, county(ctx))
    response = client_as("county_admin").post("/unitview/add", data={
        "org": str(org.id), "name": "新增有效单位", "uscc": "91350100M000100Y43", "nature": "enterprise",
        "employee_count": "10", "migrant_count": "2", "phone": "13800138000"})
    assert response.status_code == 302
    assert ctx.scalar(select(Unit).where(Unit.name == "新增有效单位")).org_id == org.id


def test_units_list_filter_by_name_in_scope(client_as, ctx):
    mine = make_unit(ctx, base_of(ctx, county(ctx, 0)), name="筛选测试甲单位")
    make_unit(ctx, base_of(ctx, county(ctx, 1)), name="筛选测试乙单位")
    html = client_as("county_admin").get("/unitview/list/?_flt_0_name=筛选测试").get_data(as_text=True)
    assert mine.name in html and "筛选测试乙单位" not in html


def test_an_org_is_labelled_by_its_name_not_a_persons_name(client_as):
    client = client_as("county_admin")
    for url in ("/orgview/list/", "/orgview/add"):
        html = client.get(url).get_data(as_text=True)
        assert "名称" in html and "姓名" not in html, url
