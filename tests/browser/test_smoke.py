"""Playwright in Debian's Chromium: a county admin adds a member and sees it masked; a base admin
uploads a member file; a county admin uploads a logo."""
from sqlalchemy import select

from models.members import Member
from tests.browser.pages import choose_in_lookup, login, submit
from tests.factories import base_of, county, new_id_number


def test_county_admin_adds_member_and_sees_it_masked(live_server, page, ctx):
    union = base_of(ctx, county(ctx, 0), 1)
    number = new_id_number()
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/memberview/list/")
    assert "会员管理" in page.content()
    page.goto(f"{live_server}/memberview/add")
    page.fill("input[name=name]", "浏览器测试")
    page.fill("input[name=id_number]", number)
    page.fill("input[name=phone]", "13700001234")
    choose_in_lookup(page, "org", union.name, union.name)
    submit(page, "form button[type=submit], form input[type=submit]")
    page.goto(f"{live_server}/memberview/list/?_flt_0_name=浏览器测试")
    row = page.locator("table tr", has_text="浏览器测试").first
    text = row.inner_text()
    assert number[:3] + "*" * 11 + number[-4:] in text and "137****1234" in text
    assert number not in page.content()
    ctx.expire_all()
    assert ctx.scalar(select(Member).where(Member.id_number == number)).org_id == union.id


def test_base_admin_uploads_members_and_sees_the_job_finish(live_server, page, ctx, tmp_path):
    from tests.factories import MEMBER_HEADER, make_xlsx, member_row

    own = base_of(ctx, county(ctx, 0), 0)
    good, bad = member_row(own, org=""), member_row(own, org="", phone="123")
    path = make_xlsx(tmp_path / "浏览器导入.xlsx", [MEMBER_HEADER, good, bad])
    login(page, live_server, "base_admin")
    page.goto(f"{live_server}/datajobview/upload?kind=members")
    assert page.locator("#template-link").count() == 1
    page.set_input_files("input[name=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#job-progress")
    assert "部分成功" in page.inner_text("#job-counts")
    assert page.locator("#result-link").count() == 1
    ctx.expire_all()
    assert ctx.scalar(select(Member).where(Member.id_number == good[2])).org_id == own.id


def test_county_admin_uploads_a_logo_and_sees_it(live_server, page, ctx, tmp_path):
    from models.vouchers import Merchant
    from tests.vouchers.test_images import picture

    union = base_of(ctx, county(ctx, 0), 2)
    merchant = Merchant(org_id=union.id, name="浏览器上传商家")
    ctx.add(merchant)
    ctx.commit()
    logo = tmp_path / "logo.png"
    logo.write_bytes(picture("PNG", size=(120, 60)))
    login(page, live_server, "county_admin")
    page.goto(f"{live_server}/merchantview/edit/{merchant.id}")
    page.set_input_files("input[name=logo_image_upload]", str(logo))
    page.click("form button[type=submit], form input[type=submit]")
    page.goto(f"{live_server}/merchantview/show/{merchant.id}")
    image = page.locator("img.union-thumb").first
    image.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 120
    page.screenshot(path=str(tmp_path / "merchant.png"))
