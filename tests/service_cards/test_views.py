"""Service-card pages as each role and from the refused side: another county's batch or card → 404,
roles without the grant → 403 and nothing changed, malformed input → a Chinese message."""
import re

import pytest
from sqlalchemy import select

from models.members import Member
from models.service_cards import BatchStatus, CardBatch, CardStatus, ServiceCard
from models.security import AppUser
from seed.loader import DEMO_PASSWORD
from tests.factories import make_xlsx

from .conftest import APPLICATION_HEADER, BANK_HEADER, application_row, bank_rows, user


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _file(client, url, path, name="会员.xlsx"):
    with open(path, "rb") as fh:
        return client.post(url, data={"file": (fh, name)}, content_type="multipart/form-data", follow_redirects=True)


def _new_batch(client) -> int:
    response = client.post("/cardbatches/new", data={"contact": "王芳", "phone": "13912345678", "declared_count": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))


def test_clerk_to_bank_and_card_through_the_pages(client_as, ctx, tmp_path):
    clerk = client_as("base_admin")
    html = page(clerk.get("/cardbatches/list/"))
    assert "新建办卡批次" in html
    pk = _new_batch(clerk)
    html = page(clerk.get(f"/cardbatches/show/{pk}"))
    assert "导入工会会员信息汇总表" in html and "待提交" in html
    rows = [application_row(), application_row()]
    html = page(_file(clerk, f"/cardbatches/upload/{pk}", make_xlsx(tmp_path / "a.xlsx", [APPLICATION_HEADER, *rows])))
    assert "执行成功" in html and 'id="line-count">2<' in html
    page(clerk.post(f"/cardbatches/flags/{pk}", data={"id_copies": "1"}, follow_redirects=True))
    html = page(clerk.post(f"/cardbatches/submit/{pk}", follow_redirects=True))
    assert "批次已提交上级工会" in html and "已提交" in html

    county = client_as("county_admin")
    html = page(county.post(f"/cardbatches/receive/{pk}", data={"counted": "abc"}, follow_redirects=True))
    assert "与批次人数" in html  # a malformed count: a Chinese message, nothing changed
    html = page(county.post(f"/cardbatches/receive/{pk}", data={"counted": "2", "remark": "材料齐全"},
                            follow_redirects=True))
    assert "已接收" in html
    xlsx = county.get(f"/cardbatches/summary/{pk}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = county.get(f"/cardbatches/summary/{pk}.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    page(county.post(f"/cardbatches/hand_over/{pk}", follow_redirects=True))
    batch = ctx.get(CardBatch, pk)
    ctx.refresh(batch)
    html = page(_file(county, f"/cardbatches/bank_result/{pk}",
                      make_xlsx(tmp_path / "b.xlsx", [BANK_HEADER, *bank_rows(ctx, batch)]), "银行结果.xlsx"))
    assert "已制卡" in html
    card = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == pk)).first()
    html = page(clerk.get(f"/servicecards/show/{card.id}"))
    assert "已制卡" in html and card.member_no in html and "黄浦区总工会" in html
    face = clerk.get(f"/servicecards/face/{card.id}.svg")
    assert face.status_code == 200 and b"<svg" in face.data
    page(clerk.post(f"/servicecards/flow/distribute", data={"pk": card.id}, follow_redirects=True))
    ctx.refresh(card)
    assert card.status == CardStatus.NORMAL
    for url in ("/coverage/list/", "/coverage/funding", "/cardstats/", "/cardclaims/list/", "/cardclaims/new"):
        assert "500" not in str(clerk.get(url).status_code), url
        page(clerk.get(url))
    assert clerk.get("/cardstats/export").data[:2] == b"PK"
    assert clerk.get("/coverage/funding.xlsx").data[:2] == b"PK"
    html = page(clerk.post("/cardclaims/new", data={"member_no": card.member_no, "kind": "critical",
                                                    "incident_date": "2020-13-40"}))
    assert "格式应为" in html


@pytest.fixture()
def submitted_batch(ctx, submitted):
    return submitted


def test_other_county_gets_404_and_nothing_changes(client_as, ctx, submitted_batch):
    other = client_as("county2_admin")
    pk = submitted_batch.id
    assert other.get(f"/cardbatches/show/{pk}").status_code == 404
    assert other.post(f"/cardbatches/receive/{pk}", data={"counted": "3"}).status_code == 404
    assert other.post(f"/cardbatches/return/{pk}", data={"reason": "x"}).status_code == 404
    assert other.get(f"/cardbatches/summary/{pk}.pdf").status_code == 404
    ctx.refresh(submitted_batch)
    assert submitted_batch.status == BatchStatus.SUBMITTED


