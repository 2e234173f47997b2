"""The member API: declare, submit, modify (type locked), read own plan; refusals in Chinese JSON."""
from __future__ import annotations

import pytest

from seed.loader import DEMO_PASSWORD

from .conftest import day, member_account

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")


def token(client, user):
    response = client.post("/api/v1/security/login", json={"username": user.username, "password": DEMO_PASSWORD,
                                                            "provider": "db", "refresh": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture()
def api(app, ctx, member_factory):
    def make():
        member = member_factory()
        client = app.test_client()
        return member, client, token(client, member_account(ctx, member))

    return make


def test_member_declares_submits_modifies_and_reads(api, seed_products):
    member, client, auth = api()
    p = seed_products
    body = {"type": "city_all", "days": [day("2025-05-01", p["meal"], p["activity"], p["lodging"])]}
    saved = client.put("/api/v1/recuperation/declaration", json=body, headers=auth)
    assert saved.status_code == 200, saved.json
    assert saved.json["warnings"] == ["计划金额 476.00 元，超出参考标准 400 元的 76.00 元由职工自理"]
    assert saved.json["result"]["status_label"] == "草稿"
    submitted = client.post("/api/v1/recuperation/declaration/submit", json={"commitment": True}, headers=auth)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["result"]["status_label"] == "已上报" and submitted.json["result"]["type_locked"]
    locked = client.put("/api/v1/recuperation/declaration", json={**body, "type": "none", "days": []}, headers=auth)
    assert locked.status_code == 409 and locked.json == {"code": "type_locked", "message": "疗休养类型提交后不可修改"}
    modified = client.put("/api/v1/recuperation/declaration",
                          json={"type": "city_all", "days": [day("2025-05-02", p["meal"]), day("2025-05-04", p["meal"])]},
                          headers=auth)
    assert modified.status_code == 200 and modified.json["result"]["version"] == 2
    assert modified.json["warnings"] == []
    mine = client.get("/api/v1/recuperation/declaration", headers=auth)
    assert [d["date"] for d in mine.json["result"]["days"]] == ["2025-05-02", "2025-05-04"]
    assert mine.json["result"]["type_label"] == "市内-全市" and mine.json["result"]["planned_total"] == "176.00"
    by_id = client.get(f"/api/v1/recuperation/declarations/{mine.json['result']['id']}", headers=auth)
    assert by_id.status_code == 200


def test_member_reading_another_members_declaration_is_404(api):
    _m, client, auth = api()
    _o, other_client, other_auth = api()
    theirs = other_client.put("/api/v1/recuperation/declaration", json={"type": "none"}, headers=other_auth)
    response = client.get(f"/api/v1/recuperation/declarations/{theirs.json['result']['id']}", headers=auth)
    assert response.status_code == 404 and response.json["code"] == "not_found"
    assert client.get("/api/v1/recuperation/declarations/99999999", headers=auth).status_code == 404


def test_dates_not_increasing_refused_in_chinese(api, seed_products):
    _m, client, auth = api()
    meal = seed_products["meal"]
    response = client.put("/api/v1/recuperation/declaration", headers=auth, json={
        "type": "city_all", "days": [day("2025-05-01", meal), day("2025-05-01", meal)]})
    assert response.status_code == 400
    assert response.json == {"code": "itinerary_invalid", "message": "第2日的日期须晚于第1日（2025-05-01）"}


@pytest.mark.parametrize("body", [{"type": "city_all", "days": "x"}, {"type": 5}, {"type": "city_all", "org_id": "1"},
                                  {"type": "nonsense"}, [], {"type": "city_all", "days": [{"date": "x" * 5000}]}])
def test_malformed_input_is_a_chinese_400(api, body):
    _m, client, auth = api()
    response = client.put("/api/v1/recuperation/declaration", json=body, headers=auth)
    assert response.status_code == 400 and response.json["code"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])


def test_bad_year_and_submit_without_commitment(api):
    _m, client, auth = api()
    assert client.get("/api/v1/recuperation/policy?year=abc", headers=auth).status_code == 400
    client.put("/api/v1/recuperation/declaration", json={"type": "none"}, headers=auth)
    response = client.post("/api/v1/recuperation/declaration/submit", json={}, headers=auth)
    assert response.status_code == 400 and "承诺书" in response.json["message"]


def test_policy_products_balance(api, seed_products):
    _m, client, auth = api()
    policy = client.get("/api/v1/recuperation/policy", headers=auth).json["result"]
    assert policy["opens_on"] == "2025-01-10" and policy["budget"] == "400.00"
    assert "本年度不参加" in [t["label"] for t in policy["types"]]
    products = client.get("/api/v1/recuperation/products?date=2025-05-01&category=lodging", headers=auth).json["result"]
    lodging = next(p for p in products if p["id"] == seed_products["lodging"].id)
    assert lodging["remaining"] == 10
    assert client.get("/api/v1/recuperation/balance", headers=auth).json["result"]["balance"] == "400.00"
    found = client.get("/api/v1/recuperation/orgs/search?q=工会", headers=auth)
    assert found.status_code == 200 and found.json["result"]
    assert client.get("/api/v1/recuperation/orgs/search?q=a", headers=auth).status_code == 400
    assert client.get("/api/v1/recuperation/orgs/tree", headers=auth).json["result"]


def test_typed_in_unit_through_the_api(api):
    _m, client, auth = api()
    response = client.put("/api/v1/recuperation/declaration", json={"type": "none", "unit_name": "某某科技有限公司"},
                          headers=auth)
    assert response.status_code == 200 and response.json["result"]["org_pending"]


def test_role_without_the_grant_is_403(app, ctx):
    from sqlalchemy import select

    from models.security import AppUser

    client = app.test_client()
    admin = ctx.scalar(select(AppUser).where(AppUser.username == "city_admin"))
    response = client.get("/api/v1/recuperation/policy", headers=token(client, admin))
    assert response.status_code == 403 and response.json["code"]


def test_save_and_submit_in_one_request_books_at_once(api, ctx, seed_products):
    """PUT /declaration with submit: true — saved, submitted and booked in one transaction; without
    the commitment nothing is saved; a sold-out day refuses the whole plan and books nothing."""
    from sqlalchemy import select

    from models.recuperation import Declaration, ProductDay, Reservation

    p = seed_products
    member, client, auth = api()
    body = {"type": "city_all", "days": [day("2025-05-01", p["meal"]), day("2025-05-03", p["lodging"])],
            "submit": True}
    refused = client.put("/api/v1/recuperation/declaration", json=body, headers=auth)
    assert refused.status_code == 400 and refused.json["message"] == "请阅读并同意承诺书后再上报"
    assert ctx.scalar(select(Declaration).where(Declaration.member_id == member.id)) is None

    done = client.put("/api/v1/recuperation/declaration", json={**body, "commitment": True}, headers=auth)
    assert done.status_code == 200, done.json
    assert done.json["result"]["status_label"] == "已上报" and done.json["result"]["type_locked"]
    assert [d["date"] for d in done.json["result"]["days"]] == ["2025-05-01", "2025-05-03"]
    ctx.expire_all()
    booked = ctx.scalars(select(Reservation).join(Declaration).where(Declaration.member_id == member.id)).all()
    assert sorted((r.day.isoformat(), r.product_id) for r in booked) == [
        ("2025-05-01", p["meal"].id), ("2025-05-03", p["lodging"].id)]

    # the last 10 rooms of 3 May go to someone else; the next plan asking for one is refused whole
    ctx.execute(ProductDay.__table__.update().where(ProductDay.product_id == p["lodging"].id)
                .values(reserved=ProductDay.capacity))
    ctx.commit()
    other, other_client, other_auth = api()
    late = other_client.put("/api/v1/recuperation/declaration", headers=other_auth, json={
        **body, "commitment": True})
    assert late.status_code == 409 and late.json["code"] == "sold_out"
    assert "剩余数量不足（剩余 0，需要 1）" in late.json["message"]
    ctx.expire_all()
    assert ctx.scalar(select(Declaration).where(Declaration.member_id == other.id)) is None
    meal_day = ctx.scalar(select(ProductDay).where(ProductDay.product_id == p["meal"].id))
    assert meal_day.reserved == 1  # only the first member's: the refused plan's meal was rolled back
