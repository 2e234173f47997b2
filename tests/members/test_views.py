"""The member registry through the browser client, as each role."""
import re

from sqlalchemy import func, select

from models.audit import AuditLog
from models.members import CertStatus, Member
from models.review import ReviewTrail
from tests.factories import base_of, county, make_member, new_id_number

HIDDEN_ID = re.compile(r"\d{3}\*{11}[\dX]{4}")


def _member_form(org, **over):
    data = {"name": "王小明", "id_type": "resident", "id_number": new_id_number(), "phone": "13800138000",
            "org": str(org.id), "status": "active", "gender": "", "birth_date": ""}
    data.update(over)
    return data


def test_list_shows_id_numbers_and_phones_masked(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx)))
    html = client_as("county_admin").get("/memberview/list/").get_data(as_text=True)
    assert member.id_number not in html and member.phone not in html
    assert member.id_number_masked in html and member.phone_masked in html
    assert re.search(r"1[3-9]\d\*{4}\d{4}", html)


def test_county_admin_lists_only_own_subtree(client_as, ctx):
    mine = make_member(ctx, base_of(ctx, county(ctx, 0)))
    foreign = make_member(ctx, base_of(ctx, county(ctx, 1)))
    client = client_as("county_admin")
    html = client.get(f"/memberview/list/?_flt_0_name={mine.name}").get_data(as_text=True)
    assert mine.member_no in html
    html = client.get(f"/memberview/list/?_flt_0_name={foreign.name}").get_data(as_text=True)
    assert foreign.member_no not in html


def test_foreign_member_by_id_answers_404_everywhere(client_as, ctx):
    foreign = make_member(ctx, base_of(ctx, county(ctx, 1)))
    client = client_as("county_admin")
    assert client.get(f"/memberview/show/{foreign.id}").status_code == 404
    assert client.get(f"/memberview/edit/{foreign.id}").status_code == 404
    assert client.post(f"/memberview/edit/{foreign.id}", data=_member_form(foreign.org)).status_code == 404
    assert client.post(f"/memberview/delete/{foreign.id}").status_code == 404
    assert client.post("/memberview/action_post", data={"action": "approve", "rowid": [foreign.id]}).status_code == 404
    assert client.post(f"/memberview/action/approve/{foreign.id}").status_code == 404
    assert client.get(f"/memberview/flow/approve?pk={foreign.id}").status_code == 404
    assert client.post(f"/memberview/reveal/{foreign.id}", data={"field": "phone", "reason": "核对信息"}).status_code == 404
    assert client.post(f"/memberview/transfer/{foreign.id}", data={"to_org_id": foreign.org_id, "reason": "x"}).status_code == 404
    ctx.expire_all()
    assert ctx.get(Member, foreign.id) is not None


def test_base_admin_sees_only_own_union(client_as, ctx):
    own_union = base_of(ctx, county(ctx, 0), 0)
    sibling = base_of(ctx, county(ctx, 0), 1)
    mine, other = make_member(ctx, own_union), make_member(ctx, sibling)
    client = client_as("base_admin")
    assert client.get(f"/memberview/show/{mine.id}").status_code == 200
    assert client.get(f"/memberview/show/{other.id}").status_code == 404


def test_add_member_with_resident_id_fills_gender_and_birth_date(client_as, ctx):
    org = base_of(ctx, county(ctx))
    number = "11010519491231002X"
    ctx.execute(Member.__table__.delete().where(Member.id_number == number))
    ctx.commit()
    client = client_as("county_admin")
    response = client.post("/memberview/add", data=_member_form(org, id_number=number.lower()))
    assert response.status_code == 302
    member = ctx.scalar(select(Member).where(Member.id_number == number))
    assert (member.gender, str(member.birth_date)) == ("female", "1949-12-31")
    assert member.member_no.startswith(org.district_code()) and len(member.member_no) == 10
    html = client.get(f"/memberview/show/{member.id}").get_data(as_text=True)
    assert "1949-12-31" in html and "女" in html and "110***********002X" in html


