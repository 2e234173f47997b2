"""Recuperation rules (requirements/recuperation.md), the seed's worked examples as tests."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.services.errors import DomainError
from app.services.recuperation import balance as balances
from app.services.recuperation import declarations as svc
from app.services.recuperation import policy as policies
from app.services.recuperation.reservations import SoldOutError
from models.base import DISPLAY_TZ
from models.organizations import Org, OrgLevel
from models.recuperation import (Consumption, DeclarationStatus, ProductDay, Reservation, ReservationStatus,
                                 RecupType)

from .conftest import NOW, YEAR, day, make_policy, make_product


def save(ctx, member, type="city_all", days=(), now=NOW, **kw):
    return svc.save_declaration(ctx, member=member, year=YEAR, type=type, actor=None, days=list(days), now=now, **kw)


def submit(ctx, declaration, now=NOW):
    return svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True, now=now)


def reserved(ctx, product, d):
    return ctx.scalar(select(ProductDay.reserved).where(ProductDay.product_id == product.id,
                                                        ProductDay.day == date.fromisoformat(d))) or 0


# --- dates: strictly increasing, gaps allowed (rule 2) -------------------------------------------
@pytest.mark.parametrize("dates", [["2025-05-01", "2025-05-02"], ["2025-05-01", "2025-05-03"]])
def test_check_dates_increasing_with_or_without_gap_passes(dates):
    svc.check_dates([date.fromisoformat(d) for d in dates], year=YEAR, today=date(2025, 3, 1))


@pytest.mark.parametrize("dates", [["2025-05-02", "2025-05-01"], ["2025-05-01", "2025-05-01"]])
def test_check_dates_not_later_is_refused(dates):
    with pytest.raises(DomainError) as err:
        svc.check_dates([date.fromisoformat(d) for d in dates], year=YEAR, today=date(2025, 3, 1))
    assert err.value.message == f"第2日的日期须晚于第1日（{dates[0]}）"


def test_check_dates_third_day_compared_with_second():
    with pytest.raises(DomainError, match="第3日的日期须晚于第2日（2025-05-05）"):
        svc.check_dates([date(2025, 5, 1), date(2025, 5, 5), date(2025, 5, 3)], year=YEAR, today=date(2025, 3, 1))


def test_check_dates_today_or_other_year_refused():
    with pytest.raises(DomainError, match="须晚于今天"):
        svc.check_dates([date(2025, 3, 1)], year=YEAR, today=date(2025, 3, 1))
    with pytest.raises(DomainError, match="2025年度内"):
        svc.check_dates([date(2026, 1, 2)], year=YEAR, today=date(2025, 3, 1))


# --- budget: above 400 allowed with the warning (rule 3) ----------------------------------------
def test_submit_above_budget_is_kept_with_the_warning(ctx, policy, seed_products, member_factory):
    member = member_factory()
    p = seed_products
    result = save(ctx, member, days=[day("2025-05-01", p["meal"], p["activity"], p["lodging"])])
    assert result.warnings == ["计划金额 476.00 元，超出参考标准 400 元的 76.00 元由职工自理"]
    result = submit(ctx, result.declaration)
    assert result.declaration.status == DeclarationStatus.SUBMITTED
    assert result.declaration.planned_total == Decimal("476.00") and result.declaration.over_budget
    assert result.warnings == ["计划金额 476.00 元，超出参考标准 400 元的 76.00 元由职工自理"]


def test_budget_warning_none_at_or_below_reference():
    assert policies.budget_warning(Decimal("400.00"), Decimal("400.00")) is None
    assert policies.budget_warning(Decimal("208.00"), Decimal("400.00")) is None


# --- window: 10 January 00:00 Beijing (rule 5) ---------------------------------------------------
def test_window_before_january_10_beijing_is_refused(ctx, policy):
    just_before = datetime(2025, 1, 9, 23, 59, tzinfo=DISPLAY_TZ)  # 15:59 UTC on the 9th
    with pytest.raises(DomainError, match="本年度申报将于1月10日开放"):
        policies.check_window(policy, just_before)
    # 00:30 Beijing on the 10th is still the 9th in UTC: open (a UTC window would refuse it)
    policies.check_window(policy, datetime(2025, 1, 10, 0, 30, tzinfo=DISPLAY_TZ))


def test_window_close_is_a_setting(ctx):
    policy = policies.default_policy(2031)
    policy.closes_on = date(2031, 6, 30)
    with pytest.raises(DomainError, match="6月30日截止"):
        policies.check_window(policy, datetime(2031, 7, 1, 8, tzinfo=DISPLAY_TZ))


def test_save_before_window_refused(ctx, policy, member_factory):
    with pytest.raises(DomainError, match="1月10日开放"):
        save(ctx, member_factory(), type="none", now=datetime(2025, 1, 9, 12, tzinfo=DISPLAY_TZ))


# --- type lock (rule 1) ------------------------------------------------------------------------
def test_type_locked_after_submit_also_through_resubmit(ctx, policy, seed_products, member_factory):
    member = member_factory()
    first = save(ctx, member, days=[day("2025-05-01", seed_products["meal"])]).declaration
    save(ctx, member, type="none")  # a draft may still change its type
    first = save(ctx, member, days=[day("2025-05-01", seed_products["meal"])]).declaration
    submit(ctx, first)
    with pytest.raises(DomainError, match="疗休养类型提交后不可修改"):
        save(ctx, member, type="prov_unit", destination="杭州")
    again = save(ctx, member, days=[day("2025-05-02", seed_products["meal"])]).declaration
    assert again.type == "city_all" and again.version == 2


def test_type_locked_through_cancel_and_redeclare(ctx, policy, seed_products, member_factory):
    member = member_factory()
    declaration = save(ctx, member, days=[day("2025-05-01", seed_products["meal"])]).declaration
    submit(ctx, declaration)
    svc.cancel_declaration(ctx, declaration.id, actor=None, now=NOW)
    assert reserved(ctx, seed_products["meal"], "2025-05-01") == 0
    with pytest.raises(DomainError, match="疗休养类型提交后不可修改"):
        save(ctx, member, type="none")
    redeclared = save(ctx, member, days=[day("2025-05-03", seed_products["meal"])]).declaration
    assert redeclared.id == declaration.id and redeclared.status == DeclarationStatus.DRAFT
    submit(ctx, redeclared)
    assert redeclared.status == DeclarationStatus.SUBMITTED


# --- capacity and modification (rule 4) ----------------------------------------------------------
def test_capacity_last_rooms_then_sold_out(ctx, policy, base, member_factory):
    room = make_product(ctx, base, capacity=2)
    for _ in range(2):
        submit(ctx, save(ctx, member_factory(), days=[day("2025-06-01", room)]).declaration)
    late = save(ctx, member_factory(), days=[day("2025-06-01", room)]).declaration
    with pytest.raises(SoldOutError, match="剩余数量不足"):
        submit(ctx, late)
    assert reserved(ctx, room, "2025-06-01") == 2
    assert ctx.get(type(late), late.id).status == DeclarationStatus.DRAFT


def test_modification_failing_keeps_the_old_booking(ctx, policy, base, member_factory):
    room, other = make_product(ctx, base, capacity=1), make_product(ctx, base, capacity=1)
    mine = save(ctx, member_factory(), days=[day("2025-06-02", room)]).declaration
    submit(ctx, mine)
    submit(ctx, save(ctx, member_factory(), days=[day("2025-06-02", other)]).declaration)  # other is full
    with pytest.raises(SoldOutError):
        save(ctx, mine.member, days=[day("2025-06-02", other)])
    ctx.expire_all()
    assert reserved(ctx, room, "2025-06-02") == 1
    held = ctx.scalars(select(Reservation).where(Reservation.declaration_id == mine.id,
                                                 Reservation.status == ReservationStatus.RESERVED)).all()
    assert [(r.product_id, r.day.isoformat()) for r in held] == [(room.id, "2025-06-02")]
    assert ctx.get(type(mine), mine.id).version == 1


def test_modification_swaps_bookings_and_keeps_own_room(ctx, policy, base, member_factory):
    room, meal = make_product(ctx, base, capacity=1), make_product(ctx, base, "meal", "50.00", "60.00", 5)
    mine = save(ctx, member_factory(), days=[day("2025-06-03", room)]).declaration
    submit(ctx, mine)
    # the same (full) room kept and a meal added: the net change needs no extra room
    save(ctx, mine.member, days=[day("2025-06-03", room, meal)])
    assert reserved(ctx, room, "2025-06-03") == 1 and reserved(ctx, meal, "2025-06-03") == 1
    save(ctx, mine.member, days=[day("2025-06-04", meal)])
    assert reserved(ctx, room, "2025-06-03") == 0 and reserved(ctx, meal, "2025-06-04") == 1
    rows = ctx.scalars(select(Reservation).where(Reservation.declaration_id == mine.id)).all()
    assert sorted(r.status for r in rows).count("reserved") == 1


def test_modification_refused_from_the_first_travel_day_beijing(ctx, policy, seed_products, member_factory):
    mine = save(ctx, member_factory(), days=[day("2025-05-01", seed_products["meal"]),
                                             day("2025-05-03", seed_products["meal"])]).declaration
    submit(ctx, mine)
    on_the_day = datetime(2025, 5, 1, 0, 5, tzinfo=DISPLAY_TZ)  # still 30 April in UTC
    with pytest.raises(DomainError, match="不可再修改"):
        save(ctx, mine.member, days=[day("2025-05-03", seed_products["meal"])], now=on_the_day)
    # the evening before (Beijing) it is still editable
    save(ctx, mine.member, days=[day("2025-05-03", seed_products["meal"])],
         now=datetime(2025, 4, 30, 23, 50, tzinfo=DISPLAY_TZ))


def test_submit_without_commitment_refused(ctx, policy, member_factory):
    declaration = save(ctx, member_factory(), type="none").declaration
    with pytest.raises(DomainError, match="承诺书"):
        svc.submit_declaration(ctx, declaration.id, actor=None, commitment=False, now=NOW)


def test_city_type_needs_products_and_none_needs_nothing(ctx, policy, member_factory):
    with pytest.raises(DomainError, match="至少填报一日行程"):
        submit(ctx, save(ctx, member_factory()).declaration)
    done = submit(ctx, save(ctx, member_factory(), type="none").declaration)
    assert done.declaration.status == DeclarationStatus.SUBMITTED


def test_city_county_only_where_the_county_offers_it(ctx, policy, base, seed_products, member_factory,
                                                     home_county):
    member = member_factory()
    make_policy(ctx, counties=[])
    assert "city_county" not in policies.types_for(ctx, policy, member)
    with pytest.raises(DomainError, match="不能选择「市内-区县」"):
        save(ctx, member, type="city_county", days=[day("2025-05-01", seed_products["meal"])])
    make_policy(ctx, counties=[home_county])
    assert "city_county" in policies.types_for(ctx, policy, member)
    save(ctx, member, type="city_county", days=[day("2025-05-01", seed_products["meal"])])
    make_policy(ctx, counties=[])


def test_policy_restricts_types_per_year(ctx, member_factory):
    restricted = make_policy(ctx, 2020)
    restricted.allowed_types = ["city_all", "out_unit"]  # 2020: 市内 or 省外对口支援 only
    ctx.commit()
    assert policies.types_for(ctx, restricted, member_factory()) == ["city_all", "out_unit"]


def test_frontline_needs_the_roster(ctx, policy, member_factory, home_county):
    from models.recuperation import FrontlineRoster

    member = member_factory()
    assert "frontline" not in policies.types_for(ctx, policy, member)
    ctx.add(FrontlineRoster(year=YEAR, member_id=member.id, org_id=home_county.id))
    ctx.commit()
    assert "frontline" in policies.types_for(ctx, policy, member)


def test_typed_in_unit_becomes_a_pending_org(ctx, policy, member_factory):
    declaration = save(ctx, member_factory(), type="none", unit_name="绍兴新材料有限公司").declaration
    org = ctx.get(Org, declaration.org_id)
    assert org.level == OrgLevel.PENDING and org.name == "绍兴新材料有限公司"


def test_platform_unit_review_then_grouping(ctx, policy, member_factory, union, home_county):
    from app.services.organizations import create_org  # noqa: F401
    from models.recuperation import TourGroup
    from tests.factories import make_user

    member = member_factory()
    declaration = save(ctx, member, type="prov_platform", destination="千岛湖").declaration
    submit(ctx, declaration)
    clerk = make_user(ctx, "基层工会管理员", union)
    svc.review_declaration(ctx, declaration.id, "unit_approve", actor=clerk)
    assert declaration.status == DeclarationStatus.UNIT_APPROVED
    group = TourGroup(org_id=home_county.id, route="千岛湖三日游", destination="千岛湖", capacity=1)
    ctx.add(group)
    ctx.commit()
    admin = make_user(ctx, "区县工会管理员", home_county)
    svc.assign_group(ctx, declaration.id, group.id, actor=admin)
    assert declaration.status == DeclarationStatus.GROUPED and declaration.tour_group_id == group.id


def test_unit_reject_needs_reason_and_keeps_type_locked(ctx, policy, member_factory, union):
    from tests.factories import make_user

    member = member_factory()
    declaration = submit(ctx, save(ctx, member, type="out_platform", destination="新疆").declaration).declaration
    clerk = make_user(ctx, "基层工会管理员", union)
    with pytest.raises(DomainError, match="原因"):
        svc.review_declaration(ctx, declaration.id, "unit_reject", actor=clerk)
    svc.review_declaration(ctx, declaration.id, "unit_reject", actor=clerk, reason="线路已满")
    assert declaration.status == DeclarationStatus.DRAFT
    with pytest.raises(DomainError, match="疗休养类型提交后不可修改"):
        save(ctx, member, type="out_unit", destination="新疆")


def test_balance_is_entitlement_minus_consumption(ctx, policy, base, member_factory):
    member = member_factory()
    for n, amount in enumerate(("88.00", "268.00")):
        ctx.add(Consumption(member_id=member.id, base_id=base.id, org_id=base.org_id, amount=Decimal(amount),
                            at=datetime(2025, 5, 1, 12 + n, tzinfo=DISPLAY_TZ), serial=f"T{member.id}-{n}"))
    ctx.commit()
    result = balances.balance_of(ctx, member.id, YEAR)
    assert (result.entitlement, result.consumed, result.balance) == (Decimal("400.00"), Decimal("356.00"),
                                                                     Decimal("44.00"))


def test_price_above_group_price_refused(ctx, base):
    with pytest.raises(DomainError, match="不得高于团队价"):
        make_product(ctx, base, price="310.00", group_price="300.00")
    ctx.rollback()


def test_capacity_below_reserved_refused(ctx, policy, base, member_factory):
    from app.services.recuperation.catalog import validate_product

    room = make_product(ctx, base, capacity=3)
    for _ in range(2):
        submit(ctx, save(ctx, member_factory(), days=[day("2025-07-01", room)]).declaration)
    room.daily_capacity = 1
    with pytest.raises(DomainError, match="不能低于已预约数量"):
        validate_product(ctx, room)
    ctx.rollback()


def test_malformed_itinerary_refused_in_chinese(ctx, policy, member_factory):
    member = member_factory()
    for bad, message in ((["x"], "第1日格式有误"), ([{"date": "5月1日"}], "日期格式有误"),
                         ([{"date": "2025-05-01", "items": [{"product_id": "1"}]}], "产品编号有误"),
                         ([{"date": "2025-05-01", "items": [{"product_id": 1, "quantity": 99}]}], "产品数量"),
                         ([{"date": "2025-05-01"}] * 40, "最多 31 日")):
        with pytest.raises(DomainError, match=message):
            save(ctx, member, days=bad)


def test_travel_starts_on_the_first_day_and_edits_stop(ctx, policy, seed_products, member_factory):
    member = member_factory()
    declaration = save(ctx, member, days=[day("2025-05-01", seed_products["meal"]),
                                          day("2025-05-02", seed_products["meal"])]).declaration
    submit(ctx, declaration)
    svc.advance_travel(ctx, datetime(2025, 5, 1, 0, 10, tzinfo=DISPLAY_TZ))
    assert ctx.get(type(declaration), declaration.id).status == DeclarationStatus.TRAVELLING
    with pytest.raises(DomainError, match="不可再修改"):
        save(ctx, member, days=[day("2025-05-03", seed_products["meal"])], now=datetime(2025, 4, 1, tzinfo=DISPLAY_TZ))
    svc.advance_travel(ctx, datetime(2025, 5, 3, 9, tzinfo=DISPLAY_TZ))
    assert ctx.get(type(declaration), declaration.id).status == DeclarationStatus.COMPLETED


def test_pending_org_red_after_two_hours(ctx, policy, member_factory, client_as):
    from models.security import AppUser

    declaration = save(ctx, member_factory(), type="none", unit_name="两小时测试单位").declaration
    admin = ctx.scalar(select(AppUser).where(AppUser.username == "city_admin"))
    org = ctx.get(Org, declaration.org_id)
    rows = {r["org"].id: r for r in svc.pending_orgs(ctx, admin, now=org.created_at + timedelta(minutes=119))}
    assert not rows[org.id]["overdue"]
    rows = {r["org"].id: r for r in svc.pending_orgs(ctx, admin, now=org.created_at + timedelta(minutes=121))}
    assert rows[org.id]["overdue"] and rows[org.id]["age_label"] == "2小时1分"


def test_member_gets_an_sms_when_the_plan_is_submitted_and_when_returned(ctx, policy, seed_products, member_factory,
                                                                         union):
    from models.outbox import SmsMessage
    from tests.factories import make_user

    member = member_factory()
    declaration = submit(ctx, save(ctx, member, days=[day("2025-05-01", seed_products["meal"])]).declaration).declaration
    texts = ctx.scalars(select(SmsMessage.text).where(SmsMessage.related_type == "recup_declaration",
                                                      SmsMessage.related_id == declaration.id)).all()
    assert texts == [f"【工会服务】{member.name}您好，您的2025年度疗休养计划（市内-全市）已上报，计划金额88.00元。"
                     "请按申报日期出行；超出参考标准的部分由本人自理。"]
    platform = submit(ctx, save(ctx, member_factory(), type="prov_platform", destination="千岛湖").declaration).declaration
    svc.review_declaration(ctx, platform.id, "unit_reject", actor=make_user(ctx, "基层工会管理员", union), reason="名额已满")
    assert any("原因：名额已满" in t for t in ctx.scalars(select(SmsMessage.text).where(
        SmsMessage.related_id == platform.id, SmsMessage.related_type == "recup_declaration")))
