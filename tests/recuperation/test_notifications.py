"""The requirement's notifications (站内信 + SMS): plan submitted, plan returned, group joined and
formed, a booking cancelled by the base (its capacity released once), complaint answered (in
test_complaints)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.recuperation import declarations as svc
from app.services.recuperation import reservations
from models.messages import Message
from models.outbox import SmsMessage
from models.recuperation import Declaration, DeclarationItem, Reservation, TourGroup
from tests.factories import make_user

from .conftest import base_manager, day, make_base, member_account
from .test_views import client_of

pytestmark = pytest.mark.usefixtures("frozen_clock", "policy")


def titles(ctx, account):
    ctx.expire_all()
    return [m.title for m in ctx.scalars(select(Message).where(Message.recipient_id == account.id)
                                         .order_by(Message.id))]


def sms_codes(ctx, member):
    return [s.template_code for s in ctx.scalars(select(SmsMessage).where(SmsMessage.phone == member.phone)
                                                 .order_by(SmsMessage.id))]


def declared(ctx, member, *days):
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="city_all", actor=None,
                                       days=list(days)).declaration
    return svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True).declaration


def test_submitted_plan_sends_message_and_sms(ctx, member_factory, seed_products):
    member = member_factory()
    account = member_account(ctx, member)
    declared(ctx, member, day("2025-05-01", seed_products["meal"]))
    assert titles(ctx, account) == ["疗休养计划已上报"]
    assert sms_codes(ctx, member) == ["recup_submitted"]
    body = ctx.scalar(select(Message.body).where(Message.recipient_id == account.id))
    assert "计划金额88.00元" in body and "【工会服务】" not in body


def test_base_cancels_booking_member_told_capacity_released_once(app, ctx, member_factory, seed_products, base,
                                                                 home_county):
    member = member_factory()
    account = member_account(ctx, member)
    room, meal = seed_products["lodging"], seed_products["meal"]
    declaration = declared(ctx, member, day("2025-05-01", meal, room))
    booking = ctx.scalar(select(Reservation).where(Reservation.declaration_id == declaration.id,
                                                   Reservation.product_id == room.id))
    assert reservations.remaining(ctx, room, booking.day) == 9
    other = client_of(app, base_manager(ctx, make_base(ctx, home_county)))
    assert other.post(f"/reservationview/flow/base_cancel?pk={booking.id}",
                      data={"pk": booking.id, "reason": "越权"}).status_code == 404
    admin = client_of(app, make_user(ctx, "区县工会管理员", home_county))
    assert admin.post(f"/reservationview/flow/base_cancel?pk={booking.id}",
                      data={"pk": booking.id, "reason": "无权"}).status_code == 403
    manager = client_of(app, base_manager(ctx, base))
    blank = manager.post(f"/reservationview/flow/base_cancel?pk={booking.id}", data={"pk": booking.id, "reason": ""},
                         follow_redirects=True)
    assert "须填写原因" in blank.get_data(as_text=True)
    done = manager.post(f"/reservationview/flow/base_cancel?pk={booking.id}",
                        data={"pk": booking.id, "reason": "客房检修"}, follow_redirects=True)
    assert "「基地取消预约」已完成 1 条" in done.get_data(as_text=True)
    ctx.expire_all()
    assert ctx.get(Reservation, booking.id).status_label == "已取消"
    assert reservations.remaining(ctx, room, booking.day) == 10
    plan = ctx.get(Declaration, declaration.id)
    assert str(plan.planned_total) == "88.00"
    assert ctx.scalar(select(DeclarationItem.id).where(DeclarationItem.product_id == room.id)) is None
    assert titles(ctx, account)[-1] == "基地取消了您的预约"
    assert sms_codes(ctx, member)[-1] == "recup_booking_cancelled"
    sms = ctx.scalar(select(SmsMessage.text).where(SmsMessage.template_code == "recup_booking_cancelled",
                                                   SmsMessage.phone == member.phone))
    assert "客房检修" in sms and room.name in sms
    # the member modifies his plan afterwards: the cancelled room is not released a second time
    svc.save_declaration(ctx, member=member, year=2025, type="city_all", actor=None,
                         days=[day("2025-05-02", meal)])
    assert reservations.remaining(ctx, room, booking.day) == 10
    assert reservations.remaining(ctx, meal, booking.day) == 50


def test_group_joined_and_formed_tell_the_member(app, ctx, member_factory, union, home_county):
    member = member_factory()
    account = member_account(ctx, member)
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="prov_platform", actor=None,
                                       destination="千岛湖").declaration
    svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True)
    svc.review_declaration(ctx, declaration.id, "unit_approve", actor=make_user(ctx, "基层工会管理员", union))
    group = TourGroup(org_id=home_county.id, route="千岛湖三日游", destination="千岛湖", capacity=10, operator="某旅行社")
    ctx.add(group)
    ctx.commit()
    admin = make_user(ctx, "区县工会管理员", home_county)
    svc.assign_group(ctx, declaration.id, group.id, actor=admin)
    assert titles(ctx, account)[-1] == "已加入平台拼团"
    client = client_of(app, admin)
    form = {"org": str(home_county.id), "route": "千岛湖三日游", "destination": "千岛湖", "operator": "某旅行社",
            "starts_on": "2025-06-01", "ends_on": "2025-06-03", "capacity": "10", "status": "formed"}
    client.post(f"/tourgroupview/edit/{group.id}", data=form)
    assert titles(ctx, account)[-1] == "疗休养拼团已成团"
    assert sms_codes(ctx, member)[-1] == "recup_group_formed"
    client.post(f"/tourgroupview/edit/{group.id}", data={**form, "operator": "另一旅行社"})
    assert titles(ctx, account).count("疗休养拼团已成团") == 1   # saved again while formed: told once


def test_window_open_is_announced_once_on_the_opening_day(ctx, member_factory):
    from datetime import date, datetime

    from app.services.recuperation import notifications
    from models.base import DISPLAY_TZ

    from .conftest import make_policy

    member = member_factory()
    account = member_account(ctx, member)
    # a year of its own: the shared 2025 policy stays as the other tests expect it
    make_policy(ctx, 2031, opens_on=date(2031, 3, 2), window_announced_at=None)
    now = datetime(2031, 3, 1, 9, 0, tzinfo=DISPLAY_TZ)
    assert notifications.announce_window(ctx, now=now) == 0          # 1 March: not open yet
    make_policy(ctx, 2031, opens_on=date(2031, 3, 1))
    assert notifications.announce_window(ctx, now=now) >= 1
    assert titles(ctx, account) == ["疗休养申报已开放"]
    sms = ctx.scalar(select(SmsMessage.text).where(SmsMessage.phone == member.phone,
                                                   SmsMessage.template_code == "recup_window_open"))
    assert "2031年度职工疗休养申报已于3月1日开放" in sms and "12月31日前" in sms
    assert notifications.announce_window(ctx, now=now) == 0          # the next run: nobody told twice
    assert titles(ctx, account) == ["疗休养申报已开放"]


def _inbox(client, auth):
    response = client.get("/api/v1/worker/messages?category=recuperation", headers=auth)
    assert response.status_code == 200
    return response.json["result"]


def test_messages_link_to_the_declaration_and_the_link_is_the_members_own(app, ctx, member_factory, seed_products,
                                                                          base):
    from .test_api import token

    member, stranger = member_factory(), member_factory()
    client = app.test_client()
    auth = token(client, member_account(ctx, member))
    room, meal = seed_products["lodging"], seed_products["meal"]
    declaration = declared(ctx, member, day("2025-05-01", meal, room))
    booking = ctx.scalar(select(Reservation).where(Reservation.declaration_id == declaration.id,
                                                   Reservation.product_id == room.id))
    manager = client_of(app, base_manager(ctx, base))
    manager.post(f"/reservationview/flow/base_cancel?pk={booking.id}", data={"pk": booking.id, "reason": "客房检修"})
    inbox = _inbox(client, auth)
    link = f"/api/v1/recuperation/declarations/{declaration.id}"
    assert [(m["title"], m["link"]) for m in inbox] == [("基地取消了您的预约", link), ("疗休养计划已上报", link)]
    assert all(m["link_kind"] == "recup_declaration" for m in inbox)
    # the member follows the link to his plan
    shown = client.get(inbox[0]["link"], headers=auth)
    assert shown.status_code == 200 and shown.json["result"]["id"] == declaration.id
    # another member following it: 404, nothing of the plan
    other = app.test_client()
    refused = other.get(link, headers=token(other, member_account(ctx, stranger)))
    assert refused.status_code == 404 and refused.json == {"code": "not_found", "message": "记录不存在"}


def test_returned_grouped_and_formed_messages_link_to_the_declaration(app, ctx, member_factory, union,
                                                                      home_county):
    from app.services.recuperation import notifications

    from .test_api import token

    member = member_factory()
    client = app.test_client()
    auth = token(client, member_account(ctx, member))
    declaration = svc.save_declaration(ctx, member=member, year=2025, type="prov_platform", actor=None,
                                       destination="千岛湖").declaration
    svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True)
    clerk = make_user(ctx, "基层工会管理员", union)
    svc.review_declaration(ctx, declaration.id, "unit_reject", actor=clerk, reason="请补充线路意向")
    svc.submit_declaration(ctx, declaration.id, actor=None, commitment=True)
    svc.review_declaration(ctx, declaration.id, "unit_approve", actor=clerk)
    group = TourGroup(org_id=home_county.id, route="千岛湖三日游", destination="千岛湖", capacity=10, operator="某旅行社")
    ctx.add(group)
    ctx.commit()
    svc.assign_group(ctx, declaration.id, group.id, actor=make_user(ctx, "区县工会管理员", home_county))
    notifications.group_formed(ctx, group)
    ctx.commit()
    link = f"/api/v1/recuperation/declarations/{declaration.id}"
    inbox = {m["title"]: m["link"] for m in _inbox(client, auth)}
    assert inbox == {"疗休养计划已上报": link, "疗休养计划被退回": link, "已加入平台拼团": link, "疗休养拼团已成团": link}
    assert client.get(link, headers=auth).json["result"]["status_label"] == "已组团"
