"""审计日志 as the audit admin reads it: 对象, summaries, details and the export in Chinese —
no raw target type, field name or enum value."""
from __future__ import annotations

import io
import re

from python_calamine import CalamineWorkbook
from sqlalchemy import select

from app.services import members
from models.audit import AuditLog
from models.members import CertStatus
from models.security import AppUser
from tests.factories import base_of, county, make_member

RAW_TARGETS = ("member", "data_job", "export", "activity", "org", "unit", "voucher")
RAW_FIELDS = ("phone", "position", "cert_status", "unit_id", "status", "approve", "_flt_", "pending", "verified")


def _audited_events(ctx, client):
    """An update (changed fields), a reveal, an export and a review of one member."""
    union = base_of(ctx, county(ctx, 0), 0)
    member = make_member(ctx, union, name="审计对象")
    county_admin = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    member.phone, member.position = "13911112222", "主任"
    member.cert_status = CertStatus.PENDING
    ctx.commit()
    members.reveal_member_field(ctx, member.id, "phone", actor=county_admin, reason="核对联系方式")
    members.review_certification(ctx, member.id, "approve", actor=county_admin)
    assert client.get("/memberview/export/?_flt_0_name=审计对象").status_code == 200
    return member


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.DOTALL)]


def test_list_show_and_export_read_in_chinese(client_as, ctx):
    member = _audited_events(ctx, client_as("county_admin"))
    admin = client_as("auditadmin")
    html = admin.get("/auditlogview/list/?_flt_3_target_id=" + str(member.id)).get_data(as_text=True)
    cells = _cells(html)
    assert "会员" in cells and not [c for c in cells if c in RAW_TARGETS]
    assert any(c.startswith("修改 审计对象：") and "手机号" in c and "职务" in c for c in cells), cells
    rows = ctx.scalars(select(AuditLog).where(AuditLog.target_id == str(member.id),
                                              AuditLog.target_type == "member").order_by(AuditLog.id)).all()
    update = next(r for r in rows if r.event == "update" and "phone" in (r.detail or ""))
    shown = admin.get(f"/auditlogview/show/{update.id}").get_data(as_text=True)
    assert "职务：（空） → 主任" in shown and re.search(r"手机号：[^；]* → 139\*{4}2222", shown)
    text = re.sub(r"<[^>]+>", " ", shown[shown.find("摘要"):shown.find("IP地址")])
    assert not [w for w in RAW_FIELDS if re.search(rf"\b{w}\b", text)], text
    review = next(r for r in rows if r.event == "action")
    shown = admin.get(f"/auditlogview/show/{review.id}").get_data(as_text=True)
    assert "操作：认证通过" in shown and "approve" not in shown
    reveal = next(r for r in rows if r.event == "reveal")
    assert "字段：手机号；原因：核对联系方式" in admin.get(f"/auditlogview/show/{reveal.id}").get_data(as_text=True)

    export = CalamineWorkbook.from_filelike(io.BytesIO(admin.get("/auditlogview/export/").data))
    sheet = export.get_sheet_by_index(0).to_python()
    assert sheet[0] == ["时间", "用户", "事件", "对象", "对象ID", "摘要", "详情", "IP地址"]
    targets = {r[3] for r in sheet[1:]}
    assert "会员" in targets and "导出" in targets and not targets & set(RAW_TARGETS)
    exported = next(r for r in sheet[1:] if r[4] == str(member.id) and r[2] == "查看明文")
    assert exported[6] == "字段：手机号；原因：核对联系方式"
    filters = next(r for r in sheet[1:] if r[3] == "导出" and "审计对象" in r[6])
    assert "姓名：审计对象" in filters[6] and "_flt_" not in filters[6]


def test_labels_values_and_times_read_in_chinese(app, ctx):
    from views.audit import detail_text, target_label

    with app.test_request_context():
        assert target_label("member") == "会员" and target_label(None) == ""
        assert target_label("coupon") == "优惠券"
        assert detail_text("member", '{"migrant_worker": [true, false], "gender": ["male", "female"]}') == \
            "是否农民工：是 → 否；性别：男 → 女"
        assert detail_text("member", "not json") == "not json"
        assert detail_text("member", '{"created_at": "2026-03-08T16:30:00+00:00", "unit_id": [1, null]}') == \
            "创建时间：2026-03-09 00:30:00；所在单位：1 → （空）"