def test_roles_without_grant_get_403_and_nothing_changes(client_as, ctx, submitted_batch):
    pk = submitted_batch.id
    clerk = client_as("base_admin")
    assert clerk.post(f"/cardbatches/receive/{pk}", data={"counted": "3"}).status_code == 403
    assert clerk.post(f"/cardbatches/hand_over/{pk}").status_code == 403
    auditor = client_as("auditor")
    assert auditor.get(f"/cardbatches/show/{pk}").status_code == 200
    assert auditor.post(f"/cardbatches/return/{pk}", data={"reason": "x"}).status_code == 403
    assert auditor.post("/cardbatches/new", data={}).status_code == 403
    county = client_as("county_admin")
    assert county.post("/cardclaims/new", data={}).status_code == 403
    assert county.post("/coverage/register").status_code == 403
    for url in ("/cardbatches/list/", "/servicecards/list/", "/cardstats/"):
        assert client_as("merchant").get(url).status_code == 403
    ctx.refresh(submitted_batch)
    assert submitted_batch.status == BatchStatus.SUBMITTED


def test_impossible_ids_and_other_batches_answer_404(client_as, submitted_batch):
    county = client_as("county_admin")
    assert county.get("/cardbatches/show/99999999999999999999").status_code == 404
    assert county.post("/cardbatches/receive/abc", data={"counted": "1"}).status_code == 404
    assert county.get("/servicecards/face/99999999.svg").status_code == 404


def _token(client, username):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": DEMO_PASSWORD, "provider": "db", "refresh": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_member_api_reads_own_card_only(app, ctx, clerk, county_admin, tmp_path):
    from app.services.service_cards import batches, cards

    from .conftest import upload

    account = ctx.scalar(select(AppUser).where(AppUser.username == "member"))
    me = ctx.get(Member, account.member_id)
    client = app.test_client()
    headers = _token(client, "member")
    assert client.get("/api/v1/me/card", headers=headers).status_code in (200, 404)
    if ctx.scalar(select(ServiceCard.id).where(ServiceCard.member_id == me.id, ServiceCard.status != "cancelled")) is None:
        batch = batches.create_batch(ctx, actor=clerk)
        job = upload(ctx, batch, [application_row(name=me.name, id_number=me.id_number, phone=me.phone or "13800138000"),
                                  application_row()], clerk, tmp_path)
        assert job.ok_rows == 2, job.message
        batches.update_summary(ctx, batch.id, actor=clerk, id_copies_received=True)
        batches.submit_batch(ctx, batch.id, actor=clerk)
        batches.receive_batch(ctx, batch.id, actor=county_admin, counted=2)
        batches.hand_over_to_bank(ctx, batch.id, actor=county_admin)
        upload(ctx, batch, bank_rows(ctx, batch, prefix="63"), county_admin, tmp_path, kind="card_bank_result",
               name="bank.xlsx")
    mine = cards.current_card(ctx, me.id)
    if mine.status == CardStatus.MADE:
        cards.distribute_card(ctx, mine.id, actor=clerk)
    other = ctx.scalars(select(ServiceCard).where(ServiceCard.member_id != me.id)).first()
    body = client.get("/api/v1/me/card", headers=headers)
    assert body.status_code == 200, body.get_data(as_text=True)
    result = body.json["result"]
    assert result["member_no"] == me.member_no and result["district_union"] == "黄浦区总工会"
    assert result["status_label"] == "正常" and result["coverage"] is None or result["coverage"]["end"].endswith("06-30")
    qr = client.get(result["barcode_url"], headers=headers)
    assert qr.status_code == 200 and b"<svg" in qr.data
    assert client.get(f"/api/v1/me/card/{other.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/me/card/{other.id}/qr.svg", headers=headers).status_code == 404
    lost = client.post("/api/v1/me/card/report-loss", headers=headers)
    assert lost.status_code == 200 and lost.json["result"]["status_label"] == "挂失"
    again = client.post("/api/v1/me/card/report-loss", headers=headers)
    assert again.status_code == 409 and "挂失" in again.json["message"]
    assert client.get("/api/v1/me/card", headers=_token(client, "county_admin")).status_code in (403, 404)


