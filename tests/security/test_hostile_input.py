"""§2.8 and §3.2 from the attacker's side: metadata that lists other scopes, ids no row can have,
FAB's own action routes, malformed API queries: refused (404/403/400), never a 500 or a leak."""
import pytest
from flask import current_app
from flask_appbuilder.api import ModelRestApi
from sqlalchemy import func, select

from models.organizations import Org, Unit
from models.vouchers import Activity
from seed.loader import DEMO_PASSWORD
from tests.factories import county
from views.api import ScopedRestApi


def _jwt(client, username):
    response = client.post("/api/v1/security/login", json={"username": username, "password": DEMO_PASSWORD,
                                                           "provider": "db", "refresh": False})
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_every_model_rest_api_is_closed_like_the_member_api(app):
    apis = [v for v in app.appbuilder.baseviews if isinstance(v, ModelRestApi)]
    assert apis
    for api in apis:
        assert isinstance(api, ScopedRestApi), f"{type(api).__name__} must derive from views.api.ScopedRestApi"
        if not api.serves("post"):
            assert api.add_columns == [], type(api).__name__
        if not api.serves("put"):
            assert api.edit_columns == [], type(api).__name__


@pytest.mark.parametrize("username", ["county_admin", "base_admin", "auditor"])
def test_member_api_info_lists_no_orgs_or_units_of_the_city(app, ctx, username):
    client = app.test_client()
    response = client.get("/api/v1/member/_info", headers=_jwt(client, username))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.json["add_columns"] == [] and response.json["edit_columns"] == []
    other_county = county(ctx, 1)
    foreign = [*ctx.scalars(select(Org.name).where(Org.path.like(other_county.path + "%"))),
               *ctx.scalars(select(Unit.name).join(Org, Unit.org_id == Org.id)
                            .where(Org.path.like(other_county.path + "%")))]
    assert foreign and not [name for name in foreign if name in body]
    assert '"values"' not in body


def test_a_scoped_rest_api_must_scope_the_relations_it_accepts():
    from models.members import Member
    from views.base import ScopedInterface

    class WritableMemberApi(ScopedRestApi):
        resource_name = "writable_member_probe"
        datamodel = ScopedInterface(Member)
        include_route_methods = {"get", "post", "info"}
        add_columns = ["name", "org"]

    with pytest.raises(TypeError, match="scope the choices"):
        WritableMemberApi()


def test_voucher_list_activity_lookup_answers(client_as, ctx):
    title = ctx.scalar(select(Activity.title).order_by(Activity.id))
    client = client_as("county_admin")
    found = client.get(f"/voucherview/lookup/activity?q={title[:2]}")
    assert found.status_code == 200 and title in [row["text"] for row in found.json]
    one = client.get(f"/voucherview/lookup/activity?id={found.json[0]['id']}").json
    assert len(one) == 1
    for junk in ("99999999999999999999", "abc", "-1"):
        assert client.get(f"/voucherview/lookup/activity?id={junk}").json == []


@pytest.mark.parametrize("url", [
    "/memberview/show/99999999999999999999", "/memberview/show/281474976710656", "/memberview/edit/abc",
    "/memberview/show/-1", "/datajobview/progress/281474976710656", "/users/show/281474976710656",
])
def test_ids_beyond_the_integer_range_are_404_pages(client_as, url):
    role = "sysadmin" if url.startswith("/users") else "county_admin"
    assert client_as(role).get(url).status_code == 404


def test_ids_beyond_the_integer_range_are_404_in_apis(app):
    client = app.test_client()
    member = _jwt(client, "member")
    for url in ("/api/v1/member-vouchers/activities/281474976710656/cover",
                "/api/v1/member-vouchers/activities/99999999999999999999/cover"):
        response = client.get(url, headers=member)
        assert response.status_code == 404 and response.json["code"] == "not_found", url
    response = client.post("/api/v1/member-vouchers/activities/281474976710656/claim", headers=member)
    assert response.status_code == 404
    assert client.get("/api/v1/member/2147483648", headers=_jwt(client, "county_admin")).status_code == 404


def test_malformed_rest_queries_are_400_in_chinese(app):
    client = app.test_client()
    headers = _jwt(client, "county_admin")
    for q in ("((((", "(filters:!((col:name,opr:sw,value:", "!!!", "(page:-1"):
        response = client.get(f"/api/v1/member/?q={q}", headers=headers)
        assert response.status_code == 400 and response.json["code"] == "bad_request", q
        assert all(ord(c) > 127 or not c.isalpha() for c in response.json["message"].replace("q", "")), q


@pytest.mark.parametrize("username", ["sysadmin", "auditadmin", "county_admin", "auditor", "member"])
def test_fab_security_views_action_routes_refuse_without_500(client_as, ctx, username):
    client = client_as(username)
    for url, data in (("/groups/action/delete/1", None), ("/groups/action_post", {"action": "delete", "rowid": "1"}),
                      ("/roles/action/copyrole/1", None), ("/roles/action_post", {"action": "zz"}),
                      ("/users/action/zz/1", None), ("/users/action_post", {"action": "resetpasswords",
                                                                            "rowid": "99999999999999"}),
                      ("/permissions/action_post", {"action": "x"}), ("/viewmenus/action/x/1", None),
                      ("/permissionviews/action_post", {})):
        response = client.post(url, data=data or {})
        assert response.status_code in (302, 403, 404), (url, response.status_code)
    roles = len(current_app.appbuilder.sm.get_all_roles())
    assert client.post("/roles/action/copyrole/1").status_code in (403, 404)
    assert len(current_app.appbuilder.sm.get_all_roles()) == roles  # nothing copied


def test_junk_paging_sorting_and_filters_on_lists_are_no_500(client_as):
    client = client_as("county_admin")
    assert client.get("/memberview/list/?page_MemberView=abc&_flt_0_name=张").headers["Location"] \
        == "/memberview/list/?_flt_0_name=%E5%BC%A0"  # the same list, without the junk
    assert client.get("/memberview/list/?psize_MemberView=100000000").headers["Location"] \
        == "/memberview/list/?psize_MemberView=100"  # no million-row page
    assert client.get(f"/memberview/list/?page_MemberView={10**20}").status_code == 302
    sysadmin = client_as("sysadmin")
    for url in ("/users/list/?_flt_3_roles=1", "/users/list/?_flt_9_org=1", "/users/list/?_flt_0_org=99999999999",
                "/users/list/?_oc_AppUserDBModelView=zz&_od_AppUserDBModelView=desc",
                "/roles/list/?_oc_AppRoleModelView=password&_od_AppRoleModelView=asc"):
        assert sysadmin.get(url).status_code == 200, url


def test_boolean_filters_take_any_text(client_as, ctx):
    """FAB compared a boolean column with the raw text (anything but "y": a 500 on PostgreSQL)."""
    import re

    from models.members import Member

    client = client_as("city_admin")

    def count(query):
        page = re.sub(r"<[^>]+>", "", client.get(f"/memberview/list/?{query}").get_data(as_text=True))
        return int(re.search(r"记录数目\D*(\d+)", page).group(1))

    def stored(flag):
        return ctx.scalar(select(func.count(Member.id)).where(Member.migrant_worker.is_(flag)))

    assert count("_flt_0_migrant_worker=y") == stored(True)
    assert count("_flt_0_migrant_worker=zz") == count("_flt_0_migrant_worker=") == stored(False)