def test_add_member_bad_values_are_chinese_form_errors_not_500(client_as, ctx):
    org = base_of(ctx, county(ctx))
    existing = make_member(ctx, org)
    client = client_as("county_admin")
    cases = {
        "校验位不正确": {"id_number": "110105194912310021"},
        "出生日期不存在": {"id_number": "110105194902300026"},
        "已登记为会员": {"id_number": existing.id_number},
        "手机号应为11位数字": {"phone": "1380013"},
        "姓名只能包含汉字": {"name": "Tom"},
    }
    before = ctx.scalar(select(func.count(Member.id)))
    for message, bad in cases.items():
        response = client.post("/memberview/add", data=_member_form(org, **bad))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, message
        assert message in html, message
        assert 'value="王小明"' in html or bad.get("name") in html  # typed input is kept
    assert ctx.scalar(select(func.count(Member.id))) == before


def test_add_member_into_foreign_union_is_refused(client_as, ctx):
    foreign_union = base_of(ctx, county(ctx, 1))
    number = new_id_number()
    response = client_as("county_admin").post("/memberview/add", data=_member_form(foreign_union, id_number=number))
    assert response.status_code == 200
    assert ctx.scalar(select(Member).where(Member.id_number == number)) is None


def test_unit_choices_are_the_chosen_unions_in_scope_and_never_none(client_as, ctx):
    from models.organizations import Unit

    client = client_as("county_admin")
    html = client.get("/memberview/add").get_data(as_text=True)
    assert "__None" not in html and 'data-depends-on="org"' in html
    own, sibling = base_of(ctx, county(ctx, 0), 0), base_of(ctx, county(ctx, 0), 1)
    foreign = base_of(ctx, county(ctx, 1))
    names = lambda org: {u.name for u in ctx.scalars(select(Unit).where(Unit.org_id == org.id))}  # noqa: E731
    offered = lambda **args: {r["text"] for r in client.get("/memberview/units", query_string=args).json}  # noqa: E731
    assert names(own) and offered(org=own.id) == names(own)
    assert not offered(org=own.id) & names(sibling)
    assert offered(org=foreign.id) == set() and offered(org="") == set() and offered(org="__None") == set()
    assert offered(org=own.id, q="不存在的单位") == set()
    member = make_member(ctx, sibling)
    assert offered(member=member.id) == names(sibling)
    # the edit form asks for the member's own union's units
    assert f"/memberview/units?member={member.id}" in client.get(f"/memberview/edit/{member.id}").get_data(as_text=True)
    # a forged unit of another union (or another county) is a form error, never saved
    foreign_unit = ctx.scalar(select(Unit).where(Unit.org_id == foreign.id))
    sibling_unit = ctx.scalar(select(Unit).where(Unit.org_id == sibling.id))
    for unit in (foreign_unit, sibling_unit):
        number = new_id_number()
        response = client.post("/memberview/add", data=_member_form(own, id_number=number, unit=str(unit.id)))
        assert response.status_code == 200 and ("不在可选范围内" in response.get_data(as_text=True)
                                                 or "所选单位不属于所选工会" in response.get_data(as_text=True))
        assert ctx.scalar(select(Member).where(Member.id_number == number)) is None
    # base admin: his own union is chosen already
    base_html = client_as("base_admin").get("/memberview/add").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="org"[^>]*>\s*<option value="\d+" selected>', base_html)


def test_edit_form_never_shows_the_raw_phone_without_unmask(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx), 0))
    html = client_as("base_admin").get(f"/memberview/edit/{member.id}").get_data(as_text=True)
    assert member.phone not in html and member.phone_masked in html
    response = client_as("base_admin").post(f"/memberview/edit/{member.id}", data={
        "name": member.name, "phone": "", "status": "active", "position": "班组长", "gender": member.gender,
        "birth_date": str(member.birth_date)})
    assert response.status_code == 302
    ctx.expire_all()
    refreshed = ctx.get(Member, member.id)
    assert refreshed.phone == member.phone and refreshed.position == "班组长"


