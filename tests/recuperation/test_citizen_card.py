"""市民卡 (S000:L17–20): 市内 types are paid by the citizen card at the bases' POS, so a member needs a
card number or the "holds a citizen card" flag to declare them; other types do not."""
from __future__ import annotations

import pytest

from app.services.errors import DomainError
from app.services.recuperation import declarations as svc
from models.members import Member
from tests.factories import make_user

from .conftest import day, member_account
from .test_api import token
from .test_views import client_of

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")


def test_city_type_without_citizen_card_is_refused_other_types_are_not(app, ctx, member_factory, seed_products):
    member = member_factory(has_citizen_card=False)
    with pytest.raises(DomainError, match="市内疗休养须使用市民卡"):
        svc.save_declaration(ctx, member=member, year=2025, type="city_all", actor=None,
                             days=[day("2025-05-01", seed_products["meal"])])
    client = app.test_client()
    auth = token(client, member_account(ctx, member))
    assert client.get("/api/v1/recuperation/policy?year=2025", headers=auth).json["result"]["has_citizen_card"] is False
    response = client.put("/api/v1/recuperation/declaration", json={"type": "city_all", "days": []}, headers=auth)
    assert response.status_code == 400 and "尚未登记市民卡" in response.json["message"]
    assert svc.save_declaration(ctx, member=member, year=2025, type="none", actor=None).declaration.type == "none"


def test_clerk_registers_the_card_number_then_the_member_declares(app, ctx, member_factory, union, seed_products):
    member = member_factory(has_citizen_card=False)
    clerk = client_of(app, make_user(ctx, "基层工会管理员", union))
    form = {"name": member.name, "phone": member.phone, "status": member.status, "gender": member.gender,
            "birth_date": member.birth_date.isoformat(), "citizen_card_no": "12ab"}
    refused = clerk.post(f"/memberview/edit/{member.id}", data=form, follow_redirects=True).get_data(as_text=True)
    assert "市民卡号须为 6 至 32 位数字或字母" in refused
    clerk.post(f"/memberview/edit/{member.id}", data={**form, "citizen_card_no": "3306 0012 3456 7890"})
    ctx.expire_all()
    stored = ctx.get(Member, member.id)
    assert stored.citizen_card_no == "3306001234567890" and stored.citizen_card_label == "已登记（尾号7890）"
    assert "已登记（尾号7890）" in clerk.get(f"/memberview/show/{member.id}").get_data(as_text=True)
    saved = svc.save_declaration(ctx, member=stored, year=2025, type="city_all", actor=None,
                                 days=[day("2025-05-01", seed_products["meal"])])
    assert saved.declaration.status_label == "草稿"
