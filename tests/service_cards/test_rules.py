"""The requirement file's "rules most likely to be built wrongly" (service-cards.md) with its exact dates and
amounts, and the issue's statistics per county and base union (members, cards by status, registrations
and fees per period, benefits paid) on a county built for the test, so every figure is exact."""
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.services import members as member_service
from app.services.errors import DomainError
from app.services.organizations import create_org
from app.services.service_cards import benefits, cards, coverage, statistics
from models.members import Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.review import ReviewTrail
from models.service_cards import CardStatus, CoverageRegistration, ServiceCard
from tests.factories import make_member, make_user

from .conftest import user


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def _free_members(ctx, count):
    """Demo members without any registration (the rules' dates are then the only ones)."""
    taken = select(CoverageRegistration.member_id)
    ids = ctx.scalars(select(Member.id).where(Member.id.not_in(taken), Member.member_no.is_not(None))
                      .order_by(Member.id).limit(count)).all()
    assert len(ids) == count
    return ids


def _card(ctx, member, county_admin, clerk, *, distribute=True):
    """A card 已制卡 (or 正常 from 2024-06-01 when ``distribute``), its history put at the seed's dates."""
    cards.create_cards(ctx, [(member, None)])
    ctx.commit()
    card = ctx.scalars(select(ServiceCard).where(ServiceCard.member_id == member.id)).one()
    cards.enter_serial(ctx, card.id, actor=county_admin, serial=f"66{member.id:010d}")
    if distribute:
        cards.distribute_card(ctx, card.id, actor=clerk)
    _backdate(ctx, card, made=_utc(2024, 5, 1), distribute=_utc(2024, 6, 1))
    return card


def _backdate(ctx, card, **steps):
    ctx.execute(update(ServiceCard).where(ServiceCard.id == card.id).values(created_at=_utc(2024, 3, 1)))
    for action, at in steps.items():
        ctx.execute(update(ReviewTrail).where(ReviewTrail.entity == "service_card", ReviewTrail.entity_id == card.id,
                                              ReviewTrail.action == action).values(at=at))
    ctx.commit()


# --- rule 1: S002:L63 the coverage period (never from the registration date, H2 never from July) ----------
def test_coverage_on_exact_days_h1_from_july_h2_from_january(ctx):
    a, b = _free_members(ctx, 2)
    org = ctx.get(Member, a).org_id
    coverage.register_members(ctx, [(a, org)], registered_on=date(2024, 1, 1))
    coverage.register_members(ctx, [(b, org)], registered_on=date(2024, 12, 31))
    covered = {day: coverage.coverage_on(ctx, a, day) is not None
               for day in (date(2024, 1, 1), date(2024, 6, 30), date(2024, 7, 1), date(2025, 6, 30), date(2025, 7, 1))}
    assert covered == {date(2024, 1, 1): False, date(2024, 6, 30): False, date(2024, 7, 1): True,
                       date(2025, 6, 30): True, date(2025, 7, 1): False}
    covered = {day: coverage.coverage_on(ctx, b, day) is not None
               for day in (date(2024, 12, 31), date(2025, 1, 1), date(2025, 6, 30), date(2025, 7, 1))}
    assert covered == {date(2024, 12, 31): False, date(2025, 1, 1): True, date(2025, 6, 30): True,
                       date(2025, 7, 1): False}
    # registered in H2 2024, he must register again in H1 2025 to be covered from 2025-07-01
    assert coverage.register_members(ctx, [(b, org)], registered_on=date(2024, 8, 1)) == (0, 1)  # overlap
    assert coverage.register_members(ctx, [(b, org)], registered_on=date(2025, 3, 1)) == (1, 0)
    again = coverage.coverage_on(ctx, b, date(2025, 7, 1))
    assert (again.period_start, again.period_end, again.fee) == (date(2025, 7, 1), date(2026, 6, 30), Decimal("24.00"))
    ctx.rollback()