def test_reveal_with_reason_shows_value_and_writes_audit_row(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx)))
    client = client_as("county_admin")
    html = client.post(f"/memberview/reveal/{member.id}",
                       data={"field": "id_number", "reason": "核对参保信息"}).get_data(as_text=True)
    assert member.id_number in html
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "reveal", AuditLog.target_id == str(member.id)))
    assert row.username == "county_admin" and "核对参保信息" in row.detail


def test_reveal_without_reason_or_permission_is_refused(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx), 0))
    html = client_as("county_admin").post(f"/memberview/reveal/{member.id}", data={"field": "phone", "reason": ""},
                                          follow_redirects=True).get_data(as_text=True)
    assert "请填写查看原因" in html and f'>{member.phone}<' not in html
    for role in ("base_admin", "reviewer", "auditor"):
        response = client_as(role).post(f"/memberview/reveal/{member.id}", data={"field": "phone", "reason": "核对信息"})
        assert response.status_code == 403, (role, response.get_data(as_text=True)[-3000:])
    assert ctx.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.event == "reveal", AuditLog.target_id == str(member.id))) == 0


def _pending(ctx, org):
    from app.services.members import review_certification

    member = make_member(ctx, org)
    review_certification(ctx, member.id, "submit", actor=None)
    return member


def test_base_admin_approves_and_rejects_one_by_one_and_in_bulk(client_as, ctx):
    org = base_of(ctx, county(ctx), 0)
    a, b, c = (_pending(ctx, org) for _ in range(3))
    client = client_as("base_admin")
    # bulk: the list action opens the confirmation form with both rows
    response = client.post("/memberview/action_post", data={"action": "approve", "rowid": [a.id, b.id]})
    assert response.status_code == 302 and "/memberview/flow/approve" in response.headers["Location"]
    response = client.post("/memberview/flow/approve", data={"pk": [a.id, b.id], "reason": ""},
                           follow_redirects=True)
    assert "已完成 2 条" in response.get_data(as_text=True)
    # one: reject needs a reason
    html = client.post("/memberview/flow/reject", data={"pk": [c.id], "reason": ""}).get_data(as_text=True)
    assert "须填写原因" in html
    client.post("/memberview/flow/reject", data={"pk": [c.id], "reason": "照片不清晰"})
    ctx.expire_all()
    assert [ctx.get(Member, m.id).cert_status for m in (a, b, c)] == ["verified", "verified", "rejected"]
    html = client.get(f"/memberview/show/{c.id}").get_data(as_text=True)
    assert "处理轨迹" in html and "驳回认证" in html and "照片不清晰" in html and "base_admin" in html


def test_approving_a_member_not_pending_is_a_message(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx), 0))
    html = client_as("base_admin").post("/memberview/flow/approve", data={"pk": [member.id]},
                                        follow_redirects=True).get_data(as_text=True)
    assert "当前状态为「未认证」，不能执行「认证通过」" in html
    ctx.expire_all()
    assert ctx.get(Member, member.id).cert_status == CertStatus.UNVERIFIED


