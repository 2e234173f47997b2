"""The card follows the membership: 离会 / 转出 cancel the card (who, when, reason, audit) and end the
coverage in the same transaction; 转会 moves the card to the new union with its number (A-12)."""
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.services import members as member_service
from app.services.errors import DomainError, NotFoundError
from app.services.service_cards import benefits, cards, coverage, statistics
from models.audit import AuditLog
from models.members import Member, MembershipStatus
from models.organizations import Org, OrgLevel
from models.review import ReviewTrail
from models.service_cards import CardStatus, CoverageRegistration, CoverageStatus, ServiceCard
from tests.factories import make_user

from .conftest import user


@pytest.fixture()
def card(ctx, issued, clerk):
    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).first()
    return cards.distribute_card(ctx, made.id, actor=clerk)


def _trail(ctx, card_id):
    return ctx.scalars(select(ReviewTrail).where(ReviewTrail.entity == "service_card", ReviewTrail.entity_id == card_id)
                       .order_by(ReviewTrail.id)).all()


def _backdate(ctx, card, created, **steps):
    """Put the card's history at the given UTC instants (the rules read the trail's times)."""
    ctx.execute(update(ServiceCard).where(ServiceCard.id == card.id).values(created_at=created))
    for action, at in steps.items():
        ctx.execute(update(ReviewTrail).where(ReviewTrail.entity == "service_card", ReviewTrail.entity_id == card.id,
                                              ReviewTrail.action == action).values(at=at))
    ctx.commit()


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- 1. 离会 / 转出 cancel the card ---------------------------------------------------------------
def test_leaving_through_the_member_form_cancels_the_card_in_the_same_save(client_as, ctx, card, clerk):
    member = card.member
    client = client_as("base_admin")
    response = client.post(f"/memberview/edit/{member.id}", data={
        "name": member.name, "phone": "", "status": "left", "position": "", "gender": "", "birth_date": ""},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "会员服务卡已自动注销" in html, re.sub(r"<[^>]+>", " ", html)[-3000:]
    ctx.expire_all()
    assert ctx.get(Member, member.id).status == MembershipStatus.LEFT
    assert ctx.get(ServiceCard, card.id).status == CardStatus.CANCELLED
    last = _trail(ctx, card.id)[-1]
    assert (last.action, last.from_status, last.to_status, last.actor_name, last.reason) == (
        "cancel", "normal", "cancelled", "base_admin", "会员离会，会员服务卡自动注销")
    assert last.at is not None
    assert ctx.scalar(select(AuditLog.id).where(AuditLog.target_type == "service_card",
                                                AuditLog.target_id == str(card.id),
                                                AuditLog.summary.like("注销%")))
    # coverage ended today: nothing of the member stays 有效
    assert ctx.scalar(select(CoverageRegistration.id).where(CoverageRegistration.member_id == member.id,
                                                            CoverageRegistration.status == CoverageStatus.ACTIVE)) is None
    # the card page shows 已注销 and offers no action any more
    show = client.get(f"/servicecards/show/{card.id}").get_data(as_text=True)
    assert "已注销" in show and "会员离会，会员服务卡自动注销" in show


def test_a_refused_member_save_cancels_nothing(client_as, ctx, card, monkeypatch):
    from app.services.errors import MemberInvalidError

    def refuse(session, item):
        raise MemberInvalidError({"unit": "该单位已注销，不能再登记会员"})

    monkeypatch.setattr(member_service, "validate_member", refuse)
    member = card.member
    response = client_as("base_admin").post(f"/memberview/edit/{member.id}", data={
        "name": member.name, "phone": "", "status": "left", "position": "", "gender": "", "birth_date": ""})
    assert response.status_code == 200 and "该单位已注销" in response.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(Member, member.id).status == MembershipStatus.ACTIVE
    assert ctx.get(ServiceCard, card.id).status == CardStatus.NORMAL


def test_transferred_out_by_import_cancels_cards_not_yet_distributed(ctx, issued, clerk, tmp_path):
    """转出 (out of the city) through the member import: the 已制卡 cards of the rows are cancelled too."""
    from app.services import imports
    from tests.factories import make_xlsx

    rows = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).all()
    leaver, stayer = rows[0], rows[1]
    assert leaver.status == CardStatus.MADE
    m = leaver.member
    header = ["*姓名", "证件类型", "*证件号码", "性别", "出生日期", "手机号", "是否农民工", "职务", "入会日期",
              "所属工会", "所在单位", "会籍状态", "备注"]
    path = make_xlsx(tmp_path / "m.xlsx", [header, [m.name, "居民身份证", m.id_number, "", "", m.phone, "否", "",
                                                     "", "", "", "转出", ""]])
    with open(path, "rb") as fh:
        job = imports.submit_import(ctx, kind_key="members", actor=clerk, file_name="m.xlsx", stream=fh)
    ctx.commit()
    job = imports.run_import(ctx, job.id)
    assert job.ok_rows == 1, job.message
    ctx.expire_all()
    assert ctx.get(ServiceCard, leaver.id).status == CardStatus.CANCELLED
    assert _trail(ctx, leaver.id)[-1].reason == "会员转出，会员服务卡自动注销"
    assert ctx.get(ServiceCard, stayer.id).status == CardStatus.MADE