# --- rule 2: S002:L61 24 per year / 12 per half year, borne by the unions, never prorated ------------------
def test_funding_report_1000_in_h1_is_24000_and_200_in_h2_is_2400(ctx, clerk):
    from sqlalchemy import insert

    union = clerk.org_id
    ctx.execute(insert(Member), [{"name": "测试会员", "id_type": "other", "id_number": f"FUND{i:06d}", "org_id": union,
                                  "status": "active", "cert_status": "unverified"} for i in range(1200)])
    ids = ctx.scalars(select(Member.id).where(Member.id_number.like("FUND%")).order_by(Member.id)).all()
    # H1 on its first and last days and between: the same 24.00 each (no prorating by day)
    for chunk, day in ((ids[:400], date(2040, 1, 1)), (ids[400:700], date(2040, 3, 15)), (ids[700:1000], date(2040, 6, 30))):
        coverage.register_members(ctx, [(m, union) for m in chunk], registered_on=day)
    for chunk, day in ((ids[1000:1100], date(2040, 7, 1)), (ids[1100:], date(2040, 12, 31))):
        coverage.register_members(ctx, [(m, union) for m in chunk], registered_on=day)
    city = user(ctx, "city_admin")
    h1 = [x for x in coverage.funding_report(ctx, actor=city, period_start=date(2040, 7, 1)) if x.org_id == union]
    h2 = [x for x in coverage.funding_report(ctx, actor=city, period_start=date(2041, 1, 1)) if x.org_id == union]
    assert [(x.period_end, x.fee, x.headcount, x.amount) for x in h1] == [
        (date(2041, 6, 30), Decimal("24.00"), 1000, Decimal("24000.00"))]
    assert [(x.period_end, x.fee, x.headcount, x.amount) for x in h2] == [
        (date(2041, 6, 30), Decimal("12.00"), 200, Decimal("2400.00"))]
    # the fee is the union's: every funding line names a union, the member pays nothing
    assert ctx.get(Org, h1[0].org_id).level == OrgLevel.BASE
    ctx.rollback()


# --- rule 3: S002:L57 the member number: district prefix, text with its zeros, never reused or renumbered ---
def _county_union(ctx, code, name):
    """A district union coded ``code`` (leading zeros) with a new base union and its clerk."""
    city = ctx.scalar(select(Org).where(Org.level == OrgLevel.CITY))
    county = ctx.scalar(select(Org).where(Org.code == code)) or create_org(ctx, name=name, parent=city, code=code)
    n = len(ctx.scalars(select(Org.id).where(Org.parent_id == county.id)).all()) + 1
    base = create_org(ctx, name=f"测试零区第{n}工会", parent=county)  # a new union per test: exact figures
    return county, base, make_user(ctx, "基层工会管理员", base)


@pytest.fixture()
def county009(ctx):
    return _county_union(ctx, "009", "测试零区总工会")


def test_member_number_keeps_leading_zeros_and_is_never_reused_or_renumbered(ctx, county009, county_admin):
    _county, base, clerk = county009
    city = user(ctx, "city_admin")
    first = make_member(ctx, base)
    card = _card(ctx, first, city, clerk)
    assert len(first.member_no) == 10 and first.member_no.startswith("009") and first.member_no.isdigit()
    assert card.member_no == first.member_no and card.district_name == "测试零区总工会"
    member_service.membership_changed(ctx, {first.id: ("active", "left")}, actor=clerk)
    first.status = MembershipStatus.LEFT
    ctx.commit()
    ctx.expire_all()
    assert ctx.get(ServiceCard, card.id).status == CardStatus.CANCELLED
    second = make_member(ctx, base)
    assert second.member_no == f"{int(first.member_no) + 1:010d}" and second.member_no.startswith("009")
    other = make_member(ctx, base)
    card2 = _card(ctx, other, city, clerk)
    new = cards.reissue_card(ctx, card2.id, actor=city, reason="卡片损坏换卡")
    assert new.member_no == other.member_no == ctx.get(Member, other.id).member_no


# --- rule 4: S002:L65 four illnesses, first diagnosis, in hospital, 10,000 once ------------------------------
def test_critical_illness_recurrence_in_a_later_period_is_not_paid_again(ctx, county009):
    _county, base, clerk = county009
    city = user(ctx, "city_admin")
    member = make_member(ctx, base)
    _card(ctx, member, city, clerk)
    coverage.register_members(ctx, [(member.id, base.id)], registered_on=date(2024, 3, 15))
    coverage.register_members(ctx, [(member.id, base.id)], registered_on=date(2025, 3, 15))
    ctx.commit()

    def claim(day, category="cancer", hospitalized=True):
        return benefits.file_claim(ctx, actor=clerk, member_id=member.id, kind="critical", incident_date=day,
                                   disease_category=category, hospitalized=hospitalized, today=date(2026, 6, 30))

    for day, category, hospitalized, message in (
            (date(2024, 10, 8), "cancer", False, "住院"),           # not treated in hospital
            (date(2024, 10, 8), "diabetes", True, "四类之一"),      # outside the four
            (date(2024, 6, 30), "cancer", True, "保障期")):         # the day before the period
        with pytest.raises(DomainError, match=message):
            claim(day, category, hospitalized)
        ctx.rollback()
    first = claim(date(2024, 10, 8))
    assert (first.amount, first.coverage.period_start) == (Decimal("10000.00"), date(2024, 7, 1))
    with pytest.raises(DomainError, match="已申请过"):
        claim(date(2025, 9, 1))  # a recurrence in the next period (first diagnosis only)
    ctx.rollback()
    assert claim(date(2025, 9, 1), "transplant").amount == Decimal("10000.00")