def test_auditor_sees_lists_read_only_and_every_post_is_refused(client_as, ctx):
    member = _pending(ctx, base_of(ctx, county(ctx), 0))
    client = client_as("auditor")
    html = client.get("/memberview/list/").get_data(as_text=True)
    assert member.member_no in html or "会员" in html
    assert "/memberview/add" not in html and "/memberview/edit/" not in html and "/memberview/delete/" not in html
    show = client.get(f"/memberview/show/{member.id}").get_data(as_text=True)
    assert "reveal-form" not in show and "flow/approve" not in show
    forged = [
        ("/memberview/add", _member_form(member.org)),
        (f"/memberview/edit/{member.id}", _member_form(member.org)),
        (f"/memberview/delete/{member.id}", {}),
        ("/memberview/action_post", {"action": "approve", "rowid": [member.id]}),
        (f"/memberview/action/approve/{member.id}", {}),
        ("/memberview/flow/approve", {"pk": [member.id]}),
        (f"/memberview/transfer/{member.id}", {"to_org_id": member.org_id, "reason": "x"}),
        ("/unitview/add", {"name": "伪造单位", "org": str(member.org_id)}),
        ("/orgview/add", {"name": "伪造工会", "parent": str(member.org_id)}),
    ]
    for url, data in forged:
        assert client.post(url, data=data).status_code == 403, url
    ctx.expire_all()
    assert ctx.get(Member, member.id).cert_status == CertStatus.PENDING


def test_transfer_keeps_history_and_number(client_as, ctx):
    source, target = base_of(ctx, county(ctx), 0), base_of(ctx, county(ctx), 1)
    member = make_member(ctx, source)
    number = member.member_no
    client = client_as("county_admin")
    client.post(f"/memberview/transfer/{member.id}", data={"to_org_id": target.id, "reason": "工作调动"})
    ctx.expire_all()
    moved = ctx.get(Member, member.id)
    assert moved.org_id == target.id and moved.member_no == number
    html = client.get(f"/memberview/show/{member.id}").get_data(as_text=True)
    assert "转会记录" in html and source.name in html and target.name in html and "工作调动" in html


def test_transfer_into_foreign_county_is_refused(client_as, ctx):
    member = make_member(ctx, base_of(ctx, county(ctx), 0))
    foreign = base_of(ctx, county(ctx, 1))
    html = client_as("county_admin").post(f"/memberview/transfer/{member.id}", data={
        "to_org_id": foreign.id, "reason": "调动"}, follow_redirects=True).get_data(as_text=True)
    assert "目标工会不存在或不在您的管辖范围内" in html
    ctx.expire_all()
    assert ctx.get(Member, member.id).org_id != foreign.id


def test_city_admin_sees_every_county(client_as, ctx):
    foreign = make_member(ctx, base_of(ctx, county(ctx, 2)))
    assert client_as("city_admin").get(f"/memberview/show/{foreign.id}").status_code == 200


def test_trail_rows_are_written_for_each_step(ctx):
    member = _pending(ctx, base_of(ctx, county(ctx), 0))
    rows = ctx.scalars(select(ReviewTrail).where(ReviewTrail.entity == "member",
                                                 ReviewTrail.entity_id == member.id)).all()
    assert [(r.from_status, r.to_status) for r in rows] == [("unverified", "pending")]


def test_delete_refused_with_history_allowed_for_a_mistake(client_as, ctx):
    org = base_of(ctx, county(ctx), 0)
    mistake, pending = make_member(ctx, org), _pending(ctx, org)
    client = client_as("county_admin")
    html = client.post(f"/memberview/delete/{pending.id}", follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in html
    client.post(f"/memberview/delete/{mistake.id}")
    ctx.expire_all()
    assert ctx.get(Member, pending.id) is not None and ctx.get(Member, mistake.id) is None
    row = ctx.scalar(select(AuditLog).where(AuditLog.event == "delete", AuditLog.target_id == str(mistake.id)))
    assert row is not None and row.username == "county_admin"


def test_unit_with_members_cannot_be_deleted(client_as, ctx):
    from models.organizations import Unit
    from tests.factories import make_unit

    unit = make_unit(ctx, base_of(ctx, county(ctx), 0))
    make_member(ctx, unit.org, unit)
    html = client_as("county_admin").post(f"/unitview/delete/{unit.id}", follow_redirects=True).get_data(as_text=True)
    assert "该单位下还有 1 名会员，不能删除" in html
    ctx.expire_all()
    assert ctx.get(Unit, unit.id) is not None
