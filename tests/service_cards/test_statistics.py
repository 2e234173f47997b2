"""服务卡统计 per county and base union."""
from decimal import Decimal

from app.services.service_cards import benefits, cards, statistics

from .conftest import user


def test_statistics_count_cards_registrations_and_paid_benefits(ctx, issued, clerk):
    from datetime import timedelta

    from sqlalchemy import select

    from app.services.service_cards.coverage import beijing_date, coverage_period
    from models.service_cards import ServiceCard

    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).all()
    card = cards.distribute_card(ctx, made[0].id, actor=clerk)
    period = coverage_period(beijing_date(issued.submitted_at))
    claim = benefits.file_claim(ctx, actor=clerk, member_id=card.member_id, kind="critical",
                                incident_date=period.start + timedelta(days=3), disease_category="renal",
                                hospitalized=True, today=period.end)
    city = user(ctx, "city_admin")
    benefits.review_claim(ctx, claim.id, "approve", actor=city)
    benefits.review_claim(ctx, claim.id, "pay", actor=city)
    table = statistics.card_statistics(ctx, actor=city)
    headers = table.headers
    row = next(r for r in table.rows if r[1] == issued.union_name)
    value = dict(zip(headers, row))
    assert value["区县局(产业)工会"] == "黄浦区总工会"
    assert value["卡·正常"] >= 1 and value["卡·已制卡"] >= 2
    assert value["已给付笔数"] >= 1 and value["已给付金额（元）"] >= Decimal("10000.00")
    assert value["保障注册人数"] >= 3 and value["保障费用（元）"] >= 3 * period.fee
    assert str(period.start) in value["各保障期注册"]
    total = next(r for r in table.rows if r[0] == "黄浦区总工会" and r[1] == "合计")
    assert dict(zip(headers, total))["已给付金额（元）"] >= Decimal("10000.00")
    # another county's admin sees none of 黄浦区
    other = statistics.card_statistics(ctx, actor=user(ctx, "county2_admin"))
    assert all(r[0] != "黄浦区总工会" for r in other.rows)
