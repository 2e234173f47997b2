"""Mutual-aid pages as each role, and from the refused side: another unit's enrollment → 404, a
unit handler on office pages → 403, an auditor's POSTs → 403, anonymous abuse refused in Chinese."""
import io

import pytest
from sqlalchemy import select

from app.services.mutual_aid import enrollment as enrollments
from models.mutual_aid import EnrollmentStatus, MemberUnit
from models.outbox import SmsMessage
from tests.conftest import login
from tests.factories import DEMO_PASSWORD, PERSON_HEADER, approved_member_unit, licence_png, make_xlsx, unit_fields
from tests.mutual_aid.conftest import persons


@pytest.fixture()
def as_user(app):
    def make(user):
        client = app.test_client()
        response = login(client, user.username, DEMO_PASSWORD)
        assert response.status_code == 302 and "/login" not in response.headers["Location"]
        return client

    return make


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- public registration ------------------------------------------------------------------
def test_the_public_registration_page_needs_no_login(app):
    html = page(app.test_client().get("/register/"))
    assert "会员单位注册" in html and "统一社会信用代码" in html and "发送验证码" in html


def test_a_unit_registers_through_the_page_with_the_sms_code(app, ctx, office):
    client = app.test_client()
    fields = unit_fields(office)
    sent = client.post("/register/code", data={"contact_mobile": fields["contact_mobile"]},
                       headers={"X-Requested-With": "fetch"})
    assert sent.get_json() == {"ok": True, "message": "验证码已发送至联系人手机，5分钟内有效"}
    code = ctx.scalars(select(SmsMessage).where(SmsMessage.phone == fields["contact_mobile"])).one().params["code"]
    data = {**{k: str(v) for k, v in fields.items()}, "code": code,
            "certificates": (io.BytesIO(licence_png()), "营业执照.png")}
    html = page(client.post("/register/", data=data, content_type="multipart/form-data"))
    assert "注册申请已提交" in html and fields["name"] in html
    assert ctx.scalar(select(MemberUnit).where(MemberUnit.uscc == fields["uscc"])).status_label == "待审核"


def test_code_requests_are_limited_per_phone_in_chinese(app, office):
    client = app.test_client()
    phone = unit_fields(office)["contact_mobile"]
    client.post("/register/code", data={"contact_mobile": phone}, headers={"X-Requested-With": "fetch"})
    again = client.post("/register/code", data={"contact_mobile": phone}, headers={"X-Requested-With": "fetch"})
    assert again.status_code == 400 and "验证码发送过于频繁" in again.get_json()["message"]
    bad = client.post("/register/code", data={"contact_mobile": "12"}, headers={"X-Requested-With": "fetch"})
    assert bad.get_json()["message"] == "手机号应为11位数字"


def test_brute_forcing_the_code_locks_it(app, ctx, office):
    client = app.test_client()
    fields = unit_fields(office)
    client.post("/register/code", data={"contact_mobile": fields["contact_mobile"]},
                headers={"X-Requested-With": "fetch"})
    for guess in range(6):
        data = {**{k: str(v) for k, v in fields.items()}, "code": f"{guess:06d}",
                "certificates": (io.BytesIO(licence_png()), "a.png")}
        html = page(client.post("/register/", data=data, content_type="multipart/form-data"))
    assert "验证码错误次数过多，请重新获取" in html
    assert ctx.scalar(select(MemberUnit).where(MemberUnit.uscc == fields["uscc"])) is None


def test_public_posts_are_rate_limited_per_address_in_chinese(db_url, office):
    from app import create_app
    from tests.conftest import IsolatedClient, _config

    limited = create_app(_config(db_url, RATELIMIT_ENABLED=True, PUBLIC_RATE_LIMIT="2 per minute"))
    limited.test_client_class = IsolatedClient
    client = limited.test_client()
    codes = [client.post("/register/code", data={"contact_mobile": unit_fields(office)["contact_mobile"]},
                         headers={"X-Requested-With": "fetch"}) for _ in range(3)]
    assert [c.status_code for c in codes] == [200, 200, 429]
    assert codes[-1].get_json()["message"] == "请求过于频繁，请稍后再试"
    page_refusal = [client.post("/register/", data={}) for _ in range(3)][-1]
    assert page_refusal.status_code == 429 and "操作过于频繁" in page_refusal.get_data(as_text=True)


