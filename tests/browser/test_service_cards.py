"""Playwright in Debian's Chromium, one batch's story (seed 002): a base-union clerk creates a batch,
uploads the 工会会员信息汇总表 and submits; the county admin receives it (交接, counts checked),
downloads the 批量开户汇总表 (xlsx + PDF), hands it to the bank and imports the bank's result; the
card shows 已制卡 with the district name and the member number; the clerk distributes it; the
member reads his card through the API."""
import io

from pypdf import PdfReader
from sqlalchemy import select

from models.members import Member
from models.security import AppUser
from models.service_cards import CardApplication, CardBatch, ServiceCard
from seed.loader import DEMO_PASSWORD
from tests.browser.pages import assert_clean, flashes, login, submit
from tests.factories import make_user, make_xlsx
from tests.service_cards.conftest import APPLICATION_HEADER, BANK_HEADER, application_row, bank_rows

SHOTS = "/tmp/i12-cardlife-{}.png"


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


def _distributed_card(ctx, org):
    """A member of ``org`` holding a 正常 card (made through the card services)."""
    from app.services.service_cards import cards
    from tests.factories import make_member

    clerk = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin"))
    county = ctx.scalar(select(AppUser).where(AppUser.username == "county_admin"))
    member = make_member(ctx, org, name="赵随转")
    cards.create_cards(ctx, [(member, None)])
    ctx.commit()
    card = ctx.scalars(select(ServiceCard).where(ServiceCard.member_id == member.id)).one()
    cards.enter_serial(ctx, card.id, actor=county, serial=f"77{member.id:010d}")
    return member, cards.distribute_card(ctx, card.id, actor=clerk)


def test_the_card_follows_a_transfer_and_ends_when_the_member_leaves(live_server, page, ctx):
    """A-12 and 离会: the county admin transfers a card holder to a sibling union; the old union's clerk
    no longer finds the card (404), the new union's clerk does, same number; he sets 离会 on the member
    form and the card reads 已注销 with the reason in its trail."""
    from models.organizations import Org, OrgLevel

    old_clerk = ctx.scalar(select(AppUser).where(AppUser.username == "base_admin"))
    old_org = ctx.get(Org, old_clerk.org_id)
    target = ctx.scalars(select(Org).where(Org.parent_id == old_org.parent_id, Org.level == OrgLevel.BASE,
                                           Org.id != old_org.id).order_by(Org.id)).first()
    new_clerk = make_user(ctx, "基层工会管理员", target)
    member, card = _distributed_card(ctx, old_org)

    # 1. the county admin transfers him on the member page
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/memberview/show/{member.id}")
    page.select_option("#transfer-form select[name=to_org_id]", label=target.name)
    page.fill("#transfer-form input[name=reason]", "工作调动")
    submit(page, "#transfer-form button[type=submit]")
    assert any(f"转入 {target.name}" in f for f in flashes(page, "success"))
    assert_clean(page)
    page.wait_for_load_state("networkidle")

    # 2. the old union's clerk: the card is gone
    login(page, live_server, "base_admin")
    assert page.goto(f"{live_server}/servicecards/show/{card.id}").status == 404
    page.goto(f"{live_server}/servicecards/list/")
    assert member.member_no not in page.inner_text("body")
    page.wait_for_load_state("networkidle")  # no late response re-setting the old session cookie

    # 3. the new union's clerk: same card, same number and face
    login(page, live_server, new_clerk.username)
    page.goto(f"{live_server}/servicecards/list/")
    assert member.member_no in page.inner_text("body")
    page.goto(f"{live_server}/servicecards/show/{card.id}")
    assert page.inner_text("#card-status") == "正常"
    assert page.inner_text("#face-member-no") == member.member_no
    assert page.inner_text("#face-district") == "黄浦区总工会"
    assert f"转入{target.name}：工作调动" in page.inner_text("body")  # the trail says why it came
    shot(page, "card-transferred")
    assert_clean(page)

    # 4. he leaves the union: 离会 on the member form cancels the card in the same save
    page.goto(f"{live_server}/memberview/edit/{member.id}")
    page.select_option("select[name=status]", label="离会")
    submit(page, "form button[type=submit]")
    assert any("会员服务卡已自动注销" in f for f in flashes(page, "info"))
    assert_clean(page)
    shot(page, "member-left")
    page.goto(f"{live_server}/servicecards/show/{card.id}")
    assert page.inner_text("#card-status") == "已注销"
    assert "会员离会，会员服务卡自动注销" in page.inner_text("body")
    shot(page, "card-cancelled")
    assert_clean(page)
