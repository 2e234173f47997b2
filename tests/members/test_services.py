"""Member services called directly: derivation, uniqueness, the review-flow engine."""
import json

import pytest
from sqlalchemy import select

from app.services import members as svc
from app.services.errors import (
    InvalidTransitionError,
    MemberInvalidError,
    NotFoundError,
    ReasonRequiredError,
    SelfApprovalError,
)
from models.audit import AuditLog
from models.members import CertStatus
from tests.factories import base_of, county, make_member, make_user, new_id_number


def test_create_member_collects_every_error_before_raising(ctx):
    org = base_of(ctx, county(ctx))
    with pytest.raises(MemberInvalidError) as err:
        svc.create_member(ctx, name="A1", id_number="110105194912310021", phone="123", org_id=org.id)
    assert set(err.value.errors) == {"name", "id_number", "phone"}


def test_create_member_refuses_a_county_as_union(ctx):
    with pytest.raises(MemberInvalidError, match="所属工会须为基层工会"):
        svc.create_member(ctx, name="李四", id_number=new_id_number(), org_id=county(ctx).id)


def test_duplicate_id_number_is_refused_even_lowercase(ctx):
    org = base_of(ctx, county(ctx))
    number = new_id_number()
    make_member(ctx, org, id_number=number)
    with pytest.raises(MemberInvalidError, match="已登记为会员"):
        svc.create_member(ctx, name="李四", id_number=number.lower(), org_id=org.id)


def test_reviewer_cannot_approve_what_he_submitted(ctx):
    org = base_of(ctx, county(ctx), 0)
    admin = make_user(ctx, "基层工会管理员", org)
    member = make_member(ctx, org)
    svc.review_certification(ctx, member.id, "submit", actor=admin)
    with pytest.raises(SelfApprovalError, match="不能审核自己提交的申请"):
        svc.review_certification(ctx, member.id, "approve", actor=admin)
    other = make_user(ctx, "基层工会管理员", org)
    assert svc.review_certification(ctx, member.id, "approve", actor=other).cert_status == CertStatus.VERIFIED


def test_rejection_needs_a_reason_and_resubmission_works(ctx):
    org = base_of(ctx, county(ctx), 0)
    reviewer = make_user(ctx, "业务审核员", county(ctx))
    member = make_member(ctx, org)
    svc.review_certification(ctx, member.id, "submit", actor=None)
    with pytest.raises(ReasonRequiredError):
        svc.review_certification(ctx, member.id, "reject", actor=reviewer, reason="  ")
    svc.review_certification(ctx, member.id, "reject", actor=reviewer, reason="证件照片模糊")
    assert svc.review_certification(ctx, member.id, "submit", actor=None).cert_status == CertStatus.PENDING
    with pytest.raises(InvalidTransitionError, match="待审核"):
        svc.review_certification(ctx, member.id, "submit", actor=None)


def test_review_outside_scope_is_not_found(ctx):
    member = make_member(ctx, base_of(ctx, county(ctx, 1)))
    svc.review_certification(ctx, member.id, "submit", actor=None)
    outsider = make_user(ctx, "业务审核员", county(ctx, 0))
    with pytest.raises(NotFoundError):
        svc.review_certification(ctx, member.id, "approve", actor=outsider)


def test_update_is_audited_with_changed_fields_masked(ctx):
    member = make_member(ctx, base_of(ctx, county(ctx)))
    old_phone = member.phone
    member.phone, member.position = "13912345678", "车间主任"
    ctx.commit()
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "update", AuditLog.target_type == "member",
                                            AuditLog.target_id == str(member.id)).order_by(AuditLog.id.desc()))
    detail = json.loads(row.detail)
    assert detail["phone"] == [old_phone[:3] + "****" + old_phone[-4:], "139****5678"]
    assert detail["position"][1] == "车间主任"
    assert "13912345678" not in row.detail


def test_create_is_audited_with_the_new_id(ctx):
    member = make_member(ctx, base_of(ctx, county(ctx)))
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "create", AuditLog.target_type == "member",
                                            AuditLog.target_id == str(member.id)))
    assert row is not None and member.id_number not in row.detail


def test_transfer_requires_reason_and_active_membership(ctx):
    org, target = base_of(ctx, county(ctx), 0), base_of(ctx, county(ctx), 1)
    admin = make_user(ctx, "区县工会管理员", county(ctx))
    member = make_member(ctx, org)
    with pytest.raises(Exception, match="请填写转会原因"):
        svc.transfer_member(ctx, member.id, target.id, actor=admin, reason="")
    retired = make_member(ctx, org, status="retired")
    with pytest.raises(Exception, match="退休"):
        svc.transfer_member(ctx, retired.id, target.id, actor=admin, reason="调动")
    move = svc.transfer_member(ctx, member.id, target.id, actor=admin, reason="调动")
    assert (move.from_org_id, move.to_org_id) == (org.id, target.id)
    svc.transfer_member(ctx, member.id, org.id, actor=admin, reason="调回")
    assert [t.to_org_id for t in member.transfers] == [target.id, org.id]