def test_benefit_form_refuses_in_chinese_and_creates_nothing(client_as, ctx, issued, clerk):
    """The coverage of a batch received today starts later: an incident in it lies in the future."""
    from datetime import timedelta

    from sqlalchemy import func

    from app.services.service_cards import cards
    from app.services.service_cards.coverage import beijing_date, coverage_period
    from models.service_cards import CardBenefitClaim

    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).first()
    card = cards.distribute_card(ctx, made.id, actor=clerk)
    period = coverage_period(beijing_date(issued.submitted_at))
    before = ctx.scalar(select(func.count(CardBenefitClaim.id)))
    base = client_as("base_admin")
    html = page(base.post("/cardclaims/new", data={"member_no": card.member_no, "kind": "critical",
                                                   "incident_date": (period.start + timedelta(days=5)).isoformat(),
                                                   "disease_category": "cancer", "hospitalized": "1"}))
    assert "不能晚于今天" in html
    html = page(base.post("/cardclaims/new", data={"member_no": "12", "kind": "critical", "incident_date": "2025-01-01"}))
    assert "10位会员编号" in html
    assert ctx.scalar(select(func.count(CardBenefitClaim.id))) == before


def test_claim_review_flow_through_the_pages(client_as, ctx, issued, clerk):
    from datetime import timedelta

    from app.services.service_cards import benefits, cards
    from app.services.service_cards.coverage import beijing_date, coverage_period
    from models.service_cards import ClaimStatus

    made = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == issued.id).order_by(ServiceCard.id)).first()
    card = cards.distribute_card(ctx, made.id, actor=clerk)
    period = coverage_period(beijing_date(issued.submitted_at))
    claim = benefits.file_claim(ctx, actor=clerk, member_id=card.member_id, kind="death",
                                incident_date=period.start + timedelta(days=2), beneficiary="李明", today=period.end)
    county = client_as("county_admin")
    assert county.post("/cardclaims/flow/approve", data={"pk": claim.id}).status_code == 403
    city = client_as("city_admin")
    html = page(city.get(f"/cardclaims/show/{claim.id}"))
    assert "意外身故" in html and "30000.00" in html and "待审核" in html
    page(city.post("/cardclaims/flow/approve", data={"pk": claim.id}, follow_redirects=True))
    page(city.post("/cardclaims/flow/pay", data={"pk": claim.id}, follow_redirects=True))
    ctx.refresh(claim)
    assert claim.status == ClaimStatus.PAID
    assert client_as("county2_admin").get(f"/cardclaims/show/{claim.id}").status_code == 404


def test_bad_uploads_and_templates(client_as, ctx, batch, tmp_path):
    import io

    clerk = client_as("base_admin")
    html = page(clerk.post(f"/cardbatches/upload/{batch.id}", data={"file": (io.BytesIO(b"a,b\n1,2"), "m.csv")},
                           content_type="multipart/form-data", follow_redirects=True))
    assert ".xlsx" in html and "请上传" in html
    html = page(clerk.post(f"/cardbatches/upload/{batch.id}", data={"file": (io.BytesIO(b"not a zip"), "m.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True))
    assert "alert-danger" in html
    html = page(clerk.post(f"/cardbatches/upload/{batch.id}", data={}, follow_redirects=True))
    assert "请选择要上传的" in html
    for kind in ("card_application", "card_union_summary"):
        template = clerk.get(f"/datajobview/template/{kind}")
        assert template.status_code == 200 and template.data[:2] == b"PK", kind
    # the bank's result is the county's step (制卡): its template is not the base union's
    assert clerk.get("/datajobview/template/card_bank_result").status_code == 403
    template = client_as("county_admin").get("/datajobview/template/card_bank_result")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_member_without_card_gets_a_chinese_404(app, ctx):
    from models.members import Member as M
    from tests.factories import base_of, county, make_member, make_user

    member = make_member(ctx, base_of(ctx, county(ctx, 0)))
    account = make_user(ctx, "会员", member.org, member_id=member.id)
    client = app.test_client()
    headers = _token(client, account.username)
    response = client.get("/api/v1/me/card", headers=headers)
    assert response.status_code == 404 and "会员服务卡" in response.json["message"]
    lost = client.post("/api/v1/me/card/report-loss", headers=headers)
    assert lost.status_code == 404
    assert ctx.get(M, member.id) is not None