def test_a_member_with_a_card_cannot_be_deleted(ctx, card):
    with pytest.raises(DomainError, match="已办理会员服务卡"):
        member_service.check_member_deletable(ctx, card.member)


def test_after_leaving_on_2024_11_20_benefits_and_funding_follow_the_dates(ctx, card, clerk):
    """H1 registration 2024-03-15 → 2024-07-01…2025-06-30, 24.00; card 正常 from 2024-06-01; left 2024-11-20.
    Incident 2024-11-19 → 10,000.00; 2024-11-20 and 2024-12-05 → refused; the started period's fee stays
    24.00 (never prorated). An H2 registration (2024-09-10 → 2025-01-01…2025-06-30, 12.00) of a member leaving
    the same day covers nothing and is not funded."""
    member = card.member
    other = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == card.batch_id, ServiceCard.id != card.id)
                        .order_by(ServiceCard.id)).first()
    org = member.org_id
    city = user(ctx, "city_admin")

    def funded(start):  # (headcount, amount) the union bears for the period starting on ``start``
        lines = [x for x in coverage.funding_report(ctx, actor=city, period_start=start) if x.org_id == org]
        return (lines[0].headcount, lines[0].amount) if lines else (0, Decimal("0.00"))

    h1_before, h2_before = funded(date(2024, 7, 1)), funded(date(2025, 1, 1))
    coverage.register_members(ctx, [(member.id, org)], registered_on=date(2024, 3, 15))
    coverage.register_members(ctx, [(other.member_id, org)], registered_on=date(2024, 9, 10))
    ctx.commit()
    _backdate(ctx, card, _utc(2024, 3, 1), made=_utc(2024, 5, 1), distribute=_utc(2024, 6, 1))
    for m in (member.id, other.member_id):
        cards.end_membership(ctx, [m], status=MembershipStatus.LEFT, actor=clerk, on=date(2024, 11, 20))
        ctx.get(Member, m).status = MembershipStatus.LEFT
    ctx.commit()
    _backdate(ctx, card, _utc(2024, 3, 1), cancel=_utc(2024, 11, 20, 2))  # 10:00 Beijing
    h1 = ctx.scalar(select(CoverageRegistration).where(CoverageRegistration.member_id == member.id,
                                                       CoverageRegistration.period_start == date(2024, 7, 1)))
    assert (h1.period_end, h1.fee, h1.status, h1.terminated_on) == (
        date(2025, 6, 30), Decimal("24.00"), CoverageStatus.TERMINATED, date(2024, 11, 20))

    def claim(day, member_id=member.id):
        return benefits.file_claim(ctx, actor=clerk, member_id=member_id, kind="critical", incident_date=day,
                                   disease_category="cancer", hospitalized=True, today=date(2025, 7, 1))

    assert claim(date(2024, 11, 19)).amount == Decimal("10000.00")  # diagnosed while a member: his union files
    for day in (date(2024, 11, 20), date(2024, 12, 5)):
        with pytest.raises(DomainError, match="不在该会员已注册的保障期内"):
            claim(day)
        ctx.rollback()
    with pytest.raises(DomainError, match="不在该会员已注册的保障期内"):
        claim(date(2025, 2, 1), other.member_id)
    ctx.rollback()
    assert funded(date(2024, 7, 1)) == (h1_before[0] + 1, h1_before[1] + Decimal("24.00"))
    assert funded(date(2025, 1, 1)) == h2_before
    # the card's own history reads 正常 on 2024-11-19 and 已注销 at the end of 2024-11-20
    assert cards.card_status_on(ctx, ctx.get(ServiceCard, card.id), date(2024, 11, 19)) == CardStatus.NORMAL
    assert cards.card_status_on(ctx, ctx.get(ServiceCard, card.id), date(2024, 11, 20)) == CardStatus.CANCELLED


def test_retired_members_keep_their_card(ctx, card, clerk):
    """Only 离会 and 转出 end the card (the state machine's row); 退休 keeps it."""
    assert member_service.membership_changed(ctx, {card.member_id: ("active", "retired")}, actor=clerk) == 0
    assert member_service.membership_changed(ctx, {card.member_id: ("left", "transferred_out")}, actor=clerk) == 0
    ctx.rollback()
    assert ctx.get(ServiceCard, card.id).status == CardStatus.NORMAL


# --- 2. 转会: the card follows the member (A-12) ---------------------------------------------------
def _sibling_union(ctx, org_id):
    org = ctx.get(Org, org_id)
    return ctx.scalars(select(Org).where(Org.parent_id == org.parent_id, Org.level == OrgLevel.BASE,
                                         Org.id != org.id).order_by(Org.id)).first()


