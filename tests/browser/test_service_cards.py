"""Playwright in Debian's Chromium, one batch's story (seed 002): a base-union clerk creates a batch,
uploads the 工会会员信息汇总表 and submits; the county admin receives it (交接, counts checked),
downloads the 批量开户汇总表 (xlsx + PDF), hands it to the bank and imports the bank's result; the
card shows 已制卡 with the district name and the member number; the clerk distributes it; the
member reads his card through the API."""
import io

from pypdf import PdfReader
from sqlalchemy import select

from models.members import Member
from models.service_cards import CardApplication, CardBatch, ServiceCard
from seed.loader import DEMO_PASSWORD
from tests.browser.pages import assert_clean, flashes, login, submit
from tests.factories import make_user, make_xlsx
from tests.service_cards.conftest import APPLICATION_HEADER, BANK_HEADER, application_row, bank_rows

SHOTS = "/tmp/h4-cards-{}.png"


def shot(page, name):
    page.screenshot(path=SHOTS.format(name), full_page=True)


def test_a_batch_goes_from_the_clerk_to_the_bank_and_the_card_is_made(live_server, page, ctx, tmp_path):
    rows = [application_row(name="张浏览"), application_row(name="李旅程"), application_row(name="王卡面")]
    members_file = make_xlsx(tmp_path / "工会会员信息汇总表.xlsx", [APPLICATION_HEADER, *rows], sheet="工会会员信息汇总表")

    # 1. the base-union clerk: a new batch, the upload (pre-validation), ID copies ticked, submit
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/cardbatches/list/")
    submit(page, "#new-batch")
    page.fill("#contact", "王芳")
    page.fill("#phone", "13912345678")
    page.fill("#declared_count", "3")
    submit(page, "#create-batch")
    assert any("已新建办卡批次" in f for f in flashes(page, "success"))
    page.set_input_files("#application-file", members_file)
    submit(page, "#upload-applications")
    page.wait_for_selector("#batch-jobs")
    assert "执行成功" in page.inner_text("#batch-jobs")
    assert page.inner_text("#line-count") == "3"
    page.check("#id-copies")
    submit(page, "#save-flags")
    shot(page, "clerk-batch")
    submit(page, "#submit-batch")
    assert any("批次已提交上级工会" in f for f in flashes(page, "success"))
    assert page.inner_text("#batch-status") == "已提交"
    assert_clean(page)
    batch_id = int(page.url.rstrip("/").split("/")[-1])

    # 2. the county admin receives it with the counted members
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/cardbatches/list/")
    assert "已提交" in page.inner_text("body")
    page.goto(f"{live_server}/cardbatches/show/{batch_id}")
    page.fill("#counted", "3")
    page.fill("#remark", "复印件3份，材料齐全")
    submit(page, "#receive-batch")
    assert any("交接记录已保存" in f for f in flashes(page, "success"))
    assert_clean(page)

    # 3. the 批量开户汇总表 for the bank, xlsx and PDF with Chinese text
    with page.expect_download() as xlsx:
        page.click("#summary-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as pdf:
        page.click("#summary-pdf")
    text = PdfReader(io.BytesIO(open(pdf.value.path(), "rb").read())).pages[0].extract_text().replace(" ", "").replace("\x00", "")
    assert "批量开户汇总表" in text and "张浏览" in text
    submit(page, "#hand-over")
    assert page.inner_text("#batch-status") == "开户中"

    # 4. the bank's result (card serial per ID number)
    ctx.expire_all()
    batch = ctx.get(CardBatch, batch_id)
    bank_file = make_xlsx(tmp_path / "银行制卡结果.xlsx", [BANK_HEADER, *bank_rows(ctx, batch, prefix="88")],
                          sheet="银行制卡结果")
    page.set_input_files("#bank-file", bank_file)
    submit(page, "#upload-bank")
    assert page.inner_text("#batch-status") == "已制卡"
    shot(page, "county-batch")
    assert_clean(page)

    # 5. the card: 已制卡, district name and member number on the face
    ctx.expire_all()
    line = ctx.scalars(select(CardApplication).where(CardApplication.batch_id == batch_id,
                                                     CardApplication.name == "张浏览")).one()
    card = ctx.scalars(select(ServiceCard).where(ServiceCard.member_id == line.member_id)).one()
    page.goto(f"{live_server}/servicecards/show/{card.id}")
    assert page.inner_text("#card-status") == "已制卡"
    assert page.inner_text("#face-district") == "黄浦区总工会"
    assert page.inner_text("#face-member-no") == line.member_no and line.member_no.startswith("101")
    assert page.locator("#face-code").evaluate("img => img.naturalWidth") > 0
    shot(page, "card-made")
    assert_clean(page)

    # 6. the clerk distributes it: 正常
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/servicecards/show/{card.id}")
    submit(page, "#card-distribute")
    submit(page, "#flow-form button[type=submit]")
    assert page.inner_text("#card-status") == "正常"
    assert_clean(page)

    # 7. the member reads his card through the API (JWT), and not another one
    member = ctx.get(Member, line.member_id)
    account = make_user(ctx, "会员", member.org, member_id=member.id)
    login_response = page.request.post(f"{live_server}/api/v1/security/login", data={
        "username": account.username, "password": DEMO_PASSWORD, "provider": "db", "refresh": False})
    headers = {"Authorization": f"Bearer {login_response.json()['access_token']}"}
    mine = page.request.get(f"{live_server}/api/v1/me/card", headers=headers).json()["result"]
    assert (mine["member_no"], mine["district_union"], mine["status_label"]) == (line.member_no, "黄浦区总工会", "正常")
    other = ctx.scalars(select(ServiceCard).where(ServiceCard.batch_id == batch_id,
                                                  ServiceCard.member_id != member.id)).first()
    assert page.request.get(f"{live_server}/api/v1/me/card/{other.id}", headers=headers).status == 404