# --- the office pool ------------------------------------------------------------------------
def test_the_office_sees_the_pool_and_approves(app, ctx, office, office_staff, as_user):
    from tests.factories import register_member_unit

    unit = register_member_unit(ctx, office, contact_name="王小明")
    client = as_user(office_staff)
    listing = page(client.get("/memberunitview/list/", follow_redirects=True))
    assert unit.name in listing and "待审核" in listing
    show = page(client.get(f"/memberunitview/show/{unit.id}"))
    assert "wangxiaoming" in show and "营业执照" in show
    att = ctx.scalars(select(MemberUnit).where(MemberUnit.id == unit.id)).one()
    from app.services.attachments import attachments_of

    picture = attachments_of(ctx, att, "certificate")[0]
    image = client.get(f"/memberunitview/attachment/{unit.id}/{picture.id}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.headers["X-Content-Type-Options"]
    done = client.post(f"/memberunitview/flow/approve?pk={unit.id}", data={"reason": ""}, follow_redirects=True)
    assert "「审核通过」已完成 1 条" in page(done)


def test_another_offices_unit_and_its_files_are_404(app, ctx, office, as_user):
    from tests.factories import county, make_user, register_member_unit

    unit = register_member_unit(ctx, office)
    stranger = as_user(make_user(ctx, "办事处业务人员", county(ctx, 1)))
    assert stranger.get(f"/memberunitview/show/{unit.id}").status_code == 404
    assert stranger.get(f"/memberunitview/attachment/{unit.id}/1").status_code == 404
    assert stranger.post(f"/memberunitview/flow/approve?pk={unit.id}", data={}).status_code == 404


# --- the unit's workspace ------------------------------------------------------------------
def test_the_unit_enrolls_imports_and_submits_through_the_pages(app, ctx, plan, unit_and_handler, tmp_path,
                                                                as_user):
    unit, handler = unit_and_handler
    client = as_user(handler)
    assert plan.name in page(client.get("/enrollmentview/new"))
    created = client.post("/enrollmentview/new", data={f"shares_{plan.id}": "2"})
    assert created.status_code == 302
    enrollment = ctx.scalars(select(enrollments.Enrollment).where(
        enrollments.Enrollment.member_unit_id == unit.id).order_by(enrollments.Enrollment.id.desc())).first()
    line = enrollment.plans[0]
    path = make_xlsx(tmp_path / "名单.xlsx", [PERSON_HEADER, *persons(3, 1), ["", "错误", "居民身份证", "123", "139"]],
                     sheet="参保人员清单")
    with open(path, "rb") as fh:
        uploaded = client.post(f"/enrollmentview/upload/{enrollment.id}/{line.id}", data={"file": (fh, "名单.xlsx")},
                               content_type="multipart/form-data", follow_redirects=True)
    html = page(uploaded)
    assert "部分成功" in html and "导入失败人员下载" in html
    ctx.expire_all()
    job = enrollments_last_job(ctx, enrollment)
    result = client.get(f"/enrollmentview/result/{enrollment.id}/{job.id}")
    assert result.status_code == 200 and result.mimetype.endswith("sheet")
    assert page(client.get(f"/enrollmentview/persons/{enrollment.id}")).count("<tr>") >= 5
    client.post(f"/enrollmentview/details/{enrollment.id}", data={"staff_count": "10", "female_staff_count": "3"})
    submitted = client.post(f"/enrollmentview/submit/{enrollment.id}", follow_redirects=True)
    assert "已提交，参保单进入参保初审环节" in page(submitted)
    ctx.expire_all()
    assert ctx.get(enrollments.Enrollment, enrollment.id).status == EnrollmentStatus.PENDING_REVIEW


def enrollments_last_job(ctx, enrollment):
    from app.services.mutual_aid import persons as person_svc

    return person_svc.last_jobs(ctx, enrollment)[enrollment.plans[0].id]


def test_another_units_enrollment_by_id_is_404_on_every_path(app, ctx, draft, office, office_staff, as_user):
    _unit, stranger = approved_member_unit(ctx, office, office_staff)
    client = as_user(stranger)
    line = draft.plans[0].id
    for url in (f"/enrollmentview/show/{draft.id}", f"/enrollmentview/persons/{draft.id}",
                f"/enrollmentview/attachment/{draft.id}/1", f"/letters/{draft.id}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/enrollmentview/submit/{draft.id}", f"/enrollmentview/details/{draft.id}",
                f"/enrollmentview/upload/{draft.id}/{line}", f"/enrollmentview/remove/{draft.id}",
                f"/enrollmentview/invoice/{draft.id}"):
        assert client.post(url, data={}).status_code == 404, url
    listing = page(client.get("/enrollmentview/list/"))
    assert draft.number not in listing


def test_the_unit_sees_which_plan_asks_for_an_attachment_and_cannot_submit_without_it(ctx, draft, plan,
                                                                                    unit_and_handler, as_user):
    plan.attachment_required, plan.attachment_note = True, "加盖公章的职工花名册"
    ctx.commit()
    client = as_user(unit_and_handler[1])
    assert f"「{plan.name}」需上传参保附件：加盖公章的职工花名册" in page(client.get(f"/enrollmentview/show/{draft.id}"))
    refused = page(client.post(f"/enrollmentview/submit/{draft.id}", data={}, follow_redirects=True))
    assert "需上传参保附件（加盖公章的职工花名册）" in refused
    ctx.refresh(draft)
    assert draft.status == EnrollmentStatus.DRAFT


def test_a_unit_handler_on_office_pages_is_403(app, unit_and_handler, as_user, draft):
    client = as_user(unit_and_handler[1])
    for url in ("/mutual-aid/", "/settlement/", "/protectionplanview/list/", "/memberunitview/export/",
                f"/enrollmentview/flow/approve?pk={draft.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/enrollmentview/payment/{draft.id}", data={}).status_code == 403
    assert client.post(f"/enrollmentview/transfer/{draft.id}", data={}).status_code == 403


def test_an_auditor_reads_but_every_post_is_403(app, ctx, draft, client_as):
    client = client_as("auditor")
    assert draft.number in page(client.get("/enrollmentview/list/"))
    assert page(client.get(f"/enrollmentview/show/{draft.id}"))
    for url in (f"/enrollmentview/submit/{draft.id}", f"/enrollmentview/details/{draft.id}",
                f"/enrollmentview/payment/{draft.id}", f"/enrollmentview/flow/approve?pk={draft.id}",
                "/settlement/settle", f"/letters/{draft.id}/print", f"/letters/{draft.id}/refresh",
                f"/memberunitview/flow/approve?pk={draft.member_unit_id}"):
        assert client.post(url, data={"month": "2020-01"}).status_code == 403, url
    ctx.refresh(draft)
    assert draft.status == EnrollmentStatus.DRAFT


def test_the_office_reviews_and_finance_confirms_through_the_pages(app, ctx, draft, unit_and_handler, office_staff,
                                                                  as_user, client_as):
    handler = unit_and_handler[1]
    enrollments.submit_enrollment(ctx, draft.id, actor=handler)
    office = as_user(office_staff)
    assert "初审通过" in page(office.get(f"/enrollmentview/show/{draft.id}"))
    office.post(f"/enrollmentview/flow/approve?pk={draft.id}", data={"reason": ""})
    unit = as_user(handler)
    bad = unit.post(f"/enrollmentview/invoice/{draft.id}", data={
        "enrollment_plan_id": draft.plans[0].id, "title": "x", "email": "a@b.cn", "persons": "50", "amount": "5050"},
        follow_redirects=True)
    assert "人均单价 101.00 元超过上限 100.00 元（高危会费单价 50.00 × 2 份）" in page(bad)
    unit.post(f"/enrollmentview/invoice/{draft.id}", data={
        "enrollment_plan_id": draft.plans[0].id, "title": "x", "email": "a@b.cn", "persons": "100", "amount": "6800"})
    assert "开票信息已提交" in page(unit.post(f"/enrollmentview/invoices/submit/{draft.id}", follow_redirects=True))
    finance = client_as("finance")
    from models.base import utcnow

    confirmed = finance.post(f"/enrollmentview/payment/{draft.id}", data={
        "amount": "6800.00", "paid_on": utcnow().date().isoformat(), "reference": "BK001"}, follow_redirects=True)
    assert "已确认到账，参保单已生效" in page(confirmed)
    letter = page(unit.get(f"/letters/{draft.id}"))
    assert "我已确认人员名单无误" in letter and "第1版" in letter
    refused = unit.post(f"/letters/{draft.id}/print", data={}, follow_redirects=True)
    assert "请先勾选「我已确认人员名单无误」" in page(refused)
    pdf = unit.post(f"/letters/{draft.id}/print", data={"confirmed": "1"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    xlsx = unit.get(f"/letters/{draft.id}/persons.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("sheet")
    assert "已打印" in page(unit.get("/letters/?tab=printed")) and draft.number in page(unit.get("/letters/?tab=printed"))


def test_the_desk_shows_the_figures_and_exports_them(app, ctx, draft, office_staff, as_user):
    client = as_user(office_staff)
    html = page(client.get("/mutual-aid/"))
    assert "待审核注册" in html and "录入中" in html and "各结算期应缴与到账" in html
    xlsx = client.get("/mutual-aid/figures.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("sheet")