def test_transfer_moves_the_card_to_the_new_union_with_its_number(client_as, ctx, card, clerk, county_admin):
    member = card.member
    old_org, number, face = member.org_id, card.member_no, card.district_name
    target = _sibling_union(ctx, old_org)
    new_clerk = make_user(ctx, "基层工会管理员", target)
    city = user(ctx, "city_admin")

    def normal_cards():
        table = statistics.card_statistics(ctx, actor=city)
        rows = {r[1]: dict(zip(table.headers, r)) for r in table.rows if r[1] != "合计"}
        return rows[ctx.get(Org, old_org).name]["卡·正常"], rows[target.name]["卡·正常"]

    before_old, before_new = normal_cards()
    member_service.transfer_member(ctx, member.id, target.id, actor=county_admin, reason="工作调动")
    ctx.expire_all()
    moved = ctx.get(ServiceCard, card.id)
    assert (moved.org_id, moved.member_no, moved.district_name, moved.status) == (target.id, number, face,
                                                                                  CardStatus.NORMAL)
    # old union: the card is gone from its pages (404) and statistics
    old = client_as("base_admin")
    assert old.get(f"/servicecards/show/{card.id}").status_code == 404
    assert number not in old.get("/servicecards/list/").get_data(as_text=True)
    with pytest.raises(NotFoundError):
        cards.report_loss(ctx, card.id, actor=clerk)
    ctx.rollback()
    # new union: sees it, may act on it, counts it
    new = client_as(new_clerk.username)
    assert number in new.get("/servicecards/list/").get_data(as_text=True)
    assert number in new.get(f"/servicecards/show/{card.id}").get_data(as_text=True)
    assert normal_cards() == (before_old - 1, before_new + 1)
    assert cards.report_loss(ctx, card.id, actor=new_clerk).status == CardStatus.LOST
    # the face changes only on reissue: then the new card shows the new district (same number)
    new_card = cards.reissue_card(ctx, card.id, actor=county_admin, reason="挂失补卡")
    assert (new_card.org_id, new_card.member_no) == (target.id, number)


def test_transfer_to_another_county_changes_the_card_only_on_reissue(ctx, card, clerk):
    city = user(ctx, "city_admin")
    member = card.member
    here = ctx.get(Org, member.org_id)
    target = ctx.scalars(select(Org).where(Org.level == OrgLevel.BASE, Org.parent_id != here.parent_id)
                         .order_by(Org.id)).first()
    number, face = card.member_no, card.district_name
    member_service.transfer_member(ctx, member.id, target.id, actor=city, reason="跨区调动")
    ctx.expire_all()
    moved = ctx.get(ServiceCard, card.id)
    assert (moved.org_id, moved.member_no, moved.district_name) == (target.id, number, face)
    assert number[:3] == "101"  # the number (district of issue) is kept
    with pytest.raises(NotFoundError):
        cards.report_loss(ctx, card.id, actor=user(ctx, "county_admin"))  # 黄浦区 no longer sees it
    ctx.rollback()
    new_card = cards.reissue_card(ctx, card.id, actor=city, reason="换卡")
    assert new_card.member_no == number and new_card.district_name == ctx.get(Org, target.parent_id).name != face


def test_a_member_leaving_while_his_batch_is_at_the_county_gets_no_coverage_and_a_cancelled_card(
        ctx, submitted, county_admin, tmp_path):
    from app.services.service_cards import batches
    from models.service_cards import BatchStatus, CardApplication

    from .conftest import bank_rows, upload

    lines = ctx.scalars(select(CardApplication).where(CardApplication.batch_id == submitted.id)
                        .order_by(CardApplication.id)).all()
    leaver = ctx.get(Member, lines[0].member_id)
    leaver.status = MembershipStatus.LEFT  # 离会 after the base union submitted the batch
    ctx.commit()
    batches.receive_batch(ctx, submitted.id, actor=county_admin, counted=3)
    registered = set(ctx.scalars(select(CoverageRegistration.member_id).where(
        CoverageRegistration.batch_id == submitted.id)))
    assert registered == {line.member_id for line in lines[1:]}
    batches.hand_over_to_bank(ctx, submitted.id, actor=county_admin)
    card = ctx.scalars(select(ServiceCard).where(ServiceCard.member_id == leaver.id)).one()
    assert card.status == CardStatus.CANCELLED and _trail(ctx, card.id)[-1].reason == "会员离会，会员服务卡自动注销"
    job = upload(ctx, submitted, bank_rows(ctx, submitted), county_admin, tmp_path, kind="card_bank_result",
                 name="bank.xlsx")
    assert (job.ok_rows, job.error_rows) == (2, 1)
    ctx.expire_all()
    assert ctx.get(type(submitted), submitted.id).status == BatchStatus.ISSUED