# --- rule 5: S002:L68 the member's union files, for a card valid on the incident date ------------------------
def test_members_cannot_file_and_a_card_lost_on_the_incident_date_is_not_valid(client_as, ctx, county009):
    _county, base, clerk = county009
    city = user(ctx, "city_admin")
    member = make_member(ctx, base)
    card = _card(ctx, member, city, clerk)
    coverage.register_members(ctx, [(member.id, base.id)], registered_on=date(2024, 3, 15))
    ctx.commit()
    cards.report_loss(ctx, card.id, actor=clerk)
    cards.cancel_loss(ctx, card.id, actor=clerk)
    _backdate(ctx, card, made=_utc(2024, 5, 1), distribute=_utc(2024, 6, 1), report_loss=_utc(2024, 9, 1, 2))
    ctx.execute(update(ReviewTrail).where(ReviewTrail.entity == "service_card", ReviewTrail.entity_id == card.id,
                                          ReviewTrail.action == "cancel_loss").values(at=_utc(2024, 9, 10, 2)))
    ctx.commit()

    def claim(day):
        return benefits.file_claim(ctx, actor=clerk, member_id=member.id, kind="disability", incident_date=day,
                                   today=date(2025, 6, 30))

    for day in (date(2024, 9, 5), date(2024, 9, 9)):  # 挂失 from 2024-09-01 to 2024-09-10
        with pytest.raises(DomainError, match="未持有效"):
            claim(day)
        ctx.rollback()
    assert claim(date(2024, 9, 11)).amount == Decimal("30000.00")
    # the member himself has no way to file: the claim pages refuse his role, the API has no such route
    client = client_as("member")
    assert client.get("/cardclaims/new").status_code in (403, 404)
    assert client.post("/cardclaims/new", data={"kind": "critical"}).status_code in (403, 404)
    assert client.post("/api/v1/me/card/claims", json={"kind": "critical"}).status_code in (401, 404, 405)


# --- issue item 5: statistics per county and base union ----------------------------------------------------
def test_statistics_per_county_and_union_are_exact(ctx):
    county, base, clerk = _county_union(ctx, "008", "测试统计区总工会")  # this test's county only
    city = user(ctx, "city_admin")
    m1, m2, m3, m4 = (make_member(ctx, base) for _ in range(4))
    _card(ctx, m1, city, clerk)
    c2 = _card(ctx, m2, city, clerk)
    _card(ctx, m3, city, clerk, distribute=False)
    _card(ctx, m4, city, clerk)
    coverage.register_members(ctx, [(m1.id, base.id), (m2.id, base.id), (m4.id, base.id)],
                              registered_on=date(2024, 3, 15))
    coverage.register_members(ctx, [(m3.id, base.id)], registered_on=date(2024, 9, 10))
    ctx.commit()
    cards.report_loss(ctx, c2.id, actor=clerk)
    _backdate(ctx, c2, made=_utc(2024, 5, 1), distribute=_utc(2024, 6, 1), report_loss=_utc(2024, 12, 1))
    cards.end_membership(ctx, [m4.id], status=MembershipStatus.LEFT, actor=clerk, on=date(2024, 11, 20))
    ctx.get(Member, m4.id).status = MembershipStatus.LEFT
    ctx.commit()
    paid = benefits.file_claim(ctx, actor=clerk, member_id=m1.id, kind="critical", incident_date=date(2024, 10, 8),
                               disease_category="cancer", hospitalized=True, today=date(2025, 6, 30))
    benefits.file_claim(ctx, actor=clerk, member_id=c2.member_id, kind="disability", incident_date=date(2024, 8, 1),
                        today=date(2025, 6, 30))  # filed, not paid: not counted
    benefits.review_claim(ctx, paid.id, "approve", actor=city)
    benefits.review_claim(ctx, paid.id, "pay", actor=city)

    table = statistics.card_statistics(ctx, actor=city)
    rows = [dict(zip(table.headers, r)) for r in table.rows if r[0] == county.name]
    union = next(r for r in rows if r["基层工会"] == base.name)
    total = next(r for r in rows if r["基层工会"] == "合计")
    expected = {"在会会员": 3, "卡·开户中": 0, "卡·已制卡": 1, "卡·正常": 1, "卡·挂失": 1, "卡·已注销": 1,
                "保障注册人数": 4, "保障费用（元）": Decimal("84.00"), "已给付笔数": 1,
                "已给付金额（元）": Decimal("10000.00")}
    assert {k: union[k] for k in expected} == expected
    assert union["各保障期注册"] == "2024-07-01至2025-06-30：3人/72.00元；2025-01-01至2025-06-30：1人/12.00元"
    assert {k: total[k] for k in expected} == expected
    # the county's admin of another district sees nothing of it; the base clerk sees only his union
    assert all(r[0] != county.name for r in statistics.card_statistics(ctx, actor=user(ctx, "county2_admin")).rows)
    own = statistics.card_statistics(ctx, actor=clerk)
    assert [r[1] for r in own.rows] == [base.name, "合计"]
