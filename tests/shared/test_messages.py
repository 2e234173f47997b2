"""站内信 (I-2): one message per event, per category, unread counts, mark one / all read, only the
recipient's own (another's id → not found), the SMS of each event through the outbox."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services import messages
from app.services.errors import DomainError, NotFoundError
from models.messages import MessageCategory
from models.outbox import SmsMessage
from tests.factories import make_user


@pytest.fixture()
def two(ctx):
    return make_user(ctx, "会员"), make_user(ctx, "会员")


def _notify(ctx, user, category, title="通知", sms=False):
    message = messages.notify(ctx, recipient_id=user.id, category=category, title=title, body=f"{title}正文",
                              phone="13800009999" if sms else None,
                              sms_template="info_change_done" if sms else None, sms_params={"number": "BG1"})
    ctx.commit()
    return message


def test_categories_counts_and_read(ctx, two):
    me, other = two
    a = _notify(ctx, me, MessageCategory.SUBSIDY, "补助申请被驳回")
    _notify(ctx, me, MessageCategory.INFO_CHANGE, "您有1条变更信息申请单被驳回")
    _notify(ctx, me, MessageCategory.SUBSIDY, "申请已成功办结")
    _notify(ctx, other, MessageCategory.SUBSIDY)
    counts = messages.unread_counts(ctx, me.id)
    assert counts == {"enrollment": 0, "subsidy": 2, "info_change": 1, "recuperation": 0, "total": 3}
    listed = messages.list_messages(ctx, me.id, category="补助申请")
    assert [m.title for m in listed] == ["申请已成功办结", "补助申请被驳回"]  # newest first
    messages.mark_read(ctx, me.id, a.id)
    assert messages.unread_counts(ctx, me.id)["subsidy"] == 1
    assert messages.mark_all_read(ctx, me.id) == 2
    assert messages.unread_counts(ctx, me.id)["total"] == 0
    assert messages.unread_counts(ctx, other.id)["total"] == 1


def test_another_recipients_message_is_not_found(ctx, two):
    me, other = two
    theirs = _notify(ctx, other, MessageCategory.SUBSIDY)
    with pytest.raises(NotFoundError):
        messages.mark_read(ctx, me.id, theirs.id)
    assert theirs.read_at is None


def test_an_unknown_category_is_refused_in_chinese(ctx, two):
    with pytest.raises(DomainError, match="消息分类须为：参保记录、补助申请、个人信息变更"):
        messages.list_messages(ctx, two[0].id, category="广告")


def test_an_event_with_an_sms_queues_it_in_the_outbox(ctx, two):
    _notify(ctx, two[0], MessageCategory.INFO_CHANGE, "个人信息变更已办结", sms=True)
    sms = ctx.scalars(select(SmsMessage).where(SmsMessage.template_code == "info_change_done")
                      .order_by(SmsMessage.id.desc())).first()
    assert sms.phone == "13800009999" and "BG1" in sms.text and sms.status == "pending"
