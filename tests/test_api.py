"""REST APIs with JWT: scoped, masked, 404 outside scope."""
from sqlalchemy import select

from models.members import Member
from models.security import AppUser
from seed.loader import DEMO_PASSWORD
from tests.factories import base_of, county, make_member


def _token(client, username):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": DEMO_PASSWORD, "provider": "db", "refresh": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_member_api_lists_scope_only_and_masked(app, ctx):
    mine = make_member(ctx, base_of(ctx, county(ctx, 0)))
    foreign = make_member(ctx, base_of(ctx, county(ctx, 1)))
    client = app.test_client()
    headers = _token(client, "county_admin")
    body = client.get("/api/v1/member/?page_size=100&q=(order_column:id,order_direction:desc)", headers=headers).json
    ids = {row["id"] for row in body["result"]}
    assert mine.id in ids and foreign.id not in ids
    assert all("*" in row["id_number_masked"] for row in body["result"])
    assert mine.id_number not in str(body)
    assert client.get(f"/api/v1/member/{foreign.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/member/{mine.id}", headers=headers).json["result"]["phone_masked"] == mine.phone_masked


def test_member_api_refuses_writes_and_other_roles(app, ctx):
    client = app.test_client()
    headers = _token(client, "auditor")
    assert client.post("/api/v1/member/", json={"name": "伪造"}, headers=headers).status_code == 405
    assert client.delete("/api/v1/member/1", headers=headers).status_code == 405
    assert client.get("/api/v1/member/", headers=_token(client, "sysadmin")).status_code == 403
    assert client.get("/api/v1/member/").status_code == 401


def test_me_api_returns_own_record_masked(app, ctx):
    client = app.test_client()
    member_id = ctx.scalar(select(AppUser.member_id).where(AppUser.username == "member"))
    member = ctx.get(Member, member_id)
    body = client.get("/api/v1/me/", headers=_token(client, "member")).json
    assert body["result"]["member_no"] == member.member_no
    assert body["result"]["id_number"] == member.id_number_masked
    assert client.get("/api/v1/me/", headers=_token(client, "county_admin")).status_code == 403


def test_openapi_spec_lists_the_apis(client_as):
    spec = client_as("county_admin").get("/api/v1/_openapi").json
    assert "/api/v1/member/" in spec["paths"] and "/api/v1/me/" in spec["paths"]


def test_me_api_for_an_unbound_member_account_is_a_json_404(app, ctx):
    from tests.factories import make_user

    user = make_user(ctx, "会员")
    assert user.member_id is None
    client = app.test_client()
    response = client.post("/api/v1/security/login", json={"username": user.username, "password": "Union@2026demo",
                                                           "provider": "db", "refresh": False})
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}
    body = client.get("/api/v1/me/", headers=headers)
    assert body.status_code == 404 and body.json == {"code": "not_bound", "message": "该账户未绑定会员"}
